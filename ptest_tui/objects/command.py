"""The web and service objects: the user's own programs, started by a command.

``service`` runs any command and waits on a readiness strategy of the user's choice;
``web`` is a service that is ready when its URL answers with a 2xx status. Both run on the
host, either with a clean environment or inside a workspace environment (``env = "NAME"``:
its PATH, virtualenv and variables), in the workspace folder. The allocated port reaches
the command as ``{port}`` in its arguments and as the ``PORT`` variable.
"""

from __future__ import annotations

import os
import shlex
import signal
from pathlib import Path

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError
from ptest_tui.objects.base import ConnectionInfo, ObjectStatus, TestObject
from ptest_tui.objects.process import ServerProcess, marker_value
from ptest_tui.objects.readiness import (
    CommandSucceeds,
    HttpOk,
    LogLine,
    PortOpen,
    Readiness,
    wait_until_ready,
)

READY_CHOICES = ("port", "http", "log", "command")
HOST_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "TERM", "USER", "LOGNAME", "HOME")


class ServiceObject(TestObject):
    """Any command, ready by port, HTTP, log line or a check command."""

    kind = "service"
    description = "any command plus a readiness check (port, http, log line, command)"
    settings_doc = {
        "command": "the command to start (a string split like a shell would, or a list)",
        "env": "workspace environment to run it in (default: the host, clean variables)",
        "cwd": "working folder, relative to the workspace",
        "vars": "extra variables as a list of NAME=VALUE",
        "ready": "port, http, log or command",
        "ready_path": "path for http readiness (default /)",
        "ready_log": "regular expression for log readiness",
        "ready_command": "command for command readiness (exit 0 = ready)",
        "startup_timeout": "seconds to wait for readiness (default 30)",
    }
    default_ready = "port"

    @property
    def process(self) -> ServerProcess:
        """The tracked process."""
        return ServerProcess(self.folder, marker_value(self.context.workspace_key, self.name))

    def command(self) -> list[str]:
        """The command as an argument list (never run through a shell)."""
        given = self.setting("command")
        if not given:
            raise UsageError(
                f"{self.name}: no command given",
                f'set command = "..." for objects.{self.name} (or --command)',
            )
        try:
            argv = shlex.split(given) if isinstance(given, str) else [str(a) for a in given]
        except ValueError as exc:
            raise UsageError(
                f"{self.name}: cannot split the command: {exc}", "check the quotes"
            ) from None
        if not argv:
            raise UsageError(f"{self.name}: the command is empty", "give a program to run")
        return argv

    def ready_kind(self) -> str:
        """Which readiness strategy the settings ask for."""
        ready = str(self.setting("ready", self.default_ready))
        if ready not in READY_CHOICES:
            raise UsageError(
                f"{self.name}: ready must be one of {', '.join(READY_CHOICES)}, got {ready!r}",
                "for example ready = \"http\" with ready_path = \"/health\"",
            )
        if ready == "log" and not self.setting("ready_log"):
            raise UsageError(f"{self.name}: ready = log needs ready_log", 'ready_log = "Listening"')
        if ready == "command" and not self.setting("ready_command"):
            raise UsageError(
                f"{self.name}: ready = command needs ready_command", 'ready_command = "curl -f ..."'
            )
        return ready

    def variables(self) -> dict[str, str]:
        """The ``vars`` setting as a dict."""
        given = self.setting("vars", [])
        items = [given] if isinstance(given, str) else list(given)
        result = {}
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep or not key.replace("_", "a").isalnum() or key[0].isdigit():
                raise UsageError(f"{self.name}: vars entry {item!r} is not NAME=VALUE", "")
            result[key] = value
        return result

    def timeout(self) -> float:
        """Seconds to wait for readiness."""
        try:
            value = float(self.setting("startup_timeout", 30))
        except (TypeError, ValueError):
            value = -1
        if value <= 0:
            raise UsageError(f"{self.name}: startup_timeout must be a positive number", "")
        return value

    def validate(self) -> None:
        """Command, readiness, variables, timeout, env and working folder check out."""
        self.command()
        self.ready_kind()
        self.variables()
        self.timeout()
        self.pinned_port()
        cwd = self.working_folder()
        if not cwd.is_dir():
            raise UsageError(f"{self.name}: working folder {cwd} does not exist", "fix cwd")
        env = self.setting("env")
        if env and self.context.env_environment is not None:
            self.context.env_environment(str(env))

    def working_folder(self) -> Path:
        """Where the command runs."""
        cwd = self.setting("cwd")
        return self.workspace / str(cwd) if cwd else self.workspace

    def readiness(self, port: int) -> Readiness:
        """The strategy for this object, bound to its port."""
        ready = self.ready_kind()
        if ready == "http":
            return HttpOk(self.url(port))
        if ready == "log":
            return LogLine(self.process.log_file, str(self.setting("ready_log")))
        if ready == "command":
            argv = shlex.split(str(self.setting("ready_command")).replace("{port}", str(port)))
            return CommandSucceeds(tuple(argv))
        return PortOpen(port)

    def url(self, port: int) -> str:
        """``http://127.0.0.1:PORT/PATH``."""
        path = str(self.setting("ready_path", "/"))
        return f"http://127.0.0.1:{port}{path if path.startswith('/') else '/' + path}"

    def _environment(self, port: int) -> dict[str, str]:
        env_name = self.setting("env")
        if env_name and self.context.env_environment is not None:
            _root, base = self.context.env_environment(str(env_name))
            variables = dict(base)
        else:
            variables = {k: os.environ[k] for k in HOST_VARIABLES if k in os.environ}
        variables.update(self.variables())
        variables["PORT"] = str(port)
        return variables

    def start(self, cancel: CancelToken, fresh: bool = False) -> ConnectionInfo:
        """Start the command (or find it running) and wait until it is ready."""
        self.validate()
        if self.process.running() is not None:
            port = self.context.held_port(self.name)
            if port is not None and self.readiness(port).check():
                return self.connection()
            self.stop()
        cancel.raise_if_cancelled(f"starting {self.name}")
        port = self.claim_port()
        argv = [part.replace("{port}", str(port)) for part in self.command()]
        try:
            record = self.process.start(
                argv, env=self._environment(port), cwd=self.working_folder()
            )
            wait_until_ready(
                self.name, self.readiness(port), timeout=self.timeout(), interval=0.05,
                cancel=cancel, alive=record.alive, log_file=self.process.log_file,
            )
        except BaseException:
            self.process.stop(signal.SIGKILL, 5.0)
            self.context.release_port(self.name)
            raise
        return self.connection()

    def stop(self) -> None:
        """SIGTERM to its process group (SIGKILL after 10 s); the port goes back."""
        self.process.stop(signal.SIGTERM, 10.0)
        self.context.release_port(self.name)

    def status(self) -> ObjectStatus:
        """Running when the process lives; healthy when its readiness check passes."""
        record = self.process.running()
        if record is None:
            if self.process.record() is not None:
                return ObjectStatus(False, False, "crashed: the process is gone")
            return ObjectStatus(False, False, "stopped")
        port = self.context.held_port(self.name)
        healthy = port is not None and self.readiness(port).check()
        return ObjectStatus(True, healthy, f"pid {record.pid}, port {port}")

    def connection(self) -> ConnectionInfo:
        """127.0.0.1 and the port (and the URL for http services)."""
        port = self.context.held_port(self.name)
        if port is None:
            return ConnectionInfo()
        url = self.url(port) if self.ready_kind() == "http" else ""
        return ConnectionInfo(host="127.0.0.1", port=port, url=url)

    def log_file(self) -> Path | None:
        """Its output."""
        return self.process.log_file

    def pid(self) -> int | None:
        """The process id while it runs."""
        record = self.process.running()
        return record.pid if record else None


class WebObject(ServiceObject):
    """A web application started by a command; ready when its URL answers 2xx."""

    kind = "web"
    description = "web app started by a command, ready when its URL answers 2xx"
    default_ready = "http"

    def connection(self) -> ConnectionInfo:
        """Host, port and the app's base URL."""
        info = super().connection()
        if info.port is None:
            return info
        return ConnectionInfo(host=info.host, port=info.port, url=f"http://127.0.0.1:{info.port}")

