"""Frozen-dataclass events published by the engine core.

Front ends subscribe to these; the engine never prints. Every event is JSON-serialisable
through :meth:`Event.to_dict` (batch mode's NDJSON, stored run logs).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """Base of all events; ``at`` is a Unix timestamp."""

    at: float = field(default_factory=time.time, kw_only=True)

    @property
    def kind(self) -> str:
        """Stable event name used in NDJSON output, e.g. ``env_created``."""
        name = type(self).__name__
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")

    def to_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data, with its kind."""
        return {"event": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class EnvCreating(Event):
    """An environment started being created."""

    env: str
    isolation: str
    reason: str


@dataclass(frozen=True)
class EnvCreated(Event):
    """An environment is ready."""

    env: str
    isolation: str
    seconds: float


@dataclass(frozen=True)
class EnvFailed(Event):
    """Creating or changing an environment failed; it is marked broken."""

    env: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class EnvDeleting(Event):
    """An environment started being deleted."""

    env: str


@dataclass(frozen=True)
class EnvDeleted(Event):
    """An environment and everything it owned are gone."""

    env: str


@dataclass(frozen=True)
class EnvStatusChanged(Event):
    """An environment moved between states (creating, ready, busy, broken, deleting)."""

    env: str
    old: str
    new: str
    note: str = ""


@dataclass(frozen=True)
class OutputLine(Event):
    """One line of output from a command running in an environment."""

    env: str
    stream: str  # "stdout" or "stderr"
    line: str


@dataclass(frozen=True)
class ImageBuildStep(Event):
    """Progress of ``image build``: a step name and a free-form detail."""

    tag: str
    step: str
    detail: str = ""


@dataclass(frozen=True)
class CleanupRemoved(Event):
    """Cleanup removed a leftover resource (container, network, volume, folder, env)."""

    resource: str
    name: str
    reason: str


@dataclass(frozen=True)
class PackagePhase(Event):
    """Progress of a package operation in one env: resolving, downloading or installing.

    ``done``/``total`` are counts of distributions (0 when not known yet).
    """

    env: str
    phase: str
    done: int = 0
    total: int = 0
    detail: str = ""


@dataclass(frozen=True)
class PackagesInstalled(Event):
    """A package operation finished in one env."""

    env: str
    installed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    seconds: float = 0.0
    cache_hits: int = 0
    downloads: int = 0


@dataclass(frozen=True)
class PackageInstallFailed(Event):
    """A package operation failed in one env; the env is unchanged."""

    env: str
    message: str


@dataclass(frozen=True)
class ObjectStarting(Event):
    """A test object is being started."""

    object: str
    object_kind: str
    runtime: str


@dataclass(frozen=True)
class ObjectStarted(Event):
    """A test object is ready; ``url`` has its password redacted."""

    object: str
    object_kind: str
    seconds: float
    port: int | None = None
    url: str = ""


@dataclass(frozen=True)
class ObjectStopped(Event):
    """A test object was stopped (its data is kept)."""

    object: str


@dataclass(frozen=True)
class ObjectFailed(Event):
    """A test object could not start, or was found dead."""

    object: str
    message: str


@dataclass(frozen=True)
class ObjectRemoved(Event):
    """A test object and its data were deleted."""

    object: str


@dataclass(frozen=True)
class RunStarted(Event):
    """A run began: which suites in which envs."""

    run_id: str
    units: tuple[str, ...]  # "suite[env]" in the order they were planned
    cases: int  # configured cases to execute (pytest cases count once)


@dataclass(frozen=True)
class CaseStarted(Event):
    """A case began in one env (``attempt`` counts retries from 1)."""

    run_id: str
    suite: str
    env: str
    case: str
    attempt: int = 1


@dataclass(frozen=True)
class CaseFinished(Event):
    """One result arrived (a pytest case sends one per test, live)."""

    run_id: str
    suite: str
    env: str
    case: str
    status: str
    duration: float
    message: str = ""
    parent: str = ""
    flaky: bool = False


@dataclass(frozen=True)
class CaseDone(Event):
    """A configured case finished in one env (after retries): its overall status and how
    many results it gave (a pytest case gives one per test)."""

    run_id: str
    suite: str
    env: str
    case: str
    status: str
    results: int
    attempts: int = 1


@dataclass(frozen=True)
class RunFinished(Event):
    """A run ended; ``counts`` by outcome."""

    run_id: str
    status: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""
