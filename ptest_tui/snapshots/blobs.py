"""The content-addressed blob store under ``.ptest/snapshots``.

Every file a snapshot records (and every manifest) is stored once, named by the sha256 of
its bytes: ``blobs/ab/abcdef...``. A second snapshot of unchanged files writes nothing
new. Blobs are written to ``tmp/`` first and renamed into place, so a killed process
never leaves a half-written blob under a valid name.

Deleting a snapshot removes only its record; blobs no remaining snapshot uses are
collected when nobody is using the store. Users (create, import, restore, export) hold a
shared ``flock`` on ``lock``; collection takes it exclusively and is skipped (left for
the next delete) when it cannot get it at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ptest_tui.snapshots.errors import SnapshotCorruptError, SnapshotError

CHUNK = 1 << 20
SHA_RE = re.compile(r"[0-9a-f]{64}")


def sha256_file(path: Path) -> tuple[str, int]:
    """Hex sha256 and size of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def space_error(exc: OSError, what: str) -> SnapshotError:
    """A one-line error for a failed write (a full disk gets its own hint)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return SnapshotError(
            f"{what}: no space left on the device", "free some disk space and try again"
        )
    return SnapshotError(f"{what}: {exc.strerror or exc}", "check the permissions of .ptest/")


class BlobStore:
    """sha256-named files, written atomically and deduplicated."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.tmp = root / "tmp"

    def path(self, sha: str) -> Path:
        """Where blob ``sha`` lives (whether or not it exists)."""
        if not SHA_RE.fullmatch(sha):
            raise SnapshotCorruptError(f"{sha[:80]!r} is not a sha256", "")
        return self.blobs / sha[:2] / sha

    def has(self, sha: str) -> bool:
        """Whether the blob is stored."""
        return self.path(sha).is_file()

    def _ensure(self) -> None:
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def put_stream(self, source: IO[bytes], limit: int | None = None) -> tuple[str, int]:
        """Store what ``source`` yields (at most ``limit`` bytes); returns (sha256, size)."""
        self._ensure()
        digest = hashlib.sha256()
        size = 0
        fd, name = _temp(self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK if limit is None else min(CHUNK, limit - size)):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    if limit is not None and size >= limit:
                        break
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.exists():
                os.unlink(name)
            else:
                final.parent.mkdir(exist_ok=True)
                os.replace(name, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return sha, size

    def put_file(self, source: Path) -> tuple[str, int]:
        """Store a file's content; an already stored content is only hashed, not copied."""
        sha, size = sha256_file(source)
        if self.has(sha):
            return sha, size
        with source.open("rb") as handle:
            # The file may change between the two reads; what was copied is what counts.
            return self.put_stream(handle)

    def put_bytes(self, data: bytes) -> str:
        """Store bytes; returns their sha256."""
        import io

        return self.put_stream(io.BytesIO(data))[0]

    def open(self, sha: str) -> IO[bytes]:
        """The blob for reading; SnapshotCorruptError if it is missing."""
        try:
            return self.path(sha).open("rb")
        except FileNotFoundError:
            raise SnapshotCorruptError(
                f"stored content {sha[:12]} is missing from .ptest/snapshots",
                "the snapshot cannot be used; delete it with `ptest-tui snapshot delete`",
            ) from None

    def read_bytes(self, sha: str) -> bytes:
        """A (small) blob's bytes, checked against its hash."""
        with self.open(sha) as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != sha:
            raise _corrupt(sha)
        return data

    def verify(self, sha: str) -> int:
        """Check that the blob exists and still hashes to its name; returns its size."""
        try:
            actual, size = sha256_file(self.path(sha))
        except FileNotFoundError:
            with self.open(sha):
                pass  # raises the missing-content error
            raise
        if actual != sha:
            raise _corrupt(sha)
        return size

    @contextlib.contextmanager
    def using(self) -> Iterator[None]:
        """Hold the store shared: garbage collection waits until this ends."""
        self._ensure()
        with (self.root / "lock").open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def collect(self, referenced: Callable[[], set[str]]) -> tuple[int, int]:
        """Remove blobs not in ``referenced()`` and stale temp files; (count, bytes) freed.

        Only runs when no other process uses the store (``referenced`` is asked once the
        store is held, so a snapshot stored meanwhile is counted); otherwise (0, 0) and
        the garbage waits for the next collection.
        """
        if not self.blobs.is_dir():
            return 0, 0
        with (self.root / "lock").open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0, 0
            try:
                return self._sweep(referenced())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _sweep(self, referenced: set[str]) -> tuple[int, int]:
        count = freed = 0
        for leftover in self.tmp.glob("*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        for fan in self.blobs.iterdir():
            for blob in fan.iterdir():
                if blob.name in referenced:
                    continue
                with contextlib.suppress(OSError):
                    size = blob.stat().st_size
                    blob.unlink()
                    count += 1
                    freed += size
        return count, freed

    def usage(self) -> tuple[int, int]:
        """(blobs, bytes) stored."""
        count = total = 0
        if self.blobs.is_dir():
            for blob in self.blobs.glob("*/*"):
                count += 1
                total += blob.stat().st_size
        return count, total


def _temp(folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(dir=folder, prefix="blob-")


def _corrupt(sha: str) -> SnapshotCorruptError:
    return SnapshotCorruptError(
        f"stored content {sha[:12]} does not match its hash (changed on disk)",
        "the snapshot cannot be used; delete it with `ptest-tui snapshot delete`",
    )
