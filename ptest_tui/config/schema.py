"""The configuration schema: every section, key, type, default and check.

Validation walks the merged raw data (plain dicts from TOML, environment variables and
flags) and reports the first problem as a :class:`ConfigError` naming the source file, the
key path and what was expected, with the nearest valid key for typos.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ptest_tui.config.units import (
    parse_memory_threshold,
    parse_percent,
    parse_seconds,
    parse_size,
)
from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.validation import (
    parse_cpus,
    parse_memory,
    parse_pids,
    parse_port_range,
    validate_name,
)

ISOLATION_CHOICES = ("auto", "basic", "virtualenv", "docker")
NETWORK_CHOICES = ("none", "bridge")
MOUNT_CHOICES = ("ro", "rw", "none")
INSTALLER_CHOICES = ("uv", "pip")
# What a POSIX shell accepts as a variable name; "A=B" or "1X" would break exec later.
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Field:
    """One configuration key: its kind, default, allowed values and description."""

    # "str", "int", "float", "bool", "memory", "cpus", "pids", "list", "table", "path";
    # [monitor]: "interval", "duration", "percent", "memthreshold", "size" (config/units.py)
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None


SECTIONS: dict[str, dict[str, Field]] = {
    "workspace": {
        "name": Field("str", "", "Display name of the workspace (default: the folder name)."),
    },
    "defaults": {
        "isolation": Field(
            "str",
            "auto",
            "Isolation level for new environments; auto picks from what the env needs.",
            choices=(),  # engines come from plugins; checked by the session
        ),
        "python": Field("str", "", "Default interpreter: a version such as 3.11 or a path."),
        "max_workers": Field(
            "int", 0, "Parallel workers for bulk operations; 0 means from the CPU count.", minimum=0
        ),
        "installer": Field(
            "str",
            "uv",
            "Package installer backend (older spelling of packages.installer; used when that"
            " is not set).",
            choices=INSTALLER_CHOICES,
        ),
    },
    "packages": {
        "installer": Field(
            "str", "", "Package installer: uv or pip (empty: defaults.installer).",
            choices=INSTALLER_CHOICES,
        ),
        "index_url": Field(
            "str", "", "Package index URL (empty: the installer's default, PyPI)."
        ),
        "extra_index_urls": Field("list", [], "More package indexes searched too."),
        "find_links": Field("list", [], "Folders or URLs of wheels searched too."),
        "offline": Field(
            "bool", False, "Never touch the network: only the cache and find_links."
        ),
        "prefer_cache": Field(
            "bool", True, "Try a cache-only install first (no index round trips when warm)."
        ),
    },
    "docker": {
        "image": Field(
            "str",
            "ptest-tui/python:3.11",
            "Image for docker environments; build it offline with `ptest-tui image build`.",
        ),
        "host": Field("str", "", "Docker host URL; empty means DOCKER_HOST or the local socket."),
        "network": Field("str", "none", "Network mode for env containers.", NETWORK_CHOICES),
        "workspace_mount": Field(
            "str", "ro", "How the workspace is mounted in containers.", MOUNT_CHOICES
        ),
        "mount_path": Field(
            "path", "/workspace", "Where the workspace appears in containers (absolute)."
        ),
        "pids": Field("pids", 0, "Default process limit per container; 0 means no limit."),
    },
    "image": {
        "suite": Field("str", "", "Debian suite for `image build`; empty picks one by Python."),
        "mirror": Field("str", "", "Debian mirror for `image build`; empty uses the host's."),
    },
    "objects": {
        "port_range": Field(
            "portrange", "20000-29999", "Ports the allocator hands out to objects (FIRST-LAST)."
        ),
        "run_as": Field(
            "str", "", "Account for host servers when run as root (empty: the kind's own"
            " account such as postgres, else nobody).",
        ),
    },
    "ui": {
        "theme": Field("str", "ptest-dark", "Theme of the full-screen app."),
        "keymap": Field(
            "table", {}, "Keys of the app by action: create = \"n\" (see `?` for actions)."
        ),
    },
    "monitor": {
        "interval": Field("interval", 1.0, "Seconds between samples (0.1 to 3600; 500ms works)."),
        "retention": Field(
            "duration", 600.0, "Seconds of samples kept per target (10m works; at most 1 day)."
        ),
        "cpu_percent": Field(
            "percent", 0.0, "Alert when an env or object uses more CPU (% of one core); 0: off."
        ),
        "memory": Field(
            "memthreshold", 0, "Alert above this memory: a size (512m) or a percent of the"
            " limit or host memory (80%); 0: off.",
        ),
        "disk_free": Field(
            "size", 0, "Alert when the workspace's disk has less free space (2g); 0: off."
        ),
    },
    # Thresholds of `ptest-tui advise` (ptest_tui/advise; docs/advise.md).
    "advise": {
        "idle_days": Field("int", 14, "Days without use after which an env is idle.", minimum=1),
        "runs": Field("int", 10, "Recent runs the slow and flaky rules look at.", minimum=1),
        "slowest": Field("int", 3, "Slow cases reported at most; 0: none.", minimum=0),
        "slow_share": Field(
            "percent", 10.0, "A slow case takes at least this % of the window's test time."
        ),
        "flaky_flips": Field(
            "int", 2, "Pass/fail flips in the window that make a case flaky.", minimum=1
        ),
        "memory_factor": Field(
            "int", 4, "A memory limit this many times the observed peak is too loose.",
            minimum=2,
        ),
    },
    # [plugins.NAME] tables are settings for one plugin (docs/plugins.md#settings).
    "plugins": {
        "paths": Field(
            "list", [], "Plugin modules to load: .py files or folders of them, relative to the"
            " workspace.",
        ),
        "disabled": Field("list", [], "Names of installed or path plugins not to load."),
    },
}

ENV_FIELDS: dict[str, Field] = {
    "isolation": Field("str", "auto", "basic, virtualenv, docker or auto."),
    "python": Field("str", "", "Interpreter version (3.11) or path."),
    "image": Field("str", "", "Container image (selects docker)."),
    "memory": Field("memory", None, "Memory limit such as 512m (selects docker)."),
    "cpus": Field("cpus", None, "CPU limit such as 1.5 (selects docker)."),
    "pids": Field("pids", None, "Process limit (docker)."),
    "network": Field("str", "", "none or bridge (selects docker when set).", NETWORK_CHOICES),
    "workspace_mount": Field("str", "", "ro, rw or none (docker).", MOUNT_CHOICES),
    "packages": Field("list", [], "Requirements to install (selects virtualenv)."),
    "env": Field("table", {}, "Extra environment variables for commands."),
    "description": Field("str", "", "Free text shown in listings."),
    # Checked after a restore or migration, before the name switches (docs/snapshots.md).
    "smoke": Field("list", [], "Command (argument list) that must pass after a migration."),
}


def _suggest(key: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(sorted(known))


def check_value(field: Field, value: Any, where: str, path: str) -> Any:
    """Check and normalise one value; raise ConfigError naming ``where`` and ``path``."""

    def fail(expected: str) -> ConfigError:
        return ConfigError(
            f"{where}: {path}: expected {expected}, got {value!r}",
            f"fix {path} in {where}",
        )

    checkers: dict[str, Callable[[Any], Any]] = {
        "memory": parse_memory,
        "cpus": parse_cpus,
        "pids": lambda v: 0 if v in (0, "0") else parse_pids(v),
        "portrange": lambda v: "{}-{}".format(*parse_port_range(v)),
        "interval": lambda v: parse_seconds(v, minimum=0.1, maximum=3600.0),
        "duration": lambda v: parse_seconds(v, minimum=1.0, maximum=86400.0),
        "percent": parse_percent,
        "memthreshold": lambda v: 0 if v in (0, "", "0") else parse_memory_threshold(v),
        "size": lambda v: 0 if v in (0, "", "0") else parse_size(v),
    }
    if value is None and field.default is None:
        return None
    if field.kind in checkers:
        try:
            return checkers[field.kind](value)
        except UsageError as exc:
            raise ConfigError(f"{where}: {path}: {exc.message}", exc.hint) from None
    if field.kind == "str":
        if not isinstance(value, str):
            raise fail("a string")
        if field.choices and value and value not in field.choices:
            raise fail("one of " + ", ".join(field.choices))
        return value
    if field.kind == "int":
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail("a whole number")
        if field.minimum is not None and value < field.minimum:
            raise fail(f"a number >= {field.minimum}")
        return value
    if field.kind == "bool":
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if field.kind == "list":
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail("a list of strings")
        return [v.strip() for v in value]
    if field.kind == "table":
        return _check_table(value, where, path, fail)
    if field.kind == "path":
        return _check_container_path(value, where, path, fail)
    raise AssertionError(f"unknown field kind {field.kind}")  # pragma: no cover


def _check_table(
    value: Any, where: str, path: str, fail: Callable[[str], ConfigError]
) -> dict[str, str]:
    """Environment variables: names a shell accepts, values without NUL bytes."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in value.items()
    ):
        raise fail('a table of NAME = "value" pairs')
    checked: dict[str, str] = {}
    for key, item in value.items():
        if not ENV_NAME_RE.fullmatch(key):
            raise ConfigError(
                f"{where}: {path}: invalid environment variable name {key!r}",
                "use letters, digits and _, not starting with a digit (e.g. MY_VAR)",
            )
        text = str(item)
        if "\0" in text:
            raise ConfigError(
                f"{where}: {path}: the value of {key} contains a NUL byte",
                "environment variable values cannot hold NUL (\\0) characters",
            )
        checked[key] = text
    return checked


