"""``ptest-tui run``, ``runs`` and ``report`` as a user runs them: exit codes, output, signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import Cli, assert_one_line_error, assert_usage_error, make_workspace

SUITES = """
[envs.unit]
isolation = "basic"

[suites.smoke]
envs = ["unit"]

[[suites.smoke.cases]]
name = "ok"
kind = "command"
command = "true"

[[suites.smoke.cases]]
name = "greets"
kind = "command"
command = "echo hello"
expect = { stdout_contains = "hello" }

[suites.broken]
envs = ["unit"]

[[suites.broken.cases]]
name = "bad"
kind = "command"
command = "sh -c 'echo boom >&2; exit 4'"
"""


def workspace(tmp_path: Path, extra: str = "") -> Cli:
    return Cli(make_workspace(tmp_path / "ws", SUITES + extra))


def test_exit_codes_and_output(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    passed = cli.run("run", "smoke")
    assert passed.returncode == 0, str(passed)
    assert "PASSED  smoke[unit] ok" in passed.stdout
    assert passed.stdout.strip().splitlines()[-1].startswith("run 1 passed: 2 passed")
    failed = cli.run("run")
    assert failed.returncode == 1, str(failed)
    assert "FAILED  broken[unit] bad: exit code: expected 0, got 4" in failed.stdout
    data = json.loads(cli.run("run", "broken", "--json").stdout)
    assert data["status"] == "failed" and data["counts"]["failed"] == 1


def test_usage_errors_change_nothing(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    assert_usage_error(cli.run("run", "smok"), "no suite or case named 'smok'")
    assert_usage_error(cli.run("run", "--env", "nope"), "no environment named 'nope'")
    assert_usage_error(cli.run("run", "--report", "pdf"), "unknown report format 'pdf'")
    assert_usage_error(cli.run("runs", "show", "7"), "no run '7'")
    assert cli.json("runs", "list", "--json") == []
    assert cli.json("env", "list", "--json")[0]["status"] != "ready"  # declared, not created


def test_an_object_that_fails_to_start_exits_3(tmp_path: Path) -> None:
    cli = workspace(tmp_path, f"""
[objects.dies]
kind = "service"
command = "{sys.executable} -c 'raise SystemExit(1)'"

[suites.needs]
envs = ["unit"]
objects = ["dies"]

[[suites.needs.cases]]
name = "x"
kind = "command"
command = "true"
""")
    result = cli.run("run", "needs")
    assert result.returncode == 3, str(result)
    assert "run 1 error" in result.stdout and "object dies did not start" in result.stdout


def test_history_and_reports(tmp_path: Path) -> None:
    cli = workspace(tmp_path)
    cli.run("run")
    runs = cli.json("runs", "list", "--json")
    assert [(r["id"], r["status"]) for r in runs] == [("1", "failed")]
    shown = cli.json("runs", "show", "1", "--json", "--failed")
    assert [r["case"] for r in shown["results"]] == ["bad"]
    assert shown["results"][0]["stderr"] == "boom"
    out = tmp_path / "out"
    written = cli.ok("report", "1", "--format", "junit,json", "-o", str(out)).stdout.split()
    assert sorted(Path(p).name for p in written) == ["junit.xml", "report.json"]
    rerun = cli.run("run", "--rerun-failed")
    assert rerun.returncode == 1 and "run 2 failed: 1 failed" in rerun.stdout
    with_report = cli.run("run", "smoke", "--report", "html")
    assert "report: " in with_report.stdout
    assert (cli.root / ".ptest" / "reports" / "3" / "report.html").is_file()


def test_sigint_stops_the_run_and_keeps_results(tmp_path: Path) -> None:
    cli = workspace(tmp_path, """
[suites.slow]
envs = ["unit"]
sequential = true

[[suites.slow.cases]]
name = "quick"
kind = "command"
command = "true"

[[suites.slow.cases]]
name = "sleeps"
kind = "command"
command = "sleep 60"
""")
    proc = cli.popen("run", "slow", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = cli.run("runs", "show", "last", "--json")
        if shown.returncode == 0 and json.loads(shown.stdout)["results"]:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "run 1 cancelled" in out
    results = {r["case"]: r["status"] for r in cli.json("runs", "show", "1", "--json")["results"]}
    assert results == {"quick": "passed", "sleeps": "cancelled"}


def test_a_killed_run_is_marked_cancelled_by_the_next_command(tmp_path: Path) -> None:
    cli = workspace(tmp_path, """
[suites.slow]
envs = ["unit"]

[[suites.slow.cases]]
name = "sleeps"
kind = "command"
command = "sleep 60"
""")
    stderr_path = tmp_path / "run.stderr"
    with stderr_path.open("w") as stderr:
        proc = cli.popen("run", "slow", stdout=subprocess.DEVNULL, stderr=stderr)
    listed = None
    deadline = time.monotonic() + 90  # generous: CI runs this beside other heavy tests
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, (
                f"run ended early ({proc.returncode}): {stderr_path.read_text()}"
            )
            listed = cli.run("runs", "list", "--json")
            if listed.returncode == 0 and json.loads(listed.stdout):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(
                f"the run never showed up; last listing: {listed}; "
                f"run stderr: {stderr_path.read_text()}"
            )
    finally:
        proc.kill()
        proc.wait()
    (run,) = cli.json("runs", "list", "--json")
    assert run["status"] == "cancelled" and "killed" in run["message"]


def test_a_config_error_in_a_case_is_one_line(tmp_path: Path) -> None:
    cli = workspace(tmp_path, """
[suites.typo]
envs = ["unit"]

[[suites.typo.cases]]
name = "x"
kind = "command"
comand = "true"
""")
    assert_one_line_error(cli.run("run", "typo"), 2, "comand")
