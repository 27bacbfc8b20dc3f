"""Files of host environments (basic, virtualenv): record, write back and compare.

The working folder of a host env is its HOME, ``.ptest/envs/NAME/home``: commands run in
the workspace, and what belongs to the env alone lives in its HOME. ``venv/`` and
``site/`` are rebuilt from the lock, ``tmp/`` is temporary and ``bin/`` is the engine's.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Protocol

from ptest_tui.snapshots.blobs import CHUNK, sha256_file
from ptest_tui.snapshots.manifest import MODE_MASK, FileEntry, link_escapes
from ptest_tui.snapshots.patterns import PathFilter


class Sink(Protocol):
    """Where recorded file content goes: the blob store, or only a hash when comparing."""

    def put_file(self, source: Path) -> tuple[str, int]: ...


class HashOnly:
    """A sink that stores nothing (verification hashes what is there)."""

    def put_file(self, source: Path) -> tuple[str, int]:
        """The file's sha256 and size."""
        return sha256_file(source)

    def put_stream(self, source: IO[bytes], limit: int | None = None) -> tuple[str, int]:
        """The sha256 and size of what ``source`` yields."""
        import hashlib

        digest = hashlib.sha256()
        size = 0
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size


class BlobReader(Protocol):
    """Reads stored content by hash (the blob store)."""

    def open(self, sha: str) -> IO[bytes]: ...


def capture(folder: Path, flt: PathFilter, sink: Sink) -> tuple[list[FileEntry], list[str]]:
    """Entries for everything ``flt`` keeps under ``folder`` and what was skipped (why)."""
    entries: list[FileEntry] = []
    skipped: list[str] = []
    if folder.is_dir():
        _walk(folder, "", flt, sink, entries, skipped)
    return entries, skipped


def _walk(
    folder: Path,
    prefix: str,
    flt: PathFilter,
    sink: Sink,
    entries: list[FileEntry],
    skipped: list[str],
) -> bool:
    """Record one folder's content; True when anything under it was kept."""
    kept = False
    with os.scandir(folder) as listing:
        children = sorted(listing, key=lambda e: e.name)
    for child in children:
        rel = f"{prefix}{child.name}"
        st = child.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            if flt.excluded(rel):
                continue
            at = len(entries)
            entries.append(FileEntry(rel, "dir", st.st_mode & MODE_MASK, mtime=int(st.st_mtime)))
            inner = _walk(Path(child.path), f"{rel}/", flt, sink, entries, skipped)
            if not inner and not flt.keeps(rel):
                del entries[at]
            kept = kept or inner or flt.keeps(rel)
            continue
        if not flt.keeps(rel):
            continue
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(child.path)
            if link_escapes(rel, target):
                skipped.append(f"{rel} -> {target} (points outside the working folder)")
                continue
            entries.append(FileEntry(rel, "symlink", target=target, mtime=int(st.st_mtime)))
        elif stat.S_ISREG(st.st_mode):
            try:
                sha, size = sink.put_file(Path(child.path))
            except PermissionError:
                skipped.append(f"{rel} (unreadable)")
                continue
            entries.append(
                FileEntry(rel, "file", st.st_mode & MODE_MASK, size, sha, mtime=int(st.st_mtime))
            )
        else:
            skipped.append(f"{rel} (a device, pipe or socket)")
            continue
        kept = True
    return kept


def write(folder: Path, entries: Iterable[FileEntry], blobs: BlobReader) -> None:
    """Write ``entries`` under ``folder`` (a fresh working folder).

    Folders first, then files (never through a link: ``O_NOFOLLOW``, and checked
    manifests put no entry under a recorded link), links last; folder modes and times at
    the end, deepest first, so a read-only folder does not stop its own content.
    """
    items = sorted(entries, key=lambda e: e.path)
    folder.mkdir(parents=True, exist_ok=True)
    for entry in items:
        if entry.kind == "dir":
            (folder / entry.path).mkdir(mode=0o700, exist_ok=True)
    for entry in items:
        if entry.kind == "file":
            _write_file(folder / entry.path, entry, blobs)
    for entry in items:
        if entry.kind == "symlink":
            os.symlink(entry.target, folder / entry.path)
            if entry.mtime:
                os.utime(folder / entry.path, (entry.mtime, entry.mtime), follow_symlinks=False)
    for entry in reversed(items):
        if entry.kind == "dir":
            path = folder / entry.path
            os.chmod(path, entry.mode or 0o755)
            if entry.mtime:
                os.utime(path, (entry.mtime, entry.mtime))


def _write_file(path: Path, entry: FileEntry, blobs: BlobReader) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out, blobs.open(entry.sha256) as source:
        while chunk := source.read(CHUNK):
            out.write(chunk)
    os.chmod(path, entry.mode or 0o644)
    if entry.mtime:
        os.utime(path, (entry.mtime, entry.mtime))


def differences(
    expected: Iterable[FileEntry], actual: Iterable[FileEntry], *, modes: bool = True
) -> list[str]:
    """What differs between recorded entries and what is there (missing, changed)."""
    have = {e.path: e for e in actual}
    problems: list[str] = []
    for want in expected:
        got = have.get(want.path)
        if got is None:
            problems.append(f"{want.path} is missing")
        elif got.kind != want.kind:
            problems.append(f"{want.path} is a {got.kind}, not a {want.kind}")
        elif want.kind == "file" and got.sha256 != want.sha256:
            problems.append(f"{want.path} has other content")
        elif want.kind == "symlink" and got.target != want.target:
            problems.append(f"{want.path} points to {got.target}, not {want.target}")
        elif modes and want.kind == "file" and got.mode != want.mode:
            problems.append(f"{want.path} has mode {got.mode:o}, not {want.mode:o}")
    return problems
