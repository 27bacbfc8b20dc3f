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
import importlib.util
import io
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ptest_tui.engines.docker_labels import (
    LabelledResource,
    container_from_api,
    network_from_api,
    volume_from_api,
)
from ptest_tui.errors import EngineError, EngineUnavailableError, PtestError

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
    # Why this target cannot be used (bad TLS settings), with a hint; connect() raises it.
    # Kept on the target instead of raised so that describing it never fails.
    problem: str = ""
    problem_hint: str = ""

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


TLS_HINT = (
    "put ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH (default ~/.docker),"
    " or unset DOCKER_TLS_VERIFY and DOCKER_CERT_PATH"
)


def _tls_problem(environ: Mapping[str, str], exc: Exception) -> str:
    """One line on why the TLS settings from the environment cannot be used."""
    given = environ.get("DOCKER_CERT_PATH") or ""
    folder = Path(given or "~/.docker").expanduser()
    missing = [n for n in ("ca.pem", "cert.pem", "key.pem") if not (folder / n).is_file()]
    where = f"DOCKER_CERT_PATH={given}" if given else "~/.docker (DOCKER_CERT_PATH is unset)"
    if missing:
        return f"unusable Docker TLS settings: {where} lacks {', '.join(missing)}"
    # The SDK's text is three sentences and a URL; its first sentence says what is wrong.
    detail = str(exc).split(". ")[0].strip().rstrip(".") or type(exc).__name__
    return f"unusable Docker TLS settings ({where}): {detail}"


def resolve_target(configured: str, environ: Mapping[str, str]) -> DockerTarget:
    """Decide which daemon to talk to; never contacts it and never raises for bad settings.

    TLS settings that cannot be used (``DOCKER_TLS_VERIFY`` with a ``DOCKER_CERT_PATH``
    lacking the certificates) give a target whose ``problem`` :func:`connect` reports as
    EngineUnavailableError, so callers see one line instead of a TLSParameterError.
    """
    if configured:
        return DockerTarget(configured, "docker.host")
    if environ.get("DOCKER_HOST"):
        import docker.errors
        from docker.utils import kwargs_from_env

        try:
            params = kwargs_from_env(environment=dict(environ))
        except (docker.errors.DockerException, OSError) as exc:
            # TLSParameterError is a DockerException; the daemon is never asked.
            return DockerTarget(
                environ["DOCKER_HOST"], "DOCKER_HOST", None, _tls_problem(environ, exc), TLS_HINT
            )
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


def _socket_problem(path: str) -> tuple[str, str] | None:
    """A one-line reason and a hint when the socket file cannot be used, else None."""
    start = "start the Docker daemon (e.g. `systemctl start docker`), then check `docker info`"
    access = "add your user to the docker group (then log in again), or run as root"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"docker socket {path} does not exist (is the daemon installed and running?)", start
    except PermissionError:
        return f"permission denied on docker socket {path}", access
    if not stat.S_ISSOCK(mode):
        return f"{path} is not a socket", "point docker.host or DOCKER_HOST at the daemon's socket"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"permission denied on docker socket {path}", access
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
    if target.problem:
        raise EngineUnavailableError(target.problem, target.problem_hint)
    path = target.socket_path
    if path:
        problem = _socket_problem(path)
        if problem:
            raise EngineUnavailableError(*problem)
    # Without paramiko, ssh:// goes through the ssh binary, as the docker CLI does.
    shell_out = importlib.util.find_spec("paramiko") is None
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
        hint = "check `docker info`"
        if isinstance(cause, PermissionError) or getattr(cause, "errno", None) == errno.EACCES:
            reason = f"permission denied on docker socket {path or target.url}"
        elif isinstance(exc, docker.errors.TLSParameterError):
            reason, hint = f"unusable Docker TLS settings for {target.describe()}", TLS_HINT
        elif isinstance(exc, docker.errors.DockerException) and not _is_connection_failure(exc):
            # Raised before any connection: an address the SDK cannot parse, and the like.
            reason = f"cannot use the Docker host {target.describe()}: {exc}"
            hint = "fix docker.host or DOCKER_HOST (e.g. unix:///var/run/docker.sock)"
        else:
            reason = f"the Docker daemon is not answering at {target.describe()}"
        raise EngineUnavailableError(reason, hint) from None
    api.timeout = API_TIMEOUT
    if target.url.startswith("tcp://") and not target.tls:
        # requests' default adapter keeps 10 connections; match the unix adapter's pool.
        import requests.adapters

        adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_POOL_SIZE)
        api.mount("http://", adapter)
    return api


