"""Pilot tests of the full-screen app against the real engine (basic and virtualenv envs)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cli.main import main
from ptest_tui.events.types import EnvStatusChanged
from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.bridge import EngineEvent, LogRecordPosted
from ptest_tui.tui.messages import ActionDone, EnvsLoaded
from ptest_tui.tui.screens.confirm import ConfirmScreen
from ptest_tui.tui.screens.create_env import CreateEnvScreen
from ptest_tui.tui.screens.help import HelpScreen
from ptest_tui.tui.widgets.env_detail import EnvDetailPanel
from ptest_tui.tui.widgets.resources_pane import UsageUpdated
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, run_from_palette, settle, wait_until

SIZE = (120, 40)
pytestmark = pytest.mark.anyio


@pytest.fixture
def envs(session: Session) -> Session:
    """The workspace session with a basic env ``alpha`` and a virtualenv env ``beta``."""
    session.create_env("alpha")
    session.create_env("beta", isolation="virtualenv")
    return session


@pytest.fixture
def themed(tmp_path: Path) -> Iterator[Session]:
    """A session whose ptest.toml picks the light theme."""
    root = write_workspace(tmp_path / "themed", '[ui]\ntheme = "ptest-light"\n')
    with Session.open(workspace=root, environ={}) as session:
        yield session


async def test_table_lists_stored_and_declared_envs(envs: Session) -> None:
    (envs.workspace.root / "ptest.toml").write_text('[envs.gamma]\npython = "3.11"\n')
    fresh = Session.open(workspace=envs.workspace.root, environ={})
    app = PtestApp(fresh)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.table.visible_names == ["alpha", "beta", "gamma"]
        rows = {row.name: row for row in app.table.rows_all}
        assert (rows["alpha"].isolation, rows["alpha"].status) == ("basic", "ready")
        assert (rows["beta"].isolation, rows["beta"].status) == ("virtualenv", "ready")
        assert rows["beta"].python.startswith("3.")
        assert (rows["gamma"].isolation, rows["gamma"].status) == ("virtualenv", "declared")
        panel = app.query_one(EnvDetailPanel)
        assert "alpha" in panel.text and "✔ folder .ptest/envs/alpha" in panel.text
        await pilot.press("j")
        await settle(pilot)
        assert app.selected == "beta"
        assert "venv .ptest/envs/beta/venv" in panel.text
        await pilot.press("k")
        assert app.selected == "alpha"
    fresh.close()


async def test_create_through_the_dialog_makes_a_real_env(session: Session) -> None:
    app = PtestApp(session)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert isinstance(app.screen, CreateEnvScreen)
        await pilot.press(*"delta", "tab", "right", "right")  # isolation: auto -> virtualenv
        assert app.screen.request().isolation == "virtualenv"
        assert "virtualenv" in str(app.screen.query_one("#create-preview").render())
        await pilot.press("tab", "enter")  # Enter in the Python field creates
        assert await wait_until(pilot, lambda: seen.has("delta is ready"))
        await settle(pilot)
        assert not isinstance(app.screen, CreateEnvScreen)
        record = session.get_env("delta")
        assert (record.isolation, record.status) == ("virtualenv", "ready")
        assert Path(record.engine_state["python"]).exists()
        assert await wait_until(pilot, lambda: app.selected == "delta")


async def test_creating_a_declared_env_keeps_its_declared_settings(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "declared", '[envs.unit]\nisolation = "virtualenv"\ndescription = "u"\n'
    )
    with Session.open(workspace=root, environ={}) as session:
        app = PtestApp(session)
        seen = Notices(app)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.selected == "unit"
            await pilot.press("c")
            assert isinstance(app.screen, CreateEnvScreen)
            assert app.screen.request().isolation == "virtualenv"
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: seen.has("unit is ready"))
        assert session.get_env("unit").isolation == "virtualenv"


async def test_create_dialog_previews_auto_reason_and_rejects_bad_input(session: Session) -> None:
    app = PtestApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CreateEnvScreen)
        await pilot.press(*"web", "tab", "tab", *"3.11")
        assert "needs a Python environment: python 3.11" in str(
            screen.query_one("#create-preview").render()
        )
        await pilot.press("tab", *"lots")  # memory
        assert "invalid memory size" in str(screen.query_one("#create-preview").render())
        await pilot.press("enter")
        assert app.screen is screen  # still open: nothing was created
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, CreateEnvScreen)
        assert session.store.list_envs() == []


async def test_duplicate_name_shows_a_notification_and_changes_nothing(envs: Session) -> None:
    before = envs.get_env("alpha")
    app = PtestApp(envs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c", *"alpha", "enter")
        await settle(pilot)
        assert seen.has("environment 'alpha' already exists")
        assert "error" in seen.severities
        assert seen.has("hint: pick another name")
    assert envs.get_env("alpha") == before
    assert [r.name for r in envs.store.list_envs()] == ["alpha", "beta"]


async def test_delete_asks_first_and_removes_the_env(envs: Session) -> None:
    folder = envs.workspace.state_dir / "envs" / "alpha"
    assert folder.is_dir()
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.selected == "alpha"
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("c", "q")  # main-screen keys are off while a dialog is open
        assert isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("escape")  # cancel: nothing happens
        await settle(pilot)
        assert envs.store.find_env("alpha") is not None
        await pilot.press("d", "y")
        await settle(pilot)
        # The delete runs in a worker; its listing and log line follow as messages.
        assert await wait_until(pilot, lambda: envs.store.find_env("alpha") is None)
        assert not folder.exists()
        assert await wait_until(pilot, lambda: app.table.visible_names == ["beta"]), (
            app.table.visible_names)
        assert await wait_until(
            pilot, lambda: any("alpha deleted" in line for line in app.log_pane.plain_lines())
        ), app.log_pane.plain_lines()


async def test_exec_streams_output_to_the_log_pane(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")  # beta, the virtualenv
        await pilot.press("e")
        await pilot.press(*"python -c \"print('hello from beta')\"", "enter")
        await settle(pilot)
        lines = app.log_pane.plain_lines()
        assert any(line.endswith("beta │ hello from beta") for line in lines)
        assert any("finished in" in line for line in lines)


async def test_output_bursts_are_coalesced(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.last_command = 'python -c "for i in range(3000): print(i)"'  # the dialog offers it
        await pilot.press("j", "e", "enter")
        await settle(pilot)
        lines = app.log_pane.plain_lines()
        assert "beta │ 2999" in lines
        assert sum(1 for line in lines if line.startswith("beta │ ")) == 3000
        assert app.bridge.batches < 3000  # many lines per log write, not one each


async def test_failing_command_reports_the_error(envs: Session) -> None:
    app = PtestApp(envs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e", *"no-such-command-xyz", "enter")
        await settle(pilot)
        assert seen.has("command not found: no-such-command-xyz")


async def test_stop_cancels_a_running_command(envs: Session) -> None:
    app = PtestApp(envs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.last_command = 'python -c "import time; time.sleep(60)"'
        await pilot.press("j", "e", "enter")
        assert await wait_until(pilot, lambda: "beta" in app.activity)
        await pilot.press("S")
        await settle(pilot)
        assert "beta" not in app.activity
        assert seen.has("stopped after")


async def test_repair_rebuilds_a_damaged_env(envs: Session) -> None:
    home = envs.workspace.state_dir / "envs" / "alpha" / "home"
    home.rmdir()
    app = PtestApp(envs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "✖ folder" in app.query_one(EnvDetailPanel).text
        await pilot.press("R")
        await settle(pilot)
        assert home.is_dir()
        assert seen.has("alpha repaired")


async def test_repair_of_a_healthy_env_is_refused(envs: Session) -> None:
    app = PtestApp(envs)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert seen.has("nothing to repair")


async def test_cleanup_confirms_then_removes_leftovers(envs: Session) -> None:
    orphan = envs.workspace.state_dir / "envs" / "orphan"
    orphan.mkdir()
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    assert not orphan.exists()
    assert envs.store.find_env("alpha") is not None


async def test_help_lists_every_binding_and_closes(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        for binding in PtestApp.BINDINGS:
            assert binding.tooltip and binding.tooltip in screen.text  # type: ignore[union-attr]
        for key in ("Ctrl+P", "Tab", "j", "k", "Esc"):
            assert key in screen.text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_filter_narrows_the_table(envs: Session) -> None:
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"virtualenv")
        assert app.table.visible_names == ["beta"]
        await pilot.press("enter")  # back to the table, filter kept
        assert app.focused is app.table
        assert app.table.visible_names == ["beta"]
        await pilot.press("slash", "escape")
        assert app.table.visible_names == ["alpha", "beta"]
        assert app.focused is app.table


async def test_theme_comes_from_config_and_switches_from_the_palette(themed: Session) -> None:
    app = PtestApp(themed)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "ptest-light"
        await run_from_palette(pilot, "high-contrast")
        await settle(pilot)
        assert app.theme == "ptest-high-contrast"


async def test_unknown_theme_falls_back_with_a_warning(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "odd", '[ui]\ntheme = "no-such-theme"\n')
    with Session.open(workspace=root, environ={}) as session:
        app = PtestApp(session)
        seen = Notices(app)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.theme == "ptest-dark"
            assert seen.has("unknown theme 'no-such-theme'")


async def test_changes_from_another_process_show_up(envs: Session) -> None:
    app = PtestApp(envs, poll_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with Session.open(workspace=envs.workspace.root, environ={}) as other:
            other.create_env("from-cli")
        assert await wait_until(pilot, lambda: "from-cli" in app.table.visible_names)


async def test_messages_arriving_while_the_app_closes_do_nothing(envs: Session) -> None:
    # A monitor tick, a finished job, an engine event or a log record can be queued
    # when the app's widgets are already gone; handling them must not raise.
    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.closing
        views = app.views
    assert app.closing and views
    app.on_usage_updated(UsageUpdated({}))
    app.on_action_done(ActionDone("create:alpha", "alpha", "alpha created"))
    app.on_engine_event(EngineEvent(EnvStatusChanged(env="alpha", old="ready", new="busy")))
    app.on_log_record_posted(LogRecordPosted(logging.WARNING, "late"))
    app.on_envs_loaded(EnvsLoaded(tuple(views.values())))
    app._follow_selection()


def test_no_workspace_prints_the_init_hint_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ptest-tui init" in err


def test_run_app_refuses_without_a_terminal(workspace: Path) -> None:
    from ptest_tui.cli.app_cmd import run_app
    from ptest_tui.errors import UsageError

    args = argparse.Namespace(workspace=str(workspace), overrides=[])
    with pytest.raises(UsageError, match="needs a terminal"):
        run_app(args)


async def test_engine_warnings_go_to_the_log_pane_not_the_terminal(envs: Session) -> None:
    import logging
    import threading

    app = PtestApp(envs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        worker = threading.Thread(
            target=logging.getLogger("ptest_tui.engines.test").warning,
            args=("disk almost full",),
        )
        worker.start()
        worker.join()
        assert await wait_until(
            pilot, lambda: "warning: disk almost full" in " ".join(app.log_pane.plain_lines())
        )
