"""Package install benchmarks (issue 3), side by side with uv and tox in one run.

The set `requests flask django attrs pyyaml click jinja2 pydantic sqlalchemy pytest`
(28 distributions with their dependencies), warm caches (each tool runs once before timing):

1. `ptest-tui env create NAME --isolation virtualenv --package ...` (whole process);
2. `uv venv D && uv pip install --python D/bin/python ...` (the yardstick);
3. tox 4 with default settings (`skip_install = true`, the set as `deps`), a fresh env per run;
4. `ptest-tui env create NAME --isolation docker --package ...` when Docker and the base
   image are available;
5. the same ptest-tui env created again: every package from the cache (index requests 0).

Run: .venv/bin/python benchmarks/bench_packages.py [--runs 5]   (needs tox: pip install '.[bench]')
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import (
    BIN,
    PTEST,
    clean_env,
    docker_ready,
    new_workspace,
    remove,
    summarise,
    time_command,
)

SET = [
    "requests", "flask", "django", "attrs", "pyyaml", "click", "jinja2", "pydantic",
    "sqlalchemy", "pytest",
]
IMAGE = "ptest-tui/python:3.11"


def package_flags() -> list[str]:
    flags: list[str] = []
    for requirement in SET:
        flags += ["--package", requirement]
    return flags


def bench_ptest(level: str, runs: int) -> str:
    ws = new_workspace()
    env = clean_env()

    def delete(i: int) -> None:
        subprocess.run([PTEST, "env", "delete", f"{level[0]}{i}", "--yes"], cwd=ws, env=env,
                       capture_output=True, check=True)

    try:
        # Warm the shared cache once.
        subprocess.run([PTEST, "env", "create", "warm", "--isolation", level, *package_flags()],
                       cwd=ws, env=env, capture_output=True, check=True)
        timing = time_command(
            f"ptest-tui env create --isolation {level} + 10 packages",
            lambda i: [PTEST, "env", "create", f"{level[0]}{i}", "--isolation", level,
                       *package_flags()],
            runs, cwd=ws, env=env, after=delete,
        )
        count = subprocess.run(
            [PTEST, "pkg", "list", "warm", "--json"], cwd=ws, env=env,
            capture_output=True, text=True, check=False,
        ).stdout.count('"name"')
        print(f"<!-- {level}: {count} distributions installed -->", file=sys.stderr)
        return timing.row()
    finally:
        subprocess.run([PTEST, "env", "cleanup"], cwd=ws, env=env, capture_output=True,
                       check=False)
        subprocess.run([PTEST, "env", "delete", "warm", "--yes", "--force"], cwd=ws, env=env,
                       capture_output=True, check=False)
        remove(ws)


def bench_interleaved(runs: int) -> list[str]:
    """ptest-tui (virtualenv) and plain uv, alternating run by run.

    Both revalidate index pages over the network when their cache entries are stale, so
    taking turns keeps network weather from favouring one side.
    """
    ws = new_workspace()
    work = Path(tempfile.mkdtemp(prefix="bench-uv-"))
    env = clean_env()
    uv = str(BIN / "uv")

    def uv_argv(i: int) -> list[str]:
        target = work / f"v{i}"
        script = (
            f"{uv} venv -q --python {sys.executable} {target} && "
            f"{uv} pip install -q --python {target}/bin/python {' '.join(SET)}"
        )
        return ["sh", "-c", script]

    def ptest_argv(i: int) -> list[str]:
        return [PTEST, "env", "create", f"v{i}", "--isolation", "virtualenv", *package_flags()]

    def timed(argv: list[str], cwd: Path) -> float:
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    try:
        timed(uv_argv(999), work)  # warm both caches
        timed(ptest_argv(999), ws)
        ptest_samples, uv_samples = [], []
        for i in range(runs):
            ptest_samples.append(timed(ptest_argv(i), ws))
            uv_samples.append(timed(uv_argv(i), work))
        return [
            summarise("ptest-tui env create --isolation virtualenv + 10 packages",
                      ptest_samples).row(),
            summarise("uv venv && uv pip install (same set)", uv_samples).row(),
        ]
    finally:
        remove(ws)
        shutil.rmtree(work, ignore_errors=True)


def bench_tox(runs: int) -> str | None:
    tox = shutil.which("tox", path=str(BIN))
    if tox is None:
        print("tox is not installed: pip install '.[bench]'", file=sys.stderr)
        return None
    work = Path(tempfile.mkdtemp(prefix="bench-tox-"))
    (work / "tox.ini").write_text(
        "[tox]\nskipsdist = true\nenvlist = bench\n\n[testenv:bench]\nskip_install = true\n"
        "deps =\n" + "".join(f"    {r}\n" for r in SET) + "commands = python -c pass\n"
    )
    env = clean_env()
    try:
        subprocess.run([tox, "-e", "bench"], cwd=work, env=env, check=True, capture_output=True)
        return time_command(
            "tox 4 (defaults, fresh env each run)",
            lambda _i: [tox, "-e", "bench", "--recreate"],
            runs, cwd=work, env=env,
        ).row()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--skip-tox", action="store_true")
    args = parser.parse_args()
    print("| command | runs | median s | min s | max s |\n| --- | --- | --- | --- | --- |")
    for row in bench_interleaved(args.runs):
        print(row, flush=True)
    tox_row = None if args.skip_tox else bench_tox(args.runs)
    if tox_row:
        print(tox_row, flush=True)
    if not args.skip_docker and docker_ready(IMAGE):
        print(bench_ptest("docker", args.runs), flush=True)


if __name__ == "__main__":
    main()
