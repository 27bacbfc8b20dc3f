"""The postgres object: a real PostgreSQL server from the installed binaries.

initdb creates the cluster in ``.ptest/objects/NAME/data/pg`` once; the server then runs
as ``postgres -D ...`` directly (pg_ctl would pass our options through a shell string, and
running the postmaster ourselves gives us its pid for tracking). It listens on 127.0.0.1 on
the allocated port only, with no Unix socket (socket paths are limited to ~100 bytes and
workspace paths are not). Test clusters skip fsync by default (``durable = true`` turns it
back on): data survives a server crash or kill -9, only not a machine crash.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping
from pathlib import Path

from ptest_tui.cancel import CancelToken
from ptest_tui.objects.host_tools import ToolError, find_program
from ptest_tui.objects.readiness import AllOf, LogLine, PortOpen, Readiness
from ptest_tui.objects.server import (
    COMMON_SETTINGS,
    ObjectUnavailableError,
    ServerObject,
)

PG_ROOT = Path("/usr/lib/postgresql")
READY_LINE = r"database system is ready to accept connections"
PSQL_ERROR = re.compile(r"psql:(?P<file>[^:]+):(?P<line>\d+): (?P<message>[^|]*)")


class PostgresObject(ServerObject):
    """A PostgreSQL server; settings ``user``, ``password``, ``database``, ``init``."""

    kind = "postgres"
    description = "PostgreSQL server (initdb + postgres on the host, or a container)"
    settings_doc = {
        **COMMON_SETTINGS,
        "durable": "fsync on (default false: faster, survives crashes but not power loss)",
    }
    account_name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for clients to leave
    packages_hint = "postgresql (Debian/Ubuntu), postgresql-server (Fedora)"
    container_port = 5432

    def find_programs(self) -> dict[str, str]:
        """initdb, postgres and psql, of the requested version (else the newest)."""
        version = self.setting("version")
        folders: list[Path] = []
        if version:
            folders = [PG_ROOT / str(version) / "bin"]
            if not folders[0].is_dir():
                installed = sorted(p.parent.name for p in PG_ROOT.glob("*/bin/postgres"))
                raise ObjectUnavailableError(
                    f"{self.name}: PostgreSQL {version} is not installed"
                    + (f" (installed: {', '.join(installed)})" if installed else ""),
                    f"install postgresql-{version} or drop the version setting",
                )
        else:
            folders = sorted(
                (p.parent for p in PG_ROOT.glob("*/bin/postgres")),
                key=lambda folder: _version_key(folder.parent.name),
                reverse=True,
            )
        programs = {}
        for role in ("initdb", "postgres", "psql"):
            found = find_program([role], folders[:1] if folders else [])
            if found is None:
                raise ObjectUnavailableError(
                    f"{self.name}: the PostgreSQL program {role} was not found",
                    f"install {self.packages_hint}; `ptest-tui doctor` checks it",
                )
            programs[role] = found
        return programs

    def container_programs(self) -> dict[str, str]:
        """The same programs in the image (its newest version, or the requested one)."""
        version = str(self.setting("version", "*"))
        return self.container.locate(
            {role: f"{PG_ROOT}/{version}/bin/{role}" for role in ("initdb", "postgres", "psql")}
        )

    def pgdata(self, data: Path) -> Path:
        """The cluster folder inside the object's data folder."""
        return data / "pg"

    def initialize(self, data: Path, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """initdb with the test user as superuser and a password file (deleted after)."""
        cancel.raise_if_cancelled(f"starting {self.name}")
        password_file = data / ".pwfile"
        self.write_private_file(password_file, self.password)
        try:
            self.run_tool(
                [
                    programs["initdb"], "-D", str(self.pgdata(data)), "-U", self.user,
                    f"--pwfile={password_file}", "--auth-local=trust",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
                    "--no-instructions",
                ],
                as_account=True, cwd=data, what="initdb",
            )
        finally:
            self.remove_file(password_file)
        if self.in_container:
            # Clients arrive from outside the container: the published port (through the
            # bridge) and docker envs on the objects network. initdb only trusts loopback.
            self.append_line(self.pgdata(data) / "pg_hba.conf", "host all all all scram-sha-256")

    def server_argv(self, data: Path, port: int, programs: Mapping[str, str]) -> list[str]:
        """postgres on 127.0.0.1:port (any address in a container), logging to stderr."""
        pgdata = self.pgdata(data)
        if not self.data_has(pgdata / "PG_VERSION"):
            raise ToolError(
                f"{self.name}: the data folder {pgdata} is not a PostgreSQL cluster (corrupted?)",
                f"start it again with --fresh to recreate it (its data is lost): "
                f"ptest-tui obj start {self.name} --fresh",
            )
        argv = [
            programs["postgres"], "-D", str(pgdata), "-p", str(port),
            "-c", f"listen_addresses={self.listen_host}", "-c", "unix_socket_directories=",
            "-c", "logging_collector=off", "-c", "log_destination=stderr",
        ]
        if not self.setting("durable", False):
            # Commits still write() the WAL (no fsync): a killed server keeps them. With
            # synchronous_commit=off they would sit in shared memory and die with it.
            argv += ["-c", "fsync=off", "-c", "full_page_writes=off"]
        return argv

    def clear_crash(self, data: Path) -> None:
        """Drop the lock file a killed postmaster left (its processes are all gone now)."""
        (self.pgdata(data) / "postmaster.pid").unlink(missing_ok=True)

    def readiness(self, port: int) -> Readiness:
        """The postmaster's own "ready to accept connections" line in this run's log."""
        return AllOf((LogLine(self.process.log_file, READY_LINE), PortOpen(port)))

    def _psql(self, programs: Mapping[str, str], port: int, database: str) -> list[str]:
        return [
            programs["psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
            "-p", str(port), "-U", self.user, "-d", database,
        ]

    def provision(self, port: int, programs: Mapping[str, str], cancel: CancelToken) -> None:
        """Create the test database, then run the init scripts in it, in order."""
        env = {"PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}
        if self.database != "postgres":
            self.run_tool(
                [*self._psql(programs, port, "postgres"), "-c",
                 f'CREATE DATABASE "{self.database}"'],
                env=env, what="creating the database",
            )
        for script in self.init_scripts():
            cancel.raise_if_cancelled(f"starting {self.name}")
            try:
                self.run_tool(
                    [*self._psql(programs, port, self.database), "-f", self.tool_path(script)],
                    env=env, what=f"init script {script.name}",
                )
            except ToolError as exc:
                raise _script_error(self.name, script, exc) from None

    def url(self, port: int, reveal: bool = True) -> str:
        """``postgresql://user:password@127.0.0.1:port/database``."""
        secret = self.password if reveal else "***"
        return f"postgresql://{self.user}:{secret}@127.0.0.1:{port}/{self.database}"


def _script_error(name: str, script: Path, exc: ToolError) -> ToolError:
    """Turn psql's ``psql:FILE:LINE: ERROR: ...`` into "NAME: FILE line N: ERROR ..."."""
    match = PSQL_ERROR.search(exc.message)
    if match is None:
        return exc
    message = " ".join(match.group("message").split())
    return ToolError(
        f"{name}: {script.name} line {match.group('line')}: {message}",
        f"fix the SQL in {script}, then start again (the database was not kept)",
    )


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)) or (0,)
