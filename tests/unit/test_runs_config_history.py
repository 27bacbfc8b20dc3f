"""Suites in ptest.toml, selecting suites and cases, and the run history in the store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ptest_tui.config.loader import load_config
from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.ownership import owner_alive
from ptest_tui.runs.config import parse_suite
from ptest_tui.runs.history import RunHistory, RunNotFoundError
from ptest_tui.runs.model import CaseResult
from ptest_tui.runs.plan import select
from ptest_tui.store import Store
from tests.conftest import write_workspace

SUITES = """
[suites.api]
envs = ["unit"]
case_timeout = 30
retries = 1

[[suites.api.cases]]
name = "health"
kind = "http"
url = "http://127.0.0.1/health"

[[suites.api.cases]]
name = "tests"
kind = "pytest"
target = "tests"
timeout = 120
retries = 0

[suites.db]
envs = ["unit"]
sequential = true

[[suites.db.cases]]
name = "tests"
kind = "command"
command = "true"
"""


def test_suites_load_with_case_defaults(tmp_path: Path) -> None:
    config = load_config(write_workspace(tmp_path / "ws", SUITES), {}, ())
    api = parse_suite("api", config.suites["api"], "ptest.toml")
    health, tests = api.cases
    assert (health.kind, health.timeout, health.retries) == ("http", 30.0, 1)
    assert (tests.timeout, tests.retries, tests.settings) == (120.0, 0, {"target": "tests"})
    assert health.where == "suites.api.cases[0]"
    assert parse_suite("db", config.suites["db"], "ptest.toml").sequential


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[suites.a]\nenvz = []\n", "unknown key suites.a.envz"),
        ("[suites.a]\ntimeout = -1\n", "suites.a.timeout: expected a positive number"),
        ("[suites.a]\nretries = 'x'\n", "suites.a.retries: expected a whole number"),
        ("[suites.a]\ncases = [{kind = 'command'}]\n", "suites.a.cases[0]: missing name"),
        ("[suites.a]\ncases = [{name = 'x'}]\n", "suites.a.cases[0]: missing kind"),
        ("[suites.a]\ncases = [{name = 'x', kind = 'command'}, {name = 'x', kind = 'http'}]\n",
         "a second case named 'x'"),
        ("[suites.a]\nenvs = 'unit'\nsetup = [1]\n", "suites.a.setup: expected a list"),
        ("[suites.'b c']\n", "suites.b c"),
    ],
)
def test_bad_suites_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_workspace(tmp_path / "ws", toml), {}, ())
    assert message in info.value.message


def test_selecting_suites_and_cases(tmp_path: Path) -> None:
    config = load_config(write_workspace(tmp_path / "ws", SUITES), {}, ())
    suites = {n: parse_suite(n, t, "ptest.toml") for n, t in config.suites.items()}
    assert {k: [c.name for c in v] for k, v in select(suites, []).items()} == {
        "api": ["health", "tests"], "db": ["tests"]}
    assert {k: [c.name for c in v] for k, v in select(suites, ["api/tests"]).items()} == {
        "api": ["tests"]}
    # A bare case name picks it in every suite that has it.
    assert set(select(suites, ["tests"])) == {"api", "db"}
    with pytest.raises(UsageError) as info:
        select(suites, ["api/helth"])
    assert "did you mean 'api/health'?" in info.value.hint
    with pytest.raises(UsageError, match="no suites"):
        select({}, [])


def test_history_numbers_runs_and_keeps_results(tmp_path: Path) -> None:
    history = RunHistory(Store(tmp_path / "state.db"))
    first = history.begin(["api"], ["unit"], (1, 1.0))
    assert first.id == "1" and first.status == "running"
    history.add([
        CaseResult(first.id, "api", "unit", "health", "http", "passed", 0.5),
        CaseResult(first.id, "api", "unit", "t::a", "pytest", "failed", 1.5, "boom",
                   parent="tests", stdout="out"),
        CaseResult(first.id, "api", "unit", "t::b", "pytest", "passed", 0.5, parent="tests",
                   flaky=True, attempts=2),
    ])
    done = history.finish(first, "failed")
    assert done.counts["passed"] == 2 and done.counts["failed"] == 1
    assert done.counts["flaky"] == 1 and done.counts["total"] == 3
    assert history.get("last").id == "1" and history.get("1").status == "failed"
    assert [r.stdout for r in history.results("1", with_output=False)] == ["", "", ""]
    assert history.results("1")[1].stdout == "out"
    assert history.durations() == {("api", "health"): 0.5, ("api", "tests"): 2.0}
    second = history.begin([], ["unit"], (1, 1.0))
    assert second.id == "2"
    assert [r.id for r in history.recent()] == ["2", "1"]
    with pytest.raises(RunNotFoundError):
        history.get("99")


def test_a_run_left_running_by_a_killed_process_is_cancelled(tmp_path: Path) -> None:
    history = RunHistory(Store(tmp_path / "state.db"))
    gone = subprocess.Popen(["true"])
    gone.wait()
    run = history.begin([], [], (gone.pid, 1.0))
    assert history.settle_stale(owner_alive) == [run.id]
    settled = history.get(run.id)
    assert settled.status == "cancelled" and "killed" in settled.message
