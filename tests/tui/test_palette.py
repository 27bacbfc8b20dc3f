"""The command palette offers every action the issue names, and its entries act."""

from __future__ import annotations

import pytest

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.migrate import MigrateScreen
from tests.tui.conftest import Notices, run_from_palette, settle, wait_until

pytestmark = pytest.mark.anyio

NAMED = (
    "Create environment", "Delete environment", "Install packages", "Uninstall packages",
    "Run suites", "Run a plan", "Migrate environment", "Snapshot or restore",
    "Add an object", "Start or stop the object", "Lock packages", "Check packages",
    "Rerun failed", "Open the HTML report", "Switch theme: ptest-light",
)


async def test_every_named_action_is_in_the_palette(session: Session) -> None:
    app = PtestApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        missing = [name for name in NAMED if name not in titles]
        assert not missing, missing


async def test_a_palette_entry_runs_its_action(session: Session) -> None:
    session.create_env("beta", isolation="virtualenv")
    app = PtestApp(session)
    seen = Notices(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await run_from_palette(pilot, "lock packages")
        # The Packages pane's lock ran: an empty env has nothing to lock, and says so.
        assert await wait_until(pilot, lambda: seen.has("nothing is installed in beta"))
        assert not (session.workspace.root / "beta.lock").exists()
        await settle(pilot)
        await pilot.press("1")
        await run_from_palette(pilot, "migrate environment")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
        await pilot.press("escape")
