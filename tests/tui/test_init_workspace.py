"""A folder without a workspace: the app offers a starter ptest.toml (terminal only)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ptest_tui.config.templates import template_text
from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.screens.init_workspace import InitWorkspaceApp, InitWorkspaceScreen
from tests.conftest import need
from tests.e2e.conftest import Cli, assert_usage_error, clean_environ, cli_command
from tests.tui.conftest import settle

SIZE = (100, 36)
STARTER_ENVS = ["limited", "smoke", "unit"]  # what the minimal template declares


def body_text(app: InitWorkspaceApp) -> str:
    """The explanation the offer shows."""
    return str(app.screen.query_one("#init-body").render())


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["y", "enter"])
async def test_yes_writes_the_init_starter_and_the_app_opens_on_it(
    tmp_path: Path, key: str
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    app = InitWorkspaceApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, InitWorkspaceScreen)
        text = body_text(app)
        assert f"No ptest.toml was found in {folder}" in text
        assert "smoke (basic), unit (virtualenv), limited (docker)" in text
        assert list(folder.iterdir()) == []  # nothing written before the answer
        await pilot.press(key)
    written = folder / "ptest.toml"
    assert app.return_value == written
    assert written.read_text() == template_text("minimal")  # exactly what `init` writes
    assert sorted(p.name for p in folder.iterdir()) == ["ptest.toml"]

    # The main app then opens on the new workspace, its envs listed as declared.
    with Session.open(workspace=folder, environ={}) as session:
        main = PtestApp(session)
        async with main.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert sorted(main.table.visible_names) == STARTER_ENVS
            assert {row.status for row in main.table.rows_all} == {"declared"}


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["n", "escape", "q"])
async def test_no_quits_and_writes_nothing(tmp_path: Path, key: str) -> None:
    app = InitWorkspaceApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(key)
    assert app.return_value is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_a_ptest_toml_that_appeared_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    app = InitWorkspaceApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        (tmp_path / "ptest.toml").write_text("# mine\n")  # written by someone else meanwhile
        await pilot.press("y")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, InitWorkspaceScreen)
        error = str(app.screen.query_one("#init-error").render())
        assert "ptest.toml already exists" in error and "hint:" in error
        await pilot.press("q")
    assert app.return_value is None
    assert (tmp_path / "ptest.toml").read_text() == "# mine\n"


def test_without_a_terminal_it_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    for args in ([], ["--workspace", str(folder)]):
        # stdin is /dev/null and stdout a pipe: no offer, the usual one-line error.
        result = Cli(folder).run(*args)
        assert_usage_error(result, "run `ptest-tui init`" if not args else "ptest-tui init")
        assert "no ptest.toml" in result.stderr or "has no ptest.toml" in result.stderr
        assert list(folder.iterdir()) == []


# -- the real command in a real terminal (tmux) ---------------------------------------------


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[[Path], Tmux]]:
    """Run ``ptest-tui`` in a tmux pane of a private tmux server (killed afterwards)."""
    need("tmux", None if shutil.which("tmux") else "tmux is not installed")
    started: list[Tmux] = []

    def start(folder: Path) -> Tmux:
        pane = Tmux(f"ptest-init-{os.getpid()}-{len(started)}", folder, tmp_path)
        started.append(pane)
        return pane

    yield start
    for pane in started:
        pane.kill()


class Tmux:
    """One detached tmux session running the CLI, with its exit code written to a file."""

    def __init__(self, name: str, folder: Path, scratch: Path) -> None:
        self.socket = name  # a private server: never touches anyone else's tmux
        self.exit_file = scratch / f"{name}.exit"
        command = f"{shlex.join(cli_command())}; echo $? > {shlex.quote(str(self.exit_file))}"
        env = clean_environ({"TERM": "xterm-256color"})
        env.pop("NO_COLOR", None)
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", "110",
             "-y", "36", "-c", str(folder), "sh", "-c", command + "; sleep 60"],
            env=env, check=True,
        )

    def screen(self) -> str:
        """What the pane shows now."""
        done = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p"],
                              capture_output=True, text=True, check=False)
        return done.stdout

    def wait_for(self, text: str, rounds: int = 600) -> str:
        """Poll the pane (bounded) until it shows ``text``; returns the screen."""
        for _ in range(rounds):
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"never showed {text!r}; the pane shows:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        """Type keys (tmux key names)."""
        subprocess.run(["tmux", "-L", self.socket, "send-keys", *keys], check=True)

    def exit_code(self, rounds: int = 300) -> int:
        """Wait (bounded) for the command to end; its exit code."""
        for _ in range(rounds):
            if self.exit_file.is_file() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.1)
        raise AssertionError(f"the command did not end; the pane shows:\n{self.screen()}")

    def kill(self) -> None:
        """Stop this private tmux server."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False,
                       capture_output=True)


@pytest.mark.slow
def test_in_a_terminal_yes_creates_and_opens_the_app(
    tmp_path: Path, terminal: Callable[[Path], Tmux]
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    pane = terminal(folder)
    pane.wait_for("No ptest.toml was found in")
    assert list(folder.iterdir()) == []
    pane.keys("y")
    shown = pane.wait_for("1 Environments")  # the main app, on the new workspace
    for name in STARTER_ENVS:
        pane.wait_for(name)
    assert "declared" in shown or "declared" in pane.screen()
    pane.keys("q")
    assert pane.exit_code() == 0
    assert (folder / "ptest.toml").read_text() == template_text("minimal")


@pytest.mark.slow
def test_in_a_terminal_no_quits_with_a_hint_and_writes_nothing(
    tmp_path: Path, terminal: Callable[[Path], Tmux]
) -> None:
    folder = tmp_path / "keep-empty"
    folder.mkdir()
    pane = terminal(folder)
    pane.wait_for("No ptest.toml was found in")
    pane.keys("n")
    assert pane.exit_code() == 0
    assert "nothing created; `ptest-tui init` writes a starter" in pane.wait_for("nothing created")
    assert list(folder.iterdir()) == []
