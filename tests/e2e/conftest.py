"""Drive the installed ``ptest-tui`` as a user would: a subprocess in a temp workspace.

The command is the ``ptest-tui`` script next to the interpreter running the tests (the
installed entry point), else ``python -m ptest_tui``; ``PTEST_E2E_CLI`` names another
executable (for example one installed from a wheel). The child gets a clean environment:
no ``PTEST_*`` variables unless a test passes them, no colour, a wide terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def cli_command() -> list[str]:
    """The argv prefix that runs the installed CLI."""
    override = os.environ.get("PTEST_E2E_CLI")
    if override:
        return [override]
    script = Path(sys.executable).parent / "ptest-tui"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "ptest_tui"]


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's variables minus every PTEST_* one, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTEST_")}
    env.update(NO_COLOR="1", COLUMNS="200", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Result:
    """A finished CLI run."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n-> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


@dataclass(frozen=True)
class Cli:
    """The CLI bound to one workspace folder."""

    root: Path

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> Result:
        """Run ``ptest-tui ARGS`` in the workspace and wait for it."""
        argv = [*cli_command(), *args]
        done = subprocess.run(
            argv,
            cwd=cwd or self.root,
            env=clean_environ(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(argv, done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        """Run and assert exit code 0."""
        result = self.run(*args, env=env)
        assert result.returncode == 0, str(result)
        return result

    def json(self, *args: str) -> Any:
        """Run a ``--json`` command (exit 0) and parse its stdout."""
        return json.loads(self.ok(*args).stdout)

    def envs(self) -> dict[str, dict[str, Any]]:
        """``env list --json`` by name."""
        return {item["name"]: item for item in self.json("env", "list", "--json")}

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        """Start ``ptest-tui ARGS`` without waiting (caller must wait or kill it)."""
        return subprocess.Popen(
            [*cli_command(), *args],
            cwd=self.root,
            env=clean_environ(),
            stdin=subprocess.DEVNULL,
            text=True,
            **kwargs,
        )


def assert_usage_error(result: Result, expected: str = "") -> None:
    """Exit 2, nothing on stdout, exactly one ``ptest-tui: error:`` line on stderr."""
    assert_one_line_error(result, 2, expected)


def assert_one_line_error(result: Result, code: int, expected: str = "") -> None:
    """Exit ``code``, nothing on stdout, exactly one ``ptest-tui: error:`` line on stderr."""
    assert result.returncode == code, str(result)
    assert result.stdout == "", str(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, str(result)
    assert lines[0].startswith("ptest-tui: error: "), str(result)
    assert "Traceback" not in result.stderr
    assert expected in lines[0], str(result)


def make_workspace(root: Path, toml: str = "[workspace]\n") -> Path:
    """A folder with the given ptest.toml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ptest.toml").write_text(textwrap.dedent(toml))
    return root


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI in a fresh workspace with a minimal ptest.toml."""
    return Cli(make_workspace(tmp_path / "ws"))


@pytest.fixture
def cli_with(tmp_path: Path) -> Callable[[str], Cli]:
    """A factory: the CLI in a fresh workspace with the given ptest.toml text."""
    count = iter(range(1000))

    def make(toml: str) -> Cli:
        return Cli(make_workspace(tmp_path / f"ws{next(count)}", toml))

    return make


def env_folders(root: Path) -> set[str]:
    """Names of the folders under ``.ptest/envs``."""
    folder = root / ".ptest" / "envs"
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def mark_broken(root: Path, name: str, error: str) -> None:
    """Mark an environment broken through the store, as a failed engine would."""
    from ptest_tui.session import Session

    with Session.open(workspace=root, environ={}) as session:
        session.store.update_env(name, status="broken", error=error)


def current_python() -> str:
    """``major.minor`` of the interpreter running the tests (always installed)."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def argv_paths(parser: Any, prefix: Sequence[str] = ()) -> list[list[str]]:
    """Every command path of an argparse parser (``[]``, ``["env"]``, ``["env", "create"]``)."""
    import argparse

    paths = [list(prefix)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                paths += argv_paths(child, [*prefix, name])
    return paths
