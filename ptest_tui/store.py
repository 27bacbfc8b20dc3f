"""The workspace state store: one SQLite database in WAL mode under ``.ptest/``.

Every state change is one transaction. The schema (store_schema.py) carries a version
and is migrated forward on open; a database written by a newer ptest-tui is refused
rather than guessed at.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ptest_tui.errors import EnvNotFoundError, StoreError, UsageError
from ptest_tui.store_schema import MIGRATIONS, SCHEMA_VERSION

STATUSES = ("creating", "ready", "busy", "broken", "deleting")
TRANSIENT = ("creating", "busy", "deleting")


@dataclass(frozen=True)
class EnvRecord:
    """One environment as stored."""

    name: str
    isolation: str
    status: str
    spec: dict[str, Any]
    reason: str = ""
    location: str = ""
    engine_state: dict[str, Any] = field(default_factory=dict)
    owner_pid: int | None = None
    owner_start: float | None = None
    session: str = ""
    error: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    package_count: int | None = None  # installed distributions, as last seen

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``env show --json``)."""
        return {
            "name": self.name,
            "isolation": self.isolation,
            "status": self.status,
            "reason": self.reason,
            "location": self.location,
            "spec": self.spec,
            "engine_state": self.engine_state,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "package_count": self.package_count,
        }


@dataclass(frozen=True)
class Transition:
    """One recorded status change."""

    env: str
    old: str
    new: str
    note: str
    at: float


