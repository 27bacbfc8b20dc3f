"""Stored object records: what was added or declared, and the last known state.

States: ``stopped``, ``starting`` and ``stopping`` (transient: they carry the owning
process, so a killed ptest-tui is detected by the next one), ``running`` and ``failed``.
The live truth of a server is its pid file or container; a record only says what ptest-tui
last did to it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ptest_tui.errors import UsageError
from ptest_tui.store import Store

TRANSIENT = ("starting", "stopping")


@dataclass(frozen=True)
class ObjectRecord:
    """One object as stored."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)
    source: str = "cli"  # "cli" (obj add) or "config" (declared in ptest.toml)
    state: str = "stopped"
    owner_pid: int | None = None
    owner_start: float | None = None
    error: str = ""
    started_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


class ObjectRecords:
    """The ``objects`` table of the workspace store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _record(row: sqlite3.Row) -> ObjectRecord:
        return ObjectRecord(
            name=row["name"], kind=row["kind"], settings=json.loads(row["settings"]),
            source=row["source"], state=row["state"], owner_pid=row["owner_pid"],
            owner_start=row["owner_start"], error=row["error"], started_at=row["started_at"],
            created_at=row["created_at"], updated_at=row["updated_at"],
        )

    def find(self, name: str) -> ObjectRecord | None:
        """The record, or None."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM objects WHERE name = ?", (name,)).fetchone()
        return self._record(row) if row else None

    def all(self) -> list[ObjectRecord]:
        """Every record, by name."""
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT * FROM objects ORDER BY name").fetchall()
        return [self._record(row) for row in rows]

    def add(self, name: str, kind: str, settings: dict[str, Any], source: str) -> ObjectRecord:
        """Insert a new record; a name already taken is a usage error."""
        now = time.time()
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO objects (name, kind, settings, source, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?)",
                    (name, kind, json.dumps(settings, sort_keys=True), source, now, now),
                )
        except sqlite3.IntegrityError:
            raise UsageError(
                f"an object named {name!r} already exists",
                f"pick another name or remove it first: ptest-tui obj remove {name}",
            ) from None
        found = self.find(name)
        assert found is not None
        return found

    def ensure(self, name: str, kind: str, settings: dict[str, Any]) -> ObjectRecord:
        """The record of a declared object, created or refreshed from the config."""
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO objects (name, kind, settings, source, created_at, updated_at)"
                " VALUES (?,?,?,'config',?,?) ON CONFLICT(name) DO UPDATE SET"
                " kind = excluded.kind, settings = excluded.settings, source = 'config'",
                (name, kind, json.dumps(settings, sort_keys=True), now, now),
            )
        found = self.find(name)
        assert found is not None
        return found

    def set_state(
        self,
        name: str,
        state: str,
        *,
        owner: tuple[int, float] | None = None,
        error: str = "",
    ) -> None:
        """Record a new state (with its owner when transient)."""
        now = time.time()
        pid, started = owner if owner else (None, None)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE objects SET state = ?, owner_pid = ?, owner_start = ?, error = ?,"
                " updated_at = ?, started_at = CASE WHEN ? = 'running' THEN ?"
                " ELSE started_at END WHERE name = ?",
                (state, pid, started, error, now, state, now, name),
            )

    def delete(self, name: str) -> None:
        """Forget the object."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM objects WHERE name = ?", (name,))

    def stale(self, owner_alive: Callable[[int | None, float | None], bool]) -> list[ObjectRecord]:
        """Records left transient by a process that is gone."""
        return [
            record for record in self.all()
            if record.state in TRANSIENT and not owner_alive(record.owner_pid, record.owner_start)
        ]
