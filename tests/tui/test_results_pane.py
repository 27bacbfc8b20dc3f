"""Pilot tests of the Results pane and its dialogs against real runs of command cases.

A tiny host app composes only the pane over a real Session (as the full app does, it
forwards the engine's events through the real EventBridge), on a workspace with a suite
of command cases (one passes, one fails) in a basic env that the first run creates.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from ptest_tui.events import CaseFinished, RunFinished, RunStarted
from ptest_tui.session import Session
from ptest_tui.tui.bridge import EngineEvent, EventBridge, OutputReady
from ptest_tui.tui.screens.run_plan import PlanScreen
from ptest_tui.tui.screens.run_suite import RunRequest, RunScreen
from ptest_tui.tui.style import theme_color
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes
from ptest_tui.tui.widgets.results_pane import ResultsPane
from ptest_tui.tui.widgets.results_tree import NodeRef, ResultsTree
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (120, 40)
PINNED = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
pytestmark = pytest.mark.anyio

SUITES = """\
[workspace]
name = "results"

[envs.unit]
isolation = "basic"

[suites.s]
envs = ["unit"]
description = "smoke"

[[suites.s.cases]]
name = "ok"
kind = "command"
command = "echo hello"
expect = { stdout_contains = "hello" }

[[suites.s.cases]]
name = "bad"
kind = "command"
command = "sh -c 'echo oops >&2; exit 1'"
"""

BROKEN = """
[suites.ghostly]
envs = ["ghost"]

[[suites.ghostly.cases]]
name = "never"
kind = "command"
command = "true"
"""

PLAN = """\
[plan]
name = "ci"

