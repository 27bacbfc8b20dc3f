"""Open the full-screen app (what ``ptest-tui`` does with no subcommand).

Textual is imported only here, inside the function, so every other command starts without
it. The session is opened first: a missing workspace or a bad config is reported as one
line (with the ``ptest-tui init`` hint) before the screen is taken over. In a terminal, a
folder without a workspace gets an offer instead (``tui/screens/init_workspace.py``): create
the starter ptest.toml ``ptest-tui init`` writes and open the app on it, or quit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ptest_tui.cli.common import open_session
from ptest_tui.errors import ExitCode, UsageError


def missing_workspace(args: argparse.Namespace) -> Path | None:
    """The folder to offer a new ptest.toml in, when the app would find no workspace."""
    from ptest_tui.config.loader import find_workspace

    if getattr(args, "workspace", None):
        folder = Path(args.workspace).expanduser().resolve()
        # A missing folder stays an error (a typo should not create a workspace).
        return folder if folder.is_dir() and find_workspace(folder) != folder else None
    here = Path.cwd().resolve()
    return here if find_workspace(here) is None else None


def run_app(args: argparse.Namespace) -> int:
    """Run the app on the workspace from ``--workspace`` (or found from the current folder)."""
    folder = missing_workspace(args) if _interactive() else None
    if folder is not None:
        from ptest_tui.tui.screens.init_workspace import offer_workspace

        written = offer_workspace(folder)
        if written is None:
            print(f"nothing created; `ptest-tui init` writes a starter ptest.toml in {folder}")
            return int(ExitCode.OK)
        args.workspace = str(folder)  # open exactly the new workspace
    session = open_session(args)
    try:
        if not _interactive():
            raise UsageError(
                "the full-screen app needs a terminal",
                "run it in a terminal, or use a subcommand such as `ptest-tui env list`",
            )
        from ptest_tui.tui.app import PtestApp

        result = PtestApp(session).run()
        return int(result) if result is not None else int(ExitCode.OK)
    finally:
        session.close()


def _interactive() -> bool:
    """Whether a person is at a terminal (the app and the offer need one)."""
    return sys.stdin.isatty() and sys.stdout.isatty()
