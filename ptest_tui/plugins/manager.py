"""Build the plugin manager: built-ins first, then entry points, then collect registrations."""

from __future__ import annotations

import logging

import pluggy

from ptest_tui.errors import PluginError
from ptest_tui.plugins import hookspecs
from ptest_tui.plugins.discovery import discover

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "ptest_tui"


def build_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs, the built-ins and installed plugins.

    A plugin that fails to import is reported by name and skipped, so one broken plugin
    never stops ptest-tui.
    """
    from ptest_tui.engines import builtin
    from ptest_tui.objects import builtin as builtin_objects
    from ptest_tui.runs import kinds as builtin_cases

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    # Registered under its entry-point name so the entry point is not loaded twice.
    manager.register(builtin, name="builtin_engines")
    manager.register(builtin_objects, name="builtin_objects")
    manager.register(builtin_cases, name="builtin_cases")
    if not load_entry_points:
        return manager
    for ref in discover(ENTRY_POINT_GROUP):
        if manager.get_plugin(ref.name) is not None or manager.is_blocked(ref.name):
            continue
        try:
            manager.register(ref.load(), name=ref.name)
        except Exception as exc:
            error = PluginError(
                f"plugin {ref.name!r} ({ref.value}) failed to load: {exc}",
                "fix or uninstall that plugin",
            )
            log.warning("%s", error.one_line())
    return manager
