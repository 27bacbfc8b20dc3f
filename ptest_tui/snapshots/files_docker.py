"""Files of docker environments: the container's HOME and (optionally) its filesystem.

The working folder of a docker env is the container's HOME, ``/root``: the workspace
mount belongs to the workspace, ``/env`` (the venv and uv's cache farm) is rebuilt from
the lock. Files travel as tar streams (``get_archive``/``put_archive``), never through
host paths, so this works for any container.

The container filesystem (``snapshot create --container-fs``) is what ``docker diff``
reports changed against the image: added and modified files, links and new folders, and
deletions; mounts, ``/proc``-like folders, ``/tmp``, ``/env`` and HOME are left out.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, Protocol

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.docker_client import daemon_errors
from ptest_tui.engines.docker_exec import run_exec
from ptest_tui.errors import EngineError
from ptest_tui.snapshots.blobs import CHUNK
from ptest_tui.snapshots.manifest import MODE_MASK, FileEntry, link_escapes
from ptest_tui.snapshots.patterns import PathFilter

if TYPE_CHECKING:
    from ptest_tui.engines.docker import DockerEngine
    from ptest_tui.store import EnvRecord

HOME = "/root"
# Never part of the container filesystem of a snapshot (HOME is recorded as files).
SKIP_PREFIXES = ("/root", "/env", "/tmp", "/proc", "/sys", "/dev", "/run", "/opt/ptest")  # noqa: S108
SKIP_FILES = (
    "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab", "/.dockerenv",
    "/usr/sbin/docker-init",  # the --init binary, bind-mounted by the daemon
)
DIFF_KINDS = {0: "C", 1: "A", 2: "D"}

# Run by python3 in the container: a tar of the listed paths (A: added, C: changed), no
# recursion; changed folders are skipped (their changed content is listed by itself).
PACK_SCRIPT = r"""
import os, stat, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
    for item in sys.argv[2:]:
        kind, path = item.split(":", 1)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        mode = st.st_mode
        if stat.S_ISDIR(mode) and kind != "A":
            continue
        if stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode):
            tar.add(path, arcname=path.lstrip("/"), recursive=False)
"""
# A tar of HOME without the mounts inside it (the shared package cache lives at its host
# path, often under /root/.cache): get_archive would stream their whole content.
HOME_SCRIPT = r"""
import sys, tarfile
out, home, *skip = sys.argv[1:]
skip = set(skip)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    tar.add(home, arcname=home.lstrip("/"),
            filter=lambda info: None if "/" + info.name in skip else info)
"""
REMOVE_SCRIPT = r"""
import os, shutil, sys
for path in sys.argv[1:]:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)
"""


class StreamSink(Protocol):
    """Where content read from a tar stream goes."""

    def put_stream(self, source: IO[bytes], limit: int | None = None) -> tuple[str, int]: ...


class BlobReader(Protocol):
    """Reads stored content by hash."""

    def open(self, sha: str) -> IO[bytes]: ...


class ChunkReader(io.RawIOBase):
    """A readable file over the chunk generator ``get_archive`` returns."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, target: Any) -> int:
        """Fill ``target`` from the buffer or the next chunk (0 at the end)."""
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def read_tar(
    source: IO[bytes],
    sink: StreamSink,
    *,
    strip: str = "",
    flt: PathFilter | None = None,
    absolute: bool = False,
) -> tuple[list[FileEntry], list[str]]:
    """Entries of a tar stream (content into ``sink``) and what was skipped.

    ``strip`` removes a leading folder (``root/``); ``absolute`` turns names into
    container paths (``/usr/...``). Hard links become files with the linked content.
    """
    entries: list[FileEntry] = []
    skipped: list[str] = []
    by_name: dict[str, FileEntry] = {}
    with tarfile.open(fileobj=source, mode="r|") as tar:
        for member in tar:
            name = member.name.lstrip("./") if member.name.startswith("./") else member.name
            if strip:
                if name.rstrip("/") == strip.rstrip("/") or not name.startswith(strip):
                    continue
                name = name[len(strip):]
            name = name.rstrip("/")
            path = f"/{name}" if absolute else name
            if not name or (flt is not None and not _kept(flt, name, member.isdir())):
                continue
            mode = member.mode & MODE_MASK
            mtime = int(member.mtime)
            if member.isdir():
                entry = FileEntry(path, "dir", mode, mtime=mtime)
            elif member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                sha, size = sink.put_stream(handle)
                entry = FileEntry(path, "file", mode, size, sha, mtime=mtime)
            elif member.issym():
                if not absolute and link_escapes(name, member.linkname):
                    skipped.append(
                        f"{name} -> {member.linkname} (points outside the working folder)"
                    )
                    continue
                entry = FileEntry(path, "symlink", target=member.linkname, mtime=mtime)
            elif member.islnk():
                linked = member.linkname.lstrip("./")
                linked = linked[len(strip):] if strip and linked.startswith(strip) else linked
                first = by_name.get(f"/{linked}" if absolute else linked)
                if first is None:
                    skipped.append(f"{name} (a hard link to a file not recorded)")
                    continue
                entry = FileEntry(path, "file", mode, first.size, first.sha256, mtime=mtime)
            else:
                skipped.append(f"{name} (a device, pipe or socket)")
                continue
            entries.append(entry)
            by_name[path] = entry
    return entries, skipped


