"""Values of engine benchmarks: one measured (engine, scenario, variant) and a whole batch."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

SCENARIOS = ("create", "install", "exec", "snapshot")
# What a result row is: measured, not measurable here (engine down, feature missing),
# failed while measuring, or stopped by the user.
STATUSES = ("ok", "skipped", "failed", "cancelled")
# Every benchmark env is named ``ptbench-<batch>-<engine>-<what>``; see benchmark.cleanup.
PREFIX = "ptbench-"


@dataclass(frozen=True)
class BenchmarkResult:
    """One engine on one scenario (``variant``: the installer for install, create or
    restore for snapshot): the seconds of each timed run, or why there are none."""

    engine: str
    scenario: str
    variant: str = ""
    status: str = "ok"
    samples: tuple[float, ...] = ()
    reason: str = ""
    batch: str = ""
    at: float = 0.0

    @property
    def median(self) -> float:
        """Median seconds (0 without samples)."""
        return statistics.median(self.samples) if self.samples else 0.0

    @property
    def low(self) -> float:
        """Fastest run."""
        return min(self.samples) if self.samples else 0.0

    @property
    def high(self) -> float:
        """Slowest run."""
        return max(self.samples) if self.samples else 0.0

    @property
    def spread(self) -> float:
        """Slowest minus fastest run: how much one run can be trusted."""
        return self.high - self.low

    @property
    def stdev(self) -> float:
        """Sample standard deviation (0 with fewer than two runs)."""
        return statistics.stdev(self.samples) if len(self.samples) > 1 else 0.0

    @property
    def label(self) -> str:
        """``install (uv)``, ``create``."""
        return f"{self.scenario} ({self.variant})" if self.variant else self.scenario

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``benchmark --json``)."""
        return {
            "engine": self.engine,
            "scenario": self.scenario,
            "variant": self.variant,
            "status": self.status,
            "runs": len(self.samples),
            "median": round(self.median, 6),
            "min": round(self.low, 6),
            "max": round(self.high, 6),
            "spread": round(self.spread, 6),
            "stdev": round(self.stdev, 6),
            "samples": [round(s, 6) for s in self.samples],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class BenchmarkReport:
    """One ``benchmark`` invocation: what was asked for and every result."""

    batch: str
    status: str  # running, done, cancelled, failed
    engines: tuple[str, ...]
    scenarios: tuple[str, ...]
    runs: int
    started_at: float
    finished_at: float | None = None
    results: tuple[BenchmarkResult, ...] = ()
    machine: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def failed(self) -> list[BenchmarkResult]:
        """Results that failed while measuring."""
        return [r for r in self.results if r.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``benchmark --json``)."""
        return {
            "batch": self.batch,
            "status": self.status,
            "engines": list(self.engines),
            "scenarios": list(self.scenarios),
            "runs": self.runs,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "machine": self.machine,
            "results": [r.to_dict() for r in self.results],
        }
