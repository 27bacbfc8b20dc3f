"""The object kind registry: TestObject classes collected from every plugin's hook."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ptest_tui.errors import PluginError, UsageError
from ptest_tui.objects.base import ObjectSpec, TestObject

# Settings every kind accepts.
COMMON_KEYS: Mapping[str, str] = {
    "kind": "the object kind (sqlite, postgres, mysql, mariadb, redis, web, service, ...)",
    "runtime": "where it runs: process (host) or docker (a container); kinds choose the default",
    "port": "auto (default) or a fixed port",
    "description": "free text shown in listings",
}


class ObjectRegistry:
    """Maps kind names to TestObject classes."""

    def __init__(self) -> None:
        self._classes: dict[str, type[TestObject]] = {}

    def register(self, kind: type[TestObject]) -> None:
        """Add one class; a duplicate or nameless kind is a plugin error."""
        if not (isinstance(kind, type) and issubclass(kind, TestObject)):
            raise PluginError(f"{kind!r} is not a TestObject subclass", "fix the plugin")
        name = getattr(kind, "kind", "")
        if not name:
            raise PluginError(f"object class {kind!r} has no kind", "set a class attribute kind")
        if name in self._classes and self._classes[name] is not kind:
            raise PluginError(
                f"two plugins register an object kind named {name!r}", "uninstall one of them"
            )
        self._classes[name] = kind

    def register_all(self, results: Iterable[object]) -> None:
        """Register what each plugin's ``ptest_register_objects`` returned."""
        for kinds in results:
            if kinds is None:
                continue
            if not isinstance(kinds, list | tuple):
                raise PluginError(
                    f"ptest_register_objects returned {kinds!r}", "return a list of classes"
                )
            for kind in kinds:
                self.register(kind)

    def kinds(self) -> list[str]:
        """Registered kind names, sorted."""
        return sorted(self._classes)

    def get(self, kind: str) -> type[TestObject]:
        """The class for ``kind``; unknown kinds are a usage error with a suggestion."""
        if kind not in self._classes:
            close = difflib.get_close_matches(kind, self.kinds(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "kinds: " + ", ".join(self.kinds())
            raise UsageError(f"unknown object kind {kind!r}", hint)
        return self._classes[kind]

    def check_settings(self, spec: ObjectSpec, where: str) -> None:
        """Refuse settings the kind does not know, and runtimes it cannot use."""
        cls = self.get(spec.kind)
        known: dict[str, Any] = {**COMMON_KEYS, **cls.settings_doc}
        for key in spec.settings:
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f"did you mean {close[0]!r}?" if close else (
                    f"{spec.kind} settings: " + ", ".join(sorted(known))
                )
                raise UsageError(f"{where}: unknown setting {key!r} for a {spec.kind}", hint)
        runtime = spec.settings.get("runtime")
        if runtime and runtime not in cls.runtimes:
            raise UsageError(
                f"{where}: a {spec.kind} cannot use runtime {runtime!r}",
                "runtimes: " + ", ".join(cls.runtimes),
            )
