"""The command palette's entries: every action of the app with its key, and the themes."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from ptest_tui.tui.keys import key_label

if TYPE_CHECKING:
    from ptest_tui.tui.app import PtestApp


def app_commands(app: PtestApp) -> Iterator[SystemCommand]:
    """The same actions as the keys (the key in use in each description), one per theme."""
    key = partial(key_label, app.keys_in_use)
    actions = (
        ("Create environment", f"Open the create dialog ({key('create')})", app.action_create),
        ("Delete environment", f"Delete the selected environment ({key('delete')})",
         app.action_delete),
        ("Run a command", f"Run a command in the selected environment ({key('exec')})",
         app.action_exec),
        ("Repair environment", f"Rebuild the selected broken environment ({key('repair')})",
         app.action_repair),
        ("Clean up", f"Remove broken environments and leftovers ({key('cleanup')})",
         app.action_cleanup),
        ("Stop", f"Stop what runs in the selected environment ({key('stop')})", app.action_stop),
        ("Refresh", f"Re-read environments and engine status ({key('refresh')})",
         app.action_refresh),
        ("Uninstall packages", f"Pick a package of the selected env to remove ({key('uninstall')})",
         app.action_uninstall),
        ("Filter environments", f"Focus the table filter ({key('filter')})", app.action_filter),
        ("Clear log", f"Empty the log pane ({key('clear_log')})", app.action_clear_log),
        ("Migrate environment", f"Rebuild the selected env at another level ({key('migrate')})",
         app.action_migrate),
        ("Snapshot or restore", f"Snapshot the selected env, or restore one ({key('snapshot')})",
         app.action_snapshot),
        ("Install packages", f"Install into the selected environment ({key('install')})",
         app.action_install),
        ("Run suites", f"Choose suites, envs and parallelism, then run ({key('run')})",
         app.action_run),
        ("Run a plan", f"Run a batch plan file, as --batch does ({key('pane_results')}, P)",
         partial(app._in_pane, "results", "action_run_plan")),
        ("Lock packages", f"Write the selected env's lock file ({key('pane_packages')}, l)",
         partial(app._in_pane, "packages", "action_lock")),
        ("Check packages", f"Missing and conflicting requirements ({key('pane_packages')}, K)",
         partial(app._in_pane, "packages", "action_check")),
        ("Rerun failed", f"Rerun what failed in the selected run ({key('pane_results')}, F)",
         partial(app._in_pane, "results", "action_rerun_failed")),
        ("Open the HTML report",
         f"Of the selected run, written first if missing ({key('pane_results')}, h)",
         partial(app._in_pane, "results", "action_report")),
        ("Show resources", f"Live CPU, memory and disk I/O graphs ({key('pane_resources')})",
         partial(app.action_pane, "resources")),
        ("Follow an object's log", f"The selected test object's log ({key('objects')}, L)",
         partial(app._in_pane, "objects", "action_log")),
        ("Add an object", f"A database, web app or service ({key('objects')}, a)",
         partial(app._in_pane, "objects", "action_add")),
        ("Start or stop the object", f"The selected test object ({key('objects')}, o)",
         partial(app._in_pane, "objects", "action_start_stop")),
        ("Keys", f"Show every key ({key('help')})", app.action_help),
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
