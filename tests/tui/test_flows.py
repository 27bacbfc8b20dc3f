"""Pilot tests of the migrate and snapshot dialogs against real environments.

The host app composes nothing but the dialog under test, so these run without the main
app (which is being restructured). Every step is driven by keys; every result is checked
in the store and on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from ptest_tui.events import Event, MigrationStep
from ptest_tui.session import Session
from ptest_tui.snapshots.rebuild import RebuildOutcome
from ptest_tui.tui.screens.migrate import MigrateScreen
from ptest_tui.tui.screens.snapshots import SnapshotScreen, SnapshotsResult
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes
from ptest_tui.tui.widgets.rebuild_progress import StepTracker, expected_steps
from tests.conftest import write_workspace
from tests.tui.conftest import settle, wait_until

SIZE = (120, 40)
DEAD_DOCKER = "docker.host=unix:///nonexistent/ptest-test/docker.sock"
pytestmark = pytest.mark.anyio


class Host(App[int]):
    """Shows one dialog over an empty screen and keeps what it dismisses with."""

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


def home(session: Session, env: str) -> Path:
    """The env's working folder (what snapshots record)."""
    return session.workspace.state_dir / "envs" / env / "home"


def spy_steps(screen: MigrateScreen | SnapshotScreen) -> list[str]:
    """Record each MigrationStep the dialog shows, as it shows it."""
    seen: list[str] = []
    original = screen.flow_event

    def flow_event(event: Event) -> None:
        if isinstance(event, MigrationStep) and event.index:
            seen.append(event.step)
        original(event)

    screen.flow_event = flow_event  # type: ignore[method-assign]
    return seen


@pytest.fixture
def unit(session: Session) -> Session:
    """A virtualenv env ``unit`` with a file in its HOME."""
    session.create_env("unit", isolation="virtualenv")
    (home(session, "unit") / "notes.txt").write_text("first\n")
    return session


async def test_migrate_virtualenv_to_basic_by_keys(unit: Session) -> None:
    screen = MigrateScreen(unit, "unit")
    steps = spy_steps(screen)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: screen.stage == "choose")
        assert screen.levels.highlighted_option is not None
        assert screen.levels.highlighted_option.id == "basic"
        assert "unit is a virtualenv environment" in screen.text
        assert "Python 3." in screen.text and "basic envs run the host's python3" in screen.text
        await pilot.press("enter")
        assert screen.stage == "confirm"
        assert "Migrate unit from virtualenv to basic?" in screen.text
        await pilot.press("y")
        assert await wait_until(pilot, lambda: screen.stage in ("done", "failed"))
        assert screen.stage == "done", screen.text
        assert steps == ["checking", "building", "files", "verifying", "switching", "done"]
        shown = [(s.label, s.state) for s in screen.progress.tracker.steps]
        assert shown == [(label, "done") for label in
                         ("lock", "check", "create", "copy files", "verify", "switch", "done")]
        assert "unit is now a basic environment (was virtualenv)" in screen.text
        assert "files: 1 hashes match" in screen.text
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: bool(app.results))
    outcome = app.results[0]
    assert isinstance(outcome, RebuildOutcome) and outcome.level == "basic"
    record = unit.get_env("unit")
    assert (record.isolation, record.status) == ("basic", "ready")
    assert (home(unit, "unit") / "notes.txt").read_text() == "first\n"


async def test_failed_migration_shows_the_reason_and_leaves_the_source(
    tmp_path: Path,
) -> None:
    root = write_workspace(tmp_path / "dead")
    with Session.open(workspace=root, environ={}, overrides=[DEAD_DOCKER]) as session:
        session.create_env("unit", isolation="virtualenv")
        before = session.get_env("unit")
        # As if the app had checked earlier, while Docker still answered.
        screen = MigrateScreen(session, "unit", unavailable={"basic": None, "docker": None})
        app = Host(screen)
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_until(pilot, lambda: screen.stage == "choose")
            await pilot.press("j")
            assert screen.levels.highlighted_option is not None
            assert screen.levels.highlighted_option.id == "docker"
            await pilot.press("enter", "enter")  # choose, then confirm with Enter
            assert await wait_until(pilot, lambda: screen.stage in ("done", "failed"))
            assert screen.stage == "failed"
            assert "the docker engine is unavailable" in screen.text
            assert "hint: run `ptest-tui doctor`" in screen.text
            assert "unit is untouched: still a virtualenv environment (ready)" in screen.text
            assert [s.state for s in screen.progress.tracker.steps][:2] == ["failed", "pending"]
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: bool(app.results))
        assert app.results == [None]
        after = session.get_env("unit")
        assert (after.isolation, after.status, after.location) == (
            "virtualenv", "ready", before.location)
        assert session.snapshots.all("unit") == []


