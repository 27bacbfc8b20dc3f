"""Pilot tests of every dialog's keys against the real engine.

First every dialog is opened the way a user opens it in the full app, something is typed
into it, and Esc must close it with nothing done (the store, the files and the object
list are compared before and after). Then the keys each dialog has beyond Enter and Esc:
q and ? in the help, j/k/g/G/q in an object's log, j/k/n in the migrate and snapshot
dialogs, j/k and Ctrl+R in the run dialog, n in the delete confirmation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import RadioButton, Static

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.add_object import AddObjectScreen
from ptest_tui.tui.screens.confirm import ConfirmScreen
from ptest_tui.tui.screens.create_env import CreateEnvScreen
from ptest_tui.tui.screens.help import HelpScreen
from ptest_tui.tui.screens.install import InstallScreen
from ptest_tui.tui.screens.migrate import MigrateScreen
from ptest_tui.tui.screens.object_log import ObjectLogScreen
from ptest_tui.tui.screens.run_command import RunCommandScreen
from ptest_tui.tui.screens.run_plan import PlanScreen
from ptest_tui.tui.screens.run_suite import RunRequest, RunScreen
from ptest_tui.tui.screens.snapshots import SnapshotScreen, SnapshotsResult
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (120, 40)
pytestmark = pytest.mark.anyio

WORKSPACE = """\
[workspace]
name = "dialogs"

[suites.s]
envs = ["unit"]

[[suites.s.cases]]
name = "ok"
kind = "command"
command = "true"

[[suites.s.cases]]
name = "bad"
kind = "command"
command = "false"

[suites.other]
envs = ["unit"]

[[suites.other.cases]]
name = "fine"
kind = "command"
command = "true"

[objects.db]
kind = "sqlite"

[objects.svc]
kind = "service"
command = "sh -c 'seq 1 300; echo up; exec sleep 600'"
ready = "log"
ready_log = "^up$"
"""

PLAN = """\
[plan]
name = "never"

