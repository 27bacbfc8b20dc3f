"""Export and import: one tar file per snapshot, with a manifest of hashes.

Layout (plain tar, or gzip when the file name ends in ``.gz``/``.tgz``)::

    ptest-snapshot.json   {"format", "id", "manifest_sha256", "blobs": {sha256: size}}
    manifest.json         the manifest; its sha256 is the header's and gives the id
    blobs/<sha256>        every file of the snapshot, named by its hash

Import reads the archive three times and writes only in the third pass:

1. headers only: every member must be one of the names above, a regular file, within the
   size limits; absolute paths, ``..``, links, device files and oversized members are
   refused, naming the member;
2. content: the header and manifest parse, the manifest's entries are safe (see
   :func:`ptest_tui.snapshots.manifest.check_entries`), the manifest hashes to the
   header's hash and id, and every blob hashes to its name and has the declared size;
3. write: blobs go into the content-addressed store (nothing outside it is written).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui import __version__
from ptest_tui.snapshots.blobs import CHUNK, SHA_RE
from ptest_tui.snapshots.errors import ArchiveError, SnapshotError
from ptest_tui.snapshots.manifest import ID_LENGTH, Manifest
from ptest_tui.snapshots.records import SnapshotRecord

if TYPE_CHECKING:
    from ptest_tui.snapshots.service import SnapshotService

HEADER = "ptest-snapshot.json"
MANIFEST = "manifest.json"
BLOBS = "blobs/"
KIND = "ptest-tui snapshot"
TAMPERED = "the archive was changed after it was exported; export it again"


@dataclass(frozen=True)
class Limits:
    """What an import accepts (defaults suit real envs; tests pass small ones)."""

    max_member: int = 8 << 30  # one file of the snapshot
    max_total: int = 64 << 30  # all members together
    max_members: int = 1_000_000
    max_metadata: int = 64 << 20  # header and manifest


def _arc_name(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def _reject(member: tarfile.TarInfo, limits: Limits) -> str:
    """Why a member is refused ("" when it is acceptable in pass 1)."""
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"refused: member {name[:200]!r} has an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return f"refused: member {name[:200]!r} has a '..' component"
    if member.issym() or member.islnk():
        target = member.linkname
        escapes = (
            target.startswith("/")
            or os.path.normpath(os.path.join(os.path.dirname(name), target)).startswith("..")
        )
        where = "outside the archive" if escapes else "inside the archive"
        return f"refused: member {name[:200]!r} is a link pointing {where} ({target[:200]!r})"
    if member.ischr() or member.isblk():
        return f"refused: member {name[:200]!r} is a device file"
    if member.isfifo() or not (member.isfile() or member.isdir()):
        return f"refused: member {name[:200]!r} is a special file"
    if member.size > limits.max_member:
        return (
            f"refused: member {name[:200]!r} is oversized ({member.size} bytes;"
            f" the limit is {limits.max_member})"
        )
    plain = _arc_name(name).rstrip("/")
    if member.isdir():
        return "" if plain in ("", ".", "blobs") else f"refused: unexpected folder {name[:200]!r}"
    if plain in (HEADER, MANIFEST):
        if member.size > limits.max_metadata:
            return f"refused: member {name!r} is oversized ({member.size} bytes)"
        return ""
    if plain.startswith(BLOBS) and SHA_RE.fullmatch(plain[len(BLOBS):]):
        return ""
    return f"refused: unexpected member {name[:200]!r} (not part of a snapshot archive)"


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:*")
    except FileNotFoundError:
        raise ArchiveError(
            f"{path} does not exist", "give the file `snapshot export` wrote"
        ) from None
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder", "give the file `snapshot export` wrote") from None
    except (tarfile.TarError, OSError, EOFError):
        raise ArchiveError(
            f"{path} is not a snapshot archive (not a tar file)",
            "give the file `snapshot export` wrote",
        ) from None


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[tarfile.TarFile]:
    tar = _open(path)
    try:
        yield tar
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise ArchiveError(f"{path} is damaged ({detail})", TAMPERED) from None
    finally:
        tar.close()


def scan(path: Path, limits: Limits) -> dict[str, tarfile.TarInfo]:
    """Pass 1: member headers only; returns the accepted members by name."""
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    with _reading(path) as tar:
        for member in tar:  # checked one by one, before the next header is read
            problem = _reject(member, limits)
            if problem:
                raise ArchiveError(problem, "not a safe snapshot archive; nothing was written")
            if member.isdir():
                continue
            name = _arc_name(member.name)
            if name in members:
                raise ArchiveError(f"refused: member {name!r} appears twice", TAMPERED)
            members[name] = member
            total += member.size
            if len(members) > limits.max_members or total > limits.max_total:
                raise ArchiveError(
                    f"refused: the archive is oversized (more than {limits.max_members} members"
                    f" or {limits.max_total} bytes)",
                    "raise the limits only for archives you trust",
                )
    for required in (HEADER, MANIFEST):
        if required not in members:
            raise ArchiveError(f"{path} has no {required}: not a snapshot archive", TAMPERED)
    return members


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None
    return handle.read()


def check(
    path: Path, limits: Limits
) -> tuple[dict[str, Any], Manifest, bytes, dict[str, tarfile.TarInfo]]:
    """Passes 1 and 2: everything checked, nothing written.

    Returns the header, the manifest, its raw bytes and the members by name.
    """
    members = scan(path, limits)
    with _reading(path) as tar:
        try:
            header = json.loads(_read(tar, tar.getmember(members[HEADER].name)))
        except ValueError:
            raise ArchiveError(f"{HEADER} is not valid JSON", TAMPERED) from None
        if not isinstance(header, dict) or header.get("kind") != KIND:
            raise ArchiveError(f"{path} is not a ptest-tui snapshot archive", TAMPERED)
        raw = _read(tar, tar.getmember(members[MANIFEST].name))
        sha = hashlib.sha256(raw).hexdigest()
        if sha != header.get("manifest_sha256") or sha[:ID_LENGTH] != header.get("id"):
            raise ArchiveError("tampered: the manifest does not match its hash", TAMPERED)
        manifest = Manifest.from_json(raw)
        declared = header.get("blobs")
        if not isinstance(declared, dict):
            raise ArchiveError(f"{HEADER} lists no content", TAMPERED)
        present = {n[len(BLOBS):]: m for n, m in members.items() if n.startswith(BLOBS)}
        if set(declared) != set(present) or not manifest.blobs() <= set(present):
            raise ArchiveError("tampered: the archive's files do not match its manifest", TAMPERED)
        for sha_name, member in sorted(present.items()):
            if member.size != declared[sha_name]:
                raise ArchiveError(f"tampered: {sha_name[:12]} has the wrong size", TAMPERED)
            handle = tar.extractfile(tar.getmember(member.name))
            assert handle is not None
            digest = hashlib.sha256()
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
            if digest.hexdigest() != sha_name:
                raise ArchiveError(
                    f"tampered: content {sha_name[:12]} does not match its hash", TAMPERED
                )
    return header, manifest, raw, members


def import_archive(
    service: SnapshotService, path: str | Path, limits: Limits | None = None
) -> tuple[SnapshotRecord, bool]:
    """Check, then store a snapshot archive; (record, True if it was new here)."""
    archive = Path(path)
    header, manifest, raw, members = check(archive, limits or Limits())
    blobs = service.blobs
    with blobs.using(), _reading(archive) as tar:
        for name, member in sorted(members.items()):
            if not name.startswith(BLOBS) or blobs.has(name[len(BLOBS):]):
                continue
            handle = tar.extractfile(tar.getmember(member.name))
            assert handle is not None
            sha, _size = blobs.put_stream(handle, limit=member.size)
            if sha != name[len(BLOBS):]:
                raise ArchiveError("tampered: the archive changed while it was imported", TAMPERED)
        if blobs.put_bytes(raw) != header["manifest_sha256"]:
            raise ArchiveError("tampered: the archive changed while it was imported", TAMPERED)
        existing = [r for r in service.records.all() if r.id == manifest.id]
        if existing:
            return existing[0], False
        return service.store_manifest(manifest, "imported"), True


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    info.uname = info.gname = ""
    return info


def export_archive(
    service: SnapshotService, ref: str, path: str | Path
) -> tuple[SnapshotRecord, int]:
    """Write snapshot ``ref`` to one archive file; (record, bytes written)."""
    record = service.records.get(ref)
    manifest = service.manifest(record)
    out = Path(path)
    if out.is_dir():
        raise ArchiveError(f"{out} is a folder", "give a file name, e.g. env.snapshot.tar")
    raw = manifest.to_json()
    blobs = service.blobs
    with blobs.using():
        sizes = {sha: blobs.verify(sha) for sha in sorted(manifest.blobs())}
        header = {
            "kind": KIND, "format": 1, "id": record.id, "manifest_sha256": manifest.sha256,
            "env": record.env, "ptest_version": __version__, "blobs": sizes,
        }
        mode = "w:gz" if out.name.endswith((".gz", ".tgz")) else "w"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        except OSError as exc:
            raise SnapshotError(f"cannot write {out}: {exc.strerror}", "check the path") from None
        try:
            with os.fdopen(fd, "wb") as handle, tarfile.open(
                fileobj=handle, mode=mode, format=tarfile.PAX_FORMAT  # type: ignore[call-overload]
            ) as tar:
                data = json.dumps(header, sort_keys=True, indent=1).encode()
                tar.addfile(_info(HEADER, len(data)), io.BytesIO(data))
                tar.addfile(_info(MANIFEST, len(raw)), io.BytesIO(raw))
                for sha, size in sizes.items():
                    with blobs.open(sha) as blob:
                        tar.addfile(_info(f"{BLOBS}{sha}", size), blob)
            os.replace(temp, out)
        except BaseException as exc:
            Path(temp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                from ptest_tui.snapshots.blobs import space_error

                raise space_error(exc, f"cannot write {out}") from None
            raise
    return record, out.stat().st_size

