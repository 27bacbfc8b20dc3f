"""Plugins from paths: ``[plugins] paths`` in ptest.toml (files or folders of modules).

A path is relative to the workspace folder. A file (``hooks.py``) is one plugin named after
its stem; a folder holding an ``__init__.py`` is one package plugin named after the folder;
any other folder contributes each ``*.py`` module and each package inside it (names
starting with ``_`` or ``.`` are skipped), in name order.

Modules are imported under a private name derived from their resolved path
(``ptest_tui_path_plugin_<stem>_<hash>``), so two workspaces with a ``hooks.py`` each do not
clash, and a module loaded twice in one process (the CLI parser, then the session) is the
same module object.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ptest_tui.errors import ConfigError, PluginError

if TYPE_CHECKING:
    from ptest_tui.config.model import Config


@dataclass(frozen=True)
class PluginSources:
    """Where plugins come from besides the built-ins and entry points."""

    paths: tuple[Path, ...] = ()  # resolved files and folders, in config order
    disabled: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PathModule:
    """One plugin module found under a configured path."""

    name: str  # the plugin's name: the file's stem or the package folder's name
    file: Path  # the .py file, or the package's __init__.py


def sources_from_config(config: Config) -> PluginSources:
    """The ``[plugins]`` section resolved against the workspace.

    Raises ConfigError naming ``plugins.paths`` when an entry does not exist, so a typo is
    reported instead of silently running without the plugin.
    """
    settings = config.plugins
    where = config.sources[0] if config.sources else "ptest.toml"
    resolved: list[Path] = []
    for entry in settings.paths:
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else config.root / path
        if not path.exists():
            raise ConfigError(
                f"{where}: plugins.paths: {entry!r} does not exist (looked for {path})",
                "fix plugins.paths: files or folders of plugin modules, relative to the"
                f" workspace folder {config.root}",
            )
        if not (path.is_dir() or path.suffix == ".py"):
            raise ConfigError(
                f"{where}: plugins.paths: {entry!r} is neither a folder nor a .py file",
                "list Python files (hooks.py) or folders of them",
            )
        resolved.append(path.resolve())
    return PluginSources(tuple(resolved), frozenset(settings.disabled))


def modules_under(paths: Iterable[Path]) -> list[PathModule]:
    """Every plugin module the configured paths name, in config order then name order."""
    found: list[PathModule] = []
    for path in paths:
        if path.is_file():
            found.append(PathModule(path.stem, path))
        elif (path / "__init__.py").is_file():
            found.append(PathModule(path.name, path / "__init__.py"))
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if child.name.startswith(("_", ".")):
                    continue
                if child.is_file() and child.suffix == ".py":
                    found.append(PathModule(child.stem, child))
                elif child.is_dir() and (child / "__init__.py").is_file():
                    found.append(PathModule(child.name, child / "__init__.py"))
    return found


def module_name(module: PathModule) -> str:
    """The private import name of a path plugin (stable for one resolved file)."""
    import hashlib  # here: the CLI parser imports this module on every command line

    digest = hashlib.sha256(str(module.file.resolve()).encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() else "_" for c in module.name)
    return f"ptest_tui_path_plugin_{stem}_{digest}"


def load_module(module: PathModule) -> ModuleType:
    """Import the plugin module (once per process); PluginError when it fails."""
    import importlib.util

    name = module_name(module)
    if name in sys.modules:
        return sys.modules[name]
    package = module.file.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, module.file,
        submodule_search_locations=[str(module.file.parent)] if package else None,
    )
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import {module.file}", "is it a Python file?")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # before exec: dataclasses and relative imports look it up
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return loaded