[[steps]]
id = "tests"
kind = "run"
suites = ["s"]
"""


class Host(App[None]):
    """Only the Results pane, fed with engine events the way the full app feeds it."""

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__()
        self.session = session
        self.options = options
        self.bridge = EventBridge(self, session.bus)
        for theme in shipped_themes():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def compose(self) -> ComposeResult:
        yield ResultsPane(self.session, id="results", **self.options)

    def on_mount(self) -> None:
        self.bridge.start()
        self.query_one(ResultsTree).focus()

    def on_unmount(self) -> None:
        self.bridge.stop()

    def on_engine_event(self, message: EngineEvent) -> None:
        self.query_one(ResultsPane).engine_event(message.event)

    def on_output_ready(self, message: OutputReady) -> None:
        self.bridge.drain()

    @property
    def pane(self) -> ResultsPane:
        return self.query_one(ResultsPane)


@pytest.fixture
def suites(tmp_path: Path) -> Iterator[Session]:
    root = write_workspace(tmp_path / "results", SUITES + BROKEN)
    with Session.open(workspace=root, environ={}) as session:
        yield session


def lines(app: Host) -> list[str]:
    return app.pane.runs_tree.plain_lines()


def finished(session: Session, count: int) -> bool:
    runs = session.runs.recent(count)
    return len(runs) >= count and all(r.status != "running" for r in runs)


async def run_through_dialog(pilot: Pilot[Any], app: Host, seen: Notices) -> None:
    """r, check suite s (Space), Enter: the dialog checks the plan and the run starts."""
    await pilot.press("r")
    assert isinstance(app.screen, RunScreen)
    await pilot.press("space")  # the first suite: s
    assert app.screen.request() == RunRequest(("s",))
    await pilot.press("enter")
    assert await wait_until(pilot, lambda: seen.has("run 1 failed"))
    await settle(pilot)


async def test_run_by_keys_shows_icons_counts_and_the_failure(suites: Session) -> None:
    app = Host(suites, poll_seconds=0.2)
    seen = Notices(app)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lines(app) == []
        assert "No runs yet" in app.pane.detail.text
        await run_through_dialog(pilot, app, seen)
        assert not isinstance(app.screen, RunScreen)
        assert "run 1 failed: 1 passed, 1 failed" in seen.messages
        assert await wait_until(pilot, lambda: len(lines(app)) == 5)
        shown = lines(app)
        assert shown[0].startswith("✖ run 1  failed  1 passed · 1 failed")
        assert shown[1].startswith("  ✖ unit  1 passed · 1 failed")
        assert shown[2].startswith("    ✖ s  1 passed · 1 failed")
        assert shown[3].startswith("      ✖ bad  ")
        assert shown[3].endswith("exit code: expected 0, got 1")
        assert shown[4].startswith("      ✔ ok  ")
        # The run starts on the new run; j moves down to the failed case.
        assert app.pane.runs_tree.selected_ref == NodeRef("run", "1")
        assert "Run 1  ✖ failed" in app.pane.detail.text
        await pilot.press("j", "j", "j")
        assert app.pane.runs_tree.selected_ref == NodeRef("case", "1", "unit", "s", "bad")
        assert await wait_until(pilot, lambda: "oops" in app.pane.detail.text)
        detail = app.pane.detail.text
        assert "Failure\nexit code: expected 0, got 1" in detail
        assert "stderr\noops" in detail and "stdout\n(empty)" in detail
        await pilot.press("j")
        assert await wait_until(pilot, lambda: "stdout\nhello" in app.pane.detail.text)


async def test_rerun_failed_runs_only_the_failed_case(suites: Session) -> None:
    app = Host(suites, poll_seconds=0.2)
    seen = Notices(app)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_through_dialog(pilot, app, seen)
        await pilot.press("F")
        assert await wait_until(pilot, lambda: seen.has("run 2 failed: 1 failed"))
        assert [r.case for r in suites.runs.results("2")] == ["bad"]
        assert await wait_until(pilot, lambda: any(
            line.startswith("✖ run 2  failed  1 failed") for line in lines(app)))
        assert app.pane.runs_tree.selected_ref == NodeRef("run", "2")  # follows the new run
        # Run 2 is the newest, on top and open; run 1 below it as it was.
        shown = lines(app)
        assert shown[1:4] == ["  ✖ unit  1 failed", "    ✖ s  1 failed",
                              shown[3]] and shown[3].strip().startswith("✖ bad")
        assert shown[4].startswith("✖ run 1  failed  1 passed · 1 failed")


async def test_report_key_writes_the_html_report_once(suites: Session) -> None:
    suites.run(["s"])
    app = Host(suites)
    opened: list[str] = []
    seen = Notices(app)  # type: ignore[arg-type]
    report = suites.workspace.state_dir / "reports" / "1" / "report.html"
    async with app.run_test(size=SIZE) as pilot:
        app.pane.open_url = lambda url: bool(opened.append(url)) or True  # no browser here
        await settle(pilot)
        assert not report.exists()
        await pilot.press("h")
        assert await wait_until(pilot, lambda: seen.has("HTML report written to"))
        assert report.is_file() and "<html" in report.read_text().lower()
        assert f"HTML report written to {report}" in seen.messages
        assert opened == [report.as_uri()]
        await pilot.press("h")  # the second time it is only opened
        assert await wait_until(pilot, lambda: seen.has(f"HTML report at {report}"))
        assert len(opened) == 2


async def test_a_run_made_outside_the_app_appears(suites: Session) -> None:
    app = Host(suites, poll_seconds=0.2)
    seen = Notices(app)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Another Session on the same workspace: no events reach the app, only the store.
        with Session.open(workspace=suites.workspace.root, environ={}) as other:
            outcome = await asyncio.to_thread(other.run, ["s"])
        assert outcome.run.id == "1"
        assert await wait_until(pilot, lambda: bool(lines(app)) and lines(app)[0].startswith(
            "✖ run 1  failed  1 passed · 1 failed"))
        assert await wait_until(pilot, lambda: seen.has("run 1 failed: 1 passed, 1 failed"))


async def test_runs_already_in_the_history_are_not_announced(suites: Session) -> None:
    suites.run(["s"])
    app = Host(suites)
    seen = Notices(app)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lines(app)[0].startswith("✖ run 1")
        assert not seen.has("run 1")
        before = lines(app)
        app.theme = "ptest-light"  # labels are redrawn in the new theme's colors
        await settle(pilot)
        tree = app.pane.runs_tree
        assert lines(app) == before
        label = tree.nodes[NodeRef("run", "1")].label
        assert isinstance(label, Text)
        assert label.spans[0].style == theme_color(app, "error")


async def test_dialog_checks_before_running_and_shows_errors_inline(suites: Session) -> None:
    app = Host(suites)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("down", "space")  # ghostly (suites keep the ptest.toml order)
        assert screen.request().selection == ("ghostly",)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "no environment named 'ghost'" in str(
            screen.query_one("#runs-error").render()))
        assert app.screen is screen  # still open, nothing ran
        await pilot.press("tab", "tab", "0", "enter")  # parallel 0 is refused at once
        assert "parallel must be a whole number" in str(screen.query_one("#runs-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RunScreen)
        assert suites.runs.recent() == []


async def test_filter_by_status_and_text(suites: Session) -> None:
    suites.run(["s"])
    app = Host(suites)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"failed")
        await settle(pilot)
        assert [line.strip()[:5] for line in lines(app)] == ["✖ run", "✖ uni", "✖ s  ", "✖ bad"]
        await pilot.press("ctrl+a", "ctrl+k", *"ok")  # words match names too
        await settle(pilot)
        assert lines(app)[-1].strip().startswith("✔ ok")
        assert not any("bad" in line for line in lines(app))
        await pilot.press("escape")  # clears the filter, back to the tree
        await settle(pilot)
        assert len(lines(app)) == 5
        assert isinstance(app.focused, ResultsTree)


async def test_live_events_are_coalesced(suites: Session) -> None:
    """500 results arriving at once redraw the tree a handful of times, not 500."""
    app = Host(suites, poll_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.pane.runs_tree
        syncs = 0
        original = tree.sync

        def counting(*args: Any, **kwargs: Any) -> None:
            nonlocal syncs
            syncs += 1
            original(*args, **kwargs)

        tree.sync = counting  # type: ignore[method-assign]
        app.pane.engine_event(RunStarted("7", ("s[unit]",), 500))
        for index in range(500):
            status = "failed" if index % 100 == 0 else "passed"
            app.pane.engine_event(CaseFinished("7", "s", "unit", f"t{index:03d}", status, 0.01))
        assert await wait_until(pilot, lambda: syncs >= 1)
        await pilot.pause(0.3)
        assert syncs <= 3
        assert lines(app)[0].startswith("◐ run 7  running  495 passed · 5 failed")
        app.pane.engine_event(RunFinished("7", "failed", 1.0, {"passed": 495, "failed": 5}))
        assert await wait_until(pilot, lambda: lines(app)[0].startswith("✖ run 7  failed"))


async def test_plan_key_runs_a_plan_like_batch_mode(suites: Session) -> None:
    root = suites.workspace.root
    (root / "plan.toml").write_text(PLAN)
    app = Host(suites, poll_seconds=0.2)
    seen = Notices(app)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("P")
        assert isinstance(app.screen, PlanScreen)
        await pilot.press(*"nope.toml", "enter")
        assert await wait_until(pilot, lambda: "not found" in str(
            app.screen.query_one("#plan-error").render()))
        await pilot.press("ctrl+a", "ctrl+k", *"plan.toml", "enter")
        assert await wait_until(pilot, lambda: seen.has("plan ci failed"))
        assert await wait_until(pilot, lambda: seen.has("run 1 failed: 1 passed, 1 failed"))
        assert "(exit code 1)" in next(m for m in seen.messages if "plan ci" in m)
    app_run = suites.runs.get("1")
    # The same plan through the CLI's --batch gives the same run.
    cli = [sys.executable, "-m", "ptest_tui", "-w", str(root), "--batch", "plan.toml"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTEST_")}
    done = subprocess.run(cli, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    batch_run = suites.runs.get("2")
    assert (batch_run.status, batch_run.counts) == (app_run.status, app_run.counts)
    assert sorted((r.case, r.status) for r in suites.runs.results("2")) == sorted(
        (r.case, r.status) for r in suites.runs.results("1"))


async def test_stop_key_cancels_a_running_run(tmp_path: Path) -> None:
    slow = SUITES.replace('command = "echo hello"', 'command = "sleep 30"')
    root = write_workspace(tmp_path / "slow", slow)
    with Session.open(workspace=root, environ={}) as session:
        app = Host(session, poll_seconds=0.2)
        seen = Notices(app)  # type: ignore[arg-type]
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.pane.start_run(RunRequest(("s",)))
            assert await wait_until(pilot, lambda: any(
                "ok  running" in line for line in lines(app)))
            assert "⟳ running s" in str(app.pane.query_one("#results-status").render())
            await pilot.press("s")  # sleep 30 is killed: the run ends well before it would
            assert await wait_until(pilot, lambda: seen.has("run 1 cancelled"))
        assert session.runs.get("1").status == "cancelled"


PYTEST_SUITE = """\
[envs.host]
isolation = "basic"

