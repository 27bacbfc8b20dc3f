"""``ptest-tui --batch PLAN`` / ``ptest-tui batch PLAN`` as CI runs it: every exit code,
every output mode, NDJSON checked against its schema, parity with the Python API, and
SIGINT/SIGTERM in the middle of a run."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from ptest_tui.batch.schema import ndjson_schema
from ptest_tui.session import Session
from tests.e2e.conftest import Cli, assert_one_line_error, clean_environ, cli_command
from tests.support.batch_plans import BRANCHES, write_plan, write_workspace

SMOKE = """
[plan]
name = "smoke"

[[steps]]
id = "tests"
kind = "run"
suites = ["${SUITE:-smoke}"]
report = ["junit"]
"""


def workspace(tmp_path: Path, extra: str = "") -> Cli:
    return Cli(write_workspace(tmp_path / "ws", extra))


def ndjson(text: str) -> list[dict[str, Any]]:
    """Every stdout line parsed and validated against the documented schema."""
    checker = jsonschema.Draft202012Validator(ndjson_schema())
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        errors = [e.message for e in checker.iter_errors(line)]
        assert not errors, (line, errors)
    return lines


def nothing_ran(cli: Cli) -> None:
    assert cli.json("runs", "list", "--json") == []
    assert all(e["status"] == "declared" for e in cli.json("env", "list", "--json"))
    assert not (cli.root / ".ptest" / "envs").exists() or not any(
        (cli.root / ".ptest" / "envs").iterdir())


# -- exit codes -----------------------------------------------------------------------------


def test_exit_0_plain_lines_and_a_normal_run_in_the_history(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, SMOKE)
    done = cli.run("--batch", "plan.toml")
    assert done.returncode == 0, str(done)
    lines = done.stdout.splitlines()
    assert lines[0].endswith("plan smoke: 2 steps, up to 2 at once")
    assert any(line.endswith("start   tests (run: smoke in unit)") for line in lines)
    assert lines[-1].startswith("plan smoke passed: 3 passed in ")
    assert lines[-1].endswith("exit code 0")
    assert any(line == "report: " + str(cli.root / ".ptest/reports/1/junit.xml")
               for line in lines)
    shown = cli.json("runs", "show", "1", "--json")
    assert shown["run"]["status"] == "passed"
    assert {r["case"] for r in shown["results"]} == {"ok", "greets"}
    again = cli.run("batch", "plan.toml", "--quiet")  # the subcommand spelling
    assert again.returncode == 0 and again.stdout.startswith("plan smoke passed: ")
    assert len(again.stdout.splitlines()) == 1


def test_exit_1_on_test_failures_with_unrelated_steps_done(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, BRANCHES)
    done = cli.run("--batch", "plan.toml", "--json")
    assert done.returncode == 1, str(done)
    lines = ndjson(done.stdout)
    steps = {line["step"]: line for line in lines if line["event"] == "step_finished"}
    assert steps["broken"]["status"] == "failed" and steps["smoke"]["status"] == "passed"
    assert steps["after-smoke"]["status"] == "passed"
    assert steps["after-broken"]["status"] == "skipped"
    junit = next(p for p in steps["report"]["reports"] if p.endswith("junit.xml"))
    assert "boom" in Path(junit).read_text()
    assert lines[-1]["event"] == "plan_finished" and lines[-1]["exit_code"] == 1
    # the variable picks the suite: the same plan file passes or fails
    write_plan(cli.root, SMOKE)
    assert cli.run("--batch", "plan.toml", "-q", env={"SUITE": "broken"}).returncode == 1


BAD_PLANS = [
    (None, "plan file plan.toml not found"),
    ('[plan]\nname = "x"\n[[steps]\n', "plan.toml: invalid TOML: "),
    ('[[steps]]\nkind = "run"\nsuites = ["smoke"]\nparalel = 2\n',
     "plan.toml: unknown key steps[0].paralel (hint: did you mean 'parallel'?)"),
    ('[[steps]]\nid = "a"\nkind = "run"\nneeds = ["b"]\n'
     '[[steps]]\nid = "b"\nkind = "run"\nneeds = ["a"]\n',
     "plan.toml: the steps' needs form a cycle: a -> b -> a"),
    ('[[steps]]\nkind = "run"\nenvs = ["unti"]\n',
     "no environment named 'unti' (hint: did you mean 'unit'?)"),
    ('[[steps]]\nkind = "cleanup"\nobjects = ["pg"]\n', "no object named 'pg'"),
    ("[objects.pg]\n", "objects.pg: no object named 'pg' in the workspace"),
    ('[[steps]]\nkind = "exec"\nenv = "${MISSING_ENV}"\ncommand = "true"\n',
     "plan.toml: steps[0].env: ${MISSING_ENV} is not set"),
]


@pytest.mark.parametrize(("text", "message"), BAD_PLANS)
def test_exit_2_bad_plans_are_one_line_and_execute_nothing(
    tmp_path: Path, text: str | None, message: str
) -> None:
    cli = workspace(tmp_path)
    if text is not None:
        write_plan(cli.root, text)
    for args in (("--batch", "plan.toml"), ("batch", "plan.toml", "--json")):
        result = cli.run(*args)
        assert_one_line_error(result, 2, message)
    if "invalid TOML" in message:
        assert "(at line 3, column" in cli.run("--batch", "plan.toml").stderr
    nothing_ran(cli)


def test_exit_3_when_an_object_fails_and_only_its_dependents_stop(tmp_path: Path) -> None:
    cli = workspace(tmp_path, f"""
