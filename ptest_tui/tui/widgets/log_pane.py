"""The log pane: engine events, logging records and command output, newest at the bottom."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import RichLog

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

MAX_LINES = 5000
WELCOME = "Events and command output appear here."


class LogPane(RichLog):
    """A RichLog with vim keys and helpers for event lines and output bursts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, max_lines=MAX_LINES, min_width=20, wrap=True, markup=False, highlight=False
        )

    def on_mount(self) -> None:
        """Start with a hint instead of an empty box."""
        self.write(Text(WELCOME, style=theme_color(self.app, "foreground-muted")))

    def event_line(self, at: float, text: str, variable: str = "foreground") -> None:
        """One engine event or status line, with its local time."""
        muted = theme_color(self.app, "foreground-muted")
        self.write(Text.assemble((clock(at) + " ", muted), (text, theme_color(self.app, variable))))

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
        self.write(text)

    def plain_lines(self) -> list[str]:
        """The text of every line held (tests, copy)."""
        return [strip.text.rstrip() for strip in self.lines]


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
    return f"{event.kind}", "foreground-muted"
