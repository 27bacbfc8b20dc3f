"""Which process owns a transient state, and whether it is still alive.

A state such as ``creating`` stores the owner's pid and start time; comparing the start
time catches a pid reused by an unrelated process after a crash.
"""

from __future__ import annotations

import os
from pathlib import Path


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since boot), or None if it is gone.

    On Linux this reads /proc directly (psutil costs ~30 ms to import, a tenth of a whole
    command); elsewhere psutil answers. The value is only compared with itself.
    """
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self/stat").exists():
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            return None
        # Field 22 of stat (starttime, in clock ticks) is the 20th after the command name.
        return int(fields[19]) / os.sysconf("SC_CLK_TCK")
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def owner_alive(pid: int | None, started: float | None) -> bool:
    """Whether the process that owns a transient state still runs (pid reuse checked)."""
    if pid is None:
        return False
    now = process_started(pid)
    return now is not None and (started is None or abs(now - started) < 0.5)


def own_start_time() -> float:
    """When this process started, in the units of :func:`process_started`."""
    started = process_started(os.getpid())
    assert started is not None  # our own process always exists
    return started
