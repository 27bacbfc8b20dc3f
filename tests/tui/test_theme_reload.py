"""Theme files reload live: the workspace's themes/*.toml and the shipped ones (watched)."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.color import Color
from textual.pilot import Pilot

from ptest_tui.session import Session
from ptest_tui.tui import theme_reload
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.themes import parse_theme, shipped_theme_dir
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


def theme_text(name: str, background: str, surface: str = "#202020", **extra: str) -> str:
    """A small valid theme file."""
    lines = [f'name = "{name}"', "dark = true", 'primary = "#4C9AFF"',
             f'background = "{background}"', f'surface = "{surface}"']
    lines += [f'{key} = "{value}"' for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def mine(tmp_path: Path) -> Iterator[Session]:
    """A workspace using its own theme ``mine`` from themes/mine.toml."""
    root = write_workspace(tmp_path / "ws", '[ui]\ntheme = "mine"\n')
    (root / "themes").mkdir()
    (root / "themes" / "mine.toml").write_text(theme_text("mine", "#102030", "#111111"))
    with Session.open(workspace=root, environ={}) as session:
        yield session


async def watching(pilot: Pilot[int], app: PtestApp) -> None:
    """Wait until the theme watcher listens (edits before that would go unseen)."""
    await settle(pilot)
    watcher = app.theme_library.watcher
    assert watcher is not None and watcher.ready.wait(10)


def generated(text: str, variable: str = "background") -> Color:
    """The color Textual derives for ``variable`` from a theme file's text.

    Textual's color system may nudge a color by a step (#403020 comes out as #3F3020), so
    tests compare with what it generates from the same file, not with the literal.
    """
    theme = parse_theme(tomllib.loads(text), "test")
    return Color.parse(theme.to_color_system().generate()[variable])


def screen_background(app: PtestApp) -> Color:
    """The computed background of the main screen (``$background`` in app.tcss)."""
    return app.screen_stack[0].styles.background


def envs_background(app: PtestApp) -> Color:
    """The computed background of the environments table (``$surface``)."""
    return app.table.styles.background


async def test_editing_the_active_workspace_theme_recolors_the_app(mine: Session) -> None:
    path = mine.workspace.root / "themes" / "mine.toml"
    app = PtestApp(mine)
    seen = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await watching(pilot, app)
        assert app.theme == "mine"
        old = theme_text("mine", "#102030", "#111111")
        assert screen_background(app) == generated(old)
        assert envs_background(app) == generated(old, "surface")

        new = theme_text("mine", "#403020", "#332211")
        path.write_text(new)
        assert await wait_until(pilot, lambda: screen_background(app) == generated(new))
        assert screen_background(app) != generated(old)
        assert envs_background(app) == generated(new, "surface")
        assert seen.has("theme mine reloaded")
        await pilot.pause()
        # What is drawn follows, not only the style: the screenshot carries the new color.
        drawn = app.export_screenshot().lower()
        assert generated(new, "surface").hex.lower() in drawn
        assert generated(old, "surface").hex.lower() not in drawn

        # An invalid edit keeps the theme and is reported once, naming file and key.
        path.write_text(theme_text("mine", "#403020", primry="#000000"))
        assert await wait_until(pilot, lambda: seen.has("unknown theme key 'primry'"))
        problem = [m for m in seen.messages if "primry" in m]
        assert problem == [next(m for m in seen.messages if "primry" in m)]
        assert "themes/mine.toml" in problem[0] and "hint: valid keys" in problem[0]
        path.write_text(theme_text("mine", "#403020", primry="#000000") + "# again\n")
        path.write_text(theme_text("mine", "#FFFFFF", primry="#000000"))
        await settle(pilot)
        await pilot.pause(0.3)
        assert sum("primry" in m for m in seen.messages) == 1
        assert screen_background(app) == generated(new)  # the last valid theme stays

        # Fixed: applied again.
        fixed = theme_text("mine", "#0A0B0C")
        path.write_text(fixed)
        assert await wait_until(pilot, lambda: screen_background(app) == generated(fixed))


async def test_new_and_deleted_theme_files_join_and_leave_the_palette(mine: Session) -> None:
    folder = mine.workspace.root / "themes"
    app = PtestApp(mine)
    async with app.run_test(size=SIZE) as pilot:
        await watching(pilot, app)
        (folder / "extra.toml").write_text(theme_text("extra", "#010203"))
        assert await wait_until(pilot, lambda: "extra" in app.available_themes)
        titles = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert "from themes/extra.toml" in titles["Switch theme: extra"]
        assert "shipped with ptest-tui" in titles["Switch theme: ptest-light"]
        app.theme = "extra"
        await pilot.pause()
        extra = generated(theme_text("extra", "#010203"))
        assert screen_background(app) == extra

        # Deleting the file of the theme in use keeps it applied, but off the palette.
        (folder / "extra.toml").unlink()
        assert await wait_until(pilot, lambda: "extra" not in [t.name for t in app.themes])
        assert app.theme == "extra" and screen_background(app) == extra
        (folder / "mine.toml").unlink()
        assert await wait_until(pilot, lambda: "mine" not in app.available_themes)


async def test_a_themes_folder_made_while_running_is_watched(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "later")
    with Session.open(workspace=root, environ={}) as session:
        app = PtestApp(session)
        async with app.run_test(size=SIZE) as pilot:
            await watching(pilot, app)
            (root / "themes").mkdir()
            (root / "themes" / "late.toml").write_text(theme_text("late", "#050607"))
            assert await wait_until(pilot, lambda: "late" in app.available_themes)
            # ... and is watched from then on.
            (root / "themes" / "later.toml").write_text(theme_text("later", "#070605"))
            assert await wait_until(pilot, lambda: "later" in app.available_themes)


async def test_broken_theme_files_at_start_are_one_notification(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "broken")
    (root / "themes").mkdir()
    (root / "themes" / "a.toml").write_text('name = "a"\nprimary = "blueish"\n')
    (root / "themes" / "b.toml").write_text("name = \n")
    (root / "themes" / "good.toml").write_text(theme_text("good", "#111213"))
    with Session.open(workspace=root, environ={}) as session:
        app = PtestApp(session)
        seen = Notices(app)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            about = [m for m in seen.messages if "themes/" in m]
            assert len(about) == 1
            assert "themes/a.toml: primary: 'blueish' is not a color" in about[0]
            assert "themes/b.toml: invalid TOML" in about[0]
            assert "good" in app.available_themes
            assert {"ptest-dark", "ptest-light", "ptest-high-contrast"} <= set(app.available_themes)


async def test_editing_a_shipped_theme_file_reapplies_it(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the shipped folder stands in for it: the real one is shared by everyone.
    shipped = shipped_theme_dir()
    assert shipped is not None
    copy = tmp_path / "shipped"
    shutil.copytree(shipped, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(theme_reload, "shipped_theme_dir", lambda: copy)
    monkeypatch.setattr(theme_reload, "theme_files", lambda: sorted(copy.glob("*.toml")))
    app = PtestApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await watching(pilot, app)
        assert app.theme == "ptest-dark"
        dark = copy / "ptest-dark.toml"
        assert screen_background(app) == generated(dark.read_text())
        edited = dark.read_text().replace('background = "#15171C"', 'background = "#2A0000"')
        dark.write_text(edited)
        assert await wait_until(pilot, lambda: screen_background(app) == generated(edited))
        assert generated(edited) != generated((shipped / "ptest-dark.toml").read_text())
