"""``ptest-tui advise`` and ``ptest-tui benchmark`` as a user runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ptest_tui.session import Session
from tests.e2e.conftest import Cli, assert_usage_error, clean_environ, cli_command
from tests.integration.advise_support import seed_run, stored_env

pytestmark = pytest.mark.slow

ADVICE_KEYS = {"kind", "severity", "target_kind", "target", "env", "message", "evidence"}
RESULT_KEYS = {"engine", "scenario", "variant", "status", "runs", "median", "min", "max",
               "spread", "stdev", "samples", "reason"}


def seed(root: Path) -> None:
    """Three runs with one slow and one flaky case, and an env "old"."""
    with Session.open(workspace=root, environ={}) as session:
        stored_env(session, "old")
        for status in ("passed", "failed", "passed"):
            seed_run(session, [("unit", "old", "slow", "passed", 20.0),
                               ("unit", "old", "login", status, 1.0)])


def test_advise_json_and_text(cli: Cli) -> None:
    empty = cli.json("advise", "--json")
    assert empty["env"] is None and empty["advice"] == []
    assert empty["settings"]["idle_days"] == 14 and empty["settings"]["runs"] == 10
    assert cli.ok("advise").stdout.startswith("no advice: nothing in the history")
    seed(cli.root)
    data = cli.json("advise", "--json", "--idle-days", "1")
    assert [(a["severity"], a["kind"], a["target"]) for a in data["advice"]] == [
        ("medium", "slow-case", "unit/slow"), ("low", "flaky-case", "unit/login"),
    ]
    assert all(set(a) == ADVICE_KEYS for a in data["advice"])
    flaky = data["advice"][1]
    assert flaky["evidence"][0] == "flipped pass/fail 2 times in 3 runs (oldest first: P F P)"
    assert data["settings"]["idle_days"] == 1
    only = cli.json("advise", "old", "--json", "--rule", "slowest-cases")
    assert only["env"] == "old" and [a["kind"] for a in only["advice"]] == ["slow-case"]
    text = cli.ok("advise", "--runs", "2").stdout
    assert "[medium] slow-case: unit/slow (command) takes 20.0 s per run" in text
    assert "    - mean 20.0 s over the last 2 runs (min 20.0 s, max 20.0 s)" in text
    assert "flaky-case" not in text  # one flip in the last two runs is not flakiness


def test_advise_bad_input_is_one_line(cli: Cli) -> None:
    assert_usage_error(cli.run("advise", "nope"), "environment 'nope' does not exist")
    assert_usage_error(cli.run("advise", "--runs", "0"), "--runs must be at least 1")
    assert_usage_error(cli.run("advise", "--rule", "nope"), "invalid choice")


def test_benchmark_json_is_stored_and_shown_again(cli: Cli, tmp_path: Path) -> None:
    env = {"PTEST_CACHE_DIR": str(tmp_path / "cache")}
    result = cli.run("benchmark", "--engines", "basic,virtualenv", "--scenarios", "create,exec",
                     "--runs", "2", "--json", env=env)
    assert result.returncode == 0, str(result)
    data = json.loads(result.stdout)
    assert data["status"] == "done" and data["runs"] == 2
    assert data["engines"] == ["basic", "virtualenv"] and data["scenarios"] == ["create", "exec"]
    assert [(r["engine"], r["scenario"], r["status"], r["runs"]) for r in data["results"]] == [
        ("basic", "create", "ok", 2), ("basic", "exec", "ok", 2),
        ("virtualenv", "create", "ok", 2), ("virtualenv", "exec", "ok", 2),
    ]
    assert all(set(r) == RESULT_KEYS for r in data["results"])
    assert cli.json("benchmark", "--show", "last", "--json") == data
    table = cli.ok("benchmark", "--show", data["batch"]).stdout.splitlines()
    assert table[0].split("\t") == ["ENGINE", "SCENARIO", "RUNS", "MEDIAN S",
                                    "SPREAD S (MIN-MAX)", "STATUS"]
    assert [line.split("\t")[:3] for line in table[1:]] == [
        ["basic", "create", "2"], ["basic", "exec", "2"],
        ["virtualenv", "create", "2"], ["virtualenv", "exec", "2"],
    ]
    assert cli.envs() == {}


def test_benchmark_skips_an_unavailable_engine(cli: Cli) -> None:
    result = cli.run("--set", "docker.host=tcp://127.0.0.1:1", "benchmark", "--engines",
                     "docker", "--scenarios", "exec", "--runs", "1")
    assert result.returncode == 0, str(result)
    (line,) = result.stdout.splitlines()[1:]
    assert line.startswith("docker\texec\t0\t-\t-\tskipped: the docker engine is unavailable")


def test_benchmark_bad_input_is_one_line(cli: Cli) -> None:
    assert_usage_error(cli.run("benchmark", "--engines", "lxc"), "unknown engine 'lxc'")
    assert_usage_error(cli.run("benchmark", "--scenarios", "boot"), "unknown scenario 'boot'")
    assert_usage_error(cli.run("benchmark", "--runs", "0"), "runs must be 1 to 100")
    assert_usage_error(cli.run("benchmark", "--show", "9"), "no benchmark '9'")


def test_ctrl_c_stops_and_removes_the_temporary_envs(cli: Cli, tmp_path: Path) -> None:
    child = subprocess.Popen(
        [*cli_command(), "benchmark", "--engines", "virtualenv", "--scenarios", "install",
         "--runs", "100"],
        cwd=cli.root, env=clean_environ({"PTEST_CACHE_DIR": str(tmp_path / "cache")}),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "busy" not in {e["status"] for e in cli.envs().values()}:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the benchmark never started installing"
            time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, (out, err)
    assert "ptest-tui: cancelling" in err
    assert "benchmark 1 (cancelled)" in out + err
    assert cli.envs() == {}
