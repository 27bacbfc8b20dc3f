"""The log pane: engine events, logging records and command output, newest at the bottom.

``/`` in the pane opens a filter line above it: only lines containing the text (any case)
stay visible, lines written meanwhile that match appear live, Esc clears the filter. The
pane keeps its own bounded history (``log_model.LogHistory``) so a filter also applies to
lines written before it, and clearing the filter brings every line back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Input, RichLog

from ptest_tui.events import (
    CleanupRemoved,
    EnvCreated,
    EnvCreating,
    EnvDeleted,
    EnvDeleting,
    EnvFailed,
    EnvStatusChanged,
    Event,
    ImageBuildStep,
    OutputLine,
)
from ptest_tui.tui.style import clock, theme_color
from ptest_tui.tui.throttle import Throttle
from ptest_tui.tui.widgets.list_filter import ListFilter
from ptest_tui.tui.widgets.log_model import LogHistory, join_lines

MAX_LINES = 5000
FLUSH_SECONDS = 0.25  # at most four writes a second; a quiet log writes at once
WELCOME = "Events and command output appear here."


class LogPane(RichLog):
    """A RichLog with vim keys, a text filter, and helpers for event lines and output bursts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
        # The pane's own "/" wins over the app's (which filters the environments table)
        # because the focused widget's bindings are checked first.
        Binding("slash", "filter", "Filter log", show=False,
                tooltip="Filter the log: show only lines containing the text (any case)"),
    ]

    # The stock reactive lays out the whole screen whenever the log grows by a line, but
    # growing changes only the log's own scroll range; a scrollbar that comes or goes
    # asks for its layout by itself.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, max_lines=MAX_LINES, min_width=20, wrap=True, markup=False, highlight=False
        )
        self.history = LogHistory(MAX_LINES)
        self.filter_box: LogFilter | None = None
        self._pending: list[Text] = []
        self._writes = Throttle(self, FLUSH_SECONDS, self._write_pending)

    def watch_virtual_size(self, size: Size) -> None:
        """Follow the new scroll range (showing a scrollbar lays the screen out itself)."""
        self._scroll_update(size)

    def on_mount(self) -> None:
        """Start with a hint instead of an empty box."""
        # Not kept in the history: it is a hint, not something that happened.
        super().write(Text(WELCOME, style=theme_color(self.app, "foreground-muted")))

    def add(self, text: Text) -> None:
        """Keep ``text`` and show it, at most :data:`FLUSH_SECONDS` after the last write.

        Every write grows the log's virtual size, which costs the screen a relayout; under
        a flood of events (8 installs at once) lines are gathered and written together.
        """
        self._pending.append(text)
        self._writes.request()

    def flush(self) -> None:
        """Write the gathered lines now."""
        self._writes.run()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        text = pending[0] if len(pending) == 1 else join_lines(pending)
        self._write(text)

    def _write(self, text: Text) -> None:
        """Keep ``text`` in the history and show the lines the filter lets through."""
        shown = self.history.add(text)
        if not self.history.query:
            super().write(text)  # unfiltered: one write per burst, as it came
            return
        if shown:
            super().write(join_lines(shown))
        self._show_summary()

    def event_line(self, at: float, text: str, variable: str = "foreground") -> None:
        """One engine event or status line, with its local time."""
        muted = theme_color(self.app, "foreground-muted")
        self.add(Text.assemble((clock(at) + " ", muted), (text, theme_color(self.app, variable))))

    def output_lines(self, lines: Sequence[OutputLine], dropped: int = 0) -> None:
        """A burst of command output, written at once (one render per burst)."""
        if not lines and not dropped:
            return
        muted = theme_color(self.app, "foreground-muted")
        warn = theme_color(self.app, "warning")
        text = Text()
        if dropped:
            text.append(f"… {dropped} lines skipped (output was faster than the screen)\n", warn)
        for index, line in enumerate(lines):
            if index:
                text.append("\n")
            text.append(f"{line.env} │ ", muted)
            # Tools may color their output; keep the colors, drop other escape codes.
            style = warn if line.stream == "stderr" else ""
            text.append_text(Text.from_ansi(line.line, style=style))
        self.add(text)

    def plain_lines(self) -> list[str]:
        """The text of every line shown (tests, copy)."""
        self.flush()
        return [strip.text.rstrip() for strip in self.lines]

    def history_text(self) -> list[str]:
        """The plain text of every kept line, filtered out or not (tests, copy)."""
        self.flush()
        return [line.plain for line in self.history.lines]

    def clear(self) -> Self:
        """Empty the pane and forget its history (Ctrl+L); a filter stays active."""
        self._pending.clear()
        self.history.clear()
        super().clear()
        self._show_summary()
        return self

    # -- filter -------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        """The active filter ("" when every line shows)."""
        return self.history.query

    def set_filter(self, query: str) -> None:
        """Show only the kept lines containing ``query`` (any case); "" shows them all."""
        if query == self.history.query:
            return
        self.flush()  # gathered lines join the history before it is filtered
        self.history.query = query
        super().clear()
        shown = self.history.matching()
        if shown:
            super().write(join_lines(shown))
        self._show_summary()

    def _show_summary(self) -> None:
        self.border_subtitle = self.history.summary()

    async def action_filter(self) -> None:
        """/: open the filter line above the log and put the cursor in it."""
        box = self.filter_box
        if box is None:
            parent = self.parent
            if not isinstance(parent, Widget):
                return
            # Mounted beside the pane on first use: a RichLog does not lay out children.
            box = self.filter_box = LogFilter(self, id=f"{self.id or 'log'}-filter")
            await parent.mount(box, before=self)
        box.display = True
        box.focus()


