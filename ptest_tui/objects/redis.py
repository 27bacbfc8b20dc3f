"""The redis object: a real Redis server from the installed ``redis-server``.

Each start writes ``redis.conf`` into the data folder (readable by the server's account
only: it may hold the password, which must never be on a command line where ``ps`` shows
it) and runs ``redis-server redis.conf`` in the foreground, listening on 127.0.0.1 on the
allocated port only, with no Unix socket. The append-only file is on, so data survives a
stop, a restart and a killed server; there are no RDB snapshots (their background forks
can fail on hosts without memory overcommit, and Redis then refuses writes).

Redis has no users or databases in the SQL sense: ``password`` (default none) becomes
``requirepass`` and ``database`` is the database number (0-15) put in the URL. ``init``
files hold redis-cli commands, one a line, run once when the data folder is created.
"""

from __future__ import annotations

import functools
import re
import secrets
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError
from ptest_tui.objects.base import ConnectionInfo
from ptest_tui.objects.host_tools import ToolError, find_program
from ptest_tui.objects.readiness import AllOf, LogLine, PortOpen, Readiness
from ptest_tui.objects.server import (
    COMMON_SETTINGS,
    ObjectUnavailableError,
    ServerObject,
)

READY_LINE = r"Ready to accept connections"
DATABASES = 16
# What the first start leaves in the data folder: Redis 7's manifest, or older ones' file.
AOF_FILES = ("appendonlydir/appendonly.aof.manifest", "appendonly.aof")
# The batch file holding one init script's commands and our markers between them.
BATCH_FILE = "init-batch.redis"
# Runs argv with its standard input read from $1: the argument list stays a list, the
# shell only redirects (the same in a container, where the file is copied in first).
STDIN_SCRIPT = 'f=$1; shift; exec "$@" < "$f"'


