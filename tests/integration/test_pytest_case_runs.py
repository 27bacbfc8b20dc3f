"""The pytest case when runs go wrong: stopped, crashed, huge output, nothing to run.

Results must still arrive while pytest runs, a timeout or cancel must stop the whole
process tree and keep what finished, and every run that is not a normal test run must
say why in one error result.
"""

from __future__ import annotations

import re
import signal
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.runs.cases.base import OUTPUT_CAP
from ptest_tui.runs.model import CaseResult
from ptest_tui.session import Session
from tests.integration.pytest_case_support import (
    LIVE_SUITE,
    Recorder,
    only,
    release_on_first,
    run_case,
    run_direct,
    venv_session,
    write_suite,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    yield from venv_session(tmp_path_factory)


# -- streaming, stopping, crashing ------------------------------------------------------


def test_results_arrive_while_pytest_runs(venv: Session) -> None:
    folder = write_suite(venv, "live", LIVE_SUITE)
    results = run_case(venv, "v", {"cwd": "live"}, recorder=release_on_first(folder))
    assert [(r.case, r.status) for r in results] == [
        ("test_live.py::test_first", "passed"),
        ("test_live.py::test_second_waits_for_the_first_result", "passed"),
    ]


HANG_SUITE = {"test_hang.py": """
    import pathlib, subprocess, sys, time

    def test_first():
        pass

    def test_hangs():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        pathlib.Path(__file__).with_name("child.pid").write_text(str(child.pid))
        time.sleep(600)
"""}


def wait_gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (gone, or a zombie about to be reaped)."""
    for _ in range(200):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def child_pid(folder: Path) -> int:
    for _ in range(200):
        if (folder / "child.pid").exists() and (folder / "child.pid").read_text():
            return int((folder / "child.pid").read_text())
        time.sleep(0.05)
    raise AssertionError("the hanging test never started its child")


def test_timeout_kills_the_tree_and_keeps_finished_results(venv: Session) -> None:
    folder = write_suite(venv, "hang", HANG_SUITE)
    results = run_case(venv, "v", {"cwd": "hang"}, timeout=5)
    assert [(r.case, r.status) for r in results] == [
        ("test_hang.py::test_first", "passed"), ("test_hang.py::test_hangs", "error"),
    ]
    assert "timed out" in results[1].message and "5 s" in results[1].message
    assert wait_gone(child_pid(folder)), "the test's child process survived the timeout"


def test_cancel_stops_the_run_and_marks_the_running_test(venv: Session) -> None:
    folder = write_suite(venv, "hang_cancel", HANG_SUITE)
    token = CancelToken()

    def on_emit(result: CaseResult) -> None:
        if result.case.endswith("::test_first"):
            child_pid(folder)  # the hanging test has begun
            token.cancel()

    results = run_case(venv, "v", {"cwd": "hang_cancel"},
                       recorder=Recorder(on_emit=on_emit), cancel=token)
    assert [(r.case, r.status) for r in results] == [
        ("test_hang.py::test_first", "passed"), ("test_hang.py::test_hangs", "cancelled"),
    ]
    assert wait_gone(child_pid(folder))


def test_a_crash_is_put_on_the_running_test(venv: Session) -> None:
    # Records go out in batches every 0.1 s: a crash loses at most the last 0.1 s of them,
    # so the crashing test runs a little first (as any test worth a crash report does).
    write_suite(venv, "crash", {"test_crash.py": """
        import os, signal, time

        def test_before():
            pass

        def test_kills_pytest():
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
    """})
    results = run_case(venv, "v", {"cwd": "crash"})
    assert [(r.case, r.status) for r in results] == [
        ("test_crash.py::test_before", "passed"), ("test_crash.py::test_kills_pytest", "error"),
    ]
    assert f"killed by {signal.SIGKILL.name}" in results[1].message


def test_huge_output_is_capped_and_memory_stays_flat(venv: Session) -> None:
    write_suite(venv, "big", {"test_big.py": """
        def test_prints_50_megabytes():
            line = "x" * 1023
            for _ in range(50 * 1024):
                print(line)
            raise AssertionError("after 50 MB of output")
    """})
    tracemalloc.start()
    try:
        results = run_case(venv, "v", {"cwd": "big"})
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (result,) = results
    assert result.status == "failed" and "after 50 MB of output" in result.message
    dropped = re.search(r"\n\[\.\.\. (\d+) more characters truncated by ptest-tui\]$",
                        result.stdout)
    assert dropped and int(dropped.group(1)) == 50 * 1024 * 1024 - OUTPUT_CAP
    assert len(result.stdout) < OUTPUT_CAP + 100
    # pytest printed the 50 MB again in its failure report; none of it piled up here.
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming 100 MB"


# -- runs that are not test runs ----------------------------------------------------------


def test_nothing_collected_is_an_error(venv: Session) -> None:
    direct = run_direct(venv, "v", "sample_suite", ["-k", "no_such_test"])
    assert direct.exit_code == 5 and direct.counts["skipped"] == 1  # the skipped module
    results = run_case(venv, "v", {"cwd": "sample_suite", "k": "no_such_test"})
    assert [(r.case, r.status) for r in results] == [
        ("tests/test_skipped_module.py", "skipped"), ("sample", "error")
    ]
    assert "no tests collected" in results[1].message and "hint:" in results[1].message


def test_missing_target_is_a_usage_error(venv: Session) -> None:
    result = only(run_case(venv, "v", {"cwd": "sample_suite", "target": "tests/nope.py"}))
    assert result.status == "error" and "usage error" in result.message
    assert "file or directory not found: tests/nope.py" in result.message


def test_env_without_pytest_says_how_to_add_it(venv: Session) -> None:
    venv.create_env("bare", isolation="virtualenv")
    result = only(run_case(venv, "bare", {"cwd": "sample_suite"}))
    assert result.status == "error" and "pytest is not installed" in result.message
    assert "ptest-tui pkg install bare pytest" in result.message


def test_missing_interpreter_and_folder(venv: Session) -> None:
    result = only(run_case(venv, "v", {"python": "no-such-python"}))
    assert result.status == "error" and "no-such-python" in result.message
    assert "hint: set python" in result.message
    result = only(run_case(venv, "v", {"cwd": "no/such/folder"}))
    assert result.status == "error" and "cannot change to folder no/such/folder" in result.message


def test_env_variables_reach_the_tests(venv: Session) -> None:
    write_suite(venv, "envvars", {"test_env.py": """
        import os

        def test_sees_variable():
            assert os.environ["SAMPLE_SETTING"] == "on"
    """})
    result = only(run_case(venv, "v", {"cwd": "envvars", "env": {"SAMPLE_SETTING": "on"}}))
    assert result.status == "passed"
