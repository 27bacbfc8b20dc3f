"""``${VAR}`` and ``${VAR:-default}`` in plan values, from the environment.

Substitution happens after TOML parsing, in string values only (keys and the TOML syntax
are never touched), so a variable cannot change a plan's structure. ``${VAR:-default}``
takes the default when VAR is unset or empty, as a POSIX shell does; ``$${`` writes a
literal ``${``. An unset variable without a default is an error naming it and where it is
used, so a plan never runs with a silently empty value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ptest_tui.errors import ConfigError

_REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def expand(text: str, environ: Mapping[str, str], where: str, path: str) -> str:
    """``text`` with every ``${...}`` reference replaced (ConfigError for a bad one)."""

    def replace(match: re.Match[str]) -> str:
        escaped, inner = match.group(1), match.group(2)
        if escaped:
            return "${" + inner + "}"
        name, sep, default = inner.partition(":-")
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{where}: {path}: bad variable reference ${{{inner}}}",
                "write ${NAME} or ${NAME:-default} (NAME: letters, digits and _); "
                "$${ gives a literal ${",
            )
        value = environ.get(name, "")
        if value:
            return value
        if sep:
            return default
        if name in environ:
            return ""  # set but empty: the plan asked for the variable, not for a default
        raise ConfigError(
            f"{where}: {path}: ${{{name}}} is not set",
            f"set {name} in the environment, or write ${{{name}:-default}}",
        )

    return _REFERENCE.sub(replace, text)


def expand_all(data: Any, environ: Mapping[str, str], where: str, path: str = "") -> Any:
    """A copy of parsed TOML ``data`` with every string value expanded."""
    if isinstance(data, str):
        return expand(data, environ, where, path or "value")
    if isinstance(data, dict):
        return {
            key: expand_all(value, environ, where, f"{path}.{key}" if path else key)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [expand_all(item, environ, where, f"{path}[{i}]") for i, item in enumerate(data)]
    return data
