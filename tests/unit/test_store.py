"""The SQLite state store: claims, transitions, migrations and crash recovery."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from ptest_tui.errors import EnvNotFoundError, StoreError, UsageError
from ptest_tui.store import SCHEMA_VERSION, EnvRecord, Store
from ptest_tui.store_schema import MIGRATIONS


def record(name: str, status: str = "creating", pid: int | None = 1) -> EnvRecord:
    return EnvRecord(
        name=name, isolation="basic", status=status, spec={"name": name}, owner_pid=pid
    )


def test_new_store_is_wal_and_current_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    assert store.schema_version() == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "state.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_insert_is_an_atomic_claim(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.insert_env(record("a"))
    with pytest.raises(UsageError) as info:
        store.insert_env(record("a"))
    assert "already exists" in info.value.message
    assert [r.name for r in store.list_envs()] == ["a"]


def test_parallel_claims_only_one_wins(tmp_path: Path) -> None:
    stores = [Store(tmp_path / "state.db") for _ in range(8)]
    wins: list[int] = []

    def claim(i: int) -> None:
        try:
            stores[i].insert_env(record("same"))
            wins.append(i)
        except UsageError:
            pass

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_update_records_transitions(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.insert_env(record("a"))
    store.update_env("a", status="ready", expect=("creating",), note="created")
    store.update_env("a", status="deleting", note="delete")
    history = [(t.old, t.new) for t in store.transitions("a")]
    assert history == [("", "creating"), ("creating", "ready"), ("ready", "deleting")]


def test_conditional_update_refuses_wrong_state(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.insert_env(record("a", status="ready"))
    with pytest.raises(UsageError):
        store.update_env("a", status="ready", expect=("creating",))
    assert store.get_env("a").status == "ready"


def test_json_fields_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.insert_env(record("a"))
    store.update_env("a", engine_state={"container": "abc", "limits": [1, 2]})
    assert store.get_env("a").engine_state == {"container": "abc", "limits": [1, 2]}


def test_missing_env(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    with pytest.raises(EnvNotFoundError):
        store.get_env("nope")
    assert store.find_env("nope") is None


def test_recover_stale_marks_dead_owners_broken(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.insert_env(record("dead-create", "creating", pid=111))
    store.insert_env(record("dead-delete", "deleting", pid=111))
    store.insert_env(record("dead-busy", "busy", pid=111))
    store.insert_env(record("alive", "creating", pid=222))
    store.insert_env(record("fine", "ready", pid=None))
    recovered = store.recover_stale(lambda pid, _start: pid == 222)
    assert sorted(recovered) == ["dead-busy", "dead-create", "dead-delete"]
    statuses = {r.name: r.status for r in store.list_envs()}
    assert statuses == {
        "alive": "creating",
        "dead-busy": "ready",
        "dead-create": "broken",
        "dead-delete": "broken",
        "fine": "ready",
    }
    assert "interrupted while creating" in store.get_env("dead-create").error


def test_a_first_version_database_is_migrated_and_keeps_its_envs(tmp_path: Path) -> None:
    # A state.db written by the first release: only migration 1, one ready env.
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[1] + ";PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO environments (name, isolation, status, spec, created_at, updated_at)"
        " VALUES ('old', 'basic', 'ready', '{\"name\": \"old\"}', 1.0, 2.0)"
    )
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    old = store.get_env("old")
    assert (old.status, old.spec, old.package_count) == ("ready", {"name": "old"}, None)
    store.set_package_count("old", 3)  # a column added by a later migration
    assert store.get_env("old").package_count == 3


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        Store(path)
    assert "upgrade ptest-tui" in info.value.hint


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        Store(path)
