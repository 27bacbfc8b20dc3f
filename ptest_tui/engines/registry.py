"""The engine registry: engine classes collected from every plugin's registration hook."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ptest_tui.config.model import Config
from ptest_tui.engines.base import EngineContext, IsolationEngine
from ptest_tui.errors import PluginError, UsageError


class EngineRegistry:
    """Maps isolation level names to engine classes and lazily built instances."""

    def __init__(self, context: EngineContext) -> None:
        self.context = context
        self._classes: dict[str, type[IsolationEngine]] = {}
        self._instances: dict[str, IsolationEngine] = {}
        self._lock = threading.Lock()

    def register(self, engine: type[IsolationEngine]) -> None:
        """Add one engine class; a duplicate or nameless engine is a plugin error."""
        if not (isinstance(engine, type) and issubclass(engine, IsolationEngine)):
            raise PluginError(f"{engine!r} is not an IsolationEngine subclass", "fix the plugin")
        name = getattr(engine, "name", "")
        if not name or name == "auto":
            raise PluginError(f"engine {engine!r} has no usable name", "set a class attribute name")
        if name in self._classes and self._classes[name] is not engine:
            raise PluginError(
                f"two plugins register an engine named {name!r}", "uninstall one of them"
            )
        self._classes[name] = engine

    def register_all(self, results: Iterable[object]) -> None:
        """Register what each plugin's ``ptest_register_engines`` returned."""
        for engines in results:
            if engines is None:
                continue
            if not isinstance(engines, list | tuple):
                raise PluginError(
                    f"ptest_register_engines returned {engines!r}", "return a list of classes"
                )
            for engine in engines:
                self.register(engine)  # checks that it is an IsolationEngine class

    def set_config(self, config: Config) -> None:
        """Serve a reloaded configuration: engines are rebuilt on their next use."""
        from dataclasses import replace

        with self._lock:
            self.context = replace(self.context, config=config)
            self._instances.clear()

    def names(self) -> list[str]:
        """Registered level names, built-ins first in their natural order."""
        order = {"basic": 0, "virtualenv": 1, "docker": 2}
        return sorted(self._classes, key=lambda n: (order.get(n, 9), n))

    def capabilities(self) -> dict[str, frozenset[str]]:
        """What each engine can honour, for the isolation manager."""
        return {name: cls.capabilities for name, cls in self._classes.items()}

    def get(self, name: str) -> IsolationEngine:
        """The engine instance for ``name``; unknown names are a usage error."""
        if name not in self._classes:
            raise UsageError(
                f"unknown isolation level {name!r}", "use one of: auto, " + ", ".join(self.names())
            )
        with self._lock:
            if name not in self._instances:
                self._instances[name] = self._classes[name](self.context)
            return self._instances[name]
