"""Executing plans in-process through ``Session.run_plan``: order, parallelism, failures
that stop only their dependents, cleanup policies, fail-fast, timeouts and cancellation.

Everything is real: basic envs, command cases run as processes, runs in the history.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.batch import BatchOutcome, load_plan
from ptest_tui.batch.events import StepFinished, StepStarted
from ptest_tui.batch.model import StepResult, plan_exit_code
from ptest_tui.cancel import CancelToken
from ptest_tui.events import Event
from ptest_tui.session import Session
from tests.support.batch_plans import BRANCHES, write_plan, write_workspace


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = Session.open(workspace=write_workspace(tmp_path / "ws"), environ={})
    yield s
    s.close()


def run(session: Session, text: str, **options: object) -> BatchOutcome:
    path = write_plan(session.workspace.root, text)
    return session.run_plan(path, **options)  # type: ignore[arg-type]


def statuses(outcome: BatchOutcome) -> dict[str, str]:
    return {r.id: r.status for r in outcome.steps}


def env_names(session: Session) -> set[str]:
    return {r.name for r in session.store.list_envs()}


def test_a_failing_step_stops_its_dependents_not_unrelated_steps(session: Session) -> None:
    outcome = run(session, BRANCHES)
    assert statuses(outcome) == {
        "env:extra": "passed", "env:unit": "passed", "smoke": "passed", "broken": "failed",
        "after-smoke": "passed", "after-broken": "skipped", "report": "passed",
        "plan:cleanup": "passed",
    }
    assert outcome.result("after-broken").message == "needs broken, which failed"
    assert outcome.exit_code == 1 and outcome.status == "failed"
    # The runs are normal runs of the history, with their results.
    smoke, broken = outcome.result("smoke").run_id, outcome.result("broken").run_id
    assert outcome.runs == (smoke, broken) or outcome.runs == (broken, smoke)
    assert session.runs.get(smoke).status == "passed"
    results = {(r.suite, r.env, r.case, r.status) for r in session.runs.results(smoke)}
    assert results == {("smoke", e, c, "passed") for e in ("unit", "extra")
                       for c in ("ok", "greets")}
    assert session.runs.get(broken).counts["failed"] == 1
    # The report step ran although its run failed (reports are "always" steps).
    report = outcome.result("report")
    assert sorted(Path(p).name for p in report.reports) == ["junit.xml", "report.json"]
    assert all(Path(p).is_file() for p in report.reports)
    # cleanup = "always" (the default): the envs the plan created are gone.
    assert env_names(session) == set()
    assert set(outcome.removed) == {"env unit deleted", "env extra deleted"}


def test_steps_start_after_their_needs_and_independent_ones_overlap(session: Session) -> None:
    events: list[Event] = []
    session.bus.subscribe(Event, lambda e: events.append(e)
                          if isinstance(e, StepStarted | StepFinished) else None)
    plan = """
        [plan]
        parallel = 3
        [[steps]]
        id = "a"
        kind = "exec"
        env = "unit"
        command = "sleep 0.3"
        [[steps]]
        id = "b"
        kind = "exec"
        env = "other"
        command = "sleep 0.3"
        [[steps]]
        id = "c"
        kind = "exec"
        env = "unit"
        command = "true"
        needs = ["a", "b"]
    """
    outcome = run(session, plan)
    assert outcome.exit_code == 0, outcome.to_dict()
    order = [(type(e).__name__, e.step) for e in events]  # type: ignore[attr-defined]
    position = {item: i for i, item in enumerate(order)}
    for need in ("a", "b"):
        assert position[("StepFinished", need)] < position[("StepStarted", "c")]
    # a and b are independent: both start before either finishes.
    assert max(position[("StepStarted", "a")], position[("StepStarted", "b")]) < min(
        position[("StepFinished", "a")], position[("StepFinished", "b")])
    events.clear()
    assert run(session, plan.replace("parallel = 3", "parallel = 1")).exit_code == 0
    order = [(type(e).__name__, e.step) for e in events]  # type: ignore[attr-defined]
    started = [step for kind, step in order if kind == "StepStarted"]
    finished = [step for kind, step in order if kind == "StepFinished"]
    # One at a time: each step finishes before the next one starts.
    assert [s for s in started if not s.startswith("plan:")] == [
        f for f in finished if not f.startswith("plan:")]


@pytest.mark.parametrize(("policy", "keep", "kept"), [
    ("always", False, False), ("on-success", False, True), ("never", False, True),
    ("always", True, True),
])
def test_cleanup_policy_and_keep(
    session: Session, policy: str, keep: bool, kept: bool
) -> None:
    session.create_env("other")  # existed before the plan: never removed
    outcome = run(session, f"""
        [plan]
        cleanup = "{policy}"
        [[steps]]
        kind = "run"
        suites = ["broken"]
        [[steps]]
        id = "tidy"
        kind = "cleanup"
        envs = ["other"]
        needs = ["run-0"]
        when = "success"
    """, keep=keep)
    assert outcome.exit_code == 1
    assert statuses(outcome)["tidy"] == "skipped"
    assert ("unit" in env_names(session)) is kept
    assert "other" in env_names(session)
    assert outcome.kept == (("env unit",) if kept else ())


def test_keep_skips_cleanup_steps_and_they_run_otherwise(session: Session) -> None:
    text = """
        [[steps]]
        id = "use"
        kind = "exec"
        env = "other"
        command = "true"
        [[steps]]
        id = "tidy"
        kind = "cleanup"
        envs = ["other"]
    """
    kept = run(session, text, keep=True)
    assert kept.result("tidy").status == "skipped" and kept.result("tidy").message == \
        "kept (--keep)"
    assert env_names(session) == {"other"} and kept.kept == ("env other",)
    done = run(session, text)
    assert done.result("tidy").status == "passed" and env_names(session) == set()
    assert done.result("tidy").message == "env other deleted"


def test_an_infrastructure_failure_exits_3_and_skips_only_its_dependents(
    session: Session,
) -> None:
    outcome = run(session, """
        [envs.ghost]
        isolation = "virtualenv"
        python = "9.99"
        [[steps]]
        id = "in-ghost"
        kind = "exec"
        env = "ghost"
        command = "true"
        [[steps]]
        id = "fails"
        kind = "exec"
        env = "unit"
        command = "sh -c 'echo nope; exit 7'"
        [[steps]]
        id = "fine"
        kind = "run"
        suites = ["smoke"]
    """)
    result = statuses(outcome)
    assert result["env:ghost"] == "error" and "9.99" in outcome.result("env:ghost").message
    assert result["in-ghost"] == "skipped" and result["fine"] == "passed"
    assert result["fails"] == "error"
    assert outcome.result("fails").message == "unit: exit code 7: nope"
    assert outcome.exit_code == 3 and outcome.status == "error"


def test_fail_fast_stops_the_rest(session: Session) -> None:
    outcome = run(session, """
        [plan]
        fail_fast = true
        parallel = 4
        [[steps]]
        id = "broken"
        kind = "run"
        suites = ["broken"]
        [[steps]]
        id = "slow"
        kind = "exec"
        env = "other"
        command = "sleep 60"
        [[steps]]
        id = "later"
        kind = "exec"
        env = "unit"
        command = "true"
        needs = ["slow"]
    """)
    result = statuses(outcome)
    assert result["broken"] == "failed" and result["slow"] == "cancelled"
    assert result["later"] == "cancelled"
    assert outcome.exit_code == 1 and "fail_fast" in outcome.message


def test_the_plan_timeout_stops_it_with_exit_3(session: Session) -> None:
    outcome = run(session, """
        [plan]
        timeout = 0.5
        [[steps]]
        id = "slow"
        kind = "run"
        suites = ["slow"]
    """)
    assert outcome.result("slow").status == "cancelled"
    assert outcome.exit_code == 3 and outcome.message == "the plan took longer than 0.5 s"
    run_id = outcome.result("slow").run_id
    results = {r.case: r.status for r in session.runs.results(run_id)}
    assert results == {"quick": "passed", "sleeps": "cancelled"}


def test_cancelling_keeps_results_writes_reports_and_cleans_up(session: Session) -> None:
    token = CancelToken()
    started = threading.Event()

    def on_case(event: Event) -> None:
        if event.kind == "case_started" and getattr(event, "case", "") == "sleeps":
            started.set()

    session.bus.subscribe(Event, on_case)
    def cancel_when_started() -> None:
        if started.wait(30):
            token.cancel()

    threading.Thread(target=cancel_when_started, daemon=True).start()
    outcome = run(session, """
        [plan]
        report_dir = "out"
        [[steps]]
        id = "slow"
        kind = "run"
        suites = ["slow"]
        report = ["junit"]
        [[steps]]
        id = "after"
        kind = "exec"
        env = "unit"
        command = "true"
        needs = ["slow"]
        [[steps]]
        id = "summary"
        kind = "report"
        run = "slow"
        formats = ["json"]
    """, cancel=token)
    assert outcome.interrupted and outcome.exit_code == 130 and outcome.status == "cancelled"
    result = statuses(outcome)
    assert result["slow"] == "cancelled" and result["after"] == "cancelled"
    assert result["summary"] == "passed"  # an "always" step still writes its report
    out = session.workspace.root / "out"
    assert (out / "slow" / "junit.xml").is_file() and (out / "summary" / "report.json").is_file()
    assert "sleeps" in (out / "slow" / "junit.xml").read_text()
    assert session.runs.get(outcome.result("slow").run_id).status == "cancelled"
    assert env_names(session) == set()  # the policy still applied


def test_plan_exit_codes() -> None:
    def results(*statuses: str) -> list[StepResult]:
        return [StepResult(str(i), "run", s) for i, s in enumerate(statuses)]

    assert plan_exit_code(results("passed", "skipped"), False) == 0
    assert plan_exit_code(results("passed", "failed"), False) == 1
    assert plan_exit_code(results("failed", "error"), False) == 3
    assert plan_exit_code(results("passed", "cancelled"), False) == 3
    assert plan_exit_code(results("passed", "failed"), True) == 130


def test_run_plan_takes_a_loaded_plan_and_the_parallel_override(session: Session) -> None:
    plan = load_plan(write_plan(session.workspace.root, """
        [[steps]]
        kind = "run"
        suites = ["smoke"]
    """), {})
    seen: list[int] = []
    session.bus.subscribe(Event, lambda e: seen.append(e.parallel)  # type: ignore[attr-defined]
                          if e.kind == "plan_started" else None)
    outcome = session.run_plan(plan, parallel=1)
    assert outcome.exit_code == 0 and seen == [1]
    assert [run.id for run in session.runs.recent()] == list(outcome.runs)
