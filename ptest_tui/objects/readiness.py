"""Readiness strategies: how ptest-tui knows a started object can take requests.

Each strategy is a frozen value with ``check()`` (one probe, True when ready) and a
``describe()`` for messages; :func:`wait_until_ready` polls one with a startup timeout and
a poll interval, stops early when the object's process died or the user cancelled, and on
timeout raises an error that carries the last log lines (testcontainers' wait strategies
show the idea).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError, PtestError


class ObjectStartError(PtestError):
    """An object did not become ready (timed out, or its process exited)."""


class Readiness(Protocol):
    """One way to tell that an object is ready."""

    def check(self) -> bool:
        """One probe; True when ready. Never raises for "not yet"."""

    def describe(self) -> str:
        """What is being waited for, for messages."""


@dataclass(frozen=True)
class PortOpen:
    """Ready when a TCP connection to host:port succeeds."""

    port: int
    host: str = "127.0.0.1"
    connect_timeout: float = 0.5

    def check(self) -> bool:
        """Try one connection."""
        try:
            with socket.create_connection((self.host, self.port), self.connect_timeout):
                return True
        except OSError:
            return False

    def describe(self) -> str:
        """``port 127.0.0.1:5432 open``."""
        return f"port {self.host}:{self.port} open"


@dataclass(frozen=True)
class HttpOk:
    """Ready when GET url answers with a 2xx status."""

    url: str
    request_timeout: float = 2.0

    def check(self) -> bool:
        """One GET request."""
        try:
            with urllib.request.urlopen(self.url, timeout=self.request_timeout) as response:  # noqa: S310 - our own URL
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def describe(self) -> str:
        """``HTTP 2xx from URL``."""
        return f"HTTP 2xx from {self.url}"


@dataclass(frozen=True)
class LogLine:
    """Ready when a log file has a line matching ``pattern`` (``times`` times)."""

    path: Path
    pattern: str
    times: int = 1

    def check(self) -> bool:
        """Scan the log file."""
        try:
            text = self.path.read_text(errors="replace")
        except OSError:
            return False
        return len(re.findall(self.pattern, text, flags=re.MULTILINE)) >= self.times

    def describe(self) -> str:
        """``log line /ready/ in FILE``."""
        return f"log line /{self.pattern}/ in {self.path.name}"


@dataclass(frozen=True)
class CommandSucceeds:
    """Ready when a command (an argument list, never a shell string) exits 0."""

    argv: tuple[str, ...]
    env: dict[str, str] | None = field(default=None, hash=False)
    command_timeout: float = 10.0

    def check(self) -> bool:
        """Run the command once."""
        try:
            done = subprocess.run(
                list(self.argv), capture_output=True, timeout=self.command_timeout,
                env=self.env, check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def describe(self) -> str:
        """``command NAME succeeds``."""
        return f"command {Path(self.argv[0]).name} succeeds"


@dataclass(frozen=True)
class AllOf:
    """Ready when every strategy passes, checked in order (cheap ones first)."""

    strategies: tuple[Readiness, ...]

    def check(self) -> bool:
        """Each in turn; stops at the first that fails."""
        return all(strategy.check() for strategy in self.strategies)

    def describe(self) -> str:
        """The parts joined with "and"."""
        return " and ".join(strategy.describe() for strategy in self.strategies)


def last_lines(path: Path | None, count: int = 10) -> list[str]:
    """The last ``count`` lines of a log file (empty when there is none)."""
    if path is None:
        return []
    try:
        return path.read_text(errors="replace").splitlines()[-count:]
    except OSError:
        return []


def wait_until_ready(
    name: str,
    strategy: Readiness,
    *,
    timeout: float,
    interval: float = 0.1,
    cancel: CancelToken | None = None,
    alive: Callable[[], bool] | None = None,
    log_file: Path | None = None,
) -> float:
    """Poll ``strategy`` until it passes; return the seconds it took.

    Raises ObjectStartError when ``timeout`` passes or ``alive()`` turns False (the
    message names what was awaited and ends with the last log lines), CancelledError when
    cancelled.
    """
    cancel = cancel or CancelToken()
    start = time.monotonic()
    while True:
        if strategy.check():
            return time.monotonic() - start
        if alive is not None and not alive():
            raise _failure(name, f"exited before {strategy.describe()}", log_file)
        if time.monotonic() - start > timeout:
            raise _failure(
                name, f"not ready after {timeout:g} s (waiting for {strategy.describe()})",
                log_file,
            )
        if cancel.wait(interval):
            raise CancelledError(f"starting {name} cancelled", "")


def _failure(name: str, what: str, log_file: Path | None) -> ObjectStartError:
    tail: Sequence[str] = last_lines(log_file)
    shown = " | ".join(line.strip() for line in tail if line.strip())
    message = f"{name} {what}" + (f"; last log lines: {shown}" if shown else "")
    hint = f"see {log_file}" if log_file else "check the object's settings"
    return ObjectStartError(message, hint)
