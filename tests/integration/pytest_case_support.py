"""Helpers for the pytest case's tests: the yardstick (pytest run directly) and contexts.

The yardstick runs ``python -m pytest -v`` in the same env and reads pytest's own output:
the final summary line gives the count of each outcome, the verbose lines give each test's
outcome (a test with an error at teardown has two lines, as it has two results).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult, OutputCallback
from ptest_tui.engines.process import run_process
from ptest_tui.runs.cases.base import CaseContext, CaseSpec
from ptest_tui.runs.cases.pytest_case import PytestCase
from ptest_tui.runs.model import CaseResult, count_outcomes
from ptest_tui.session import Session
from tests.conftest import need, write_workspace
from tests.integration.docker_support import docker_reason, engine_of, remove_everything

REPO = Path(__file__).resolve().parents[2]
SAMPLE_SUITE = REPO / "tests" / "data" / "sample_suite"
COUNTED = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
WORDS = {"PASSED": "passed", "FAILED": "failed", "SKIPPED": "skipped", "XFAIL": "xfailed",
         "XPASS": "xpassed", "ERROR": "error"}
VERBOSE_LINE = re.compile(r"^(?P<nodeid>\S+::.*?) (?P<word>PASSED|FAILED|SKIPPED|XFAIL|XPASS"
                          r"|ERROR)(?: .*)?$")
# The same under pytest-xdist: ``[gw0] [  3%] PASSED nodeid``.
XDIST_LINE = re.compile(r"^\[gw\d+\] \[\s*\d+%\] (?P<word>PASSED|FAILED|SKIPPED|XFAIL|XPASS"
                        r"|ERROR) (?P<nodeid>\S+::.*?)(?: - .*)? ?$")
SUMMARY_LINE = re.compile(r"^=* ?(?P<parts>(?:\d+ [\w ]+(?:, )?)+) in [\d.]+s(?: \(.*\))? ?=*$")
PHASE_SUFFIX = re.compile(r" \((setup|call|teardown)\)$")
# Wide lines: pytest -v never cuts a node id, but the yardstick should not depend on it.
WIDE = {"COLUMNS": "250"}


def copy_sample(workspace: Path, name: str = "sample_suite") -> Path:
    """The sample suite copied into ``workspace`` (pytest writes caches next to it)."""
    target = workspace / name
    shutil.copytree(SAMPLE_SUITE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@dataclass(frozen=True)
class DirectRun:
    """What pytest run directly printed."""

    exit_code: int
    counts: dict[str, int]
    outcomes: list[tuple[str, str]]  # (nodeid, outcome), sorted
    lines: list[str] = field(repr=False)


def parse_summary(lines: Sequence[str]) -> dict[str, int]:
    """Outcome counts from pytest's last line (``7 failed, 16 passed, 3 errors in 0.1s``)."""
    counts = dict.fromkeys(COUNTED, 0)
    for line in reversed(lines):
        found = SUMMARY_LINE.match(line.strip())
        if found:
            for part in found.group("parts").split(", "):
                number, word = part.split(" ", 1)
                word = {"errors": "error", "warnings": "warning"}.get(word, word)
                counts[word] = int(number)
            return counts
    raise AssertionError("no pytest summary line in:\n" + "\n".join(lines[-20:]))


def run_direct(
    session: Session, env: str, cwd: str, args: Sequence[str] = (), python: str = "python"
) -> DirectRun:
    """``python -m pytest -v ARGS`` in ``env`` (``cwd``: as the engine takes it)."""
    lines: list[str] = []
    done = session.exec(
        env, [python, "-m", "pytest", "-v", *args], cwd=cwd, env=dict(WIDE),
        on_output=lambda stream, line: lines.append(line) if stream == "stdout" else None,
    )
    return parse_direct(done.exit_code, lines)


