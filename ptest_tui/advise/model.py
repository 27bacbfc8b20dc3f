"""Values of advice: one suggestion with its evidence, the settings rules read, the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# How much a piece of advice matters, most first: "high" means something already broke
# (OOM kills, package conflicts), "medium" costs time on every run, "low" is tidying up.
SEVERITIES = ("high", "medium", "low")

# Rule kinds, in the order the report lists them within one severity.
KINDS = (
    "memory-too-tight",
    "package-conflicts",
    "flaky-case",
    "slow-case",
    "pip-backend",
    "memory-too-loose",
    "idle-env",
)

# Where advice points: an environment, a configured case, a suite or the whole workspace.
TARGET_KINDS = ("env", "case", "suite", "workspace")


@dataclass(frozen=True)
class Advice:
    """One suggestion computed from history, with the facts that led to it.

    ``evidence`` holds short facts with their numbers ("mean 42.1 s over the last 10
    runs"), so a reader can judge the advice instead of trusting it.
    """

    kind: str  # one of KINDS
    target_kind: str  # one of TARGET_KINDS
    target: str  # env name, "suite/case", suite name, or "" for the workspace
    message: str
    evidence: tuple[str, ...] = ()
    severity: str = "low"  # one of SEVERITIES
    env: str = ""  # the environment it concerns, when there is one

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``advise --json``)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "target_kind": self.target_kind,
            "target": self.target,
            "env": self.env,
            "message": self.message,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class AdviseSettings:
    """Thresholds of the rules: the ``[advise]`` section of ptest.toml (docs/advise.md)."""

    idle_days: float = 14.0  # an env unused this long is idle
    runs: int = 10  # how many recent runs the run-based rules look at
    slowest: int = 3  # at most this many slow cases are reported
    slow_share: float = 10.0  # a slow case takes at least this % of the window's test time
    slow_seconds: float = 1.0  # ... and at least this many seconds on average
    flaky_flips: int = 2  # pass/fail flips in the window that make a case flaky
    memory_factor: float = 4.0  # a limit this many times the observed peak is too loose

    @classmethod
    def from_config(cls, raw: dict[str, Any]) -> AdviseSettings:
        """From the validated ``[advise]`` table (missing keys keep their defaults)."""
        section = raw.get("advise") or {}
        known = {k: v for k, v in section.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


@dataclass(frozen=True)
class AdviceReport:
    """Every piece of advice, plus the checks that could not run and why."""

    advice: tuple[Advice, ...]
    skipped: tuple[str, ...] = ()  # "memory of d: docker is unavailable: ..."
    env: str = ""  # the env asked about ("" for all)
    settings: AdviseSettings = AdviseSettings()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``advise --json``)."""
        return {
            "env": self.env or None,
            "advice": [item.to_dict() for item in self.advice],
            "skipped": list(self.skipped),
            "settings": self.settings.to_dict(),
        }


def sort_key(item: Advice) -> tuple[int, int, str]:
    """Most severe first, then by kind, then by target."""
    severity = SEVERITIES.index(item.severity) if item.severity in SEVERITIES else 9
    kind = KINDS.index(item.kind) if item.kind in KINDS else 99
    return severity, kind, item.target


def seconds(value: float) -> str:
    """A duration for evidence: ``42.1 s``, ``0.084 s``, ``12 min``."""
    if value >= 600:
        return f"{value / 60:.0f} min"
    if value >= 10:
        return f"{value:.1f} s"
    if value >= 0.1:
        return f"{value:.2f} s"
    return f"{value:.3f} s"


def mib(amount: float) -> str:
    """A memory size for evidence, in binary units as Docker limits are (``512 MiB``)."""
    if amount >= 1024**3:
        return f"{amount / 1024**3:.1f} GiB"
    return f"{amount / 1024**2:.0f} MiB" if amount >= 1024**2 else f"{amount / 1024:.0f} KiB"