async def test_unavailable_level_is_listed_disabled_with_the_reason(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "dead")
    with Session.open(workspace=root, environ={}, overrides=[DEAD_DOCKER]) as session:
        session.create_env("unit")
        screen = MigrateScreen(session, "unit")
        app = Host(screen)
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_until(pilot, lambda: screen.stage == "choose")
            docker = screen.levels.get_option("docker")
            assert docker.disabled
            assert "unavailable: " in str(docker.prompt)
            assert "nonexistent" in str(docker.prompt)
            await pilot.press("j", "j")  # the disabled option is skipped
            assert screen.levels.highlighted_option is not None
            assert screen.levels.highlighted_option.id == "virtualenv"


async def test_migration_failing_verification_leaves_the_source(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "smoke", '[envs.unit]\nsmoke = ["false"]\n')
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("unit", isolation="virtualenv")
        (home(session, "unit") / "notes.txt").write_text("kept\n")
        screen = MigrateScreen(session, "unit", unavailable={"docker": "not needed here"})
        steps = spy_steps(screen)
        app = Host(screen)
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_until(pilot, lambda: screen.stage == "choose")
            await pilot.press("enter", "y")
            assert await wait_until(pilot, lambda: screen.stage in ("done", "failed"))
            assert screen.stage == "failed", screen.text
            assert steps == ["checking", "building", "files", "verifying"]
            states = {s.label: s.state for s in screen.progress.tracker.steps}
            assert states["copy files"] == "done" and states["verify"] == "failed"
            assert states["switch"] == "pending"
            assert "unit is unchanged" in screen.text  # the engine's own words
            assert "unit is untouched: still a virtualenv environment (ready)" in screen.text
        record = session.get_env("unit")
        assert (record.isolation, record.status) == ("virtualenv", "ready")
        assert (home(session, "unit") / "notes.txt").read_text() == "kept\n"
        assert [e.name for e in session.store.list_envs()] == ["unit"]  # no temp env left


async def test_esc_stops_a_running_migration_and_leaves_the_source(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "slow", '[envs.unit]\nsmoke = ["sleep", "60"]\n')
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("unit", isolation="virtualenv")
        screen = MigrateScreen(session, "unit", unavailable={"docker": "not needed here"})
        app = Host(screen)
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_until(pilot, lambda: screen.stage == "choose")
            await pilot.press("enter", "y")
            verifying = screen.progress.tracker
            assert await wait_until(pilot, lambda: verifying.active is not None
                                    and verifying.active.name == "verifying")
            await pilot.press("escape")  # stops the smoke command, so verification fails
            assert await wait_until(pilot, lambda: screen.stage == "failed")
            assert "the smoke command 'sleep 60' exited" in screen.text
            assert "unit is untouched: still a virtualenv environment (ready)" in screen.text
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: bool(app.results))
        assert app.results == [None]
        assert session.get_env("unit").isolation == "virtualenv"
        assert [e.name for e in session.store.list_envs()] == ["unit"]


async def test_migrate_to_docker_by_keys(unit: Session) -> None:
    from tests.conftest import need
    from tests.integration.docker_support import docker_reason, engine_of, remove_everything

    need("docker", docker_reason(engine_of(unit)))
    try:
        screen = MigrateScreen(unit, "unit")
        steps = spy_steps(screen)
        app = Host(screen)
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_until(pilot, lambda: screen.stage == "choose")
            await pilot.press("j")  # basic, then docker
            assert screen.levels.highlighted_option is not None
            assert screen.levels.highlighted_option.id == "docker"
            assert "Python 3." in screen.text  # docker keeps the Python version
            await pilot.press("enter", "y")
            assert await wait_until(pilot, lambda: screen.stage in ("done", "failed"), 600)
            assert screen.stage == "done", screen.text
            assert steps == ["checking", "building", "files", "verifying", "switching", "done"]
            assert "unit is now a docker environment (was virtualenv)" in screen.text
        record = unit.get_env("unit")
        assert (record.isolation, record.status) == ("docker", "ready")
        lines: list[str] = []
        result = unit.exec("unit", ["cat", "/root/notes.txt"],
                           on_output=lambda _stream, line: lines.append(line))
        assert (result.exit_code, lines) == (0, ["first"])
    finally:
        if unit.store.find_env("unit") is not None:
            unit.delete_env("unit", force=True)
        remove_everything(unit)


@pytest.fixture
def basic(session: Session) -> Iterator[Session]:
    """A basic env ``unit`` with a file in its HOME."""
    session.create_env("unit")
    (home(session, "unit") / "notes.txt").write_text("first\n")
    yield session


