"""Pinned time and a fixed monitor for snapshot tests: nothing drawn depends on the clock.

:class:`FixedMonitor` is a real :class:`~ptest_tui.monitor.Monitor` (built from the
session) that never samples: its history is a fixed series of samples ending at
:data:`PINNED`, and :meth:`FixedMonitor.start` delivers one tick of them as the sampling
thread would, so the Resources pane and the environments table's usage cells draw the
same picture on every run, without sleeping. :func:`use_fixed_monitor` puts it where the
Resources pane builds its monitor; :func:`pin_times` pins the stored times of the envs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import pytest

from ptest_tui.events import MonitorSample
from ptest_tui.monitor import Monitor, RingBuffer, Tick
from ptest_tui.session import Session

PINNED = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
STEP = 5.0  # seconds between the fixed samples (use [monitor] interval = 5 with them)
COUNT = 120  # ten minutes of them
GIB = 1024**3
MIB = 1024**2


def host_samples() -> list[MonitorSample]:
    """A two-core host: a CPU wave, memory creeping up, steady disk traffic, 40G free."""
    samples = []
    for i in range(COUNT):
        samples.append(MonitorSample(
            "host", "host", "running",
            cpu_percent=40.0 + 30.0 * math.sin(i / 9.0),
            memory_bytes=int(3.0 * GIB + i * 4 * MIB), memory_limit=8 * GIB,
            read_bps=200_000.0 + 50_000.0 * (i % 7), write_bps=120_000.0,
            disk_free=40 * GIB, detail="2 cores", at=PINNED - (COUNT - 1 - i) * STEP,
        ))
    return samples


def env_samples(name: str, scale: float) -> list[MonitorSample]:
    """An env with a CPU burst in the middle (over the 80% threshold) and memory growth."""
    samples = []
    for i in range(COUNT):
        burst = 60 <= i < 75
        samples.append(MonitorSample(
            name, "env", "running",
            cpu_percent=scale * (95.0 if burst else 8.0 + 4.0 * math.sin(i / 5.0)),
            memory_bytes=int(scale * (90 * MIB + i * MIB)),
            read_bps=scale * (30_000.0 if burst else 2_000.0), write_bps=scale * 10_000.0,
            processes=3, at=PINNED - (COUNT - 1 - i) * STEP,
        ))
    return samples


class FixedMonitor(Monitor):
    """A real Monitor (built from the session) that never samples: :meth:`start` delivers
    one tick of the fixed samples, as the sampling thread would, and the history is fixed."""

    fixed: ClassVar[dict[str, list[MonitorSample]]] = {}

    def subscribe(self, callback: Callable[[Tick], None]) -> Callable[[], None]:
        """Keep the subscriber for the one tick."""
        self.subscribers = [*getattr(self, "subscribers", []), callback]
        return lambda: None

    def start(self) -> Monitor:
        """No thread: one tick with the latest fixed sample of each target."""
        tick = Tick(PINNED, tuple(samples[-1] for samples in self.fixed.values()))
        for callback in getattr(self, "subscribers", []):
            callback(tick)
        return self

    def stop(self) -> None:
        """Nothing runs."""

    def history(self, target: str) -> RingBuffer[MonitorSample]:
        """The fixed samples of ``target`` (empty for a target without any)."""
        buffer: RingBuffer[MonitorSample] = RingBuffer(COUNT)
        for sample in self.fixed.get(target, []):
            buffer.append(sample)
        return buffer

    def latest(self) -> dict[str, MonitorSample]:
        """The newest fixed sample of each target."""
        return {key: samples[-1] for key, samples in self.fixed.items()}


def use_fixed_monitor(monkeypatch: pytest.MonkeyPatch, envs: dict[str, float]) -> None:
    """The Resources pane reads the fixed host history and that of ``envs`` (name: scale)."""
    fixed = {"host": host_samples()}
    fixed.update({f"env:{name}": env_samples(name, scale) for name, scale in envs.items()})
    monkeypatch.setattr(FixedMonitor, "fixed", fixed)
    monkeypatch.setattr("ptest_tui.tui.widgets.resources_pane.Monitor", FixedMonitor)


def pin_times(session: Session) -> None:
    """Every env created and changed at PINNED; status changes a second apart after it."""
    with session.store.transaction() as conn:
        conn.execute("UPDATE environments SET created_at = ?, updated_at = ?", (PINNED, PINNED))
        conn.execute("UPDATE env_transitions SET at = ? + id", (PINNED,))
