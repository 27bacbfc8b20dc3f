"""Finding and connecting to the Docker daemon.

The daemon comes from, in order: ``docker.host`` in the configuration, ``DOCKER_HOST``
(with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``), the current Docker CLI context
(``DOCKER_CONTEXT`` or ``~/.docker/config.json``), else the default local socket. Only a
local unix socket is assumed to share this host's filesystem; ``tcp://`` and ``ssh://``
daemons get files through the API instead of bind mounts.

The docker SDK is imported inside functions so importing this module stays cheap.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ptest_tui.errors import EngineUnavailableError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
PING_TIMEOUT = 3.0  # seconds; a daemon that does not answer a ping this fast is "down"
API_TIMEOUT = 120.0  # seconds for ordinary calls once connected
# Connections kept per host: 100 parallel creates must not queue on a pool of 10.
MAX_POOL_SIZE = 128


@dataclass(frozen=True)
class DockerTarget:
    """Where the daemon is and how we found it."""

    url: str
    source: str  # "docker.host", "DOCKER_HOST", "context NAME" or "default socket"
    tls: Any = None  # a docker.tls.TLSConfig, True, or None

    @property
    def socket_path(self) -> str | None:
        """The socket file of a local ``unix://`` daemon, else None."""
        for prefix in ("unix://", "http+unix://"):
            if self.url.startswith(prefix):
                return self.url[len(prefix) :] or "/var/run/docker.sock"
        return None

    @property
    def is_local(self) -> bool:
        """True for a unix socket: the daemon sees this host's filesystem."""
        return self.socket_path is not None

    def describe(self) -> str:
        """``tcp://host:2376 (from DOCKER_HOST)``."""
        return f"{self.url} (from {self.source})"


def resolve_target(configured: str, environ: Mapping[str, str]) -> DockerTarget:
    """Decide which daemon to talk to; never contacts it."""
    if configured:
        return DockerTarget(configured, "docker.host")
    if environ.get("DOCKER_HOST"):
        from docker.utils import kwargs_from_env

        params = kwargs_from_env(environment=dict(environ))
        return DockerTarget(str(params["base_url"]), "DOCKER_HOST", params.get("tls"))
    try:
        from docker.context import ContextAPI

        name = environ.get("DOCKER_CONTEXT") or None
        context = ContextAPI.get_context(name)
        if context is not None and context.Host:
            label = f"context {context.Name}"
            if context.Name == "default":
                return DockerTarget(str(context.Host), label)
            return DockerTarget(str(context.Host), label, context.TLSConfig)
    except Exception:  # noqa: S110 - a broken CLI config must not hide the default socket
        pass
    return DockerTarget(DEFAULT_SOCKET, "default socket")


def _socket_problem(path: str) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"docker socket {path} does not exist (is the Docker daemon installed and running?)"
    except PermissionError:
        return f"permission denied on docker socket {path}"
    if not stat.S_ISSOCK(mode):
        return f"{path} is not a socket"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"permission denied on docker socket {path} (add your user to the docker group)"
    return None


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        if nxt is None:
            break
        exc = nxt
    return exc


def connect(target: DockerTarget) -> Any:
    """A connected low-level ``docker.APIClient``; raises EngineUnavailableError with a reason.

    The client asks the daemon for its API version (one round trip with a short timeout,
    which doubles as the ping), then switches to the normal timeout.
    """
    try:
        import docker
    except ImportError as exc:
        raise EngineUnavailableError(
            f"the docker Python package is not importable ({exc})", "pip install docker"
        ) from None
    path = target.socket_path
    if path:
        problem = _socket_problem(path)
        if problem:
            raise EngineUnavailableError(problem, "start the daemon, or check `docker info`")
    try:
        import paramiko  # noqa: F401 - only decides how ssh:// is reached
        shell_out = False
    except ImportError:
        shell_out = True  # use the ssh binary, as the docker CLI does
    try:
        api = docker.APIClient(
            base_url=target.url,
            version="auto",
            timeout=PING_TIMEOUT,
            tls=target.tls or False,
            max_pool_size=MAX_POOL_SIZE,
            use_ssh_client=shell_out,
        )
        api.ping()
    except Exception as exc:
        cause = _root_cause(exc)
        if isinstance(cause, PermissionError) or getattr(cause, "errno", None) == errno.EACCES:
            reason = f"permission denied on docker socket {path or target.url}"
        else:
            reason = f"the Docker daemon is not answering at {target.describe()}"
        raise EngineUnavailableError(reason, "check `docker info`") from None
    api.timeout = API_TIMEOUT
    if target.url.startswith("tcp://") and not target.tls:
        # requests' default adapter keeps 10 connections; match the unix adapter's pool.
        import requests.adapters

        adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_POOL_SIZE)
        api.mount("http://", adapter)
    return api


def workspace_archive(root: Path, prefix: str, exclude: tuple[str, ...] = (".ptest",)) -> IO[bytes]:
    """A tar of ``root`` under ``prefix`` (e.g. ``workspace``) for ``put_archive``.

    Only regular files and folders go in: symlinks could point outside the workspace on
    the daemon's host, and sockets or devices make no sense there. Top-level names in
    ``exclude`` (the state folder) are left out. Returns a file positioned at 0.
    """
    spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller
    prefix = prefix.strip("/")
    with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = prefix.split("/") if prefix else []
        for depth in range(1, len(parts) + 1):
            tar.addfile(_dir_info("/".join(parts[:depth]), 0o755))
        for folder, dirnames, filenames in os.walk(root):
            rel = Path(folder).relative_to(root)
            if rel == Path("."):
                dirnames[:] = [d for d in dirnames if d not in exclude]
                filenames = [f for f in filenames if f not in exclude]
            for name in sorted(dirnames):
                full = Path(folder) / name
                st = full.lstat()
                if stat.S_ISDIR(st.st_mode):
                    tar.addfile(_dir_info(_arcname(prefix, rel / name), st.st_mode & 0o7777))
            # os.walk does not follow symlinked folders and lstat keeps them out above.
            for name in sorted(filenames):
                full = Path(folder) / name
                st = full.lstat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                info = tarfile.TarInfo(_arcname(prefix, rel / name))
                info.size = st.st_size
                info.mode = st.st_mode & 0o7777
                info.mtime = int(st.st_mtime)
                try:
                    handle = full.open("rb")
                except OSError:
                    continue  # unreadable files are skipped, not fatal
                with handle:
                    tar.addfile(info, handle)
    spool.seek(0)
    return spool


def _arcname(prefix: str, rel: Path) -> str:
    return f"{prefix}/{rel.as_posix()}" if prefix else rel.as_posix()


def _dir_info(name: str, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    return info


def archive_names(data: IO[bytes] | bytes) -> list[str]:
    """Member names of a tar (tests and diagnostics)."""
    fileobj = io.BytesIO(data) if isinstance(data, bytes) else data
    with tarfile.open(fileobj=fileobj, mode="r") as tar:
        return tar.getnames()
