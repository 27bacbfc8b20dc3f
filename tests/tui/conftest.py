"""Helpers for driving the real app with Pilot against real environments."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.worker import WorkerError, WorkerState

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
    await pilot.pause()  # Show, Hide and Resize events the last round posted


async def run_from_palette(pilot: Pilot[Any], search: str, expect: str = "") -> None:
    """Open the command palette, search, and run the first hit once it names ``expect``.

    The palette gathers hits in a worker as each key is typed; Enter before the search
    for the last key is done would run whatever the list held then.
    """
    await pilot.press("ctrl+p", *search)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette), palette
    wanted = (expect or search).lower()

    def ready() -> bool:
        gathering = any(worker.node is palette and worker.group == palette._GATHER_COMMANDS_GROUP
                        and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
                        for worker in pilot.app.workers)
        hits = palette.query_one(CommandList)
        return (not gathering and hits.option_count > 0
                and wanted in str(hits.get_option_at_index(0).prompt).lower())

    assert await wait_until(pilot, ready), f"no palette hit for {search!r}"
    await pilot.press("enter")


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
