"""Packages in docker environments: offline installs from the shared host cache.

A container runs with network ``none``, so it cannot download anything. Instead:

1. :func:`populate_cache` runs uv **on the host** (``uv pip install --target <tmp>
   --python-version X.Y.Z --python-platform <container platform>``) to fill the shared uv
   cache with everything the requirements need for the container's Python and platform;
   the temporary target folder is deleted, nothing is installed on the host.
2. Inside the container, uv (the host's binary, mounted read-only) installs into the env's
   venv with ``UV_OFFLINE=1``, reading that cache.

The shared cache is mounted **read-only** (at its host path, see :func:`mount_point`), so
code running in a container can never alter what other environments install. uv 0.13
cannot use a read-only cache directly (it creates a lock file in the cache root), so the
container gets its own small writable cache, ``/env/uv-cache``, whose buckets are symlinks
into the shared one (:data:`FARM_SCRIPT`); buckets uv writes per interpreter stay local.

Host paths a tool needs are made visible without new mounts (find-links folders are
mirrored into the cache folder, files named in a command are copied in) and credentials
never enter the container: see :mod:`ptest_tui.engines.docker_pkgargs`.

Code: this module (state, create-time setup, running a tool), ``docker_cachefill``
(the host side), ``docker_pkgargs`` (arguments); the engine's methods in ``docker.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult, OutputCallback, PackageTarget
from ptest_tui.engines.docker_cachefill import (
    CacheFillError,
    CacheFillUsageError,
    cache_root,
    populate_cache,
    summarize_uv_error,
)
from ptest_tui.engines.docker_exec import run_exec
from ptest_tui.engines.docker_pkgargs import (
    FIND_LINKS_MIRROR,
    files_to_stage,
    rewrite_args,
    staging_archive,
)
from ptest_tui.errors import (
    CancelledError,
    EngineError,
    EnvStateError,
    PackageError,
    PtestError,
)

if TYPE_CHECKING:
    from ptest_tui.engines.docker import DockerEngine
    from ptest_tui.engines.spec import EnvSpec
    from ptest_tui.store import EnvRecord

__all__ = [
    "CacheFillError",
    "CacheFillUsageError",
    "ContainerPackages",
    "HostSupport",
    "populate_cache",
    "summarize_uv_error",
]

VENV = "/env/venv"
PYTHON = f"{VENV}/bin/python"
UV = "/opt/ptest/bin/uv"
LOCAL_CACHE = "/env/uv-cache"
STATE_KEY = "packages"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STATE_FORMAT = 1
# uv accepts --python-platform <arch>-manylinux_2_<minor> for these minors (uv 0.13).
MANYLINUX_MINORS = range(17, 41)
# Mount points that would hide a container's own system folders.
RESERVED = ("/bin", "/boot", "/dev", "/env", "/etc", "/lib", "/lib32", "/lib64", "/opt/ptest",
            "/proc", "/run", "/sbin", "/sys", "/usr", "/var/lib", "/var/run")

# One exec at create time: the Python version, the machine and glibc (for the platform
# tag of populate_cache), and, when packages are wanted, the venv plus a check that the
# mounted uv binary runs in this image (a musl image cannot run the glibc build).
SETUP_SCRIPT = r"""
import json, os, subprocess, sys
info = {"python_version": "%d.%d.%d" % sys.version_info[:3], "machine": os.uname().machine}
try:
    info["libc"] = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (ValueError, OSError):
    info["libc"] = ""
if len(sys.argv) > 2:
    try:
        import venv
        venv.EnvBuilder(symlinks=True, with_pip=False).create(sys.argv[1])
    except Exception as exc:
        info["error"] = "cannot create the venv %s: %s" % (sys.argv[1], exc)
    else:
        try:
            done = subprocess.run([sys.argv[2], "--version"], capture_output=True, timeout=60)
            if done.returncode:
                last = done.stderr.decode(errors="replace").strip().splitlines() or ["?"]
                info["error"] = "the mounted uv does not run in this image: " + last[-1]
        except (OSError, subprocess.SubprocessError) as exc:
            info["error"] = "the mounted uv does not run in this image: %s" % exc
