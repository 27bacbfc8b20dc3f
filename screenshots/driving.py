"""Driving the real app with Pilot for the screenshots: waits that fail loudly, and capture.

Every wait is on a condition of the app (a worker finished, a row shows, a run ended), with
a generous bound; when the bound passes, :class:`ShotError` says which step did not reach
which state, so a broken picture never gets written silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerError, WorkerState

from ptest_tui.tui.app import PtestApp


class ShotError(Exception):
    """A step did not reach the state its screenshot needs."""


def app_of(pilot: Pilot[int]) -> PtestApp:
    """The app under the pilot, typed."""
    app = pilot.app
    if not isinstance(app, PtestApp):
        raise ShotError(f"expected the ptest-tui app, got {type(app).__name__}")
    return app


async def settle(pilot: Pilot[int], keep: tuple[str, ...] = ("exec:",),
                 timeout: float = 120.0) -> None:
    """Let short workers finish and their messages be handled.

    Workers whose group starts with one of ``keep`` (a command left running on purpose)
    are not waited for.
    """
    deadline = time.monotonic() + timeout
    for _ in range(6):
        for worker in list(pilot.app.workers):
            if worker.group.startswith(keep) or worker.state not in (
                WorkerState.PENDING, WorkerState.RUNNING
            ):
                continue
            left = deadline - time.monotonic()
            try:
                with contextlib.suppress(WorkerError):  # superseded readers are cancelled
                    await asyncio.wait_for(worker.wait(), max(left, 0.1))
            except TimeoutError:
                raise ShotError(f"worker {worker.name!r} ({worker.description}) still"
                                f" running after {timeout:g} s") from None
        await pilot.pause()


async def wait_for(pilot: Pilot[int], what: str, check: Callable[[], object],
                   timeout: float = 60.0) -> None:
    """Pause in small steps until ``check()`` is true; ShotError naming ``what`` if not."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ShotError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.1)


async def select_env(pilot: Pilot[int], name: str) -> None:
    """Move the environments table's cursor to ``name`` with the keys (g, then j)."""
    app = app_of(pilot)
    await pilot.press("1", "g")
    for _ in range(len(app.table.rows_all)):
        if app.selected == name:
            break
        await pilot.press("j")
    if app.selected != name:
        raise ShotError(f"environment {name!r} is not in the table"
                        f" (rows: {[row.name for row in app.table.rows_all]})")
    await settle(pilot)


async def type_text(pilot: Pilot[int], text: str) -> None:
    """Type ``text`` key by key (Pilot turns each character into its key)."""
    await pilot.press(*text)


async def capture(pilot: Pilot[int], name: str, folder: Path) -> Path:
    """Dismiss the toasts, let the screen redraw, and save ``folder/name.svg``."""
    pilot.app.clear_notifications()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    return Path(pilot.app.save_screenshot(f"{name}.svg", str(folder)))
