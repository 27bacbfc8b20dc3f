"""The keys a plan file may use, with their types, and the checks of single values.

Every message names the plan file and the key path (``plan.toml: steps[1].parallel:
expected a whole number >= 1, got 0``), like the ptest.toml checks in config/schema.py;
unknown keys get the nearest valid key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ptest_tui.config.schema import ENV_FIELDS, ENV_NAME_RE
from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.validation import validate_name


@dataclass(frozen=True)
class Key:
    """One key of a plan table: its type and what it is for."""

    type: str  # str, strs, int, bool, seconds, table, command
    doc: str


TOP_KEYS: Mapping[str, str] = {
    "plan": "the plan's own settings",
    "envs": "environments to create or reuse ([envs.NAME])",
    "objects": "test objects to start ([objects.NAME])",
    "steps": "what to do ([[steps]])",
}

PLAN_KEYS: Mapping[str, Key] = {
    "name": Key("str", "shown in output (default: the file name without .toml)"),
    "description": Key("str", "free text"),
    "cleanup": Key("str", "always, on-success or never: remove what the plan made"),
    "parallel": Key("int", "steps at once, and the default for a run step's cases"),
    "fail_fast": Key("bool", "stop everything at the first step that fails"),
    "timeout": Key("seconds", "seconds for the whole plan"),
    "report_dir": Key("str", "run and report steps write their reports to REPORT_DIR/STEP"),
    "workspace": Key("str", "the workspace folder (default: found from the current folder)"),
}

# [envs.NAME]: the ptest.toml env keys, plus what only a plan says.
ENV_EXTRA_KEYS: Mapping[str, Key] = {
    "recreate": Key("bool", "delete the env first if it exists"),
}
OBJECT_EXTRA_KEYS: Mapping[str, Key] = {
    "fresh": Key("bool", "start with fresh data"),
}

COMMON_STEP_KEYS: Mapping[str, Key] = {
    "id": Key("str", "the step's name, used by needs (default: KIND-INDEX)"),
    "kind": Key("str", "what the step does"),
    "needs": Key("strs", "steps that must end first"),
    "when": Key("str", "success (default) or always: run even when a need did not pass"),
    "description": Key("str", "free text"),
}

STEP_KEYS: Mapping[str, Mapping[str, Key]] = {
    "run": {
        "suites": Key("strs", "suites or cases (SUITE, SUITE/CASE, CASE); default every suite"),
        "envs": Key("strs", "run in these envs instead of the suites' envs"),
        "parallel": Key("int", "cases at once (default: the plan's parallel)"),
        "fail_fast": Key("bool", "stop the run at the first failing case"),
        "timeout": Key("seconds", "seconds for the whole run"),
        "keep_objects": Key("bool", "leave the objects the run started running"),
        "report": Key("strs", "report formats to write: html, json, junit"),
        "report_dir": Key("str", "folder for the reports (default REPORT_DIR/STEP)"),
    },
    "install": {
        "env": Key("str", "the env"),
        "envs": Key("strs", "several envs"),
        "packages": Key("strs", "requirements to install"),
        "requirements": Key("strs", "requirement files"),
        "lock": Key("str", "a lock file to sync the env to exactly"),
        "upgrade": Key("bool", "upgrade what is already installed"),
    },
    "exec": {
        "env": Key("str", "the env"),
        "envs": Key("strs", "several envs (the command runs in each)"),
        "command": Key("command", "the command: a list, or a string split like a shell would"),
        "cwd": Key("str", "working folder inside the env"),
        "environment": Key("table", "extra environment variables"),
        "timeout": Key("seconds", "seconds before the command is stopped"),
    },
    "snapshot": {
        "env": Key("str", "the env"),
        "envs": Key("strs", "several envs"),
        "tag": Key("str", "a tag for the snapshot"),
        "message": Key("str", "a message for the snapshot"),
    },
    "migrate": {
        "env": Key("str", "the env"),
        "to": Key("str", "the isolation level to move it to"),
        "keep_source": Key("bool", "keep the old env under a new name"),
    },
    "report": {
        "run": Key("str", "a run step's id, or a run id from the history (12, last)"),
        "formats": Key("strs", "html, json, junit (default: all three)"),
        "dir": Key("str", "folder (default REPORT_DIR/STEP, else .ptest/reports/RUN)"),
    },
    "cleanup": {
        "envs": Key("strs", "envs to delete"),
        "objects": Key("strs", "objects to stop"),
    },
}


def suggest(key: str, known: Mapping[str, Any] | list[str]) -> str:
    """``did you mean 'x'?`` for the nearest known name, else the list of names."""
    names = list(known)
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid: " + ", ".join(sorted(names)) if names else ""


def check_keys(
    table: Mapping[str, Any], known: Mapping[str, Any], where: str, path: str
) -> None:
    """Refuse a key ``known`` does not have, naming the nearest one."""
    for key in table:
        if key not in known:
            full = f"{path}.{key}" if path else key
            raise ConfigError(f"{where}: unknown key {full}", suggest(key, known))


def check(key: Key, value: Any, where: str, path: str) -> Any:
    """Check and normalise one value (numbers may come as text from ``${VAR}``)."""

    def fail(expected: str) -> ConfigError:
        return ConfigError(f"{where}: {path}: expected {expected}, got {value!r}",
                           f"fix {path} in {where}")

    checkers: dict[str, Callable[[], Any]] = {
        "str": lambda: value if isinstance(value, str) else _raise(fail("a string")),
        "strs": lambda: _strings(value, fail),
        "int": lambda: _whole(value, fail),
        "bool": lambda: _boolean(value, fail),
        "seconds": lambda: _seconds(value, fail),
        "table": lambda: _table(value, fail, where, path),
        "command": lambda: _command(value, fail),
    }
    return checkers[key.type]()


def _raise(error: ConfigError) -> Any:
    raise error


def _strings(value: Any, fail: Callable[[str], ConfigError]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail("a list of strings")
    return tuple(value)


def _whole(value: Any, fail: Callable[[str], ConfigError]) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail("a whole number >= 1")
    return value


def _boolean(value: Any, fail: Callable[[str], ConfigError]) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    if not isinstance(value, bool):
        raise fail("true or false")
    return value


def _seconds(value: Any, fail: Callable[[str], ConfigError]) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise fail("a positive number of seconds") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise fail("a positive number of seconds")
    return float(value)


def _table(
    value: Any, fail: Callable[[str], ConfigError], where: str, path: str
) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) for v in value.values()
    ):
        raise fail('a table of NAME = "value" pairs')
    for name in value:
        if not ENV_NAME_RE.fullmatch(name):
            raise ConfigError(f"{where}: {path}: invalid environment variable name {name!r}",
                              "use letters, digits and _, not starting with a digit")
    return {k: str(v) for k, v in value.items()}


def _command(value: Any, fail: Callable[[str], ConfigError]) -> tuple[str, ...]:
    import shlex

    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise fail(f"a command a shell could split ({exc})") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise fail("a command: a string or a list of strings")
    if not argv:
        raise fail("a command, not an empty one")
    return tuple(argv)


def check_name(name: str, what: str, where: str, path: str) -> str:
    """A valid env, object or step name (the rules of env names)."""
    try:
        return validate_name(name, what)
    except UsageError as exc:
        raise ConfigError(f"{where}: {path}: {exc.message}", exc.hint) from None


def env_keys() -> dict[str, Any]:
    """Every key an ``[envs.NAME]`` table may have."""
    return {**ENV_FIELDS, **ENV_EXTRA_KEYS}
