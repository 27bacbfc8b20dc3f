"""One scan of ``/proc`` per tick, shared by every host env and host object sampler.

Which env or object a process belongs to comes from its environment, as ``obj cleanup``
finds servers: commands run in a basic or virtualenv env carry ``PTEST_ENV=<name>`` and
``PTEST_WORKSPACE=<root>``; host servers of objects carry ``PTEST_OBJECT=<key>/<name>``
(which wins when both are present: a web object started inside an env is the object's).

Cost is what keeps 20 envs at 1 Hz under 1% of a core, so each process costs as little as
possible: its environment is read only the first two times its pid is seen (the second
read catches a process caught between fork and exec, still holding its parent's
variables), and processes of nobody are then skipped without reading anything. Only
tagged processes have ``stat`` and ``io`` read each tick.

CPU and disk counters are per process and cumulative, so each tick counts their increase.
A child that exits between ticks is not lost: its parent's ``cutime``/``cstime`` (and the
I/O the kernel adds to the parent when it reaps the child) carry it; what the child had
already been counted for is subtracted, so nothing is counted twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

Tag = tuple[str, str]  # ("env", name) or ("object", name)

_HZ = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
# Fields of /proc/PID/stat after the ")" that ends the command name (see proc(5)).
_STATE, _PPID, _SESSION, _UTIME, _RSS, _START = 0, 1, 3, 11, 21, 19


@dataclass(frozen=True)
class GroupUsage:
    """What the processes of one env or object used during the last scan interval."""

    cpu_percent: float | None  # of one core; None on the first scan
    memory_bytes: int  # resident memory, summed (shared pages count once per process)
    read_bps: float | None
    write_bps: float | None
    processes: int


@dataclass
class _Proc:
    """What the scanner remembers of one pid."""

    tag: Tag | None = None
    sightings: int = 0
    unreadable: bool = False  # environment not readable: matched by session instead
    started: int = -1  # start time in clock ticks since boot (guards reused pids)
    ppid: int = 0
    counters: tuple[int, int, int] | None = None  # cpu ticks (self + reaped children), io r/w


@dataclass
class _Group:
    cpu: int = 0
    read: int = 0
    write: int = 0
    memory: int = 0
    processes: int = 0
    measured: bool = False


@dataclass
class ScanStats:
    """Counts of the last scan (the benchmark reports them)."""

    pids: int = 0
    environ_reads: int = 0
    tagged: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _read(path: str, limit: int = 1 << 20) -> bytes:
    """A whole small file, with raw ``os`` calls (a Python file object costs more)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        size = 0
        while size < limit:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class ProcessScanner:
    """Attribute host processes to envs and objects of one workspace; sum their usage."""

    def __init__(self, workspace_root: str, object_prefix: str, proc: str = "/proc") -> None:
        self.workspace = workspace_root.encode()
        self.object_prefix = object_prefix.encode()  # "<workspace key>/"
        self.proc = proc
        self.stats = ScanStats()
        self._procs: dict[int, _Proc] = {}
        self._last: float | None = None  # monotonic time of the last scan
        self._last_boot = 0.0  # boot-relative time of the last scan, in seconds

    def _classify(self, pid: int, entry: _Proc) -> None:
        """Read the environment of ``pid`` and set its tag (or mark it unreadable)."""
        self.stats.environ_reads += 1
        entry.sightings += 1
        try:
            data = _read(f"{self.proc}/{pid}/environ")
        except PermissionError:
            entry.unreadable = True
            return
        except OSError:
            return
        entry.unreadable = False
        if b"PTEST_" not in data:
            entry.tag = None
            return
        found: dict[bytes, bytes] = {}
        for item in data.split(b"\0"):
            if item.startswith(b"PTEST_"):
                key, _, value = item.partition(b"=")
                found[key] = value
        marker = found.get(b"PTEST_OBJECT", b"")
        if marker.startswith(self.object_prefix):
            entry.tag = ("object", marker[len(self.object_prefix) :].decode(errors="replace"))
        elif b"PTEST_ENV" in found and found.get(b"PTEST_WORKSPACE") == self.workspace:
            entry.tag = ("env", found[b"PTEST_ENV"].decode(errors="replace"))
        else:
            entry.tag = None

    def scan(self, sessions: Mapping[int, str] | None = None) -> dict[Tag, GroupUsage]:
        """Usage per env and object since the previous scan.

        ``sessions`` maps a server's session id (the pid in its pid file) to its object's
        name; it tags processes whose environment this user may not read.
        """
        now = time.monotonic()
        now_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        elapsed = None if self._last is None else max(now - self._last, 1e-6)
        first = self._last is None
        try:
            names = os.listdir(self.proc)
        except OSError:
            names = []
        pids = [int(name) for name in names if name.isdigit()]
        self.stats = ScanStats(pids=len(pids))
        credit = self._reaped(set(pids))
        groups: dict[Tag, _Group] = {}
        for pid in pids:
            entry = self._procs.get(pid)
            if entry is None:
                entry = self._procs[pid] = _Proc()
            if entry.sightings < 2:
                self._classify(pid, entry)
            if entry.tag is None and not (entry.unreadable and sessions):
                continue
            try:
                fields = _read(f"{self.proc}/{pid}/stat").rpartition(b")")[2].split()
            except OSError:
                continue  # gone since the listing
            started = int(fields[_START])
            if entry.started not in (-1, started):  # the pid was reused: a new process
                entry = self._procs[pid] = _Proc()
                self._classify(pid, entry)
            entry.started = started
            if entry.unreadable and sessions:
                name = sessions.get(int(fields[_SESSION]))
                entry.tag = ("object", name) if name else None
            if entry.tag is None or fields[_STATE] in (b"Z", b"X"):
                continue
            self.stats.tagged += 1
            entry.ppid = int(fields[_PPID])
            cpu = sum(int(v) for v in fields[_UTIME : _UTIME + 4])  # self + reaped children
            read = write = 0
            try:
                for line in _read(f"{self.proc}/{pid}/io").splitlines():
                    if line.startswith(b"read_bytes:"):
                        read = int(line.split()[1])
                    elif line.startswith(b"write_bytes:"):
                        write = int(line.split()[1])
            except (OSError, ValueError, IndexError):
                pass  # not ours to read: disk rates then miss this process
            group = groups.setdefault(entry.tag, _Group())
            group.processes += 1
            group.memory += int(fields[_RSS]) * _PAGE
            current = (cpu, read, write)
            previous = entry.counters
            if previous is None and not first and started / _HZ >= self._last_boot - 0.05:
                previous = (0, 0, 0)  # started since the last scan: all of it is new
            entry.counters = current
            if previous is None:
                continue  # no baseline yet: counted from the next scan on
            owed = credit.get(pid, (0, 0, 0))
            deltas = [max(0, c - p - o) for c, p, o in zip(current, previous, owed, strict=True)]
            group.cpu += deltas[0]
            group.read += deltas[1]
            group.write += deltas[2]
            group.measured = True
        self._last, self._last_boot = now, now_boot
        return {tag: self._usage(group, elapsed) for tag, group in groups.items()}

    def _reaped(self, alive: set[int]) -> dict[int, tuple[int, int, int]]:
        """Forget pids that are gone; what they were counted for is owed by their parent.

        The parent's cumulative child counters jump by the child's whole total when it
        reaps the child, so the part already counted is subtracted from the parent once.
        """
        credit: dict[int, tuple[int, int, int]] = {}
        for pid in [p for p in self._procs if p not in alive]:
            entry = self._procs.pop(pid)
            if entry.counters is None or entry.tag is None:
                continue
            owed = credit.get(entry.ppid, (0, 0, 0))
            credit[entry.ppid] = (
                owed[0] + entry.counters[0],
                owed[1] + entry.counters[1],
                owed[2] + entry.counters[2],
            )
        return credit

    @staticmethod
    def _usage(group: _Group, elapsed: float | None) -> GroupUsage:
        if elapsed is None or not group.measured:
            return GroupUsage(None, group.memory, None, None, group.processes)
        return GroupUsage(
            cpu_percent=group.cpu / _HZ / elapsed * 100.0,
            memory_bytes=group.memory,
            read_bps=group.read / elapsed,
            write_bps=group.write / elapsed,
            processes=group.processes,
        )
