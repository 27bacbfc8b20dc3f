"""The environments table's live columns (packages, CPU, memory) and the row keys r and u."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.run_suite import RunScreen
from ptest_tui.tui.widgets.env_table import UNKNOWN, EnvRow, memory_text
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (160, 40)  # wide enough for every column
pytestmark = pytest.mark.anyio

WORKSPACE = """
[monitor]
interval = 0.2

[suites.smoke]
envs = ["beta"]

[[suites.smoke.cases]]
name = "ok"
kind = "command"
command = "true"
"""


@pytest.fixture
def envs(tmp_path: Path) -> Iterator[Session]:
    """A workspace sampled every 0.2 s with a basic env ``alpha`` and a virtualenv ``beta``."""
    root = write_workspace(tmp_path / "ws", WORKSPACE)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("alpha")
        session.create_env("beta", isolation="virtualenv")
        yield session


def row(app: PtestApp, name: str) -> EnvRow:
    return {r.name: r for r in app.table.rows_all}[name]


def megabytes(text: str) -> float:
    """``85M`` / ``1.2G`` back to MiB (the cell's own rounding)."""
    if text.endswith("G"):
        return float(text[:-1]) * 1024
    return float(text[:-1]) if text.endswith("M") else 0.0


def test_memory_and_cpu_cells_are_short() -> None:
    assert memory_text(None) == UNKNOWN
    assert memory_text(85 * 1024**2) == "85M"
    assert memory_text(3 * 1024**3 // 2) == "1.5G"


async def test_the_package_count_comes_from_the_store_once_looked_at(envs: Session) -> None:
    app = PtestApp(envs, poll_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert row(app, "beta").packages is None  # never listed: unknown, not zero
        assert UNKNOWN in app.table.get_row("beta")[4].plain
        await pilot.press("j", "2")  # the packages pane lists beta's packages
        real = len(envs.packages("beta"))
        assert await wait_until(pilot, lambda: row(app, "beta").packages == real)
        # The drawn cell may follow a moment later (table values are coalesced).
        assert await wait_until(pilot, lambda: app.table.get_row("beta")[4].plain == str(real))


async def test_cpu_and_memory_follow_what_runs_in_the_env(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.last_command = (
            'python -c "import time; b = bytearray(96 * 1024 * 1024); time.sleep(60)"'
        )
        await pilot.press("j", "e", "enter")
        # The 96 MiB buffer shows in the row, from the resources pane's own monitor.
        assert await wait_until(pilot, lambda: megabytes(row(app, "beta").memory) >= 90,
                                rounds=400), row(app, "beta")
        assert row(app, "beta").cpu.endswith("%")
        assert "M" in app.table.get_row("beta")[6].plain
        assert row(app, "alpha").memory == UNKNOWN or megabytes(row(app, "alpha").memory) < 90
        await pilot.press("S")
        await settle(pilot)
        # Nothing runs any more: the memory drops back.
        assert await wait_until(pilot, lambda: megabytes(row(app, "beta").memory) < 90,
                                rounds=400), row(app, "beta")


async def test_narrow_terminals_drop_the_live_columns_not_the_name(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        labels = [str(column.label) for column in app.table.columns.values()]
        assert labels[:3] == ["Name", "Isolation", "Status"]
        assert "Summary" not in labels


async def test_r_opens_the_run_dialog_with_the_selected_env_first(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")
        assert await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert isinstance(app.screen, RunScreen)
        assert app.screen.env_names[0] == "beta"
        await pilot.press("escape")
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "tab-results"


async def test_u_shows_the_packages_of_the_selected_env(envs: Session) -> None:
    app = PtestApp(envs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "u")
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "tab-packages"
        assert seen.has("pick a package, then press u")


async def test_ctrl_r_refreshes_now(envs: Session) -> None:
    app = PtestApp(envs, poll_seconds=3600)  # only a key press can show the new env
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with Session.open(workspace=envs.workspace.root, environ={}) as other:
            other.create_env("from-cli")
        await pilot.press("ctrl+r")
        assert await wait_until(pilot, lambda: "from-cli" in app.table.visible_names)


async def test_pane_keys_focus_the_list_so_the_next_key_acts(envs: Session) -> None:
    from textual.widgets import Input

    from ptest_tui.tui.screens.migrate import MigrateScreen

    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "2")
        await settle(pilot)
        assert not isinstance(app.focused, Input)  # not the Packages filter
        await pilot.press("m")  # so m migrates instead of typing "m" into a filter
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
