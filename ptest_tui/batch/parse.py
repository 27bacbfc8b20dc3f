"""Read a plan file into a :class:`BatchPlan`: syntax, variables, keys and value types.

This stage needs no workspace: it checks what the file says on its own. Names that refer to
the workspace (envs, objects, suites) are checked by :mod:`ptest_tui.batch.resolve`.
Every problem is one :class:`ConfigError` line (exit code 2) and nothing has run yet.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ptest_tui.batch.keys import (
    COMMON_STEP_KEYS,
    OBJECT_EXTRA_KEYS,
    PLAN_KEYS,
    STEP_KEYS,
    TOP_KEYS,
    check,
    check_keys,
    check_name,
    env_keys,
    suggest,
)
from ptest_tui.batch.model import (
    CLEANUP_POLICIES,
    STEP_KINDS,
    WHEN_CHOICES,
    BatchPlan,
    PlanSettings,
    Step,
)
from ptest_tui.batch.variables import expand_all
from ptest_tui.config.schema import check_value
from ptest_tui.errors import ConfigError, UsageError

# Keys whose values are files: relative paths are taken from the plan file's folder.
_PATH_KEYS = {"requirements", "lock", "report_dir", "dir"}
# Steps that act on envs, and need at least one.
_NEEDS_ENV = ("install", "exec", "snapshot", "migrate")


def read_plan_file(path: Path, where: str) -> dict[str, Any]:
    """The parsed TOML of ``path`` (missing file and syntax errors are one line)."""
    if not path.exists():
        raise UsageError(f"plan file {where} not found", "check the path (see docs/batch.md)")
    if not path.is_file():
        raise UsageError(f"plan file {where} is not a file", "give the path of a .toml plan")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line L, column C)".
        raise ConfigError(f"{where}: invalid TOML: {exc}",
                          "fix the syntax at the line and column shown") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"plan file {where} cannot be read: {exc}", "") from None


def load_plan(path: str | Path, environ: Mapping[str, str] | None = None) -> BatchPlan:
    """Read and check a plan file; ``environ`` (default os.environ) fills ``${VAR}``."""
    where = str(path)
    path = Path(path).absolute()
    raw = read_plan_file(path, where)
    return parse_plan(raw, path, os.environ if environ is None else environ, where)


def parse_plan(
    raw: Mapping[str, Any], path: Path, environ: Mapping[str, str], where: str = ""
) -> BatchPlan:
    """A plan from parsed TOML: ``path`` anchors relative paths, ``where`` (default the
    file name) names the plan in messages."""
    where = where or path.name
    check_keys(raw, TOP_KEYS, where, "")
    data = expand_all(dict(raw), environ, where)
    settings = _settings(_table(data, "plan", where), path, where)
    steps: list[Step] = []
    envs = _table(data, "envs", where)
    for name, table in envs.items():
        steps.append(_env_node(name, table, where))
    objects = _table(data, "objects", where)
    for name, table in objects.items():
        steps.append(_object_node(name, table, where))
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        raise ConfigError(f"{where}: steps: expected [[steps]] tables", "see docs/batch.md")
    for index, table in enumerate(raw_steps):
        steps.append(_step(index, table, path, where))
    seen: dict[str, str] = {}
    for step in steps:
        if step.id in seen:
            raise ConfigError(
                f"{where}: {step.where}: a second step with id {step.id!r}"
                f" (the first is {seen[step.id]})",
                "give each step its own id",
            )
        seen[step.id] = step.where
    if not steps:
        raise ConfigError(f"{where}: the plan has nothing to do",
                          "add [envs.NAME], [objects.NAME] or [[steps]] tables")
    return BatchPlan(path, settings, tuple(steps), where=where)


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: expected a table, got {value!r}",
                          f"write [{key}] (see docs/batch.md)")
    return value


def _settings(table: Mapping[str, Any], path: Path, where: str) -> PlanSettings:
    check_keys(table, PLAN_KEYS, where, "plan")
    values = {key: check(PLAN_KEYS[key], value, where, f"plan.{key}")
              for key, value in table.items()}
    cleanup = values.get("cleanup", "always")
    if cleanup not in CLEANUP_POLICIES:
        raise ConfigError(f"{where}: plan.cleanup: expected one of "
                          f"{', '.join(CLEANUP_POLICIES)}, got {cleanup!r}",
                          suggest(cleanup, list(CLEANUP_POLICIES)))
    return PlanSettings(
        name=values.get("name") or path.stem,
        description=values.get("description", ""),
        cleanup=cleanup,
        parallel=values.get("parallel", 0),
        fail_fast=values.get("fail_fast", False),
        timeout=values.get("timeout"),
        report_dir=_path(values["report_dir"], path) if "report_dir" in values else None,
        workspace=_path(values["workspace"], path) if "workspace" in values else None,
    )


def _path(text: str, plan_path: Path) -> Path:
    """Relative paths in a plan are taken from the plan file's folder."""
    return (plan_path.parent / Path(text).expanduser()).resolve()


