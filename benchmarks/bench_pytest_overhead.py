"""Overhead of the pytest case (issue 5) over running pytest directly in the same env.

A generated suite of 2,000 tests (20 modules of 100 tests; a few skip, fail, xfail) runs
in one virtualenv env (and a docker env with --docker), with pytest installed through
the packages layer. Rows, median of N runs each, direct and case runs interleaved:

- ``python -m pytest -q`` through Session.exec (what a user typing it in the env gets);
- the pytest case: the same arguments through PytestCase.run, every test's record parsed
  into a result and emitted (to a list) as it arrives.

Both pay the same Session.exec cost, so the difference is the plugin's records plus
their parsing. The case's results are checked against pytest's summary line. In the
virtualenv env pytest is a child of this process, so its CPU time (user + system, from
RUSAGE_CHILDREN) is reported too: on a busy machine it moves less than wall time.

Run: .venv/bin/python benchmarks/bench_pytest_overhead.py [--runs 3] [--tests 2000] [--docker]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _util import REPO, new_workspace, remove, summarise

sys.path.insert(0, str(REPO))
from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult
from ptest_tui.runs.cases.base import CaseContext, CaseSpec
from ptest_tui.runs.cases.pytest_case import PytestCase
from ptest_tui.runs.model import CaseResult
from ptest_tui.session import Session

PER_MODULE = 100
ARGS = ["-q", "-p", "no:cacheprovider"]
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|xfailed|errors?)")


def generate(folder: Path, tests: int) -> None:
    """``tests`` tests in modules of PER_MODULE; every 50th test skips, fails or xfails."""
    folder.mkdir()
    for module in range(0, tests, PER_MODULE):
        lines = ["import pytest", ""]
        for n in range(module, min(module + PER_MODULE, tests)):
            if n % 50 == 10:
                lines += [f"def test_{n}():", "    pytest.skip('generated skip')", ""]
            elif n % 50 == 20:
                lines += [f"def test_{n}():", f"    assert {n} == -1", ""]
            elif n % 50 == 30:
                lines += ["@pytest.mark.xfail", f"def test_{n}():", "    assert False", ""]
            else:
                lines += [f"def test_{n}():", f"    assert {n} + 1 > {n}", ""]
        (folder / f"test_gen_{module // PER_MODULE:03d}.py").write_text("\n".join(lines))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def direct(session: Session, env: str, cwd: str) -> tuple[float, float, dict[str, int]]:
    lines: list[str] = []
    cpu, start = children_cpu(), time.perf_counter()
    session.exec(env, ["python", "-m", "pytest", *ARGS], cwd=cwd,
                 on_output=lambda _s, line: lines.append(line))
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    counts = {word.rstrip("s") if word.startswith("error") else word: int(n)
              for n, word in SUMMARY.findall(lines[-1])}
    return seconds, cpu, counts


def through_case(
    session: Session, env: str, folder: str
) -> tuple[float, float, list[CaseResult]]:
    emitted: list[CaseResult] = []
    token = CancelToken()
    isolation = session.get_env(env).isolation

    def run_in_env(argv: Sequence[str], **options: Any) -> ExecResult:
        return session.exec(env, argv, cancel=token, **options)

    ctx = CaseContext(
        run_id="bench", suite="bench", env=env, isolation=isolation, cancel=token,
        timeout=None, variables={}, exec=run_in_env, emit=emitted.append,
        object_info=lambda n: None, object_kind=lambda n: "",
    )
    case = PytestCase(CaseSpec("gen", "pytest", {"cwd": folder, "args": ARGS}))
    cpu, start = children_cpu(), time.perf_counter()
    results = list(case.run(ctx))
    return time.perf_counter() - start, children_cpu() - cpu, results


def bench_env(session: Session, env: str, cwd: str, runs: int) -> list[str]:
    direct(session, env, cwd)  # warm: bytecode, page cache
    through_case(session, env, "gen")
    plain, cased, plain_cpu, cased_cpu = [], [], [], []
    for _ in range(runs):
        seconds, cpu, counts = direct(session, env, cwd)
        plain.append(seconds)
        plain_cpu.append(cpu)
        seconds, cpu, results = through_case(session, env, "gen")
        cased.append(seconds)
        cased_cpu.append(cpu)
        tally = Counter(r.status for r in results)
        if {k: tally.get(k, 0) for k in counts} != counts:
            raise SystemExit(f"results {dict(tally)} differ from pytest's {counts}")
    level = session.get_env(env).isolation
    overhead = statistics.median(cased) - statistics.median(plain)
    rows = [
        summarise(f"{level}: python -m pytest -q (direct)", plain).row(),
        summarise(f"{level}: pytest case (per-test results)", cased).row(),
        f"| {level}: overhead (median wall) | | {overhead:+.3f} s "
        f"({overhead / statistics.median(plain):+.1%}) | | |",
    ]
    if level != "docker":  # a container's processes are not our children
        extra = statistics.median(cased_cpu) - statistics.median(plain_cpu)
        rows += [
            summarise(f"{level}: pytest process CPU (direct)", plain_cpu).row(),
            summarise(f"{level}: pytest process CPU (case)", cased_cpu).row(),
            f"| {level}: overhead (median CPU) | | {extra:+.3f} s "
            f"({extra / statistics.median(plain_cpu):+.1%}) | | |",
        ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--docker", action="store_true", help="also in a docker env")
    options = parser.parse_args()
    root = new_workspace()
    session = Session.open(workspace=root, environ={})
    rows = ["| what | runs | median s | min s | max s |", "| --- | --- | --- | --- | --- |"]
    try:
        generate(root / "gen", options.tests)
        session.create_env("v", isolation="virtualenv")
        session.install("v", ["pytest"])
        rows += bench_env(session, "v", "gen", options.runs)
        if options.docker:
            session.create_env("d", isolation="docker")
            session.install("d", ["pytest"])
            mount = session.config.docker.mount_path.rstrip("/")
            rows += bench_env(session, "d", f"{mount}/gen", options.runs)
    finally:
        for env in ("v", "d"):
            with contextlib.suppress(Exception):  # not created
                session.delete_env(env)
        session.close()
        remove(root)
    print(f"{options.tests} generated tests, median of {options.runs} runs\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
