"""Events of batch mode, published on the session's bus like every engine event.

Front ends (the batch renderers, the TUI) subscribe to these; ``to_dict()`` gives the
NDJSON objects of ``ptest-tui batch --json`` (schema: :mod:`ptest_tui.batch.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ptest_tui.events.types import Event


@dataclass(frozen=True)
class PlanStarted(Event):
    """A plan began: its steps in dependency order and how many run at once."""

    plan: str
    path: str
    steps: tuple[str, ...]
    parallel: int


@dataclass(frozen=True)
class StepStarted(Event):
    """A step began (``step_kind``: env, object, run, install, exec, snapshot, migrate,
    report, cleanup)."""

    plan: str
    step: str
    step_kind: str
    target: str = ""


@dataclass(frozen=True)
class StepProgress(Event):
    """Progress of a running step: ``done`` of ``total`` (cases of a run step, packages of
    an env or install step; 0 when not known) and what it is doing."""

    plan: str
    step: str
    done: int = 0
    total: int = 0
    detail: str = ""


@dataclass(frozen=True)
class StepFinished(Event):
    """A step ended. Skipped and cancelled steps that never started get only this event."""

    plan: str
    step: str
    step_kind: str
    status: str  # passed, failed, error, skipped, cancelled
    seconds: float = 0.0
    message: str = ""
    run_id: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    reports: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanFinished(Event):
    """A plan ended: its status and exit code, steps by status, the runs it recorded."""

    plan: str
    status: str  # passed, failed, error, cancelled
    exit_code: int
    seconds: float
    steps: dict[str, int] = field(default_factory=dict)
    runs: tuple[str, ...] = ()
    message: str = ""
