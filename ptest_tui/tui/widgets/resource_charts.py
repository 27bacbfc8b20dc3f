"""From monitor samples to chart specs, and why a target cannot be charted.

Pure functions over :class:`~ptest_tui.events.MonitorSample` values (the pane reads them
from the monitor's ring buffers): which charts a target gets, their scales, and which
``[monitor]`` thresholds apply to it, exactly as the alerts apply them (see
ptest_tui/monitor/alerts.py): ``cpu_percent`` and a ``memory`` size to envs and objects, a
``memory`` percent to them and the host, ``disk_free`` to the host.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace
from operator import attrgetter
from typing import TYPE_CHECKING

from ptest_tui.errors import PtestError
from ptest_tui.events import MonitorSample
from ptest_tui.monitor.alerts import Thresholds
from ptest_tui.tui.widgets.chart import GraphSpec, Point, Series
from ptest_tui.tui.widgets.chart_scale import short_size

if TYPE_CHECKING:
    from ptest_tui.session import Session

MIB = 1024**2
MEMORY_FLOOR = 64 * MIB  # an idle env's memory chart still has a readable scale
RATE_FLOOR = 64 * 1024  # likewise for disk rates (64K/s)
READ_STYLE = "$primary"
WRITE_STYLE = "$secondary"
# Sample states in which there is nothing to chart; the sample's detail says why.
UNCHARTED = ("missing", "unsupported", "error")


def points(samples: Sequence[MonitorSample], field: str) -> tuple[Point, ...]:
    """The ``(time, value)`` of ``field`` in each sample (None where it has none). No
    Python loop: this runs for every series at every redraw."""
    return tuple(map(attrgetter("at", field), samples))


def host_cores(sample: MonitorSample | None) -> int:
    """The host's cores: from its sample's detail ("2 cores"), else this machine's."""
    match = re.match(r"(\d+) cores?", sample.detail if sample else "")
    return int(match.group(1)) if match else os.cpu_count() or 1


def _memory_threshold(limits: Thresholds, total: int, host: bool) -> tuple[float, str] | None:
    if limits.memory_bytes and not host:
        return float(limits.memory_bytes), f"alert above {short_size(limits.memory_bytes)}"
    if limits.memory_percent and total:
        value = limits.memory_percent / 100 * total
        return value, f"alert above {limits.memory_percent:g}% ({short_size(value)})"
    return None


def _disk_io(samples: Sequence[MonitorSample], now: float, window: float,
             step: float) -> GraphSpec:
    return GraphSpec(
        "Disk I/O",
        (Series("read", points(samples, "read_bps"), READ_STYLE),
         Series("write", points(samples, "write_bps"), WRITE_STYLE)),
        now, window, step, unit="rate", floor=RATE_FLOOR,
    )


def target_charts(
    key: str, samples: Sequence[MonitorSample], limits: Thresholds, host_memory: int,
    now: float, window: float, step: float,
) -> list[GraphSpec]:
    """CPU, memory and disk I/O of an env or object (``key``: ``env:NAME``, ...)."""
    latest = samples[-1] if samples else None
    cpu = GraphSpec(
        "CPU", (Series("", points(samples, "cpu_percent")),), now, window, step,
        floor=100.0, note="of a core",
        threshold=limits.cpu_percent or None,
        threshold_label=f"alert above {limits.cpu_percent:g}%",
    )
    limit = latest.memory_limit if latest else None
    own_limit = limit is not None and limit != host_memory  # a container's memory limit
    memory_threshold = _memory_threshold(limits, limit or host_memory, host=False)
    memory = GraphSpec(
        "Memory", (Series("", points(samples, "memory_bytes")),), now, window, step,
        unit="bytes", floor=MEMORY_FLOOR,
        note=f"of {short_size(limit)} limit" if own_limit and limit else "",
        threshold=memory_threshold[0] if memory_threshold else None,
        threshold_label=memory_threshold[1] if memory_threshold else "",
    )
    charts = (cpu, memory, _disk_io(samples, now, window, step))
    return [replace(spec, source=key) for spec in charts]


def host_charts(
    samples: Sequence[MonitorSample], limits: Thresholds, now: float, window: float,
    step: float,
) -> list[GraphSpec]:
    """CPU (all cores), memory, disk I/O and free disk space of the host."""
    latest = samples[-1] if samples else None
    cores = host_cores(latest)
    cpu = GraphSpec(
        "CPU", (Series("", points(samples, "cpu_percent")),), now, window, step,
        ceiling=100.0 * cores, note=f"({cores} core{'s' if cores != 1 else ''})",
    )
    total = (latest.memory_limit if latest else None) or 0
    memory_threshold = _memory_threshold(limits, total, host=True)
    memory = GraphSpec(
        "Memory", (Series("", points(samples, "memory_bytes")),), now, window, step,
        unit="bytes", ceiling=float(total) or None, floor=MEMORY_FLOOR,
        note=f"of {short_size(total)}" if total else "",
        threshold=memory_threshold[0] if memory_threshold else None,
        threshold_label=memory_threshold[1] if memory_threshold else "",
    )
    free = GraphSpec(
        "Disk free", (Series("", points(samples, "disk_free")),), now, window, step,
        unit="bytes",
        threshold=float(limits.disk_free) if limits.disk_free else None,
        threshold_label=f"alert below {short_size(limits.disk_free)}",
    )
    charts = (cpu, memory, _disk_io(samples, now, window, step), free)
    return [replace(spec, source="host") for spec in charts]


def explain(session: Session, kind: str, name: str) -> str | None:
    """Why env or object ``name`` cannot be charted, or None when it can (blocking: it
    reads the store and the config; call from a worker thread)."""
    from ptest_tui.monitor.targets import env_target, object_target
    from ptest_tui.objects.records import ObjectRecords

    if kind == "env":
        if session.store.find_env(name) is None:
            if name in session.config.envs:
                return (f"env {name} is declared in ptest.toml but not created yet: nothing "
                        "runs in it, so there is nothing to measure. Create it first.")
            return f"there is no environment named {name}."
        target = env_target(session, name)
        return None if target.via != "none" else f"env {name} is not measured: {target.detail}."
    try:
        target = object_target(session, name)
    except PtestError as exc:
        return f"object {name} is not measured: {exc.message}."
    if target.via == "none":
        return f"object {name} is not measured: {target.detail}."
    record = ObjectRecords(session.store).find(name)
    state = record.state if record else "stopped"
    if state != "running":
        return f"object {name} is {state}: start it to see its resources."
    return None


def sample_problem(kind: str, name: str, sample: MonitorSample | None) -> str | None:
    """Why the latest sample of a target gives nothing to chart, or None."""
    if sample is not None and sample.state in UNCHARTED:
        return f"{kind} {name} is not measured ({sample.state}): {sample.detail or 'no detail'}."
    if sample is not None and sample.state == "stopped" and kind == "object":
        return f"object {name} is stopped: start it to see its resources."
    return None