class RedisObject(ServerObject):
    """A Redis server; settings ``password``, ``database`` (0-15), ``init``."""

    kind = "redis"
    description = "Redis server (redis-server on the host, or a container)"
    settings_doc = {
        "password": "requirepass for clients (default: none)",
        "database": "database number 0-15 used in the URL (default 0)",
        "init": "files of redis-cli commands run once when the data folder is created (list)",
        "startup_timeout": COMMON_SETTINGS["startup_timeout"],
        "image": COMMON_SETTINGS["image"],
    }
    account_name = "redis"
    stop_signal = signal.SIGTERM  # Redis flushes the append-only file, then exits
    packages_hint = "redis-server (Debian/Ubuntu), redis (Fedora)"
    default_user = ""  # Redis has no user to create
    container_port = 6379

    # -- settings ---------------------------------------------------------------------------

    @property
    def password(self) -> str:
        """``requirepass``; empty (no password) unless set."""
        return str(self.setting("password", ""))

    @property
    def database(self) -> str:
        """The database number, as text (``0``)."""
        return str(self.database_number())

    def database_number(self) -> int:
        """The ``database`` setting: a number from 0 to 15."""
        value = self.setting("database", 0)
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if isinstance(value, bool) or not 0 <= number < DATABASES or str(number) != str(value):
            raise UsageError(
                f"{self.name}: database must be a Redis database number 0-{DATABASES - 1},"
                f" got {value!r}",
                "for example database = 1",
            )
        return number

    def validate_credentials(self) -> None:
        """The database is a number 0-15; the password is safe in a URL and the config."""
        self.database_number()
        password = self.setting("password")
        if password is not None and any(c in str(password) for c in "\0\r\n'\"\\@/:"):
            raise UsageError(
                f"{self.name}: the password may not contain quotes, backslashes, @, / or :",
                "pick a password of letters, digits and -_.!",
            )

    # -- what the kind provides -------------------------------------------------------------

    def find_programs(self) -> dict[str, str]:
        """redis-server and redis-cli."""
        programs = {}
        for role in ("redis-server", "redis-cli"):
            found = find_program([role])
            if found is None:
                raise ObjectUnavailableError(
                    f"{self.name}: the Redis program {role} was not found",
                    f"install {self.packages_hint}; `ptest-tui doctor` checks it",
                )
            programs[role] = found
        return programs

    def container_programs(self) -> dict[str, str]:
        """The same programs in the image (runtime docker)."""
        return self.container.locate({role: role for role in ("redis-server", "redis-cli")})

    def initialize(self, data: Path, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """Nothing to create: Redis makes its append-only files on first start."""
        cancel.raise_if_cancelled(f"starting {self.name}")

    def config_text(self, data: Path, port: int) -> str:
        """The generated redis.conf."""
        lines = [
            "# Written by ptest-tui at every start: edits are overwritten.",
            f"port {port}",
            f"bind {self.listen_host}",
            "protected-mode no",  # bound to loopback (or a container) already
            "daemonize no",
            "supervised no",
            'logfile ""',  # standard output: the object's log file
            "loglevel notice",
            "always-show-logo no",
            f"dir {_conf_quote(str(data))}",
            f"databases {DATABASES}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',  # the append-only file is the durable copy; no snapshot forks
            # No `unixsocket` line: TCP only (socket paths are limited to ~100 bytes).
        ]
        if self.password:
            lines.append(f"requirepass {_conf_quote(self.password)}")
        return "\n".join(lines)

    def server_argv(self, data: Path, port: int, programs: Mapping[str, str]) -> list[str]:
        """Write redis.conf (0600, the server's account), then ``redis-server redis.conf``."""
        if self.marker_file.exists() and not any(
            self.data_has(data / name) for name in AOF_FILES
        ):
            # Redis would start empty without a word: refuse, the data was there before.
            raise ToolError(
                f"{self.name}: the data folder {data} has no append-only file (corrupted?)",
                f"start it again with --fresh to recreate it (its data is lost): "
                f"ptest-tui obj start {self.name} --fresh",
            )
        text = self.config_text(data, port)
        if not self.in_container and redis_version(programs["redis-server"]) >= (6, 2):
            # Redis rewrites its process title over its environment by default, and with it
            # the PTEST_OBJECT marker that finds a server whose pid file is lost.
            text += "\nset-proc-title no"
        config = data / "redis.conf"
        self.write_private_file(config, text)
        return [programs["redis-server"], str(config)]

    def readiness(self, port: int) -> Readiness:
        """Redis's "Ready to accept connections" line in this run's log, and the port open."""
        return AllOf((LogLine(self.process.log_file, READY_LINE), PortOpen(port)))

    def provision(self, port: int, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """Run the init files' commands, in order (the first failing one stops the start)."""
        for script in self.init_scripts():
            cancel.raise_if_cancelled(f"starting {self.name}")
            self._run_script(script, port, programs)

    def url(self, port: int, reveal: bool = True) -> str:
        """``redis://[:password@]127.0.0.1:port/database``.

        The password-only form of the Redis URI scheme, which every server version and the
        usual client libraries accept (redis-cli 7.0's ``-u`` sends it as an empty user
        name, which the server refuses: give redis-cli the password in REDISCLI_AUTH).
        """
        auth = ""
        if self.password:
            auth = f":{quote(self.password, safe='') if reveal else '***'}@"
        return f"redis://{auth}127.0.0.1:{port}/{self.database}"

    def connection(self) -> ConnectionInfo:
        """Host, port, URL, the password (may be empty) and the database number."""
        info = super().connection()
        extra = {key: value for key, value in info.extra.items() if key != "user"}
        return replace(info, extra=extra)

    # -- init scripts -----------------------------------------------------------------------

    def _run_script(self, script: Path, port: int, programs: Mapping[str, str]) -> None:
        """Feed one file to redis-cli with an ECHO marker after each command.

        redis-cli reads commands from standard input and carries on after an error reply,
        exiting 0 either way; the markers say which line each reply belongs to, and
        ``--no-raw`` prints error replies as ``(error) ...`` and strings quoted, so an
        error can't be mistaken for data.
        """
        commands = _commands(script)
        if not commands:
            return
        token = f"ptest-{secrets.token_hex(6)}"
        batch = self.folder / BATCH_FILE
        batch.write_text(
            "".join(f"{command}\nECHO {token}-{number}\n" for number, command in commands),
            errors="surrogateescape",
        )
        batch.chmod(0o600)
        argv = [
            "sh", "-c", STDIN_SCRIPT, "ptest-stdin", self.tool_path(batch),
            programs["redis-cli"], "--no-raw", "-h", "127.0.0.1", "-p", str(port),
            "-n", self.database,
        ]
        environment = {"REDISCLI_AUTH": self.password} if self.password else {}
        try:
            output = self.run_tool(argv, env=environment, what=f"init script {script.name}")
        finally:
            batch.unlink(missing_ok=True)
        _check_replies(self.name, script, commands, token, output)


@functools.lru_cache(maxsize=8)
def redis_version(program: str) -> tuple[int, ...]:
    """``redis-server --version`` as numbers (``(7, 0, 15)``); ``(0,)`` when unknown."""
    try:
        done = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    match = re.search(r"v=(\d+(?:\.\d+)*)", done.stdout)
    return tuple(int(part) for part in match.group(1).split(".")) if match else (0,)


def _commands(script: Path) -> list[tuple[int, str]]:
    """(line number, command) of each line that is not blank or a ``#`` comment."""
    text = script.read_text(errors="surrogateescape")
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _check_replies(
    name: str, script: Path, commands: list[tuple[int, str]], token: str, output: str
) -> None:
    """Raise ToolError naming the script and line of the first error reply."""
    position = 0  # index into commands of the command whose replies come next
    for line in output.splitlines():
        if position < len(commands) and line == f'"{token}-{commands[position][0]}"':
            position += 1
            continue
        failed = line.startswith("(error) ") or line.startswith("Invalid argument")
        if failed and position < len(commands):
            message = line.removeprefix("(error) ").strip()
            raise ToolError(
                f"{name}: {script.name} line {commands[position][0]}: {message}",
                f"fix the command in {script}, then start again (the data was not kept)",
            )
    if position < len(commands):
        shown = " | ".join(part for part in output.splitlines()[-5:] if part.strip())
        raise ToolError(
            f"{name}: {script.name} stopped at line {commands[position][0]}"
            + (f": {shown}" if shown else ""),
            f"check the commands in {script} (QUIT, SUBSCRIBE or MONITOR end redis-cli)",
        )


def _conf_quote(value: str) -> str:
    """A redis.conf argument in double quotes (backslash escapes, as Redis parses them)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
