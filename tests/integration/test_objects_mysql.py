"""The mysql and mariadb objects against a real MariaDB server (mariadbd on the host)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.objects.base import ConnectionInfo
from ptest_tui.objects.mysql import SOCKET_FOLDER, MariadbObject, MysqlObject
from ptest_tui.objects.server import ServerObject
from tests.conftest import need
from tests.integration import objects_support as scenarios
from tests.integration.objects_support import KindDriver, Objects, data_folder, make_fifo, run

pytestmark = pytest.mark.db

TABLE = "CREATE TABLE IF NOT EXISTS kv (v varchar(50));"


class Mariadb(KindDriver):
    """The mariadb client for data; system tables and ibdata1 for damage."""

    cls: type[ServerObject] = MariadbObject
    good_init = ("schema.sql",
                 "CREATE TABLE kv (v varchar(50));\nINSERT INTO kv VALUES ('seeded');\n")
    bad_init = (
        "schema.sql",
        "CREATE TABLE kv (v varchar(50));\n\nINSERT INTO kv\n  VALUES ('seeded');\nSELEC oops\n"
        "  FROM kv;\n",
        5,
        "ERROR 1064 (42000): You have an error in your SQL syntax",
    )

    def sql(self, info: ConnectionInfo, statements: str, user: str = "") -> str:
        return run(
            ["mariadb", "--no-defaults", "--protocol=TCP", "-h", info.host,
             "-P", str(info.port), "-u", user or info.extra["user"],
             f"--database={info.extra['database']}", "--batch", "--skip-column-names",
             "-e", statements],
            env={"MYSQL_PWD": info.extra["password"]},
        )

    def write(self, info: ConnectionInfo, value: str) -> None:
        self.sql(info, f"{TABLE} INSERT INTO kv VALUES ('{value}')")

    def read(self, info: ConnectionInfo) -> list[str]:
        return self.sql(info, f"{TABLE} SELECT v FROM kv ORDER BY v").split()

    def corrupt(self, data: Path) -> None:
        (data / "db" / "mysql" / "db.frm").unlink()

    def damage(self, data: Path) -> None:
        with open(data / "db" / "ibdata1", "r+b") as ibdata:
            ibdata.write(bytes(16384))  # the system tablespace's header page

    def hang(self, obj: ServerObject, data: Path) -> bytes:
        # mariadbd reads mysql.plugin's table definition early in its startup, after its
        # first log lines; a named pipe there blocks the open forever.
        frm = data / "db" / "mysql" / "plugin.frm"
        content = frm.read_bytes()
        make_fifo(frm, obj)
        return content

    def unhang(self, obj: ServerObject, data: Path, state: bytes) -> None:
        frm = data / "db" / "mysql" / "plugin.frm"
        frm.unlink()
        frm.write_bytes(state)
        account = obj.account
        if account is not None:
            os.chown(frm, account.uid, account.gid)


class Mysql(Mariadb):
    """The same server under the mysql kind name."""

    cls = MysqlObject


@pytest.fixture
def objects(tmp_path: Path) -> Iterator[Objects]:
    made = Objects(Mariadb(), tmp_path / "ws")
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
    objects = Objects(Mariadb(), tmp_path / "ws")
    monkeypatch.setattr("ptest_tui.objects.mysql.SERVER_FOLDERS", ())
    scenarios.missing_programs(
        objects, monkeypatch, tmp_path / "empty", MariadbObject.packages_hint
    )


def test_mysql_kind_user_database_and_accounts(tmp_path: Path) -> None:
    objects = Objects(Mysql(), tmp_path / "ws")
    need("db", objects("probe").unavailable_reason())
    try:
        obj = objects("app", user="app_user", password="pw-1.x", database="app_db")
        info = obj.start(CancelToken())
        assert info.url == f"mysql://app_user:pw-1.x@127.0.0.1:{info.port}/app_db"
        assert info.extra == {"user": "app_user", "password": "pw-1.x", "database": "app_db"}
        driver = Mysql()
        driver.write(info, "x")
        # The user may create databases (test runners do) and read the grant tables: no
        # password-less account is left (root is reachable by the socket only, with the
        # same password), so root over TCP is refused.
        driver.sql(info, "CREATE DATABASE test_app_db; DROP DATABASE test_app_db")
        accounts = driver.sql(
            info, "SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1"
        ).split()
        assert accounts == ["app_user@%", "mariadb.sys@localhost", "root@localhost"]
        refused = subprocess.run(
            ["mariadb", "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1",
             "-P", str(info.port), "-u", "root", "-e", "SELECT 1"],
            capture_output=True, text=True, check=False, timeout=60,
        )
        assert refused.returncode != 0 and "Access denied" in refused.stderr
        assert b"pw-1.x" not in Path(f"/proc/{obj.pid()}/cmdline").read_bytes()
        obj.stop()
    finally:
        objects.cleanup()


def test_long_workspace_path_puts_the_socket_in_tmp(tmp_path: Path) -> None:
    # A workspace the server's account can reach keeps its data inside it: with a long path
    # the socket goes to /tmp under a hashed name, removed at stop (also after a crash).
    base = Path(tempfile.mkdtemp(prefix="ptest-sock-"))
    try:
        base.chmod(0o755)
        objects = Objects(Mariadb(), base / ("w" * 60) / ("s" * 40))
        for folder in (base / ("w" * 60), objects.root):
            folder.chmod(0o755)
        need("db", objects("probe").unavailable_reason())
        try:
            obj = objects("db")
            assert isinstance(obj, MysqlObject)
            info = obj.start(CancelToken())
            assert not (obj.folder / "data").is_symlink()
            socket = obj.socket_path(data_folder(obj))
            assert socket.parent == SOCKET_FOLDER and socket.exists()
            assert Mariadb().read(info) == []
            obj.stop()
            assert not socket.exists()
            obj.start(CancelToken())
            obj.process.kill()
            assert socket.exists()  # a killed server leaves it...
            obj.stop()
            assert not socket.exists()  # ...and stop removes it
        finally:
            objects.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)
