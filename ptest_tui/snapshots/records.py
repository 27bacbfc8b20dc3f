"""Snapshot rows and the rebuild journal in the workspace store (schema version 5)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ptest_tui.errors import UsageError
from ptest_tui.snapshots.errors import not_found

if TYPE_CHECKING:
    from ptest_tui.store import Store

MIN_PREFIX = 4


@dataclass(frozen=True)
class SnapshotRecord:
    """One stored snapshot: its id, what it was taken of, and its manifest's hash."""

    id: str
    env: str
    isolation: str
    manifest: str
    tag: str = ""
    message: str = ""
    files: int = 0
    bytes: int = 0
    packages: int = 0
    origin: str = "created"  # created, imported or migrate
    created_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``snapshot list --json``)."""
        return {
            "id": self.id,
            "env": self.env,
            "isolation": self.isolation,
            "tag": self.tag,
            "message": self.message,
            "files": self.files,
            "bytes": self.bytes,
            "packages": self.packages,
            "origin": self.origin,
            "created_at": self.created_at,
            "manifest_sha256": self.manifest,
        }


class SnapshotRecords:
    """The ``snapshots`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _record(row: sqlite3.Row) -> SnapshotRecord:
        return SnapshotRecord(**{key: row[key] for key in row.keys()})  # noqa: SIM118

    def insert(self, record: SnapshotRecord) -> bool:
        """Store a new snapshot; False when that id is already stored (same content)."""
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO snapshots (id, env, isolation, tag, message, manifest, files,"
                    " bytes, packages, origin, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (record.id, record.env, record.isolation, record.tag, record.message,
                     record.manifest, record.files, record.bytes, record.packages,
                     record.origin, record.created_at),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def all(self, env: str | None = None) -> list[SnapshotRecord]:
        """Snapshots, oldest first (of one env when given)."""
        with self.store.transaction() as conn:
            if env is None:
                rows = conn.execute("SELECT * FROM snapshots ORDER BY created_at, id").fetchall()
            else:
                rows = conn.execute(
                    "SELECT * FROM snapshots WHERE env = ? ORDER BY created_at, id", (env,)
                ).fetchall()
        return [self._record(row) for row in rows]

    def get(self, ref: str) -> SnapshotRecord:
        """A snapshot by id, unique id prefix (4+ characters) or unique tag."""
        ref = ref.strip()
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT * FROM snapshots WHERE id = ?", (ref,)).fetchall()
            if not rows and len(ref) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in ref):
                rows = conn.execute(
                    "SELECT * FROM snapshots WHERE substr(id, 1, ?) = ?", (len(ref), ref)
                ).fetchall()
            if not rows and ref:
                rows = conn.execute("SELECT * FROM snapshots WHERE tag = ?", (ref,)).fetchall()
        if not rows:
            raise not_found(ref)
        if len(rows) > 1:
            ids = ", ".join(sorted(row["id"] for row in rows))
            raise UsageError(f"{ref!r} names several snapshots: {ids}", "give the full id")
        return self._record(rows[0])

    def delete(self, snapshot_id: str) -> None:
        """Forget one snapshot (its blobs are collected separately)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM snapshots WHERE id = ?", (snapshot_id,))


@dataclass(frozen=True)
class Rebuild:
    """A restore or migration in flight: what to undo or finish if its process dies."""

    id: str
    kind: str  # restore or migrate
    env: str  # the final name
    temp: str  # the temporary env the target is built as
    phase: str  # building, swapping or disposing
    detail: dict[str, Any] = field(default_factory=dict)
    owner_pid: int | None = None
    owner_start: float | None = None


class RebuildJournal:
    """The ``env_rebuilds`` table: one row per restore or migration in flight."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def begin(self, rebuild: Rebuild) -> None:
        """Record a rebuild before anything is built."""
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO env_rebuilds (id, kind, env, temp, phase, detail, owner_pid,"
                " owner_start, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (rebuild.id, rebuild.kind, rebuild.env, rebuild.temp, rebuild.phase,
                 json.dumps(rebuild.detail, sort_keys=True), rebuild.owner_pid,
                 rebuild.owner_start, now, now),
            )

    @staticmethod
    def set_phase(
        conn: sqlite3.Connection, rebuild_id: str, phase: str, detail: dict[str, Any]
    ) -> None:
        """Move a rebuild to ``phase`` inside the caller's transaction."""
        conn.execute(
            "UPDATE env_rebuilds SET phase = ?, detail = ?, updated_at = ? WHERE id = ?",
            (phase, json.dumps(detail, sort_keys=True), time.time(), rebuild_id),
        )

    def update(self, rebuild_id: str, phase: str, detail: dict[str, Any]) -> None:
        """Move a rebuild to ``phase`` in its own transaction."""
        with self.store.transaction() as conn:
            self.set_phase(conn, rebuild_id, phase, detail)

    def end(self, rebuild_id: str) -> None:
        """The rebuild finished or was undone."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM env_rebuilds WHERE id = ?", (rebuild_id,))

    def all(self) -> list[Rebuild]:
        """Every rebuild in flight."""
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT * FROM env_rebuilds ORDER BY created_at").fetchall()
        return [
            Rebuild(row["id"], row["kind"], row["env"], row["temp"], row["phase"],
                    json.loads(row["detail"]), row["owner_pid"], row["owner_start"])
            for row in rows
        ]

    def stale(self, owner_alive: Callable[[int | None, float | None], bool]) -> list[Rebuild]:
        """Rebuilds whose process is gone."""
        return [r for r in self.all() if not owner_alive(r.owner_pid, r.owner_start)]
