"""The app's keys: every main-screen binding with its id, help text and remapping.

Each binding has an id; ``[ui] keymap`` in ptest.toml remaps it by id
(``create = "n"``, or ``"n,ctrl+n"`` for alternatives). The help screen and the command
palette show the keys in use (:func:`bindings_in_use`), so a remapped key shows
everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from textual.binding import Binding, BindingType

# Each binding has an id: [ui] keymap in ptest.toml remaps it (create = "n").
APP_BINDINGS: list[BindingType] = [
    Binding("c", "create", "Create", id="create",
            tooltip="Create an environment (dialog)"),
    Binding("d", "delete", "Delete", id="delete",
            tooltip="Delete the selected environment (asks first)"),
    Binding("e", "exec", "Exec", id="exec",
            tooltip="Run a command in the selected environment; output goes to the log"),
    Binding("R", "repair", "Repair", show=False, id="repair",
            tooltip="Repair: rebuild the selected environment from its stored spec"),
    Binding("x", "cleanup", "Cleanup", show=False, id="cleanup",
            tooltip="Clean up broken environments and leftovers (asks first)"),
    Binding("S", "stop", "Stop", show=False, id="stop",
            tooltip="Stop what runs in the selected environment"),
    Binding("m", "migrate", "Migrate", id="migrate",
            tooltip="Migrate the selected environment to another isolation level"),
    Binding("s", "snapshot", "Snapshot", id="snapshot",
            tooltip="Snapshot the selected environment, or restore one of its snapshots"),
    Binding("i", "install", "Install", show=False, id="install",
            tooltip="Install packages into the selected environment"),
    Binding("o", "objects", "Objects", show=False, id="objects",
            tooltip="Go to the test objects (start, stop, add)"),
    Binding("1", "pane('envs')", "Envs", show=False, id="pane_envs",
            tooltip="Show the environments pane"),
    Binding("2", "pane('packages')", "Packages", show=False, id="pane_packages",
            tooltip="Show the packages of the selected environment"),
    Binding("3", "pane('resources')", "Resources", show=False, id="pane_resources",
            tooltip="Show live resource graphs"),
    Binding("4", "pane('results')", "Results", show=False, id="pane_results",
            tooltip="Show test runs and their results"),
    Binding("r", "run", "Run", id="run",
            tooltip="Run suites in the selected environment (dialog)"),
    Binding("u", "uninstall", "Uninstall", show=False, id="uninstall",
            tooltip="Uninstall packages: the selected env's packages, to pick from"),
    Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="refresh",
            tooltip="Refresh now (the list also refreshes itself every 2 s)"),
    Binding("slash", "filter", "Filter", show=False, id="filter",
            tooltip="Filter the table as you type"),
    Binding("question_mark", "help", "Help", id="help", tooltip="This list of keys"),
    Binding("ctrl+l", "clear_log", "Clear log", show=False, id="clear_log",
            tooltip="Empty the log pane"),
    Binding("q", "leave", "Quit", id="leave",
            tooltip="Quit (running commands are stopped first)"),
]

# Actions of the main screen: off while a dialog is open (Esc closes it first).
MAIN_SCREEN_ACTIONS = frozenset(
    {"create", "delete", "exec", "repair", "cleanup", "stop", "refresh", "filter", "help",
     "clear_log", "leave", "migrate", "snapshot", "install", "objects", "pane", "run",
     "uninstall"}
)


def checked_keymap(
    keymap: Mapping[str, str], bindings: Iterable[BindingType]
) -> tuple[dict[str, str], str]:
    """The ``[ui] keymap`` entries that name a binding id, and a warning for the rest."""
    known = {b.id for b in bindings if isinstance(b, Binding) and b.id}
    unknown = sorted(set(keymap) - known)
    problem = ""
    if unknown:
        problem = (f"ui.keymap: unknown action {', '.join(unknown)}"
                   f"\nhint: actions: {', '.join(sorted(known))}")
    return {k: v for k, v in keymap.items() if k in known}, problem


def bindings_in_use(
    bindings: Iterable[BindingType], keymap: Mapping[str, str]
) -> list[BindingType]:
    """``bindings`` with the keys ``keymap`` gives their ids (for help and the palette)."""
    return [
        dataclasses.replace(b, key=keymap[b.id])
        if isinstance(b, Binding) and b.id and b.id in keymap else b
        for b in bindings
    ]


def key_label(bindings: Iterable[BindingType], binding_id: str) -> str:
    """The first key of binding ``binding_id`` as a person types it (``c``, ``Ctrl+R``)."""
    from ptest_tui.tui.screens.help import DISPLAY, pretty_key

    for b in bindings:
        if isinstance(b, Binding) and b.id == binding_id:
            first = b.key.split(",")[0].strip()
            return DISPLAY.get(first, pretty_key(first))
    raise KeyError(binding_id)

