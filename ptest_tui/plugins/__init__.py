"""Plugins: pluggy hookspecs and the manager that loads built-ins and entry points."""

from ptest_tui.plugins.hookspecs import hookimpl, hookspec
from ptest_tui.plugins.manager import build_plugin_manager

__all__ = ["build_plugin_manager", "hookimpl", "hookspec"]
