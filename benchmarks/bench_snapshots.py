"""Snapshot, restore and migration benchmarks (issue 6), warm cache.

The env holds the 28-distribution set of issue 3 (`requests flask django attrs pyyaml click
jinja2 pydantic sqlalchemy pytest` with their dependencies) and a working folder of 200
small files plus 1 MB of data. Each figure is the whole `ptest-tui` process, median of N:

1. `snapshot create ENV` (its files unchanged since the last snapshot, as usual);
2. `snapshot create ENV` after the working folder changed (every file new content);
3. `snapshot restore ID` over the existing virtualenv env (build beside, verify, switch);
4. `env migrate ENV --to docker` from a fresh virtualenv env (needs Docker and the base image);
5. the same through the Python API in one process (no interpreter start).

Run: .venv/bin/python benchmarks/bench_snapshots.py [--runs 5] [--skip-docker]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _util import PTEST, clean_env, docker_ready, new_workspace, remove, summarise, time_command

SET = [
    "requests", "flask", "django", "attrs", "pyyaml", "click", "jinja2", "pydantic",
    "sqlalchemy", "pytest",
]
IMAGE = "ptest-tui/python:3.11"


def ptest(ws: Path, *args: str) -> str:
    done = subprocess.run([PTEST, *args], cwd=ws, env=clean_env(), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ptest-tui {' '.join(args)} failed: {done.stderr[-800:]}")
    return done.stdout


def create_env(ws: Path, name: str) -> None:
    flags = [f for requirement in SET for f in ("--package", requirement)]
    ptest(ws, "env", "create", name, "--isolation", "virtualenv", *flags)
    fill(ws, name, "v1")


def fill(ws: Path, name: str, version: str) -> None:
    home = ws / ".ptest" / "envs" / name / "home"
    for i in range(200):
        folder = home / "src" / f"pkg{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module{i}.py").write_text(f"# {version}\nVALUE = {i}\n" * 20)
    (home / "data.bin").write_bytes(os.urandom(1 << 20) if version != "v1" else b"\1" * (1 << 20))


def bench_cli(ws: Path, runs: int, docker: bool) -> list[str]:
    create_env(ws, "v")
    count = len(json.loads(ptest(ws, "pkg", "list", "v", "--json")))
    print(f"<!-- {count} distributions installed -->", file=sys.stderr)
    ptest(ws, "snapshot", "create", "v")  # first snapshot: the blob store gets the content
    rows = [time_command("snapshot create (files unchanged)",
                         lambda _i: [PTEST, "snapshot", "create", "v"], runs, cwd=ws,
                         env=clean_env()).row()]
    rows.append(time_command(
        "snapshot create (all files changed, 201 files, 1.1 MB)",
        lambda _i: [PTEST, "snapshot", "create", "v"], runs, cwd=ws, env=clean_env(),
        before=lambda i: fill(ws, "v", f"v{i + 2}"),
    ).row())
    snapshot = json.loads(ptest(ws, "snapshot", "list", "v", "--json"))[0]["id"]
    rows.append(time_command(
        "snapshot restore over the existing virtualenv env",
        lambda _i: [PTEST, "snapshot", "restore", snapshot], runs, cwd=ws, env=clean_env(),
    ).row())
    if docker:
        rows.append(time_command(
            "env migrate virtualenv -> docker",
            lambda i: [PTEST, "env", "migrate", f"m{i}", "--to", "docker"], runs, cwd=ws,
            env=clean_env(), before=lambda i: create_env(ws, f"m{i}"),
            after=lambda i: ptest(ws, "env", "delete", f"m{i}", "--yes"),
        ).row())
    return rows


def bench_api(ws: Path, runs: int, docker: bool) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ptest_tui.session import Session

    rows = []
    with Session.open(workspace=ws) as session:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            record = session.snapshot("v")
            samples.append(time.perf_counter() - start)
        rows.append(summarise("API: session.snapshot (files unchanged)", samples).row())
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            session.restore(record.id)
            samples.append(time.perf_counter() - start)
        rows.append(summarise("API: session.restore over the existing env", samples).row())
        if docker:
            samples = []
            for i in range(runs):
                create_env(ws, f"a{i}")
                start = time.perf_counter()
                session.migrate(f"a{i}", "docker")
                samples.append(time.perf_counter() - start)
                session.delete_env(f"a{i}")
            rows.append(summarise("API: session.migrate virtualenv -> docker", samples).row())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-docker", action="store_true")
    args = parser.parse_args()
    docker = not args.skip_docker and docker_ready(IMAGE)
    ws = new_workspace()
    try:
        create_env(ws, "warm")  # fill the shared cache once
        print("| command | runs | median s | min s | max s |\n| --- | --- | --- | --- | --- |")
        for row in bench_cli(ws, args.runs, docker) + bench_api(ws, args.runs, docker):
            print(row, flush=True)
    finally:
        subprocess.run([PTEST, "env", "cleanup"], cwd=ws, env=clean_env(), capture_output=True,
                       check=False)
        for name in ("warm", "v", *[f"m{i}" for i in range(args.runs)],
                     *[f"a{i}" for i in range(args.runs)]):
            subprocess.run([PTEST, "env", "delete", name, "--yes", "--force"], cwd=ws,
                           env=clean_env(), capture_output=True, check=False)
        remove(ws)


if __name__ == "__main__":
    main()