def run_direct_here(folder: Path, args: Sequence[str] = ()) -> DirectRun:
    """``python -m pytest -v ARGS`` with this interpreter (its pytest), in ``folder``."""
    lines: list[str] = []
    done = run_process(
        [sys.executable, "-m", "pytest", "-v", *args], cwd=folder, env={**os.environ, **WIDE},
        on_output=lambda stream, line: lines.append(line) if stream == "stdout" else None,
        cancel=CancelToken(),
    )
    return parse_direct(done.exit_code, lines)


def parse_direct(exit_code: int, lines: list[str]) -> DirectRun:
    """The counts and each test's outcomes in the output of ``pytest -v``."""
    outcomes = []
    for line in lines:
        found = VERBOSE_LINE.match(line) or XDIST_LINE.match(line)
        if found:
            outcomes.append((found.group("nodeid"), WORDS[found.group("word")]))
    return DirectRun(exit_code, parse_summary(lines), sorted(outcomes), lines)


def case_outcomes(results: Sequence[CaseResult]) -> list[tuple[str, str]]:
    """(nodeid, outcome) of each test result, as the yardstick's verbose lines give them."""
    return sorted(
        (PHASE_SUFFIX.sub("", r.case), r.status) for r in results if "::" in r.case
    )


def case_counts(results: Sequence[CaseResult]) -> dict[str, int]:
    """Count of each outcome pytest counts."""
    counts = count_outcomes(list(results))
    return {key: counts[key] for key in COUNTED}


@dataclass
class Recorder:
    """The runner's part in a context: collects emitted results, can react to each."""

    emitted: list[CaseResult] = field(default_factory=list)
    on_emit: Callable[[CaseResult], None] | None = None

    def emit(self, result: CaseResult) -> None:
        self.emitted.append(result)
        if self.on_emit:
            self.on_emit(result)


def make_context(
    session: Session,
    env: str,
    recorder: Recorder,
    *,
    timeout: float | None = 120,
    cancel: CancelToken | None = None,
) -> CaseContext:
    """A CaseContext whose exec runs in ``env`` through ``Session.exec``."""
    token = cancel or CancelToken()
    record = session.get_env(env)

    def run_in_env(argv: Sequence[str], **options: Any) -> ExecResult:
        return session.exec(env, argv, cancel=token, **options)

    return CaseContext(
        run_id="run-1", suite="sample", env=env, isolation=record.isolation, cancel=token,
        timeout=timeout, variables={}, exec=run_in_env, emit=recorder.emit,
        object_info=lambda name: None, object_kind=lambda name: "",
        workspace=str(session.workspace.root),
    )


def run_case(
    session: Session,
    env: str,
    settings: dict[str, Any],
    *,
    recorder: Recorder | None = None,
    timeout: float | None = 120,
    cancel: CancelToken | None = None,
) -> list[CaseResult]:
    """Run a pytest case named ``sample`` with ``settings`` in ``env``; its results."""
    recorder = recorder or Recorder()
    case = PytestCase(CaseSpec("sample", "pytest", settings, where="suites.s.cases[0]"))
    case.validate()
    results = list(case.run(make_context(session, env, recorder, timeout=timeout,
                                         cancel=cancel)))
    assert results == recorder.emitted, "every result is emitted, in order"
    return results


def run_case_here(root: Path, settings: dict[str, Any]) -> list[CaseResult]:
    """Run the case with an exec that starts processes on this host, in ``root``."""
    recorder = Recorder()
    token = CancelToken()

    def run_here(
        argv: Sequence[str], on_output: OutputCallback | None = None, cwd: str | None = None,
        env: dict[str, str] | None = None, timeout: float | None = None,
    ) -> ExecResult:
        return run_process(
            argv, cwd=root / cwd if cwd else root, env={**os.environ, **(env or {})},
            on_output=on_output or (lambda _stream, _line: None), cancel=token, timeout=timeout,
        )

    ctx = CaseContext(
        run_id="run-1", suite="sample", env="host", isolation="basic", cancel=token,
        timeout=120, variables={}, exec=run_here, emit=recorder.emit,
        object_info=lambda name: None, object_kind=lambda name: "", workspace=str(root),
    )
    case = PytestCase(CaseSpec("sample", "pytest", settings))
    case.validate()
    results = list(case.run(ctx))
    assert results == recorder.emitted
    return results


