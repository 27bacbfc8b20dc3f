"""Plugins: pluggy hookspecs, the manager that loads built-ins, entry points and path
plugins, and the bridge from the event bus to lifecycle hooks (docs/plugins.md).

The names below are imported on first use: the CLI parser imports
``ptest_tui.plugins.discovery`` on every command line (for plugin commands) and must not
pay for pluggy and the event types when no plugin is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ptest_tui.plugins.hookspecs import hookimpl, hookspec
    from ptest_tui.plugins.manager import PluginInfo, PtestPluginManager, build_plugin_manager

__all__ = ["PluginInfo", "PtestPluginManager", "build_plugin_manager", "hookimpl", "hookspec"]

_HOME = {
    "hookimpl": "hookspecs",
    "hookspec": "hookspecs",
    "PluginInfo": "manager",
    "PtestPluginManager": "manager",
    "build_plugin_manager": "manager",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'ptest_tui.plugins' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"ptest_tui.plugins.{_HOME[name]}"), name)
