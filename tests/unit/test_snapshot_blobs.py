"""The content-addressed blob store: dedup, atomic writes, corruption, garbage collection."""

from __future__ import annotations

import fcntl
import hashlib
import io
from pathlib import Path

import pytest

from ptest_tui.snapshots.blobs import BlobStore
from ptest_tui.snapshots.errors import SnapshotCorruptError


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "snap")
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_bytes(b"same")
    second.write_bytes(b"same")
    sha, size = store.put_file(first)
    assert (sha, size) == (hashlib.sha256(b"same").hexdigest(), 4)
    assert store.put_file(second) == (sha, 4)
    assert store.usage() == (1, 4)
    assert store.put_bytes(b"other") != sha
    assert store.read_bytes(sha) == b"same"
    assert list((tmp_path / "snap" / "tmp").iterdir()) == []  # temp files renamed or removed


def test_limit_stops_reading(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha, size = store.put_stream(io.BytesIO(b"0123456789"), limit=4)
    assert size == 4 and store.read_bytes(sha) == b"0123"


def test_changed_or_missing_content_is_reported(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put_bytes(b"content")
    store.path(sha).write_bytes(b"tampered")
    with pytest.raises(SnapshotCorruptError, match="does not match its hash"):
        store.verify(sha)
    with pytest.raises(SnapshotCorruptError, match="does not match its hash"):
        store.read_bytes(sha)
    store.path(sha).unlink()
    with pytest.raises(SnapshotCorruptError, match="missing"):
        store.verify(sha)
    with pytest.raises(SnapshotCorruptError, match="not a sha256"):
        store.path("../../etc/passwd")


def test_collection_keeps_what_is_referenced_and_waits_for_users(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    keep, drop = store.put_bytes(b"keep"), store.put_bytes(b"drop")
    (tmp_path / "tmp" / "blob-leftover").write_bytes(b"half")  # a killed writer's temp file
    with store.using(), (tmp_path / "lock").open("a") as other:
        # Another process using the store: collection is skipped, not blocked.
        with pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert store.collect(lambda: {keep}) == (0, 0)
    assert store.collect(lambda: {keep}) == (1, 4)
    assert store.has(keep) and not store.has(drop)
    assert list((tmp_path / "tmp").iterdir()) == []
