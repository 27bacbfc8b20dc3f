"""Errors of snapshots, restores, archives and migrations: one line each, with a hint."""

from __future__ import annotations

from ptest_tui.errors import PtestError, UsageError


class SnapshotError(PtestError):
    """A snapshot, restore or migration failed while acting (disk full, engine failed)."""


class SnapshotNotFoundError(UsageError):
    """No snapshot has that id (or tag); nothing was changed."""


class SnapshotCorruptError(SnapshotError):
    """A stored snapshot's content no longer matches its hashes."""


class ArchiveError(UsageError):
    """An archive to import is hostile, tampered with or not a snapshot; nothing was written."""


class VerificationError(SnapshotError):
    """A rebuilt environment differs from its snapshot; it was removed, the old env kept."""


def not_found(ref: str) -> SnapshotNotFoundError:
    """The error for an unknown (or deleted) snapshot id, prefix or tag."""
    return SnapshotNotFoundError(
        f"snapshot {ref!r} does not exist (deleted, or never taken here)",
        "see `ptest-tui snapshot list`",
    )
