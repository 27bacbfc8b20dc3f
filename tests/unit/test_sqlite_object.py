"""The sqlite object: schema and seed, all-or-nothing builds, SQL errors with their line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError
from ptest_tui.objects.base import ConnectionInfo, ObjectSpec
from ptest_tui.objects.sqlite import SqliteError, SqliteObject
from tests.support.objects import object_context


def make(tmp_path: Path, **settings: str) -> SqliteObject:
    spec = ObjectSpec("appdb", "sqlite", dict(settings))
    return SqliteObject(spec, object_context(tmp_path))


def test_schema_and_seed_build_a_real_database(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"
    )
    (tmp_path / "seed.sql").write_text(
        "INSERT INTO users (name) VALUES ('ada');\nINSERT INTO users (name)\n  VALUES ('bob');\n"
    )
    db = make(tmp_path, schema="schema.sql", seed="seed.sql")
    info = db.start(CancelToken())
    assert info.url == f"sqlite:///{db.path}"
    with sqlite3.connect(db.path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM users ORDER BY id")] == ["ada", "bob"]
    assert db.status().healthy
    # Data is kept across restarts unless fresh.
    with sqlite3.connect(db.path) as conn:
        conn.execute("INSERT INTO users (name) VALUES ('cy')")
    db.restart(CancelToken())
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 3
    db.start(CancelToken(), fresh=True)
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 2


def test_sql_error_names_the_script_line_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE t (x INTEGER);\n\nINSERT INTO nope VALUES (1);\n"
    )
    db = make(tmp_path, schema="schema.sql")
    with pytest.raises(SqliteError) as info:
        db.start(CancelToken())
    assert "schema.sql line 3" in info.value.message and "no such table: nope" in info.value.message
    assert not db.path.exists()
    assert not db.status().running


def test_missing_script_is_usage_error_before_anything(tmp_path: Path) -> None:
    db = make(tmp_path, schema="missing.sql")
    with pytest.raises(UsageError):
        db.start(CancelToken())
    assert not db.folder.exists()


def test_connection_environment_variables() -> None:
    info = ConnectionInfo(host="127.0.0.1", port=5432, url="postgresql://u@127.0.0.1:5432/db")
    env = info.environment("app-db")
    assert env == {
        "PTEST_OBJ_APP_DB_HOST": "127.0.0.1",
        "PTEST_OBJ_APP_DB_PORT": "5432",
        "PTEST_OBJ_APP_DB_URL": "postgresql://u@127.0.0.1:5432/db",
    }


def test_remove_deletes_the_data(tmp_path: Path) -> None:
    db = make(tmp_path, path="data/app.sqlite")
    db.start(CancelToken())
    assert (tmp_path / "data" / "app.sqlite").exists()
    db.remove()
    assert not (tmp_path / "data" / "app.sqlite").exists()
