"""The log pane follows its newest line and shows its scrollbar once it overflows.

The pane lays out the screen only when a scrollbar comes or goes (not on every write), so
these check that growing still scrolls, and that the bar appears and the last line shows.
"""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from ptest_tui.tui.widgets.log_pane import LogPane

pytestmark = pytest.mark.anyio


class LogApp(App[None]):
    CSS = "LogPane { height: 8; overflow-y: auto; } Static { height: 1fr; }"  # as in app.tcss

    def compose(self) -> ComposeResult:
        yield Static("above")
        yield LogPane(id="log")


def bottom_line(pane: LogPane) -> str:
    """The text on the pane's last visible row."""
    return pane.render_line(pane.scrollable_content_region.height - 1).text.strip()


async def test_the_log_follows_new_lines_and_gets_a_scrollbar_when_it_overflows() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(LogPane)
        await pilot.pause()
        assert not pane.show_vertical_scrollbar
        for number in range(3):
            pane.add(Text(f"line {number}"))
            pane.flush()
        await pilot.pause()
        assert not pane.show_vertical_scrollbar and pane.max_scroll_y == 0
        for number in range(3, 40):
            pane.add(Text(f"line {number}"))
            pane.flush()
            await pilot.pause()
        await pilot.pause()
        assert pane.show_vertical_scrollbar
        assert pane.scrollable_content_region.width == 60 - pane.styles.scrollbar_size_vertical
        assert pane.max_scroll_y > 0 and pane.scroll_y == pane.max_scroll_y
        assert bottom_line(pane) == "line 39"
        pane.clear()
        await pilot.pause()
        await pilot.pause()
        assert not pane.show_vertical_scrollbar and pane.scroll_y == 0
