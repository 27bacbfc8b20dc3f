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


@dataclass(frozen=True)
class MonitorSample(Event):
    """One resource sample of a monitored target (see docs/monitoring.md).

    ``target_kind`` is host, env or object; CPU is in percent of one core; rates are bytes
    per second over the last interval; None means not available for this target.
    """

    target: str
    target_kind: str
    state: str  # running, idle, stopped, missing, waiting, unsupported, error
    cpu_percent: float | None = None
    memory_bytes: int | None = None
    memory_limit: int | None = None
    read_bps: float | None = None
    write_bps: float | None = None
    rx_bps: float | None = None
    tx_bps: float | None = None
    processes: int | None = None
    disk_free: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class MonitorAlert(Event):
    """A monitored value crossed its threshold (sent once per crossing)."""

    target: str
    target_kind: str
    metric: str  # cpu_percent, memory, disk_free
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class MonitorAlertCleared(Event):
    """A value that raised a MonitorAlert is back within its threshold (same fields)."""

    target: str
    target_kind: str
    metric: str
    value: float
    threshold: float
    message: str


# -- snapshots, restores and migrations (ptest_tui/snapshots) ------------------------------


@dataclass(frozen=True)
class SnapshotCreated(Event):
    """A snapshot of an environment was stored."""

    snapshot_id: str
    env: str
    files: int = 0
    packages: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class SnapshotRestored(Event):
    """An environment was rebuilt from a snapshot and verified."""

    snapshot_id: str
    env: str
    seconds: float = 0.0


@dataclass(frozen=True)
class MigrationStep(Event):
    """One step of a restore or migration, for progress (``index`` of ``total``, from 1).

    Steps: checking, snapshot, building, packages, files, container-fs, verifying,
    switching, done; ``recovered`` when a start cleans up after a killed one.
    """

    env: str
    action: str  # "restore" or "migrate"
    step: str
    index: int = 0
    total: int = 0
    detail: str = ""


@dataclass(frozen=True)
class MigrationFailed(Event):
    """A restore or migration failed; the environment it was for is unchanged."""

    env: str
    action: str
    message: str


@dataclass(frozen=True)
class ConfigReloaded(Event):
    """ptest.toml changed and the new configuration is in effect."""

    changed: tuple[str, ...]  # top-level sections whose values changed
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigReloadFailed(Event):
    """ptest.toml changed but is invalid (or gone): the previous configuration stays."""

    message: str  # names the file, the key path or line
    hint: str = ""


# -- plugins, and engine actions that had no event yet (docs/plugins.md) -------------------


@dataclass(frozen=True)
class PluginFailed(Event):
    """A plugin raised (or returned something invalid) in ``hook``; it is disabled for the
    rest of the session and everything else goes on. ``hook`` is ``load`` for a plugin
    that could not be imported."""

    plugin: str
    hook: str
    message: str


@dataclass(frozen=True)
class ObjectAdded(Event):
    """A test object was stored with ``obj add`` (declared objects need no event)."""

    object: str
    object_kind: str


@dataclass(frozen=True)
class CleanupFailed(Event):
    """Cleanup could not remove a leftover; it stays, and the others are still removed."""

    resource: str
    name: str
    message: str


@dataclass(frozen=True)
class PackageCacheCleaned(Event):
    """The shared package cache was emptied."""

    bytes_freed: int
