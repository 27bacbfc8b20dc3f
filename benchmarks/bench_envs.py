"""Environment creation benchmarks (issue 2), side by side with the usual tools.

1. An empty virtualenv env, the whole `ptest-tui env create` process, against
   `python -m venv` (with pip, its default), `virtualenv` (default seeding) and `uv venv`.
2. A docker env ready (container up, python runs) from the local image, against
   `docker run --rm IMAGE python3 -c pass`.
3. 100 environments created in parallel by one `ptest-tui env create --count 100` command:
   total time and peak RSS of the ptest-tui process (virtualenv, and docker when available).

Run: .venv/bin/python benchmarks/bench_envs.py [--runs 10] [--skip-docker]
Prints markdown tables for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys

from _util import (
    BIN,
    PTEST,
    clean_env,
    docker_ready,
    new_workspace,
    remove,
    run_with_peak_rss,
    time_command,
)

IMAGE = "ptest-tui/python:3.11"


def bench_virtualenv(runs: int) -> list[str]:
    ws = new_workspace()
    env = clean_env()
    rows = []
    try:
        rows.append(
            time_command(
                "ptest-tui env create (virtualenv, empty)",
                lambda i: [PTEST, "env", "create", f"v{i}", "--isolation", "virtualenv"],
                runs,
                cwd=ws,
                env=env,
            ).row()
        )
        rows.append(
            time_command(
                "uv venv --python (same interpreter, no ptest-tui)",
                lambda i: [str(BIN / "uv"), "venv", "-q", "--python", sys.executable,
                           str(ws / f"uv{i}")],
                runs,
                cwd=ws,
                env=env,
            ).row()
        )
        rows.append(
            time_command(
                "virtualenv (default seeding)",
                lambda i: [str(BIN / "virtualenv"), "-q", "--python", sys.executable,
                           str(ws / f"ve{i}")],
                runs,
                cwd=ws,
                env=env,
            ).row()
        )
        rows.append(
            time_command(
                "python -m venv (with pip)",
                lambda i: [sys.executable, "-m", "venv", str(ws / f"pv{i}")],
                max(3, runs // 3),
                cwd=ws,
                env=env,
            ).row()
        )
    finally:
        remove(ws)
    return rows


def bench_docker(runs: int) -> list[str]:
    ws = new_workspace()
    env = clean_env()
    rows = []
    try:
        rows.append(
            time_command(
                "ptest-tui env create (docker, ready)",
                lambda i: [PTEST, "env", "create", f"d{i}", "--isolation", "docker"],
                runs,
                cwd=ws,
                env=env,
                after=lambda i: subprocess.run(
                    [PTEST, "env", "delete", f"d{i}", "--yes"], cwd=ws, env=env,
                    capture_output=True, check=True,
                ),
            ).row()
        )
        rows.append(
            time_command(
                "docker run --rm IMAGE python3 -c pass",
                lambda i: ["docker", "run", "--rm", "--network", "none", IMAGE, "python3", "-c",
                           "pass"],
                runs,
                cwd=ws,
                env=env,
            ).row()
        )
    finally:
        subprocess.run([PTEST, "env", "cleanup"], cwd=ws, env=env, capture_output=True,
                       check=False)
        remove(ws)
    return rows


def bench_parallel(level: str, count: int) -> str:
    ws = new_workspace()
    try:
        seconds, peak, code, err = run_with_peak_rss(
            [PTEST, "env", "create", "p", "--count", str(count), "--isolation", level, "--json"],
            ws,
        )
        listing = subprocess.run(
            [PTEST, "env", "list", "--json"], cwd=ws, capture_output=True, text=True, check=True
        )
        envs = json.loads(listing.stdout)
        ready = sum(1 for e in envs if e["status"] == "ready")
        if code != 0:
            print(err, file=sys.stderr)
        return (
            f"| {count} {level} envs, one `env create --count {count}` | {seconds:.2f} |"
            f" {peak / 1024**2:.0f} MiB | {ready} | {count - ready} |"
        )
    finally:
        subprocess.run([PTEST, "env", "cleanup"], cwd=ws, capture_output=True, check=False)
        if level == "docker":
            names = [f"p-{i}" for i in range(1, count + 1)]
            subprocess.run([PTEST, "env", "delete", *names, "--yes", "--force"], cwd=ws,
                           capture_output=True, check=False)
        remove(ws)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--skip-docker", action="store_true")
    args = parser.parse_args()
    docker = not args.skip_docker and docker_ready(IMAGE)
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()},"
          f" Python {platform.python_version()}\n")
    print("| command | runs | median s | min s | max s |\n| --- | --- | --- | --- | --- |")
    for row in bench_virtualenv(args.runs):
        print(row, flush=True)
    if docker:
        for row in bench_docker(args.runs):
            print(row, flush=True)
    print("\n| scenario | total s | peak RSS of ptest-tui | ready | failed |")
    print("| --- | --- | --- | --- | --- |")
    print(bench_parallel("virtualenv", args.count), flush=True)
    if docker:
        print(bench_parallel("docker", args.count), flush=True)


if __name__ == "__main__":
    main()