print(json.dumps(info))
"""

# Before every package tool run: point the container's cache buckets at the shared cache
# ($1/<bucket>), drop links whose target vanished (a cleaned cache), then exec the tool.
# Buckets uv writes for this interpreter or for build/tool envs stay local. Arguments are
# data ("$@"), never code.
FARM_SCRIPT = (
    'shared="$1"; shift; local=' + LOCAL_CACHE + '; mkdir -p "$local" || exit 70; '
    'for l in "$local"/*; do if [ -L "$l" ] && [ ! -e "$l" ]; then rm -f "$l"; fi; done; '
    'for d in "$shared"/*/; do [ -d "$d" ] || continue; n="${d%/}"; n="${n##*/}"; '
    'case "$n" in interpreter-v*|builds-v*|environments-v*) continue ;; esac; '
    'if [ ! -L "$local/$n" ]; then rm -rf "${local:?}/$n"; ln -s "$shared/$n" "$local/$n"; fi; '
    'done; exec "$@"'
)


@dataclass(frozen=True)
class ContainerPackages:
    """What a docker env's engine_state records about its packages (key ``packages``).

    ``reason`` is set, and the rest empty, when the env cannot hold packages (remote
    daemon, no uv on the host, an image whose Python has no venv module...).
    """

    reason: str = ""
    python: str = PYTHON
    uv: str = UV
    cache_root: str = ""  # the host's user cache folder, mounted read-only at this path
    python_version: str = ""
    platform: str = ""  # uv --python-platform of the container, e.g. x86_64-manylinux_2_36
    format: int = STATE_FORMAT

    @property
    def supported(self) -> bool:
        """Whether package tools can run in the env."""
        return not self.reason

    @property
    def shared_uv_cache(self) -> str:
        """The shared uv cache as the container sees it (read-only)."""
        return f"{self.cache_root.rstrip('/')}/uv"

    def to_state(self) -> dict[str, Any]:
        """JSON-ready data for engine_state."""
        return asdict(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ContainerPackages | None:
        """The record in ``state`` (an env's engine_state); None for envs made before it."""
        data = state.get(STATE_KEY)
        if not isinstance(data, Mapping):
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class HostSupport:
    """What the host offers containers for packages: the uv binary and the cache folder."""

    uv: str = ""
    cache_root: str = ""
    reason: str = ""  # why packages cannot work, when set


def mount_point(cache_root: Path) -> str:
    """Where the cache folder is mounted: its own host path, or "" if that is unsafe.

    The same path on both sides makes uv's cache keys for find-links folders (keyed by
    path) identical in the container and on the host.
    """
    path = str(cache_root)
    if path == "/" or any(path == r or path.startswith(r + "/") for r in RESERVED):
        return ""
    return path


def host_support(shares_host_filesystem: bool, find_uv: Callable[[], str | None]) -> HostSupport:
    """Whether containers of this engine can hold packages, and with what."""
    if not shares_host_filesystem:
        return HostSupport(
            reason="package installs in docker envs need a local Docker daemon for now"
            " (the shared package cache is bind-mounted into the container)"
        )
    uv = find_uv()
    if uv is None:
        return HostSupport(reason="no uv binary found on this host (pip install uv)")
    root = cache_root()
    if not mount_point(root):
        return HostSupport(
            reason=f"the cache folder {root} cannot be mounted into containers",
            )
    return HostSupport(uv=os.path.realpath(uv), cache_root=str(root))


def prepare_host(support: HostSupport) -> list[Any]:
    """Create the shared cache folders and return the two read-only mounts."""
    from docker.types import Mount

    root = Path(support.cache_root)
    (root / "uv").mkdir(parents=True, exist_ok=True)
    (root / FIND_LINKS_MIRROR).mkdir(exist_ok=True)
    return [
        Mount(UV, support.uv, type="bind", read_only=True),
        Mount(support.cache_root, support.cache_root, type="bind", read_only=True),
    ]


def platform_tag(machine: str, libc: str) -> str:
    """uv's ``--python-platform`` for a container: ``x86_64-manylinux_2_36`` for glibc 2.36.

    ``libc`` is ``os.confstr("CS_GNU_LIBC_VERSION")`` (``"glibc 2.36"``); without glibc
    the platform is musl. Versions beyond what uv knows use its newest manylinux.
    """
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    match = re.fullmatch(r"glibc (\d+)\.(\d+)", libc.strip())
    if arch not in ("x86_64", "aarch64"):
        return f"{arch}-unknown-linux-gnu" if match else f"{arch}-unknown-linux-musl"
    if not match:
        return f"{arch}-unknown-linux-musl"
    minor = int(match.group(2)) if match.group(1) == "2" else MANYLINUX_MINORS[-1]
    minor = max(MANYLINUX_MINORS[0], min(minor, MANYLINUX_MINORS[-1]))
    return f"{arch}-manylinux_2_{minor}"


def venv_environment(image: Mapping[str, Any]) -> dict[str, str]:
    """PATH and VIRTUAL_ENV of a container with a venv (``image``: inspect_image data).

    The venv comes first, as in virtualenv envs: installed packages and their scripts are
    what ``python3`` and the command line find.
    """
    image_env = (image.get("Config") or {}).get("Env") or []
    path = next((e[5:] for e in image_env if e.startswith("PATH=")), DEFAULT_PATH)
    return {"PATH": f"{VENV}/bin:{path}", "VIRTUAL_ENV": VENV}


def parse_setup(lines: Sequence[str]) -> dict[str, str]:
    """The JSON line :data:`SETUP_SCRIPT` printed (empty dict if there is none)."""
    for line in reversed(lines):
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict):
                return {str(k): str(v) for k, v in data.items()}
    return {}


