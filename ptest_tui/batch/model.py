"""Values of batch mode: the plan, its steps, and what executing them gave.

A plan is a graph of :class:`Step` nodes. ``[envs.NAME]`` and ``[objects.NAME]`` tables
become ``env:NAME`` and ``object:NAME`` nodes; ``[[steps]]`` tables become the other nodes.
Everything here is a frozen value; :mod:`ptest_tui.batch.executor` does the work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptest_tui.errors import ExitCode

CLEANUP_POLICIES = ("always", "on-success", "never")
WHEN_CHOICES = ("success", "always")
# Kinds a [[steps]] table may have; "env" and "object" nodes come from their sections.
STEP_KINDS = ("run", "install", "exec", "snapshot", "migrate", "report", "cleanup")
NODE_KINDS = ("env", "object", *STEP_KINDS)

# Step outcomes. "failed" is reserved for test failures (a run step whose run failed);
# every other problem of a step is "error". "skipped": a step it needs did not pass (or
# --keep skipped a cleanup step); "cancelled": interrupted, or never started because of it.
PASSED, FAILED, ERROR, SKIPPED, CANCELLED = "passed", "failed", "error", "skipped", "cancelled"
STEP_STATUSES = (PASSED, FAILED, ERROR, SKIPPED, CANCELLED)

# The pseudo-step that applies the cleanup policy at the end (":" cannot start a user id).
CLEANUP_ID = "plan:cleanup"


@dataclass(frozen=True)
class PlanSettings:
    """The ``[plan]`` table."""

    name: str
    description: str = ""
    cleanup: str = "always"  # one of CLEANUP_POLICIES
    parallel: int = 0  # steps at once (and a run step's cases); 0: from the CPU count
    fail_fast: bool = False  # stop everything at the first step that fails
    timeout: float | None = None  # seconds for the whole plan
    report_dir: Path | None = None  # run and report steps write to REPORT_DIR/STEP
    workspace: Path | None = None  # the workspace to use (else found from the current folder)


@dataclass(frozen=True)
class Step:
    """One node of the plan: what to do, and the nodes it waits for."""

    id: str
    kind: str  # one of NODE_KINDS
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    needs: tuple[str, ...] = ()
    when: str = "success"  # success: only when every need passed; always: once they ended
    description: str = ""
    where: str = ""  # where it is declared: "steps[2]", "envs.unit", or "" when implicit
    implicit: bool = False  # added by the checker (an env from ptest.toml not created yet)

    @property
    def envs(self) -> tuple[str, ...]:
        """The environments the step acts on (resolved run steps included)."""
        value = self.settings.get("envs", ())
        return tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else ()

    @property
    def target(self) -> str:
        """A short description of what the step acts on, for listings."""
        s = self.settings
        if self.kind in ("env", "object"):
            return str(s.get("name", ""))
        if self.kind == "run":
            what = ", ".join(s.get("suites", ())) or "every suite"
            return f"{what} in {', '.join(self.envs)}" if self.envs else what
        if self.kind == "migrate":
            return f"{', '.join(self.envs)} -> {s.get('to', '')}"
        if self.kind == "report":
            return f"run of {s.get('run', '')}: {', '.join(s.get('formats', ()))}"
        if self.kind == "cleanup":
            return ", ".join([*self.envs, *s.get("objects", ())])
        return ", ".join(self.envs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``batch --dry-run --json``)."""
        settings = {
            k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
            for k, v in self.settings.items()
        }
        return {
            "id": self.id, "kind": self.kind, "target": self.target, "needs": list(self.needs),
            "when": self.when, "implicit": self.implicit, "settings": settings,
        }


