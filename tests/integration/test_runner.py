"""The runner with real command cases in real envs: order, parallelism, retries, timeouts,
fail-fast, cancellation, setup failures, objects and history."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.events import CaseDone, CaseStarted, RunFinished
from ptest_tui.objects.process import marked_processes
from ptest_tui.runs.runner import RunOptions
from ptest_tui.session import Session
from tests.conftest import write_workspace

PY = sys.executable


def workspace(tmp_path: Path, suites: str) -> Session:
    root = write_workspace(tmp_path / "ws", '[envs.unit]\nisolation = "basic"\n' + suites)
    return Session.open(workspace=root, environ={})


@pytest.fixture
def make(tmp_path: Path) -> Iterator[object]:
    sessions: list[Session] = []

    def factory(suites: str) -> Session:
        session = workspace(tmp_path, suites)
        sessions.append(session)
        return session

    yield factory
    for session in sessions:
        session.close()


def case(name: str, command: str, **extra: str) -> str:
    lines = [f'[[suites.s.cases]]\nname = "{name}"\nkind = "command"\ncommand = """{command}"""']
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def test_results_counts_and_history(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\n'
                   + case("ok", "true") + case("bad", "false")
                   + case("out", "echo hello", expect='{ stdout_contains = "hello" }'))
    outcome = session.run()
    run = outcome.run
    assert run.status == "failed"
    assert (run.counts["passed"], run.counts["failed"], run.counts["total"]) == (2, 1, 3)
    results = {r.case: r for r in session.runs.results(run.id)}
    assert results["out"].stdout == "hello"
    assert results["bad"].message == "exit code: expected 0, got 1"
    assert session.store.get_env("unit").status == "ready"  # created by the run


def test_cases_run_in_parallel_within_the_bound(  # type: ignore[no-untyped-def]
    make, tmp_path: Path,
) -> None:
    # Four cases that each wait until all four have arrived: only possible when the four
    # run at the same time.
    meeting = tmp_path / "meet"
    meeting.mkdir()
    script = tmp_path / "meet.py"
    script.write_text(
        "import os, sys, time\n"
        "folder, name = sys.argv[1], sys.argv[2]\n"
        "open(os.path.join(folder, name), 'w').close()\n"
        "start = time.time()\n"
        "while len(os.listdir(folder)) < 4 and time.time() - start < 20:\n"
        "    time.sleep(0.01)\n"
        "sys.exit(0 if len(os.listdir(folder)) >= 4 else 1)\n"
    )
    session = make('[suites.s]\nenvs = ["unit"]\n'
                   + "".join(case(f"c{i}", f"{PY} {script} {meeting} c{i}") for i in range(4)))
    assert session.run(options=RunOptions(parallel=4)).run.status == "passed"


def test_sequential_suites_keep_the_order(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\nsequential = true\n'
                   + "".join(case(f"c{i}", "true") for i in range(5)))
    started: list[str] = []
    session.bus.subscribe(CaseStarted, lambda e: started.append(e.case))
    session.run(options=RunOptions(parallel=4))
    assert started == [f"c{i}" for i in range(5)]


def test_retries_mark_flaky_cases(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flag = tmp_path / "flag"
    session = make('[suites.s]\nenvs = ["unit"]\nretries = 2\n'
                   + case("flaky", f"sh -c 'test -f {flag} || {{ touch {flag}; exit 1; }}'")
                   + case("broken", "false"))
    outcome = session.run()
    results = {r.case: r for r in session.runs.results(outcome.run.id)}
    assert (results["flaky"].status, results["flaky"].flaky, results["flaky"].attempts) == (
        "passed", True, 2)
    assert (results["broken"].status, results["broken"].attempts) == ("failed", 3)
    assert outcome.run.counts["flaky"] == 1


def test_a_hanging_case_is_killed_at_its_timeout(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\n'
                   + case("hangs", "sh -c 'sleep 60 & sleep 60; wait'", timeout="1"))
    began = time.monotonic()
    outcome = session.run()
    assert time.monotonic() - began < 30
    (result,) = session.runs.results(outcome.run.id)
    assert result.status == "failed" and "stopped after 1 s" in result.message


def test_fail_fast_stops_the_rest(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\nsequential = true\n'
                   + case("first", "false") + case("second", "true") + case("third", "true"))
    outcome = session.run(options=RunOptions(fail_fast=True))
    assert outcome.run.status == "failed" and "fail-fast" in outcome.run.message
    assert [r.case for r in session.runs.results(outcome.run.id)] == ["first"]


def test_cancel_keeps_finished_results_and_marks_the_run(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\nsequential = true\n'
                   + case("quick", "true") + case("slow", "sleep 60") + case("never", "true"))
    token = CancelToken()
    session.bus.subscribe(CaseStarted, lambda e: e.case == "slow" and threading.Timer(
        0.3, token.cancel).start())
    began = time.monotonic()
    outcome = session.run(cancel=token)
    assert time.monotonic() - began < 20
    assert outcome.run.status == "cancelled"
    statuses = {r.case: r.status for r in session.runs.results(outcome.run.id)}
    assert statuses == {"quick": "passed", "slow": "cancelled"}


def test_a_failing_setup_errors_every_case_and_teardown_still_runs(  # type: ignore[no-untyped-def]
    make, tmp_path: Path,
) -> None:
    marker = tmp_path / "teardown-ran"
    session = make('[suites.s]\nenvs = ["unit"]\nsetup = ["false"]\n'
                   f'teardown = ["touch {marker}"]\n'
                   + case("a", "true") + case("b", "true"))
    done: list[CaseDone] = []
    session.bus.subscribe(CaseDone, done.append)
    outcome = session.run()
    results = session.runs.results(outcome.run.id)
    assert {r.status for r in results} == {"error"}
    assert all("setup failed: false exited with 1" in r.message for r in results)
    assert marker.exists() and len(done) == 2


def test_objects_start_for_the_run_and_stop_after(make) -> None:  # type: ignore[no-untyped-def]
    web = f"{PY} -m http.server {{port}} --bind 127.0.0.1"
    session = make(
        f'[objects.site]\nkind = "web"\ncommand = "{web}"\n'
        '[suites.s]\nenvs = ["unit"]\nobjects = ["site"]\n'
        + case("reach", f"""{PY} -c "import os, urllib.request as u;"""
               """ u.urlopen(os.environ['PTEST_OBJ_SITE_URL'])" """)
    )
    outcome = session.run()
    assert outcome.run.status == "passed", session.runs.results(outcome.run.id)
    assert session.objects.view("site").state == "stopped"
    assert marked_processes(session.workspace.id + "/") == []


