"""The app follows ptest.toml edits and shows threshold alerts (config hot reload, issue 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from tests.conftest import write_workspace
from tests.tui.conftest import Notices, settle, wait_until

pytestmark = pytest.mark.anyio
SIZE = (140, 40)


async def test_edits_apply_live_and_bad_ones_are_notified(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[envs.alpha]\nisolation = "basic"\n')
    session = Session.open(workspace=root, environ={})
    app = PtestApp(session)
    seen = Notices(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert await wait_until(pilot, lambda: app.live.watcher is not None
                                    and app.live.watcher.ready.is_set())
            (root / "ptest.toml").write_text(
                '[envs.alpha]\nisolation = "basic"\n[envs.beta]\nisolation = "basic"\n'
            )
            assert await wait_until(pilot, lambda: "beta" in app.views
                                    and seen.has("configuration reloaded (envs)"))
            (root / "ptest.toml").write_text('[envs.alpha]\nisolaton = "basic"\n')
            assert await wait_until(pilot, lambda: seen.has("unknown key envs.alpha.isolaton"))
            assert seen.has("(line 2)") and "error" in seen.severities
            assert "beta" in session.config.envs  # the previous configuration stays
    finally:
        session.close()


async def test_a_threshold_crossing_is_a_notification(tmp_path: Path) -> None:
    # No disk has a petabyte free: the host crosses disk_free on the first sample.
    root = write_workspace(tmp_path / "ws", '[monitor]\ninterval = 0.2\ndisk_free = "1024t"\n')
    session = Session.open(workspace=root, environ={})
    app = PtestApp(session)
    seen = Notices(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert await wait_until(pilot, lambda: seen.has("free"))
            assert "warning" in seen.severities
    finally:
        session.close()


async def test_keys_follow_the_keymap_and_the_theme_choice_is_saved(tmp_path: Path) -> None:
    from ptest_tui.tui.screens.create_env import CreateEnvScreen

    root = write_workspace(tmp_path / "ws", '# mine\n[ui]\nkeymap = { create = "n" }\n')
    session = Session.open(workspace=root, environ={})
    app = PtestApp(session)
    seen = Notices(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            assert not isinstance(app.screen, CreateEnvScreen)
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, CreateEnvScreen)
            await pilot.press("escape")
            # Help and the palette name the key in use.
            rows = dict(app.help_sections()[0][1])
            assert rows["n"] == "Create an environment (dialog)" and "c" not in rows
            palette = {c.title: c.help for c in app.get_system_commands(app.screen)}
            assert palette["Create environment"] == "Open the create dialog (n)"
            assert palette["Lock packages"] == "Write the selected env's lock file (2, l)"
            app.switch_theme("ptest-light")
            assert app.theme == "ptest-light"
            assert seen.has("theme ptest-light saved in ptest.toml")
        text = (root / "ptest.toml").read_text()
        assert text.startswith("# mine\n[ui]\n") and 'theme = "ptest-light"' in text
    finally:
        session.close()
