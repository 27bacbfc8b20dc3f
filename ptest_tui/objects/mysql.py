"""The mysql and mariadb objects: a real MariaDB server from the installed binaries.

``mariadb-install-db`` creates the system tables in ``.ptest/objects/NAME/data/db`` once
(root may log in over TCP without a password until provisioning); the server then runs as
``mariadbd --no-defaults ...`` in the foreground, listening on 127.0.0.1 on the allocated
port. Test servers trade durability for speed the way postgres does: the redo log is
written at each commit but not flushed (a killed server loses nothing, a power cut may),
no doublewrite buffer, no binary log, a small buffer pool.

MariaDB always opens a Unix socket and its path must fit in ~100 bytes, so it lives in the
data folder when that path is short enough, else in /tmp under a name hashed from the data
folder (removed when the server stops).

The first start creates the database and the user (``'user'@'%'``, all privileges, like
the postgres object's superuser), gives root the same password and drops root's other
password-less accounts, then runs the init scripts with the ``mariadb`` client as that
user. ``mysql`` and ``mariadb`` are the same kind under two names; MariaDB's program names
are preferred, the ``mysqld`` / ``mysql_install_db`` / ``mysql`` names accepted.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ptest_tui.cancel import CancelToken
from ptest_tui.objects.base import ConnectionInfo
from ptest_tui.objects.host_tools import ToolError, find_program
from ptest_tui.objects.readiness import AllOf, LogLine, PortOpen, Readiness
from ptest_tui.objects.server import (
    COMMON_SETTINGS,
    ObjectUnavailableError,
    ServerObject,
)

READY_LINE = r"ready for connections"
PROGRAMS: Mapping[str, tuple[str, ...]] = {
    "server": ("mariadbd", "mysqld"),
    "install": ("mariadb-install-db", "mysql_install_db"),
    "client": ("mariadb", "mysql"),
}
# Fedora's mariadb-server installs the server in /usr/libexec.
SERVER_FOLDERS = (Path("/usr/libexec"),)
SOCKET_NAME = "mysqld.sock"
SOCKET_LIMIT = 100  # bytes; sun_path holds 108 with the terminating NUL
SOCKET_FOLDER = Path("/tmp")  # noqa: S108 - short socket paths, hashed names, removed on stop
# Shared by mariadb-install-db and the server: InnoDB files must be created the way the
# server will open them.
ENGINE_OPTIONS = (
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=16M",
    "--innodb-flush-log-at-trx-commit=2",  # write the log at commit, flush once a second
    "--skip-innodb-doublewrite",
)
CLIENT_ERROR = re.compile(
    r"ERROR (?P<code>\d+) \((?P<state>[0-9A-Z]+)\) at line (?P<line>\d+)"
    r"(?: in file: '[^']*')?: (?P<message>.*)"
)
# Runs argv with its standard input read from $1: the argument list stays a list, the
# shell only redirects (the same in a container, where the file is copied in first).
STDIN_SCRIPT = 'f=$1; shift; exec "$@" < "$f"'


class MysqlObject(ServerObject):
    """A MariaDB server for MySQL clients; settings user, password, database, init."""

    kind = "mysql"
    description = "MySQL-compatible server (MariaDB's mariadbd on the host, or a container)"
    settings_doc = COMMON_SETTINGS
    account_name = "mysql"
    stop_signal = signal.SIGTERM  # a normal shutdown: InnoDB flushes, then it exits
    packages_hint = "mariadb-server (Debian/Ubuntu)"
    container_port = 3306

    def find_programs(self) -> dict[str, str]:
        """The server, the install tool and the client (of the requested version)."""
        programs: dict[str, str] = {}
        missing: list[str] = []
        for role, names in PROGRAMS.items():
            found = find_program(names, SERVER_FOLDERS if role == "server" else ())
            if found is None:
                missing.append(" or ".join(names))
            else:
                programs[role] = found
        if missing:
            raise ObjectUnavailableError(
                f"{self.name}: the MariaDB program {', '.join(missing)} was not found",
                f"install {self.packages_hint}; `ptest-tui doctor` checks it",
            )
        self._check_version(programs["server"])
        return programs

    def container_programs(self) -> dict[str, str]:
        """MariaDB's programs in the image (runtime docker)."""
        return self.container.locate({role: names[0] for role, names in PROGRAMS.items()})

    def _check_version(self, server: str) -> None:
        """With a ``version`` setting, the installed server must be that version."""
        wanted = self.setting("version")
        if wanted is None:
            return
        installed = server_version(server)
        if installed != str(wanted) and not installed.startswith(f"{wanted}."):
            raise ObjectUnavailableError(
                f"{self.name}: MariaDB {wanted} is not installed (installed: {installed})",
                f"install it ({self.packages_hint}) or drop the version setting",
            )

    # -- data folder ------------------------------------------------------------------------

    def datadir(self, data: Path) -> Path:
        """The server's data directory inside the object's data folder."""
        return data / "db"

    def socket_path(self, data: Path) -> Path:
        """The Unix socket: in the data folder when the path is short enough, else /tmp."""
        inside = data / SOCKET_NAME
        if self.in_container or len(str(inside).encode()) < SOCKET_LIMIT:
            return inside
        digest = hashlib.sha256(str(data).encode()).hexdigest()[:16]
        return SOCKET_FOLDER / f"ptest-mysql-{digest}.sock"

    def _host_data(self) -> Path:
        """The data folder as ``prepare_data_dir`` returns it (the real one behind a link)."""
        link = self.folder / "data"
        return link.resolve() if link.is_symlink() else link

    def _remove_outside_socket(self) -> None:
        """Delete a /tmp socket left by a killed server (a clean shutdown removes it)."""
        if self.in_container or self.process.running() is not None:
            return
        socket = self.socket_path(self._host_data())
        if socket.parent == SOCKET_FOLDER:
            socket.unlink(missing_ok=True)

    def _run_user(self) -> str:
        """The account named in ``--user``: the server's account, or whoever we are."""
        if self.in_container:
            return self.account_name
        account = self.account
        return account.name if account is not None else pwd.getpwuid(os.getuid()).pw_name

    # -- what the kind provides -------------------------------------------------------------

    def initialize(self, data: Path, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """mariadb-install-db: system tables, no test database, root without password."""
        cancel.raise_if_cancelled(f"starting {self.name}")
        self.run_tool(
            [
                programs["install"], "--no-defaults", f"--datadir={self.datadir(data)}",
                "--auth-root-authentication-method=normal", "--skip-test-db",
                "--skip-name-resolve", f"--user={self._run_user()}", *ENGINE_OPTIONS,
            ],
            as_account=True, cwd=data, what=Path(programs["install"]).name,
        )

    def server_argv(self, data: Path, port: int, programs: Mapping[str, str]) -> list[str]:
        """mariadbd on 127.0.0.1:port, logging to stderr (our log file)."""
        datadir = self.datadir(data)
        if not self.data_has(datadir / "mysql" / "db.frm"):
            raise ToolError(
                f"{self.name}: the data folder {datadir} is not a MariaDB data directory"
                " (corrupted?)",
                f"start it again with --fresh to recreate it (its data is lost): "
                f"ptest-tui obj start {self.name} --fresh",
            )
        argv = [
            programs["server"], "--no-defaults", f"--datadir={datadir}", f"--port={port}",
            f"--bind-address={self.listen_host}", f"--socket={self.socket_path(data)}",
            f"--pid-file={data / 'mariadbd.pid'}", "--skip-name-resolve", "--skip-log-bin",
            "--character-set-server=utf8mb4", *ENGINE_OPTIONS,
        ]
        if not self.in_container and os.geteuid() == 0 and self.account is None:
            argv.append("--user=root")  # no unprivileged account here; it must be told
        return argv

    def readiness(self, port: int) -> Readiness:
        """mariadbd's "ready for connections" line in this run's log, and the port open."""
        return AllOf((LogLine(self.process.log_file, READY_LINE), PortOpen(port)))

    def _client(self, programs: Mapping[str, str], port: int, user: str) -> list[str]:
        return [
            programs["client"], "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1",
            "-P", str(port), "-u", user, "--connect-timeout=10", "--batch",
            "--skip-column-names",
        ]

    def provision(self, port: int, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """Database, user and root's password as root; then the init scripts as the user."""
        root = self._client(programs, port, "root")
        # root@127.0.0.1, @::1, @<hostname> and anonymous accounts have no password: drop
        # them (root@localhost, reachable by the socket only, gets the password).
        others = self.run_tool(
            [*root, "-e", "SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user"
             " WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '%'))"],
            what="listing accounts",
        ).split()
        user, password = f"'{self.user}'@'%'", self.password
        statements = [
            f"CREATE DATABASE IF NOT EXISTS `{self.database}`",
            f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{password}'",
            f"GRANT ALL PRIVILEGES ON *.* TO {user} WITH GRANT OPTION",
            f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}'",
        ]
        if others:
            statements.append(f"DROP USER {', '.join(others)}")
        cancel.raise_if_cancelled(f"starting {self.name}")
        self.run_tool(
            [*root, "-e", ";\n".join([*statements, "FLUSH PRIVILEGES"])],
            what="creating the user and database",
        )
        for script in self.init_scripts():
            cancel.raise_if_cancelled(f"starting {self.name}")
            argv = [
                "sh", "-c", STDIN_SCRIPT, "ptest-stdin", self.tool_path(script),
                *self._client(programs, port, self.user), f"--database={self.database}",
            ]
            try:
                self.run_tool(
                    argv, env={"MYSQL_PWD": self.password}, what=f"init script {script.name}"
                )
            except ToolError as exc:
                raise _script_error(self.name, script, exc) from None

    def url(self, port: int, reveal: bool = True) -> str:
        """``mysql://user:password@127.0.0.1:port/database``."""
        secret = self.password if reveal else "***"
        return f"mysql://{self.user}:{secret}@127.0.0.1:{port}/{self.database}"

    # -- the shared flow, plus the /tmp socket ----------------------------------------------

    def start(self, cancel: CancelToken, fresh: bool = False) -> ConnectionInfo:
        """Start as every server kind does; a failed start leaves no /tmp socket behind."""
        try:
            return super().start(cancel, fresh)
        except BaseException:
            self._remove_outside_socket()
            raise

    def stop(self) -> None:
        """Stop the server (data kept), give its port back, remove a /tmp socket."""
        super().stop()
        self._remove_outside_socket()


class MariadbObject(MysqlObject):
    """The same server under the name ``mariadb``."""

    kind = "mariadb"
    description = "MariaDB server (mariadb-install-db + mariadbd on the host, or a container)"


def server_version(server: str) -> str:
    """The version ``mariadbd --version`` reports (``10.11.6``), or ``unknown``."""
    try:
        done = subprocess.run(
            [server, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"Ver (\d+(?:\.\d+)*)", done.stdout)
    return match.group(1) if match else "unknown"


def _script_error(name: str, script: Path, exc: ToolError) -> ToolError:
    """Turn the client's ``ERROR 1064 (42000) at line 3: ...`` into "NAME: FILE line 3: ..."."""
    match = CLIENT_ERROR.search(exc.message)
    if match is None:
        return exc
    # The message may span lines (``near '...'`` quotes the statement), joined by " | ".
    message = match.group("message").replace(" | ", " ").strip()
    return ToolError(
        f"{name}: {script.name} line {match.group('line')}: ERROR {match.group('code')}"
        f" ({match.group('state')}): {message}",
        f"fix the SQL in {script}, then start again (the database was not kept)",
    )
