"""Cancellation tokens passed to long operations."""

from __future__ import annotations

import threading

from ptest_tui.errors import CancelledError


class CancelToken:
    """A thread-safe flag that long operations poll to stop promptly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask every operation holding this token to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True early if cancelled."""
        return self._event.wait(seconds)

    def raise_if_cancelled(self, what: str = "operation") -> None:
        """Raise CancelledError if cancelled."""
        if self.cancelled:
            raise CancelledError(f"{what} cancelled", "")