class LogFilter(ListFilter):
    """The log's filter line: filters as you type; Enter keeps it, Esc clears it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave(True)", "Clear the log filter", show=False),
        Binding("enter,down", "leave(False)", "Back to the log, keeping the filter", show=False),
    ]

    def __init__(self, pane: LogPane, *, id: str | None = None) -> None:
        super().__init__(placeholder="/ filter the log (Esc clears)", id=id)
        self.pane = pane

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter the log as the text changes."""
        event.stop()  # the app's handlers filter other things on Input.Changed
        self.pane.set_filter(event.value)

    def target(self) -> Widget | None:
        """The log."""
        return self.pane

    def cleared(self) -> None:
        """Esc: show everything at once (not when the Changed message arrives), hide the line."""
        self.pane.set_filter("")
        self.display = False


def describe_event(event: Event) -> tuple[str, str] | None:
    """A log line and its color variable for an engine event (None: not worth a line)."""
    if isinstance(event, EnvCreating):
        return f"{event.env}: creating ({event.isolation}: {event.reason})", "foreground"
    if isinstance(event, EnvCreated):
        return f"{event.env}: ready ({event.isolation}, {event.seconds:.1f} s)", "success"
    if isinstance(event, EnvFailed):
        hint = f" (hint: {event.hint})" if event.hint else ""
        return f"{event.env}: failed: {event.message}{hint}", "error"
    if isinstance(event, EnvDeleting):
        return f"{event.env}: deleting", "foreground"
    if isinstance(event, EnvDeleted):
        return f"{event.env}: deleted", "foreground-muted"
    if isinstance(event, EnvStatusChanged):
        change = f"{event.old} → {event.new}" if event.old else event.new
        return f"{event.env}: {change} {event.note}".rstrip(), "foreground"
    if isinstance(event, CleanupRemoved):
        return f"cleanup removed {event.resource} {event.name} ({event.reason})", "warning"
    if isinstance(event, ImageBuildStep):
        return f"image {event.tag}: {event.step} {event.detail}".rstrip(), "foreground-muted"
    return _describe_more(event)


def _describe_more(event: Event) -> tuple[str, str] | None:
    """Runs, objects, alerts and config: one line each where a person wants one."""
    from ptest_tui.events import (
        CaseDone,
        CaseFinished,
        CaseStarted,
        ConfigReloaded,
        ConfigReloadFailed,
        MonitorAlert,
        ObjectFailed,
        ObjectStarted,
        ObjectStopped,
        PackagePhase,
        RunFinished,
        RunStarted,
    )

    if isinstance(event, CaseStarted | CaseDone | PackagePhase):
        return None  # shown live by the results and packages panes
    if isinstance(event, CaseFinished):
        if event.status not in ("failed", "error"):
            return None
        why = f": {event.message}" if event.message else ""
        return f"{event.suite}[{event.env}] {event.case} {event.status}{why}", "error"
    if isinstance(event, RunStarted):
        return f"run {event.run_id} started: {', '.join(event.units)}", "foreground"
    if isinstance(event, RunFinished):
        style = "success" if event.status == "passed" else "error"
        return f"run {event.run_id} {event.status} in {event.seconds:.1f} s", style
    if isinstance(event, ObjectStarted):
        return f"object {event.object} ready ({event.seconds:.1f} s) {event.url}", "success"
    if isinstance(event, ObjectStopped):
        return f"object {event.object} stopped", "foreground-muted"
    if isinstance(event, ObjectFailed):
        return f"object {event.object} failed: {event.message}", "error"
    if isinstance(event, MonitorAlert):
        return event.message, "warning"
    if isinstance(event, ConfigReloadFailed):
        return f"ptest.toml not reloaded: {event.message}", "error"
    if isinstance(event, ConfigReloaded):
        return f"ptest.toml reloaded ({', '.join(event.changed) or 'no changes'})", "foreground"
    return _describe_objects(event) or (_generic(event), "foreground-muted")


def _describe_objects(event: Event) -> tuple[str, str] | None:
    from ptest_tui.events import MonitorAlertCleared, ObjectAdded, ObjectRemoved, ObjectStarting

    if isinstance(event, ObjectStarting):
        return f"object {event.object}: starting ({event.object_kind}, {event.runtime})", (
            "foreground")
    if isinstance(event, ObjectAdded):
        return f"object {event.object} added ({event.object_kind})", "foreground"
    if isinstance(event, ObjectRemoved):
        return f"object {event.object} removed", "foreground-muted"
    if isinstance(event, MonitorAlertCleared):
        return event.message or f"{event.target}: {event.metric} back to normal", "success"
    return None


GENERIC_FIELDS = ("env", "object", "target", "name", "message")


def _generic(event: Event) -> str:
    """Any other event (a plugin's too): its kind in words and its main fields."""
    words = event.kind.replace("_", " ")
    values = [str(v) for key in GENERIC_FIELDS if isinstance(v := getattr(event, key, None), str)
              and v]
    return f"{words}: {', '.join(values)}" if values else words
