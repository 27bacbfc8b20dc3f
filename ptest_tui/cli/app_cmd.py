"""Open the full-screen app (what ``ptest-tui`` does with no subcommand).

Textual is imported only here, inside the function, so every other command starts without
it. The session is opened first: a missing workspace or a bad config is reported as one
line (with the ``ptest-tui init`` hint) before the screen is taken over.
"""

from __future__ import annotations

import argparse
import sys

from ptest_tui.cli.common import open_session
from ptest_tui.errors import ExitCode, UsageError


def run_app(args: argparse.Namespace) -> int:
    """Run the app on the workspace from ``--workspace`` (or found from the current folder)."""
    session = open_session(args)
    try:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError(
                "the full-screen app needs a terminal",
                "run it in a terminal, or use a subcommand such as `ptest-tui env list`",
            )
        from ptest_tui.tui.app import PtestApp

        result = PtestApp(session).run()
        return int(result) if result is not None else int(ExitCode.OK)
    finally:
        session.close()