def _check_container_path(
    value: Any, where: str, path: str, fail: Callable[[str], ConfigError]
) -> str:
    """An absolute path inside a container, other than ``/``, without ``..`` or NUL."""
    if not isinstance(value, str):
        raise fail("a string")
    if "\0" in value:
        raise fail("a path without NUL bytes")
    if not value.startswith("/"):
        raise fail("an absolute path such as /workspace")
    parts = [part for part in value.split("/") if part]
    if not parts:
        raise fail("a folder other than / (the container's root)")
    if ".." in parts:
        raise fail("a path without '..'")
    return value


def _check_object(name: str, table: dict[str, Any], where: str) -> dict[str, Any]:
    """A declared object: a valid name, a kind, and plain values (kinds check the keys)."""
    try:
        validate_name(name)
    except UsageError as exc:
        raise ConfigError(f"{where}: objects.{name}: {exc.message}", exc.hint) from None
    kind = table.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(
            f"{where}: objects.{name}: missing kind",
            'add kind = "postgres" (or sqlite, mysql, mariadb, redis, web, service)',
        )
    for key, value in table.items():
        plain = isinstance(value, str | int | float | bool) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        if not plain:
            raise ConfigError(
                f"{where}: objects.{name}.{key}: expected a string, number, boolean or list"
                f" of strings, got {value!r}",
                f"fix objects.{name}.{key} in {where}",
            )
    return dict(table)


