"""Server processes on the host: started detached, tracked by pid file, found again after a crash.

A server (postgres, mariadbd, redis-server, a web app) must outlive the ptest-tui command
that started it, so it runs in its own session. Three things let a later ptest-tui find it
whatever happened in between:

- a pid file (``server.pid``: pid, the process start time and the program) written the
  moment the process exists; the start time guards against a reused pid;
- a marker in the server's environment (``PTEST_OBJECT=<workspace key>/<name>``), so a
  server whose pid file was never written (ptest-tui killed between fork and write) is still
  found by scanning ``/proc`` (``obj cleanup``);
- its log file, rotated at each start so readiness checks only see this run's lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ptest_tui.errors import PtestError
from ptest_tui.objects.account import Account
from ptest_tui.ownership import process_started

MARKER = "PTEST_OBJECT"
# Popen objects of servers this process started: kept so they are reaped (no zombies, no
# "still running" warnings) while the servers themselves keep running after we exit.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ServerStartError(PtestError):
    """A server program could not be launched at all."""


@dataclass(frozen=True)
class PidRecord:
    """What the pid file holds."""

    pid: int
    started: float
    program: str

    def alive(self) -> bool:
        """Whether this very process still runs (a reused pid does not count)."""
        if _reap(self.pid):
            return False
        now = process_started(self.pid)
        return now is not None and abs(now - self.started) < 0.5 and not _zombie(self.pid)


def _reap(pid: int) -> bool:
    """Reap ``pid`` if it is our exited child; True when it has exited."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        return True
    return False


def _zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


def marker_value(workspace_key: str, name: str) -> str:
    """The ``PTEST_OBJECT`` value that tags a server's environment."""
    return f"{workspace_key}/{name}"


class ServerProcess:
    """One tracked server process of an object, with its pid file and log in ``folder``."""

    def __init__(self, folder: Path, marker: str, stem: str = "server") -> None:
        self.folder = folder
        self.marker = marker
        self.pid_file = folder / f"{stem}.pid"
        self.log_file = folder / f"{stem}.log"

    def record(self) -> PidRecord | None:
        """The pid file's record, or None when there is none (or it is unreadable)."""
        try:
            data = json.loads(self.pid_file.read_text())
            return PidRecord(int(data["pid"]), float(data["started"]), str(data["program"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def running(self) -> PidRecord | None:
        """The record when its process is alive, else None."""
        found = self.record()
        return found if found is not None and found.alive() else None

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        account: Account | None = None,
    ) -> PidRecord:
        """Launch ``argv`` detached (own session), logging to the rotated log file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._rotate_log()
        environment = {**env, MARKER: self.marker}
        with open(self.log_file, "ab") as log:
            if account is not None:
                with contextlib.suppress(OSError):
                    os.fchown(log.fileno(), account.uid, account.gid)
            try:
                proc = subprocess.Popen(  # an argument list, never a shell
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=cwd,
                    env=environment,
                    start_new_session=True,
                    close_fds=True,
                    **account.popen_options() if account else {},
                )
            except OSError as exc:
                raise ServerStartError(
                    f"cannot run {argv[0]}: {exc.strerror or exc}",
                    "check that the server program is installed (ptest-tui doctor)",
                ) from None
        _CHILDREN[proc.pid] = proc
        started = process_started(proc.pid)
        record = PidRecord(proc.pid, started if started is not None else 0.0, str(argv[0]))
        partial = self.pid_file.with_suffix(".pid.tmp")
        partial.write_text(json.dumps(record.__dict__))
        partial.replace(self.pid_file)
        return record

    def _rotate_log(self) -> None:
        if self.log_file.exists() and self.log_file.stat().st_size:
            self.log_file.replace(self.log_file.with_suffix(".log.1"))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> bool:
        """Stop the server: ``sig`` to its process group, then SIGKILL after ``timeout``.

        Returns True when a running server was stopped. The pid file goes either way.
        """
        found = self.running()
        stopped = False
        if found is not None:
            stopped = terminate(found, sig, timeout)
        self.pid_file.unlink(missing_ok=True)
        return stopped

    def clear_crashed(self) -> None:
        """After the server died: kill what is left of its process group, drop the pid file."""
        found = self.record()
        if found is not None and not found.alive():
            kill_group_remnants(found.pid)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the server's whole group at once (tests simulate crashes this way)."""
        found = self.running()
        if found is not None:
            terminate(found, signal.SIGKILL, 5.0)


def terminate(record: PidRecord, sig: int, timeout: float) -> bool:
    """Signal ``record``'s process group, wait up to ``timeout``, then SIGKILL it."""
    for current, grace in ((sig, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, current)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not record.alive():
                return True
            time.sleep(0.02)
    return not record.alive()


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def kill_group_remnants(pgid: int, timeout: float = 5.0) -> None:
    """SIGKILL the processes left in a dead leader's group and wait until they are gone."""
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.02)


@dataclass(frozen=True)
class MarkedProcess:
    """A process whose environment carries a ptest-tui object marker."""

    pid: int
    marker: str
    started: float


def marked_processes(prefix: str) -> list[MarkedProcess]:
    """Session leaders whose ``PTEST_OBJECT`` marker starts with ``prefix``.

    Only the leader of each server's session is returned (children share the marker);
    processes this user may not inspect are skipped.
    """
    found: list[MarkedProcess] = []
    needle = f"{MARKER}={prefix}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            environ = (entry / "environ").read_bytes()
            if needle not in environ or os.getsid(pid) != pid:
                continue
        except (OSError, ProcessLookupError):
            continue
        for item in environ.split(b"\0"):
            if item.startswith(needle):
                started = process_started(pid)
                if started is not None and not _zombie(pid):
                    found.append(
                        MarkedProcess(pid, item.split(b"=", 1)[1].decode(errors="replace"), started)
                    )
                break
    return found
