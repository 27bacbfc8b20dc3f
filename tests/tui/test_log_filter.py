"""The log pane's own filter (``/`` in the log): real command output, filtered live."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widget import Widget

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.help import HelpScreen
from ptest_tui.tui.widgets.env_table import FilterInput
from ptest_tui.tui.widgets.log_model import LogHistory
from ptest_tui.tui.widgets.log_pane import LogFilter
from tests.tui.conftest import settle, wait_until

SIZE = (220, 40)  # wide enough that no log line wraps: shown lines == logical lines
# Twelve lines: fruit names in mixed case, so the filter must ignore case.
FRUIT = "printf 'apple %s\\nBaNaNa %s\\n' 1 1 2 2 3 3 4 4 5 5 6 6"
LATER = "sh -c 'echo banana later; echo cherry later'"


@pytest.fixture
def alpha(session: Session) -> Session:
    """A workspace with one basic environment, ``alpha``."""
    session.create_env("alpha")
    return session


async def run_in_alpha(pilot: Pilot[int], app: PtestApp, command: str) -> None:
    """Run ``command`` in alpha through the exec dialog and wait until it finished."""
    done = sum("finished in" in line for line in app.log_pane.history_text())
    app.last_command = command  # the dialog offers it, selected
    app.table.focus()
    await pilot.press("e", "enter")
    assert await wait_until(
        pilot, lambda: sum("finished in" in line for line in app.log_pane.history_text()) > done
    )


def focused(app: PtestApp) -> Widget | None:
    """The focused widget (a function, so each check reads it afresh)."""
    return app.focused


def fruit_lines(lines: list[str]) -> list[str]:
    """The output lines of alpha, without the env prefix."""
    return [line.split("│ ", 1)[1] for line in lines if line.startswith("alpha │ ")]


@pytest.mark.anyio
async def test_slash_in_the_log_filters_old_and_new_lines(alpha: Session) -> None:
    app = PtestApp(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_in_alpha(pilot, app, FRUIT)
        log = app.log_pane
        assert len(fruit_lines(log.plain_lines())) == 12

        log.focus()
        await pilot.press("slash")
        box = app.query_one(LogFilter)
        assert focused(app) is box  # the log's own "/", not the table filter's
        assert app.query_one(FilterInput).value == ""
        await pilot.press(*"banana")
        await pilot.pause()
        shown = log.plain_lines()
        assert fruit_lines(shown) == [f"BaNaNa {i}" for i in range(1, 7)]
        assert shown == [line for line in log.history_text() if "banana" in line.lower()]
        assert any("apple" in line for line in log.history_text())
        total = len(log.history_text())
        assert log.border_subtitle == f"/banana: {len(shown)} of {total} lines"

        # Enter goes back to the log, keeping the filter; new matching lines appear live.
        await pilot.press("enter")
        assert focused(app) is log and log.filter_text == "banana"
        await run_in_alpha(pilot, app, LATER)
        await pilot.pause()
        shown = log.plain_lines()
        assert fruit_lines(shown)[-1] == "banana later"
        assert "cherry later" in fruit_lines(log.history_text())
        assert shown == [line for line in log.history_text() if "banana" in line.lower()]

        # "/" again reopens the filter with its text; Esc clears it and every line returns.
        log.focus()
        await pilot.press("slash")
        assert focused(app) is box and box.value == "banana"
        await pilot.press("escape")
        await pilot.pause()
        assert focused(app) is log and log.filter_text == "" and not box.display
        everything = log.plain_lines()
        assert len(fruit_lines(everything)) == 14
        assert "cherry later" in fruit_lines(everything)
        assert sum("finished in" in line for line in everything) == 2
        assert log.border_subtitle == ""


@pytest.mark.anyio
async def test_the_table_keeps_its_own_slash_and_help_lists_the_log_filter(
    alpha: Session,
) -> None:
    app = PtestApp(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.focus()
        await pilot.press("slash")
        assert isinstance(focused(app), FilterInput)
        assert not app.query(LogFilter)  # nothing mounted for the log
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text
        assert "Filter the log: show only lines containing the text" in text
        assert "Clear the log filter" in text


@pytest.mark.anyio
async def test_no_match_then_clear_log_keeps_the_filter(alpha: Session) -> None:
    app = PtestApp(alpha)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_in_alpha(pilot, app, FRUIT)
        app.log_pane.focus()
        await pilot.press("slash", *"kiwi")
        await pilot.pause()
        assert app.log_pane.plain_lines() == []
        assert str(app.log_pane.border_subtitle).startswith("/kiwi: 0 of ")
        await pilot.press("enter", "ctrl+l")  # Ctrl+L forgets the history, not the filter
        await pilot.pause()
        assert app.log_pane.history_text() == []
        assert app.log_pane.filter_text == "kiwi"
        assert app.log_pane.border_subtitle == "/kiwi: 0 of 0 lines"


def test_history_is_bounded_and_filters_ignoring_case() -> None:
    history = LogHistory(limit=5)
    for number in range(8):
        history.add(Text(f"Line {number}\nline {number} again"))
    assert len(history) == 5  # the oldest lines went first
    assert history.lines[0].plain == "line 5 again"
    history.query = "LINE 7"
    assert [line.plain for line in history.matching()] == ["Line 7", "line 7 again"]
    assert [t.plain for t in history.add(Text("a line 7 b\nnothing"))] == ["a line 7 b"]
    assert history.summary() == "/LINE 7: 3 of 5 lines"