def validate(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate merged raw config; return it with defaults filled in and values normalised."""
    result: dict[str, Any] = {}
    known_top = {**SECTIONS, "envs": None, "suites": None}
    for key in raw:
        if key not in known_top:
            raise ConfigError(f"{where}: unknown section {key!r}", _suggest(key, known_top))
    for section, fields in SECTIONS.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{where}: {section}: expected a table, got {given!r}", "")
        for key in given:
            if section in ("objects", "plugins") and isinstance(given[key], dict):
                continue  # [objects.NAME]: a declared object; [plugins.NAME]: settings
            if key not in fields:
                raise ConfigError(
                    f"{where}: unknown key {section}.{key}", _suggest(key, fields)
                )
        result[section] = {
            key: check_value(field, given[key], where, f"{section}.{key}")
            if key in given
            else field.default
            for key, field in fields.items()
        }
    for name, table in raw.get("objects", {}).items():
        if isinstance(table, dict):
            result["objects"][name] = _check_object(name, table, where)
    from ptest_tui.plugins.settings import check_plugin_settings

    result["plugins"].update(check_plugin_settings(raw.get("plugins", {}), where))
    suites = raw.get("suites", {})
    if not isinstance(suites, dict):
        raise ConfigError(f"{where}: suites: expected a table of suites", "")
    from ptest_tui.runs.config import validate_suite

    result["suites"] = {name: validate_suite(name, t, where) for name, t in suites.items()}
    envs = raw.get("envs", {})
    if not isinstance(envs, dict):
        raise ConfigError(f"{where}: envs: expected a table of environments", "")
    result["envs"] = {}
    for name, table in envs.items():
        try:
            validate_name(name)
        except UsageError as exc:
            raise ConfigError(f"{where}: envs.{name}: {exc.message}", exc.hint) from None
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: envs.{name}: expected a table, got {table!r}", "")
        for key in table:
            if key not in ENV_FIELDS:
                raise ConfigError(
                    f"{where}: unknown key envs.{name}.{key}", _suggest(key, ENV_FIELDS)
                )
        result["envs"][name] = {
            key: check_value(ENV_FIELDS[key], table[key], where, f"envs.{name}.{key}")
            for key in table
        }
    return result
