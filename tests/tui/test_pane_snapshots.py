"""Snapshot tests of the Environments pane (with objects) and the Resources pane, at
120x40 and 80x24 (pytest-textual-snapshot).

The Packages and Results panes have theirs in test_packages_pane.py and
test_results_pane.py. Nothing machine-specific may be drawn: the workspace folder has a
fixed name, stored times are pinned in UTC, the envs are basic (no Python version of this
machine), and the Resources pane's live monitor is replaced by ``pinned.FixedMonitor``,
whose history is a fixed series of samples ending at a pinned time (no sleeping, no
clock); the environments table's CPU and memory cells come from it too. Update with
``pytest tests/tui/test_pane_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes
from ptest_tui.tui.widgets.resources_pane import ResourcesPane
from tests.conftest import write_workspace
from tests.tui.conftest import settle, wait_until
from tests.tui.pinned import PINNED, FixedMonitor, pin_times, use_fixed_monitor

WORKSPACE = """\
[workspace]
name = "demo"

[monitor]
interval = 5

[envs.api]
isolation = "basic"
description = "HTTP contract checks"

[envs.later]
isolation = "virtualenv"
description = "declared, not created yet"

[objects.db]
kind = "sqlite"
"""

THRESHOLDS = """
cpu_percent = 80
memory = "256m"
disk_free = "10g"
"""


@pytest.fixture
def fixed_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Resources pane samples nothing: it reads the fixed history."""
    use_fixed_monitor(monkeypatch, {"api": 1.0, "unit": 0.5})


def pinned_session(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """Basic envs api and unit with pinned times (in UTC), a sqlite and a web object."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("api")
        session.create_env("unit", description="unit tests")
        session.objects.add("site", "web", {"command": "python3 -m http.server {port}"})
        pin_times(session)
        yield session
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         fixed_monitor: None) -> Iterator[Session]:
    """The workspace of the Environments snapshots (no thresholds: no alert toasts)."""
    yield from pinned_session(write_workspace(tmp_path / "demo", WORKSPACE), monkeypatch)


@pytest.fixture
def limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           fixed_monitor: None) -> Iterator[Session]:
    """The same with [monitor] thresholds, drawn in the Resources charts."""
    text = WORKSPACE.replace("interval = 5\n", "interval = 5" + THRESHOLDS)
    yield from pinned_session(write_workspace(tmp_path / "demo", text), monkeypatch)


# -- Environments, with the objects under them ---------------------------------------------


async def _envs_and_objects(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, PtestApp)
    await settle(pilot)
    objects = app.query_one("#objects")
    await wait_until(pilot, lambda: len(getattr(objects, "views", {})) == 2)
    await pilot.press("j", "j")  # api, later (declared), unit
    await pilot.press("o", "j")  # the objects table, on site
    await settle(pilot)


def test_environments_with_objects_120x40(demo: Session, snap_compare: Any) -> None:
    assert snap_compare(PtestApp(demo), terminal_size=(120, 40), run_before=_envs_and_objects)


def test_environments_with_objects_80x24(demo: Session, snap_compare: Any) -> None:
    assert snap_compare(PtestApp(demo), terminal_size=(80, 24), run_before=_envs_and_objects)


# -- Resources ------------------------------------------------------------------------------


class ResourcesHost(App[int]):
    """The Resources pane alone, charting env api beside the host."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        for theme in shipped_themes():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def compose(self) -> ComposeResult:
        yield ResourcesPane(self.session, id="resources")

    def on_mount(self) -> None:
        self.query_one(ResourcesPane).show_env("api")


async def _charted(pilot: Pilot[Any]) -> None:
    pane = pilot.app.query_one(ResourcesPane)
    await wait_until(pilot, lambda: pane.target_view.text.startswith("env api  running")
                     and all(graph.text for graph in pane.target_view.graphs)
                     and all(graph.text for graph in pane.host_view.graphs))
    await settle(pilot)


def test_resources_pane_120x40(limits: Session, snap_compare: Any) -> None:
    assert snap_compare(ResourcesHost(limits), terminal_size=(120, 40), run_before=_charted)


def test_resources_pane_80x24(limits: Session, snap_compare: Any) -> None:
    assert snap_compare(ResourcesHost(limits), terminal_size=(80, 24), run_before=_charted)


@pytest.mark.anyio
async def test_the_fixed_monitor_feeds_the_pane_its_samples(limits: Session) -> None:
    """The seam the snapshots rely on: the pane charts exactly the fixed samples."""
    app = ResourcesHost(limits)
    async with app.run_test(size=(120, 40)) as pilot:
        await _charted(pilot)
        pane = app.query_one(ResourcesPane)
        assert isinstance(pane.monitor, FixedMonitor)
        spec = pane.target_view.graphs[0].spec
        assert spec is not None and spec.now == PINNED
        assert [v for _, v in spec.series[0].points] == [
            s.cpu_percent for s in FixedMonitor.fixed["env:api"]]
        assert "▲ peak 95%" in pane.target_view.graphs[0].text
        assert "┄ alert above 80%" in pane.target_view.graphs[0].text
