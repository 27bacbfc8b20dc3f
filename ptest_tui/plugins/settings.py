"""``[plugins.NAME]`` tables: settings a plugin reads with ``session.config.plugins``.

ptest-tui does not know what a plugin expects, so it only checks the shape: a table of
plain values (strings, numbers, booleans, lists of those). The plugin checks the rest and
raises (and is then reported and disabled) when a value is wrong.
"""

from __future__ import annotations

from typing import Any

from ptest_tui.errors import ConfigError

_PLAIN = (str, int, float, bool)


def check_plugin_settings(section: Any, where: str) -> dict[str, dict[str, Any]]:
    """The ``[plugins.NAME]`` sub-tables of ``section``, checked (ConfigError naming the
    key otherwise)."""
    if not isinstance(section, dict):
        return {}
    tables: dict[str, dict[str, Any]] = {}
    for name, table in section.items():
        if not isinstance(table, dict):
            continue  # paths, disabled: checked by the schema
        for key, value in table.items():
            plain = isinstance(value, _PLAIN) or (
                isinstance(value, list) and all(isinstance(v, _PLAIN) for v in value)
            )
            if not plain:
                raise ConfigError(
                    f"{where}: plugins.{name}.{key}: expected a string, number, boolean or"
                    f" list of them, got {value!r}",
                    f"fix plugins.{name}.{key} in {where}",
                )
        tables[name] = dict(table)
    return tables
