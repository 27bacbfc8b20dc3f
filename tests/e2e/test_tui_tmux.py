"""The installed ``ptest-tui`` app in a real terminal (tmux), driven by keys only.

One user story end to end: create a virtualenv environment, install a package from a local
index, migrate the environment to docker, and quit, reading the screen after every step.
The screen is read as text (``tmux capture-pane``); rows are found by their first cell, so
added columns or reordered ones do not break the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ptest_tui.session import Session
from tests.conftest import need
from tests.e2e.conftest import Cli, clean_environ, cli_command, make_workspace
from tests.integration.docker_support import docker_reason, engine_of
from tests.support.index_server import IndexServer
from tests.support.tmux import Check, Tmux, TmuxError, table_row, tmux_reason

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ENV = "web"
PACKAGE = "beta==1.0"  # pulls alpha 2.0 from the index too
EXPECTED = {"alpha": "2.0", "beta": "1.0"}
# The migrate dialog's step lines, in the order the engine runs them.
STEPS = ("lock", "check", "create", "install", "copy files", "verify", "switch", "done")
MUST_RUN = ("lock", "create", "install", "copy files", "verify", "switch")
ICONS = {"○": 0, "◐": 1, "✖": 1, "✔": 2}  # pending < running (or failed) < done
STEP_LINE = re.compile(r"([○◐✔✖]) (" + "|".join(STEPS) + r")(?=\s|$)")

# Generous: a loaded 2-core CI machine builds a container and runs uv in it.
CREATE_TIMEOUT = 120
INSTALL_TIMEOUT = 180
MIGRATE_TIMEOUT = 420


@pytest.fixture
def app_cli(tmp_path: Path, local_index: IndexServer) -> Iterator[Cli]:
    """A workspace that installs from the local index; docker checked; leftovers removed."""
    cli = Cli(make_workspace(tmp_path / "ws", f'[packages]\nindex_url = "{local_index.url}"\n'))
    with Session.open(workspace=cli.root, environ={}) as session:
        need("docker", docker_reason(engine_of(session)))
    need("tmux", tmux_reason())
    yield cli
    # Whatever happened, no container, network or folder of this workspace stays behind.
    cli.run("env", "delete", ENV, "--yes", "--force", env=child_env(tmp_path))
    cli.run("env", "cleanup", env=child_env(tmp_path))


def child_env(tmp_path: Path) -> dict[str, str]:
    """What ptest-tui gets: no PTEST_* but a private package cache, and a real terminal.

    COLUMNS/LINES (set for CLI tests) would override the size tmux gives the app.
    """
    env = clean_environ({"PTEST_CACHE_DIR": str(tmp_path / "cache")})
    for name in ("COLUMNS", "LINES", "NO_COLOR"):
        env.pop(name, None)
    return env


def steps_on(screen: str) -> dict[str, int]:
    """Step label -> state rank (0 pending, 1 running/failed, 2 done) of the step lines shown."""
    return {m.group(2): ICONS[m.group(1)] for m in STEP_LINE.finditer(screen)}


def env_row(name: str, *words: str) -> Check:
    """A check: the left column has a table row ``name`` holding every one of ``words``."""

    def check(screen: str) -> bool:
        row = table_row(screen, name)
        return row is not None and all(word in row for word in words)

    check.__doc__ = f"a table row {name!r} with {', '.join(words)}"
    return check


def env_row_all(rows: list[tuple[str, str]]) -> Check:
    """A check: every ``(first cell, word)`` row is shown."""
    checks = [env_row(name, word) for name, word in rows]

    def check(screen: str) -> bool:
        return all(one(screen) for one in checks)

    check.__doc__ = "rows " + ", ".join(f"{name} {word}" for name, word in rows)
    return check


def preview_line(screen: str) -> str:
    """The create dialog's preview line (``→ level: why``), '' if not shown."""
    return next((line for line in screen.splitlines() if "→ " in line), "")


def choose_level(tmux: Tmux, level: str = "virtualenv") -> None:
    """With the isolation choice focused, press Right until the preview names ``level``.

    Each press waits for the preview to change, so no press lands on a stale screen.
    (``auto`` and ``basic`` both preview as basic, but with different reasons.)
    """
    for _ in range(8):
        before = preview_line(tmux.wait_for(lambda s: bool(preview_line(s)), "preview", 10))
        if f"→ {level}:" in before:
            return
        tmux.keys("Right")
        tmux.wait_for(preview_other_than(before), "choose " + level, 10)
    tmux.fail("choose " + level, f"the preview never named {level}")


def preview_other_than(before: str) -> Check:
    """A check: the create dialog's preview line is no longer ``before``."""

    def check(screen: str) -> bool:
        return preview_line(screen) != before

    check.__doc__ = f"a preview other than {before.strip(' │')!r}"
    return check


