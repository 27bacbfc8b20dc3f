"""The shared machinery of the migrate and snapshot dialogs: engine events and one worker.

How engine events reach a dialog: the dialog subscribes to ``session.bus`` itself while it
is mounted, and its subscriber (running in the engine's thread) only *posts* a message to
the dialog (``post_message`` is thread-safe and never blocks the engine, unlike
``call_from_thread``, which would stall a migration step until the screen has drawn and
could hang a worker while the app shuts down). So a dialog works in any host app with no
wiring. :meth:`FlowScreen.engine_event` is the same entry point for an app that forwards
its events: an event already seen (the same object arriving both ways) is dropped, so
forwarding is harmless and optional.

The operation itself runs in one thread worker with a :class:`CancelToken`; its outcome
comes back as a :class:`FlowFinished` message posted from the worker thread after its
last event, so the screen always sees every step before the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.events import (
    Event,
    MigrationFailed,
    MigrationStep,
    SnapshotCreated,
    SnapshotRestored,
)
from ptest_tui.session import Session
from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")
FLOW_EVENTS = (MigrationStep, MigrationFailed, SnapshotCreated, SnapshotRestored)
MAX_SEEN = 512  # events remembered for de-duplication (a flow publishes a dozen or so)

# Shared by the dialogs so they look like the app's own when the app's CSS is absent.
DIALOG_CSS = """
FlowScreen {
    align: center middle;
    background: $background 60%;
}
FlowScreen .flow-dialog {
    width: 84;
    max-width: 96%;
    height: auto;
    max-height: 92%;
    border: round $primary;
    border-title-color: $primary;
    border-title-style: bold;
    border-subtitle-color: $foreground-muted;
    background: $surface;
    padding: 1 2;
}
FlowScreen .flow-keys {
    color: $foreground-muted;
    margin-top: 1;
    height: auto;
}
FlowScreen .flow-message {
    height: auto;
    margin-top: 1;
}
FlowScreen .flow-hidden {
    display: none;
}
"""


class FlowEvent(Message, bubble=False):
    """An engine event for this dialog (posted from the engine's thread)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class FlowFinished(Message, bubble=False):
    """The dialog's worker finished: a result or an error, and the env's stored record
    before and after (to say truthfully whether a failure left it untouched)."""

    def __init__(
        self,
        action: str,
        result: object = None,
        error: PtestError | None = None,
        before: EnvRecord | None = None,
        after: EnvRecord | None = None,
    ) -> None:
        super().__init__()
        self.action = action
        self.result = result
        self.error = error
        self.before = before
        self.after = after


class FlowScreen(ModalScreen[ResultT]):
    """A modal dialog about one environment that runs one engine operation at a time."""

    DEFAULT_CSS: ClassVar[str] = DIALOG_CSS

    def __init__(self, session: Session, env: str) -> None:
        super().__init__()
        self.session = session
        self.env = env
        self.token: CancelToken | None = None
        self.running = ""  # the action running now ("" when idle)
        self._seen: dict[Event, None] = {}
        self._unsubscribe: Callable[[], None] | None = None

    # -- events -----------------------------------------------------------------------

    def on_mount(self) -> None:
        """Listen to the engine while the dialog is open."""
        self._unsubscribe = self.session.bus.subscribe(Event, self._from_bus)

    def on_unmount(self) -> None:
        """Stop listening; a still-running operation is asked to stop."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.token is not None:
            self.token.cancel()

    def wants(self, event: Event) -> bool:
        """Whether ``event`` is about this dialog's environment and flow."""
        return isinstance(event, FLOW_EVENTS) and getattr(event, "env", None) == self.env

    def _from_bus(self, event: Event) -> None:
        # The engine's thread: filter cheaply, hand over, never touch a widget.
        if self.wants(event):
            self.post_message(FlowEvent(event))

    def on_flow_event(self, message: FlowEvent) -> None:
        """An event from the dialog's own subscription."""
        self.engine_event(message.event)

    def engine_event(self, event: Event) -> None:
        """An engine event (from the app or the dialog's subscription), each shown once."""
        if not self.wants(event) or event in self._seen:
            return
        self._seen[event] = None
        if len(self._seen) > MAX_SEEN:
            del self._seen[next(iter(self._seen))]
        self.flow_event(event)

    def flow_event(self, event: Event) -> None:
        """Show one relevant event (subclasses)."""

    # -- the worker -------------------------------------------------------------------

    def run_flow(self, action: str, job: Callable[[CancelToken], Any]) -> bool:
        """Run ``job(token)`` in a thread worker; False (and a bell) if one is running."""
        if self.running:
            self.app.bell()
            return False
        token = CancelToken()
        self.token = token
        self.running = action

        def work() -> None:
            before = self._record()
            try:
                result = job(token)
            except PtestError as exc:
                self.post_message(FlowFinished(action, error=exc, before=before,
                                               after=self._record()))
                return
            except Exception as exc:  # an engine bug: say so, keep the app alive
                log.exception("%s of %s failed", action, self.env)
                error = PtestError(f"{action} failed unexpectedly: {exc}",
                                   "the log pane has the traceback; please report it")
                self.post_message(FlowFinished(action, error=error, before=before,
                                               after=self._record()))
                return
            self.post_message(FlowFinished(action, result=result, before=before,
                                           after=self._record()))

        self.run_worker(work, name=f"{action}:{self.env}", group=f"flow-{action}",
                        thread=True, exit_on_error=False, description=f"{action} {self.env}")
        return True

    def _record(self) -> EnvRecord | None:
        # Worker thread: the env as the store has it now (to say truthfully what is left).
        try:
            return self.session.store.find_env(self.env)
        except Exception:  # the store itself failing must not hide the real error
            return None

    def on_flow_finished(self, message: FlowFinished) -> None:
        """The worker is done: idle again, then let the subclass show the outcome."""
        self.running = ""
        self.token = None
        self.flow_finished(message)

    def flow_finished(self, message: FlowFinished) -> None:
        """Show a finished operation (subclasses)."""

    def cancel_running(self) -> bool:
        """Ask the running operation to stop; False when nothing runs."""
        if self.token is None or not self.running:
            return False
        self.token.cancel()
        return True


def render_error(error: PtestError) -> Content:
    """The message in the error color, then the hint on its own line."""
    parts: list[str | tuple[str, str]] = [("✖ ", "$error"), (error.message, "$error")]
    if error.hint:
        parts += ["\n", ("hint: ", "bold"), (error.hint, "$foreground-muted")]
    return Content.assemble(*parts)


def render_failure(
    env: str, error: PtestError, before: EnvRecord | None, after: EnvRecord | None
) -> Content:
    """The reason, the hint, and what the store says became of the env."""
    if after is None:
        state = ("Nothing was created.", "") if before is None else (
            f"{env} is no longer in the store.", "$warning")
        return Content.assemble(render_error(error), "\n", state)
    untouched = before is not None and (
        before.isolation, before.location, before.engine_state, before.spec
    ) == (after.isolation, after.location, after.engine_state, after.spec)
    if untouched:
        line = Content.assemble(("✔ ", "$success"), f"{env} is untouched: still a"
                                f" {after.isolation} environment ({after.status}).")
    else:
        line = Content(f"{env} is now a {after.isolation} environment ({after.status}).")
    return Content.assemble(render_error(error), "\n", line)


def visible_text(screen: ModalScreen[Any]) -> str:
    """The plain text of every shown Static on ``screen`` (tests, screen readers)."""
    from textual.widgets import Static

    parts = []
    for widget in screen.query(Static):
        if all(node.display for node in widget.ancestors_with_self if node is not screen):
            content = widget.content
            parts.append(content.plain if isinstance(content, Content) else str(content))
    return "\n".join(part for part in parts if part)