def assert_same_as_direct(results: Sequence[CaseResult], direct: DirectRun) -> None:
    """Counts per outcome and each test's outcomes equal what pytest printed."""
    assert case_counts(results) == {k: direct.counts[k] for k in COUNTED}, "\n".join(
        direct.lines[-30:]
    )
    assert case_outcomes(results) == direct.outcomes
    assert len({r.case for r in results}) == len(results), "case names are unique"
    assert all(r.parent == "sample" and r.kind == "pytest" for r in results)


def counter(results: Sequence[CaseResult]) -> Counter[str]:
    """How many results have each status."""
    return Counter(r.status for r in results)


# -- fixtures and suites shared by the test modules ---------------------------------------

EXPECTED = {"passed": 16, "failed": 7, "skipped": 5, "xfailed": 3, "xpassed": 1, "error": 3}
SIX = "six==1.17.0"
RUNNER_TOML = """
[workspace]

[suites.sample]
envs = ["v"]

[[suites.sample.cases]]
name = "unit"
kind = "pytest"
cwd = "sample_suite"
"""


@contextmanager
def private_cache(factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A package cache of the test module's own (PTEST_CACHE_DIR) while it runs."""
    folder = factory.mktemp("package-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PTEST_CACHE_DIR", str(folder))
        yield folder


def venv_session(factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A workspace with the sample suite and a virtualenv env ``v`` that has pytest
    (a module fixture's body)."""
    with private_cache(factory):
        root = write_workspace(factory.mktemp("pytest-case") / "ws", RUNNER_TOML)
        copy_sample(root)
        session = Session.open(workspace=root, environ={})
        try:
            session.create_env("v", isolation="virtualenv")
            session.install("v", ["pytest"])
            yield session
        finally:
            session.close()


def docker_session(factory: pytest.TempPathFactory) -> Iterator[Session]:
    """The same with a docker env ``d`` (workspace mounted read-only)."""
    with private_cache(factory):
        root = write_workspace(factory.mktemp("pytest-case-docker") / "ws")
        copy_sample(root)
        session = Session.open(workspace=root, environ={})
        try:
            need("docker", docker_reason(engine_of(session)))
            session.create_env("d", isolation="docker")
            session.install("d", ["pytest"])
            yield session
        finally:
            if engine_of(session).unavailable_reason() is None:
                remove_everything(session)
            session.close()


def write_suite(session: Session, name: str, files: dict[str, str]) -> Path:
    """A small suite folder ``name`` in the workspace."""
    folder = session.workspace.root / name
    folder.mkdir(exist_ok=True)
    for filename, text in files.items():
        (folder / filename).write_text(textwrap.dedent(text))
    return folder


def by_case(results: list[CaseResult]) -> dict[str, CaseResult]:
    """Results by case name."""
    return {r.case: r for r in results}


LIVE_SUITE = {"test_live.py": """
    import pathlib, time

    def test_first():
        pass

    def test_second_waits_for_the_first_result():
        # The host writes this file when it has received test_first's result: if results
        # came only at the end, this test would wait in vain.
        flag = pathlib.Path(__file__).with_name("released")
        for _ in range(600):
            if flag.exists():
                return
            time.sleep(0.05)
        raise AssertionError("test_first's result did not arrive while pytest ran")
"""}


def release_on_first(folder: Path) -> Recorder:
    """A recorder that lets LIVE_SUITE's second test go on once the first result came."""

    def on_emit(result: CaseResult) -> None:
        if result.case.endswith("::test_first"):
            (folder / "released").write_text("go")

    return Recorder(on_emit=on_emit)


def only(results: list[CaseResult]) -> CaseResult:
    """The one result of a run that must have one."""
    assert len(results) == 1, results
    return results[0]
