"""The host sampler: CPU, memory, disk I/O, network and free disk space through psutil.

CPU is reported like every other target, in percent of one core (a busy 4-core host shows
400%). Network excludes the loopback interface; disk I/O sums the block devices psutil
sees (none in some containers: then it is None).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ptest_tui.events.types import MonitorSample


@dataclass(frozen=True)
class _Counters:
    at: float
    busy: float
    total: float
    read: int | None
    write: int | None
    rx: int
    tx: int


def _rate(new: int | None, old: int | None, elapsed: float) -> float | None:
    if new is None or old is None:
        return None
    return max(0, new - old) / elapsed


class HostSampler:
    """Samples the whole machine; ``disk_path`` is where free space is measured."""

    def __init__(self, disk_path: str) -> None:
        import psutil  # ~30 ms to import: only when a monitor is built

        self._psutil: Any = psutil
        self.disk_path = disk_path
        self.cpu_count = psutil.cpu_count() or 1
        self._previous: _Counters | None = None

    def _counters(self) -> _Counters:
        psutil = self._psutil
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        total = sum(times)
        # guest time is already inside user time on Linux; psutil's sum counts it twice.
        total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
        disk = psutil.disk_io_counters(perdisk=False)
        rx = tx = 0
        for name, nic in psutil.net_io_counters(pernic=True).items():
            if name != "lo":
                rx += nic.bytes_recv
                tx += nic.bytes_sent
        return _Counters(
            at=time.monotonic(),
            busy=total - idle,
            total=total,
            read=disk.read_bytes if disk else None,
            write=disk.write_bytes if disk else None,
            rx=rx,
            tx=tx,
        )

    def sample(self, processes: int | None = None) -> MonitorSample:
        """The host now; rates over the time since the previous call (None the first time)."""
        psutil = self._psutil
        counters = self._counters()
        memory = psutil.virtual_memory()
        try:
            free: int | None = int(psutil.disk_usage(self.disk_path).free)
        except OSError:
            free = None
        previous, self._previous = self._previous, counters
        cpu = read = write = rx = tx = None
        if previous is not None:
            elapsed = max(counters.at - previous.at, 1e-6)
            spent = counters.total - previous.total
            if spent > 0:
                busy = max(0.0, counters.busy - previous.busy)
                cpu = min(1.0, busy / spent) * 100.0 * self.cpu_count
            read = _rate(counters.read, previous.read, elapsed)
            write = _rate(counters.write, previous.write, elapsed)
            rx = _rate(counters.rx, previous.rx, elapsed)
            tx = _rate(counters.tx, previous.tx, elapsed)
        return MonitorSample(
            target="host",
            target_kind="host",
            state="running",
            cpu_percent=cpu,
            memory_bytes=int(memory.total - memory.available),
            memory_limit=int(memory.total),
            read_bps=read,
            write_bps=write,
            rx_bps=rx,
            tx_bps=tx,
            processes=processes,
            disk_free=free,
            detail=f"{self.cpu_count} cores",
        )