@dataclass(frozen=True)
class BatchPlan:
    """A parsed plan. After :func:`ptest_tui.batch.resolve.resolve` the steps include the
    implicit nodes and every automatic dependency, in an order where needs come first."""

    path: Path
    settings: PlanSettings
    steps: tuple[Step, ...]
    resolved: bool = False
    where: str = ""  # the file as the user named it, for messages (default: its name)

    @property
    def label(self) -> str:
        """How messages name the plan file."""
        return self.where or self.path.name

    def step(self, step_id: str) -> Step:
        """The step with ``step_id`` (KeyError if none)."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def levels(self) -> list[list[str]]:
        """Steps grouped in waves: each wave needs only steps of earlier waves."""
        depth: dict[str, int] = {}
        for step in self.steps:  # needs come first once resolved
            depth[step.id] = 1 + max((depth.get(n, 0) for n in step.needs), default=-1)
        waves: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for step in self.steps:
            waves[depth[step.id]].append(step.id)
        return waves

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: settings and steps (``batch --dry-run --json``)."""
        s = self.settings
        return {
            "plan": s.name, "path": str(self.path), "cleanup": s.cleanup,
            "parallel": s.parallel, "fail_fast": s.fail_fast, "timeout": s.timeout,
            "report_dir": str(s.report_dir) if s.report_dir else None,
            "steps": [step.to_dict() for step in self.steps], "levels": self.levels(),
        }


@dataclass(frozen=True)
class StepResult:
    """How one step ended."""

    id: str
    kind: str
    status: str  # one of STEP_STATUSES
    seconds: float = 0.0
    message: str = ""
    run_id: str = ""  # run steps: the run in the history
    counts: Mapping[str, int] = field(default_factory=dict, hash=False)
    reports: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id, "kind": self.kind, "status": self.status,
            "seconds": round(self.seconds, 3), "message": self.message, "run_id": self.run_id,
            "counts": dict(self.counts), "reports": list(self.reports),
        }


def plan_exit_code(results: Sequence[StepResult], interrupted: bool) -> ExitCode:
    """0 all passed, 1 test failures, 3 a step failed otherwise (wins over 1), 130 interrupted.

    A step cancelled without an interruption was stopped by the plan's timeout: an error.
    """
    statuses = {r.status for r in results}
    if interrupted:
        return ExitCode.INTERRUPTED
    if ERROR in statuses:
        return ExitCode.INFRASTRUCTURE
    if FAILED in statuses:
        return ExitCode.FAILURE
    if CANCELLED in statuses:
        return ExitCode.INFRASTRUCTURE
    return ExitCode.OK


_PLAN_STATUS: dict[int, str] = {
    ExitCode.OK: "passed", ExitCode.FAILURE: "failed", ExitCode.INFRASTRUCTURE: "error",
    ExitCode.INTERRUPTED: "cancelled",
}


@dataclass(frozen=True)
class BatchOutcome:
    """A finished plan: each step's result, what cleanup did, and the exit code."""

    plan: str
    exit_code: int
    seconds: float
    steps: tuple[StepResult, ...]
    interrupted: bool = False
    message: str = ""  # why it stopped early (timeout, fail-fast), if it did
    removed: tuple[str, ...] = ()  # "env NAME" / "object NAME" the cleanup removed or stopped
    kept: tuple[str, ...] = ()  # what the plan made and left (policy or --keep)

    @property
    def status(self) -> str:
        """passed, failed, error or cancelled."""
        if self.interrupted:
            return "cancelled"
        return _PLAN_STATUS.get(self.exit_code, "error")

    @property
    def runs(self) -> tuple[str, ...]:
        """Ids of the runs the plan recorded in the history, in step order."""
        return tuple(r.run_id for r in self.steps if r.run_id)

    def result(self, step_id: str) -> StepResult:
        """The result of one step (KeyError if none)."""
        for result in self.steps:
            if result.id == step_id:
                return result
        raise KeyError(step_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "plan": self.plan, "status": self.status, "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3), "interrupted": self.interrupted,
            "message": self.message, "runs": list(self.runs),
            "steps": [r.to_dict() for r in self.steps], "removed": list(self.removed),
            "kept": list(self.kept),
        }
