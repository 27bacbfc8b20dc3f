"""Values of runs and their results: what the runner produces, the store keeps and reports show.

A run executes suites (each in one or more environments); each execution of a case in an
env gives one :class:`CaseResult`. A pytest case gives one result per collected test
(``case`` is then the pytest node id, ``parent`` the case name from the config).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Outcomes of one result, the same words pytest uses.
PASSED, FAILED, SKIPPED, XFAILED, XPASSED, ERROR, CANCELLED = (
    "passed", "failed", "skipped", "xfailed", "xpassed", "error", "cancelled",
)
OUTCOMES = (PASSED, FAILED, SKIPPED, XFAILED, XPASSED, ERROR, CANCELLED)
# Outcomes that make a run fail (an xpass fails only under xfail_strict, where pytest
# itself reports it as failed).
FAILING = frozenset({FAILED, ERROR})

# States of a run.
RUN_STATES = ("running", "passed", "failed", "error", "cancelled")


@dataclass(frozen=True)
class CaseResult:
    """One case (or one pytest test) executed in one environment."""

    run_id: str
    suite: str
    env: str
    case: str  # case name, or the pytest node id for tests of a pytest case
    kind: str  # pytest, command, http, sql
    status: str  # one of OUTCOMES
    duration: float = 0.0  # seconds
    message: str = ""  # why it failed: "expected 200, got 500"; pytest's failure text
    stdout: str = ""
    stderr: str = ""
    parent: str = ""  # the configured case a pytest test belongs to
    attempts: int = 1
    flaky: bool = False  # failed first, passed on a retry
    started_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    @property
    def key(self) -> str:
        """``suite/env/case``: unique within a run."""
        return f"{self.suite}/{self.env}/{self.case}"


@dataclass(frozen=True)
class RunRecord:
    """One run: what was asked for and how it ended."""

    id: str
    started_at: float
    finished_at: float | None = None
    status: str = "running"  # one of RUN_STATES
    selection: tuple[str, ...] = ()  # suite or case names asked for (empty: all)
    envs: tuple[str, ...] = ()
    message: str = ""  # infrastructure error or cancellation note
    counts: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def duration(self) -> float:
        """Seconds from start to finish (0 while running)."""
        return (self.finished_at - self.started_at) if self.finished_at else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = asdict(self)
        data["selection"] = list(self.selection)
        data["envs"] = list(self.envs)
        data["duration"] = self.duration
        return data


def count_outcomes(results: list[CaseResult]) -> dict[str, int]:
    """How many results have each outcome (every outcome present, zeros included)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    counts["total"] = len(results)
    return counts
