"""``ptest-tui plugins list``: every plugin, where it came from and what it registers.

Outside a workspace only the built-ins and installed (entry-point) plugins are listed;
inside one, the ``[plugins] paths`` plugins too. Exit code 0 even when a plugin failed:
the listing is how one finds out (``state`` says ``failed`` and why).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ptest_tui.cli.common import add_json_flag, print_json, print_table
from ptest_tui.errors import ExitCode

# Short labels for the text listing.
_LABELS = {
    "engines": "engines",
    "object_kinds": "objects",
    "case_kinds": "cases",
    "reporters": "reports",
    "commands": "commands",
    "hooks": "hooks",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``plugins``."""
    plugins = subparsers.add_parser(
        "plugins", help="installed and configured plugins",
        description="Plugins: built-ins, the ptest_tui entry-point group and [plugins] paths;"
        " see docs/plugins.md.",
    )
    plugins.set_defaults(handler=lambda _a: _usage(plugins))
    sub = plugins.add_subparsers(dest="plugins_command", metavar="ACTION")
    listing = sub.add_parser(
        "list", help="each plugin's name, version, origin, state and what it registers"
    )
    listing.add_argument("--no-builtins", action="store_true", help="leave the built-ins out")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _inventory(args: argparse.Namespace) -> list[dict[str, Any]]:
    from ptest_tui.cli.common import open_session
    from ptest_tui.errors import WorkspaceError
    from ptest_tui.plugins.manager import build_plugin_manager
    from ptest_tui.plugins.registrations import plugin_inventory

    try:
        session = open_session(args)
    except WorkspaceError:
        return plugin_inventory(build_plugin_manager())  # no workspace: no path plugins
    with session:
        return plugin_inventory(session.plugins)


def _list(args: argparse.Namespace) -> int:
    rows = _inventory(args)
    if args.no_builtins:
        rows = [row for row in rows if row["source"] != "builtin"]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no plugins: see docs/plugins.md to write or install one")
        return 0
    print_table(
        ["name", "version", "source", "from", "state", "registers"],
        [[row["name"], row["version"] or "-", row["source"], _origin(row), _state(row),
          _registers(row["registers"])] for row in rows],
    )
    return 0


def _origin(row: dict[str, Any]) -> str:
    if row["source"] == "entry point" and row["distribution"]:
        return f"{row['distribution']} ({row['origin']})"
    return str(row["file"] or row["origin"])


def _state(row: dict[str, Any]) -> str:
    if row["state"] == "failed":
        where = f" in {row['hook']}" if row["hook"] and row["hook"] != "load" else ""
        return f"failed{where}: {row['reason']}"
    if row["state"] == "disabled":
        return "disabled (config)"
    return str(row["state"])


def _registers(registers: dict[str, list[str]]) -> str:
    parts = [
        f"{_LABELS[key]}: {', '.join(names)}" for key, names in registers.items() if names
    ]
    return "; ".join(parts) or "-"
