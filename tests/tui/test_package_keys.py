"""Pilot tests of the Packages pane's keys through the full app, on a real virtualenv.

Packages come from the local wheel corpus (offline, a private installer cache). The pane
is reached with 2 (or i from the environments table) as a user reaches it; the pane host
tests in test_packages_pane.py cover the pane alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.install import InstallScreen
from ptest_tui.tui.widgets.packages_pane import PackagesPane
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (120, 40)
pytestmark = pytest.mark.anyio



def offline(find_links: Path) -> list[str]:
    """Overrides that install from the local wheel corpus only."""
    return [f"packages.find_links={find_links}", "packages.offline=true"]


@pytest.fixture
def pkgs(tmp_path: Path, find_links_dir: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A virtualenv env ``e`` with beta 1.0 (and alpha) and tool, from the local corpus."""
    monkeypatch.setenv("PTEST_CACHE_DIR", str(tmp_path / "cache"))
    root = write_workspace(tmp_path / "pkgs")
    with Session.open(workspace=root, environ={}, overrides=offline(find_links_dir)) as session:
        session.create_env("e", isolation="virtualenv")
        session.install("e", ["beta==1.0", "tool"])
        yield session


async def test_package_keys_lock_check_reload_and_move(pkgs: Session,
                                                       find_links_dir: Path) -> None:
    app = PtestApp(pkgs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        pane = app.query_one(PackagesPane)
        table = pane.table
        assert await wait_until(pilot, lambda: table.visible_names == ["alpha", "beta", "tool"])
        assert app.focused is table

        def on() -> str:
            return table.selected_row.name if table.selected_row else ""

        await pilot.press("G")
        assert on() == "tool"
        await pilot.press("k")
        assert on() == "beta"
        await pilot.press("g")
        assert on() == "alpha"
        await pilot.press("j")
        assert on() == "beta"

        await pilot.press("l")
        lock = pkgs.workspace.root / "e.lock"
        assert await wait_until(pilot, lambda: seen.has(f"e: locked 3 packages to {lock}"))
        assert "tool==1.0" in lock.read_text() and "--hash=sha256:" in lock.read_text()

        await pilot.press("K")
        assert await wait_until(pilot, lambda: seen.has("e: 3 packages checked, no problems"))

        # Installed by another process on the workspace: no event reaches this app, so the
        # table keeps the old listing until r re-reads it.
        with Session.open(workspace=pkgs.workspace.root, environ={},
                          overrides=offline(find_links_dir)) as other:
            other.install("e", ["gamma"])
        await settle(pilot)
        assert "gamma" not in table.visible_names
        await pilot.press("r")
        assert await wait_until(pilot, lambda: "gamma" in table.visible_names)

        await pilot.press("slash", *"ta")  # only beta has "ta" in its row
        assert table.visible_names == ["beta"]
        await pilot.press("down")  # Down leaves the filter for the table, keeping it
        assert app.focused is table and table.visible_names == ["beta"]


async def test_i_installs_into_the_selected_env(pkgs: Session) -> None:
    app = PtestApp(pkgs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.selected == "e"
        await pilot.press("i")
        assert app.query_one(TabbedContent).active == "tab-packages"
        screen = app.screen
        assert isinstance(screen, InstallScreen) and screen.env == "e"
        await pilot.press(*"delta", "enter")
        # delta needs alpha<1.1 while beta needs alpha>=1.1: the engine refuses, nothing
        # changes, and the dialog's request is kept for a retry.
        assert await wait_until(pilot, lambda: seen.has("e is unchanged"))
        await pilot.press("i", "ctrl+a", "ctrl+k", *"bulk-1", "enter")
        assert await wait_until(pilot, lambda: seen.has("e: installed bulk-1==1.0"))
    installed = {dist.key: dist.version for dist in pkgs.packages("e")}
    assert installed.get("bulk-1") == "1.0" and "delta" not in installed