[objects.dies]
kind = "service"
command = "{sys.executable} -c 'raise SystemExit(1)'"
""")
    write_plan(cli.root, """
        [objects.dies]

        [[steps]]
        id = "needs-object"
        kind = "exec"
        env = "unit"
        command = "true"
        needs = ["object:dies"]

        [[steps]]
        id = "tests"
        kind = "run"
        suites = ["smoke"]
    """)
    done = cli.run("--batch", "plan.toml")
    assert done.returncode == 3, str(done)
    summary = done.stdout.splitlines()
    assert any(line.startswith("error     object:dies") for line in summary)
    assert any(line.startswith("skipped   needs-object") for line in summary)
    assert any(line.startswith("passed    tests") for line in summary)
    assert summary[-1].startswith("plan plan error: ")


def test_no_plan_and_bad_flags_are_usage_errors(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    assert_one_line_error(cli.run("batch"), 2, "no plan file given")
    assert_one_line_error(cli.run("--batch"), 2, "no plan file given")
    write_plan(cli.root, SMOKE)
    assert_one_line_error(cli.run("batch", "plan.toml", "-j", "-1"), 2, "--parallel")


# -- output modes ---------------------------------------------------------------------------


def test_json_lines_follow_the_schema_and_quiet_json_is_the_outline(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, SMOKE)
    lines = ndjson(cli.ok("--batch", "plan.toml", "--json").stdout)
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "plan_started" and kinds[-1] == "plan_finished"
    for kind in ("step_started", "env_created", "run_started", "case_finished",
                 "run_finished", "step_finished", "env_deleted"):
        assert kind in kinds
    quiet = ndjson(cli.ok("--batch", "plan.toml", "--json", "--quiet").stdout)
    assert {line["event"] for line in quiet} == {
        "plan_started", "step_started", "step_finished", "plan_finished"}
    schema = json.loads(cli.ok("batch", "--schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == json.loads(json.dumps(ndjson_schema()))


def test_dry_run_prints_the_graph_and_runs_nothing(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, BRANCHES)
    text = cli.ok("--batch", "plan.toml", "--dry-run").stdout
    assert "plan branches (" in text and "7 steps, cleanup always" in text
    assert "smoke" in text and "[needs env:unit, env:extra]" in text
    assert "implicit: declared in ptest.toml" in text
    assert "1: env:extra, env:unit" in text
    data = json.loads(cli.ok("batch", "plan.toml", "--dry-run", "--json").stdout)
    assert [s["id"] for s in data["steps"]][:2] == ["env:extra", "env:unit"]
    assert data["levels"][0] == ["env:extra", "env:unit"]
    nothing_ran(cli)


def test_keep_leaves_envs_for_inspection(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, SMOKE)
    done = cli.ok("--batch", "plan.toml", "--keep")
    assert done.stdout.splitlines()[-2] == "kept: env unit"
    assert cli.envs()["unit"]["status"] == "ready"
    again = cli.ok("--batch", "plan.toml").stdout
    assert "plan:cleanup" not in again  # it existed before this plan: never removed
    assert cli.envs()["unit"]["status"] == "ready"


def test_a_terminal_gets_progress_bars_and_a_summary_table(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, BRANCHES)
    master, slave = pty.openpty()
    env = clean_environ({"COLUMNS": "160", "LINES": "50", "TERM": "xterm"})
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*cli_command(), "--batch", "plan.toml"], cwd=cli.root, env=env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(timeout=30) == 1
    styled = b"".join(chunks).decode(errors="replace")
    assert "\x1b[" in styled  # styled output on a terminal
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", styled)
    assert "┃ step" in text and "plan branches" in text  # the summary table
    assert "after-broken" in text and "needs broken, which failed" in text
    assert "plan branches failed:" in text


# -- parity with the Python API -------------------------------------------------------------


def results_by_step(root: Path, steps: dict[str, str]) -> dict[str, Any]:
    with Session.open(workspace=root, environ={}) as session:
        return {
            step: sorted((r.suite, r.env, r.case, r.status, r.message)
                         for r in session.runs.results(run_id))
            for step, run_id in steps.items()
        }


def test_batch_mode_and_the_session_api_give_the_same_results(tmp_path: Path) -> None:
    cli_ws = write_workspace(tmp_path / "cli")
    api_ws = write_workspace(tmp_path / "api")
    for root in (cli_ws, api_ws):
        write_plan(root, BRANCHES)
    done = Cli(cli_ws).run("--batch", "plan.toml", "--json")
    lines = ndjson(done.stdout)
    cli_steps = {line["step"]: line for line in lines if line["event"] == "step_finished"}
    with Session.open(workspace=api_ws, environ={}) as session:
        outcome = session.run_plan(api_ws / "plan.toml")
    api_steps = {r.id: r for r in outcome.steps}
    assert done.returncode == outcome.exit_code == 1
    assert {k: v["status"] for k, v in cli_steps.items()} == {
        k: v.status for k, v in api_steps.items()}
    assert {k: v["counts"] for k, v in cli_steps.items()} == {
        k: dict(v.counts) for k, v in api_steps.items()}
    cli_runs = {k: v["run_id"] for k, v in cli_steps.items() if v["run_id"]}
    api_runs = {k: v.run_id for k, v in api_steps.items() if v.run_id}
    assert set(cli_runs) == set(api_runs) == {"smoke", "broken"}
    assert results_by_step(cli_ws, cli_runs) == results_by_step(api_ws, api_runs)
    # both are normal runs of the history, as `runs show` prints them
    for root, runs in ((cli_ws, cli_runs), (api_ws, api_runs)):
        shown = Cli(root).json("runs", "show", runs["broken"], "--json")
        assert [(r["case"], r["status"]) for r in shown["results"]] == [("bad", "failed")]


# -- where the workspace comes from ---------------------------------------------------------


def test_the_workspace_comes_from_w_or_the_plan(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plan = write_plan(elsewhere, SMOKE)
    done = cli.run("--batch", str(plan), "-w", str(cli.root), "--quiet", cwd=elsewhere)
    assert done.returncode == 0, str(done)
    write_plan(elsewhere, SMOKE.replace('name = "smoke"', 'name = "smoke"\nworkspace = "../ws"'))
    done = cli.run("batch", "plan.toml", "-q", cwd=elsewhere)
    assert done.returncode == 0, str(done)
    assert len(Cli(cli.root).json("runs", "list", "--json")) == 2


# -- signals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_stops_cleanly_with_results_and_reports(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    cli = workspace(tmp_path)
    write_plan(cli.root, """
        [plan]
        name = "slow"
        report_dir = "reports"

        [[steps]]
        id = "slow"
        kind = "run"
        suites = ["slow"]
        report = ["junit", "json"]

        [[steps]]
        id = "after"
        kind = "exec"
        env = "unit"
        command = "true"
        needs = ["slow"]
    """)
    proc = cli.popen("--batch", "plan.toml", "--json", stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "batch mode ended early"
        lines.append(line)
        data = json.loads(line)
        if data["event"] == "case_finished" and data["case"] == "quick":
            break
    time.sleep(0.3)  # "sleeps" is running now
    proc.send_signal(sig)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    events = ndjson("".join(lines) + rest)
    last = events[-1]
    assert last["event"] == "plan_finished" and last["status"] == "cancelled"
    assert last["exit_code"] == code
    steps = {e["step"]: e["status"] for e in events if e["event"] == "step_finished"}
    assert steps["slow"] == "cancelled" and steps["after"] == "cancelled"
    assert steps["plan:cleanup"] == "passed"  # the policy applies after a clean stop
    run_id = last["runs"][0]
    shown = cli.json("runs", "show", run_id, "--json")
    assert shown["run"]["status"] == "cancelled"
    assert {r["case"]: r["status"] for r in shown["results"]} == {
        "quick": "passed", "sleeps": "cancelled"}
    junit = cli.root / "reports" / "slow" / "junit.xml"
    assert junit.is_file() and "sleeps" in junit.read_text()
    assert json.loads((cli.root / "reports" / "slow" / "report.json").read_text())
    assert "Traceback" not in err
    assert cli.envs()["unit"]["status"] == "declared"  # created by the plan, then removed

