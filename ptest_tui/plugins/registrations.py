"""Collecting what plugins register, each plugin isolated from the others.

The session uses these for engines, case kinds and report formats, the object service for
object kinds; ``plugins list`` uses :func:`plugin_inventory` to show who registers what.
A plugin whose hook raises or returns something invalid is failed (logged by name,
disabled); what the other plugins register still counts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ptest_tui.errors import PluginError
from ptest_tui.plugins.manager import PtestPluginManager
from ptest_tui.reports.plugin_formats import Reporter, check_reporter
from ptest_tui.reports.prepare import PreparedReport

REGISTRATION_HOOKS = {
    "engines": ("ptest_register_engines", "name"),
    "object_kinds": ("ptest_register_objects", "kind"),
    "case_kinds": ("ptest_register_cases", "kind"),
    "reporters": ("ptest_register_reporters", "name"),
}


def register_each(
    manager: PtestPluginManager, hook_name: str, register: Callable[[Any], None]
) -> None:
    """Call ``hook_name`` of every plugin and pass each result to ``register``; a plugin
    whose hook or registration raises is failed and the others go on."""
    for plugin, result in manager.collect(hook_name):
        try:
            register(result)
        except Exception as exc:
            manager.fail(plugin, hook_name, exc)


def collect_reporters(manager: PtestPluginManager) -> dict[str, Reporter]:
    """Report formats from plugins by name, each render guarded (a raise fails its plugin).

    A plugin's formats are taken all or none: one invalid entry fails the plugin.
    """
    from ptest_tui.reports import FILE_NAMES

    taken = dict.fromkeys(FILE_NAMES, "ptest-tui")
    files = {file: name for name, file in FILE_NAMES.items()}
    found: dict[str, Reporter] = {}
    for plugin, result in manager.collect("ptest_register_reporters"):
        if result is None:
            continue
        try:
            if not isinstance(result, list | tuple):
                raise PluginError(
                    f"ptest_register_reporters returned {result!r}", "return a list of Reporter"
                )
            batch: dict[str, Reporter] = {}
            for reporter in result:
                check_reporter(reporter, {**taken, **dict.fromkeys(batch, plugin)}, {
                    **files, **{r.file_name: r.name for r in batch.values()}
                })
                batch[reporter.name] = _guarded(manager, plugin, reporter)
        except Exception as exc:
            manager.fail(plugin, "ptest_register_reporters", exc)
            continue
        for name, reporter in batch.items():
            found[name] = reporter
            taken[name] = plugin
            files[reporter.file_name] = name
    return found


def _guarded(manager: PtestPluginManager, plugin: str, reporter: Reporter) -> Reporter:
    original = reporter.render

    def render(report: PreparedReport) -> bytes | str:
        if manager.is_failed(plugin):
            raise PluginError(f"plugin {plugin} is disabled after an earlier failure", "")
        try:
            return original(report)
        except Exception as exc:
            manager.fail(plugin, f"report {reporter.name}", exc)
            raise PluginError(f"plugin {plugin} failed in report {reporter.name}", "") from exc

    return replace(reporter, render=render, plugin=plugin)


def plugin_inventory(manager: PtestPluginManager) -> list[dict[str, Any]]:
    """Every known plugin (loaded, failed or disabled) with what it registers.

    Registration hooks are called again for this (they are meant to be side-effect free);
    one that raises or returns something invalid fails its plugin, as in a real session.
    """
    registers: dict[str, dict[str, list[str]]] = {
        name: {key: [] for key in (*REGISTRATION_HOOKS, "commands", "hooks")}
        for name in manager.infos
    }
    for key, (hook_name, attr) in REGISTRATION_HOOKS.items():
        for plugin, result in manager.collect(hook_name):
            try:
                names = _names(hook_name, result, attr)
            except PluginError as exc:
                manager.fail(plugin, hook_name, exc)
                continue
            registers[plugin][key].extend(names)
    for plugin, commands in command_names(manager).items():
        registers[plugin]["commands"] = commands
    for name in manager.infos:
        loaded = manager.get_plugin(name)
        callers = manager.get_hookcallers(loaded) if loaded is not None else None
        registers[name]["hooks"] = sorted(
            c.name for c in callers or [] if not c.name.startswith("ptest_register_")
        )
    return [
        {**info.to_dict(), "registers": registers[name]}
        for name, info in manager.infos.items()
    ]


def command_names(manager: PtestPluginManager) -> dict[str, list[str]]:
    """The subcommands each plugin adds, found by letting it add them to a scratch parser."""
    found: dict[str, list[str]] = {}
    for impl in manager.hook.ptest_register_commands.get_hookimpls():
        scratch = argparse.ArgumentParser(add_help=False).add_subparsers()
        for plugin, _ in manager._call_each("ptest_register_commands", [impl],
                                            {"subparsers": scratch}):
            found[plugin] = sorted(scratch.choices)
    return found


def _names(hook_name: str, result: Any, attr: str) -> list[str]:
    if result is None:
        return []
    if not isinstance(result, list | tuple):
        raise PluginError(f"{hook_name} returned {result!r}", "return a list")
    return [str(getattr(item, attr, None) or repr(item)) for item in result]
