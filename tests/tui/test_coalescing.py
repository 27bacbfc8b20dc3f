"""Updates coalesced under load still end in what a person should see.

The app draws bursts of changes later rather than at once (table values, listing re-reads,
the details of a fast-moving cursor, text boxes without a relayout); these check that the
last state always arrives and that nothing is drawn twice for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.widgets.env_table import EnvRow, EnvTable
from ptest_tui.tui.widgets.text_box import TextBox
from tests.conftest import write_workspace
from tests.tui.conftest import settle, wait_until

pytestmark = pytest.mark.anyio
SIZE = (140, 40)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EnvTable(id="envs")


def status_cell(table: EnvTable, name: str) -> str:
    return str(table.get_cell(name, "status"))


async def test_a_burst_of_table_values_ends_in_the_last_one() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(EnvTable)
        first = EnvRow("unit", "basic", "ready", "3.11", "")
        table.set_rows([first])  # a new row: drawn at once
        assert table.visible_names == ["unit"] and not table.data_pending
        for status in ("busy", "ready", "broken"):
            table.set_rows([replace(first, status=status)])
        assert table.data_pending  # drawn once, a moment later
        assert await wait_until(pilot, lambda: not table.data_pending)
        assert "broken" in status_cell(table, "unit")


class BoxApp(App[None]):
    CSS = "TextBox { width: 30; height: auto; }"

    def compose(self) -> ComposeResult:
        yield TextBox("one line", id="box")


async def test_a_text_box_redraws_on_change_and_resizes_when_the_text_needs_it() -> None:
    app = BoxApp()
    async with app.run_test(size=(60, 20)) as pilot:
        box = app.query_one(TextBox)
        await pilot.pause()
        assert box.size.height == 1
        assert not box.show("one line")  # the same text: nothing to do
        assert box.show("two\nlines")
        await pilot.pause()
        assert box.size.height == 2 and "lines" in str(box.content)
        assert box.show("same\nheight")
        await pilot.pause()
        assert box.size.height == 2 and "height" in str(box.content)
        assert box.show("short")
        await pilot.pause()
        assert box.size.height == 1


@pytest.fixture
def four(tmp_path: Path) -> Iterator[Session]:
    root = write_workspace(tmp_path / "ws", "")
    with Session.open(workspace=root, environ={}) as session:
        for name in ("e1", "e2", "e3", "e4"):
            session.create_env(name)
        yield session


async def test_details_follow_a_fast_cursor_when_it_rests(four: Session) -> None:
    app = PtestApp(four)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from ptest_tui.tui.widgets.env_detail import EnvDetailPanel

        panel = app.query_one(EnvDetailPanel)
        assert panel.detail is not None and panel.detail.name == "e1"
        await pilot.press("j", "j", "j")  # faster than a person reads
        assert app.selected == "e4"
        await settle(pilot)
        assert not app.updates_pending
        assert panel.detail is not None and panel.detail.name == "e4"


async def test_a_throttle_runs_at_once_then_once_per_gap_and_serves_the_last_request() -> None:
    from ptest_tui.tui.throttle import Throttle

    app = BoxApp()
    async with app.run_test(size=(60, 20)) as pilot:
        runs: list[int] = []
        throttle = Throttle(app, 0.2, lambda: runs.append(len(runs)))
        throttle.request()
        assert runs == [0] and not throttle.pending  # quiet: at once
        throttle.request()
        throttle.request()
        assert runs == [0] and throttle.pending  # within the gap: once, later
        assert await wait_until(pilot, lambda: not throttle.pending)
        assert runs == [0, 1]
        idle = Throttle(app, 5.0, lambda: False)  # did nothing: no gap starts
        idle.request()
        idle.request()
        assert not idle.pending
