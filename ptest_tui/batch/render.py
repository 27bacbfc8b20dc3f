"""Output of batch mode: NDJSON (``--json``), plain timestamped lines (not a terminal),
``--quiet`` (the summary only), and rich progress on a terminal (render_rich.py).

A renderer subscribes to the session's bus before the plan starts and prints the summary
from the :class:`BatchOutcome` at the end. Events arrive from the steps' threads, so every
write holds one lock and is flushed at once (lines show up live through pipes).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ptest_tui.batch.model import PASSED

if TYPE_CHECKING:
    from ptest_tui.batch.model import BatchOutcome
    from ptest_tui.events import Event
    from ptest_tui.session import Session


class Renderer:
    """Base: subscribe to events while the plan runs, then print the summary."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.broken = False  # the reader closed the pipe
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self, session: Session) -> None:
        """Begin listening to ``session``'s events."""
        from ptest_tui.events import Event

        self._unsubscribe.append(session.bus.subscribe(Event, self.on_event))

    def on_event(self, event: Event) -> None:
        """One event (called in the publishing thread)."""

    def stop(self) -> None:
        """Stop listening (before the summary)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def finish(self, outcome: BatchOutcome) -> None:
        """Print the summary of the finished plan."""

    def write(self, line: str) -> None:
        """One line, now. Once the reader is gone (``| head``), later lines are dropped:
        the plan still runs to its end and records its runs."""
        with self.lock:
            if self.broken:
                return
            try:
                self.out.write(line + "\n")
                self.out.flush()
            except BrokenPipeError:
                self.broken = True


class NdjsonRenderer(Renderer):
    """``--json``: one JSON object per line, the events of the documented schema."""

    def __init__(self, out: TextIO, quiet: bool = False) -> None:
        super().__init__(out)
        from ptest_tui.batch.schema import EVENTS, QUIET_EVENTS

        self.kinds = QUIET_EVENTS if quiet else frozenset(EVENTS)

    def on_event(self, event: Event) -> None:
        if event.kind in self.kinds:
            self.write(json.dumps(event.to_dict(), default=str, separators=(",", ":")))


def summary_line(outcome: BatchOutcome) -> str:
    """``plan NAME passed: 5 passed, 1 skipped in 1.20 s`` (plus why it stopped early)."""
    counts: dict[str, int] = {}
    for result in outcome.steps:
        counts[result.status] = counts.get(result.status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    why = f" ({outcome.message})" if outcome.message else ""
    return (f"plan {outcome.plan} {outcome.status}: {parts or 'no steps'} in"
            f" {outcome.seconds:.2f} s, exit code {outcome.exit_code}{why}")


def detail_lines(outcome: BatchOutcome) -> list[str]:
    """Reports written and what was kept, one line each."""
    lines = [f"report: {path}" for result in outcome.steps for path in result.reports]
    if outcome.kept:
        lines.append("kept: " + ", ".join(outcome.kept))
    return lines


class PlainRenderer(Renderer):
    """Not a terminal: one timestamped line per step event and per failing case."""

    def line(self, at: float, text: str) -> None:
        """``HH:MM:SS.mmm text``."""
        stamp = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
        self.write(f"{stamp} {text}")

    def on_event(self, event: Event) -> None:
        data: dict[str, Any] = event.to_dict()
        kind = event.kind
        if kind == "plan_started":
            self.line(event.at, f"plan {data['plan']}: {len(data['steps'])} steps,"
                                f" up to {data['parallel']} at once")
        elif kind == "step_started":
            target = f": {data['target']}" if data["target"] else ""
            self.line(event.at, f"start   {data['step']} ({data['step_kind']}{target})")
        elif kind == "step_finished":
            message = f": {data['message']}" if data["message"] else ""
            self.line(event.at, f"{data['status']:<7} {data['step']}"
                                f" {data['seconds']:.2f} s{message}")
        elif kind == "case_finished" and data["status"] in ("failed", "error"):
            why = f": {data['message']}" if data["message"] else ""
            self.line(event.at, f"{data['status'].upper():<7} {data['suite']}[{data['env']}]"
                                f" {data['case']} (run {data['run_id']}){why}")
        elif kind == "env_failed":
            self.line(event.at, f"env {data['env']} failed: {data['message']}")
        elif kind == "monitor_alert":
            self.line(event.at, f"WARNING {data['message']}")
        elif kind == "config_reload_failed":
            self.line(event.at, f"WARNING config not reloaded: {data['message']}")
        elif kind == "config_reloaded":
            self.line(event.at, "config reloaded: " + ", ".join(data["changed"]))
        elif kind == "object_failed":
            self.line(event.at, f"object {data['object']} failed: {data['message']}")

    def finish(self, outcome: BatchOutcome) -> None:
        self.write("")
        width = max((len(r.id) for r in outcome.steps), default=4)
        for result in outcome.steps:
            message = f"  {result.message}" if result.message else ""
            self.write(f"{result.status:<9} {result.id:<{width}} {result.kind:<8}"
                       f" {result.seconds:7.2f} s{message}")
        for line in detail_lines(outcome):
            self.write(line)
        self.write(summary_line(outcome))


class QuietRenderer(Renderer):
    """``--quiet``: steps that did not pass, then the summary line."""

    def finish(self, outcome: BatchOutcome) -> None:
        for result in outcome.steps:
            if result.status != PASSED:
                self.write(f"{result.status:<9} {result.id}: {result.message}")
        self.write(summary_line(outcome))


def make_renderer(out: TextIO, *, json_lines: bool, quiet: bool, terminal: bool) -> Renderer:
    """The renderer for the options and the output stream."""
    if json_lines:
        return NdjsonRenderer(out, quiet)
    if quiet:
        return QuietRenderer(out)
    if terminal:
        from ptest_tui.batch.render_rich import RichRenderer

        return RichRenderer(out)
    return PlainRenderer(out)
