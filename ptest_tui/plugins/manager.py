"""Build the plugin manager: built-ins first, then entry points, then collect registrations."""

from __future__ import annotations

import logging
import sys

import pluggy

from ptest_tui.plugins import hookspecs

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "ptest_tui"


def build_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs, the built-ins and installed plugins."""
    from ptest_tui.engines import builtin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    # Registered under its entry-point name so the entry point is not loaded twice.
    manager.register(builtin, name="builtin_engines")
    if load_entry_points:
        try:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken third-party plugin must not break ptest-tui
            log.warning("could not load ptest_tui plugins: %s", exc)
            print(f"warning: a ptest_tui plugin failed to load: {exc}", file=sys.stderr)
    return manager
