"""Database servers run as host processes: the shared start, stop and status flow.

A kind (postgres, mysql, redis) says which programs it needs, how to initialise a data
folder once, the server's argument list, how to tell it is ready and how to provision it
(user, database, init scripts) the first time. This module does the rest the same way for
every kind: validate first, allocate the port, prepare the data folder (reachable by the
unprivileged account when running as root), start the process detached and tracked, wait
for readiness, and on any failure undo what this start did, so nothing is left half-started.

With ``runtime = "docker"`` the same kind runs in a container instead
(:mod:`ptest_tui.objects.container`): start, stop, status and friends delegate to the
container runtime, which calls the kind's ``initialize``, ``server_argv``, ``readiness`` and
``provision`` with container paths (data in ``/data``). Kinds stay runtime-neutral by using
the helpers below for anything touching the data folder or running tools: ``run_tool``,
``write_private_file``, ``remove_file``, ``data_has``, ``tool_path``, ``listen_host`` (and
``container_port`` / ``container_programs`` to say where things are in the image).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError, PtestError, UsageError
from ptest_tui.objects.account import (
    Account,
    prepare_data_dir,
    remove_data_dir,
    service_account,
)
from ptest_tui.objects.base import ConnectionInfo, ObjectStatus, TestObject
from ptest_tui.objects.host_tools import run_host_tool
from ptest_tui.objects.process import ServerProcess, marker_value
from ptest_tui.objects.readiness import ObjectStartError, Readiness, wait_until_ready

if TYPE_CHECKING:
    from ptest_tui.objects.container import ContainerRuntime

# Database, user and password values end up in SQL and URLs; keep them simple.
IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class ObjectUnavailableError(PtestError):
    """A kind cannot run on this machine (server programs missing)."""


COMMON_SETTINGS: Mapping[str, str] = {
    "user": "user name created for tests",
    "password": "that user's password",
    "database": "database created for tests",
    "init": "SQL files run once when the data folder is created (list)",
    "version": "server version to use when several are installed",
    "startup_timeout": "seconds to wait for readiness (default 30)",
    "image": "container image with the server programs (runtime docker; default"
    " ptest-tui/objects:bookworm, built by `ptest-tui image build --packages ...`)",
}


class ServerObject(TestObject):
    """A database server on the host, with its data in the object's folder."""

    account_name: ClassVar[str] = ""
    stop_signal: ClassVar[int] = signal.SIGTERM
    packages_hint: ClassVar[str] = ""  # OS packages that provide the server
    default_user: ClassVar[str] = "ptest"
    runtimes = ("process", "docker")
    # The port the server listens on inside a container (5432); 0: the allocated one.
    container_port: ClassVar[int] = 0

    # -- what a kind provides -------------------------------------------------------------

    @abstractmethod
    def find_programs(self) -> dict[str, str]:
        """The server's programs by role; raise ObjectUnavailableError when missing."""

    @abstractmethod
    def initialize(self, data: Path, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """Create a new data folder's contents (runs once, or on ``--fresh``)."""

    @abstractmethod
    def server_argv(self, data: Path, port: int, programs: Mapping[str, str]) -> list[str]:
        """The server's argument list."""

    @abstractmethod
    def readiness(self, port: int) -> Readiness:
        """How to tell the server accepts connections."""

    def provision(self, port: int, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """Create the user and database and run init scripts (first start only)."""

    def clear_crash(self, data: Path) -> None:
        """Remove what a killed server left behind (lock files); its processes are gone."""

    @abstractmethod
    def url(self, port: int, reveal: bool = True) -> str:
        """The ready-to-use connection URL."""

    def url_at(self, host: str, port: int, reveal: bool = True) -> str:
        """The URL for another host name (a docker env reaches a container object by alias)."""
        return self.url(port, reveal).replace("127.0.0.1", host, 1)

    def container_programs(self) -> dict[str, str]:
        """The server's programs by role inside the image (runtime docker).

        Kinds that support containers override this, usually with
        ``self.container.locate({"role": "name-or-glob", ...})``.
        """
        raise ObjectUnavailableError(
            f"{self.name}: a {self.kind} cannot run in a container", "use runtime process"
        )

    # -- runtime docker -------------------------------------------------------------------

    @property
    def in_container(self) -> bool:
        """True with ``runtime = "docker"``."""
        return self.runtime == "docker"

    @cached_property
    def container(self) -> ContainerRuntime:
        """The container runtime of this object (runtime docker)."""
        from ptest_tui.objects.container import ContainerRuntime

        return ContainerRuntime(self)

    @property
    def listen_host(self) -> str:
        """The address the server listens on: loopback on the host, every one in a container
        (the published port and the objects network both arrive from outside)."""
        return "0.0.0.0" if self.in_container else "127.0.0.1"  # noqa: S104 - a container

    def write_private_file(self, path: Path, text: str) -> None:
        """Write ``text`` (a line) to ``path`` in the data folder, readable by the server's
        account only (password files for initialisation)."""
        if self.in_container:
            self.container.write_file(str(path), text)
            return
        path.write_text(text + "\n")
        account = self.account
        if account is not None:
            import os

            os.chown(path, account.uid, account.gid)
        path.chmod(0o600)

    def append_line(self, path: Path, line: str) -> None:
        """Append ``line`` to a file in the data folder (configuration a tool wrote)."""
        if self.in_container:
            self.container.append_line(str(path), line)
            return
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def remove_file(self, path: Path) -> None:
        """Delete ``path`` in the data folder (a missing one is fine)."""
        if self.in_container:
            self.container.remove_file(str(path))
        else:
            path.unlink(missing_ok=True)

    def data_has(self, path: Path) -> bool:
        """Whether ``path`` in the data folder is a file."""
        return self.container.is_file(str(path)) if self.in_container else path.is_file()

    def tool_path(self, path: Path) -> str:
        """Where tools see a host file (init scripts): itself, or a copy in the container."""
        return self.container.copy_in(path) if self.in_container else str(path)

    # -- shared flow ------------------------------------------------------------------------

    @property
    def process(self) -> ServerProcess:
        """The tracked server process."""
        return ServerProcess(self.folder, marker_value(self.context.workspace_key, self.name))

    @property
    def account(self) -> Account | None:
        """The unprivileged account the server runs as (None when not root)."""
        return service_account(self.context.run_as or self.account_name)

    @property
    def marker_file(self) -> Path:
        """Written once the data folder is initialised and provisioned."""
        return self.folder / "initialized.json"

    def unavailable_reason(self) -> str | None:
        """Why the server cannot run here, if it cannot."""
        if self.in_container:
            return self.container.unavailable_reason()
        try:
            self.find_programs()
        except ObjectUnavailableError as exc:
            return exc.message
        return None

    def validate(self) -> None:
        """Settings are well formed, init files exist, the programs are installed."""
        self.validate_credentials()
        self.init_scripts()
        self.pinned_port()
        self.startup_timeout()
        if self.in_container:
            self.container.validate()  # the daemon answers and has the image
        else:
            self.find_programs()

    def validate_credentials(self) -> None:
        """``user`` and ``database`` are plain identifiers, the password is URL- and SQL-safe.

        Kinds without SQL users (redis: a database is a number) override this.
        """
        for key in ("user", "database"):
            value = self.setting(key)
            if value is not None and not IDENTIFIER_RE.fullmatch(str(value)):
                raise UsageError(
                    f"{self.name}: {key} {value!r} is not a plain identifier",
                    "use letters, digits and _ (not starting with a digit)",
                )
        password = self.setting("password")
        if password is not None and any(c in str(password) for c in "\0\n'\"\\@/:"):
            raise UsageError(
                f"{self.name}: the password may not contain quotes, backslashes, @, / or :",
                "pick a password of letters, digits and -_.!",
            )

    def startup_timeout(self) -> float:
        """Seconds to wait for readiness."""
        value = self.setting("startup_timeout", 30)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = -1.0
        if seconds <= 0:
            raise UsageError(
                f"{self.name}: startup_timeout must be a positive number of seconds, got {value!r}",
                "for example startup_timeout = 60",
            )
        return seconds

    def init_scripts(self) -> list[Path]:
        """The init SQL files (resolved against the workspace); each must exist."""
        given = self.setting("init", [])
        items = [given] if isinstance(given, str) else list(given)
        scripts = []
        for item in items:
            path = Path(str(item))
            path = path if path.is_absolute() else self.workspace / path
            if not path.is_file():
                raise UsageError(
                    f"{self.name}: init file {item} does not exist",
                    f"fix objects.{self.name}.init (paths are relative to the workspace)",
                )
            scripts.append(path)
        return scripts

    @property
    def user(self) -> str:
        """The test user's name."""
        return str(self.setting("user", self.default_user))

    @property
    def password(self) -> str:
        """The test user's password."""
        return str(self.setting("password", "ptest"))

    @property
    def database(self) -> str:
        """The test database's name."""
        return str(self.setting("database", "ptest"))

    def start(self, cancel: CancelToken, fresh: bool = False) -> ConnectionInfo:
        """Start the server (or find it running) and wait until it is ready."""
        self.validate()
        if self.in_container:
            return self.container.start(cancel, fresh)
        programs = self.find_programs()
        running = self.process.running()
        if running is not None and not fresh:
            port = self.context.held_port(self.name)
            if port is not None and self.readiness(port).check():
                return self.connection()
            self.stop()  # running but not answering on its port: start it over
        elif running is not None:
            self.stop()
        elif self.process.record() is not None:
            # Crashed (or killed): finish off what is left of its process group, then
            # clear its lock files so the server starts (and recovers its data) again.
            self.process.clear_crashed()
            if (self.folder / "data").exists():
                self.clear_crash((self.folder / "data").resolve())
        cancel.raise_if_cancelled(f"starting {self.name}")
        port = self.claim_port()
        try:
            return self._start(port, programs, cancel, fresh)
        except BaseException:
            self.process.stop(signal.SIGKILL, 5.0)
            self.context.release_port(self.name)
            raise

    def _start(
        self, port: int, programs: Mapping[str, str], cancel: CancelToken, fresh: bool
    ) -> ConnectionInfo:
        if fresh:
            self._wipe()
        first = not self.marker_file.exists()
        if first:
            self._wipe()  # a half-initialised folder from an interrupted start
        data = prepare_data_dir(self.folder, self.account)
        try:
            if first:
                self.initialize(data, programs, cancel)
            argv = self.server_argv(data, port, programs)
            account = self.account
            environment = self.base_environment()
            if account is not None:
                environment.update(account.environment())
            record = self.process.start(argv, env=environment, cwd=data, account=account)
            wait_until_ready(
                self.name,
                self.readiness(port),
                timeout=self.startup_timeout(),
                interval=0.05,
                cancel=cancel,
                alive=record.alive,
                log_file=self.process.log_file,
            )
            if first:
                self.provision(port, programs, cancel)
                self.marker_file.write_text(
                    json.dumps({"kind": self.kind, "user": self.user, "database": self.database})
                )
        except (PtestError, CancelledError, OSError) as exc:
            if first:
                self.process.stop(signal.SIGKILL, 5.0)
                self._wipe()  # nothing half-initialised survives a failed first start
            if isinstance(exc, OSError):
                raise ObjectStartError(f"{self.name}: {exc}", "check the object folder") from None
            if isinstance(exc, ObjectStartError) and not first and self.process.running() is None:
                # The server gave up on existing data: its complaint is in the message (the
                # last log lines); a damaged data folder only recovers by starting afresh.
                raise ObjectStartError(
                    exc.message,
                    f"{exc.hint}; if the data folder is damaged, start again with --fresh"
                    f" (its data is lost): ptest-tui obj start {self.name} --fresh",
                ) from None
            raise
        return self.connection()

    def _wipe(self) -> None:
        remove_data_dir(self.folder)
        self.marker_file.unlink(missing_ok=True)

    def base_environment(self) -> dict[str, str]:
        """A small clean environment for server programs (no inherited secrets)."""
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

    def stop(self) -> None:
        """Stop the server (data kept) and give its port back."""
        if self.in_container:
            self.container.stop()
            return
        self.process.stop(self.stop_signal, 30.0)
        self.context.release_port(self.name)

    def status(self) -> ObjectStatus:
        """Running when the tracked process lives; healthy when it answers."""
        if self.in_container:
            return self.container.status()
        record = self.process.running()
        if record is None:
            if self.process.record() is not None:
                return ObjectStatus(False, False, "crashed: the server process is gone")
            return ObjectStatus(False, False, "stopped")
        port = self.context.held_port(self.name)
        healthy = port is not None and self.readiness(port).check()
        detail = f"pid {record.pid}, port {port}" if healthy else f"pid {record.pid}, not answering"
        return ObjectStatus(True, healthy, detail)

    def connection(self) -> ConnectionInfo:
        """Host, port, the URL and the user, password and database."""
        port = self.context.held_port(self.name)
        if port is None:
            return ConnectionInfo()
        extra = {"user": self.user, "password": self.password, "database": self.database}
        if self.in_container:
            extra.update(self.container.network_extra(port))  # the view from docker envs
        return ConnectionInfo(host="127.0.0.1", port=port, url=self.url(port), extra=extra)

    def log_file(self) -> Path | None:
        """The server's log (a container's log is copied there first)."""
        if self.in_container:
            self.container.sync_logs()
        return self.process.log_file

    def pid(self) -> int | None:
        """The server's pid while it runs (a container's init, for runtime docker)."""
        if self.in_container:
            return self.container.pid()
        record = self.process.running()
        return record.pid if record else None

    def remove(self) -> None:
        """Stop the server and delete its data."""
        if self.in_container:
            self.container.remove()
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        self.stop()
        self._wipe()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers for kinds ---------------------------------------------------------------

    def run_tool(
        self,
        argv: Sequence[str],
        *,
        as_account: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120.0,
        what: str = "",
    ) -> str:
        """Run a server tool to completion; raise ToolError with its output on failure.

        In a container it runs there by exec (as the server's account with ``as_account``,
        else as root), with ``cwd`` defaulting to the data folder.
        """
        if self.in_container:
            return self.container.run_tool(
                argv, as_account=as_account, env={**self.base_environment(), **(env or {})},
                cwd=str(cwd) if cwd else None, timeout=timeout, what=what,
            )
        account = self.account if as_account else None
        environment = self.base_environment()
        if account is not None:
            environment.update(account.environment())
        environment.update(env or {})
        return run_host_tool(
            self.name, argv, account=account, environment=environment, cwd=cwd or self.folder,
            timeout=timeout, what=what, log_file=self.process.log_file,
        )