def _kept(flt: PathFilter, name: str, is_dir: bool) -> bool:
    return not flt.excluded(name) if is_dir else flt.keeps(name)


def build_tar(entries: Iterable[FileEntry], blobs: BlobReader, prefix: str) -> IO[bytes]:
    """A tar of ``entries`` under ``prefix`` (``root/`` or ``""`` for absolute paths)."""
    spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller
    with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(entries, key=lambda e: e.path):
            if entry.kind == "deleted":
                continue
            info = tarfile.TarInfo(f"{prefix}{entry.path.lstrip('/')}")
            info.mtime = entry.mtime
            info.mode = entry.mode or 0o644
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = entry.mode or 0o755
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                info.mode = 0o777
                tar.addfile(info)
            else:
                info.size = entry.size
                with blobs.open(entry.sha256) as handle:
                    tar.addfile(info, handle)
    spool.seek(0)
    return spool


def as_docker(engine: object) -> DockerEngine:
    """``engine`` as the docker engine (the one that made docker envs)."""
    from ptest_tui.engines.docker import DockerEngine

    if not isinstance(engine, DockerEngine):
        raise EngineError(f"{engine!r} is not the docker engine", "")
    return engine


def _container(engine: DockerEngine, record: EnvRecord) -> tuple[Any, str]:
    return engine.api(), engine.container_ref(record)


def capture_home(
    engine: DockerEngine, record: EnvRecord, flt: PathFilter, sink: StreamSink
) -> tuple[list[FileEntry], list[str]]:
    """Entries of the container's HOME (mounts inside it left out)."""
    api, ref = _container(engine, record)
    with daemon_errors(engine.target, f"read the files of {record.name}"):
        mounts = [m for m in _excluded_paths(api, ref) if m.startswith(HOME + "/")]
        with _container_tar(engine, record, [HOME_SCRIPT, HOME, *mounts]) as inner:
            return read_tar(inner, sink, strip=HOME.strip("/") + "/", flt=flt)


def write_home(
    engine: DockerEngine, record: EnvRecord, entries: Iterable[FileEntry], blobs: BlobReader
) -> None:
    """Put ``entries`` into the container's HOME."""
    api, ref = _container(engine, record)
    with daemon_errors(engine.target, f"write the files of {record.name}"), build_tar(
        entries, blobs, HOME.strip("/") + "/"
    ) as archive:
        if not api.put_archive(ref, "/", archive):
            raise EngineError(f"the daemon refused the files of {record.name}", "")


def _excluded_paths(api: Any, ref: str) -> tuple[str, ...]:
    mounts = api.inspect_container(ref).get("Mounts") or []
    return (*SKIP_PREFIXES, *(m.get("Destination", "") for m in mounts if m.get("Destination")))


def _skip(path: str, prefixes: tuple[str, ...]) -> bool:
    return path in SKIP_FILES or any(
        path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes
    )


