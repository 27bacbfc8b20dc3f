"""Snapshot tests of the dialogs at 120x40 and 80x24 (pytest-textual-snapshot).

Each dialog is shown over a bare host screen (so a change to the main screen does not
touch these baselines), filled in as a user would, with nothing machine-specific drawn:
no temp paths, times, ports or Python versions. The delete confirmation is the exception:
its text is the app's own, so it is taken over the real app. The migrate dialog at 120x40
is in test_flows.py and the add-object dialog at 120x40 in test_objects_panel.py.
Update with ``pytest tests/tui/test_dialog_snapshots.py --snapshot-update`` and look at
the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from ptest_tui.session import Session
from ptest_tui.tui import app as app_module
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.add_object import AddObjectScreen
from ptest_tui.tui.screens.create_env import CreateEnvScreen
from ptest_tui.tui.screens.help import HelpScreen, app_sections
from ptest_tui.tui.screens.install import InstallScreen
from ptest_tui.tui.screens.migrate import MigrateScreen
from ptest_tui.tui.screens.object_log import ObjectLogScreen
from ptest_tui.tui.screens.run_command import RunCommandScreen
from ptest_tui.tui.screens.run_plan import PlanScreen
from ptest_tui.tui.screens.run_suite import RunScreen
from ptest_tui.tui.screens.snapshots import SnapshotScreen
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes
from tests.conftest import write_workspace
from tests.tui.conftest import settle, wait_until
from tests.tui.pinned import pin_times, use_fixed_monitor

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
AVAILABLE = {"basic": None, "virtualenv": None, "docker": None}  # not this machine's answer

WORKSPACE = """\
[workspace]
name = "demo"

[envs.api]
isolation = "basic"

[suites.smoke]
envs = ["api"]
description = "fast checks"

[[suites.smoke.cases]]
name = "ok"
kind = "command"
command = "true"

[suites.contract]
envs = ["api", "unit"]
description = "HTTP contract"

[[suites.contract.cases]]
name = "health"
kind = "command"
command = "true"

[objects.svc]
kind = "service"
command = "sh -c 'seq 1 300; echo up; exec sleep 600'"
ready = "log"
ready_log = "^up$"
"""

Before = Callable[[Pilot[Any]], Awaitable[None]]


class Host(App[int]):
    """One dialog over a bare screen, styled by the app's stylesheet (dialogs use it)."""

    CSS_PATH = str(Path(app_module.__file__).with_name(str(PtestApp.CSS_PATH)))

    def __init__(self, dialog: Screen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        for theme in shipped_themes():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(self.dialog)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Session]:
    """A basic env ``unit`` (no Python version of this machine shows), suites, a service."""
    root = write_workspace(tmp_path / "demo", WORKSPACE)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("unit")
        yield session
        for view in session.objects.views():
            if view.state in ("running", "unhealthy"):
                session.objects.stop(view.name)


def typing(*keys: str, ready: Callable[[Screen[Any]], bool] | None = None) -> Before:
    """Wait until the dialog is ready, press ``keys``, let it settle."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if ready is not None:
            await wait_until(pilot, lambda: ready(pilot.app.screen))
        await pilot.press(*keys)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_create_dialog(demo: Session, size: tuple[int, int], snap_compare: Any) -> None:
    screen = CreateEnvScreen(demo, unavailable=AVAILABLE)
    before = typing(*"web", "tab", "right", "right", "tab", "tab", *"512m")  # virtualenv
    assert snap_compare(Host(screen), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_run_command_dialog(size: tuple[int, int], snap_compare: Any) -> None:
    screen = RunCommandScreen("unit")
    before = typing(*"pytest -q 'tests/test a.py", "enter")  # unbalanced quote: refused
    assert snap_compare(Host(screen), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_install_dialog(size: tuple[int, int], snap_compare: Any) -> None:
    screen = InstallScreen("unit")
    before = typing(*"attrs>=23 'requests[socks] >= 2'", "tab", "space")  # upgrade on
    assert snap_compare(Host(screen), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_run_suites_dialog(demo: Session, size: tuple[int, int], snap_compare: Any) -> None:
    screen = RunScreen(demo, envs=["unit", "api"])
    before = typing("space", "tab", "j", "space", "tab", *"2")  # smoke, in api, 2 at once
    assert snap_compare(Host(screen), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_plan_dialog(demo: Session, size: tuple[int, int], snap_compare: Any) -> None:
    screen = PlanScreen(demo)
    before = typing(*"ci/plan.toml")
    assert snap_compare(Host(screen), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_dialog(demo: Session, size: tuple[int, int], snap_compare: Any) -> None:
    screen = SnapshotScreen(demo, "unit")
    before = typing(*"known-good", "tab", *"before the upgrade",
                    ready=lambda s: "Snapshots: none yet" in getattr(s, "text", ""))
    assert snap_compare(Host(screen), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_help_dialog(size: tuple[int, int], snap_compare: Any) -> None:
    screen = HelpScreen(app_sections(PtestApp.BINDINGS))
    assert snap_compare(Host(screen), terminal_size=size, run_before=typing())


def test_migrate_dialog_80x24(demo: Session, snap_compare: Any) -> None:
    screen = MigrateScreen(demo, "unit", unavailable={"docker": None})
    before = typing("enter", ready=lambda s: getattr(s, "stage", "") == "choose")
    assert snap_compare(Host(screen), terminal_size=(80, 24), run_before=before)


def test_add_object_dialog_80x24(demo: Session, snap_compare: Any) -> None:
    screen = AddObjectScreen(demo)
    before = typing(*"api", "enter", ready=lambda s: getattr(s, "kind", "") == "web")
    assert snap_compare(Host(screen), terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_object_log_dialog(demo: Session, size: tuple[int, int], snap_compare: Any) -> None:
    demo.objects.start("svc")  # its log: 1 to 300, then "up"
    screen = ObjectLogScreen(demo, "svc")

    async def followed(pilot: Pilot[Any]) -> None:
        # Not settle(): the worker following the log runs until the dialog closes.
        await wait_until(pilot, lambda: "up" in screen.lines)
        await pilot.pause()

    assert snap_compare(Host(screen), terminal_size=size, run_before=followed)


@pytest.mark.parametrize("size", SIZES)
def test_delete_confirmation(demo: Session, size: tuple[int, int], snap_compare: Any,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Over the real app: its details show stored times and its table live usage.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    pin_times(demo)
    use_fixed_monitor(monkeypatch, {"unit": 1.0})

    async def asked(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        assert isinstance(pilot.app, PtestApp)
        pilot.app.table.select_name("unit")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)

    try:
        assert snap_compare(PtestApp(demo), terminal_size=size, run_before=asked)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
