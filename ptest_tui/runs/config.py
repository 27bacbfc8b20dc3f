"""``[suites.NAME]`` in ptest.toml: named groups of cases, checked when the config loads.

```toml
[suites.api]
envs = ["unit", "limited"]     # the matrix: the suite runs in each
objects = ["pg"]               # started before, stopped after (unless keep_objects)
setup = ["python manage.py migrate"]
teardown = []
timeout = 900                  # seconds for the whole suite in one env
case_timeout = 120             # default per case
retries = 1                    # default per case: failing cases run again (then flaky)
sequential = false             # true: cases one after another, in order

[[suites.api.cases]]
name = "unit"
kind = "pytest"
target = "tests/unit"
```

Structure and common keys are checked here (file, key path, expectation, suggestion);
each kind checks its own settings when a run is planned, since kinds come from plugins.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.runs.cases.base import CaseSpec
from ptest_tui.validation import validate_name

SUITE_KEYS: Mapping[str, str] = {
    "description": "free text shown in listings",
    "envs": "environments the suite runs in (a matrix: once in each)",
    "objects": "objects started before the suite and stopped after",
    "keep_objects": "leave the objects running afterwards",
    "setup": "commands run in each env before the cases",
    "teardown": "commands run in each env after the cases (also after failures)",
    "timeout": "seconds for the whole suite in one env",
    "case_timeout": "default seconds for one case",
    "retries": "default extra attempts for a failing case",
    "sequential": "run the cases one after another, in order",
    "cases": "the cases ([[suites.NAME.cases]] tables)",
}
# Keys every case has; the rest belong to its kind.
CASE_KEYS = ("name", "kind", "timeout", "retries", "description")


@dataclass(frozen=True)
class SuiteSpec:
    """A validated suite."""

    name: str
    cases: tuple[CaseSpec, ...]
    envs: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    keep_objects: bool = False
    setup: tuple[str, ...] = ()
    teardown: tuple[str, ...] = ()
    timeout: float | None = None
    sequential: bool = False
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def _fail(where: str, path: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(
        f"{where}: {path}: expected {expected}, got {value!r}", f"fix {path} in {where}"
    )


def _seconds(value: Any, where: str, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(where, path, "a positive number of seconds", value)
    return float(value)


def _count(value: Any, where: str, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, path, "a whole number >= 0", value)
    return value


def _strings(value: Any, where: str, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, path, "a list of strings", value)
    return tuple(value)


def _check_name(name: str, where: str, path: str) -> None:
    try:
        validate_name(name)
    except UsageError as exc:
        raise ConfigError(f"{where}: {path}: {exc.message}", exc.hint) from None


def validate_suite(name: str, table: Any, where: str) -> dict[str, Any]:
    """Check one ``[suites.NAME]`` table; return it normalised (plain data)."""
    path = f"suites.{name}"
    _check_name(name, where, path)
    if not isinstance(table, dict):
        raise _fail(where, path, "a table", table)
    for key in table:
        if key not in SUITE_KEYS:
            close = difflib.get_close_matches(key, list(SUITE_KEYS), n=1)
            raise ConfigError(
                f"{where}: unknown key {path}.{key}",
                f"did you mean {close[0]!r}?" if close else "valid keys: " + ", ".join(SUITE_KEYS),
            )
    parse_suite(name, table, where)  # every check happens here
    return dict(table)


def parse_suite(name: str, table: Mapping[str, Any], where: str) -> SuiteSpec:
    """The SuiteSpec of a checked table."""
    path = f"suites.{name}"
    envs = _strings(table.get("envs", []), where, f"{path}.envs")
    objects = _strings(table.get("objects", []), where, f"{path}.objects")
    for env in envs:
        _check_name(env, where, f"{path}.envs")
    case_timeout = _seconds(table.get("case_timeout"), where, f"{path}.case_timeout")
    retries = _count(table.get("retries", 0), where, f"{path}.retries")
    for key in ("keep_objects", "sequential"):
        if not isinstance(table.get(key, False), bool):
            raise _fail(where, f"{path}.{key}", "true or false", table[key])
    cases_raw = table.get("cases", [])
    if not isinstance(cases_raw, list) or not all(isinstance(c, dict) for c in cases_raw):
        raise _fail(where, f"{path}.cases", "[[suites.NAME.cases]] tables", cases_raw)
    cases: list[CaseSpec] = []
    seen: set[str] = set()
    for index, case in enumerate(cases_raw):
        case_path = f"{path}.cases[{index}]"
        case_name = case.get("name")
        if not isinstance(case_name, str) or not case_name:
            raise ConfigError(f"{where}: {case_path}: missing name", 'add name = "..." to the case')
        _check_name(case_name, where, f"{case_path}.name")
        if case_name in seen:
            raise ConfigError(
                f"{where}: {case_path}: a second case named {case_name!r} in suite {name}",
                "give each case of a suite its own name",
            )
        seen.add(case_name)
        kind = case.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ConfigError(
                f"{where}: {case_path}: missing kind", 'add kind = "pytest" (or command, http, sql)'
            )
        timeout = _seconds(case.get("timeout"), where, f"{case_path}.timeout") or case_timeout
        case_retries = _count(case.get("retries", retries), where, f"{case_path}.retries")
        settings = {k: v for k, v in case.items() if k not in CASE_KEYS}
        cases.append(CaseSpec(case_name, kind, settings, timeout, case_retries, case_path))
    return SuiteSpec(
        name=name,
        cases=tuple(cases),
        envs=envs,
        objects=objects,
        keep_objects=bool(table.get("keep_objects", False)),
        setup=_strings(table.get("setup", []), where, f"{path}.setup"),
        teardown=_strings(table.get("teardown", []), where, f"{path}.teardown"),
        timeout=_seconds(table.get("timeout"), where, f"{path}.timeout"),
        sequential=bool(table.get("sequential", False)),
        description=str(table.get("description", "")),
        raw=dict(table),
    )
