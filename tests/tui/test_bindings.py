"""Pilot tests of the keys of the full app, pressed where a user presses them.

The pane tests (test_packages_pane.py, test_results_pane.py, ...) drive each pane in a
host of its own; here every key goes through the real PtestApp, so focus, tab switching
and keys that two layers bind (``s`` snapshots on the environments table but stops a run in
Results, ``o`` focuses the objects and then starts one) are part of what is tested. Every
key is checked by its effect: the store, files on disk, the process table, the widgets.
The Packages pane's keys are in test_package_keys.py, the dialogs' in test_dialogs.py.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.migrate import MigrateScreen
from ptest_tui.tui.screens.object_log import ObjectLogScreen
from ptest_tui.tui.screens.run_suite import RunRequest
from ptest_tui.tui.screens.snapshots import SnapshotScreen
from ptest_tui.tui.widgets.env_table import EnvTable
from ptest_tui.tui.widgets.objects_panel import ObjectsPanel, ObjectsTable
from ptest_tui.tui.widgets.packages_pane import PackagesPane
from ptest_tui.tui.widgets.packages_table import PackageTable
from ptest_tui.tui.widgets.resources_pane import ResourcesPane
from ptest_tui.tui.widgets.results_pane import ResultsPane
from ptest_tui.tui.widgets.results_tree import NodeRef, ResultsTree
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (120, 40)
pytestmark = pytest.mark.anyio

WORKSPACE = """\
[workspace]
name = "keys"

[suites.s]
envs = ["alpha"]

[[suites.s.cases]]
name = "ok"
kind = "command"
command = "echo hello"

[[suites.s.cases]]
name = "bad"
kind = "command"
command = "sh -c 'echo oops >&2; exit 1'"

[suites.slow]
envs = ["alpha"]

[[suites.slow.cases]]
name = "sleeps"
kind = "command"
command = "sleep 30"

[objects.db1]
kind = "sqlite"

[objects.db2]
kind = "sqlite"

