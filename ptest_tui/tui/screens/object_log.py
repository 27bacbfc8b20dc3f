"""An object's log in a modal: the last lines, then new lines as the server writes them.

A worker reads the tail and then follows the file (``ObjectService.follow_log``) until the
dialog closes. A busy server can log thousands of lines a second, so lines are buffered
under a lock and announced by one marker message; the screen drains the buffer in one
write per burst (the same scheme as the app's output bridge).
"""

from __future__ import annotations

import threading
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import RichLog

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.session import Session

TAIL_LINES = 200
MAX_LINES = 5000


class LinesReady(Message, bubble=False):
    """Log lines wait in the screen's buffer."""

    def can_replace(self, message: Message) -> bool:
        """One waiting marker covers every buffered line."""
        return isinstance(message, LinesReady)


class LogNote(Message, bubble=False):
    """A line about the log itself (missing, unreadable), not from it."""

    def __init__(self, text: str, variable: str = "foreground-muted") -> None:
        super().__init__()
        self.text = text
        self.variable = variable


class ObjectLogScreen(ModalScreen[None]):
    """The log of object ``name``, following; Esc or q closes."""

    DEFAULT_CSS = """
    ObjectLogScreen {
        align: center middle;
        background: $background 60%;
    }
    ObjectLogScreen > #objlog-dialog {
        width: 90%;
        height: 80%;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
        border-subtitle-color: $foreground-muted;
        background: $surface;
        padding: 0 1;
    }
    ObjectLogScreen RichLog {
        height: 1fr;
        background: $surface;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
        Binding("g", "home", "Top", show=False),
        Binding("G", "end", "Bottom", show=False),
    ]

    def __init__(self, session: Session, name: str) -> None:
        super().__init__()
        self.session = session
        self.object_name = name
        self.token = CancelToken()
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._announced = False

    def compose(self) -> ComposeResult:
        """A box with the log."""
        with Vertical(id="objlog-dialog") as box:
            box.border_title = f"Log of {self.object_name}"
            box.border_subtitle = "following · Esc close"
            yield RichLog(id="objlog", max_lines=MAX_LINES, wrap=True, markup=False,
                          highlight=False)

    @property
    def log_view(self) -> RichLog:
        """The log widget."""
        return self.query_one(RichLog)

    def on_mount(self) -> None:
        """Start reading in the background."""
        self.log_view.focus()
        self.run_worker(self._follow, name=f"object-log:{self.object_name}", thread=True,
                        exit_on_error=False)

    def on_unmount(self) -> None:
        """Stop following."""
        self.token.cancel()

    def _follow(self) -> None:
        # Worker thread: tail, then follow until the token is cancelled.
        from ptest_tui.objects.readiness import last_lines

        objects, name = self.session.objects, self.object_name
        try:
            path = objects.log_file(name)
        except PtestError as exc:
            self.post_message(LogNote(exc.one_line(), "error"))
            return
        if path is None:
            self.post_message(LogNote(f"{name} has no log (only servers and commands write"
                                      " one)"))
            return
        tail = last_lines(path, TAIL_LINES)
        if not tail:
            self.post_message(LogNote(f"{path.name} is empty so far; new lines show here"))
        self._queue(tail)
        try:
            for line in objects.follow_log(name, self.token):
                self._queue([line])
        except PtestError as exc:
            self.post_message(LogNote(exc.one_line(), "error"))

    def _queue(self, lines: list[str]) -> None:
        if not lines:
            return
        with self._lock:
            self._pending.extend(lines)
            if self._announced:
                return
            self._announced = True
        self.post_message(LinesReady())

    def on_lines_ready(self, message: LinesReady) -> None:
        """Write every buffered line at once."""
        with self._lock:
            lines, self._pending = self._pending, []
            self._announced = False
        if lines:
            self.log_view.write(Text.from_ansi("\n".join(lines)))

    def on_log_note(self, message: LogNote) -> None:
        """A line about the log."""
        from ptest_tui.tui.style import theme_color

        self.log_view.write(Text(message.text, style=theme_color(self.app, message.variable)))

    @property
    def lines(self) -> list[str]:
        """The lines shown (tests)."""
        return [strip.text.rstrip() for strip in self.log_view.lines]

    def action_scroll(self, lines: int) -> None:
        """j/k."""
        self.log_view.scroll_relative(y=lines, animate=False)

    def action_home(self) -> None:
        """g: the first line."""
        self.log_view.scroll_home(animate=False)

    def action_end(self) -> None:
        """G: the last line (and keep following)."""
        self.log_view.scroll_end(animate=False)

    def action_close(self) -> None:
        """Esc/q."""
        self.token.cancel()
        self.dismiss(None)
