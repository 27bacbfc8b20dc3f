"""The bridge from the engine's thread-safe world to Textual's message loop.

The engine publishes events on the session's EventBus from whatever thread does the work
(worker threads, output pump threads). The bridge turns them into Textual messages posted
to the app; it never touches a widget. Command output can arrive at thousands of lines a
second, so OutputLine events are buffered and announced by a single :class:`OutputReady`
marker that the app drains in one go (one log write per burst instead of one per line).
Python logging records are forwarded the same way, so engine warnings show in the log pane
instead of being written over the screen.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump

from ptest_tui.events import Event, EventBus, OutputLine

MAX_PENDING_LINES = 20_000  # beyond this, the oldest unshown lines are dropped (and counted)


class EngineEvent(Message):
    """An engine event (anything but output lines) for the app to show."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class OutputReady(Message):
    """Output lines are waiting in the bridge; drain them with :meth:`EventBridge.drain`."""

    def can_replace(self, message: Message) -> bool:
        """Markers are interchangeable: a later one covers the lines of an earlier one."""
        return isinstance(message, OutputReady)


class LogRecordPosted(Message):
    """A Python logging record, formatted, for the log pane."""

    def __init__(self, level: int, text: str) -> None:
        super().__init__()
        self.level = level
        self.text = text


@dataclass(frozen=True)
class OutputBatch:
    """Lines drained from the bridge, and how many were dropped because too many waited."""

    lines: tuple[OutputLine, ...]
    dropped: int


class EventBridge:
    """Subscribes to a bus and posts Textual messages to ``target`` (thread-safe)."""

    def __init__(
        self, target: MessagePump, bus: EventBus, max_pending: int = MAX_PENDING_LINES
    ) -> None:
        self.target = target
        self.bus = bus
        self.max_pending = max_pending
        self.batches = 0  # drained bursts, for diagnostics and tests
        self._lock = threading.Lock()
        self._pending: deque[OutputLine] = deque()
        self._dropped = 0
        self._announced = False
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Begin forwarding events."""
        if self._unsubscribe is None:
            self._unsubscribe = self.bus.subscribe(Event, self._on_event)

    def stop(self) -> None:
        """Stop forwarding; events published afterwards are ignored."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        # Runs in the publishing thread: only queue work, never touch the UI here.
        if not isinstance(event, OutputLine):
            self.target.post_message(EngineEvent(event))
            return
        with self._lock:
            if len(self._pending) >= self.max_pending:
                self._pending.popleft()
                self._dropped += 1
            self._pending.append(event)
            if self._announced:
                return
            self._announced = True
        self.target.post_message(OutputReady())

    def drain(self) -> OutputBatch:
        """Take every waiting line (call from the app's thread on OutputReady)."""
        with self._lock:
            lines = tuple(self._pending)
            dropped = self._dropped
            self._pending.clear()
            self._dropped = 0
            self._announced = False
        if lines or dropped:
            self.batches += 1
        return OutputBatch(lines, dropped)


class TuiLogHandler(logging.Handler):
    """A logging handler that posts records to the app instead of writing to the terminal."""

    def __init__(self, target: MessagePump, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.target = target
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Format the record (with its traceback, if any) and post it."""
        try:
            text = f"{record.levelname.lower()}: {self.format(record)}"
            self.target.post_message(LogRecordPosted(record.levelno, text))
        except Exception:  # logging must never raise into the engine
            self.handleError(record)


def capture_logging(target: MessagePump) -> Callable[[], None]:
    """Route root logging to ``target`` while the app runs; returns a function that undoes it.

    Plain stream handlers (such as the one ``logging.basicConfig`` adds for the CLI) write to
    the real terminal and would scribble over the screen, so they are detached meanwhile.
    Subclasses (pytest's capture handlers) are left alone.
    """
    root = logging.getLogger()
    streams = [h for h in root.handlers if type(h) is logging.StreamHandler]
    level = logging.DEBUG if root.level and root.level <= logging.DEBUG else logging.WARNING
    handler = TuiLogHandler(target, level)
    for stream in streams:
        root.removeHandler(stream)
    root.addHandler(handler)

    def restore() -> None:
        root.removeHandler(handler)
        for stream in streams:
            root.addHandler(stream)

    return restore
