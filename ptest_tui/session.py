"""The Session: the Python API that the CLI, batch mode and the TUI all stand on.

A Session owns the workspace's configuration, state store, engine registry and event bus.
It is synchronous and thread-safe: the TUI calls it from worker threads, batch mode fans
out with a bounded thread pool. Every method validates its input before changing anything.

    from ptest_tui.session import Session

    with Session.open() as session:
        session.create_env("unit", python="3.11")
        result = session.exec("unit", ["python", "-c", "print('hi')"])
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.config.loader import load_config
from ptest_tui.config.model import Config
from ptest_tui.config.schema import ENV_FIELDS, check_value
from ptest_tui.engines.base import EngineContext, EngineStatus, ExecResult, IsolationEngine
from ptest_tui.engines.registry import EngineRegistry
from ptest_tui.engines.selection import Selection, select_isolation
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import (
    ConfigError,
    EngineUnavailableError,
    PtestError,
    UsageError,
)
from ptest_tui.events import (
    EnvStatusChanged,
    EventBus,
)
from ptest_tui.lifecycle import EnvLifecycle
from ptest_tui.outcomes import CleanupItem, CreateOutcome, EnvView
from ptest_tui.ownership import own_start_time, owner_alive
from ptest_tui.store import EnvRecord, Store
from ptest_tui.validation import validate_name, validate_requirement
from ptest_tui.workspace import Workspace

if TYPE_CHECKING:
    from ptest_tui.advise import Advice
    from ptest_tui.batch import BatchOutcome, BatchPlan
    from ptest_tui.benchmark import BenchmarkReport, BenchmarkResult
    from ptest_tui.config.watch import ConfigWatcher
    from ptest_tui.monitor import Monitor
    from ptest_tui.objects.ports import PortAllocator
    from ptest_tui.objects.service import ObjectService
    from ptest_tui.packages.cache import CacheInfo
    from ptest_tui.packages.check import CheckReport
    from ptest_tui.packages.inventory import InstalledDist
    from ptest_tui.packages.lock import LockFile
    from ptest_tui.packages.reports import InstallOutcome, InstallReport
    from ptest_tui.packages.service import PackageService
    from ptest_tui.reports.plugin_formats import Reporter
    from ptest_tui.runs.history import RunHistory
    from ptest_tui.runs.plan import RunPlan
    from ptest_tui.runs.registry import CaseRegistry
    from ptest_tui.runs.runner import RunOptions, RunOutcome
    from ptest_tui.snapshots.rebuild import RebuildOutcome
    from ptest_tui.snapshots.records import SnapshotRecord
    from ptest_tui.snapshots.service import SnapshotService

log = logging.getLogger(__name__)

__all__ = ["CleanupItem", "CreateOutcome", "EnvView", "Session", "owner_alive"]

SPEC_KEYS = tuple(ENV_FIELDS)


class Session:
    """Facade over one workspace: configuration, state, engines and events."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        overrides: Iterable[str] = (),
        environ: Mapping[str, str] | None = None,
        bus: EventBus | None = None,
        load_plugins: bool = True,
    ) -> None:
        self.workspace = workspace
        self.config: Config = load_config(workspace.root, environ, overrides)
        self._environ, self._overrides = environ, tuple(overrides)  # for reload_config
        self.bus = bus or EventBus()
        self.session_id = uuid.uuid4().hex[:12]
        self._own_pid = os.getpid()
        self._own_start_cache: float | None = None
        self._package_service: PackageService | None = None
        context = EngineContext(
            root=workspace.root,
            state_dir=workspace.state_dir,
            config=self.config,
            workspace_id=workspace.id,
            session_id=self.session_id,
        )
        self.engines = EngineRegistry(context)
        from ptest_tui.plugins.bridge import attach_bridge
        from ptest_tui.plugins.manager import build_plugin_manager
        from ptest_tui.plugins.paths import sources_from_config

        sources = sources_from_config(self.config) if load_plugins else None
        self.plugins = build_plugin_manager(load_plugins, sources)
        attach_bridge(self)  # lifecycle hooks: the one bridge from events to plugins
        self._register_engines()
        self.store = Store(workspace.state_dir / "state.db")
        self.recovered = self.store.recover_stale(owner_alive)
        for name in self.recovered:
            log.warning("environment %s was left half-done by a killed process", name)
            status = self.store.get_env(name).status
            self.bus.publish(EnvStatusChanged(name, "", status, "recovered after a crash"))
        from ptest_tui.snapshots.recovery import recover_rebuilds

        recover_rebuilds(self)  # restores/migrations a killed process left half-done

    def _register_engines(self) -> None:
        """Collect engines from every plugin; one that raises is reported and disabled."""
        from ptest_tui.plugins.registrations import register_each

        register_each(
            self.plugins, "ptest_register_engines", lambda r: self.engines.register_all([r])
        )

    @property
    def events(self) -> EventBus:
        """The event bus: ``session.events.subscribe(EventType, fn)`` returns an
        unsubscribe function (``session.bus`` is the same object)."""
        return self.bus

    @cached_property
    def reporters(self) -> dict[str, Reporter]:
        """Report formats from plugins by name (the built-ins are html, json and junit)."""
        from ptest_tui.plugins.registrations import collect_reporters

        return collect_reporters(self.plugins)

    def run_events(self, run: str = "last") -> list[dict[str, Any]]:
        """The stored events of a run (``.ptest/runs/RUN/events.ndjson``) as dicts."""
        from ptest_tui.runs.event_log import read_events

        return read_events(self.workspace.state_dir, self.runs.get(run).id)

    @cached_property
    def ports(self) -> PortAllocator:
        """The machine-wide port allocator, with this workspace's configured range.

        Built once per session: opening it creates the ledger's schema.
        """
        from ptest_tui.objects.ports import PortAllocator
        from ptest_tui.paths import user_cache_dir

        return PortAllocator(user_cache_dir() / "ports.db", self.config.objects.ports)

    @cached_property
    def objects(self) -> ObjectService:
        """The workspace's test objects (built on first use; it settles crashed starts)."""
        from ptest_tui.objects.service import ObjectService

        return ObjectService(self)

    def object_environment(self, inside_docker: bool = False) -> dict[str, str]:
        """``PTEST_OBJ_*`` variables of running objects, for commands run in envs."""
        from ptest_tui.objects.records import ObjectRecords

        if not any(r.state == "running" for r in ObjectRecords(self.store).all()):
            return {}  # the common case costs one query, not an ObjectService
        return self.objects.environment(inside_docker=inside_docker)

    @cached_property
    def case_kinds(self) -> CaseRegistry:
        """Case kinds from every plugin (pytest, command, http, sql, ...)."""
        from ptest_tui.plugins.registrations import register_each
        from ptest_tui.runs.registry import CaseRegistry

        registry = CaseRegistry()
        register_each(self.plugins, "ptest_register_cases", lambda r: registry.register_all([r]))
        return registry

    @cached_property
    def runs(self) -> RunHistory:
        """Stored runs and results (runs left running by a killed process are settled)."""
        from ptest_tui.runs.history import RunHistory

        history = RunHistory(self.store)
        history.settle_stale(owner_alive)
        return history

    def plan_run(
        self,
        selection: Sequence[str] = (),
        *,
        envs: Sequence[str] = (),
        rerun_failed: str | None = None,
    ) -> RunPlan:
        """Check a run of suites or cases (``suite``, ``suite/case``, ``case``) in envs."""
        from ptest_tui.runs.plan import build_plan

        self.runs  # noqa: B018 - settle runs of killed processes before numbering a new one
        return build_plan(self, self.case_kinds, selection, envs, rerun_failed)

    def run(
        self,
        selection: Sequence[str] = (),
        *,
        envs: Sequence[str] = (),
        rerun_failed: str | None = None,
        options: RunOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> RunOutcome:
        """Plan (everything checked first), then execute; results stream as events."""
        from ptest_tui.runs.runner import RunOptions, run_plan

        plan = self.plan_run(selection, envs=envs, rerun_failed=rerun_failed)
        return run_plan(self, plan, options or RunOptions(), cancel)

    def watch_config(self) -> ConfigWatcher:
        """Watch ptest.toml and apply valid changes live (see ptest_tui.config.watch)."""
        from ptest_tui.config.watch import ConfigWatcher

        return ConfigWatcher(self).start()

    def reload_config(self) -> Config | None:
        """Load the configuration again: apply it when valid, keep the old one otherwise.

        Publishes ConfigReloaded (with the sections that changed) or ConfigReloadFailed
        (the problem with file and line); returns the new config or None.
        """
        from ptest_tui.config.loader import config_file_for
        from ptest_tui.config.locate import with_line
        from ptest_tui.events import ConfigReloaded, ConfigReloadFailed

        path = config_file_for(self.workspace.root)
        if not path.is_file():
            self.bus.publish(ConfigReloadFailed(
                f"{path.name} is gone; keeping the previous configuration",
                "restore the file (the change is picked up when it is back)",
            ))
            return None
        try:
            new = load_config(self.workspace.root, self._environ, self._overrides)
        except PtestError as exc:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                text = ""
            self.bus.publish(ConfigReloadFailed(with_line(exc.message, text), exc.hint))
            return None
        old = self.config
        keys = sorted(set(old.raw) | set(new.raw))
        changed = tuple(k for k in keys if old.raw.get(k) != new.raw.get(k))
        self.config = new
        self.engines.set_config(new)
        self.bus.publish(ConfigReloaded(changed, tuple(new.sources)))
        return new

    def owner(self) -> tuple[int, float]:
        """This process as the owner of a transient state: pid and start time."""
        return self._own_pid, self._own_start

    @property
    def _own_start(self) -> float:
        # psutil costs ~30 ms to import; only pay it when a transient state is claimed.
        if self._own_start_cache is None:
            self._own_start_cache = own_start_time()
        return self._own_start_cache

    @classmethod
    def open(
        cls,
        start: str | Path | None = None,
        *,
        workspace: str | Path | None = None,
        overrides: Iterable[str] = (),
        environ: Mapping[str, str] | None = None,
        bus: EventBus | None = None,
    ) -> Session:
        """Open the workspace at ``workspace``, or the nearest one at or above ``start``."""
        return cls(
            Workspace.locate(start, workspace), overrides=overrides, environ=environ, bus=bus
        )

    def close(self) -> None:
        """Release the store."""
        self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- specs and selection ------------------------------------------------------------

    def spec_for(self, name: str, **options: Any) -> EnvSpec:
        """Build a validated spec: the env declared in ptest.toml (if any) plus ``options``.

        ``options`` use the ptest.toml keys (isolation, python, image, memory, cpus, pids,
        network, workspace_mount, packages, env, description); None values are ignored and
        strings such as ``memory="512m"`` are parsed.
        """
        validate_name(name)
        declared = dict(self.config.envs.get(name, {}))
        for key, value in options.items():
            if key not in ENV_FIELDS:
                raise UsageError(f"unknown environment option {key!r}", "see docs/config.md")
            if value is None or value == "" or value == () or value == []:
                continue
            if isinstance(value, tuple):
                value = list(value)
            try:
                declared[key] = check_value(ENV_FIELDS[key], value, "options", key)
            except ConfigError as exc:
                # Flags get the plain message without the "options: key:" prefix.
                raise UsageError(exc.message.split(": ", 2)[-1], exc.hint) from None
        isolation = declared.pop("isolation", "") or self.config.defaults.isolation or "auto"
        if isolation != "auto" and isolation not in self.engines.names():
            raise UsageError(
                f"unknown isolation level {isolation!r}",
                "use one of: auto, " + ", ".join(self.engines.names()),
            )
        for requirement in declared.get("packages", []):
            validate_requirement(requirement)
        data = {**declared, "name": name, "isolation": isolation}
        return EnvSpec.from_dict(data)

    def select(self, spec: EnvSpec) -> Selection:
        """The isolation level ``spec`` gets, and why (no side effects)."""
        return select_isolation(spec, self.engines.capabilities())

    def engine_for(self, level: str) -> IsolationEngine:
        """The engine for ``level``; raises EngineUnavailableError with a doctor hint."""
        engine = self.engines.get(level)
        reason = engine.unavailable_reason()
        if reason:
            raise EngineUnavailableError(
                f"the {level} engine is unavailable: {reason}",
                "run `ptest-tui doctor` to see what is missing and how to install it",
            )
        return engine

    # -- environments -------------------------------------------------------------------

    def list_envs(self, include_declared: bool = True) -> list[EnvView]:
        """Stored environments plus (optionally) those only declared in ptest.toml."""
        views = [
            EnvView(r.name, r.status, r.isolation, r.reason, r) for r in self.store.list_envs()
        ]
        if include_declared:
            stored = {v.name for v in views}
            for name in self.config.envs:
                if name in stored:
                    continue
                try:
                    selection = self.select(self.spec_for(name))
                    views.append(EnvView(name, "declared", selection.level, selection.reason, None))
                except PtestError as exc:
                    views.append(EnvView(name, "declared", "?", exc.message, None))
        return sorted(views, key=lambda v: v.name)

    def get_env(self, name: str) -> EnvRecord:
        """The stored environment (EnvNotFoundError if none)."""
        return self.store.get_env(name)

    def env_status(self, name: str) -> EngineStatus:
        """What the engine sees of the environment right now."""
        record = self.store.get_env(name)
        return self.engines.get(record.isolation).status(record)

    @cached_property
    def lifecycle(self) -> EnvLifecycle:
        """Create, repair, delete and exec (ptest_tui.lifecycle does the work)."""
        return EnvLifecycle(self)

    def create_env(
        self, name_or_spec: str | EnvSpec, cancel: CancelToken | None = None, **options: Any
    ) -> EnvRecord:
        """Create one environment and return its record once it is ready.

        Validation (name, options, level, engine availability, interpreter, image) runs
        first; a failure then changes nothing. A failure while creating removes what was
        made; only a killed process can leave an env behind, and the next start marks it
        broken.
        """
        return self.lifecycle.create(name_or_spec, cancel, **options)

    def check_create(self, spec: EnvSpec) -> tuple[Selection, IsolationEngine]:
        """Every check :meth:`create_env` makes before it changes anything (raises the
        first problem). Front ends call it for each env of a bulk request, so one bad
        entry fails the whole request before any env is created."""
        return self.lifecycle.check_create(spec)

    def create_envs(
        self,
        specs: Sequence[EnvSpec | str],
        *,
        max_workers: int | None = None,
        cancel: CancelToken | None = None,
        on_done: Callable[[CreateOutcome], None] | None = None,
    ) -> list[CreateOutcome]:
        """Create many environments in parallel; one failure does not stop the others."""
        return self.lifecycle.create_many(
            specs, max_workers=max_workers, cancel=cancel, on_done=on_done
        )

    def max_workers(self) -> int:
        """Parallel workers for bulk operations (config, else from the CPU count)."""
        configured = self.config.defaults.max_workers
        return configured if configured > 0 else min(32, (os.cpu_count() or 1) * 4)

    def exec(
        self,
        name: str,
        argv: Sequence[str],
        *,
        on_output: Callable[[str, str], None] | None = None,
        cancel: CancelToken | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the environment, streaming each line as an OutputLine event.

        While it runs the env is ``busy`` (several commands may run at once), so it cannot
        be deleted or repaired under them without ``force``.
        """
        return self.lifecycle.exec(
            name, argv, on_output=on_output, cancel=cancel, cwd=cwd, env=env, timeout=timeout
        )

    def delete_env(self, name: str, force: bool = False) -> None:
        """Delete an environment and everything its engine made."""
        self.lifecycle.delete(name, force)

    def delete_envs(
        self, names: Sequence[str], *, max_workers: int | None = None
    ) -> dict[str, PtestError | None]:
        """Delete several environments in parallel; returns each name's error or None."""
        return self.lifecycle.delete_many(names, max_workers=max_workers)

    def repair_env(self, name: str, cancel: CancelToken | None = None) -> EnvRecord:
        """Rebuild a broken environment from its stored spec (leftovers are removed first)."""
        return self.lifecycle.repair(name, cancel)

    def cleanup(self, dry_run: bool = False, include_broken: bool = True) -> list[CleanupItem]:
        """Remove leftovers: broken envs and resources no stored environment owns.

        One item that cannot be removed (say, its engine is down) is reported with its
        error and the others are still removed.
        """
        from ptest_tui.cleanup import cleanup

        return cleanup(self, dry_run=dry_run, include_broken=include_broken)

    # -- packages (ptest_tui.packages.service does the work; see docs/packages.md) ---------

    @property
    def package_service(self) -> PackageService:
        """The package operations of this session."""
        from ptest_tui.packages.service import PackageService

        if self._package_service is None:
            self._package_service = PackageService(self)
        return self._package_service

    def install(
        self,
        env: str,
        requirements: Sequence[str] = (),
        *,
        requirement_files: Sequence[str | Path] = (),
        upgrade: bool = False,
        installer: str | None = None,
        cancel: CancelToken | None = None,
    ) -> InstallReport:
        """Install requirements into ``env`` after resolving them with what it has."""
        return self.package_service.install(
            env, requirements, requirement_files=requirement_files, upgrade=upgrade,
            installer=installer, cancel=cancel,
        )

    def plan_install(
        self, env: str, requirements: Sequence[str] = (), **options: Any
    ) -> InstallReport:
        """What installing would change in ``env``, resolved but not installed (dry run)."""
        return self.package_service.plan(env, requirements, **options)

    def install_many(
        self, envs: Sequence[str], requirements: Sequence[str] = (), **options: Any
    ) -> list[InstallOutcome]:
        """Install into many envs in parallel (see PackageService.install_many)."""
        return self.package_service.install_many(envs, requirements, **options)

    def uninstall(self, env: str, names: Sequence[str], **options: Any) -> InstallReport:
        """Remove installed distributions from ``env``."""
        return self.package_service.uninstall(env, names, **options)

    def packages(self, env: str, outdated: bool = False) -> list[InstalledDist]:
        """Installed distributions of ``env`` (only out-of-date ones with ``outdated``)."""
        return self.package_service.packages(env, outdated)

    def check_packages(self, env: str) -> CheckReport:
        """Missing and conflicting requirements in ``env`` (like pip check)."""
        return self.package_service.check(env)

    def lock(self, env: str, path: str | Path | None = None) -> LockFile:
        """A hash-pinned lock of everything in ``env``, written to ``path`` if given."""
        return self.package_service.lock(env, path)

    def sync(self, env: str, lock_path: str | Path, **options: Any) -> InstallReport:
        """Make ``env`` exactly the set in a lock file."""
        return self.package_service.sync(env, lock_path, **options)

    def cache_info(self) -> CacheInfo:
        """The shared package cache: size, entries, location, last hit rate."""
        return self.package_service.cache_info()

    def cache_clean(self) -> int:
        """Empty the shared package cache; returns the bytes freed."""
        return self.package_service.cache_clean()

    def monitor(self, targets: Sequence[str] = (), **options: Any) -> Monitor:
        """A resource Monitor of the host, envs and objects (see ptest_tui.monitor)."""
        from ptest_tui.monitor import Monitor

        return Monitor(self, targets, **options)

    # -- snapshots, restore and migration (ptest_tui.snapshots; see docs/snapshots.md) ------

    @cached_property
    def snapshots(self) -> SnapshotService:
        """Snapshot operations: list, show, delete, diff, export, import."""
        from ptest_tui.snapshots.service import SnapshotService

        return SnapshotService(self)

    def snapshot(
        self, env: str, tag: str | None = None, message: str | None = None, **options: Any
    ) -> SnapshotRecord:
        """Record ``env``'s lock, HOME files and settings (options: include, exclude,
        container_fs, cancel)."""
        return self.snapshots.create(env, tag=tag, message=message, **options)

    def restore(
        self, snapshot_id: str, as_name: str | None = None, cancel: CancelToken | None = None
    ) -> RebuildOutcome:
        """Rebuild a snapshot's env exactly, verified; atomic over an existing env."""
        return self.snapshots.restore(snapshot_id, as_name, cancel)

    def migrate(
        self, env: str, to: str, keep_source: bool = False, **options: Any
    ) -> RebuildOutcome:
        """Rebuild ``env`` at level ``to`` and switch over once verified (options: smoke,
        cancel)."""
        return self.snapshots.migrate(env, to, keep_source=keep_source, **options)

    # -- batch plans (ptest_tui.batch; see docs/batch.md) -----------------------------------

    def run_plan(
        self,
        plan: str | Path | BatchPlan,
        *,
        keep: bool = False,
        parallel: int = 0,
        cancel: CancelToken | None = None,
    ) -> BatchOutcome:
        """Check and execute a batch plan (a plan file or a loaded BatchPlan); ``keep``
        leaves what it made. Bad plans raise ConfigError before anything runs."""
        from ptest_tui.batch import BatchOptions, execute, load_plan

        loaded = load_plan(plan) if isinstance(plan, str | Path) else plan
        return execute(self, loaded, BatchOptions(keep=keep, parallel=parallel), cancel)

    # -- advice and engine benchmarks (ptest_tui.advise, ptest_tui.benchmark) ---------------

    def advise(self, env: str | None = None, **options: Any) -> list[Advice]:
        """Suggestions from history, each with its evidence, most severe first (all envs,
        or ``env``). Options: idle_days, runs, slowest, slow_share, slow_seconds,
        flaky_flips, memory_factor (override [advise]), now, rules. See docs/advise.md."""
        from ptest_tui.advise import advise

        return list(advise(self, env, **options).advice)

    def benchmark_engines(
        self,
        engines: str | Sequence[str] | None = None,
        scenarios: str | Sequence[str] | None = None,
        *,
        runs: int = 3,
        cancel: CancelToken | None = None,
        on_progress: Callable[[str, str, int, int], None] | None = None,
        on_result: Callable[[BenchmarkResult], None] | None = None,
    ) -> BenchmarkReport:
        """Measure engines (all by default) on create, install, exec and snapshot, ``runs``
        times each; results are stored for ``advise``. Unavailable engines are skipped
        with the reason; temporary envs are always removed."""
        from ptest_tui.benchmark import benchmark_engines

        return benchmark_engines(self, engines, scenarios, runs=runs, cancel=cancel,
                                 on_progress=on_progress, on_result=on_result)
