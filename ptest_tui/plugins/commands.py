"""CLI subcommands from plugins, added to the parser after the built-in commands.

This runs for every command line, ``--help`` included, so it stays cheap: entry points
come from the discovery cache, the built-ins are not loaded, path plugins are found by a
lenient read of the workspace file (no validation: the session later loads the same
plugins strictly and reports any problem), and when there is no plugin at all neither
pluggy nor the plugin manager is imported. A plugin that raises, or takes a name already
in use, is logged by name and skipped.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.plugins.discovery import BUILTIN_NAMES, discover

if TYPE_CHECKING:
    from ptest_tui.plugins.manager import PtestPluginManager

ENTRY_POINT_GROUP = "ptest_tui"


def add_plugin_commands(
    subparsers: argparse._SubParsersAction[Any],
    argv: Sequence[str] | None = None,
) -> PtestPluginManager | None:
    """Let every plugin add its subcommands to ``subparsers``; returns the manager used
    (None when no plugin is installed or configured)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    paths, disabled = configured_plugins(args, os.environ)
    installed = [ref for ref in discover(ENTRY_POINT_GROUP) if ref.name not in BUILTIN_NAMES]
    if not installed and not paths:
        return None
    from ptest_tui.plugins.manager import build_plugin_manager
    from ptest_tui.plugins.paths import PluginSources

    sources = PluginSources(tuple(paths), frozenset(disabled))
    manager = build_plugin_manager(True, sources, builtins=False)
    manager.collect("ptest_register_commands", subparsers=subparsers)
    return manager


def configured_plugins(
    argv: Sequence[str], environ: Mapping[str, str]
) -> tuple[list[Path], list[str]]:
    """``[plugins] paths`` (existing ones, resolved) and ``disabled`` of the workspace a
    command line will use: ``-w DIR`` or the nearest one upward; PTEST_PLUGINS_* win."""
    start: Path | None = None
    for index, arg in enumerate(argv):
        if arg in ("-w", "--workspace") and index + 1 < len(argv):
            start = Path(argv[index + 1])
        elif arg.startswith("--workspace="):
            start = Path(arg.partition("=")[2])
    root, table = _plugins_table([start.resolve()] if start else [Path.cwd(), *Path.cwd().parents])
    paths = _split(environ.get("PTEST_PLUGINS_PATHS", "")) or _list(table, "paths")
    disabled = _split(environ.get("PTEST_PLUGINS_DISABLED", "")) or _list(table, "disabled")
    resolved = [p if p.is_absolute() else root / p for p in map(Path, paths)]
    return [p.resolve() for p in resolved if p.exists()], disabled


def _plugins_table(folders: list[Path]) -> tuple[Path, Any]:
    """The workspace folder and its raw ``[plugins]`` table (None when it has none)."""
    for folder in folders:
        for name in ("ptest.toml", "pyproject.toml"):
            try:
                raw = (folder / name).read_bytes()
            except OSError:
                continue
            if name == "pyproject.toml" and b"tool.ptest" not in raw:
                continue
            if b"plugins" not in raw:  # most workspaces have none: no TOML parsing then
                return folder, None
            import tomllib

            try:
                data: Any = tomllib.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return folder, None
            if name == "pyproject.toml":
                data = data.get("tool", {}).get("ptest", {})
            return folder, data.get("plugins") if isinstance(data, dict) else None
    return folders[0], None


def _list(table: Any, key: str) -> list[str]:
    value = table.get(key) if isinstance(table, dict) else None
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
