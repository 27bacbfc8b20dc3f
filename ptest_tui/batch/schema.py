"""The documented schema of ``ptest-tui batch --json``: one JSON object per line (NDJSON).

Every line has ``event`` (its type) and ``at`` (a Unix timestamp) plus the fields below,
all always present. Lines come from batch mode's own events (plan and step) and from the
engine events a plan causes (envs, packages, objects, runs, cases, snapshots). New event
types may be added later (skip types you do not know); fields are not removed or renamed
without a new ``SCHEMA_VERSION``. ``ptest-tui batch --schema`` prints this schema.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1

_S: dict[str, Any] = {"type": "string"}
_I: dict[str, Any] = {"type": "integer"}
_N: dict[str, Any] = {"type": "number"}
_B: dict[str, Any] = {"type": "boolean"}
_STRS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_COUNTS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "integer"}}
_STEP_STATUS: dict[str, Any] = {"enum": ["passed", "failed", "error", "skipped", "cancelled"]}
_CASE_STATUS: dict[str, Any] = {
    "enum": ["passed", "failed", "skipped", "xfailed", "xpassed", "error", "cancelled"]
}
_RUN_STATUS: dict[str, Any] = {"enum": ["running", "passed", "failed", "error", "cancelled"]}
_PLAN_STATUS: dict[str, Any] = {"enum": ["passed", "failed", "error", "cancelled"]}
_STEP_KIND: dict[str, Any] = {"enum": [
    "env", "object", "run", "install", "exec", "snapshot", "migrate", "report", "cleanup",
]}

# Event type -> its fields (besides "event" and "at"), with a description of the type.
EVENTS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "plan_started": ("the plan began; steps in dependency order", {
        "plan": _S, "path": _S, "steps": _STRS, "parallel": _I,
    }),
    "step_started": ("a step began", {
        "plan": _S, "step": _S, "step_kind": _STEP_KIND, "target": _S,
    }),
    "step_progress": ("a running step's progress (done of total; 0 when unknown)", {
        "plan": _S, "step": _S, "done": _I, "total": _I, "detail": _S,
    }),
    "step_finished": ("a step ended (skipped or cancelled ones get only this line)", {
        "plan": _S, "step": _S, "step_kind": _STEP_KIND, "status": _STEP_STATUS,
        "seconds": _N, "message": _S, "run_id": _S, "counts": _COUNTS, "reports": _STRS,
    }),
    "plan_finished": ("the plan ended: the last line", {
        "plan": _S, "status": _PLAN_STATUS, "exit_code": _I, "seconds": _N,
        "steps": _COUNTS, "runs": _STRS, "message": _S,
    }),
    "env_creating": ("an env is being created", {"env": _S, "isolation": _S, "reason": _S}),
    "env_created": ("an env is ready", {"env": _S, "isolation": _S, "seconds": _N}),
    "env_failed": ("creating an env failed", {"env": _S, "message": _S, "hint": _S}),
    "env_deleted": ("an env was deleted (cleanup)", {"env": _S}),
    "packages_installed": ("packages were installed into an env", {
        "env": _S, "installed": _STRS, "removed": _STRS, "seconds": _N, "cache_hits": _I,
        "downloads": _I,
    }),
    "package_install_failed": ("installing into an env failed", {"env": _S, "message": _S}),
    "object_starting": ("an object is starting", {
        "object": _S, "object_kind": _S, "runtime": _S,
    }),
    "object_started": ("an object is ready (password redacted)", {
        "object": _S, "object_kind": _S, "seconds": _N,
        "port": {"type": ["integer", "null"]}, "url": _S,
    }),
    "object_failed": ("an object could not start", {"object": _S, "message": _S}),
    "object_stopped": ("an object was stopped", {"object": _S}),
    "object_removed": ("an object and its data were removed", {"object": _S}),
    "run_started": ("a run step's run began (units: suite[env])", {
        "run_id": _S, "units": _STRS, "cases": _I,
    }),
    "case_finished": ("one case result (a pytest case gives one per test)", {
        "run_id": _S, "suite": _S, "env": _S, "case": _S, "status": _CASE_STATUS,
        "duration": _N, "message": _S, "parent": _S, "flaky": _B,
    }),
    "run_finished": ("a run ended: its summary", {
        "run_id": _S, "status": _RUN_STATUS, "seconds": _N, "counts": _COUNTS, "message": _S,
    }),
    "snapshot_created": ("a snapshot step stored a snapshot", {
        "snapshot_id": _S, "env": _S, "files": _I, "packages": _I, "seconds": _N,
    }),
    "migration_step": ("progress of a migrate step", {
        "env": _S, "action": _S, "step": _S, "index": _I, "total": _I, "detail": _S,
    }),
    "migration_failed": ("a migration failed (the env is unchanged)", {
        "env": _S, "action": _S, "message": _S,
    }),
}

# With --quiet, --json keeps only these (the plan's outline).
QUIET_EVENTS = frozenset({"plan_started", "step_started", "step_finished", "plan_finished"})


def _definition(name: str, description: str, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    properties = {"event": {"const": name}, "at": _N, **fields}
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def ndjson_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every line of ``--json`` output matches."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ptest-tui.dev/schemas/batch-ndjson-v{SCHEMA_VERSION}.json",
        "title": f"ptest-tui batch --json line (version {SCHEMA_VERSION})",
        "description": __doc__.strip() if __doc__ else "",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in EVENTS],
        "$defs": {name: _definition(name, doc, fields) for name, (doc, fields) in EVENTS.items()},
    }