def _is_connection_failure(exc: BaseException) -> bool:
    """True when the SDK failed talking to the daemon (as opposed to refusing the settings)."""
    import docker.errors
    import requests.exceptions

    # version="auto" wraps a failed first request in a DockerException with this text;
    # an APIError is the daemon answering with an error.
    if isinstance(exc, docker.errors.APIError) or "server API version" in str(exc):
        return True
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, requests.exceptions.RequestException | OSError)


@contextmanager
def daemon_errors(target: DockerTarget, action: str) -> Iterator[None]:
    """Turn SDK and connection failures during ``action`` into one-line EngineErrors.

    A daemon that answered the first ping can still go away (restart, lost network);
    callers then get ``cannot <action>: ...`` instead of a requests traceback.
    """
    import docker.errors
    import requests.exceptions

    try:
        yield
    except PtestError:
        raise
    except docker.errors.APIError as exc:
        detail = exc.explanation or exc
        raise EngineError(f"cannot {action}: {detail}", "check `docker info`") from None
    except (requests.exceptions.RequestException, docker.errors.DockerException, OSError) as exc:
        raise EngineError(
            f"cannot {action}: lost the Docker daemon at {target.describe()}"
            f" ({type(exc).__name__})",
            "check `docker info`, then retry",
        ) from None


def remove_container(api: Any, ref: str) -> None:
    """Force-remove a container and its anonymous volumes; a missing one is fine."""
    import docker.errors

    try:
        api.remove_container(ref, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409 or "in progress" not in str(exc.explanation):
            raise EngineError(
                f"cannot remove container {ref[:12]}: {exc.explanation}", "check `docker ps -a`"
            ) from None


def list_labelled(api: Any, filters: dict[str, list[str]]) -> list[LabelledResource]:
    """Containers (running or not), networks and volumes matching label ``filters``."""
    found = [container_from_api(c) for c in api.containers(all=True, filters=filters)]
    found += [network_from_api(n) for n in api.networks(filters=filters)]
    volumes = (api.volumes(filters=filters) or {}).get("Volumes") or []
    found += [volume_from_api(v) for v in volumes]
    return found


def remove_resource(api: Any, resource: LabelledResource) -> None:
    """Remove one listed resource; one already gone is fine."""
    import docker.errors

    try:
        if resource.kind == "container":
            remove_container(api, resource.id)
        elif resource.kind == "network":
            api.remove_network(resource.id)
        elif resource.kind == "volume":
            api.remove_volume(resource.id, force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        raise EngineError(
            f"cannot remove {resource.kind} {resource.name}: {exc.explanation or exc}",
            "see `docker ps -a` / `docker network ls` for what still uses it",
        ) from None


def workspace_archive(root: Path, prefix: str, exclude: tuple[str, ...] = (".ptest",)) -> IO[bytes]:
    """A tar of ``root`` under ``prefix`` (e.g. ``workspace``) for ``put_archive``.

    Only regular files and folders go in: symlinks could point outside the workspace on
    the daemon's host, and sockets or devices make no sense there. Top-level names in
    ``exclude`` (the state folder) are left out. Returns a file positioned at 0.
    """
    import tarfile

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


def _dir_info(name: str, mode: int) -> Any:
    import tarfile

    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    return info


def archive_names(data: IO[bytes] | bytes) -> list[str]:
    """Member names of a tar (tests and diagnostics)."""
    import tarfile

    fileobj = io.BytesIO(data) if isinstance(data, bytes) else data
    with tarfile.open(fileobj=fileobj, mode="r") as tar:
        return tar.getnames()
