"""One port allocator for every workspace on this machine.

Allocations live in a small SQLite ledger in the user cache folder, so they survive
restarts and two workspaces (or two processes of one) never hand out the same port, even
before either binds it. Each allocation runs in one IMMEDIATE transaction, which takes
SQLite's file lock: the ledger check, a bind probe on 127.0.0.1 (is some other program
using the port?) and the insert happen as one step across processes.
"""

from __future__ import annotations

import contextlib
import errno
import random
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ptest_tui.errors import PtestError, UsageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS ports (
    port INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    owner TEXT NOT NULL,
    allocated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ports_owner ON ports(workspace, owner);
"""


class PortError(PtestError):
    """No port could be allocated."""


@dataclass(frozen=True)
class Allocation:
    """A port held by ``owner`` (an object name) of ``workspace`` (its root folder)."""

    port: int
    workspace: str
    owner: str
    allocated_at: float


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing on this machine listens on (or holds) ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as servers set it: a port whose old connections linger in
        # TIME_WAIT is free for a server, so it is free for us too.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


class PortAllocator:
    """Hands out ports from ``[first, last]``; one ledger per user, shared by workspaces."""

    def __init__(self, ledger: Path, port_range: tuple[int, int]) -> None:
        self.ledger = ledger
        self.first, self.last = port_range
        ledger.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(str(self.ledger), timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            yield conn
        finally:
            conn.close()

    def allocate(self, workspace: str, owner: str, pinned: int | None = None) -> int:
        """A port for ``owner``; the one it already holds, ``pinned``, or a free one.

        A pinned port taken by another program or owner is a UsageError (auto ports just
        move on to the next free one).
        """
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                port = self._choose(conn, workspace, owner, pinned)
                conn.execute(
                    "INSERT OR REPLACE INTO ports (port, workspace, owner, allocated_at)"
                    " VALUES (?,?,?,?)",
                    (port, workspace, owner, time.time()),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return port

    def _choose(
        self, conn: sqlite3.Connection, workspace: str, owner: str, pinned: int | None
    ) -> int:
        held = conn.execute(
            "SELECT port FROM ports WHERE workspace = ? AND owner = ?", (workspace, owner)
        ).fetchone()
        if pinned is not None:
            row = conn.execute(
                "SELECT workspace, owner FROM ports WHERE port = ?", (pinned,)
            ).fetchone()
            if row is not None and (row[0], row[1]) != (workspace, owner):
                raise UsageError(
                    f"port {pinned} is already allocated to {row[1]} in {row[0]}",
                    "pick another port or use --port auto",
                )
            if (held is None or held[0] != pinned) and not port_is_free(pinned):
                raise UsageError(
                    f"port {pinned} is in use by another program",
                    "pick another port or use --port auto",
                )
            if held is not None and held[0] != pinned:
                conn.execute("DELETE FROM ports WHERE port = ?", (held[0],))
            return pinned
        if held is not None:
            return int(held[0])
        taken = {row[0] for row in conn.execute("SELECT port FROM ports")}
        span = self.last - self.first + 1
        # Start at a random place so parallel workspaces rarely probe the same ports.
        offset = random.randrange(span)  # noqa: S311 - not security sensitive
        for step in range(span):
            port = self.first + (offset + step) % span
            if port not in taken and port_is_free(port):
                return port
        raise PortError(
            f"no free port left in {self.first}-{self.last}",
            "release ports (`obj remove`) or widen objects.port_range",
        )

    def release(self, workspace: str, owner: str) -> None:
        """Give back the port of ``owner`` (nothing happens if it holds none)."""
        with self._connect() as conn:
            conn.execute("DELETE FROM ports WHERE workspace = ? AND owner = ?", (workspace, owner))

    def allocations(self, workspace: str | None = None) -> list[Allocation]:
        """Every allocation (of one workspace, when given), by port."""
        query = "SELECT port, workspace, owner, allocated_at FROM ports"
        args: tuple[str, ...] = ()
        if workspace is not None:
            query += " WHERE workspace = ?"
            args = (workspace,)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY port", args).fetchall()
        return [Allocation(*row) for row in rows]

    def prune(self) -> list[Allocation]:
        """Drop allocations of workspaces whose folder no longer exists."""
        gone = [a for a in self.allocations() if not Path(a.workspace).is_dir()]
        with self._connect() as conn:
            for allocation in gone:
                conn.execute("DELETE FROM ports WHERE port = ?", (allocation.port,))
        return gone
