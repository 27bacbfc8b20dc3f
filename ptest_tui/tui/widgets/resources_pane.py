"""The Resources pane: live CPU, memory and disk charts of the selected env or object and
of the host, over the last minutes, with the peak marked and the ``[monitor]`` thresholds
drawn.

The pane owns a :class:`~ptest_tui.monitor.Monitor` (started on mount, stopped on
unmount) that samples the host, every env and every running object, so switching the
selection shows the history at once. Its thresholds are off: the app's own background
monitor raises the alerts, and a second one would raise each alert twice; the thresholds
drawn are read from the config at every redraw, so they follow ptest.toml edits.

Ticks arrive in the monitor's thread; they only set a flag and post one message, and the
pane redraws on the app thread at most ``MAX_REDRAWS`` times a second whatever the
sampling rate, not at all while hidden, and each chart repaints only if its drawing
changed.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from ptest_tui.errors import PtestError
from ptest_tui.events import (
    ConfigReloaded,
    EnvCreated,
    EnvDeleted,
    EnvFailed,
    Event,
    MonitorAlert,
    MonitorAlertCleared,
    MonitorSample,
    ObjectFailed,
    ObjectRemoved,
    ObjectStarted,
    ObjectStopped,
)
from ptest_tui.monitor import Monitor, Thresholds, Tick
from ptest_tui.session import Session
from ptest_tui.tui.widgets.chart_scale import short_duration
from ptest_tui.tui.widgets.graph import ChartColumn
from ptest_tui.tui.widgets.resource_charts import (
    explain,
    host_charts,
    sample_problem,
    target_charts,
)

MAX_REDRAWS = 4.0  # per second, whatever the sampling interval
ZOOM_STEPS = (60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 86400.0)
DEFAULT_WINDOW_MAX = 3600.0  # the window starts at the retention, at most an hour
MUTED = "$foreground-muted"
NO_SELECTION = "No environment selected: select one in Environments to see its resources."


class SamplesArrived(Message, bubble=False):
    """The monitor ticked (posted from its thread; one waits at most)."""


class UsageUpdated(Message):
    """New samples are in: the environments table shows each env's latest CPU and memory.

    Bubbles to the app; at most one per monitor tick.
    """

    def __init__(self, latest: dict[str, MonitorSample]) -> None:
        super().__init__()
        self.latest = latest


class TargetChecked(Message, bubble=False):
    """Whether an env or object can be measured (None) or why not."""

    def __init__(self, kind: str, name: str, reason: str | None) -> None:
        super().__init__()
        self.target_kind = kind
        self.target_name = name
        self.reason = reason


class ResourcesPane(Vertical):
    """Live resource charts of the selected env or object (left) and of the host (right)."""

    DEFAULT_CSS = """
    ResourcesPane { height: 1fr; }
    ResourcesPane > #resources-summary { height: 1; padding: 0 1; color: $foreground-muted; }
    ResourcesPane > #resources-columns { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "zoom(-1)", "Zoom in",
                tooltip="Show a shorter stretch of history"),
        Binding("minus", "zoom(1)", "Zoom out",
                tooltip="Show a longer stretch of history (up to [monitor] retention)"),
    ]
    can_focus = True

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.monitor: Monitor | None = None
        self.problem = ""  # why there is no monitor at all
        self.draws = 0  # redraws done (diagnostics and tests)
        self.target_kind: str | None = None  # env or object
        self.target_name: str | None = None
        self._reason: str | None = None  # why the target cannot be measured
        self._checked = False  # whether _reason is known for the current target
        self._alerts: dict[tuple[str, str, str], str] = {}
        self._window = 0.0
        self._lock = threading.Lock()
        self._announced = False
        self._visible = False
        self._last_draw = 0.0
        self._timer: Timer | None = None
        self._unsubscribe: Any = None
        self._summary = ""
        self.target_view = ChartColumn(3, id="resources-target")
        self.host_view = ChartColumn(4, id="resources-host")

    def compose(self) -> Any:
        """A summary line, then the target's and the host's columns."""
        yield Static(id="resources-summary")
        with Horizontal(id="resources-columns"):
            yield self.target_view
            yield self.host_view

    @property
    def target_key(self) -> str | None:
        """The monitor key of what is shown beside the host: ``env:NAME``, ``object:NAME``."""
        if not self.target_kind or not self.target_name:
            return None
        return f"{self.target_kind}:{self.target_name}"

    @property
    def window(self) -> float:
        """Seconds of history shown."""
        return self._window or min(self._retention(), DEFAULT_WINDOW_MAX)

    @property
    def text(self) -> str:
        """Everything the pane shows, as plain text (tests, screen readers)."""
        return "\n".join([self._summary, self.target_view.text, self.host_view.text])

    def _retention(self) -> float:
        return self.monitor.retention if self.monitor else self.session.config.monitor.retention

    # -- the monitor ------------------------------------------------------------------

    def on_mount(self) -> None:
        """Start sampling: every [monitor] interval, alerts off (see the module doc)."""
        try:
            self.monitor = Monitor(self.session, thresholds=Thresholds(), publish=False)
        except PtestError as exc:
            self.problem = exc.message + (f" ({exc.hint})" if exc.hint else "")
        else:
            self._unsubscribe = self.monitor.subscribe(self._ticked)
            self.monitor.start()
        self._draw()

    def on_unmount(self) -> None:
        """Stop sampling (the thread ends; nothing is posted any more)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.monitor is not None:
            self.monitor.stop()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _ticked(self, _tick: Tick) -> None:
        # In the monitor's thread: one message waits at most, however fast the ticks.
        with self._lock:
            if self._announced:
                return
            self._announced = True
        self.post_message(SamplesArrived())

    def on_samples_arrived(self, _message: SamplesArrived) -> None:
        """Redraw now, or when the redraw budget allows."""
        with self._lock:
            self._announced = False
        if self.monitor is not None:
            self.post_message(UsageUpdated(self.monitor.latest()))
        self._request_draw()

    def _request_draw(self) -> None:
        if self._timer is not None:
            return  # a redraw is already due
        wait = self._last_draw + 1 / MAX_REDRAWS - time.monotonic()
        if wait > 0:
            self._timer = self.set_timer(wait, self._timed_draw)
        else:
            self._draw()

    def _timed_draw(self) -> None:
        self._timer = None
        self._draw()

    @property
    def is_shown(self) -> bool:
        """Whether the pane is on screen (it draws only then)."""
        return self._visible

    def on_show(self) -> None:
        """Visible again: catch up."""
        self._visible = True
        self._request_draw()

    def on_hide(self) -> None:
        """Hidden (another pane is shown): stop redrawing."""
        self._visible = False

    # -- the selection ----------------------------------------------------------------

    def show_env(self, name: str | None) -> None:
        """Chart env ``name`` beside the host (None: nothing selected)."""
        self._select("env" if name else None, name)

    def show_object(self, name: str | None) -> None:
        """Chart test object ``name`` beside the host."""
        self._select("object" if name else None, name)

    def _select(self, kind: str | None, name: str | None) -> None:
        if (kind, name) == (self.target_kind, self.target_name):
            return
        self.target_kind, self.target_name = kind, name
        self._reason, self._checked = None, False
        if kind and name:
            self._check(kind, name)
        self._draw()

    @work(thread=True, exclusive=True, group="resources-check", exit_on_error=False)
    def _check(self, kind: str, name: str) -> None:
        """Find out whether the target can be measured (reads the store and config)."""
        try:
            reason = explain(self.session, kind, name)
        except PtestError as exc:
            reason = exc.message
        self.post_message(TargetChecked(kind, name, reason))

    def on_target_checked(self, message: TargetChecked) -> None:
        """Take the answer if it is about the current target."""
        if (message.target_kind, message.target_name) == (self.target_kind, self.target_name):
            self._reason, self._checked = message.reason, True
            self._draw()

    def engine_event(self, event: Event) -> None:
        """Follow alerts, config edits and the life of the shown target."""
        if isinstance(event, MonitorSample):
            return  # the pane reads its own monitor
        if isinstance(event, MonitorAlert):
            self._alerts[(event.target_kind, event.target, event.metric)] = event.message
            self._request_draw()
        elif isinstance(event, MonitorAlertCleared):
            self._alerts.pop((event.target_kind, event.target, event.metric), None)
            self._request_draw()
        elif isinstance(event, ConfigReloaded):
            if self.target_kind and self.target_name:
                self._check(self.target_kind, self.target_name)
            self._request_draw()
        elif self.target_kind and self.target_name and self._concerns(event):
            self._check(self.target_kind, self.target_name)

    def _concerns(self, event: Event) -> bool:
        if self.target_kind == "env" and isinstance(event, EnvCreated | EnvDeleted | EnvFailed):
            return event.env == self.target_name
        if self.target_kind == "object" and isinstance(
            event, ObjectStarted | ObjectStopped | ObjectFailed | ObjectRemoved
        ):
            return event.object == self.target_name
        return False

    # -- zoom -------------------------------------------------------------------------

    def action_zoom(self, direction: int) -> None:
        """+ / -: a shorter or longer window, up to the retention."""
        retention = self._retention()
        steps = sorted({s for s in ZOOM_STEPS if s < retention} | {retention})
        current = self.window
        if direction < 0:
            shorter = [s for s in steps if s < current]
            self._window = shorter[-1] if shorter else steps[0]
        else:
            longer = [s for s in steps if s > current]
            self._window = longer[0] if longer else steps[-1]
        self._draw()

    # -- drawing ----------------------------------------------------------------------

    def _samples(self, key: str) -> list[MonitorSample]:
        if self.monitor is None:
            return []
        try:
            return self.monitor.history(key).items()
        except PtestError:
            return []  # not picked up yet: the monitor looks targets up every few seconds

    def _title(self, label: str, kind: str, name: str, sample: MonitorSample | None) -> Content:
        parts: list[tuple[str, str] | str] = [(label, "bold")]
        if sample is not None:
            parts.append((f"  {sample.state}", "$success" if sample.state == "running" else MUTED))
            if sample.processes is not None:
                plural = "es" if sample.processes != 1 else ""
                parts.append((f" · {sample.processes} process{plural}", MUTED))
            if sample.detail and kind != "host":
                parts.append((f" · {sample.detail}", MUTED))
        # Alert messages start with the target ("env unit: ..."): the column says it already.
        prefix = "host: " if kind == "host" else f"{kind} {name}: "
        alerts = [m.removeprefix(prefix) for (k, n, _), m in sorted(self._alerts.items())
                  if (k, n) == (kind, name)]
        if alerts:
            parts.append(("\n⚠ " + "; ".join(alerts), "$warning"))
        return Content.assemble(*parts)

    def _draw(self) -> None:
        if self._timer is not None:  # drawn now: the pending redraw is not needed
            self._timer.stop()
            self._timer = None
        if not self._visible and self.draws:
            return  # on_show catches up
        self._last_draw = time.monotonic()
        self.draws += 1
        step = self.monitor.interval if self.monitor else self.session.config.monitor.interval
        window = self.window
        summary = (f"Last {short_duration(window)} · a sample every {step:g} s"
                   " · + / - to zoom · ▲ peak · ┄ alert threshold")
        if summary != self._summary:
            self._summary = summary
            self.query_one("#resources-summary", Static).update(Content(summary), layout=False)
        limits = Thresholds.from_config(self.session.config.monitor)
        host = self._samples("host")
        target = self._samples(self.target_key) if self.target_key else []
        now = max((s[-1].at for s in (host, target) if s), default=0.0)
        host_title = self._title("host", "host", "host", host[-1] if host else None)
        if self.problem:
            self.host_view.show_message(host_title, f"Monitoring is unavailable: {self.problem}")
        elif not host:
            self.host_view.show_message(host_title, "Waiting for the first sample…")
        else:
            self.host_view.show_charts(host_title, host_charts(host, limits, now, window, step))
        self._draw_target(target, limits, host, now, window, step)

    def _draw_target(self, samples: list[MonitorSample], limits: Thresholds,
                     host: list[MonitorSample], now: float, window: float, step: float) -> None:
        kind, name = self.target_kind, self.target_name
        if not kind or not name:
            self.target_view.show_message(Content.styled("—", "bold"), NO_SELECTION)
            return
        latest = samples[-1] if samples else None
        title = self._title(f"{kind} {name}", kind, name, latest)
        reason = self.problem or self._reason or sample_problem(kind, name, latest)
        if reason:
            self.target_view.show_message(title, reason)
        elif not samples:
            waiting = "Checking…" if not self._checked else (
                f"Waiting for the first sample of {kind} {name} (new environments and started"
                " objects are picked up within a few seconds).")
            self.target_view.show_message(title, waiting)
        else:
            host_memory = (host[-1].memory_limit or 0) if host else 0
            charts = target_charts(
                f"{kind}:{name}", samples, limits, host_memory, now, window, step
            )
            self.target_view.show_charts(title, charts)
