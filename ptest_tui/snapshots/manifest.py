"""The snapshot manifest: what a snapshot holds, as canonical JSON.

The manifest names every file by its sha256 and is itself stored as a blob; a snapshot's
id is the first 12 hex digits of the manifest's sha256, so any change to any content
changes the id. Entries are checked whenever a manifest is read (from the store or an
archive): a path that is absolute, has ``..`` or runs through a recorded symlink, or a
link that points outside the working folder, is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any

from ptest_tui.snapshots.errors import ArchiveError

FORMAT = 1
ID_LENGTH = 12
KINDS = ("file", "dir", "symlink")
CONTAINER_KINDS = (*KINDS, "deleted")
MODE_MASK = 0o777  # no setuid, setgid or sticky bits are ever restored


@dataclass(frozen=True)
class FileEntry:
    """One recorded path: a file (with its hash), a folder, a symlink or (container) a deletion."""

    path: str
    kind: str
    mode: int = 0
    size: int = 0
    sha256: str = ""
    target: str = ""
    mtime: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON data: empty fields are left out."""
        data = {"path": self.path, "kind": self.kind}
        data.update({k: v for k, v in asdict(self).items() if k not in data and v})
        return data

    @classmethod
    def from_dict(cls, data: Any) -> FileEntry:
        """Inverse of :meth:`to_dict`; ArchiveError for anything malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise ArchiveError("a file entry of the manifest is malformed", _HINT)
        try:
            return cls(
                path=data["path"],
                kind=str(data.get("kind", "")),
                mode=int(data.get("mode", 0)) & MODE_MASK,
                size=int(data.get("size", 0)),
                sha256=str(data.get("sha256", "")),
                target=str(data.get("target", "")),
                mtime=int(data.get("mtime", 0)),
            )
        except (TypeError, ValueError):
            raise ArchiveError(f"the manifest entry {data['path']!r} is malformed", _HINT) from None


_HINT = "the snapshot was damaged or tampered with; export it again from its source"


@dataclass(frozen=True)
class Manifest:
    """Everything a snapshot records (see docs/snapshots.md)."""

    env: str
    isolation: str
    created_at: float
    settings: dict[str, Any]
    lock_blob: str = ""
    pins: tuple[str, ...] = ()
    files: tuple[FileEntry, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    container_fs: tuple[FileEntry, ...] | None = None
    skipped: tuple[str, ...] = ()
    tag: str = ""
    message: str = ""
    ptest_version: str = ""
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Canonical bytes (sorted keys, no spaces): the same manifest, the same hash."""
        data = {
            "format": self.format,
            "env": self.env,
            "isolation": self.isolation,
            "created_at": self.created_at,
            "settings": self.settings,
            "lock_blob": self.lock_blob,
            "pins": list(self.pins),
            "files": [e.to_dict() for e in self.files],
            "include": list(self.include),
            "exclude": list(self.exclude),
            "container_fs": (
                None if self.container_fs is None else [e.to_dict() for e in self.container_fs]
            ),
            "skipped": list(self.skipped),
            "tag": self.tag,
            "message": self.message,
            "ptest_version": self.ptest_version,
            "extra": self.extra,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @property
    def sha256(self) -> str:
        """The manifest's hash (its blob name)."""
        return hashlib.sha256(self.to_json()).hexdigest()

    @property
    def id(self) -> str:
        """The snapshot id: the manifest hash's first 12 hex digits."""
        return self.sha256[:ID_LENGTH]

    def blobs(self) -> set[str]:
        """Every blob the snapshot needs (files, lock; not the manifest itself)."""
        found = {e.sha256 for e in self.files if e.kind == "file"}
        found |= {e.sha256 for e in self.container_fs or () if e.kind == "file"}
        if self.lock_blob:
            found.add(self.lock_blob)
        return found

    @property
    def file_bytes(self) -> int:
        """Total size of the recorded files."""
        return sum(e.size for e in self.files if e.kind == "file")

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse and check a manifest; ArchiveError for anything unsafe or malformed."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ArchiveError("the snapshot manifest is not valid JSON", _HINT) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else "?"
            raise ArchiveError(
                f"unsupported snapshot format {found}",
                "import it with the ptest-tui version that exported it",
            )
        try:
            files = tuple(FileEntry.from_dict(e) for e in data.get("files") or [])
            raw_fs = data.get("container_fs")
            container = None if raw_fs is None else tuple(FileEntry.from_dict(e) for e in raw_fs)
            manifest = cls(
                env=str(data["env"]),
                isolation=str(data["isolation"]),
                created_at=float(data["created_at"]),
                settings=dict(data.get("settings") or {}),
                lock_blob=str(data.get("lock_blob") or ""),
                pins=tuple(str(p) for p in data.get("pins") or ()),
                files=files,
                include=tuple(str(p) for p in data.get("include") or ()),
                exclude=tuple(str(p) for p in data.get("exclude") or ()),
                container_fs=container,
                skipped=tuple(str(p) for p in data.get("skipped") or ()),
                tag=str(data.get("tag") or ""),
                message=str(data.get("message") or ""),
                ptest_version=str(data.get("ptest_version") or ""),
                extra=dict(data.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError):
            raise ArchiveError("the snapshot manifest is missing fields", _HINT) from None
        check_entries(manifest.files, relative=True)
        check_entries(manifest.container_fs or (), relative=False)
        if manifest.lock_blob:
            _check_sha(manifest.lock_blob, "the lock")
        return manifest


def _check_sha(sha: str, what: str) -> None:
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ArchiveError(f"{what} has an invalid content hash", _HINT)


def unsafe_path(path: str, relative: bool) -> str:
    """Why ``path`` is unsafe to write ("" when it is fine).

    Relative entries live under the working folder: no absolute paths, no ``..``, no empty
    or ``.`` parts. Container entries are absolute paths inside the container (still no
    ``..``): the container is their boundary.
    """
    if not path or "\x00" in path:
        return "an empty path or a NUL byte"
    if relative and path.startswith("/"):
        return "an absolute path"
    if not relative and not path.startswith("/"):
        return "a relative container path"
    parts = path.strip("/").split("/") if not relative else path.split("/")
    if ".." in parts:
        return "a '..' component"
    if any(p in ("", ".") for p in parts):
        return "an empty or '.' component"
    return ""


def link_escapes(path: str, target: str) -> bool:
    """Whether symlink ``path`` -> ``target`` points outside the working folder."""
    if not target or target.startswith("/") or "\x00" in target:
        return True
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return resolved == ".." or resolved.startswith("../")


def check_entries(entries: tuple[FileEntry, ...] | list[FileEntry], relative: bool) -> None:
    """Refuse entries that could write outside their folder (ArchiveError)."""
    kinds = KINDS if relative else CONTAINER_KINDS
    links: set[str] = set()
    seen: set[str] = set()
    for entry in entries:
        problem = unsafe_path(entry.path, relative)
        if problem:
            raise ArchiveError(f"refused: manifest entry {entry.path[:200]!r} has {problem}", _HINT)
        if entry.kind not in kinds:
            raise ArchiveError(
                f"refused: manifest entry {entry.path!r} is a {entry.kind or 'special'} file"
                " (device files, pipes and sockets are never restored)",
                _HINT,
            )
        if entry.path in seen:
            raise ArchiveError(f"refused: manifest entry {entry.path!r} appears twice", _HINT)
        seen.add(entry.path)
        if entry.kind == "file":
            _check_sha(entry.sha256, f"manifest entry {entry.path!r}")
            if entry.size < 0:
                raise ArchiveError(f"manifest entry {entry.path!r} has a negative size", _HINT)
        if entry.kind == "symlink":
            if relative and link_escapes(entry.path, entry.target):
                raise ArchiveError(
                    f"refused: link {entry.path!r} points outside the working folder"
                    f" ({entry.target[:200]!r})",
                    _HINT,
                )
            links.add(entry.path)
    for entry in entries:
        parent = posixpath.dirname(entry.path)
        while parent not in ("", "/"):
            if parent in links:
                raise ArchiveError(
                    f"refused: manifest entry {entry.path!r} lies under the link {parent!r}",
                    _HINT,
                )
            parent = posixpath.dirname(parent)
