"""Resolution and consistency-check benchmarks (issue 3), with the tools they compete with.

1. Warm resolution of a 30-package set (`Session.plan_install`, the engine behind
   `pkg install --dry-run`), against `uv pip install --dry-run` and `pip install --dry-run`
   on the same set from the same find-links folder.
2. `pkg check` (`Session.check_packages`) over 200 installed distributions, against
   `pip check` on the same environment.

Everything comes from tiny wheels built here (no network). Times are medians of N runs
inside one Python process for the API rows, whole processes for the tool rows.
Run: .venv/bin/python benchmarks/bench_resolve_check.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _util import BIN, REPO, clean_env, remove, summarise, time_command

sys.path.insert(0, str(REPO))
from ptest_tui.session import Session
from tests.support.wheels import build_wheel

CHECK_COUNT = 200


def api_timing(label: str, work: Callable[[], object], runs: int) -> str:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return summarise(label, samples).row()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-resolve-"))
    wheels = root / "wheels"
    for i in range(1, 31):
        build_wheel(wheels, f"bulk-{i}", "1.0")
    # 200 distributions, each requiring the next one (a long chain makes check do work).
    for i in range(CHECK_COUNT):
        requires = [f"chain-{i + 1}>=1.0"] if i + 1 < CHECK_COUNT else []
        build_wheel(wheels, f"chain-{i}", "1.0", requires=requires)
    ws = root / "ws"
    ws.mkdir()
    (ws / "ptest.toml").write_text(
        f'[packages]\nfind_links = ["{wheels}"]\noffline = true\n'
    )
    os.environ["PTEST_CACHE_DIR"] = str(root / "cache")
    env = clean_env() | {"PTEST_CACHE_DIR": str(root / "cache"), "UV_NO_CONFIG": "1",
                         "UV_CACHE_DIR": str(root / "cache" / "uv"),
                         "PIP_CONFIG_FILE": os.devnull}
    bulk = [f"bulk-{i}" for i in range(1, 31)]
    try:
        with Session.open(workspace=ws, environ={}) as session:
            session.create_env("r", isolation="virtualenv")
            session.plan_install("r", bulk)  # warm the cache
            python = session.get_env("r").engine_state["python"]
            print("| command | runs | median s | min s | max s |\n| --- | --- | --- | --- | --- |")
            print(api_timing("Session.plan_install, 30 packages (warm)",
                             lambda: session.plan_install("r", bulk), args.runs), flush=True)
            print(time_command(
                "uv pip install --dry-run, 30 packages (warm)",
                lambda _i: [str(BIN / "uv"), "pip", "install", "--dry-run", "--offline",
                            "--no-index", "--find-links", str(wheels), "--python", python,
                            *bulk],
                args.runs, cwd=ws, env=env,
            ).row(), flush=True)
            print(time_command(
                "pip install --dry-run, 30 packages (warm)",
                lambda _i: [str(BIN / "pip"), "--python", python, "install", "--dry-run",
                            "--no-index", "--find-links", str(wheels), *bulk],
                max(3, args.runs // 3), cwd=ws, env=env,
            ).row(), flush=True)
            session.create_env("c", isolation="virtualenv")
            session.install("c", ["chain-0"])
            count = len(session.packages("c"))
            cpython = session.get_env("c").engine_state["python"]
            print(api_timing(f"Session.check_packages, {count} distributions",
                             lambda: session.check_packages("c"), args.runs), flush=True)
            print(time_command(
                f"ptest-tui pkg check, {count} distributions (whole process)",
                lambda _i: [str(BIN / "ptest-tui"), "pkg", "check", "c"],
                args.runs, cwd=ws, env=env,
            ).row(), flush=True)
            print(time_command(
                f"pip check, {count} distributions",
                lambda _i: [str(BIN / "pip"), "--python", cpython, "check"],
                max(3, args.runs // 3), cwd=ws, env=env,
            ).row(), flush=True)
    finally:
        remove(root)


if __name__ == "__main__":
    main()
