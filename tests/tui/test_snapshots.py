"""Snapshot tests of the main screen (pytest-textual-snapshot) with real environments.

The screen must not depend on the machine's temp paths or the clock: the workspace folder
has a fixed name, paths are shown relative to it, and the stored timestamps are pinned
(in UTC) after the real environments are created. Update the baselines with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from tests.conftest import write_workspace
from tests.tui.conftest import settle
from tests.tui.pinned import use_fixed_monitor

PINNED = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC

WORKSPACE = """\
[workspace]
name = "demo"

[envs.integration]
memory = "512m"
cpus = 1
description = "needs limits, so auto picks docker"
"""


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A workspace ``demo`` with a basic env, a virtualenv env and a declared-only env."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    # Live CPU/memory cells from fixed samples: a real tick could land mid-snapshot.
    use_fixed_monitor(monkeypatch, {"api": 0.5, "unit": 1.0})
    root = write_workspace(tmp_path / "demo", WORKSPACE)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("api", description="HTTP contract checks")
        session.create_env("unit", isolation="virtualenv", python="3.11")
        with session.store.transaction() as conn:
            conn.execute("UPDATE environments SET created_at = ?, updated_at = ?",
                         (PINNED, PINNED))
            conn.execute("UPDATE env_transitions SET at = ? + id", (PINNED,))
        yield session
    monkeypatch.delenv("TZ")
    time.tzset()


async def _ready(pilot: Pilot[Any]) -> None:
    await settle(pilot)


def _select(name: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        assert isinstance(pilot.app, PtestApp)
        pilot.app.table.select_name(name)
        await settle(pilot)

    return run


def test_main_screen_120x40(demo: Session, snap_compare: Any) -> None:
    assert snap_compare(PtestApp(demo), terminal_size=(120, 40), run_before=_select("unit"))


def test_main_screen_80x24(demo: Session, snap_compare: Any) -> None:
    assert snap_compare(PtestApp(demo), terminal_size=(80, 24), run_before=_ready)
