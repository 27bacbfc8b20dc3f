"""Shared helpers for the snapshot, restore and migration tests.

Sessions install from the local wheel corpus (find-links, offline) with a private cache,
so nothing reaches the network. ``fill_home`` writes the same working-folder content in
every test; ``home_state`` reads it back for comparison.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ptest_tui.session import Session
from tests.conftest import write_workspace

TOOLING = {"pip", "setuptools", "wheel"}

KILL_SCRIPT = """
import os, signal, sys
from ptest_tui.events import MigrationStep
from ptest_tui.session import Session

root, action, env, arg, step, detail, *overrides = sys.argv[1:]
session = Session.open(workspace=root, environ={}, overrides=overrides)

def kill(event):
    if event.step == step and detail in event.detail:
        os.kill(os.getpid(), signal.SIGKILL)

session.bus.subscribe(MigrationStep, kill)
if action == "migrate":
    session.migrate(env, arg)
else:
    session.restore(arg, env)
print("not killed")
"""


def workspace_toml(find_links: Path) -> str:
    """ptest.toml text that installs from ``find_links`` only."""
    return f'[packages]\nfind_links = ["{find_links}"]\noffline = true\n'


def overrides(find_links: Path) -> list[str]:
    return [f"packages.find_links={find_links}", "packages.offline=true"]


def open_ws(root: Path, find_links: Path, toml: str = "") -> Session:
    """A session on a fresh workspace that installs from ``find_links`` only."""
    write_workspace(root, toml)
    return Session.open(workspace=root, environ={}, overrides=overrides(find_links))


def home(session: Session, env: str) -> Path:
    """The HOME folder of a host env."""
    return session.workspace.state_dir / "envs" / env / "home"


def packages(session: Session, env: str) -> dict[str, str]:
    """Installed distributions (without installer tooling)."""
    return {d.key: d.version for d in session.packages(env) if d.key not in TOOLING}


def fill_home(folder: Path) -> None:
    """Files, a script, a link, an empty folder and an excluded cache."""
    (folder / "notes").mkdir(parents=True, exist_ok=True)
    (folder / "notes" / "a.txt").write_text("alpha\n")
    (folder / "notes" / "b.txt").write_text("beta\n")
    (folder / "run.sh").write_text("#!/bin/sh\necho run\n")
    (folder / "run.sh").chmod(0o755)
    (folder / "empty").mkdir(exist_ok=True)
    os.symlink("notes/a.txt", folder / "link")
    (folder / ".cache" / "pip").mkdir(parents=True, exist_ok=True)
    (folder / ".cache" / "pip" / "junk").write_text("cache")


def home_state(folder: Path) -> dict[str, tuple[str, str]]:
    """Path -> (kind, content or link target or mode) of everything under ``folder``."""
    state: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            state[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            state[rel] = ("dir", "")
        else:
            state[rel] = ("file", f"{path.read_text()}|{path.stat().st_mode & 0o777:o}")
    return state


def output(session: Session, env: str, argv: list[str]) -> tuple[int, list[str]]:
    """Exit code and stdout lines of a command in ``env``."""
    lines: list[str] = []
    result = session.exec(
        env, argv, on_output=lambda stream, line: lines.append(line) if stream == "stdout" else None
    )
    return result.exit_code, lines


def run_killed(root: Path, find_links: Path, action: str, env: str, arg: str, step: str,
               detail: str = "") -> subprocess.CompletedProcess[str]:
    """Run a migration or restore in a child process that SIGKILLs itself at ``step``."""
    return subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(root), action, env, arg, step, detail,
         *overrides(find_links)],
        capture_output=True, text=True, timeout=120, check=False,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
