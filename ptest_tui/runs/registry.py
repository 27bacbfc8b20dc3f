"""The case kind registry: Case classes collected from every plugin's hook."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ptest_tui.errors import ConfigError, PluginError
from ptest_tui.runs.cases.base import Case, CaseSpec


class CaseRegistry:
    """Maps case kind names to Case classes."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Case]] = {}

    def register(self, kind: type[Case]) -> None:
        """Add one class; a duplicate or nameless kind is a plugin error."""
        if not (isinstance(kind, type) and issubclass(kind, Case)):
            raise PluginError(f"{kind!r} is not a Case subclass", "fix the plugin")
        name = getattr(kind, "kind", "")
        if not name:
            raise PluginError(f"case class {kind!r} has no kind", "set a class attribute kind")
        if name in self._classes and self._classes[name] is not kind:
            raise PluginError(f"two plugins register a case kind named {name!r}", "")
        self._classes[name] = kind

    def register_all(self, results: Iterable[object]) -> None:
        """Register what each plugin's ``ptest_register_cases`` returned."""
        for kinds in results:
            if kinds is None:
                continue
            if not isinstance(kinds, list | tuple):
                raise PluginError(f"ptest_register_cases returned {kinds!r}", "return a list")
            for kind in kinds:
                self.register(kind)

    def kinds(self) -> list[str]:
        """Registered kind names, sorted."""
        return sorted(self._classes)

    def build(self, spec: CaseSpec) -> Case:
        """An instance for ``spec``, its settings checked (ConfigError naming the key)."""
        if spec.kind not in self._classes:
            close = difflib.get_close_matches(spec.kind, self.kinds(), n=1)
            raise ConfigError(
                f"{spec.where or spec.name}: unknown case kind {spec.kind!r}",
                f"did you mean {close[0]!r}?" if close else "kinds: " + ", ".join(self.kinds()),
            )
        case = self._classes[spec.kind](spec)
        case.validate()
        return case
