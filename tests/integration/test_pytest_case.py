"""The pytest case in real envs, measured against pytest run directly in the same env.

The yardstick is ``python -m pytest -v`` in that env: the outcome counts of its summary
line and each test's outcome must equal the case's results exactly. pytest is installed
into the envs from the package index through the packages layer (a private cache).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.events import CaseFinished
from ptest_tui.session import Session
from tests.integration.pytest_case_support import (
    EXPECTED,
    LIVE_SUITE,
    SIX,
    assert_same_as_direct,
    by_case,
    case_counts,
    copy_sample,
    counter,
    docker_session,
    only,
    release_on_first,
    run_case,
    run_case_here,
    run_direct,
    run_direct_here,
    venv_session,
    write_suite,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    yield from venv_session(tmp_path_factory)


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    yield from docker_session(tmp_path_factory)


# -- the yardstick ------------------------------------------------------------------------


def test_sample_suite_equals_pytest_in_virtualenv(venv: Session) -> None:
    direct = run_direct(venv, "v", "sample_suite")
    results = run_case(venv, "v", {"cwd": "sample_suite"})
    assert {k: direct.counts[k] for k in EXPECTED} == EXPECTED
    assert direct.exit_code == 1
    assert_same_as_direct(results, direct)

    tests = by_case(results)
    assert "lists differ" in tests["tests/test_outcomes.py::test_fails"].message
    printed = tests["tests/test_outcomes.py::test_prints_and_passes"]
    assert (printed.status, printed.stdout, printed.stderr) == (
        "passed", "some output on stdout\n", "some output on stderr\n"
    )
    assert tests["tests/test_outcomes.py::test_prints_and_fails"].stdout == (
        "output before the failure\n"
    )
    assert "a warning from the test" in tests["tests/test_fixtures.py::test_logs_and_fails"].stderr
    skipped = tests["tests/test_outcomes.py::test_skipped_by_marker"].message
    assert skipped.startswith("tests/test_outcomes.py:") and skipped.endswith(": skipped by marker")
    assert tests["tests/test_outcomes.py::test_expected_failure"].message == "known bug"
    assert "XPASS(strict)" in tests["tests/test_outcomes.py::test_strict_unexpected_pass"].message
    # An error at teardown is a second result beside the test's own outcome.
    assert tests["tests/test_fixtures.py::test_teardown_error_after_pass"].status == "passed"
    teardown = tests["tests/test_fixtures.py::test_teardown_error_after_pass (teardown)"]
    assert teardown.status == "error" and "cannot tear down" in teardown.message
    assert "cannot set up" in tests["tests/test_fixtures.py::test_setup_error"].message
    # The module skipped at collection counts as one skip, named by its path.
    assert tests["tests/test_skipped_module.py"].status == "skipped"
    assert all(r.started_at > 0 and r.duration >= 0 for r in results)


def test_through_the_runner_results_stream_as_events(venv: Session) -> None:
    live: list[CaseFinished] = []
    unsubscribe = venv.bus.subscribe(CaseFinished, live.append)
    try:
        outcome = venv.run(["sample"])
    finally:
        unsubscribe()
    assert outcome.run.status == "failed"
    assert {k: outcome.run.counts[k] for k in EXPECTED} == EXPECTED
    stored = venv.runs.results(outcome.run.id)
    assert sorted(r.case for r in stored) == sorted(e.case for e in live)
    assert {r.parent for r in stored} == {"unit"}


def test_target_k_m_and_args_select_like_pytest(venv: Session) -> None:
    targets = ["tests/test_outcomes.py", "tests/test_shapes.py::TestGroup"]
    options = ["-p", "no:cacheprovider", "-k", "not strict", "-m", "not smoke"]
    direct = run_direct(venv, "v", "sample_suite", [*options, *targets])
    results = run_case(venv, "v", {
        "cwd": "sample_suite", "target": targets, "k": "not strict", "m": "not smoke",
        "args": ["-p", "no:cacheprovider"],
    })
    assert_same_as_direct(results, direct)
    names = {r.case for r in results}
    assert "tests/test_outcomes.py::test_strict_unexpected_pass" not in names
    assert "tests/test_outcomes.py::test_with_custom_marker" not in names
    assert "tests/test_shapes.py::TestGroup::test_inside_class" in names
    assert not any("test_is_small" in name for name in names)


def test_third_party_suite_equals_pytest(venv: Session, tmp_path: Path) -> None:
    """six's own test suite, from its sdist on the package index."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--no-build-isolation", "--disable-pip-version-check", "-q", "-d", str(tmp_path), SIX],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    (archive,) = tmp_path.glob("six-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(venv.workspace.root, filter="data")
    folder = archive.name.removesuffix(".tar.gz")
    direct = run_direct(venv, "v", folder)
    results = run_case(venv, "v", {"cwd": folder})
    assert direct.counts["passed"] > 100
    assert_same_as_direct(results, direct)


