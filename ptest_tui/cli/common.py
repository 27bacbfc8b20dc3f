"""Helpers shared by subcommands: opening the session, JSON and table output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported lazily: subcommands use these helpers in register(), and `--help` must not
    # pay for loading the engine core.
    from ptest_tui.session import Session


def open_session(args: argparse.Namespace) -> Session:
    """The Session for the global ``--workspace`` and ``--set`` options."""
    from ptest_tui.session import Session

    workspace = Path(args.workspace) if getattr(args, "workspace", None) else None
    return Session.open(workspace=workspace, overrides=getattr(args, "overrides", []))


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout."""
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> None:
    """A rich table on a terminal; tab-separated plain lines otherwise (for pipes)."""
    if not sys.stdout.isatty():
        print("\t".join(h.upper() for h in headers))
        for row in rows:
            print("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, header_style="bold")
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """The ``--json`` option every listing command has."""
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")
