"""Thresholds and their alerts, debounced: one alert per crossing, one "cleared" on return.

What each threshold watches (see docs/monitoring.md):

- ``cpu_percent``: each env and object, in percent of one core;
- ``memory``: each env and object; a size is compared with its memory, a percent with its
  memory over its limit (a container's) or else over the host's memory; a percent also
  watches the host's used memory;
- ``disk_free``: the free space of the disk holding the workspace (the host target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ptest_tui.config.model import MonitorConfig
from ptest_tui.events.types import MonitorAlert, MonitorAlertCleared, MonitorSample
from ptest_tui.monitor.fmt import human_bytes

AlertEvent = MonitorAlert | MonitorAlertCleared
# States in which a target uses nothing: its raised alerts are cleared.
IDLE_STATES = ("stopped", "missing")


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds; 0 turns one off."""

    cpu_percent: float = 0.0
    memory_bytes: int = 0
    memory_percent: float = 0.0
    disk_free: int = 0

    @classmethod
    def from_config(cls, config: MonitorConfig) -> Thresholds:
        """The thresholds of the ``[monitor]`` section."""
        return cls(
            config.cpu_percent, config.memory_bytes, config.memory_percent, config.disk_free
        )

    @property
    def any(self) -> bool:
        """Whether any threshold is on."""
        return bool(self.cpu_percent or self.memory_bytes or self.memory_percent or self.disk_free)


@dataclass(frozen=True)
class _Check:
    metric: str
    value: float
    threshold: float
    over: bool
    describe: Callable[[bool], str]


def _checks(sample: MonitorSample, limits: Thresholds, host_memory: int) -> list[_Check]:
    """Each threshold that applies to ``sample`` and has a value to compare."""
    checks: list[_Check] = []
    host = sample.target_kind == "host"
    if limits.cpu_percent and not host and sample.cpu_percent is not None:
        cpu, limit = sample.cpu_percent, limits.cpu_percent
        checks.append(_Check(
            "cpu_percent", cpu, limit, cpu > limit,
            lambda over: f"CPU {cpu:.0f}% of a core is {'above' if over else 'back under'}"
                         f" {limit:g}%",
        ))
    memory = sample.memory_bytes
    if limits.memory_bytes and not host and memory is not None:
        size = limits.memory_bytes
        checks.append(_Check(
            "memory", float(memory), float(size), memory > size,
            lambda over: f"memory {human_bytes(memory)} is {'above' if over else 'back under'}"
                         f" {human_bytes(size)}",
        ))
    if limits.memory_percent and memory is not None:
        total = sample.memory_limit or host_memory
        if total:
            share, limit = memory / total * 100.0, limits.memory_percent
            checks.append(_Check(
                "memory", share, limit, share > limit,
                lambda over: f"memory {share:.0f}% of {human_bytes(total)} is"
                             f" {'above' if over else 'back under'} {limit:g}%",
            ))
    if limits.disk_free and host and sample.disk_free is not None:
        free, floor = sample.disk_free, limits.disk_free
        checks.append(_Check(
            "disk_free", float(free), float(floor), free < floor,
            lambda low: f"disk free {human_bytes(free)} is {'below' if low else 'back above'}"
                        f" {human_bytes(floor)}",
        ))
    return checks


class AlertTracker:
    """Remembers which alerts are raised and reports only the changes."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._active: dict[tuple[str, str, str], MonitorAlert] = {}

    def active(self) -> list[MonitorAlert]:
        """Alerts raised and not cleared yet."""
        return list(self._active.values())

    def update(self, sample: MonitorSample, host_memory: int = 0) -> list[AlertEvent]:
        """The alerts raised and cleared by ``sample`` (usually none)."""
        changes: list[AlertEvent] = []
        target = (sample.target_kind, sample.target)
        label = "host" if sample.target_kind == "host" else f"{sample.target_kind} {sample.target}"
        if sample.state in IDLE_STATES:
            for key in [k for k in self._active if k[:2] == target]:
                gone = self._active.pop(key)
                changes.append(MonitorAlertCleared(
                    gone.target, gone.target_kind, gone.metric, 0.0, gone.threshold,
                    f"{label}: {sample.state}, {gone.metric} alert cleared",
                ))
            return changes
        for check in _checks(sample, self.thresholds, host_memory):
            key = (*target, check.metric)
            raised = self._active.get(key)
            if check.over and raised is None:
                alert = MonitorAlert(
                    sample.target, sample.target_kind, check.metric, check.value,
                    check.threshold, f"{label}: {check.describe(True)}",
                )
                self._active[key] = alert
                changes.append(alert)
            elif not check.over and raised is not None:
                del self._active[key]
                changes.append(MonitorAlertCleared(
                    sample.target, sample.target_kind, check.metric, check.value,
                    check.threshold, f"{label}: {check.describe(False)}",
                ))
        return changes

    def forget(self, target_kind: str, target: str) -> None:
        """Drop the alerts of a target that is no longer monitored."""
        for key in [k for k in self._active if k[:2] == (target_kind, target)]:
            del self._active[key]
