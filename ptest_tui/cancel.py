"""Cancellation tokens passed to long operations."""

from __future__ import annotations

import threading

from ptest_tui.errors import CancelledError


class CancelToken:
    """A thread-safe flag that long operations poll to stop promptly."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._children: list[CancelToken] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Ask every operation holding this token (or a child of it) to stop."""
        with self._lock:
            self._event.set()
            children = list(self._children)
        for child in children:
            child.cancel()

    def child(self) -> CancelToken:
        """A token cancelled with this one, that can also be cancelled on its own
        (a suite's deadline, a failing case under --fail-fast)."""
        token = CancelToken()
        with self._lock:
            self._children.append(token)
            if self._event.is_set():
                token.cancel()
        return token

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
