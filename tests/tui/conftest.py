"""Helpers for driving the real app with Pilot against real environments."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerError

from ptest_tui.tui.app import PtestApp


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (marked ``anyio``) run on asyncio, as Textual does."""
    return "asyncio"


async def settle(pilot: Pilot[int], rounds: int = 6) -> None:
    """Let workers finish and their messages (and follow-up refreshes) be handled.

    The app coalesces updates under load (a listing re-read, table values, the details
    of a cursor that moved fast are due a fraction of a second later); those are waited
    for too, so a test sees the state a person would see a moment later.
    """
    app = pilot.app
    for _ in range(rounds):
        for worker in list(app.workers):
            # Exclusive groups cancel superseded readers; that is expected, not a failure.
            with contextlib.suppress(WorkerError):
                await worker.wait()
        await pilot.pause()
        if getattr(app, "updates_pending", False):
            await wait_until(pilot, lambda: not app.updates_pending, rounds=40)


async def wait_until(pilot: Pilot[int], check: object, rounds: int = 200) -> bool:
    """Pause in small steps until ``check()`` is true (bounded, no wall-clock asserts)."""
    assert callable(check)
    for _ in range(rounds):
        if check():
            return True
        await pilot.pause(0.05)
    return bool(check())


class Notices:
    """Every notification the app shows, kept after the toasts time out (slow machines)."""

    def __init__(self, app: PtestApp) -> None:
        self.seen: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            self.seen.append((message, str(kwargs.get("severity", "information"))))
            original(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    @property
    def messages(self) -> list[str]:
        """The messages, oldest first."""
        return [message for message, _ in self.seen]

    @property
    def severities(self) -> list[str]:
        """The severities, oldest first."""
        return [severity for _, severity in self.seen]

    def has(self, text: str) -> bool:
        """Whether any message contains ``text``."""
        return any(text in message for message in self.messages)
