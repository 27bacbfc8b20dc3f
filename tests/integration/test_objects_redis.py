"""The redis object against a real Redis server (redis-server on the host)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError
from ptest_tui.objects.base import ConnectionInfo
from ptest_tui.objects.host_tools import ToolError
from ptest_tui.objects.redis import RedisObject
from ptest_tui.objects.server import ServerObject
from tests.conftest import need
from tests.integration import objects_support as scenarios
from tests.integration.objects_support import KindDriver, Objects, data_folder, make_fifo, run

pytestmark = pytest.mark.db


class Redis(KindDriver):
    """redis-cli for data (a set named kv); the append-only files for damage and hangs."""

    cls = RedisObject
    good_init = ("seed.redis", "# seed data\nSADD kv seeded\n")
    bad_init = ("seed.redis", "SADD kv seeded\n\nLPUSH kv oops\nSADD kv never\n", 3,
                "WRONGTYPE Operation against a key holding the wrong kind of value")

    def cli(self, info: ConnectionInfo, *command: str) -> str:
        password = info.extra.get("password", "")
        return run(
            ["redis-cli", "-h", info.host, "-p", str(info.port), "-n", info.extra["database"],
             *command],
            env={"REDISCLI_AUTH": password} if password else {},
        )

    def write(self, info: ConnectionInfo, value: str) -> None:
        assert self.cli(info, "SADD", "kv", value).strip() == "1"

    def read(self, info: ConnectionInfo) -> list[str]:
        return sorted(self.cli(info, "SMEMBERS", "kv").split())

    def corrupt(self, data: Path) -> None:
        for path in (data / "appendonlydir").iterdir():
            path.unlink()
        (data / "appendonlydir").rmdir()

    def damage(self, data: Path) -> None:
        with open(self._incr_file(data), "ab") as incr:
            incr.write(b"garbage\r\nnot a command\r\n")

    def _incr_file(self, data: Path) -> Path:
        manifest = (data / "appendonlydir" / "appendonly.aof.manifest").read_text()
        names = [line.split()[1] for line in manifest.splitlines() if line.endswith("type i")]
        return data / "appendonlydir" / names[-1]

    def hang(self, obj: ServerObject, data: Path) -> bytes:
        # Redis opens its incremental append-only file for writing at startup, after it has
        # logged; a named pipe there blocks that open forever (a hung disk, in effect).
        incr = self._incr_file(data)
        content = incr.read_bytes()
        make_fifo(incr, obj)
        return content

    def unhang(self, obj: ServerObject, data: Path, state: bytes) -> None:
        incr = self._incr_file(data)
        incr.unlink()
        incr.write_bytes(state)
        account = obj.account
        if account is not None:
            import os

            os.chown(incr, account.uid, account.gid)


@pytest.fixture
def objects(tmp_path: Path) -> Iterator[Objects]:
    made = Objects(Redis(), tmp_path / "ws")
    need("db", made("probe").unavailable_reason())
    yield made
    made.cleanup()


def test_lifecycle_keeps_data_across_stop_restart_and_kill(objects: Objects) -> None:
    scenarios.lifecycle(objects)


def test_init_script_error_names_script_and_line_and_leaves_nothing(objects: Objects) -> None:
    scenarios.bad_init_script(objects)


def test_pinned_port_taken_is_refused_and_auto_moves_on(objects: Objects) -> None:
    scenarios.pinned_port_taken(objects)


def test_corrupted_data_folder_fails_with_fresh_hint(objects: Objects) -> None:
    scenarios.corrupted_data(objects)


def test_start_timeout_shows_last_log_lines(objects: Objects) -> None:
    scenarios.start_timeout(objects)


def test_missing_programs_are_reported_with_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = Objects(Redis(), tmp_path / "ws")
    scenarios.missing_programs(objects, monkeypatch, tmp_path / "empty", RedisObject.packages_hint)


def test_password_and_database_number(objects: Objects) -> None:
    init = objects.file("seed.redis", 'SET greeting "hello world"\n')
    obj = objects("cache", password="s3cret-pw", database=3, init=[init])
    info = obj.start(CancelToken())
    assert info.url == f"redis://:s3cret-pw@127.0.0.1:{info.port}/3"
    assert obj.url(info.port or 0, reveal=False) == f"redis://:***@127.0.0.1:{info.port}/3"
    assert info.extra == {"password": "s3cret-pw", "database": "3"}
    driver = Redis()
    assert driver.cli(info, "GET", "greeting").strip() == "hello world"  # init used db 3
    assert driver.cli(info, "-n", "0", "DBSIZE").strip() == "0"
    # Without the password the server refuses; the password is in no process's arguments.
    refused = run(["redis-cli", "-h", "127.0.0.1", "-p", str(info.port), "PING"])
    assert "NOAUTH" in refused
    pid = obj.pid()
    assert pid is not None
    assert b"s3cret" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    config = data_folder(obj) / "redis.conf"
    assert config.stat().st_mode & 0o777 == 0o600
    assert 'requirepass "s3cret-pw"' in config.read_text()
    obj.stop()


def test_no_password_by_default(objects: Objects) -> None:
    obj = objects("cache")
    info = obj.start(CancelToken())
    assert info.url == f"redis://127.0.0.1:{info.port}/0"
    assert run(["redis-cli", "-u", info.url, "PING"]).strip() == "PONG"
    assert "requirepass" not in (data_folder(obj) / "redis.conf").read_text()
    obj.stop()


@pytest.mark.parametrize("database", [16, -1, "two", True])
def test_database_must_be_a_number_0_to_15(objects: Objects, database: object) -> None:
    with pytest.raises(UsageError, match="database must be a Redis database number"):
        objects("cache", database=database).start(CancelToken())
    assert objects.running() == []


def test_init_command_redis_cli_cannot_parse_names_its_line(objects: Objects) -> None:
    init = objects.file("seed.redis", 'SET a 1\nSET b "unterminated\n')
    with pytest.raises(ToolError, match=r"^cache: seed.redis line 2: Invalid argument"):
        objects("cache", init=[init]).start(CancelToken())
