"""Helpers for plugin tests: plugin source files, installed (dist-info) plugins, and a
workspace with a small suite that runs in a basic env (no Docker, no network)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.conftest import write_workspace
from tests.unit.test_plugin_discovery import make_dist

SUITE = """
[envs.scratch]
isolation = "basic"

[suites.smoke]
envs = ["scratch"]

[[suites.smoke.cases]]
name = "good"
kind = "command"
command = "echo hello from good"

[[suites.smoke.cases]]
name = "bad"
kind = "command"
command = "sh -c 'echo failing; exit 3'"
"""

# A plugin that appends "<tag>:<hook>" to the list RECORD in module ``plugin_record``
# (shared by every plugin of a test), so tests see who was called in which order.
RECORDER = '''
import plugin_record
from ptest_tui.plugins import hookimpl


@hookimpl{marker}
def ptest_on_env_created(session, event):
    plugin_record.RECORD.append("{tag}:env_created:" + event.env)


@hookimpl{marker}
def ptest_on_event(session, event):
    if event.kind == "env_created":
        plugin_record.RECORD.append("{tag}:event:" + event.kind)
'''


def recorder(tag: str, marker: str = "") -> str:
    """Source of a recording plugin; ``marker`` such as ``(tryfirst=True)``."""
    return RECORDER.replace("{tag}", tag).replace("{marker}", marker)


def write_plugin(folder: Path, name: str, source: str) -> Path:
    """``folder/name.py`` with ``source`` (dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def install_plugin(site: Path, name: str, source: str, value: str | None = None) -> None:
    """An "installed" plugin: a module on sys.path plus dist-info with an entry point."""
    write_plugin(site, name, source)
    make_dist(site, name, "ptest_tui", value or name)


def plugin_workspace(root: Path, plugin_paths: list[str], extra: str = "") -> Path:
    """A workspace loading ``plugin_paths`` with the smoke suite."""
    paths = ", ".join(f'"{p}"' for p in plugin_paths)
    return write_workspace(root, f"[plugins]\npaths = [{paths}]\n{extra}\n{SUITE}")