def test_collection_error_is_one_error_like_pytest(venv: Session) -> None:
    write_suite(venv, "broken", {
        "test_good.py": "def test_fine():\n    pass\n",
        "test_broken.py": "def test_oops(:\n    pass\n",
    })
    direct = run_direct(venv, "v", "broken")
    results = run_case(venv, "v", {"cwd": "broken"})
    assert direct.exit_code == 2 and direct.counts["error"] == 1
    assert case_counts(results) == {k: direct.counts[k] for k in case_counts(results)}
    (error,) = results
    assert error.case == "test_broken.py" and "SyntaxError" in error.message


def test_subtests_count_like_pytest(venv: Session) -> None:
    write_suite(venv, "subtests", {"test_sub.py": """
        import pytest

        def test_with_subtests(subtests):
            for i in range(4):
                with subtests.test(msg="check", i=i):
                    assert i % 2 == 0

        def test_plain():
            pass
    """})
    version: list[str] = []
    venv.exec("v", ["python", "-c", "import pytest; print(pytest.__version__)"],
              on_output=lambda _s, line: version.append(line))
    if int(version[0].split(".")[0]) < 9:
        pytest.skip("subtests are built into pytest 9 and later")
    direct = run_direct(venv, "v", "subtests")
    results = run_case(venv, "v", {"cwd": "subtests"})
    assert direct.counts["failed"] == 3  # two subtests and the test holding them
    # pytest -v shows subtests as SUBFAILED lines: compare the tests' own outcomes, and
    # the counts with every subtest in them.
    assert case_counts(results) == {k: direct.counts[k] for k in case_counts(results)}
    tests = [(r.case, r.status) for r in results if not r.case.startswith(
        "test_sub.py::test_with_subtests ")]
    assert sorted(tests) == direct.outcomes
    assert sorted(r.case for r in results) == [
        "test_sub.py::test_plain",
        "test_sub.py::test_with_subtests",
        "test_sub.py::test_with_subtests [check] (i=1)",
        "test_sub.py::test_with_subtests [check] (i=3)",
    ]


def test_xdist_workers_count_like_pytest(venv: Session) -> None:
    """Reports come from the workers through the controller: same records, same counts."""
    venv.create_env("x", isolation="virtualenv")
    venv.install("x", ["pytest", "pytest-xdist"])
    direct = run_direct(venv, "x", "sample_suite", ["-n", "2"])
    results = run_case(venv, "x", {"cwd": "sample_suite", "args": ["-n", "2"]})
    assert {k: direct.counts[k] for k in EXPECTED} == EXPECTED
    assert_same_as_direct(results, direct)


# -- docker -------------------------------------------------------------------------------


def test_sample_suite_equals_pytest_in_docker(docker: Session) -> None:
    mount = docker.config.docker.mount_path.rstrip("/")
    direct = run_direct(docker, "d", f"{mount}/sample_suite")
    results = run_case(docker, "d", {"cwd": "sample_suite"})
    assert {k: direct.counts[k] for k in EXPECTED} == EXPECTED
    assert_same_as_direct(results, direct)
    assert counter(results)["failed"] == EXPECTED["failed"]


def test_results_arrive_live_in_docker(docker: Session) -> None:
    folder = write_suite(docker, "live", LIVE_SUITE)
    results = run_case(docker, "d", {"cwd": "live"}, recorder=release_on_first(folder))
    assert [r.status for r in results] == ["passed", "passed"]


def test_docker_env_without_the_target_folder(docker: Session) -> None:
    result = only(run_case(docker, "d", {"cwd": "not_there"}))
    assert "cannot change to folder not_there" in result.message


def test_sample_suite_with_the_hosts_pytest(tmp_path: Path) -> None:
    """The launcher on this interpreter's pytest (the project's own: another version)."""
    folder = copy_sample(tmp_path)
    direct = run_direct_here(folder, ["-p", "no:cacheprovider"])
    results = run_case_here(tmp_path, {
        "cwd": "sample_suite", "python": sys.executable, "args": ["-p", "no:cacheprovider"],
    })
    assert {k: direct.counts[k] for k in EXPECTED} == EXPECTED
    assert_same_as_direct(results, direct)
