"""Reading a case's settings table: unknown keys and wrong types are ConfigErrors.

Every message names where the case is (``suites.api.cases[2]``) and the key path
(``expect.status``); an unknown key gets a difflib suggestion. Readers return plain,
checked Python values so the kinds can build frozen settings objects from them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ptest_tui.errors import ConfigError
from ptest_tui.runs.cases.base import CaseSpec

# Keys a configured case table may carry besides its kind's own settings; the runner
# reads them (the spec has them as fields), the kinds ignore them.
COMMON_KEYS = frozenset({"name", "kind", "timeout", "retries", "description"})


class Settings:
    """Typed access to one case's settings, raising ConfigError naming the key."""

    def __init__(self, spec: CaseSpec) -> None:
        self.spec = spec
        self.where = spec.where or f"case {spec.name!r}"

    def fail(self, path: str, expected: str, value: Any) -> ConfigError:
        """The error for ``path`` holding ``value`` instead of ``expected``."""
        return ConfigError(
            f"{self.where}: {path}: expected {expected}, got {value!r}",
            f"fix {path} in {self.where}",
        )

    def missing(self, path: str) -> ConfigError:
        """The error for a required ``path`` that is not set."""
        return ConfigError(
            f"{self.where}: {path} is required for a {self.spec.kind} case",
            f"add {path} = ... to {self.where}",
        )

    def check_keys(
        self, table: Mapping[str, Any], known: Mapping[str, str], prefix: str = ""
    ) -> None:
        """Refuse keys of ``table`` not in ``known`` (at the top level, common keys pass)."""
        for key in table:
            if key in known or (not prefix and key in COMMON_KEYS):
                continue
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else (
                "valid keys: " + ", ".join(sorted(known))
            )
            raise ConfigError(
                f"{self.where}: unknown setting {prefix + key!r} for a {self.spec.kind} case",
                hint,
            )

    def table(self, parent: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        """A sub-table (empty when absent)."""
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(path, "a table", value)
        return dict(value)

    def string(
        self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> str | None:
        """A string setting (None when absent and not required)."""
        value = parent.get(key)
        if value is None:
            if required:
                raise self.missing(path)
            return None
        if not isinstance(value, str):
            raise self.fail(path, "a string", value)
        return value

    def strings(self, parent: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        """A string or a list of strings, as a tuple (empty when absent)."""
        value = parent.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.fail(path, "a string or a list of strings", value)

    def integer(self, parent: Mapping[str, Any], key: str, path: str) -> int | None:
        """An integer setting (booleans are refused: TOML true is not 1)."""
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, "an integer", value)
        return value

    def integers(self, parent: Mapping[str, Any], key: str, path: str) -> tuple[int, ...]:
        """An integer or a list of integers, as a tuple (empty when absent)."""
        value = parent.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if not items or any(isinstance(i, bool) or not isinstance(i, int) for i in items):
            raise self.fail(path, "an integer or a list of integers", value)
        return tuple(items)

    def positive_number(self, parent: Mapping[str, Any], key: str, path: str) -> float | None:
        """A number above zero (seconds, milliseconds)."""
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(path, "a positive number", value)
        return float(value)

    def string_table(self, parent: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
        """A table of strings; numbers and booleans are taken as their text."""
        result: dict[str, str] = {}
        for name, value in self.table(parent, key, path).items():
            if isinstance(value, bool):
                result[name] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                result[name] = str(value)
            else:
                raise self.fail(f"{path}.{name}", "a string", value)
        return result