class Store:
    """Thread-safe access to the workspace database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the state folder {path.parent}: {exc.strerror}",
                "make sure it is a writable folder (not a file)",
            ) from None
        try:
            self._conn = sqlite3.connect(
                str(path), timeout=30.0, check_same_thread=False, isolation_level=None
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open state store {path}: {exc}",
                "move the .ptest folder away to start fresh (its environments will be lost)",
            ) from None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction; rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"state store {self.path} has schema {version}, newer than this"
                    f" ptest-tui understands ({SCHEMA_VERSION})",
                    "upgrade ptest-tui",
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")

    # -- environments -------------------------------------------------------------------

    @staticmethod
    def _record(row: sqlite3.Row) -> EnvRecord:
        return EnvRecord(
            name=row["name"],
            isolation=row["isolation"],
            status=row["status"],
            spec=json.loads(row["spec"]),
            reason=row["reason"],
            location=row["location"],
            engine_state=json.loads(row["engine_state"]),
            owner_pid=row["owner_pid"],
            owner_start=row["owner_start"],
            session=row["session"],
            error=row["error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            package_count=row["package_count"],
        )

    def insert_env(self, record: EnvRecord) -> EnvRecord:
        """Claim a name atomically; a duplicate raises UsageError and changes nothing."""
        now = time.time()
        record = replace(record, created_at=now, updated_at=now)
        try:
            with self.transaction() as conn:
                conn.execute(
                    "INSERT INTO environments (name, isolation, status, spec, reason, location,"
                    " engine_state, owner_pid, owner_start, session, error, created_at,"
                    " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        record.name,
                        record.isolation,
                        record.status,
                        json.dumps(record.spec, sort_keys=True),
                        record.reason,
                        record.location,
                        json.dumps(record.engine_state, sort_keys=True),
                        record.owner_pid,
                        record.owner_start,
                        record.session,
                        record.error,
                        now,
                        now,
                    ),
                )
                self._log_transition(conn, record.name, "", record.status, "claimed", now)
        except sqlite3.IntegrityError:
            raise UsageError(
                f"environment {record.name!r} already exists",
                "pick another name, or delete it first with `ptest-tui env delete`",
            ) from None
        return record

    def get_env(self, name: str) -> EnvRecord:
        """The stored environment, or EnvNotFoundError."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM environments WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise EnvNotFoundError(
                f"environment {name!r} does not exist", "see `ptest-tui env list`"
            )
        return self._record(row)

    def find_env(self, name: str) -> EnvRecord | None:
        """The stored environment or None."""
        try:
            return self.get_env(name)
        except EnvNotFoundError:
            return None

    def list_envs(self) -> list[EnvRecord]:
        """All environments, by name."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM environments ORDER BY name").fetchall()
        return [self._record(row) for row in rows]

    def update_env(
        self,
        name: str,
        *,
        status: str | None = None,
        expect: tuple[str, ...] | None = None,
        note: str = "",
        **changes: Any,
    ) -> EnvRecord:
        """Change fields (and optionally status) in one transaction.

        ``expect`` makes the change conditional on the current status, so two processes
        cannot both move an environment out of the same state.
        """
        now = time.time()
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM environments WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise EnvNotFoundError(
                    f"environment {name!r} does not exist", "see `ptest-tui env list`"
                )
            current = self._record(row)
            if expect is not None and current.status not in expect:
                raise UsageError(
                    f"environment {name!r} is {current.status}",
                    f"this needs it to be {' or '.join(expect)}",
                )
            columns: dict[str, Any] = {}
            for key, value in changes.items():
                columns[key] = (
                    json.dumps(value, sort_keys=True) if key in ("spec", "engine_state") else value
                )
            if status is not None:
                columns["status"] = status
            columns["updated_at"] = now
            assignments = ", ".join(f"{key} = ?" for key in columns)
            conn.execute(
                f"UPDATE environments SET {assignments} WHERE name = ?",  # noqa: S608 - keys are ours
                (*columns.values(), name),
            )
            if status is not None and status != current.status:
                self._log_transition(conn, name, current.status, status, note, now)
            row = conn.execute("SELECT * FROM environments WHERE name = ?", (name,)).fetchone()
        return self._record(row)

    def set_package_count(self, name: str, count: int) -> None:
        """Remember how many distributions ``name`` has (a no-op for a deleted env)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE environments SET package_count = ? WHERE name = ?", (count, name)
            )

    def delete_env(self, name: str, note: str = "deleted") -> None:
        """Remove the environment's row (its resources must already be gone)."""
        now = time.time()
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT status FROM environments WHERE name = ?", (name,)
            ).fetchone()
            conn.execute("DELETE FROM environments WHERE name = ?", (name,))
            conn.execute("DELETE FROM env_leases WHERE env = ?", (name,))
            if row is not None:
                self._log_transition(conn, name, row["status"], "", note, now)

    # -- leases (commands running in an env) -------------------------------------------

    def acquire_lease(self, name: str, pid: int, started: float | None, purpose: str) -> int:
        """Record a command starting in a ready or busy env (which becomes busy)."""
        now = time.time()
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT status FROM environments WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise EnvNotFoundError(
                    f"environment {name!r} does not exist", "see `ptest-tui env list`"
                )
            if row["status"] not in ("ready", "busy"):
                raise UsageError(
                    f"environment {name!r} is {row['status']}", "it must be ready to run commands"
                )
            cursor = conn.execute(
                "INSERT INTO env_leases (env, pid, started, purpose, at) VALUES (?,?,?,?,?)",
                (name, pid, started, purpose[:200], now),
            )
            if row["status"] == "ready":
                conn.execute(
                    "UPDATE environments SET status = 'busy', updated_at = ? WHERE name = ?",
                    (now, name),
                )
                self._log_transition(conn, name, "ready", "busy", "running a command", now)
            return int(cursor.lastrowid or 0)

    def release_lease(self, lease_id: int) -> bool:
        """A command ended; the env goes back to ready when no other command runs.

        Returns True when that happened (busy -> ready).
        """
        now = time.time()
        with self.transaction() as conn:
            row = conn.execute("SELECT env FROM env_leases WHERE id = ?", (lease_id,)).fetchone()
            if row is None:
                return False  # the env was force-deleted meanwhile
            conn.execute("DELETE FROM env_leases WHERE id = ?", (lease_id,))
            return self._settle_busy(conn, row["env"], now, "commands finished")

    def leases(self, name: str) -> list[tuple[int, int, float | None, str]]:
        """Running commands of an env: (lease id, pid, start time, purpose)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, pid, started, purpose FROM env_leases WHERE env = ? ORDER BY id",
                (name,),
            ).fetchall()
        return [(r["id"], r["pid"], r["started"], r["purpose"]) for r in rows]

    def _settle_busy(self, conn: sqlite3.Connection, name: str, now: float, note: str) -> bool:
        """busy -> ready when no lease is left; True if it changed."""
        left = conn.execute("SELECT COUNT(*) FROM env_leases WHERE env = ?", (name,)).fetchone()
        status = conn.execute(
            "SELECT status FROM environments WHERE name = ?", (name,)
        ).fetchone()
        if left[0] == 0 and status is not None and status["status"] == "busy":
            conn.execute(
                "UPDATE environments SET status = 'ready', updated_at = ? WHERE name = ?",
                (now, name),
            )
            self._log_transition(conn, name, "busy", "ready", note, now)
            return True
        return False

    def transitions(self, name: str) -> list[Transition]:
        """The status history of an environment, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT env, old, new, note, at FROM env_transitions WHERE env = ? ORDER BY id",
                (name,),
            ).fetchall()
        return [Transition(*tuple(row)) for row in rows]

    def recover_stale(self, owner_alive: Callable[[int | None, float | None], bool]) -> list[str]:
        """Mark environments left transient by a dead process as broken; return their names."""
        recovered: list[str] = []
        placeholders = ",".join("?" for _ in TRANSIENT)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT name, status, owner_pid, owner_start FROM environments"  # noqa: S608
                f" WHERE status IN ({placeholders})",
                TRANSIENT,
            ).fetchall()
        for row in rows:
            if row["status"] == "busy":
                if self._recover_leases(row["name"], owner_alive):
                    recovered.append(row["name"])
                continue
            if owner_alive(row["owner_pid"], row["owner_start"]):
                continue
            was = row["status"]
            new = "broken"
            error = f"interrupted while {was} (the process was killed)"
            try:
                self.update_env(
                    row["name"],
                    status=new,
                    expect=(was,),
                    note="recovered after the owning process died",
                    error=error,
                    owner_pid=None,
                    owner_start=None,
                )
            except UsageError:
                continue  # another process recovered it first
            recovered.append(row["name"])
        return recovered

    def _recover_leases(
        self, name: str, owner_alive: Callable[[int | None, float | None], bool]
    ) -> bool:
        """Drop leases of dead processes; True if the env went back to ready."""
        dead = [lease for lease in self.leases(name) if not owner_alive(lease[1], lease[2])]
        with self.transaction() as conn:
            for lease_id, *_ in dead:
                conn.execute("DELETE FROM env_leases WHERE id = ?", (lease_id,))
            return self._settle_busy(
                conn, name, time.time(), "recovered after the commands' process died"
            )

    @staticmethod
    def _log_transition(
        conn: sqlite3.Connection, env: str, old: str, new: str, note: str, at: float
    ) -> None:
        conn.execute(
            "INSERT INTO env_transitions (env, old, new, note, at) VALUES (?,?,?,?,?)",
            (env, old, new, note, at),
        )