async def test_snapshot_and_restore_by_keys(basic: Session) -> None:
    screen = SnapshotScreen(basic, "unit")
    steps = spy_steps(screen)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: "Snapshots: none yet" in screen.text)
        await pilot.press(*"good", "tab", *"before the change", "enter")
        assert await wait_until(pilot, lambda: screen.stage == "idle" and screen.records)
        (taken,) = screen.records
        assert (taken.tag, taken.message, taken.files) == ("good", "before the change", 1)
        assert f"snapshot {taken.id} [good] of unit" in screen.text
        (home(basic, "unit") / "notes.txt").write_text("second\n")
        await pilot.press("tab")  # from the message field to the list
        assert screen.table.has_focus and screen.selected_id == taken.id
        await pilot.press("enter")
        assert screen.stage == "confirm"
        assert f"Restore unit to snapshot {taken.id} [good]?" in screen.text
        await pilot.press("y")
        assert await wait_until(pilot, lambda: screen.stage == "idle" and screen.restored)
        assert steps == ["checking", "building", "files", "verifying", "switching", "done"]
        assert all(s.state == "done" for s in screen.progress.tracker.steps)
        assert f"unit restored from snapshot {taken.id} (basic)" in screen.text
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: bool(app.results))
    result = app.results[0]
    assert isinstance(result, SnapshotsResult)
    assert result.created == (taken.id,)
    assert result.restored is not None and result.restored.snapshot_id == taken.id
    assert (home(basic, "unit") / "notes.txt").read_text() == "first\n"
    assert basic.get_env("unit").status == "ready"


async def test_failed_restore_leaves_the_env(basic: Session) -> None:
    taken = basic.snapshot("unit", tag="good")
    sha = hashlib.sha256(b"first\n").hexdigest()
    blob = basic.workspace.state_dir / "snapshots" / "blobs" / sha[:2] / sha
    blob.chmod(0o644)
    blob.write_bytes(b"tampered\n")  # the stored content no longer matches its hash
    (home(basic, "unit") / "notes.txt").write_text("current\n")
    screen = SnapshotScreen(basic, "unit")
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: bool(screen.records))
        screen.table.focus()
        await pilot.press("enter", "enter")  # ask, then confirm with Enter
        assert await wait_until(pilot, lambda: screen.stage == "idle" and screen.chosen is None)
        assert "does not match its hash" in screen.text, screen.text
        assert "unit is untouched: still a basic environment (ready)" in screen.text
        assert screen.progress.tracker.steps[0].state == "failed"
        await pilot.press("escape")
    assert (home(basic, "unit") / "notes.txt").read_text() == "current\n"
    assert [e.name for e in basic.store.list_envs()] == ["unit"]
    assert basic.snapshots.get("good").id == taken.id


async def test_forwarded_events_are_shown_once(basic: Session) -> None:
    screen = SnapshotScreen(basic, "unit")
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: "Snapshots" in screen.text)
        screen.stage = "restoring"
        event = MigrationStep("unit", "restore", "checking", 1, 6)
        screen.engine_event(event)  # as the app forwards it...
        screen.engine_event(event)  # ...and as the dialog's own subscription delivers it
        screen.engine_event(MigrationStep("other", "restore", "building", 2, 6))
        assert [(s.name, s.state) for s in screen.progress.tracker.steps] == [
            ("checking", "active")]
        screen.stage = "idle"


def test_migrate_dialog_120x40(tmp_path: Path, snap_compare: Any) -> None:
    root = write_workspace(tmp_path / "demo")
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("unit")
        screen = MigrateScreen(session, "unit", unavailable={"docker": None})

        async def chosen(pilot: Any) -> None:
            await wait_until(pilot, lambda: screen.stage == "choose")
            await pilot.press("enter")  # the confirmation, with what is kept and dropped
            await settle(pilot)

        assert snap_compare(Host(screen), terminal_size=SIZE, run_before=chosen)


def test_step_tracker_follows_the_engine_order() -> None:
    tracker = StepTracker(expected_steps("restore", "docker", packages=True))
    assert [s.name for s in tracker.steps] == [
        "checking", "building", "packages", "files", "verifying", "switching", "done"]
    tracker.advance("checking")
    tracker.advance("building", "docker environment unit.restore-1")
    tracker.advance("files", "3 entries")  # no packages after all: the step goes away
    tracker.advance("container-fs", "2 changes")  # not expected: inserted in engine order
    tracker.advance("verifying")
    tracker.advance("switching")
    tracker.advance("switching", "folders in place")  # a sub-step only updates the detail
    assert [(s.label, s.state) for s in tracker.steps] == [
        ("check", "done"), ("create", "done"), ("copy files", "done"),
        ("copy container changes", "done"), ("verify", "done"), ("switch", "active"),
        ("done", "pending")]
    assert tracker.steps[5].detail == "folders in place"
    tracker.advance("done")
    assert all(s.state == "done" for s in tracker.steps) and tracker.done_count == 7


def test_step_tracker_marks_where_it_failed() -> None:
    tracker = StepTracker(expected_steps("migrate", "basic"))
    assert [s.label for s in tracker.steps] == [
        "lock", "check", "create", "copy files", "verify", "switch", "done"]
    tracker.fail()  # refused before anything began (an engine that cannot run)
    assert [s.state for s in tracker.steps[:2]] == ["failed", "pending"]
    tracker = StepTracker(expected_steps("migrate", "virtualenv"))
    tracker.advance("snapshot")
    tracker.advance("checking")
    tracker.fail()
    assert [s.state for s in tracker.steps[:3]] == ["done", "failed", "pending"]
