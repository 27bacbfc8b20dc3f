"""Notifications for work the app did not start itself: failed installs, finished runs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.errors import PtestError
from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

pytestmark = pytest.mark.anyio


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Session]:
    """A virtualenv env ``beta`` whose packages come from an empty local folder only."""
    wheels = tmp_path / "no-wheels"
    wheels.mkdir()
    root = write_workspace(tmp_path / "ws", "[workspace]\n")
    overrides = [f"packages.find_links={wheels}", "packages.offline=true"]
    with Session.open(workspace=root, environ={}, overrides=overrides) as session:
        session.create_env("beta", isolation="virtualenv")
        yield session


async def test_an_install_that_fails_elsewhere_is_notified_once(offline: Session) -> None:
    app = PtestApp(offline)
    seen = Notices(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)

        def install() -> None:
            # As a plan step or a run would: through the session, not the Packages pane.
            with pytest.raises(PtestError):
                offline.install("beta", ["not-in-the-folder"])

        await asyncio.get_running_loop().run_in_executor(None, install)
        assert await wait_until(pilot, lambda: seen.has("beta: "))
        failures = [m for m, sev in seen.seen if sev == "error" and m.startswith("beta: ")]
        assert len(failures) == 1 and "not-in-the-folder" in failures[0]


async def test_a_flood_of_notifications_keeps_at_most_a_few_toasts(session: Session) -> None:
    from ptest_tui.tui.app import MAX_TOASTS

    app = PtestApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Long timeouts: a slow machine must not expire the toasts before they are counted.
        app.notify("keep me", severity="error", markup=False, timeout=120)
        for index in range(12):
            app.notify(f"install {index} done", markup=False, timeout=120)
        await settle(pilot)
        shown = [n.message for n in app._notifications]
        assert len(shown) == MAX_TOASTS
        assert "keep me" in shown and "install 11 done" in shown  # errors stay, newest stay