def container_command(tool: str, args: Sequence[str], packages: ContainerPackages) -> list[str]:
    """The exec argv: the cache farm script, then the tool (uv or the venv's python)."""
    if tool == "uv":
        program = packages.uv
    elif tool == "python":
        program = packages.python
    else:
        raise PackageError(f"unknown package tool {tool!r}", "use uv or python")
    return ["sh", "-c", FARM_SCRIPT, "ptest-pkg", packages.shared_uv_cache, program, *args]


def tool_environment(passed: Mapping[str, str] | None) -> dict[str, str]:
    """Variables for a tool in the container: offline, the local cache farm, no config.

    From ``passed`` (the host tool environment) only ``UV_*`` settings survive: host
    paths and the host's PATH mean nothing in the container.
    """
    env = {k: v for k, v in (passed or {}).items() if k.startswith("UV_")}
    env.update(
        UV_CACHE_DIR=LOCAL_CACHE,
        UV_OFFLINE="1",
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        # The cache is another filesystem (a bind mount): hard links cannot cross it.
        UV_LINK_MODE="copy",
        UV_NO_PROGRESS="1",
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUAL_ENV=VENV,
    )
    return env


def state_problem(state: Mapping[str, Any], name: str) -> tuple[str, str] | None:
    """(message, hint) when env ``name`` (its engine_state) cannot run package tools."""
    packages = ContainerPackages.from_state(state)
    if packages is None:
        return (
            f"environment {name!r} was created before docker envs could hold packages",
            f"recreate the env: `ptest-tui env delete {name}`, then `ptest-tui env create`",
        )
    if not packages.supported:
        return (
            f"environment {name!r} cannot hold packages: {packages.reason}",
            "recreate the env once that is fixed",
        )
    return None


def checked_state(record: EnvRecord) -> ContainerPackages:
    """The env's package record; EnvStateError when it cannot run package tools."""
    problem = state_problem(record.engine_state, record.name)
    found = ContainerPackages.from_state(record.engine_state)
    if problem or found is None:
        raise EnvStateError(*(problem or ("no package record", "")))
    return found


