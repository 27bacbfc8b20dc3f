"""Arguments of package tools for docker envs: what must be rewritten or copied in.

A container sees the host only through its mounts. ``--find-links`` folders are mirrored
(hard links) under the user cache folder, which containers see read-only at the same
path, because uv keys its cache of find-links wheels by path and host and container must
name the same one. Requirement, constraint and lock files named in a command are copied
into the container. Credentials in URLs stay on the host: offline installs do not need
them and uv's cache keys do not include them.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path

STAGING = "/env/staging"  # where files named in a command are copied, in the container
FIND_LINKS_MIRROR = "docker-find-links"  # folder in the user cache dir
FIND_LINKS_OPTIONS = frozenset({"-f", "--find-links"})
# Options whose value is a file the tool reads: copied into the container.
FILE_OPTIONS = frozenset({
    "-r", "--requirement", "--requirements", "-c", "--constraint", "--constraints",
    "--override", "--overrides", "-b", "--build-constraint", "--build-constraints",
})
# Options that take a value (so the next argument is not a positional requirement/file).
VALUE_OPTIONS = FILE_OPTIONS | FIND_LINKS_OPTIONS | frozenset({
    "-i", "--index-url", "--extra-index-url", "--default-index", "--index", "--python",
    "-p", "--target", "--prefix", "--python-version", "--python-platform", "--format",
    "--link-mode", "--resolution", "--prerelease", "--index-strategy", "--keyring-provider",
    "--exclude-newer", "--no-binary", "--only-binary", "--config-settings", "-C", "-o",
    "--output-file", "--reinstall-package", "--upgrade-package", "-P", "--extra",
    "--python-preference", "--color", "--cache-dir", "--directory", "--project",
})


_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


def redact_userinfo(url: str) -> str:
    """``url`` without ``user:password@`` (offline installs never need credentials)."""
    return _USERINFO.sub(lambda m: m.group("scheme"), url)



def _local_folder(link: str) -> Path | None:
    """The host folder a ``--find-links`` value names, or None (a URL, an HTML file)."""
    path = link[len("file://") :] if link.startswith("file://") else link
    if "://" in path or not os.path.isabs(path):
        return None
    folder = Path(path)
    return folder if folder.is_dir() else None


def mirror_find_links(folder: Path, root: Path) -> str:
    """Mirror the files of ``folder`` under the shared cache; return the mirror's path.

    Hard links (copies across filesystems) keep it cheap; files gone from ``folder`` go
    from the mirror too. A file lock serialises parallel installs mirroring one folder.
    """
    source = Path(os.path.realpath(folder))
    key = hashlib.sha256(str(source).encode()).hexdigest()[:16]
    base = root / FIND_LINKS_MIRROR
    mirror = base / key
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        mirror.mkdir(exist_ok=True)
        wanted = {
            e.name: e for e in os.scandir(source) if e.is_file() and not e.name.startswith(".")
        }
        for entry in os.scandir(mirror):
            src = wanted.get(entry.name)
            if src is None or not _same_file(src.stat(), entry.stat()):
                os.unlink(entry.path)
        for name, src in wanted.items():
            dest = mirror / name
            if dest.exists():
                continue
            try:
                os.link(src.path, dest)
            except OSError:
                shutil.copy2(src.path, dest)
    return str(mirror)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def rewrite_args(args: Sequence[str], root: Path, *, keep_credentials: bool) -> list[str]:
    """Tool arguments as uv must see them: find-links folders -> their mirror (so host and
    container use one path), and, for the container, URLs without credentials."""
    out: list[str] = []
    expect_link = False
    for arg in args:
        option, eq, value = arg.partition("=")
        if expect_link or (eq and option in FIND_LINKS_OPTIONS):
            link = arg if expect_link else value
            folder = _local_folder(link)
            if folder is not None:
                link = mirror_find_links(folder, root)
            elif not keep_credentials:
                link = redact_userinfo(link)
            out.append(link if expect_link else f"{option}={link}")
            expect_link = False
            continue
        expect_link = arg in FIND_LINKS_OPTIONS
        out.append(arg if keep_credentials or "://" not in arg else redact_userinfo(arg))
    return out


def files_to_stage(args: Sequence[str], visible: Sequence[str]) -> list[tuple[int, str, str]]:
    """``(index, prefix, host path)`` for the arguments naming host files the tool reads.

    Values of file options (``-r FILE``, ``--constraint=FILE``, ...) and positional
    arguments (a wheel, a lock for ``pip sync``) that are absolute paths of existing host
    files, unless under a folder in ``visible`` (mounted). ``prefix`` is ``--opt=`` for
    the joined form, else "".
    """
    found: list[tuple[int, str, str]] = []
    previous = ""
    positional_only = False
    for index, arg in enumerate(args):
        value_of = previous if previous in VALUE_OPTIONS else ""
        previous = ""
        prefix, path = "", arg
        if positional_only:
            pass
        elif value_of:
            if value_of not in FILE_OPTIONS:
                continue
        elif arg == "--":
            positional_only = True
            continue
        elif arg.startswith("-"):
            option, eq, value = arg.partition("=")
            previous = "" if eq else arg
            if not (eq and option in FILE_OPTIONS):
                continue
            prefix, path = f"{option}=", value
        if not (os.path.isabs(path) and os.path.isfile(path)):
            continue
        if not any(path.startswith(v.rstrip("/") + "/") for v in visible):
            found.append((index, prefix, path))
    return found


def staging_archive(files: Sequence[tuple[int, str, str]]) -> tuple[bytes, dict[int, str]]:
    """A tar of ``files`` for ``put_archive("/")``, and the new argument of each index."""
    buffer = io.BytesIO()
    replaced: dict[int, str] = {}
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for index, prefix, host in files:
            digest = hashlib.sha256(host.encode()).hexdigest()[:12]
            inside = f"{STAGING}/{digest}/{os.path.basename(host)}"
            tar.add(host, arcname=inside.lstrip("/"), recursive=False)
            replaced[index] = prefix + inside
    return buffer.getvalue(), replaced
