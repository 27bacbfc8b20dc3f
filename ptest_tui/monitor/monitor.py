"""The Monitor: samples targets at an interval into ring buffers and raises alerts.

    from ptest_tui.monitor import Monitor

    with Monitor(session, ["unit"], interval=1.0) as monitor:
        for tick in monitor.run(count=5):
            print(tick.samples)

or in the background (the TUI): ``monitor.start()``, then ``monitor.subscribe(fn)`` for
each tick, ``session.bus.subscribe(MonitorSample, fn)`` for each sample, and
``monitor.history("env:unit")`` for the ring buffer; ``monitor.stop()`` at the end.

Each tick costs one ``/proc`` scan shared by every host env and object, one set of psutil
calls for the host, and nothing per container (their stats arrive on streams).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError, UsageError
from ptest_tui.events.types import MonitorSample
from ptest_tui.monitor.alerts import AlertEvent, AlertTracker, Thresholds
from ptest_tui.monitor.containers import ContainerStats
from ptest_tui.monitor.host import HostSampler
from ptest_tui.monitor.procscan import GroupUsage, ProcessScanner
from ptest_tui.monitor.ring import RingBuffer, capacity_for
from ptest_tui.monitor.targets import Target, parse_names, resolve

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0  # how often the target list (envs, objects, pids) is looked up again


@dataclass(frozen=True)
class Tick:
    """One round of sampling: a sample per target and the alerts it raised or cleared."""

    at: float
    samples: tuple[MonitorSample, ...]
    alerts: tuple[AlertEvent, ...] = ()


TickCallback = Callable[[Tick], None]


class Monitor:
    """Live resource monitoring of a workspace's host, envs and objects."""

    def __init__(
        self,
        session: Session,
        targets: Sequence[str] = (),
        *,
        interval: float | None = None,
        retention: float | None = None,
        thresholds: Thresholds | None = None,
        publish: bool = True,
    ) -> None:
        config = session.config.monitor
        self.session = session
        self.interval = float(interval if interval is not None else config.interval)
        if not 0.1 <= self.interval <= 3600:
            raise UsageError(
                f"monitor interval {self.interval:g} s is out of range", "use 0.1 to 3600 seconds"
            )
        self.retention = float(retention if retention is not None else config.retention)
        self.thresholds = thresholds or Thresholds.from_config(config)
        # What came from the config (not from arguments) follows config hot reloads.
        self._from_config = {
            "interval": interval is None, "retention": retention is None,
            "thresholds": thresholds is None,
        }
        self.publish = publish
        # Names are checked now, so a typo fails before anything is sampled.
        self._wanted = parse_names(session, targets) if targets else None
        self._scanner = ProcessScanner(str(session.workspace.root), f"{session.workspace.id}/")
        self._host = HostSampler(str(session.workspace.root))
        self._containers: ContainerStats | None = None
        self._problem = ""  # why containers cannot be followed
        self._alerts = AlertTracker(self.thresholds)
        self._buffers: dict[str, RingBuffer[MonitorSample]] = {}
        self._callbacks: list[TickCallback] = []
        self._lock = threading.Lock()
        self._targets: list[Target] = []
        self._refreshed = -REFRESH_SECONDS
        self._primed = False
        self._cancel = CancelToken()
        self._thread: threading.Thread | None = None

    def apply_config(self, config: Any) -> None:
        """Take a reloaded ``[monitor]`` section: interval, retention and thresholds
        (unless they were given as arguments) apply from the next tick."""
        section = config.monitor
        if self._from_config["interval"] and 0.1 <= float(section.interval) <= 3600:
            self.interval = float(section.interval)
        if self._from_config["retention"]:
            self.retention = float(section.retention)
        if self._from_config["thresholds"]:
            self.thresholds = Thresholds.from_config(section)
            self._alerts.thresholds = self.thresholds

    # -- reading ----------------------------------------------------------------------

    def targets(self) -> list[Target]:
        """The targets of the latest refresh."""
        return list(self._targets)

    def history(self, target: str) -> RingBuffer[MonitorSample]:
        """The ring buffer of ``target``: a key (``env:unit``, ``object:db``, ``host``) or a
        bare name; it keeps ``retention`` seconds of samples, oldest first."""
        with self._lock:
            if target in self._buffers:
                return self._buffers[target]
            matches = [b for key, b in self._buffers.items() if key.partition(":")[2] == target]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(sorted(self._buffers)) or "none yet"
        raise UsageError(f"no monitored target {target!r} (monitored: {known})",
                         "use a key such as env:NAME or object:NAME")

    def latest(self) -> dict[str, MonitorSample]:
        """The newest sample of every target, by key."""
        with self._lock:
            buffers = dict(self._buffers)
        return {key: s for key, b in buffers.items() if (s := b.latest()) is not None}

    def active_alerts(self) -> list[AlertEvent]:
        """Alerts raised and not cleared yet."""
        return list(self._alerts.active())

    def subscribe(self, callback: TickCallback) -> Callable[[], None]:
        """Call ``callback(tick)`` after every tick (in the monitor's thread); returns an
        unsubscribe. A callback that raises is logged and skipped."""
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    # -- sampling ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Look the targets up again (new envs, started objects, moved pids)."""
        try:
            targets = resolve(self.session, self._wanted)
        except PtestError as exc:  # a locked store or a vanished daemon: keep the old list
            log.warning("monitor: cannot refresh targets: %s", exc.one_line())
            return
        capacity = capacity_for(self.retention, self.interval)
        with self._lock:
            for target in targets:
                if target.key not in self._buffers:
                    self._buffers[target.key] = RingBuffer(capacity)
        for key in {t.key for t in self._targets} - {t.key for t in targets}:
            kind, _, name = key.partition(":")
            self._alerts.forget(kind, name or kind)
        self._targets = targets
        refs = [t.ref for t in targets if t.via == "container"]
        if refs or self._containers is not None:
            try:
                self._container_stats().watch(refs)
            except PtestError as exc:
                self._problem = exc.message
                log.warning("monitor: cannot follow containers: %s", exc.one_line())
        self._refreshed = time.monotonic()

    def _container_stats(self) -> ContainerStats:
        if self._containers is None:
            from ptest_tui.engines.docker_client import connect

            engine = self.session.engines.get("docker")
            target = getattr(engine, "target", None)
            if target is None:
                raise UsageError("no docker engine is installed", "")
            self._containers = ContainerStats(lambda: connect(target))
        return self._containers

    def prime(self) -> None:
        """Take the baselines that rates are computed against (no samples yet)."""
        self.refresh()
        self._scan()
        self._host.sample()
        self._primed = True

    def _scan(self) -> dict[tuple[str, str], GroupUsage] | None:
        if not any(t.via == "procs" for t in self._targets):
            return None
        sessions = {t.session_id: t.name for t in self._targets if t.session_id is not None}
        return self._scanner.scan(sessions)

    def tick(self) -> Tick:
        """Sample every target now, store the samples, raise alerts, tell subscribers.

        The very first call takes the baselines and waits one interval first (rates need
        two readings); :meth:`run` does that for you.
        """
        if not self._primed:
            self.prime()
            self._cancel.wait(self.interval)
        if time.monotonic() - self._refreshed >= REFRESH_SECONDS:
            self.refresh()
        targets = self._targets  # one list for the whole tick, whatever refresh() does
        usage = self._scan()
        host = self._host.sample(self._scanner.stats.pids if usage is not None else None)
        samples = [self._sample(target, host, usage) for target in targets]
        alerts: list[AlertEvent] = []
        with self._lock:
            buffers = [self._buffers.get(target.key) for target in targets]
            callbacks = list(self._callbacks)
        for sample, buffer in zip(samples, buffers, strict=True):
            if buffer is not None:
                buffer.append(sample)
            alerts += self._alerts.update(sample, host.memory_limit or 0)
        if self.publish:
            for sample in samples:
                self.session.bus.publish(sample)
        for alert in alerts:
            # Alerts are rare and every front end shows them: always published (``publish``
            # only decides about the samples).
            self.session.bus.publish(alert)
            self._notify_plugins(alert)
        tick = Tick(time.time(), tuple(samples), tuple(alerts))
        for callback in callbacks:
            try:
                callback(tick)
            except Exception:
                log.exception("monitor subscriber %r failed", callback)
        return tick

    def _sample(
        self,
        target: Target,
        host: MonitorSample,
        usage: dict[tuple[str, str], GroupUsage] | None,
    ) -> MonitorSample:
        if target.via == "host":
            return host
        if target.via == "procs":
            found = (usage or {}).get((target.kind, target.name))
            if found is None:
                if target.kind == "object":
                    return MonitorSample(target.name, target.kind, "stopped", processes=0)
                return MonitorSample(
                    target.name, target.kind, "idle", cpu_percent=0.0, memory_bytes=0,
                    read_bps=0.0, write_bps=0.0, processes=0,
                )
            return MonitorSample(
                target.name, target.kind, "running" if found.processes else "idle",
                cpu_percent=found.cpu_percent, memory_bytes=found.memory_bytes,
                read_bps=found.read_bps, write_bps=found.write_bps,
                processes=found.processes,
            )
        if target.via == "container":
            if self._containers is None:
                return MonitorSample(target.name, target.kind, "error", detail=self._problem)
            state, reading = self._containers.reading(target.ref, max(5.0, 3 * self.interval))
            detail = f"container {target.ref[:12] if len(target.ref) == 64 else target.ref}"
            if reading is None or not reading.running:
                return MonitorSample(target.name, target.kind, state, detail=detail)
            return MonitorSample(
                target.name, target.kind, "running", cpu_percent=reading.cpu_percent,
                memory_bytes=reading.memory_bytes, memory_limit=reading.memory_limit,
                read_bps=reading.read_bps, write_bps=reading.write_bps, rx_bps=reading.rx_bps,
                tx_bps=reading.tx_bps, processes=reading.processes, detail=detail,
            )
        state = "missing" if target.detail.startswith("no such") else "unsupported"
        return MonitorSample(target.name, target.kind, state, detail=target.detail)

    def _notify_plugins(self, alert: AlertEvent) -> None:
        """``ptest_alert`` of every plugin, in pluggy's order; one that raises is logged by
        name and disabled like in any other hook (the plugin manager's ``notify``)."""
        self.session.plugins.notify("ptest_alert", alert=alert)

    # -- running ----------------------------------------------------------------------

    def run(
        self, count: int | None = None, cancel: CancelToken | None = None
    ) -> Generator[Tick, None, None]:
        """Tick every ``interval`` seconds in the caller's thread; ``count`` ticks, or until
        cancelled. The first tick comes one interval after the baselines are taken."""
        from ptest_tui.events import ConfigReloaded

        token = cancel or self._cancel
        self.prime()
        due = time.monotonic() + self.interval

        def reloaded(event: ConfigReloaded) -> None:
            if "monitor" in event.changed:
                self.apply_config(self.session.config)

        unsubscribe = self.session.bus.subscribe(ConfigReloaded, reloaded)
        done = 0
        try:
            while count is None or done < count:
                if token.wait(max(0.0, due - time.monotonic())):
                    return
                yield self.tick()
                done += 1
                # A fixed schedule (no drift); after a slow tick or reader, go on from now.
                due = max(due + self.interval, time.monotonic())
        finally:
            unsubscribe()

    def start(self) -> Monitor:
        """Sample in a background thread until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._cancel = CancelToken()

        def loop() -> None:
            try:
                for _tick in self.run(cancel=self._cancel):
                    pass
            except Exception:
                log.exception("the monitor stopped")

        self._thread = threading.Thread(target=loop, name="ptest-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (the thread and the container streams); history stays readable."""
        self._cancel.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None
        self._cancel = CancelToken()  # a later run() or start() goes again
        if self._containers is not None:
            self._containers.close()
            self._containers = None

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
