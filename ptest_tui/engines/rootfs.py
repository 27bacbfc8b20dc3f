"""The cached Debian rootfs behind ``ptest-tui image build``: debootstrap, pack, cache.

debootstrap fetches Debian packages (from the mirror chosen in
:mod:`ptest_tui.engines.image_sources`) into a ``rootfs-SUITE-*`` work folder under the
user cache; the packed tarball and its metadata (``.json``) are cached there so rebuilds
do not download again. One file lock per tarball serialises builds of a suite.

A build killed half-way leaves its work folder behind, perhaps with debootstrap's
proc/sys mounts inside; the next build of that suite unmounts and removes it under the
lock (:func:`remove_stale_work`). The metadata is written aside and renamed into place,
and unreadable metadata counts as no cache, so a kill never wedges later builds.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import image_sources as sources
from ptest_tui.engines.process import run_process, run_quiet
from ptest_tui.errors import EngineUnavailableError, ImageError, UsageError

log = logging.getLogger(__name__)

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


def cache_dir() -> Path:
    """``<user cache>/ptest-tui/images``: rootfs tarballs shared by every workspace."""
    from ptest_tui.paths import user_cache_dir

    return user_cache_dir() / "images"


def find_debootstrap() -> str:
    """The debootstrap executable (it lives in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("debootstrap") or shutil.which(
        "debootstrap", path="/usr/sbin:/sbin:/usr/local/sbin"
    )
    if not found:
        raise EngineUnavailableError(
            "debootstrap is not installed", "install it: apt-get install debootstrap"
        )
    return found


def check_root() -> None:
    """debootstrap creates device files and chroots: only root can build."""
    if os.geteuid() != 0:
        raise UsageError(
            "building the base image needs root (debootstrap creates device files and chroots)",
            "run it as root, e.g. `sudo ptest-tui image build ...`",
        )


def check_can_build(suite: str) -> str:
    """Root, debootstrap and a debootstrap script for ``suite``; returns debootstrap's path."""
    check_root()
    debootstrap = find_debootstrap()
    if DEBOOTSTRAP_SCRIPTS.is_dir() and not (DEBOOTSTRAP_SCRIPTS / suite).exists():
        raise UsageError(
            f"debootstrap on this host does not know the suite {suite!r}",
            "upgrade debootstrap, or pick another --python / --suite",
        )
    return debootstrap


def _mount_points() -> list[str]:
    """Every mount point of this process's namespace (octal escapes such as \\040 decoded)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def _mounted_below(folder: Path) -> list[str]:
    prefix = str(folder.resolve()).rstrip("/") + "/"
    return [p for p in _mount_points() if p.startswith(prefix)]


def _unmount_below(folder: Path) -> bool:
    """Unmount anything a killed debootstrap left mounted inside ``folder`` (deepest first).

    Tries a plain umount, then a lazy one (a busy proc mount detaches at once that way).
    True when nothing is mounted below ``folder`` any more.
    """
    for point in sorted(_mounted_below(folder), key=len, reverse=True):
        for argv in (["umount", point], ["umount", "-l", point]):
            try:
                done = subprocess.run(
                    argv, capture_output=True, text=True, env={"PATH": PATH}, timeout=60,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("cannot run %s: %s", " ".join(argv), exc)
                break
            if done.returncode == 0:
                break
    return not _mounted_below(folder)


def _remove_work(work: Path) -> None:
    """Unmount, then delete a work folder; never delete through a mount that stayed."""
    if not _unmount_below(work):
        # rmtree would descend into a bind-mounted /dev or /proc and delete the host's.
        log.warning("leaving %s: something is still mounted below it", work)
        return
    shutil.rmtree(work, ignore_errors=True)


def work_prefix(suite: str, packages: tuple[str, ...] = ()) -> str:
    """The name prefix of the work folders of ``suite`` (with extra ``packages``).

    Each package set has its own build lock, so its work folders carry the set's digest:
    a build holding one lock never takes a live build of another set for a stale one.
    """
    if not packages:
        return f"rootfs-{suite}-"
    return f"rootfs-{suite}-{sources.packages_digest(sources.include_for(packages))}-"


def remove_stale_work(folder: Path, suite: str, packages: tuple[str, ...] = ()) -> list[Path]:
    """Remove ``rootfs-SUITE-*`` work folders killed builds left in ``folder``.

    Call it holding the build lock of ``suite`` and ``packages``: then no live build uses
    any of them. The name must be exactly mkdtemp's (eight characters after the prefix) so
    that the work of a suite such as ``bookworm-backports`` (or of another package set) is
    never taken for ``bookworm``'s.
    """
    pattern = re.compile(re.escape(work_prefix(suite, packages)) + r"[a-z0-9_]{8}")
    removed = []
    try:
        children = list(folder.iterdir())
    except OSError:
        return []
    for child in sorted(children):
        if pattern.fullmatch(child.name) and child.is_dir() and not child.is_symlink():
            log.info("removing %s left by a killed image build", child)
            _remove_work(child)
            if not child.exists():
                removed.append(child)
    return removed


def _debootstrap(
    debootstrap: str,
    suite: str,
    mirror: str,
    target: Path,
    step: Callable[[str, str], None],
    cancel: CancelToken,
    include: tuple[str, ...] = sources.INCLUDE,
) -> None:
    argv = [
        debootstrap, "--variant=minbase", "--include=" + ",".join(include), suite, str(target),
    ]
    if mirror:
        argv.append(mirror)
    step("debootstrap", " ".join(argv[1:]))
    env = {"PATH": PATH, "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    result = run_process(
        argv, cwd=target.parent, env=env, cancel=cancel,
        on_output=lambda _stream, line: step("debootstrap", line),
    )
    if result.cancelled:
        cancel.raise_if_cancelled("image build")
    if result.exit_code != 0:
        log = target / "debootstrap" / "debootstrap.log"
        raise ImageError(
            f"debootstrap {suite} failed with exit code {result.exit_code}",
            f"see the output above{' and ' + str(log) if log.exists() else ''};"
            " check the mirror (--mirror URL)",
        )


def _trim(rootfs: Path) -> None:
    """Drop downloaded .debs and apt lists: they are half the size and never used."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"):
        for path in rootfs.glob(pattern):
            path.unlink(missing_ok=True)


