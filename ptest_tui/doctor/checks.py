"""The doctor's checks: one small function each, all reading real state of this machine.

Every check takes a :class:`DoctorContext` and returns a :class:`CheckResult` with
``required=False``; :func:`ptest_tui.doctor.run_checks` decides the levels afterwards.
The Docker SDK is imported only inside
:class:`~ptest_tui.doctor.docker_probe.DockerProbe`, so the doctor starts fast.
"""

from __future__ import annotations

import grp
import importlib.metadata
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ptest_tui.doctor.docker_probe import DEFAULT_SOCKET, DockerProbe, short_docker_error
from ptest_tui.doctor.fix import (
    ORDER_GROUP,
    SBIN_DIRS,
    daemon_start_fix,
    find_program,
    image_build_fix,
    os_package_fix,
    pip_fix,
    python_fix,
)
from ptest_tui.doctor.report import CheckResult, FixAction

MIN_PYTHON = (3, 11)
MIN_FREE_BYTES = 2 * 1024**3
GIB = 1024**3


@dataclass(frozen=True)
class DoctorContext:
    """What the checks look at: environment, OS, workspace settings, thresholds."""

    environ: Mapping[str, str]
    package_manager: str
    system: str
    docker_host: str  # config docker.host, else DOCKER_HOST, else "" (the local socket)
    image: str
    cache_dir: Path
    workspace: Path | None = None
    min_free: int = MIN_FREE_BYTES
    extra_dirs: tuple[str, ...] = SBIN_DIRS
    python_version: tuple[int, int, int] = (
        sys.version_info[0], sys.version_info[1], sys.version_info[2]
    )
    docker: DockerProbe | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.docker is None:  # the usual frozen-dataclass idiom for a derived default
            object.__setattr__(self, "docker", DockerProbe(self.docker_host, self.environ))

    def probe(self) -> DockerProbe:
        """The Docker probe shared by the checks of one run."""
        assert self.docker is not None
        return self.docker

    def program(self, name: str) -> str:
        """``name`` on this context's PATH (and the sbin folders), or ``""``."""
        return find_program(name, self.environ, self.extra_dirs)

    def uv(self) -> str | None:
        """The uv binary ptest-tui would use."""
        from ptest_tui.engines.virtualenv import find_uv

        return find_uv()


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _short_version(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version[:2]))


# -- core -----------------------------------------------------------------------------------


def check_python(ctx: DoctorContext) -> CheckResult:
    """The interpreter running ptest-tui is Python 3.11 or newer."""
    version = ".".join(map(str, ctx.python_version))
    if ctx.python_version[:2] >= MIN_PYTHON:
        return CheckResult("python", True, f"Python {version} ({sys.executable})", "ptest-tui")
    wanted = _short_version(MIN_PYTHON)
    return CheckResult(
        "python", False, f"Python {version} is too old; ptest-tui needs {wanted} or newer",
        "ptest-tui", python_fix(wanted, ctx.package_manager),
        manual_fix=f"then reinstall ptest-tui with Python {wanted}",
    )


def check_venv(ctx: DoctorContext) -> CheckResult:
    """``python -m venv`` works: the venv module and ensurepip with its bundled pip."""
    needed_by = "virtualenv environments without uv"
    missing = [m for m in ("venv", "ensurepip") if importlib.util.find_spec(m) is None]
    detail = ""
    if not missing:
        try:
            import ensurepip

            detail = f"venv and ensurepip (pip {ensurepip.version()})"
        except Exception:  # Debian strips ensurepip's wheels into python3-venv
            missing = ["ensurepip's bundled pip"]
    if not missing:
        return CheckResult("venv", True, detail, needed_by, features=frozenset({"venv"}))
    fix = python_fix(_short_version(ctx.python_version), ctx.package_manager, venv_only=True)
    return CheckResult(
        "venv", False, "missing: " + ", ".join(missing), needed_by, fix,
        features=frozenset({"venv"}),
    )


