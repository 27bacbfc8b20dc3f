"""One connection to the Docker daemon per doctor run, made the way the engine makes it.

The docker SDK is imported only when the first check asks, so ``ptest-tui doctor`` (and
``--help``) start fast.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Mapping
from typing import Any

DEFAULT_SOCKET = "/var/run/docker.sock"


class DockerProbe:
    """One connection attempt per doctor run, the way the docker engine connects.

    The daemon is found and pinged by :mod:`ptest_tui.engines.docker_client` (docker.host,
    DOCKER_HOST, the CLI context, else the local socket) with its short ping timeout.
    """

    def __init__(self, host: str, environ: Mapping[str, str]) -> None:
        self.host = host
        self.environ = dict(environ)
        self._lock = threading.Lock()
        self._done = False
        self._api: Any = None
        self._error = ""
        self._target: Any = None
        self._target_error = ""  # why the target could not even be resolved

    def target(self) -> Any:
        """The resolved ``DockerTarget`` (never contacts the daemon).

        None without the SDK, or when resolving failed: doctor must report a failed check,
        never crash, whatever the SDK raises for odd settings.
        """
        with self._lock:
            if self._target is None and not self._target_error:
                try:
                    from ptest_tui.engines.docker_client import resolve_target

                    self._target = resolve_target(self.host, self.environ)
                except ImportError:
                    return None
                except Exception as exc:
                    self._target_error = "cannot resolve the Docker host: " + (
                        short_docker_error(exc)
                    )
            return self._target

    def where(self) -> str:
        """The daemon address for messages."""
        target = self.target()
        return target.describe() if target else (self.host or DEFAULT_SOCKET)

    def connect(self) -> tuple[Any, str]:
        """``(api_client, "")`` when the daemon answers a ping, else ``(None, reason)``."""
        target = self.target()
        with self._lock:
            if not self._done:
                self._done = True
                if self._target_error:
                    self._api, self._error = None, self._target_error
                else:
                    self._api, self._error = self._connect(target)
            return self._api, self._error

    @staticmethod
    def _connect(target: Any) -> tuple[Any, str]:
        if target is None or importlib.util.find_spec("docker") is None:
            return None, "the docker Python SDK is not installed"
        from ptest_tui.engines.docker_client import connect
        from ptest_tui.errors import EngineUnavailableError

        try:
            return connect(target), ""
        except EngineUnavailableError as exc:
            return None, exc.message
        except Exception as exc:  # the SDK raises many kinds; all mean "not reachable"
            return None, short_docker_error(exc)

    def close(self) -> None:
        """Close the client's connection pool."""
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None


def short_docker_error(exc: BaseException) -> str:
    """One readable line from the SDK's nested connection errors."""
    text = str(exc)
    for marker, meaning in (
        ("FileNotFoundError", "no Docker socket (the daemon is not running?)"),
        ("PermissionError", "permission denied on the Docker socket"),
        ("Connection refused", "connection refused (the daemon is not running?)"),
        ("timed out", "the daemon did not answer in time"),
    ):
        if marker in text:
            return meaning
    return text if len(text) <= 160 else text[:157] + "..."