def test_an_object_that_cannot_start_is_an_infrastructure_error(make) -> None:  # type: ignore[no-untyped-def]
    session = make(
        f'[objects.dies]\nkind = "service"\ncommand = "{PY} -c \'raise SystemExit(1)\'"\n'
        '[suites.s]\nenvs = ["unit"]\nobjects = ["dies"]\n' + case("a", "true"))
    finished: list[RunFinished] = []
    session.bus.subscribe(RunFinished, finished.append)
    outcome = session.run()
    assert outcome.run.status == "error" and "object dies did not start" in outcome.run.message
    assert session.runs.results(outcome.run.id) == []
    assert finished[0].status == "error"


def test_bad_input_is_refused_before_anything_runs(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["nope"]\n' + case("a", "true")
                   + '[suites.t]\nenvs = ["unit"]\n'
                   + '[[suites.t.cases]]\nname = "x"\nkind = "comand"\n')
    with pytest.raises(UsageError, match="no environment named 'nope'"):
        session.run(["s"])
    with pytest.raises(ConfigError, match="unknown case kind 'comand'") as info:
        session.run(["t"])
    assert info.value.hint == "did you mean 'command'?"
    with pytest.raises(UsageError, match="no suite or case named"):
        session.run(["z"])
    assert session.runs.recent() == []
    assert session.store.find_env("unit") is None


def test_rerun_failed_runs_only_what_failed(make) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\n' + case("ok", "true") + case("bad", "false"))
    first = session.run()
    started: list[str] = []
    session.bus.subscribe(CaseStarted, lambda e: started.append(e.case))
    again = session.run(rerun_failed=first.run.id)
    assert started == ["bad"] and again.run.counts["total"] == 1


def test_reports_are_written_at_the_end(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = make('[suites.s]\nenvs = ["unit"]\n' + case("ok", "true"))
    out = tmp_path / "reports"
    outcome = session.run(options=RunOptions(report_formats=("json", "junit", "html"),
                                             report_dir=out))
    assert sorted(p.name for p in outcome.reports) == ["junit.xml", "report.html", "report.json"]
    assert all(p.parent == out for p in outcome.reports)