[objects.svc]
kind = "service"
command = "sh -c 'seq 1 300; echo up; exec sleep 600'"
ready = "log"
ready_log = "^up$"
"""


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[Session]:
    """Basic envs alpha, beta, gamma, delta; suites s and slow; three objects."""
    root = write_workspace(tmp_path / "keys", WORKSPACE)
    with Session.open(workspace=root, environ={}) as session:
        for name in ("alpha", "beta", "gamma", "delta"):
            session.create_env(name)
        yield session
        for view in session.objects.views():
            if view.state in ("running", "unhealthy"):
                session.objects.stop(view.name)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


# -- the main screen ----------------------------------------------------------------------


async def test_number_keys_show_each_pane_with_the_keys_acting(keys: Session) -> None:
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tabs = app.query_one(TabbedContent)
        # Each pane gets the focus on a widget whose keys act (not its filter field), so
        # the next number key switches again instead of being typed.
        for key, tab, focused in (("2", "tab-packages", PackageTable),
                                  ("3", "tab-resources", ResourcesPane),
                                  ("4", "tab-results", ResultsTree),
                                  ("1", "tab-envs", EnvTable),
                                  ("4", "tab-results", ResultsTree),
                                  ("2", "tab-packages", PackageTable)):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == tab, key
            assert isinstance(app.focused, focused), (key, app.focused)
        await pilot.press("1")
        assert app.focused is app.table


async def test_g_and_G_jump_in_the_env_table(keys: Session) -> None:
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.selected == "alpha"
        await pilot.press("G")
        assert app.selected == "gamma"  # names sort: alpha, beta, delta, gamma
        await pilot.press("k")
        assert app.selected == "delta"
        await pilot.press("g")
        assert app.selected == "alpha"
        await pilot.press("j")
        assert app.selected == "beta"
        await settle(pilot)
        assert app.query_one(PackagesPane).env == "beta"  # the panes follow the cursor
        await pilot.press("slash", *"gam", "down")  # Down leaves the filter, keeping it
        assert app.focused is app.table and app.table.visible_names == ["gamma"]
        assert app.selected == "gamma"


async def test_log_keys_scroll_and_ctrl_l_clears(keys: Session) -> None:
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e", *"seq 1 200", "enter")
        log = app.log_pane
        assert await wait_until(pilot, lambda: any("finished in" in line
                                                   for line in log.plain_lines()))
        assert "alpha │ 200" in log.plain_lines()
        log.focus()
        await pilot.press("g")
        assert await wait_until(pilot, lambda: log.scroll_y == 0)
        await pilot.press("j", "j")
        assert await wait_until(pilot, lambda: log.scroll_y == 2)
        await pilot.press("k")
        assert await wait_until(pilot, lambda: log.scroll_y == 1)
        await pilot.press("G")
        assert await wait_until(pilot, lambda: log.scroll_y == log.max_scroll_y > 0)
        app.table.focus()  # Ctrl+L is an app key: it works from anywhere on the screen
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not any(line.strip() for line in log.plain_lines())
        assert log.max_scroll_y == 0


async def test_q_quits_and_stops_the_running_command(keys: Session, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.last_command = shlex.join(["sh", "-c", f"echo $$ > {pid_file}; exec sleep 60"])
        await pilot.press("e", "enter")
        assert await wait_until(pilot, lambda: pid_file.exists()
                                and pid_file.read_text().strip().isdigit())
        pid = int(pid_file.read_text())
        assert pid_alive(pid) and "alpha" in app.activity
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0
    # Quitting cancelled the command: its process is gone (bounded wait, no timing asserted).
    for _ in range(200):
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    assert not pid_alive(pid)


async def test_m_migrates_the_selected_env(keys: Session) -> None:
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")  # beta
        await pilot.press("m")
        screen = app.screen
        assert isinstance(screen, MigrateScreen) and screen.env == "beta"
        assert await wait_until(pilot, lambda: screen.stage == "choose")
        assert screen.levels.highlighted_option is not None
        assert screen.levels.highlighted_option.id == "virtualenv"
        await pilot.press("enter", "y")
        assert await wait_until(pilot, lambda: screen.stage in ("done", "failed"), 600)
        assert screen.stage == "done", screen.text
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not screen
        assert await wait_until(pilot, lambda: app.views["beta"].isolation == "virtualenv")
    record = keys.get_env("beta")
    assert (record.isolation, record.status) == ("virtualenv", "ready")
    assert Path(record.engine_state["python"]).exists()


async def test_s_takes_a_snapshot_of_the_selected_env(keys: Session) -> None:
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("G")  # gamma
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, SnapshotScreen) and screen.env == "gamma"
        await pilot.press(*"by-key", "enter")
        assert await wait_until(pilot, lambda: screen.stage == "idle" and bool(screen.records))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen
    (taken,) = keys.snapshots.all("gamma")
    assert taken.tag == "by-key"
    assert keys.snapshots.all("alpha") == []


# -- the panes, through the app -----------------------------------------------------------


async def test_results_keys_rerun_report_and_stop(keys: Session) -> None:
    keys.run(["s"])  # run 1: ok passes, bad fails
    app = PtestApp(keys)
    seen = Notices(app)
    opened: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.query_one(ResultsPane)

        def browser(url: str) -> bool:  # no browser here: remember what would be opened
            opened.append(url)
            return True

        pane.open_url = browser
        await pilot.press("4")
        tree = pane.runs_tree
        assert await wait_until(pilot, lambda: tree.selected_ref == NodeRef("run", "1"))
        await pilot.press("j")
        assert tree.selected_ref == NodeRef("env", "1", "alpha")
        await pilot.press("k")
        assert tree.selected_ref == NodeRef("run", "1")
        await pilot.press("slash", *"ok", "down")  # Down: back to the tree, filter kept
        assert app.focused is tree
        assert await wait_until(pilot, lambda: not any("bad" in line
                                                       for line in tree.plain_lines()))
        await pilot.press("slash", "escape")  # Esc clears it
        assert await wait_until(pilot, lambda: any("bad" in line
                                                   for line in tree.plain_lines()))
        assert app.focused is tree
        await pilot.press("F")
        assert await wait_until(pilot, lambda: seen.has("run 2 failed: 1 failed"))
        assert [(r.case, r.status) for r in keys.runs.results("2")] == [("bad", "failed")]
        assert await wait_until(pilot, lambda: tree.selected_ref == NodeRef("run", "2"))
        await pilot.press("h")
        report = keys.workspace.state_dir / "reports" / "2" / "report.html"
        assert await wait_until(pilot, lambda: seen.has(f"HTML report written to {report}"))
        assert "bad" in report.read_text() and opened == [report.as_uri()]
        # In Results, s stops a run started here; it does not open the snapshot dialog.
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, SnapshotScreen)
        assert seen.has("nothing started here is running")
        assert pane.start_run(RunRequest(("slow",)))
        assert await wait_until(pilot, lambda: any("sleeps  running" in line
                                                   for line in tree.plain_lines()))
        await pilot.press("escape")  # Esc stops it too
        assert await wait_until(pilot, lambda: seen.has("run 3 cancelled"))
    assert keys.runs.get("3").status == "cancelled"


async def test_resources_zoom_keys(keys: Session) -> None:
    app = PtestApp(keys)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        pane = app.query_one(ResourcesPane)
        assert app.focused is pane
        # The pane draws once it is shown (a Show event after the next layout).
        assert await wait_until(pilot, lambda: pane.text.startswith("Last 10m"))
        assert pane.window == 600.0
        await pilot.press("plus")
        assert pane.window == 300.0
        assert await wait_until(pilot, lambda: pane.text.startswith("Last 5m"))
        await pilot.press("equals_sign")  # = is + without Shift
        assert pane.window == 120.0
        assert await wait_until(pilot, lambda: pane.text.startswith("Last 2m"))
        await pilot.press("minus")
        assert pane.window == 300.0
        assert pane.target_key == "env:alpha"  # it follows the environments table


async def test_objects_keys_move_start_show_the_log_and_stop(keys: Session) -> None:
    app = PtestApp(keys)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(ObjectsPanel)
        assert await wait_until(pilot, lambda: len(panel.views) == 3)
        await pilot.press("o")  # from the env table to the objects
        table = panel.table
        assert isinstance(app.focused, ObjectsTable)
        assert table.selected_name == "db1"
        await pilot.press("G")
        assert table.selected_name == "svc"
        await pilot.press("g")
        assert table.selected_name == "db1"
        await pilot.press("j")
        assert table.selected_name == "db2"
        await pilot.press("j")
        assert table.selected_name == "svc"
        await pilot.press("k", "j")
        await pilot.press("o")  # on an object, o starts it
        assert await wait_until(pilot, lambda: panel.views["svc"].state == "running"
                                and seen.has("svc ready"), 400)
        assert keys.objects.view("svc").state == "running"
        await pilot.press("L")
        log = app.screen
        assert isinstance(log, ObjectLogScreen) and log.object_name == "svc"
        assert await wait_until(pilot, lambda: "up" in log.lines)
        assert "300" in log.lines
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, ObjectLogScreen)
        await pilot.press("o")  # it runs: o stops it
        assert await wait_until(pilot, lambda: panel.views["svc"].state == "stopped", 400)
    assert keys.objects.view("svc").state == "stopped"
