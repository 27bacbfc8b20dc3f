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
from pathlib import Path

from _util import BIN, PTEST, clean_env, docker_ready, new_workspace, remove, time_command

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


def bench_uv(runs: int) -> str:
    work = Path(tempfile.mkdtemp(prefix="bench-uv-"))
    env = clean_env()
    uv = str(BIN / "uv")

    def argv(i: int) -> list[str]:
        target = work / f"v{i}"
        script = (
            f"{uv} venv -q --python {sys.executable} {target} && "
            f"{uv} pip install -q --python {target}/bin/python {' '.join(SET)}"
        )
        return ["sh", "-c", script]

    try:
        subprocess.run(argv(999), env=env, check=True, capture_output=True)  # warm
        return time_command("uv venv && uv pip install (same set)", argv, runs, cwd=work,
                            env=env).row()
    finally:
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
    args = parser.parse_args()
    print("| command | runs | median s | min s | max s |\n| --- | --- | --- | --- | --- |")
    print(bench_ptest("virtualenv", args.runs), flush=True)
    print(bench_uv(args.runs), flush=True)
    tox_row = bench_tox(args.runs)
    if tox_row:
        print(tox_row, flush=True)
    if not args.skip_docker and docker_ready(IMAGE):
        print(bench_ptest("docker", args.runs), flush=True)


if __name__ == "__main__":
    main()
