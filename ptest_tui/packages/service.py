"""Package operations on a session's environments: the code behind ``Session.install`` & co.

Every operation validates first (env exists and is ready, requirements parse, files exist)
and only then acts. While it changes an env it holds a per-env file lock (no two processes
install into one env) and a lease (the env shows busy and cannot be deleted under it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import IsolationEngine, PackageTarget
from ptest_tui.errors import (
    CancelledError,
    PackageError,
    PackageUsageError,
    PtestError,
    UsageError,
)
from ptest_tui.events import (
    PackageCacheCleaned,
    PackageInstallFailed,
    PackagePhase,
    PackagesInstalled,
)
from ptest_tui.lifecycle import state_error
from ptest_tui.packages import cache as cache_mod
from ptest_tui.packages.check import CheckReport, check_inventory
from ptest_tui.packages.container_cache import fill_host_cache
from ptest_tui.packages.hold import hold_env
from ptest_tui.packages.index import IndexConfig, redact
from ptest_tui.packages.installers import BACKENDS, Installer
from ptest_tui.packages.inventory import (
    PIP_TOOLING,
    InstalledDist,
    Inventory,
    read_inventory,
)
from ptest_tui.packages.lock import LockFile, compile_lock, read_lock, verify
from ptest_tui.packages.parallel import install_many
from ptest_tui.packages.progress import Tally
from ptest_tui.packages.reports import InstallOutcome, InstallReport
from ptest_tui.packages.requirements import RequirementLine, collect, parse_requirement
from ptest_tui.packages.resolve import pins_for, resolve

if TYPE_CHECKING:
    from ptest_tui.session import Session
    from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)

PURPOSE_ITEMS = 3  # requirements named in a lease's purpose; the rest are counted


def purpose(command: str, items: Sequence[str]) -> str:
    """What a lease says the env is busy with: ``pkg install a b c (+97 more)``.

    The purpose shows in ``env status``, the app's table and every status-change event;
    a hundred requirements would make each of those a paragraph.
    """
    shown = " ".join(items[:PURPOSE_ITEMS])
    rest = len(items) - PURPOSE_ITEMS
    return f"{command} {shown} (+{rest} more)" if rest > 0 else f"{command} {shown}"


class PackageService:
    """Install, uninstall, list, check, lock and sync packages in a session's envs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- validation helpers ------------------------------------------------------------

    @property
    def index(self) -> IndexConfig:
        """The effective index configuration."""
        return IndexConfig.from_config(self.session.config)

    def installer_name(self, override: str | None = None) -> str:
        """uv or pip: the flag, else packages.installer, else defaults.installer."""
        config = self.session.config
        name = override or config.packages.installer or config.defaults.installer or "uv"
        if name not in BACKENDS:
            raise UsageError(f"unknown installer {name!r}", "use uv or pip")
        return name

    def _target(self, name: str, action: str) -> tuple[EnvRecord, IsolationEngine, PackageTarget]:
        """The env's record, engine and package target; EnvStateError unless it is usable."""
        record = self.session.store.get_env(name)
        if record.status not in ("ready", "busy"):
            raise state_error(record, action)
        engine = self.session.engine_for(record.isolation)
        target = engine.package_target(record)
        if target is None:
            raise PackageUsageError(
                f"{record.isolation} environment {name!r} cannot hold packages",
                "create a virtualenv or docker environment for packages",
            )
        return record, engine, target

    def _installer(
        self, record: EnvRecord, engine: IsolationEngine, target: PackageTarget, name: str
    ) -> Installer:
        index = self.index
        wheelhouse = getattr(engine, "wheelhouse", None)
        if name == "pip" and target.in_container and wheelhouse is not None:
            # pip in a container has no network and cannot read uv's cache: it installs
            # from the wheelhouse the host fills (see packages/container_cache.py).
            index = IndexConfig(find_links=(wheelhouse(record),), offline=True)
        return BACKENDS[name](engine, record, target, index)

    def hold(self, name: str, purpose: str) -> contextlib.AbstractContextManager[None]:
        """The per-env file lock and a lease for the duration of a change (packages/hold.py)."""
        return hold_env(self.session, name, purpose)

    def _phase_callback(self, env: str) -> Callable[[str, int, int, str], None]:
        bus = self.session.bus

        def on_phase(phase: str, done: int, total: int, detail: str) -> None:
            bus.publish(PackagePhase(env, phase, done, total, redact(detail)))

        return on_phase

    # -- inventory ------------------------------------------------------------------------

    def inventory(
        self,
        record: EnvRecord,
        engine: IsolationEngine,
        target: PackageTarget,
        cancel: CancelToken | None = None,
    ) -> Inventory:
        """Installed distributions and marker values of the env's interpreter."""
        return read_inventory(record, engine, target, cancel)

    # -- operations ---------------------------------------------------------------------

    def check_install(
        self,
        env: str,
        requirements: Sequence[str] = (),
        requirement_files: Sequence[str | Path] = (),
        installer: str | None = None,
    ) -> list[RequirementLine]:
        """Every check :meth:`install` makes before it changes anything."""
        self._target(env, "install packages into")
        self.installer_name(installer)
        lines = collect(requirements, requirement_files)
        if not lines:
            raise UsageError("no packages given", "name packages or give -r FILE")
        return lines

    def plan(
        self,
        env: str,
        requirements: Sequence[str] = (),
        *,
        requirement_files: Sequence[str | Path] = (),
        upgrade: bool = False,
        installer: str | None = None,
        cancel: CancelToken | None = None,
    ) -> InstallReport:
        """Resolve the request with what ``env`` has and report what would change.

        Nothing is installed; conflicts and missing packages raise the same errors as
        :meth:`install`. The report's ``installed`` names what would be added or changed.
        """
        lines = self.check_install(env, requirements, requirement_files, installer)
        backend = self.installer_name(installer)
        cancel = cancel or CancelToken()
        started = time.monotonic()
        texts = [line.text for line in lines]
        record, engine, target, tool, pins = self._request(env, backend, lines, upgrade, cancel)
        fill_host_cache(tool, engine, record, target, texts, pins, self.index, cancel)
        tally = resolve(tool, texts, pins, upgrade=upgrade, cancel=cancel)
        return InstallReport.from_tally(env, backend, tally, time.monotonic() - started)

    def _request(
        self,
        env: str,
        backend: str,
        lines: Sequence[RequirementLine],
        upgrade: bool,
        cancel: CancelToken,
    ) -> tuple[EnvRecord, IsolationEngine, PackageTarget, Installer, list[str]]:
        """The env's record, engine, target and installer, and the pins of what it has."""
        record, engine, target = self._target(env, "install packages into")
        tool = self._installer(record, engine, target, backend)
        current = self.inventory(record, engine, target, cancel)
        return record, engine, target, tool, pins_for(current.dists, lines, upgrade)

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
        """Resolve the request with what ``env`` has, then install it (or change nothing)."""
        lines = self.check_install(env, requirements, requirement_files, installer)
        backend = self.installer_name(installer)
        cancel = cancel or CancelToken()
        started = time.monotonic()
        texts = [line.text for line in lines]
        try:
            with self.hold(env, purpose("pkg install", texts)):
                record, engine, target, tool, pins = self._request(
                    env, backend, lines, upgrade, cancel
                )
                on_phase = self._phase_callback(env)

                def attempt() -> Tally:
                    cancel.raise_if_cancelled("install")
                    if backend != "uv":
                        # uv resolves before it installs; pip gets a dry run first.
                        resolve(tool, texts, pins, upgrade=upgrade, cancel=cancel,
                                on_phase=on_phase)
                    return tool.install_cached_first(
                        texts, upgrade=upgrade, pins=pins, cancel=cancel, on_phase=on_phase
                    )

                tally = None
                if target.in_container and not upgrade:
                    # Offline first: when the shared cache already holds everything, the
                    # host-side fill (a network resolution plus a throwaway install) is
                    # skipped. A failed resolution changes nothing; any failure falls
                    # through to the fill and a second attempt, whose error is the one
                    # reported. --upgrade always asks the index.
                    try:
                        tally = attempt()
                    except CancelledError:
                        raise
                    except PtestError as first:
                        log.debug("offline install in %s failed (%s); filling the cache",
                                  env, first.message)
                if tally is None:
                    fill_host_cache(
                        tool, engine, record, target, texts, pins, self.index, cancel
                    )
                    tally = attempt()
        except PtestError as exc:
            self.session.bus.publish(PackageInstallFailed(env, redact(exc.message)))
            raise
        report = InstallReport.from_tally(env, backend, tally, time.monotonic() - started)
        cache_mod.record_install(env, backend, report.cache_hits, report.downloads)
        self._recount(record, engine, target)
        self._announce(report)
        return report

    def _recount(self, record: EnvRecord, engine: IsolationEngine, target: PackageTarget) -> None:
        """Store the env's package count after a change (listings show it without asking)."""
        try:
            self.remember_count(record.name, len(self.inventory(record, engine, target).dists))
        except PtestError as exc:  # the change itself worked; the count stays as it was
            log.debug("cannot count the packages of %s: %s", record.name, exc.message)

    def remember_count(self, env: str, count: int) -> None:
        """Store ``count`` as the number of distributions ``env`` has."""
        self.session.store.set_package_count(env, count)

    def _announce(self, report: InstallReport) -> None:
        self.session.bus.publish(
            PackagesInstalled(
                report.env,
                report.installed,
                report.removed,
                report.seconds,
                report.cache_hits,
                report.downloads,
            )
        )

    def install_many(
        self,
        envs: Sequence[str],
        requirements: Sequence[str] = (),
        **options: Any,
    ) -> list[InstallOutcome]:
        """Install into many envs in parallel; one failing env does not stop the others
        (options and validation: :func:`ptest_tui.packages.parallel.install_many`)."""
        return install_many(self, envs, requirements, **options)

    def uninstall(
        self,
        env: str,
        names: Sequence[str],
        *,
        installer: str | None = None,
        cancel: CancelToken | None = None,
    ) -> InstallReport:
        """Remove installed distributions; every name must be installed."""
        record, engine, target = self._target(env, "uninstall packages from")
        backend = self.installer_name(installer)
        if not names:
            raise UsageError("no packages given", "name the packages to uninstall")
        keys = [parse_requirement(name).name for name in names]
        installed = self.inventory(record, engine, target).by_key()
        missing = [name for name, key in zip(names, keys, strict=True) if key not in installed]
        if missing:
            raise PackageUsageError(
                f"not installed in {env}: {', '.join(missing)}", f"see `ptest-tui pkg list {env}`"
            )
        started = time.monotonic()
        cancel = cancel or CancelToken()
        try:
            with self.hold(env, purpose("pkg uninstall", names)):
                record, engine, target = self._target(env, "uninstall packages from")
                tool = self._installer(record, engine, target, backend)
                tally = tool.uninstall([installed[key].name for key in keys], cancel)
        except PtestError as exc:
            self.session.bus.publish(PackageInstallFailed(env, redact(exc.message)))
            raise
        removed = tuple(tally.removed) or tuple(
            f"{installed[key].name}=={installed[key].version}" for key in keys
        )
        report = InstallReport(env, backend, (), removed, time.monotonic() - started)
        self._recount(record, engine, target)
        self._announce(report)
        return report

    def packages(
        self,
        env: str,
        outdated: bool = False,
        *,
        installer: str | None = None,
        cancel: CancelToken | None = None,
    ) -> list[InstalledDist]:
        """Installed distributions; with ``outdated``, only those with a newer release."""
        record, engine, target = self._target(env, "list the packages of")
        if outdated and self.index.offline:
            raise PackageUsageError(
                "cannot look for newer versions offline", "unset packages.offline to ask the index"
            )
        dists = list(self.inventory(record, engine, target, cancel).dists)
        if record.package_count != len(dists):
            self.remember_count(env, len(dists))
        if not outdated:
            return dists
        tool = self._installer(record, engine, target, self.installer_name(installer))
        latest = tool.outdated(cancel or CancelToken())
        return [
            InstalledDist(d.name, d.version, d.requires, d.installer, latest[d.key])
            for d in dists
            if d.key in latest
        ]

    def check(self, env: str) -> CheckReport:
        """Missing and conflicting requirements among what is installed (like pip check)."""
        record, engine, target = self._target(env, "check the packages of")
        return check_inventory(env, self.inventory(record, engine, target))

    def lock(
        self, env: str, path: str | Path | None = None, cancel: CancelToken | None = None
    ) -> LockFile:
        """Exact versions with hashes of everything installed; written to ``path`` if given."""
        from ptest_tui.engines.virtualenv import find_uv

        record, engine, target = self._target(env, "lock the packages of")
        uv = find_uv()
        if uv is None:
            raise PackageError("locking needs the uv binary", "install uv (pip install uv)")
        current = self.inventory(record, engine, target, cancel)
        pins = [f"{d.name}=={d.version}" for d in current.dists if d.key not in PIP_TOOLING]
        if not pins:
            raise PackageUsageError(f"nothing is installed in {env}", "install packages first")
        python = current.markers.get("python_full_version", "")
        lock = compile_lock(uv, env, pins, python, self.index, cancel or CancelToken())
        if path is not None:
            out = Path(path)
            try:
                out.write_text(lock.text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {out}: {exc.strerror}", "check the path") from None
            lock = LockFile(lock.env, lock.text, lock.pins, str(out))
        return lock

    def sync(
        self,
        env: str,
        lock_path: str | Path,
        *,
        installer: str | None = None,
        cancel: CancelToken | None = None,
    ) -> InstallReport:
        """Make ``env`` exactly the set pinned in ``lock_path`` (hashes checked), then verify."""
        self._target(env, "sync")
        backend = self.installer_name(installer)
        expected = read_lock(lock_path)
        cancel = cancel or CancelToken()
        started = time.monotonic()
        lock_file = str(Path(lock_path).resolve())
        try:
            with self.hold(env, f"pkg sync {Path(lock_path).name}"):
                record, engine, target = self._target(env, "sync")
                tool = self._installer(record, engine, target, backend)
                pinned = [f"{n}=={v}" for n, v in expected]
                fill_host_cache(tool, engine, record, target, pinned, (), self.index, cancel)
                tally = tool.sync(lock_file, cancel, self._phase_callback(env))
                after = self.inventory(record, engine, target, cancel).by_key()
                keep = {name for name, _ in expected}
                if backend == "pip":
                    # pip cannot sync: install the lock, then remove what it does not name.
                    extras = [
                        d.name for k, d in after.items() if k not in keep and k not in PIP_TOOLING
                    ]
                    if extras:
                        tally.removed += tool.uninstall(extras, cancel).removed
                    after = self.inventory(record, engine, target, cancel).by_key()
                count = len(after)
                after = {k: d for k, d in after.items() if k not in PIP_TOOLING or k in keep}
                verify(expected, {k: d.version for k, d in after.items()}, env)
        except PtestError as exc:
            self.session.bus.publish(PackageInstallFailed(env, redact(exc.message)))
            raise
        self.remember_count(env, count)
        report = InstallReport.from_tally(env, backend, tally, time.monotonic() - started)
        self._announce(report)
        return report

    # -- cache --------------------------------------------------------------------------

    def cache_info(self) -> cache_mod.CacheInfo:
        """Size, entries and location of the shared cache, and the last install's hit rate."""
        return cache_mod.cache_info()

    def cache_clean(self) -> int:
        """Empty the shared cache; returns the bytes freed."""
        from ptest_tui.engines.virtualenv import find_uv

        freed = cache_mod.clean_cache(find_uv())
        self.session.bus.publish(PackageCacheCleaned(freed))
        return freed


__all__ = ["CancelledError", "PackageService"]
