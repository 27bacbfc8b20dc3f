"""Time to ready for test objects (issue 4), beside testcontainers-python.

Rows (median of N runs, seconds, through the Session API as `obj start` uses it):
- sqlite: build the file from schema + seed SQL;
- postgres (process): first start including initdb, and a restart (stop, then start);
- redis (process): first start, restart;
- mariadb (process): first start including mariadb-install-db, restart;
- postgres (docker runtime): first start, restart, when the objects image is there;
- testcontainers-python: a PostgreSQL container from the same local image, started and
  waited for the same way testcontainers does it (generic DockerContainer + wait for the
  ready log line), when the image and the testcontainers package are there.

Run: .venv/bin/python benchmarks/bench_objects.py [--runs 5] [--skip-docker]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _util import REPO, summarise

sys.path.insert(0, str(REPO))
from ptest_tui.session import Session

OBJECTS_IMAGE = "ptest-tui/objects:bookworm"


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def bench_kind(session: Session, name: str, runs: int) -> list[str]:
    """First start (fresh data) and restart rows for one declared object."""
    objects = session.objects
    reason = objects.instance(name).unavailable_reason()
    if reason:
        return [f"| {name} | skipped: {reason} | | | |"]
    first, restart = [], []
    for _ in range(runs):
        objects.stop(name)
        first.append(timed(lambda: objects.start(name, fresh=True)))
        objects.stop(name)
        restart.append(timed(lambda: objects.start(name)))
    objects.remove(name)
    kind = objects.spec(name).kind
    runtime = objects.instance(name).runtime
    return [
        summarise(f"{kind} ({runtime}) first start", first).row(),
        summarise(f"{kind} ({runtime}) restart", restart).row(),
    ]


def bench_testcontainers(runs: int) -> list[str]:
    """A PostgreSQL container started and awaited the testcontainers way."""
    # Ryuk, testcontainers' reaper, is an image from Docker Hub; there is no registry here,
    # so it is off (the containers are stopped by the benchmark itself).
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    try:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs
    except ImportError:
        return ["| testcontainers-python | skipped: pip install testcontainers | | | |"]
    import docker

    client = docker.from_env()
    try:
        client.images.get(OBJECTS_IMAGE)
    except docker.errors.ImageNotFound:
        return [f"| testcontainers-python | skipped: no local image {OBJECTS_IMAGE} | | | |"]
    pg_bin = client.containers.run(
        OBJECTS_IMAGE, ["sh", "-c", "ls -d /usr/lib/postgresql/*/bin | tail -1"], remove=True
    ).decode().strip()
    # What the official image's entrypoint does: initdb as the postgres user, then run the
    # server listening on all addresses with password authentication.
    script = (
        f"mkdir -p /tmp/pg && chown postgres /tmp/pg && "
        f"su postgres -c '{pg_bin}/initdb -D /tmp/pg/data -U test --auth=trust -E UTF8"
        f" --locale=C --no-sync >/dev/null && exec {pg_bin}/postgres -D /tmp/pg/data"
        f" -c listen_addresses=* -c unix_socket_directories=/tmp/pg'"
    )
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        container = DockerContainer(OBJECTS_IMAGE).with_command(["sh", "-c", script])
        container.with_exposed_ports(5432)
        container.start()
        try:
            wait_for_logs(container, "database system is ready to accept connections", 60)
            container.get_exposed_port(5432)
            samples.append(time.perf_counter() - start)
        finally:
            container.stop()
    return [summarise("testcontainers-python postgres container start", samples).row()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-docker", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-objects-"))
    os.environ["PTEST_CACHE_DIR"] = str(root / "cache")
    ws = root / "ws"
    (ws / "db").mkdir(parents=True)
    (ws / "db" / "schema.sql").write_text(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
    )
    (ws / "db" / "seed.sql").write_text(
        "".join(f"INSERT INTO notes (body) VALUES ('note {i}');\n" for i in range(100))
    )
    docker_rows = "" if args.skip_docker else f"""
[objects.pgdocker]
kind = "postgres"
runtime = "docker"
image = "{OBJECTS_IMAGE}"
"""
    (ws / "ptest.toml").write_text(f"""
[objects.notes]
kind = "sqlite"
schema = "db/schema.sql"
seed = "db/seed.sql"

[objects.pg]
kind = "postgres"
init = ["db/schema.sql"]

[objects.cache]
kind = "redis"

[objects.maria]
kind = "mariadb"
{docker_rows}""")
    rows = ["| object | runs | median s | min s | max s |", "|---|---|---|---|---|"]
    with Session.open(workspace=ws, environ={}) as session:
        for name in session.objects.specs():
            try:
                rows += bench_kind(session, name, args.runs)
            except Exception as exc:  # one kind failing must not hide the others
                rows.append(f"| {name} | failed: {exc} | | | |")
    if not args.skip_docker:
        rows += bench_testcontainers(args.runs)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