def _env_node(name: str, table: Any, where: str) -> Step:
    path = f"envs.{name}"
    check_name(name, "environment", where, path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {path}: expected a table, got {table!r}",
                          f"write [envs.{name}] with ptest.toml env keys")
    check_keys(table, env_keys(), where, path)
    options = {
        key: check_value(env_keys()[key], value, where, f"{path}.{key}")
        for key, value in table.items() if key not in ("recreate",)
    }
    recreate = check(
        env_keys()["recreate"], table.get("recreate", False), where, f"{path}.recreate"
    )
    return Step(f"env:{name}", "env", {"name": name, "options": options, "recreate": recreate},
                where=path)


def _object_node(name: str, table: Any, where: str) -> Step:
    path = f"objects.{name}"
    check_name(name, "object", where, path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {path}: expected a table, got {table!r}",
                          f"write [objects.{name}] (empty to start one ptest.toml declares)")
    fresh = check(OBJECT_EXTRA_KEYS["fresh"], table.get("fresh", False), where, f"{path}.fresh")
    kind = table.get("kind", "")
    if not isinstance(kind, str):
        raise ConfigError(f"{where}: {path}.kind: expected a string, got {kind!r}", "")
    settings = {k: v for k, v in table.items() if k not in ("kind", "fresh")}
    return Step(f"object:{name}", "object",
                {"name": name, "kind": kind, "object_settings": settings, "fresh": fresh},
                where=path)


def _step(index: int, table: Mapping[str, Any], plan_path: Path, where: str) -> Step:
    path = f"steps[{index}]"
    kind = table.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(f"{where}: {path}: missing kind",
                          "add kind = \"run\" (or " + ", ".join(STEP_KINDS[1:]) + ")")
    if kind not in STEP_KINDS:
        raise ConfigError(f"{where}: {path}.kind: unknown step kind {kind!r}",
                          suggest(kind, list(STEP_KINDS)))
    known = {**COMMON_STEP_KEYS, **STEP_KEYS[kind]}
    check_keys(table, known, where, path)
    values = {key: check(known[key], value, where, f"{path}.{key}")
              for key, value in table.items()}
    step_id = values.pop("id", None) or f"{kind}-{index}"
    check_name(step_id, "step", where, f"{path}.id")
    label = f"{path} ({step_id})"
    when = values.pop("when", "always" if kind in ("report", "cleanup") else "success")
    if when not in WHEN_CHOICES:
        raise ConfigError(f"{where}: {label}.when: expected success or always, got {when!r}",
                          suggest(when, list(WHEN_CHOICES)))
    needs = values.pop("needs", ())
    for need in needs:
        if ":" not in need:  # env:NAME and object:NAME are node ids, not step names
            check_name(need, "step", where, f"{label}.needs")
    values.pop("kind")
    description = values.pop("description", "")
    if "env" in values:
        values["envs"] = (values.pop("env"), *values.get("envs", ()))
    for key in _PATH_KEYS & set(values):
        value = values[key]
        values[key] = (tuple(_path(v, plan_path) for v in value) if isinstance(value, tuple)
                       else _path(value, plan_path))
    _require(kind, values, where, label)
    return Step(step_id, kind, values, tuple(dict.fromkeys(needs)), when, description, label)


def _require(kind: str, values: Mapping[str, Any], where: str, label: str) -> None:
    """The keys a kind cannot do without."""

    def missing(what: str, hint: str) -> ConfigError:
        return ConfigError(f"{where}: {label}: a {kind} step needs {what}", hint)

    if kind in _NEEDS_ENV and not values.get("envs"):
        raise missing("an env", 'add env = "NAME"')
    if kind == "migrate" and len(values["envs"]) > 1:
        raise ConfigError(f"{where}: {label}: a migrate step moves one env", "use one step each")
    if kind == "migrate" and not values.get("to"):
        raise missing("a target level", 'add to = "docker" (or basic, virtualenv)')
    if kind == "install":
        given = [k for k in ("packages", "requirements", "lock") if values.get(k)]
        if not given:
            raise missing("something to install", "add packages = [...], requirements = [...]"
                          " or lock = \"FILE\"")
        if "lock" in given and len(given) > 1:
            raise ConfigError(f"{where}: {label}: lock syncs the env exactly; it cannot be"
                              " combined with packages or requirements",
                              "use a separate install step")
    if kind == "exec" and not values.get("command"):
        raise missing("a command", 'add command = "python -m myapp check"')
    if kind == "report" and not values.get("run"):
        raise missing("the run to report", 'add run = "STEP-ID" (a run step) or "last"')
    if kind == "cleanup" and not (values.get("envs") or values.get("objects")):
        raise missing("envs or objects", "add envs = [...] or objects = [...]")
    for env in values.get("envs", ()):
        check_name(env, "environment", where, f"{label}.envs")