@contextlib.contextmanager
def _container_tar(
    engine: DockerEngine, record: EnvRecord, script_and_args: list[str]
) -> Iterator[IO[bytes]]:
    """Run a packing script (``python3 -c SCRIPT OUT ARGS``) and stream the tar it wrote."""
    api, ref = _container(engine, record)
    out = f"/tmp/.ptest-snapshot-{uuid.uuid4().hex}.tar"  # noqa: S108 - inside the container
    script, *args = script_and_args
    lines: list[str] = []
    result = run_exec(
        api, ref, ["python3", "-c", script, out, *args], environment={}, workdir="/",
        on_output=lambda _s, line: lines.append(line), cancel=CancelToken(), timeout=600,
    )
    if result.exit_code != 0:
        raise EngineError(
            f"cannot read the files of {record.name}: {(lines or ['?'])[-1]}",
            "the image needs python3",
        )
    try:
        chunks, _stat = api.get_archive(ref, out, chunk_size=CHUNK)
        with io.BufferedReader(ChunkReader(chunks), CHUNK) as stream, tarfile.open(
            fileobj=stream, mode="r|"
        ) as outer:
            for member in outer:
                inner = outer.extractfile(member)
                assert inner is not None
                yield inner
                return
        raise EngineError(f"the daemon sent no files of {record.name}", "")
    finally:
        run_exec(api, ref, ["rm", "-f", out], environment={}, workdir="/",
                 on_output=lambda _s, _l: None, cancel=CancelToken(), timeout=60)


def _pack(
    engine: DockerEngine, record: EnvRecord, items: list[str], sink: StreamSink
) -> list[FileEntry]:
    """Entries of ``items`` (``A:/path``/``C:/path``) read through a tar made in the container."""
    if not items:
        return []
    with _container_tar(engine, record, [PACK_SCRIPT, *items]) as inner:
        return read_tar(inner, sink, absolute=True)[0]


def capture_fs(engine: DockerEngine, record: EnvRecord, sink: StreamSink) -> list[FileEntry]:
    """The container's changes against its image (files, links, new folders, deletions)."""
    api, ref = _container(engine, record)
    with daemon_errors(engine.target, f"read the container filesystem of {record.name}"):
        skip = _excluded_paths(api, ref)
        changes = api.diff(ref) or []
        items = [
            f"{DIFF_KINDS.get(c['Kind'], 'C')}:{c['Path']}"
            for c in changes
            if c.get("Kind") in (0, 1) and not _skip(c["Path"], skip)
        ]
        deleted = sorted(
            c["Path"] for c in changes if c.get("Kind") == 2 and not _skip(c["Path"], skip)
        )
        entries = _pack(engine, record, items, sink)
    return sorted(entries, key=lambda e: e.path) + [FileEntry(p, "deleted") for p in deleted]


def write_fs(
    engine: DockerEngine, record: EnvRecord, entries: Iterable[FileEntry], blobs: BlobReader
) -> None:
    """Apply recorded container changes: write files, links, folders; remove deletions."""
    items = list(entries)
    api, ref = _container(engine, record)
    with daemon_errors(engine.target, f"write the container filesystem of {record.name}"):
        with build_tar(items, blobs, "") as archive:
            if not api.put_archive(ref, "/", archive):
                raise EngineError(f"the daemon refused the files of {record.name}", "")
        deleted = [e.path for e in items if e.kind == "deleted"]
        if deleted:
            lines: list[str] = []
            result = run_exec(
                api, ref, ["python3", "-c", REMOVE_SCRIPT, *deleted], environment={},
                workdir="/", on_output=lambda _s, line: lines.append(line),
                cancel=CancelToken(), timeout=600,
            )
            if result.exit_code != 0:
                raise EngineError(f"cannot remove files in {record.name}: {lines[-1:]}", "")


def fs_differences(
    engine: DockerEngine, record: EnvRecord, expected: Iterable[FileEntry], sink: StreamSink
) -> list[str]:
    """What differs between recorded container changes and the container now."""
    from ptest_tui.snapshots.files_host import differences

    want = list(expected)
    items = [f"{'A' if e.kind == 'dir' else 'C'}:{e.path}" for e in want if e.kind != "deleted"]
    gone = [e.path for e in want if e.kind == "deleted"]
    with daemon_errors(engine.target, f"check the container filesystem of {record.name}"):
        have = _pack(engine, record, items + [f"A:{p}" for p in gone], sink)
    present = {e.path for e in have}
    problems = differences([e for e in want if e.kind != "deleted"], have)
    problems += [f"{p} should be deleted" for p in gone if p in present]
    return problems