# -- the engine's side: create, run a tool, install at create --------------------------------


def setup_container(
    api: Any, container: str, cancel: CancelToken, support: HostSupport
) -> dict[str, str]:
    """One exec at create: Python version, machine, glibc; with packages, the venv too."""
    lines: list[str] = []
    errors: list[str] = []

    def collect(stream: str, line: str) -> None:
        (lines if stream == "stdout" else errors).append(line)

    argv = ["python3", "-c", SETUP_SCRIPT]
    if not support.reason:
        argv += [VENV, UV]
    result = run_exec(api, container, argv, environment={}, workdir=None, on_output=collect,
                      cancel=cancel, timeout=60)
    cancel.raise_if_cancelled("create")
    setup = parse_setup(lines)
    if result.exit_code != 0 or not setup.get("python_version"):
        detail = (errors or lines or ["no output"])[-1]
        raise EngineError(
            f"python3 does not run in the container: {detail}",
            "use an image with python3, e.g. one from `ptest-tui image build`",
        )
    return setup


def packages_state(support: HostSupport, setup: Mapping[str, str]) -> ContainerPackages:
    """The record stored for a new container, from the host's offer and the setup exec."""
    reason = support.reason or setup.get("error", "")
    if reason:
        return ContainerPackages(reason=reason)
    return ContainerPackages(
        cache_root=support.cache_root,
        python_version=setup["python_version"],
        platform=platform_tag(setup.get("machine", ""), setup.get("libc", "")),
    )


def run_tool(
    engine: DockerEngine,
    record: EnvRecord,
    argv: Sequence[str],
    *,
    on_output: OutputCallback,
    cancel: CancelToken,
    env: Mapping[str, str] | None,
    timeout: float | None,
) -> ExecResult:
    """:meth:`DockerEngine.run_package_tool`: rewrite, stage files, exec offline."""
    packages = checked_state(record)
    if not argv:
        raise PackageError("no package tool given", "use uv or python")
    args = rewrite_args(argv[1:], Path(packages.cache_root), keep_credentials=False)
    command = container_command(argv[0], args, packages)
    offset = len(command) - len(args)
    container = engine.container_ref(record)
    api = engine.api()
    staged = files_to_stage(args, [packages.cache_root])
    if staged:
        archive, replaced = staging_archive(staged)
        api.put_archive(container, "/", archive)
        for index, new in replaced.items():
            command[offset + index] = new
    return run_exec(api, container, command, environment=tool_environment(env), workdir=None,
                    on_output=on_output, cancel=cancel, timeout=timeout)


def install_at_create(
    engine: DockerEngine, spec: EnvSpec, state: dict[str, Any], cancel: CancelToken
) -> None:
    """Install ``spec.packages`` into a new container: fetch on the host, install inside.

    The same uv installer as ``pkg install`` (index settings, classified and redacted
    errors); uv whatever the configured backend, since pip cannot read uv's cache.
    """
    from ptest_tui.packages.index import IndexConfig
    from ptest_tui.packages.installers import UvInstaller
    from ptest_tui.store import EnvRecord

    record = EnvRecord(name=spec.name, isolation=engine.name, status="creating",
                       spec=spec.to_dict(), engine_state=state)
    packages = checked_state(record)
    index = IndexConfig.from_config(engine.context.config)
    target = PackageTarget(python=packages.python, in_container=True)
    installer = UvInstaller(engine, record, target, index)
    try:
        # Offline first: a warm shared cache needs no host-side fill (see PackageService).
        installer.install(list(spec.packages), upgrade=False, pins=[], cancel=cancel)
        return
    except CancelledError:
        raise
    except PtestError:
        pass  # something is not cached yet: fill on the host, then the real attempt
    populate_cache(spec.packages, index_args=index.uv_args(),
                   python_version=packages.python_version, platform_tag=packages.platform,
                   cancel=cancel)
    installer.install(list(spec.packages), upgrade=False, pins=[], cancel=cancel)