[suites.py]
envs = ["host"]

[[suites.py.cases]]
name = "unit"
kind = "pytest"
target = "checks"
python = "{python}"
"""

MANY_TESTS = """\
import pytest

@pytest.mark.parametrize("n", range(120))
def test_many(n):
    assert n % 40 != 7, f"n is {n}"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_known():
    assert False
"""


async def test_a_pytest_case_fills_the_tree_live_test_by_test(tmp_path: Path) -> None:
    """A real pytest case (the venv's interpreter, in a basic env): one node per test."""
    root = write_workspace(tmp_path / "py", PYTEST_SUITE.format(python=sys.executable))
    (root / "checks").mkdir()
    (root / "checks" / "test_many.py").write_text(MANY_TESTS)
    with Session.open(workspace=root, environ={}) as session:
        app = Host(session, poll_seconds=0.2)
        seen = Notices(app)  # type: ignore[arg-type]
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.pane.start_run(RunRequest(("py",)))
            assert await wait_until(pilot, lambda: seen.has("run 1 failed"), rounds=600)
            await settle(pilot)
            shown = lines(app)
            assert shown[0].startswith(
                "✖ run 1  failed  117 passed · 3 failed · 1 skipped · 1 xfailed")
            tests = [line.strip() for line in shown[3:]]
            assert len(tests) == 122 and not any("running" in t for t in tests)
            assert sum(t.startswith("✖ checks/test_many.py::test_many[") for t in tests) == 3
            assert any(t.startswith("○ checks/test_many.py::test_skipped") for t in tests)
            assert any(t.startswith("✗ checks/test_many.py::test_known") for t in tests)
            await pilot.press("slash", *"failed", "enter")
            await settle(pilot)
            assert await wait_until(pilot, lambda: len(lines(app)) == 6)
            await pilot.press("j", "j", "j")  # tests in natural order: [7], [47], [87]
            assert await wait_until(pilot, lambda: "n is 7" in app.pane.detail.text)


# -- snapshots ------------------------------------------------------------------------------


@pytest.fixture
def pinned(suites: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """Run 1 (s in unit: ok passes, bad fails) with its times pinned, in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    suites.run(["s"])
    with suites.store.transaction() as conn:
        conn.execute("UPDATE runs SET started_at = ?, finished_at = ? + 0.5", (PINNED, PINNED))
        conn.execute("UPDATE results SET duration = 0.012, started_at = ?", (PINNED,))
    yield suites
    monkeypatch.delenv("TZ")
    time.tzset()


async def _select_failed(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, Host)
    app.pane.runs_tree.select_ref(NodeRef("case", "1", "unit", "s", "bad"))
    await wait_until(pilot, lambda: "oops" in app.pane.detail.text)
    await settle(pilot)


def test_results_pane_120x40(pinned: Session, snap_compare: Any) -> None:
    assert snap_compare(Host(pinned, poll_seconds=60), terminal_size=(120, 40),
                        run_before=_select_failed)


def test_results_pane_80x24(pinned: Session, snap_compare: Any) -> None:
    assert snap_compare(Host(pinned, poll_seconds=60), terminal_size=(80, 24),
                        run_before=_select_failed)
