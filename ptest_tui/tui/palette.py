"""The command palette's entries: every action of the app with its key, and the themes."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

if TYPE_CHECKING:
    from ptest_tui.tui.app import PtestApp


def app_commands(app: PtestApp) -> Iterator[SystemCommand]:
    """The same actions as the keys (the key in each description), one entry per theme."""
    actions = (
        ("Create environment", "Open the create dialog (c)", app.action_create),
        ("Delete environment", "Delete the selected environment (d)", app.action_delete),
        ("Run a command", "Run a command in the selected environment (e)", app.action_exec),
        ("Repair environment", "Rebuild the selected broken environment (R)",
         app.action_repair),
        ("Clean up", "Remove broken environments and leftovers (x)", app.action_cleanup),
        ("Stop", "Stop what runs in the selected environment (S)", app.action_stop),
        ("Refresh", "Re-read environments and engine status (Ctrl+R)",
         app.action_refresh),
        ("Uninstall packages", "Pick a package of the selected env to remove (u)",
         app.action_uninstall),
        ("Filter environments", "Focus the table filter (/)", app.action_filter),
        ("Clear log", "Empty the log pane (Ctrl+L)", app.action_clear_log),
        ("Migrate environment", "Rebuild the selected env at another level (m)",
         app.action_migrate),
        ("Snapshot or restore", "Snapshot the selected env, or restore one (s)",
         app.action_snapshot),
        ("Install packages", "Install into the selected environment (i)",
         app.action_install),
        ("Run suites", "Choose suites, envs and parallelism, then run (r)",
         app.action_run),
        ("Run a plan", "Run a batch plan file, as --batch does (4, P)",
         partial(app._in_pane, "results", "action_run_plan")),
        ("Lock packages", "Write the selected env's lock file (2, l)",
         partial(app._in_pane, "packages", "action_lock")),
        ("Check packages", "Missing and conflicting requirements (2, K)",
         partial(app._in_pane, "packages", "action_check")),
        ("Rerun failed", "Rerun what failed in the selected run (4, F)",
         partial(app._in_pane, "results", "action_rerun_failed")),
        ("Open the HTML report", "Of the selected run, written first if missing (4, h)",
         partial(app._in_pane, "results", "action_report")),
        ("Show resources", "Live CPU, memory and disk I/O graphs (3)",
         partial(app.action_pane, "resources")),
        ("Follow an object's log", "The selected test object's log (o, L)",
         partial(app._in_pane, "objects", "action_log")),
        ("Add an object", "A database, web app or service (o, a)",
         partial(app._in_pane, "objects", "action_add")),
        ("Start or stop the object", "The selected test object (o, o)",
         partial(app._in_pane, "objects", "action_start_stop")),
        ("Keys", "Show every key (?)", app.action_help),
    )
    for title, help_text, callback in actions:
        yield SystemCommand(title, help_text, callback)
    for theme in app.themes:
        yield SystemCommand(
            f"Switch theme: {theme.name}",
            f"Use the {theme.name} theme {app.theme_library.origin(theme.name)}"
            " (saved in ptest.toml)",
            partial(app.switch_theme, theme.name),
        )