def check_uv(ctx: DoctorContext) -> CheckResult:
    """The uv binary (fast venv creation and installs)."""
    needed_by = "virtualenv environments and package installs (default installer)"
    uv = ctx.uv()
    if not uv:
        return CheckResult(
            "uv", False, "uv not found (next to Python, on PATH or as the uv package)",
            needed_by, pip_fix("uv"), features=frozenset({"uv"}),
        )
    try:
        out = subprocess.run(
            [uv, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        version = out.stdout.strip() or out.stderr.strip()
        ok = out.returncode == 0
    except (OSError, subprocess.TimeoutExpired) as exc:
        version, ok = f"cannot run: {exc}", False
    return CheckResult(
        "uv", ok, f"{version} ({uv})", needed_by, None if ok else pip_fix("uv"),
        features=frozenset({"uv"}),
    )


def check_virtualenv(ctx: DoctorContext) -> CheckResult:
    """The virtualenv library (the fallback when uv is missing)."""
    needed_by = "virtualenv environments without uv"
    if importlib.util.find_spec("virtualenv") is None:
        return CheckResult(
            "virtualenv", False, "the virtualenv package is not installed", needed_by,
            pip_fix("virtualenv", ctx.uv()), features=frozenset({"virtualenv"}),
        )
    version = _package_version("virtualenv")
    return CheckResult(
        "virtualenv", True, f"virtualenv {version}", needed_by,
        features=frozenset({"virtualenv"}),
    )


# -- docker ---------------------------------------------------------------------------------

DOCKER_NEEDED_BY = "docker environments"
DOCKER_FEATURES = frozenset({"docker"})


def check_docker_sdk(ctx: DoctorContext) -> CheckResult:
    """The docker Python SDK is importable (without importing it: that is slow)."""
    if importlib.util.find_spec("docker") is None:
        return CheckResult(
            "docker-sdk", False, "the docker Python package is not installed", DOCKER_NEEDED_BY,
            pip_fix("docker", ctx.uv()), features=DOCKER_FEATURES,
        )
    return CheckResult(
        "docker-sdk", True, f"docker SDK {_package_version('docker')}", DOCKER_NEEDED_BY,
        features=DOCKER_FEATURES,
    )


def check_docker_cli(ctx: DoctorContext) -> CheckResult:
    """The ``docker`` command (optional: ptest-tui talks to the daemon through the SDK)."""
    needed_by = "your own docker commands (optional; ptest-tui uses the SDK)"
    path = ctx.program("docker")
    if path:
        return CheckResult("docker-cli", True, path, needed_by,
                           features=frozenset({"docker-cli"}))
    return CheckResult(
        "docker-cli", False, "docker not found on PATH", needed_by,
        os_package_fix("docker-cli", ctx.package_manager), features=frozenset({"docker-cli"}),
    )


def check_docker_daemon(ctx: DoctorContext) -> CheckResult:
    """The Docker daemon answers a ping within a few seconds."""
    probe = ctx.probe()
    api, error = probe.connect()
    if api is not None:
        try:
            version = api.version().get("Version", "?")
        except Exception as exc:  # answered the ping; the version is only for the detail
            version = f"? ({short_docker_error(exc)})"
        return CheckResult("docker-daemon", True, f"Docker {version} at {probe.where()}",
                           DOCKER_NEEDED_BY, features=DOCKER_FEATURES)
    target = probe.target()
    fix: FixAction | None = None
    manual = ""
    if importlib.util.find_spec("docker") is None:
        # Without the SDK we cannot tell a stopped daemon from a running one.
        manual = "install the docker SDK first (see docker-sdk)"
    elif target is not None and not target.is_local:
        manual = f"start the daemon at {target.url}, or fix DOCKER_HOST / docker.host"
    elif ctx.program("dockerd") or (ctx.system == "Darwin" and ctx.program("docker")):
        fix = daemon_start_fix(ctx.system, ctx.environ, ctx.extra_dirs)
        manual = "" if fix else "start the Docker daemon"
    else:
        fix = os_package_fix("docker", ctx.package_manager)
        manual = "then run `ptest-tui doctor --fix` again to start it" if fix else (
            "install Docker: https://docs.docker.com/engine/install/"
        )
    return CheckResult("docker-daemon", False, error, DOCKER_NEEDED_BY, fix,
                       features=DOCKER_FEATURES, manual_fix=manual)


def _socket_path(ctx: DoctorContext) -> str | None:
    """The local socket in use, or None for a remote daemon (tcp://, ssh://)."""
    target = ctx.probe().target()
    if target is not None:
        return target.socket_path  # type: ignore[no-any-return]
    host = ctx.docker_host or ctx.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    return host[len("unix://"):] if host.startswith("unix://") else None


def check_docker_socket(ctx: DoctorContext) -> CheckResult:
    """This user can read and write the daemon's unix socket."""
    name, features = "docker-socket", DOCKER_FEATURES
    path = _socket_path(ctx)
    if path is None:
        return CheckResult(name, True, f"no local socket: using {ctx.probe().where()}",
                           DOCKER_NEEDED_BY, features=features)
    try:
        info = os.stat(path)
    except OSError:
        return CheckResult(name, False, f"no socket at {path} (the daemon is not running?)",
                           DOCKER_NEEDED_BY, features=features,
                           manual_fix="start the daemon (see docker-daemon)")
    if not stat.S_ISSOCK(info.st_mode):
        return CheckResult(name, False, f"{path} is not a socket", DOCKER_NEEDED_BY,
                           features=features, manual_fix="check DOCKER_HOST / docker.host")
    if os.access(path, os.R_OK | os.W_OK):
        return CheckResult(name, True, f"{path} is readable and writable", DOCKER_NEEDED_BY,
                           features=features)
    return _socket_permission_result(ctx, path, info.st_gid)


def _socket_permission_result(ctx: DoctorContext, path: str, gid: int) -> CheckResult:
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    user = ctx.environ.get("SUDO_USER") or ctx.environ.get("USER") or str(os.getuid())
    detail = f"{user} cannot read and write {path} (group {group})"
    if gid == 0:  # adding people to the root group is worse than the problem
        return CheckResult("docker-socket", False, detail, DOCKER_NEEDED_BY,
                           features=DOCKER_FEATURES,
                           manual_fix="run as root, or use rootless Docker and DOCKER_HOST")
    fix = FixAction(("usermod", "-aG", group, user), needs_root=True, order=ORDER_GROUP,
                    note=f"log out and back in (or run `newgrp {group}`) to use the new group")
    return CheckResult("docker-socket", False, detail, DOCKER_NEEDED_BY, fix,
                       features=DOCKER_FEATURES, manual_fix=fix.note)


def check_base_image(ctx: DoctorContext) -> CheckResult:
    """The configured base image (``docker.image``) exists on the daemon (never pulled)."""
    name, needed_by = "base-image", "docker environments (config docker.image)"
    features = frozenset({"docker", "image"})
    fix = image_build_fix(ctx.image, ctx.workspace)
    api, error = ctx.probe().connect()
    if api is None:
        return CheckResult(name, False, f"cannot look for {ctx.image}: {error}", needed_by, fix,
                           features=features)
    try:
        info = api.inspect_image(ctx.image)
    except Exception as exc:  # docker.errors.ImageNotFound and API errors
        missing = type(exc).__name__ == "ImageNotFound"
        detail = f"{ctx.image} is not on the daemon" if missing else (
            f"cannot look for {ctx.image}: {short_docker_error(exc)}"
        )
        return CheckResult(name, False, detail, needed_by, fix, features=features)
    size = (info.get("Size") or 0) / 1024**2
    short_id = str(info.get("Id", "")).removeprefix("sha256:")[:12]
    return CheckResult(name, True, f"{ctx.image} ({short_id}, {size:.0f} MiB)",
                       needed_by, features=features)


def check_debootstrap(ctx: DoctorContext) -> CheckResult:
    """debootstrap, which ``ptest-tui image build`` uses to build base images offline."""
    features = frozenset({"debootstrap", "image-build"})
    path = ctx.program("debootstrap")
    if path:
        return CheckResult("debootstrap", True, path, "image build", features=features)
    fix = os_package_fix("debootstrap", ctx.package_manager)
    manual = "" if fix else "image build needs a Linux host with debootstrap"
    return CheckResult("debootstrap", False, "debootstrap not found", "image build", fix,
                       features=features, manual_fix=manual)


# -- disk -----------------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (the cache may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _disk_result(name: str, path: Path, needed_by: str, min_free: int) -> CheckResult:
    where = _existing(path)
    free = shutil.disk_usage(where).free
    detail = f"{free / GIB:.1f} GiB free in {path}"
    if free >= min_free:
        return CheckResult(name, True, detail, needed_by, features=frozenset({"disk"}))
    return CheckResult(
        name, False, f"{detail} (below {min_free / GIB:.1f} GiB)", needed_by,
        features=frozenset({"disk"}),
        manual_fix="free space: `ptest-tui env cleanup`, `docker system prune`",
    )


def check_disk_workspace(ctx: DoctorContext) -> CheckResult:
    """Free space where environments are made (the workspace, or the current folder)."""
    path = ctx.workspace or Path.cwd()
    return _disk_result("disk-workspace", path, "environments and their files", ctx.min_free)


def check_disk_cache(ctx: DoctorContext) -> CheckResult:
    """Free space in the user cache folder shared by every workspace."""
    return _disk_result("disk-cache", ctx.cache_dir, "package cache and downloads", ctx.min_free)


#: Every machine check, in display order.
CHECKS: tuple[Callable[[DoctorContext], CheckResult], ...] = (
    check_python,
    check_venv,
    check_uv,
    check_virtualenv,
    check_docker_sdk,
    check_docker_cli,
    check_docker_daemon,
    check_docker_socket,
    check_base_image,
    check_debootstrap,
    check_disk_workspace,
    check_disk_cache,
)
