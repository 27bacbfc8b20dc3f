"""Test objects in containers, and the internal network docker envs share with them.

Real daemon, real PostgreSQL in ``ptest-tui/objects:bookworm`` (built offline by
``ptest-tui image build --packages postgresql,redis-server,mariadb-server``; .ci/prepare.sh
does it) and docker envs created through a Session like the other docker tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.docker_client import list_labelled
from ptest_tui.engines.docker_labels import workspace_filter
from ptest_tui.objects import container as runtime
from ptest_tui.objects.base import ObjectContext, ObjectSpec
from ptest_tui.objects.host_tools import ToolError
from ptest_tui.objects.network import network_name, remove_workspace_network, workspace_network
from ptest_tui.objects.postgres import PostgresObject
from ptest_tui.objects.server import ObjectUnavailableError
from ptest_tui.session import Session
from tests.conftest import need
from tests.integration.docker_support import engine_of
from tests.support.objects import object_context

pytestmark = pytest.mark.docker
PSQL = Path("/usr/lib/postgresql/15/bin/psql")


@pytest.fixture
def context(dsession: Session) -> Iterator[ObjectContext]:
    """An object context sharing the session's workspace key and Docker client.

    Afterwards every labelled resource of the workspace is gone (the leak check): objects
    removed, envs deleted, the objects network with them.
    """
    api = engine_of(dsession).api()
    import docker.errors

    try:
        api.inspect_image(runtime.DEFAULT_IMAGE)
    except docker.errors.ImageNotFound:
        need("docker", f"image {runtime.DEFAULT_IMAGE} missing (build it: ptest-tui image"
                       f" build --packages {runtime.IMAGE_PACKAGES})")
    base = object_context(dsession.workspace.root)
    ctx = dataclasses.replace(base, workspace_key=dsession.workspace.id, docker=lambda: api)
    yield ctx
    for resource in runtime.leftovers(cast(Any, SimpleNamespace(context=ctx)), set()):
        resource.remove()


def postgres(ctx: ObjectContext, name: str = "db", **settings: Any) -> PostgresObject:
    return PostgresObject(ObjectSpec(name, "postgres", {"runtime": "docker", **settings}), ctx)


def psql(url: str, sql: str) -> str:
    need("db", None if PSQL.is_file() else f"{PSQL} is not installed")
    done = subprocess.run(
        [str(PSQL), url, "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def ours(api: Any, key: str) -> list[tuple[str, str]]:
    """Every labelled container, volume and network of the workspace (kind, name)."""
    return sorted((r.kind, r.name) for r in list_labelled(api, workspace_filter(key)))


def test_postgres_container_keeps_data_across_restart_and_serves_host_clients(
    dsession: Session, context: ObjectContext
) -> None:
    (dsession.workspace.root / "init.sql").write_text(
        "CREATE TABLE notes (body text);\nINSERT INTO notes VALUES ('from init');\n"
    )
    db = postgres(context, init=["init.sql"])
    info = db.start(CancelToken())
    assert (info.host, info.extra["docker_host"], info.extra["docker_port"]) == (
        "127.0.0.1", "db", "5432"
    )
    assert info.extra["docker_url"] == "postgresql://ptest:ptest@db:5432/ptest"
    assert info.port == context.held_port("db")
    assert psql(info.url, "SELECT body FROM notes") == "from init"
    psql(info.url, "INSERT INTO notes VALUES ('kept')")
    status = db.status()
    assert status.running and status.healthy

    api = engine_of(dsession).api()
    name = runtime.container_name(context.workspace_key, "db")
    inspected = api.inspect_container(name)
    assert inspected["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert inspected["HostConfig"]["PortBindings"] == {
        "5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(info.port)}]
    }
    networks = inspected["NetworkSettings"]["Networks"]
    assert sorted(networks) == sorted(["bridge", network_name(context.workspace_key)])
    assert "db" in networks[network_name(context.workspace_key)]["Aliases"]
    assert inspected["Config"]["Labels"]["ptest.object"] == "db"
    assert "ready to accept connections" in (db.log_file() or Path()).read_text()

    db.stop()
    assert not db.status().running and context.held_port("db") is None
    # The container and the (now unused) network are gone; the data volume stays.
    assert ours(api, context.workspace_key) == [("volume", runtime.volume_name(
        context.workspace_key, "db"))]
    info = db.restart(CancelToken())
    assert psql(info.url, "SELECT body FROM notes ORDER BY body") == "from init\nkept"
    running = api.inspect_container(name)["Id"]
    assert db.start(CancelToken()).port == info.port  # running and answering: reused
    assert api.inspect_container(name)["Id"] == running

    api.kill(name)  # the whole container dies at once, as in a crash
    api.wait(name, timeout=30)
    assert db.status().detail == "crashed: its container exited with code 137"
    info = db.start(CancelToken())  # a new container on the same volume: PostgreSQL recovers
    assert psql(info.url, "SELECT body FROM notes ORDER BY body") == "from init\nkept"

    info = db.start(CancelToken(), fresh=True)  # a new volume: init runs again, "kept" is gone
    assert psql(info.url, "SELECT body FROM notes ORDER BY body") == "from init"
    db.remove()
    assert ours(api, context.workspace_key) == []


def test_failed_first_start_leaves_nothing_and_a_missing_image_is_named(
    dsession: Session, context: ObjectContext
) -> None:
    api = engine_of(dsession).api()
    (dsession.workspace.root / "bad.sql").write_text("CREATE TABLE t (x int);\nINSERT INTO nope;\n")
    with pytest.raises(ToolError, match=r"^db: bad\.sql line 2: ERROR: +syntax error"):
        postgres(context, init=["bad.sql"]).start(CancelToken())
    assert context.held_port("db") is None
    assert ours(api, context.workspace_key) == []

    missing = postgres(context, image="ptest-tui/no-such-image:1")
    with pytest.raises(ObjectUnavailableError) as caught:
        missing.start(CancelToken())
    assert caught.value.hint == (
        f"build it: ptest-tui image build --packages {runtime.IMAGE_PACKAGES}"
        " --tag ptest-tui/no-such-image:1"
    )
    assert missing.unavailable_reason() == caught.value.message
    assert ours(api, context.workspace_key) == []


def test_docker_env_reaches_its_objects_and_nothing_else(
    dsession: Session, context: ObjectContext
) -> None:
    """THE isolation test: an env with network "none" talks to ``db:5432`` only."""
    api = engine_of(dsession).api()
    db = postgres(context)
    db.start(CancelToken())
    objects = network_name(context.workspace_key)
    with host_listener() as port:
        bridge_gateway, objects_gateway = gateway(api, "bridge"), gateway(api, objects)
        dsession.create_env("iso", isolation="docker")  # network "none", the default
        dsession.create_env("online", isolation="docker", network="bridge")
        targets = {
            "db": ("db", 5432),
            "host via docker0": (bridge_gateway, port),
            "host via the objects bridge": (objects_gateway, port),
            "internet": ("1.1.1.1", 53),
        }
        with ThreadPoolExecutor(2) as pool:  # unreachable targets take the whole timeout
            reached, control = pool.map(lambda env: probe(dsession, env, targets),
                                        ["iso", "online"])
    assert reached == {"db": "postgres", "host via docker0": "unreachable",
                       "host via the objects bridge": "unreachable", "internet": "unreachable"}
    # The same host listener answers a bridge env: iso's failures are isolation, not a
    # dead target. Bridge envs reach the objects as well.
    assert control["db"] == "postgres" and control["host via docker0"] == "connected"

    dsession.delete_env("iso")
    dsession.delete_env("online")
    db.remove()
    assert ours(api, context.workspace_key) == []


def gateway(api: Any, network: str) -> str:
    """The host side of a bridge network (the default bridge's config may omit it)."""
    config = api.inspect_network(network)["IPAM"]["Config"][0]
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


PROBE = """
import socket, struct, sys, threading
targets = [(n, h, int(p)) for n, h, p in (a.split("|") for a in sys.argv[1:])]
found = {}
def one(name, host, port):
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            if port == 5432:  # a real PostgreSQL answers an SSLRequest with one byte
                s.sendall(struct.pack("!ii", 8, 80877103))
                found[name] = "postgres" if s.recv(1) in (b"N", b"S") else "other"
            else:
                found[name] = "connected"
    except OSError:
        found[name] = "unreachable"
threads = [threading.Thread(target=one, args=t) for t in targets]
[t.start() for t in threads]
[t.join() for t in threads]
for name, _h, _p in targets:
    print(name + "=" + found[name])
"""


def probe(session: Session, env: str, targets: dict[str, tuple[str, int]]) -> dict[str, str]:
    """Connect from inside ``env`` to each target at once; what each answered."""
    lines: list[str] = []
    argv = ["python3", "-c", PROBE, *(f"{n}|{h}|{p}" for n, (h, p) in targets.items())]
    result = session.exec(env, argv, on_output=lambda stream, line: lines.append(line)
                          if stream == "stdout" else None, timeout=60)
    assert result.exit_code == 0, lines
    return dict(line.split("=", 1) for line in lines)


@contextlib.contextmanager
def host_listener() -> Iterator[int]:
    """A TCP server on every host address (0.0.0.0) that accepts and closes; its port."""
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(16)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield int(server.getsockname()[1])
    finally:
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        server.close()


def test_objects_network_is_created_once_under_races_and_removed_when_unused(
    dsession: Session, context: ObjectContext
) -> None:
    api = engine_of(dsession).api()
    key = context.workspace_key
    names: list[str] = []
    threads = [
        threading.Thread(target=lambda: names.append(workspace_network(api, key)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert names == [network_name(key)] * 8
    found = api.networks(names=[network_name(key)])
    assert len(found) == 1
    info = api.inspect_network(found[0]["Id"])
    assert info["Internal"] is True
    assert info["Options"]["com.docker.network.bridge.inhibit_ipv4"] == "true"
    assert info["Labels"]["ptest.network"] == "objects"
    assert remove_workspace_network(api, key) is True
    assert remove_workspace_network(api, key) is False
    assert ours(api, key) == []


def test_cleanup_finds_what_a_killed_process_left(
    dsession: Session, context: ObjectContext
) -> None:
    # An object started, then forgotten (its ptest-tui killed, its config gone): the
    # container, the volume and, once the container goes, the network are leftovers.
    api = engine_of(dsession).api()
    postgres(context, "lost").start(CancelToken())
    dsession.create_env("e", isolation="docker")
    service = cast(Any, SimpleNamespace(context=context))
    assert runtime.leftovers(service, {"lost"}) == []
    found = runtime.leftovers(service, set())
    assert [(f.item.kind, f.item.env) for f in found] == [("container", "lost"), ("volume", "lost")]
    # The env uses the network: neither object cleanup nor env cleanup removes it yet.
    assert [left.kind for left in engine_of(dsession).leftovers({"e"})] == []
    for leftover in found:
        leftover.remove()
    dsession.delete_env("e")  # the last user: the network goes with it
    assert ours(api, context.workspace_key) == []
    shutil.rmtree(context.folder("lost"), ignore_errors=True)


@pytest.mark.slow
def test_objects_image_builds_from_the_cached_rootfs(dsession: Session, tmp_path: Path) -> None:
    # The packages rootfs is cached by .ci/prepare.sh's build; without it this would
    # download (about two minutes), so the test skips instead.
    import os
    import sys

    from ptest_tui.engines import image_sources as sources
    from ptest_tui.engines.rootfs import cache_dir

    packages = sources.check_packages([runtime.IMAGE_PACKAGES])
    cached = cache_dir() / sources.cache_name("bookworm", sources.include_for(packages))
    if not cached.is_file() or os.geteuid() != 0:
        pytest.skip(f"no cached rootfs {cached.name} (or not root): building would download")
    api = engine_of(dsession).api()
    tag = "ptest-tui/objects-test:bookworm"
    ptest = Path(sys.executable).with_name("ptest-tui")
    try:
        done = subprocess.run(
            [str(ptest), "image", "build", "--packages", runtime.IMAGE_PACKAGES, "--tag", tag,
             "--force"], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{tag}\n"
        assert "using cached" in done.stderr
        image_labels = api.inspect_image(tag)["Config"]["Labels"]
        assert image_labels["ptest.packages"] == ",".join(packages)
        assert image_labels["ptest.python"] == "3.11"
        # The programs, then no file of a default cluster or of default system tables.
        check = (
            "ls -d /usr/lib/postgresql/*/bin/postgres /usr/sbin/mariadbd /usr/bin/redis-server"
            " /usr/bin/setpriv && echo data: && find /var/lib/mysql /var/lib/postgresql"
            " /etc/postgresql -type f"
        )
        container = api.create_container(
            tag, ["sh", "-c", check], host_config=api.create_host_config(network_mode="none")
        )
        try:
            api.start(container)
            assert api.wait(container, timeout=60)["StatusCode"] == 0
            lines = api.logs(container).decode().split()
        finally:
            api.remove_container(container, force=True)
        assert lines == ["/usr/bin/redis-server", "/usr/bin/setpriv",
                         "/usr/lib/postgresql/15/bin/postgres", "/usr/sbin/mariadbd", "data:"]
    finally:
        with contextlib.suppress(Exception):
            api.remove_image(tag, force=True)


@pytest.mark.parametrize("kind", ["redis", "mariadb"])
def test_redis_and_mariadb_containers_keep_data_across_restart(
    context: ObjectContext, kind: str
) -> None:
    from ptest_tui.objects.mysql import MariadbObject
    from ptest_tui.objects.redis import RedisObject

    cls = RedisObject if kind == "redis" else MariadbObject
    client = shutil.which("redis-cli" if kind == "redis" else "mariadb")
    need("db", None if client else f"the {kind} client is not installed on the host")
    assert client is not None
    obj = cls(ObjectSpec("store", kind, {"runtime": "docker"}), context)

    def query(command: str) -> str:
        info = obj.connection()
        assert info.port is not None
        if kind == "redis":
            argv = [client, "-h", "127.0.0.1", "-p", str(info.port), *command.split()]
            env = None
        else:
            argv = [client, "-h", "127.0.0.1", "-P", str(info.port), "-u", info.extra["user"],
                    "-N", "-B", info.extra["database"], "-e", command]
            env = {"MYSQL_PWD": info.extra["password"], "PATH": "/usr/bin:/bin"}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                              env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    try:
        info = obj.start(CancelToken())
        assert info.extra["docker_host"] == "store" and obj.runtime == "docker"
        if kind == "redis":
            query("SET greeting hello")
        else:
            query("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('hello')")
        obj.restart(CancelToken())
        read = query("GET greeting") if kind == "redis" else query("SELECT v FROM t")
        assert read == "hello"
    finally:
        obj.remove()