def test_create_install_migrate_by_keys(
    app_cli: Cli, tmp_path: Path, local_index: IndexServer
) -> None:
    env = child_env(tmp_path)
    tmux = Tmux(tmp_path / "tmux")
    try:
        tmux.start([*cli_command(), "--workspace", str(app_cli.root)], env, app_cli.root)
        tmux.wait_for("Press c to create one", "start the app")
        pid = tmux.program_pid()
        assert pid, "no ptest-tui process under the tmux pane"

        # -- c: create a virtualenv env ----------------------------------------------------
        tmux.keys("c")
        tmux.wait_for("Create environment", "open the create dialog")
        tmux.type(ENV)
        tmux.keys("Tab")  # to the isolation choice: the arrow keys choose
        choose_level(tmux)
        tmux.keys("Tab", "Enter")  # Enter in the Python field submits the form
        screen = tmux.wait_for(env_row(ENV, "virtualenv", "ready"), "create the env",
                               CREATE_TIMEOUT)
        assert "Create environment" not in screen, "create: the dialog stayed open"

        # -- i: install a package from the local index -------------------------------------
        tmux.keys("i")
        tmux.wait_for(f"Install packages into {ENV}", "open the install dialog")
        tmux.type(PACKAGE)
        tmux.wait_for("✔ 1 requirement", "type the requirement", timeout=10)
        tmux.keys("Enter")
        installed = env_row_all([(name, version) for name, version in EXPECTED.items()])
        screen = tmux.wait_for(installed, "install into the virtualenv", INSTALL_TIMEOUT)
        assert f"Packages of {ENV}" in screen and "2 installed" in screen, "install: pane title"
        assert {"beta-1.0-py3-none-any.whl", "alpha-2.0-py3-none-any.whl"} <= (
            local_index.downloaded()), f"install: not from the local index {local_index.requests}"

        # -- m: migrate to docker ----------------------------------------------------------
        tmux.keys("m")
        tmux.wait_for(f"{ENV} is a virtualenv environment", "open the migrate dialog", 60)
        asking = f"Migrate {ENV} from virtualenv to"
        for _ in range(4):  # the levels come in the engines' order; the question names one
            tmux.keys("Enter")
            screen = tmux.wait_for(asking, "choose docker", 10)
            if f"{asking} docker?" in screen:
                break
            tmux.keys("n")  # back to the list, then the next level
            tmux.wait_for(lambda s: asking not in s, "choose docker", 10)
            tmux.keys("Down")
        tmux.wait_for(f"{asking} docker?", "choose docker", 10)
        tmux.keys("y")
        seen = watch_steps(tmux)
        # The outcome is drawn with the last step; a frame may lag behind, so wait for it.
        screen = tmux.wait_for("Verified:", "migrate: the outcome", 15)
        assert f"{ENV} is now a docker environment (was virtualenv)" in screen, "migrate: outcome"
        assert "packages: 2 match the lock" in screen, "migrate: packages not verified"
        # The steps were read while they ran, not only once all was over.
        assert any(min(states.values()) < 2 for states in seen), f"migrate: only saw {seen}"
        tmux.keys("Enter")  # close the dialog
        tmux.wait_for(lambda s: "Migrating" not in s, "close the migrate dialog", 30)

        # -- the result on screen: the row says docker, the packages are listed ------------
        tmux.keys("1")
        tmux.wait_for(env_row(ENV, "docker", "ready"), "show docker in the env row", 60)
        tmux.keys("2")
        screen = tmux.wait_for(installed, "list the packages after migrating", 120)
        assert table_row(screen, ENV) is None, "2: still the env table"

        # -- q quits ------------------------------------------------------------------------
        tmux.keys("q")
        assert tmux.wait_exit("quit with q", 30) == 0, "q: ptest-tui exited with an error"
        assert not psutil.pid_exists(pid), f"ptest-tui (pid {pid}) still runs"
    except TmuxError:
        raise
    except AssertionError as exc:  # say on which screen it happened
        raise AssertionError(f"{exc}\n--- last screen\n{tmux.last_screen}---") from exc
    finally:
        tmux.kill()
    assert not tmux.alive_session()

    # The same state through the CLI: docker, and the packages inside the container.
    record = app_cli.envs()[ENV]
    assert (record["isolation"], record["status"]) == ("docker", "ready"), record
    listed = {p["name"]: p["version"] for p in app_cli.json("pkg", "list", ENV, "--json")}
    assert {k: v for k, v in listed.items() if k in EXPECTED} == EXPECTED, listed
    ran = app_cli.run("env", "exec", ENV, "--", "python", "-c",
                      "import alpha, beta; print(alpha.__version__, beta.__version__)",
                      env={"PTEST_CACHE_DIR": str(tmp_path / "cache")})
    assert ran.returncode == 0 and ran.stdout.split() == ["2.0", "1.0"], str(ran)


def watch_steps(tmux: Tmux) -> list[dict[str, int]]:
    """Read the step lines until the migration finishes; every distinct state seen.

    At every read, finished steps come before the running one, which comes before pending
    ones (the steps run in order); when it is over, every step that must run is done.
    """
    seen: list[dict[str, int]] = []

    def finished(screen: str) -> bool:
        states = steps_on(screen)
        if states and (not seen or seen[-1] != states):
            seen.append(states)
            ranks = [states[label] for label in STEPS if label in states]
            if ranks != sorted(ranks, reverse=True):
                tmux.fail("migrate to docker", f"steps out of order: {states}")
        if "✖" in (m.group(1) for m in STEP_LINE.finditer(screen)):
            tmux.fail("migrate to docker", "a step failed")
        return "Enter/Esc close" in screen and states.get("done") == 2

    finished.__doc__ = "every migration step done"
    tmux.wait_for(finished, "migrate to docker", MIGRATE_TIMEOUT)
    final = seen[-1]
    missing = [label for label in MUST_RUN if final.get(label) != 2]
    if missing:
        tmux.fail("migrate to docker", f"steps not done: {missing}; seen {seen}")
    return seen