[[steps]]
id = "tests"
kind = "run"
suites = ["s"]
"""


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Session]:
    """A virtualenv env ``unit``, suites, a plan file, a sqlite and a service object."""
    root = write_workspace(tmp_path / "dialogs", WORKSPACE)
    (root / "plan.toml").write_text(PLAN)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("unit", isolation="virtualenv")
        yield session
        for view in session.objects.views():
            if view.state in ("running", "unhealthy"):
                session.objects.stop(view.name)


def state(session: Session) -> tuple[object, ...]:
    """Everything a dialog could change: envs, packages, snapshots, objects, runs, files."""
    root = session.workspace.root
    return (
        [(r.name, r.isolation, r.status, r.location) for r in session.store.list_envs()],
        sorted(d.key for d in session.packages("unit")),
        session.snapshots.all("unit"),
        sorted(session.objects.specs()),
        session.runs.recent(),
        sorted(p.name for p in root.iterdir()),
        sorted(p.name for p in (session.workspace.state_dir / "envs").iterdir()),
    )


# keys that open the dialog (from the environments table), its screen, what is typed in it
DIALOGS: tuple[tuple[tuple[str, ...], type[Screen[Any]], str], ...] = (
    (("c",), CreateEnvScreen, "never"),
    (("d",), ConfirmScreen, ""),
    (("e",), RunCommandScreen, "touch marker"),
    (("m",), MigrateScreen, ""),
    (("s",), SnapshotScreen, "never"),
    (("i",), InstallScreen, "tool"),
    (("x",), ConfirmScreen, ""),
    (("question_mark",), HelpScreen, ""),
    (("o", "a"), AddObjectScreen, "never"),
    (("o", "L"), ObjectLogScreen, ""),
    (("4", "r"), RunScreen, " "),  # Space checks the first suite
    (("4", "P"), PlanScreen, "plan.toml"),
    (("ctrl+p",), CommandPalette, "Run a plan"),
)


async def test_every_dialog_opens_from_its_key_and_esc_closes_it(ws: Session) -> None:
    (ws.workspace.state_dir / "envs" / "orphan").mkdir()  # so x has something to offer
    before = state(ws)
    app = PtestApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.screen
        for keys, kind, typed in DIALOGS:
            await pilot.press(*keys)
            assert await wait_until(pilot, lambda kind=kind: isinstance(app.screen, kind)), (
                keys, app.screen)
            dialog = app.screen
            if isinstance(dialog, MigrateScreen):
                assert await wait_until(pilot, lambda d=dialog: d.stage == "choose")
            await pilot.press(*typed)
            await pilot.pause()
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: app.screen is main), (keys, app.screen)
            await settle(pilot)
            await pilot.press("1")  # back to the environments table for the next keys
        assert app.table.visible_names == ["unit"]
    assert state(ws) == before


async def test_n_in_the_delete_confirmation_keeps_the_env(ws: Session) -> None:
    app = PtestApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
    assert ws.get_env("unit").status == "ready"
    assert (ws.workspace.state_dir / "envs" / "unit").is_dir()


async def test_help_scrolls_and_closes_with_each_of_its_keys(ws: Session) -> None:
    app = PtestApp(ws)
    async with app.run_test(size=(80, 24)) as pilot:  # small: the key list scrolls
        await settle(pilot)
        for close in ("escape", "q", "question_mark"):
            await pilot.press("question_mark")
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            box = help_screen.query_one("#help-dialog")
            await pilot.press("j", "j", "j")
            assert await wait_until(pilot, lambda b=box: b.scroll_y == 3)
            await pilot.press("k")
            assert await wait_until(pilot, lambda b=box: b.scroll_y == 2)
            await pilot.press(close)
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen), close
            assert app.is_running  # q closed the help, it did not quit


async def test_object_log_keys(ws: Session) -> None:
    ws.objects.start("svc")  # 300 numbered lines, then "up"
    app = PtestApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o", "G", "L")
        screen = app.screen
        assert isinstance(screen, ObjectLogScreen) and screen.object_name == "svc"
        assert await wait_until(pilot, lambda: "up" in screen.lines)
        view = screen.log_view
        assert await wait_until(pilot, lambda: view.max_scroll_y > 0)
        await pilot.press("g")
        assert await wait_until(pilot, lambda: view.scroll_y == 0)
        await pilot.press("j", "j")
        assert await wait_until(pilot, lambda: view.scroll_y == 2)
        await pilot.press("k")
        assert await wait_until(pilot, lambda: view.scroll_y == 1)
        await pilot.press("G")
        assert await wait_until(pilot, lambda: view.scroll_y == view.max_scroll_y)
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, ObjectLogScreen) and app.is_running
        assert screen.token.cancelled  # it stopped following the file
    assert ws.objects.view("svc").state == "running"  # the log only reads


async def test_run_dialog_moves_with_j_k_and_runs_with_ctrl_r(ws: Session) -> None:
    app = PtestApp(ws)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4", "r")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        suites = screen.query_one("#runs-suites")
        assert getattr(suites, "highlighted", None) == 0
        await pilot.press("j")
        assert getattr(suites, "highlighted", None) == 1
        await pilot.press("space", "k", "space")  # both suites: other, then s
        assert screen.request() == RunRequest(("other", "s"))
        await pilot.press("ctrl+r")
        assert await wait_until(pilot, lambda: seen.has("run 1 failed: 2 passed, 1 failed"))
    (run,) = ws.runs.recent()
    assert set(run.selection) == {"s", "other"}
    assert sorted(r.case for r in ws.runs.results(run.id)) == ["bad", "fine", "ok"]


# -- migrate and snapshot dialogs, each over a bare host ----------------------------------


class Host(App[int]):
    """One dialog over an empty screen; keeps what it dismisses with."""

    def __init__(self, dialog: Screen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[object] = []
        for theme in shipped_themes():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


async def test_migrate_k_moves_up_and_n_backs_out(ws: Session) -> None:
    # Both other levels offered as available (nothing is migrated: n backs out).
    screen = MigrateScreen(ws, "unit", unavailable={"basic": None, "docker": None})
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: screen.stage == "choose")

        def level() -> object:
            option = screen.levels.highlighted_option
            return option.id if option is not None else None

        assert level() == "basic"
        await pilot.press("j")
        assert level() == "docker"
        await pilot.press("k")
        assert level() == "basic"
        await pilot.press("enter")
        assert screen.stage == "confirm" and "Migrate unit from virtualenv to basic?" in screen.text
        await pilot.press("n")
        assert screen.stage == "choose" and "Migrate unit from" not in screen.text
        await pilot.press("y")  # no question open: y does nothing
        assert screen.stage == "choose"
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: bool(app.results))
    assert app.results == [None]
    assert ws.get_env("unit").isolation == "virtualenv"


async def test_snapshot_list_j_k_and_n_withdraws_the_restore(ws: Session) -> None:
    home = ws.workspace.state_dir / "envs" / "unit" / "home"
    (home / "notes.txt").write_text("one\n")
    first = ws.snapshot("unit", tag="one")
    (home / "notes.txt").write_text("two\n")
    second = ws.snapshot("unit", tag="two")
    (home / "notes.txt").write_text("now\n")
    screen = SnapshotScreen(ws, "unit")
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: len(screen.records) == 2)
        await pilot.press("j")  # in the tag field, j is a letter...
        assert screen.query_one("#snap-tag").value == "j"  # type: ignore[attr-defined]
        await pilot.press("backspace", "tab", "tab")  # ...in the list it moves
        assert screen.table.has_focus and screen.selected_id == second.id  # newest first
        await pilot.press("j")
        assert screen.selected_id == first.id
        await pilot.press("k")
        assert screen.selected_id == second.id
        await pilot.press("enter")
        assert screen.stage == "confirm" and screen.chosen == second
        await pilot.press("n")
        assert screen.stage == "idle" and screen.chosen is None
        assert "Restore unit" not in screen.text
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: bool(app.results))
    assert app.results == [SnapshotsResult((), None)]
    assert (home / "notes.txt").read_text() == "now\n"  # nothing was restored
    assert [s.id for s in ws.snapshots.all("unit")] == [first.id, second.id]


async def test_create_dialog_lights_one_isolation_level_at_a_time(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "iso", '[envs.unit]\nisolation = "virtualenv"\n')
    with Session.open(workspace=root, environ={}) as session:
        for name, first in (("", "auto"), ("unit", "virtualenv")):  # fresh, and prefilled
            screen = CreateEnvScreen(session, name=name)
            app = Host(screen)
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)

                def lit(screen: Screen[Any] = screen) -> list[str]:
                    return [str(b.id) for b in screen.query(RadioButton) if b.value]

                assert lit() == [f"iso-{first}"], name
                await pilot.press("tab", "right")
                await pilot.pause()
                chosen = screen.request().isolation
                assert chosen != first and lit() == [f"iso-{chosen}"], name
                await pilot.press("left")
                await pilot.pause()
                assert lit() == [f"iso-{first}"] and screen.request().isolation == first


async def test_add_object_error_shows_on_a_small_terminal(ws: Session) -> None:
    screen = AddObjectScreen(ws)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:  # the form is taller than 80x24 allows
        assert await wait_until(pilot, lambda: screen.kind == "web")
        await pilot.press(*"api", "enter")
        assert await wait_until(pilot, lambda: "no command given" in screen.error_text)
        await settle(pilot)
        box = screen.query_one("#obj-dialog")
        shown = box.scrollable_content_region
        for part in ("#obj-error", "#obj-ok"):  # the reason, and the way on
            assert shown.contains_region(screen.query_one(part).region), (part, shown)
        await pilot.press(*"x")  # the focus stayed in the name field
        assert screen.query_one("#obj-name").value == "apix"  # type: ignore[attr-defined]
