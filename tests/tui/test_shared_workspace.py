"""The store is the source of truth: work done elsewhere on the workspace shows in the app.

Other processes are the real CLI (``python -m ptest_tui``, the installed entry point's
module) in a subprocess on the same workspace folder: no event of theirs reaches the app's
bus, so what the app shows comes from re-reading the store. The last test runs one plan
from the command palette and the same plan with ``--batch``, and compares the stored runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.run_plan import PlanScreen
from ptest_tui.tui.widgets.results_pane import ResultsPane
from tests.support.batch_plans import BRANCHES, write_plan, write_workspace
from tests.tui.conftest import Notices, run_from_palette, settle, wait_until

SIZE = (120, 40)
pytestmark = pytest.mark.anyio


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``ptest-tui -w ROOT ARGS...`` in a subprocess (no PTEST_* settings leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTEST_")}
    return subprocess.run([sys.executable, "-m", "ptest_tui", "-w", str(root), *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Session]:
    """The batch-test workspace (suites smoke, broken, slow in env unit), unit created,
    and the two-branch plan in plan.toml."""
    root = write_workspace(tmp_path / "shared")
    write_plan(root, BRANCHES)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("unit")
        yield session


StoredRun = tuple[tuple[str, ...], tuple[str, ...], str, dict[str, int], list[tuple[str, ...]]]


def stored_runs(session: Session, ids: list[str]) -> list[StoredRun]:
    """What a run recorded, without ids and times: what was asked, how it ended, each case."""
    found: list[StoredRun] = []
    for run_id in ids:
        run = session.runs.get(run_id)
        cases: list[tuple[str, ...]] = sorted(
            (r.suite, r.env, r.case, r.kind, r.status, r.message)
            for r in session.runs.results(run_id))
        counts = {k: v for k, v in run.counts.items() if v}
        found.append((run.selection, run.envs, run.status, counts, cases))
    return sorted(found, key=repr)


async def test_an_env_created_and_deleted_by_the_cli_shows_up(shared: Session) -> None:
    root = shared.workspace.root
    app = PtestApp(shared, poll_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "from-cli" not in app.table.visible_names
        done = await asyncio.to_thread(cli, root, "env", "create", "from-cli",
                                       "--isolation", "basic")
        assert done.returncode == 0, done.stderr
        assert await wait_until(pilot, lambda: "from-cli" in app.views
                                and app.views["from-cli"].status == "ready")
        assert "from-cli" in app.table.visible_names
        row = next(r for r in app.table.rows_all if r.name == "from-cli")
        assert (row.isolation, row.status) == ("basic", "ready")
        done = await asyncio.to_thread(cli, root, "env", "delete", "from-cli", "--yes")
        assert done.returncode == 0, done.stderr
        assert await wait_until(pilot, lambda: "from-cli" not in app.table.visible_names)
        assert app.table.visible_names == ["other", "unit"]


async def test_a_batch_run_in_another_process_shows_in_results(shared: Session) -> None:
    root = shared.workspace.root
    app = PtestApp(shared)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        pane = app.query_one(ResultsPane)
        assert pane.runs_tree.plain_lines() == []
        done = await asyncio.to_thread(cli, root, "--batch", "plan.toml")
        assert done.returncode == 1, done.stderr  # the broken suite fails
        # The pane re-reads the history every few seconds: both runs appear, announced.
        assert await wait_until(pilot, lambda: len(pane.model.runs) == 2, rounds=400)
        assert await wait_until(pilot, lambda: seen.has("run 1 ") and seen.has("run 2 "))
        tops = [line for line in pane.runs_tree.plain_lines() if not line.startswith(" ")]
        by_run = {re.search(r"run (\d+)", line).group(1): line  # type: ignore[union-attr]
                  for line in tops}
        for run_id in ("1", "2"):
            record = shared.runs.get(run_id)
            icon = "✔" if record.status == "passed" else "✖"
            assert by_run[run_id].startswith(f"{icon} run {run_id}  {record.status}"), tops
        assert sorted(shared.runs.get(i).status for i in ("1", "2")) == ["failed", "passed"]
        assert any("4 passed" in line for line in tops) and any("1 failed" in line
                                                                 for line in tops)


async def test_a_plan_from_the_palette_stores_what_batch_mode_stores(shared: Session) -> None:
    root = shared.workspace.root
    app = PtestApp(shared)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_from_palette(pilot, "Run a plan")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen))
        await pilot.press(*"plan.toml", "enter")
        assert await wait_until(pilot, lambda: seen.has("plan branches failed"), rounds=600)
        summary = next(m for m in seen.messages if m.startswith("plan branches"))
        assert await wait_until(pilot, lambda: len(app.query_one(ResultsPane).model.runs) == 2)
    app_runs = [r.id for r in shared.runs.recent()]
    assert sorted(app_runs) == ["1", "2"]

    done = await asyncio.to_thread(cli, root, "--batch", "plan.toml", "--json")
    assert done.returncode == 1, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    (finished,) = [e for e in events if e["event"] == "plan_finished"]
    assert sorted(finished["runs"]) == ["3", "4"]
    # Same runs: what was asked, the outcome, every case with its status and message.
    from_app = stored_runs(shared, app_runs)
    assert sorted(len(cases) for *_, cases in from_app) == [1, 4]  # broken; smoke in 2 envs
    assert stored_runs(shared, finished["runs"]) == from_app
    # Same plan outcome: the app's summary counts the steps as batch mode does.
    steps = dict((status, int(n)) for n, status in
                 re.findall(r"(\d+) (\w+)", summary.partition("steps ")[2].split(" (")[0]))
    assert steps == finished["steps"] and f"(exit code {finished['exit_code']})" in summary
    assert [e.name for e in shared.store.list_envs()] == ["unit"]  # both cleaned up "extra"