# What package scripts create that test objects never use: PostgreSQL's default cluster
# (postgresql-common's postinst runs pg_createcluster: ~40 MB of data plus its config, which
# pg_lsclusters would keep listing) and the system tables mariadb-install-db writes.
DEFAULT_DATA = ("var/lib/postgresql/*/main", "etc/postgresql/*/main", "var/lib/mysql/*")


def _stop_chroot_processes(rootfs: Path) -> list[str]:
    """SIGKILL processes whose root is inside ``rootfs``; returns what they ran.

    debootstrap installs a policy-rc.d that forbids starting services, but a package
    script may still launch a daemon directly; one left running would keep files of the
    rootfs open (and run forever on the build host).
    """
    import signal

    root = str(rootfs.resolve())
    stopped = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            where = os.readlink(entry / "root")
            if where != root and not where.startswith(root + "/"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue
        stopped.append(command.strip() or entry.name)
    return stopped


def _drop_default_data(rootfs: Path) -> list[str]:
    """Remove the default database data package scripts created (see DEFAULT_DATA).

    Returns the patterns that matched something, as absolute paths in the image.
    """
    removed = []
    for pattern in DEFAULT_DATA:
        paths = sorted(rootfs.glob(pattern))
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if paths:
            removed.append("/" + pattern)
    return removed


def _settle_packages(rootfs: Path, step: Callable[[str, str], None]) -> None:
    """After extra packages: no daemon left running, no default databases kept."""
    for command in _stop_chroot_processes(rootfs):
        step("rootfs", f"stopped a process a package script left running: {command}")
    removed = _drop_default_data(rootfs)
    if removed:
        step("rootfs", f"removed default data of package scripts: {', '.join(removed)}")


def make_rootfs(
    suite: str,
    mirror: str,
    step: Callable[[str, str], None],
    cancel: CancelToken,
    packages: tuple[str, ...] = (),
) -> tuple[Path, dict[str, Any], bool]:
    """The cached rootfs tarball for ``suite`` and its metadata, building it if needed.

    ``packages`` are Debian packages installed besides :data:`INCLUDE` (checked by
    :func:`ptest_tui.engines.image_sources.check_packages`); each package set is cached
    in its own tarball.
    """
    from filelock import FileLock

    include = sources.include_for(packages)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / sources.cache_name(suite, include)
    meta_file = folder / (tarball.name.removesuffix(".tar.gz") + ".json")
    with FileLock(str(tarball) + ".lock"):
        for stale in remove_stale_work(folder, suite, packages):
            step("rootfs", f"removed {stale.name} left by a killed build")
        for temp in folder.glob(f".{meta_file.name}.*.tmp"):  # a write_meta killed mid-way
            temp.unlink(missing_ok=True)
        if tarball.is_file() and meta_file.is_file():
            cached_meta = read_meta(meta_file)
            if cached_meta is not None:
                step("rootfs", f"using cached {tarball}")
                return tarball, cached_meta, True
            step("rootfs", f"{meta_file.name} is unreadable; building the rootfs again")
        debootstrap = check_can_build(suite)
        work = Path(tempfile.mkdtemp(prefix=work_prefix(suite, packages), dir=folder))
        try:
            rootfs = work / "rootfs"
            rootfs.mkdir()
            try:
                _debootstrap(debootstrap, suite, mirror, rootfs, step, cancel, include)
            finally:
                if packages:
                    _settle_packages(rootfs, step)
            _trim(rootfs)
            tools = {"PATH": PATH, "LANG": "C.UTF-8"}
            version = run_quiet(
                ["chroot", str(rootfs), "python3", "-c", VERSION_PROBE], env=tools
            ).strip()
            step("rootfs", f"{suite} has Python {version}; packing {tarball.name}")
            partial = work / "rootfs.tar.gz"
            run_quiet(
                ["tar", "--numeric-owner", "-czf", str(partial), "-C", str(rootfs), "."],
                env=tools,
                timeout=900,
            )
            cancel.raise_if_cancelled("image build")
            meta = {
                "suite": suite,
                "python_version": version,
                "packages": list(include),
                "mirror": mirror,
                "created": time.time(),
            }
            # Tarball first, then its metadata: a kill in between leaves no meta (a rebuild).
            os.replace(partial, tarball)
            write_meta(meta_file, meta)
            return tarball, meta, False
        finally:
            _remove_work(work)


def read_meta(path: Path) -> dict[str, Any] | None:
    """The cached rootfs metadata, or None when it is missing, truncated or not ours."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(data, dict):
        return None
    version = data.get("python_version")
    if not isinstance(version, str) or not version:
        return None
    return dict(data)


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write ``meta`` beside ``path`` then rename it over: never a half-written file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(meta, indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
