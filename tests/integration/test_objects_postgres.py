"""The postgres object against a real PostgreSQL server (initdb + postgres on the host)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.objects.base import ConnectionInfo
from ptest_tui.objects.postgres import PostgresObject
from ptest_tui.objects.server import ServerObject
from tests.conftest import need
from tests.integration import objects_support as scenarios
from tests.integration.objects_support import KindDriver, Objects, run

pytestmark = pytest.mark.db

TABLE = "CREATE TABLE IF NOT EXISTS kv (v text);"


class Postgres(KindDriver):
    """psql for data; PG_VERSION / pg_control for damage; a standby that never serves."""

    cls = PostgresObject
    good_init = ("schema.sql", "CREATE TABLE kv (v text);\nINSERT INTO kv VALUES ('seeded');\n")
    bad_init = (
        "schema.sql",
        "CREATE TABLE kv (v text);\nINSERT INTO kv VALUES ('seeded');\nSELEC oops;\n",
        3,
        'syntax error at or near "SELEC"',
    )

    def _psql(self, info: ConnectionInfo, sql: str) -> str:
        return run(["psql", info.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                    "-c", sql])

    def write(self, info: ConnectionInfo, value: str) -> None:
        self._psql(info, f"{TABLE} INSERT INTO kv VALUES ('{value}')")

    def read(self, info: ConnectionInfo) -> list[str]:
        return self._psql(info, f"{TABLE} SELECT v FROM kv ORDER BY v").split()

    def corrupt(self, data: Path) -> None:
        (data / "pg" / "PG_VERSION").unlink()

    def damage(self, data: Path) -> None:
        (data / "pg" / "global" / "pg_control").unlink()

    def hang(self, obj: ServerObject, data: Path) -> str:
        # A standby with no primary and hot_standby off waits for WAL forever and never
        # accepts connections: a real server that logs and never becomes ready.
        config = data / "pg" / "postgresql.auto.conf"
        before = config.read_text()
        config.write_text(before + "hot_standby = off\n")
        (data / "pg" / "standby.signal").touch()
        return before

    def unhang(self, obj: ServerObject, data: Path, state: str) -> None:
        (data / "pg" / "standby.signal").unlink()
        (data / "pg" / "postgresql.auto.conf").write_text(state)


@pytest.fixture
def objects(tmp_path: Path) -> Iterator[Objects]:
    made = Objects(Postgres(), tmp_path / "ws")
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
    objects = Objects(Postgres(), tmp_path / "ws")
    monkeypatch.setattr("ptest_tui.objects.postgres.PG_ROOT", tmp_path / "no-postgresql")
    scenarios.missing_programs(
        objects, monkeypatch, tmp_path / "empty", PostgresObject.packages_hint
    )
