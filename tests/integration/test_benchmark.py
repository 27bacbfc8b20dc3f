"""``session.benchmark_engines`` on real engines: results measured, stored and used by
advise; unavailable engines skipped; cancel and killed runs leave no envs behind.

Only counts and statuses are asserted, never how long anything took.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ptest_tui.advise import advise
from ptest_tui.benchmark import PREFIX, BenchmarkHistory, BenchmarkResult
from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError
from ptest_tui.session import Session
from tests.conftest import REPO, write_workspace
from tests.integration.advise_support import stored_env
from tests.integration.docker_support import engine_of

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private package cache: the install scenario must work with a cold one."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTEST_CACHE_DIR", str(cache))
    return cache


def rows(results: tuple[BenchmarkResult, ...]) -> list[tuple[str, str, str, int]]:
    return [(r.engine, r.label, r.status, len(r.samples)) for r in results]


def bench_envs(session: Session) -> list[str]:
    return [r.name for r in session.store.list_envs() if r.name.startswith(PREFIX)]


def test_basic_and_virtualenv_create_and_exec(session: Session) -> None:
    report = session.benchmark_engines("basic,virtualenv", "exec,create", runs=2)
    assert report.status == "done" and report.runs == 2
    assert rows(report.results) == [
        ("basic", "create", "ok", 2), ("basic", "exec", "ok", 2),
        ("virtualenv", "create", "ok", 2), ("virtualenv", "exec", "ok", 2),
    ]
    for result in report.results:
        assert all(sample > 0 for sample in result.samples)
        assert result.low <= result.median <= result.high
    assert report.machine["cpus"] >= 1
    stored = BenchmarkHistory(session.store).get("last")
    assert stored.batch == report.batch and stored.results == report.results
    assert bench_envs(session) == []
    assert not (session.workspace.state_dir / "envs").exists() or not any(
        (session.workspace.state_dir / "envs").iterdir()
    )


def test_install_measures_both_installers_and_advise_uses_it(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[packages]\ninstaller = "pip"\n')
    with Session.open(workspace=root, environ={}) as session:
        report = session.benchmark_engines(["virtualenv"], ["install"], runs=1)
        assert rows(report.results) == [
            ("virtualenv", "install (uv)", "ok", 1), ("virtualenv", "install (pip)", "ok", 1),
        ]
        assert bench_envs(session) == []
        session.create_env("v", isolation="virtualenv")
        result = advise(session, rules=["pip-backend"])
        evidence = [fact for item in result.advice for fact in item.evidence]
        # Whichever installer was faster here, the advice (or its absence) cites the run.
        cited = [line for line in evidence + list(result.skipped)
                 if f"benchmark {report.batch}" in line]
        assert len(cited) == 1, (evidence, result.skipped)


def test_snapshot_scenario_leaves_no_snapshots(session: Session) -> None:
    report = session.benchmark_engines("basic", "snapshot", runs=1)
    assert rows(report.results) == [
        ("basic", "snapshot (create)", "ok", 1), ("basic", "snapshot (restore)", "ok", 1),
    ]
    assert session.snapshots.all() == []
    assert bench_envs(session) == []


def test_an_unavailable_engine_is_skipped_with_the_reason(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    overrides = ["docker.host=tcp://127.0.0.1:1"]
    with Session.open(workspace=root, environ={}, overrides=overrides) as session:
        report = session.benchmark_engines("docker,basic", "create,install,exec", runs=1)
        assert report.status == "done"
        assert rows(report.results) == [
            ("basic", "create", "ok", 1), ("basic", "install (uv)", "ok", 1),
            ("basic", "install (pip)", "ok", 1), ("basic", "exec", "ok", 1),
            ("docker", "create", "skipped", 0), ("docker", "install (uv)", "skipped", 0),
            ("docker", "install (pip)", "skipped", 0), ("docker", "exec", "skipped", 0),
        ]
        skipped = [r for r in report.results if r.engine == "docker"]
        assert all(r.reason.startswith("the docker engine is unavailable: ") for r in skipped)
        assert BenchmarkHistory(session.store).get(report.batch).results == report.results


def test_bad_requests_store_nothing(session: Session) -> None:
    for engines, scenarios, runs, message in (
        ("lxc", "create", 1, "unknown engine 'lxc'"),
        ("basic", "build", 1, "unknown scenario 'build'"),
        ("basic", "create", 0, "runs must be 1 to 100"),
    ):
        with pytest.raises(UsageError, match=message):
            session.benchmark_engines(engines, scenarios, runs=runs)
    assert BenchmarkHistory(session.store).recent() == []


def test_cancel_stops_and_removes_the_temporary_envs(session: Session) -> None:
    token = CancelToken()
    seen: list[tuple[str, str, int]] = []

    def progress(engine: str, label: str, number: int, _total: int) -> None:
        seen.append((engine, label, number))
        if label == "exec" and number == 2:
            token.cancel()

    report = session.benchmark_engines(
        "virtualenv", "create,exec", runs=3, cancel=token, on_progress=progress
    )
    assert report.status == "cancelled"
    assert rows(report.results) == [("virtualenv", "create", "ok", 3)]
    assert ("virtualenv", "exec", 3) not in seen
    assert bench_envs(session) == []
    assert BenchmarkHistory(session.store).get(report.batch).status == "cancelled"


KILLED = """
import sys
from ptest_tui.session import Session
with Session.open(workspace=sys.argv[1], environ={}) as session:
    session.benchmark_engines("virtualenv", "install", runs=100)
"""


def test_a_killed_benchmark_leaves_envs_the_next_one_removes(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    with Session.open(workspace=root, environ={}) as session:
        mine = stored_env(session, f"{PREFIX}77-mine")  # shares the prefix; no batch 77
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(KILLED), str(root)], cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            deadline = time.monotonic() + 60
            # Until the benchmark's env is made and used (busy: a lease of the install).
            while "busy" not in [r.status for r in session.store.list_envs()
                                 if r.name != mine.name]:
                assert child.poll() is None, "the benchmark ended before it made an env"
                assert time.monotonic() < deadline, "no benchmark env appeared"
                time.sleep(0.05)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        left = [n for n in bench_envs(session) if n != mine.name]
        assert left
        listed = session.cleanup(dry_run=True)
        assert {i.name for i in listed if i.reason.startswith("temporary env of benchmark")} \
            == set(left)
        report = session.benchmark_engines("basic", "exec", runs=1)
        assert report.status == "done"
        assert bench_envs(session) == [mine.name]
        batches = BenchmarkHistory(session.store).recent()
        assert [b.status for b in batches] == ["done", "cancelled"]


@pytest.mark.docker
def test_docker_create_and_exec(dsession: Session) -> None:
    report = dsession.benchmark_engines("docker", "create,exec", runs=1)
    assert rows(report.results) == [("docker", "create", "ok", 1), ("docker", "exec", "ok", 1)]
    assert bench_envs(dsession) == []
    assert [leftover for leftover in engine_of(dsession).leftovers(set())
            if leftover.kind == "container"] == []
