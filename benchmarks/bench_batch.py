"""Batch mode (issue 8): start-up to the first step, and parallel steps against serial ones.

1. Start-up: from process start to the first ``step_started`` NDJSON line of
   ``ptest-tui --batch plan.toml --json`` (a plan whose first step is a run of one command
   case in an existing basic env). Textual is never imported on this path. Target <= 0.4 s.
2. Parallelism: a plan of N envs (virtualenv by default) x 1 suite whose cases sleep, run
   with ``--parallel P`` and then with ``--parallel 1`` (the same steps one after another:
   envs created one by one, then one case at a time). Each plan creates its envs and
   removes them at the end (cleanup = "always"). Target: parallel >= 3x faster.

Run: .venv/bin/python benchmarks/bench_batch.py [--envs 20] [--parallel 8] [--sleep 0.5]
     [--level virtualenv|basic] [--runs 3] [--startup-runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from _util import PTEST, clean_env, new_workspace, remove, summarise


def first_step_seconds(ws: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first step_started line, seconds for the whole process)."""
    start = time.perf_counter()
    proc = subprocess.Popen([PTEST, "--batch", "startup.toml", "--json"], cwd=ws, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = 0.0
    for line in proc.stdout:
        if not first and '"event":"step_started"' in line:
            first = time.perf_counter() - start
    _out, err = proc.communicate()
    total = time.perf_counter() - start
    if proc.returncode != 0 or not first:
        raise SystemExit(f"startup plan failed ({proc.returncode}): {err[-500:]}")
    return first, total


def startup(runs: int, env: dict[str, str]) -> None:
    ws = new_workspace(
        '[envs.unit]\nisolation = "basic"\n\n[suites.s]\nenvs = ["unit"]\n\n'
        '[[suites.s.cases]]\nname = "ok"\nkind = "command"\ncommand = "true"\n'
    )
    try:
        (ws / "startup.toml").write_text('[[steps]]\nid = "tests"\nkind = "run"\n')
        subprocess.run([PTEST, "env", "create", "unit"], cwd=ws, env=env, check=True,
                       capture_output=True)
        first_step_seconds(ws, env)  # warm the bytecode and the page cache
        samples = [first_step_seconds(ws, env) for _ in range(runs)]
        first = summarise("process start -> first step_started line", [s[0] for s in samples])
        whole = summarise("whole `ptest-tui --batch` process (1 case)", [s[1] for s in samples])
        print("| what | runs | median s | min s | max s |")
        print("| --- | --- | --- | --- | --- |")
        print(first.row())
        print(whole.row())
    finally:
        remove(ws)


def matrix_workspace(envs: int, level: str, sleep: float, cases: int) -> Path:
    names = [f"e{i:02d}" for i in range(1, envs + 1)]
    text = "".join(f'[envs.{n}]\nisolation = "{level}"\n\n' for n in names)
    text += f"[suites.matrix]\nenvs = {names!r}\n\n".replace("'", '"')
    text += "".join(
        f'[[suites.matrix.cases]]\nname = "c{i}"\nkind = "command"\n'
        f'command = "sleep {sleep}"\n\n' for i in range(cases)
    )
    ws = new_workspace(text)
    (ws / "matrix.toml").write_text(
        '[plan]\nname = "matrix"\ncleanup = "always"\n\n'
        + "".join(f"[envs.{n}]\n" for n in names)
        + '\n[[steps]]\nid = "tests"\nkind = "run"\nsuites = ["matrix"]\n'
    )
    return ws


def timed_plan(ws: Path, parallel: int, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([PTEST, "--batch", "matrix.toml", "--quiet", "--parallel",
                           str(parallel)], cwd=ws, env=env, capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"matrix plan failed ({done.returncode}): {done.stdout[-500:]}"
                         f" {done.stderr[-500:]}")
    return seconds


def parallelism(args: argparse.Namespace, env: dict[str, str]) -> None:
    ws = matrix_workspace(args.envs, args.level, args.sleep, args.cases)
    try:
        timed_plan(ws, args.parallel, env)  # warm: interpreter discovery, caches
        fast = [timed_plan(ws, args.parallel, env) for _ in range(args.runs)]
        slow = [timed_plan(ws, 1, env) for _ in range(args.runs)]
        label = (f"{args.envs} {args.level} envs x 1 suite ({args.cases} case"
                 f"{'s' if args.cases > 1 else ''} of sleep {args.sleep:g} s)")
        print()
        print("| plan | runs | median s | min s | max s |")
        print("| --- | --- | --- | --- | --- |")
        print(summarise(f"{label}, --parallel {args.parallel}", fast).row())
        print(summarise(f"{label}, --parallel 1 (one after another)", slow).row())
        ratio = statistics.median(slow) / statistics.median(fast)
        print(f"\nspeed-up (median one-after-another / median parallel): {ratio:.1f}x")
    finally:
        remove(ws)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--cases", type=int, default=1)
    parser.add_argument("--level", choices=("virtualenv", "basic"), default="virtualenv")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--startup-runs", type=int, default=10)
    args = parser.parse_args()
    cache = new_workspace()
    env = clean_env() | {"PTEST_CACHE_DIR": str(cache / "cache")}
    try:
        startup(args.startup_runs, env)
        parallelism(args, env)
    finally:
        remove(cache)


if __name__ == "__main__":
    main()
