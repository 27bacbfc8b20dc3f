"""Coalescing for high-rate updates: run an action now, or once when its gap is over.

The app redraws its table, writes its log, re-reads the listing and notifies about
finished jobs in answer to engine events, which come dozens a second under load. Each of
those goes through a :class:`Throttle`: a request runs the action at once when it last
ran at least ``gap`` seconds ago, otherwise once at the end of the gap, however many
requests came meanwhile. The last request is therefore always served.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class Throttle:
    """Runs ``action`` at most once per ``gap`` seconds, the last request always served.

    An action that returns ``False`` did nothing (nothing to draw, a read already running)
    and starts no gap: the next request may run at once.
    """

    def __init__(self, owner: MessagePump, gap: float, action: Callable[[], object]) -> None:
        self.owner = owner  # its timers run on the owner's message loop
        self.gap = gap
        self.action = action
        self._last = -gap
        self._timer: Timer | None = None

    @property
    def pending(self) -> bool:
        """Whether a run is due at the end of the gap."""
        return self._timer is not None

    def request(self) -> None:
        """Run now if the gap is over, else once when it is."""
        if self._timer is not None:
            return  # the due run serves this request too
        wait = self._last + self.gap - time.monotonic()
        if wait > 0:
            self._timer = self.owner.set_timer(wait, self._due)
        else:
            self.run()

    def _due(self) -> None:
        self._timer = None  # fired: nothing to stop
        self.run()

    def run(self) -> None:
        """Run now (a due run is dropped: this one serves it)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        started = time.monotonic()
        if self.action() is not False:
            self._last = started
