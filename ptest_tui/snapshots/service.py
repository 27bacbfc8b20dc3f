"""SnapshotService: the snapshot operations of one session (``Session.snapshots``)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.snapshots.archive import Limits, export_archive, import_archive
from ptest_tui.snapshots.blobs import BlobStore
from ptest_tui.snapshots.diff import SnapshotDiff, diff
from ptest_tui.snapshots.errors import SnapshotCorruptError
from ptest_tui.snapshots.manifest import Manifest
from ptest_tui.snapshots.rebuild import RebuildOutcome
from ptest_tui.snapshots.records import RebuildJournal, SnapshotRecord, SnapshotRecords

if TYPE_CHECKING:
    from ptest_tui.session import Session


class SnapshotService:
    """Create, list, show, delete, diff, restore, export and import snapshots; migrate envs."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.root = session.workspace.state_dir / "snapshots"
        self.blobs = BlobStore(self.root)
        self.records = SnapshotRecords(session.store)
        self.journal = RebuildJournal(session.store)

    # -- the store ------------------------------------------------------------------------

    def store_manifest(self, manifest: Manifest, origin: str) -> SnapshotRecord:
        """Store a manifest (blobs already stored) and its record; the existing one if known."""
        sha = self.blobs.put_bytes(manifest.to_json())
        record = SnapshotRecord(
            id=sha[:12], env=manifest.env, isolation=manifest.isolation, manifest=sha,
            tag=manifest.tag, message=manifest.message,
            files=sum(e.kind == "file" for e in manifest.files), bytes=manifest.file_bytes,
            packages=len(manifest.pins), origin=origin, created_at=manifest.created_at,
        )
        if not self.records.insert(record):
            return self.records.get(record.id)
        return record

    def manifest(self, record: SnapshotRecord) -> Manifest:
        """The record's manifest, checked against its hash."""
        manifest = Manifest.from_json(self.blobs.read_bytes(record.manifest))
        if manifest.sha256 != record.manifest:
            raise SnapshotCorruptError(
                f"snapshot {record.id}'s manifest does not match its hash",
                "delete it with `ptest-tui snapshot delete`",
            )
        return manifest

    # -- operations -----------------------------------------------------------------------

    def create(
        self,
        env: str,
        *,
        tag: str | None = None,
        message: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        container_fs: bool = False,
        cancel: CancelToken | None = None,
    ) -> SnapshotRecord:
        """Snapshot ``env``: its lock, HOME files (filtered) and settings."""
        from ptest_tui.snapshots.capture import take

        return take(self, env, tag=tag, message=message, include=include, exclude=exclude,
                    container_fs=container_fs, cancel=cancel)[0]

    def all(self, env: str | None = None) -> list[SnapshotRecord]:
        """Stored snapshots, oldest first."""
        return self.records.all(env)

    def get(self, ref: str) -> SnapshotRecord:
        """A snapshot by id, unique id prefix or unique tag."""
        return self.records.get(ref)

    def show(self, ref: str) -> tuple[SnapshotRecord, Manifest]:
        """A snapshot and its manifest."""
        record = self.records.get(ref)
        return record, self.manifest(record)

    def referenced(self) -> set[str]:
        """Every blob some stored snapshot needs (manifests included)."""
        needed: set[str] = set()
        for record in self.records.all():
            needed.add(record.manifest)
            # An unreadable manifest keeps nothing alive but itself.
            with contextlib.suppress(Exception):
                needed |= self.manifest(record).blobs()
        return needed

    def delete(self, ref: str) -> tuple[SnapshotRecord, int]:
        """Forget a snapshot; its content is freed unless other snapshots share it."""
        record = self.records.get(ref)
        self.records.delete(record.id)
        _count, freed = self.blobs.collect(self.referenced)
        return record, freed

    def diff(self, a: str, b: str) -> SnapshotDiff:
        """Packages, files and settings that differ from ``a`` to ``b``."""
        ra, rb = self.records.get(a), self.records.get(b)
        return diff(ra.id, self.manifest(ra), rb.id, self.manifest(rb))

    def restore(
        self, ref: str, as_name: str | None = None, cancel: CancelToken | None = None
    ) -> RebuildOutcome:
        """Rebuild the snapshot's env (or ``as_name``), verified; atomic over an existing env."""
        from ptest_tui.snapshots.restore import restore

        return restore(self, ref, as_name, cancel)

    def migrate(
        self,
        env: str,
        to: str,
        *,
        keep_source: bool = False,
        smoke: Sequence[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> RebuildOutcome:
        """Move ``env`` to another isolation level (see ptest_tui.snapshots.migrate)."""
        from ptest_tui.snapshots.migrate import migrate

        return migrate(self, env, to, keep_source=keep_source, smoke=smoke, cancel=cancel)

    def export(self, ref: str, path: str | Path) -> tuple[SnapshotRecord, int]:
        """Write one archive with the snapshot, its content and a manifest of hashes."""
        return export_archive(self, ref, path)

    def import_(
        self, path: str | Path, limits: Limits | None = None
    ) -> tuple[SnapshotRecord, bool]:
        """Check an archive completely, then store it; (record, new here)."""
        return import_archive(self, path, limits)

    def usage(self) -> dict[str, Any]:
        """Snapshots and the blob store's size."""
        count, size = self.blobs.usage()
        return {"snapshots": len(self.records.all()), "blobs": count, "bytes": size,
                "location": str(self.root)}

    def recover(self) -> list[str]:
        """Undo or finish rebuilds a killed process left (runs on every Session start)."""
        from ptest_tui.snapshots.swap import recover

        return recover(self.session)
