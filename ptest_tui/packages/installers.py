"""One installer interface, two backends: uv (default) and pip.

An installer only builds argument lists; the env's engine runs them through
``run_package_tool`` (``argv[0]`` is ``"uv"`` or ``"python"``), so the same code serves
basic envs (``--target`` folder), virtualenvs and containers.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import IsolationEngine, PackageTarget
from ptest_tui.errors import CancelledError, PackageError, PtestError
from ptest_tui.packages.errors import classify
from ptest_tui.packages.index import IndexConfig
from ptest_tui.packages.progress import OutputParser, PhaseCallback, Tally

if TYPE_CHECKING:
    from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)


@dataclass
class Installer(ABC):
    """Installs into one env with one backend (see :class:`UvInstaller`, :class:`PipInstaller`)."""

    engine: IsolationEngine
    record: EnvRecord
    target: PackageTarget
    index: IndexConfig
    name = "base"

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        action: str,
        cancel: CancelToken,
        on_phase: PhaseCallback | None = None,
        requested: Sequence[str] = (),
        pins: Sequence[str] = (),
        tool: str | None = None,
    ) -> Tally:
        """Run one tool command; raise the classified, redacted error when it fails."""
        tool = tool or self.name
        parser = OutputParser(tool, on_phase)
        env = self.index.tool_environment()
        if self.target.target_dir:
            # A basic env's python3 may be the system one (PEP 668 "externally managed");
            # pip only touches the env's own --target folder, so that guard does not apply.
            env["PIP_BREAK_SYSTEM_PACKAGES"] = "1"
        log.debug("%s: %s", self.record.name, " ".join(self._shown(argv)))
        result = self.engine.run_package_tool(
            self.record,
            list(argv),
            on_output=parser.feed,
            cancel=cancel,
            env=env,
        )
        if result.cancelled:
            raise CancelledError(f"{action} in {self.record.name} cancelled", "")
        if result.exit_code != 0:
            log.debug("%s output:\n%s", tool, "\n".join(parser.tally.lines))
            raise classify(
                tool,
                parser.tally.lines,
                env=self.record.name,
                action=action,
                index=self.index,
                requested=requested,
                pins=pins,
            )
        return parser.tally

    @staticmethod
    def _shown(argv: Sequence[str]) -> list[str]:
        from ptest_tui.packages.index import redact

        return [redact(arg) for arg in argv]

    # -- operations (each backend fills these in) -------------------------------------------

    def install_cached_first(
        self,
        requirements: Sequence[str],
        *,
        upgrade: bool,
        pins: Sequence[str],
        cancel: CancelToken,
        on_phase: PhaseCallback | None = None,
    ) -> Tally:
        """Install from what the shared cache holds, with no network, when it can.

        A warm cache then costs no index round trips at all (a second env with the same
        set is created from the cache alone). When something is missing the resolution
        fails before anything changed and the normal, online install runs; its error is
        the one reported. ``--upgrade`` always asks the index, and so does pip (it cannot
        resolve from uv's cache).
        """
        index = self.index
        if upgrade or self.name != "uv" or index.offline or not index.prefer_cache or (
            self.target.in_container
        ):
            return self.install(
                requirements, upgrade=upgrade, pins=pins, cancel=cancel, on_phase=on_phase
            )
        try:
            return self.install(
                requirements, upgrade=False, pins=pins, cancel=cancel, on_phase=on_phase,
                offline=True,
            )
        except CancelledError:
            raise
        except PtestError as first:
            log.debug("cache-only install failed (%s); asking the index", first.message)
        return self.install(requirements, upgrade=False, pins=pins, cancel=cancel,
                            on_phase=on_phase)

    @abstractmethod
    def install(
        self,
        requirements: Sequence[str],
        *,
        upgrade: bool,
        pins: Sequence[str],
        cancel: CancelToken,
        on_phase: PhaseCallback | None = None,
        dry_run: bool = False,
        offline: bool = False,
    ) -> Tally:
        """Install ``requirements`` (with ``pins``: what must stay as it is)."""

    @abstractmethod
    def uninstall(self, names: Sequence[str], cancel: CancelToken) -> Tally:
        """Remove installed distributions."""

    @abstractmethod
    def sync(self, lock_path: str, cancel: CancelToken, on_phase: PhaseCallback | None) -> Tally:
        """Make the env exactly the hashed set in ``lock_path``."""

    @abstractmethod
    def outdated(self, cancel: CancelToken) -> dict[str, str]:
        """Canonical name -> newest version on the index, for what is out of date."""


def _location(target: PackageTarget) -> list[str]:
    """Where uv acts: a --target folder or the env's interpreter."""
    if target.target_dir:
        return ["--target", target.target_dir, "--python", target.python]
    return ["--python", target.python]


class UvInstaller(Installer):
    """uv pip: resolves before it installs, so a conflict changes nothing."""

    name = "uv"

    def install(
        self,
        requirements: Sequence[str],
        *,
        upgrade: bool,
        pins: Sequence[str],
        cancel: CancelToken,
        on_phase: PhaseCallback | None = None,
        dry_run: bool = False,
        offline: bool = False,
    ) -> Tally:
        """``uv pip install``; the pins are extra requirements, so uv names them in conflicts."""
        if on_phase:
            on_phase("resolving", 0, len(requirements), "")
        argv = ["uv", "pip", "install", *_location(self.target), *self.index.uv_args()]
        if upgrade:
            argv.append("--upgrade")
        if dry_run:
            argv.append("--dry-run")
        if offline:
            argv.append("--offline")
        argv += ["--", *requirements, *pins] if requirements or pins else []
        return self.run(
            argv,
            action="install " + ", ".join(requirements),
            cancel=cancel,
            on_phase=on_phase,
            requested=requirements,
            pins=pins,
        )

    def uninstall(self, names: Sequence[str], cancel: CancelToken) -> Tally:
        """``uv pip uninstall``."""
        argv = ["uv", "pip", "uninstall", *_location(self.target), "--", *names]
        return self.run(argv, action="uninstall " + ", ".join(names), cancel=cancel)

    def sync(self, lock_path: str, cancel: CancelToken, on_phase: PhaseCallback | None) -> Tally:
        """``uv pip sync --require-hashes``: installs the set and removes everything else."""
        argv = [
            "uv", "pip", "sync", "--require-hashes", *_location(self.target),
            *self.index.uv_args(), lock_path,
        ]
        return self.run(argv, action="sync", cancel=cancel, on_phase=on_phase)

    def outdated(self, cancel: CancelToken) -> dict[str, str]:
        """``uv pip list --outdated --format json``."""
        tally = self.run(
            ["uv", "pip", "list", "--outdated", "--format", "json", *_location(self.target),
             *self.index.uv_args()],
            action="list outdated packages",
            cancel=cancel,
        )
        return _outdated_json(tally.lines)


class PipInstaller(Installer):
    """``python -m pip`` in the env (seeded on demand in virtualenvs)."""

    name = "pip"

    def _pip(self, *args: str) -> list[str]:
        return ["python", "-m", "pip", *args]

    def ensure_pip(self, cancel: CancelToken) -> None:
        """Seed pip into the env if it lacks it: ensurepip (offline), else uv from the index."""
        try:
            self.run(self._pip("--version"), action="find pip", cancel=cancel, tool="pip")
            return
        except PtestError:
            pass
        if self.target.target_dir:
            raise PackageError(
                f"the interpreter of {self.record.name} ({self.target.python}) has no pip",
                "install python3-pip on this machine, or use installer uv",
            )
        try:
            self.run(
                ["python", "-m", "ensurepip", "--default-pip"],
                action="seed pip",
                cancel=cancel,
                tool="pip",
            )
        except PtestError:
            self.run(
                ["uv", "pip", "install", *_location(self.target), *self.index.uv_args(), "pip"],
                action="seed pip",
                cancel=cancel,
                tool="uv",
            )

    def _target_args(self) -> list[str]:
        # pip --target skips folders that already exist unless --upgrade replaces them;
        # the versions stay those resolved (the pins are requirements too).
        return ["--target", self.target.target_dir, "--upgrade"] if self.target.target_dir else []

    def install(
        self,
        requirements: Sequence[str],
        *,
        upgrade: bool,
        pins: Sequence[str],
        cancel: CancelToken,
        on_phase: PhaseCallback | None = None,
        dry_run: bool = False,
        offline: bool = False,
    ) -> Tally:
        """``pip install`` (pip resolves everything before it installs anything)."""
        self.ensure_pip(cancel)
        if on_phase:
            on_phase("resolving", 0, len(requirements), "")
        argv = self._pip(
            "install", "--no-input", "--progress-bar", "off", *self._target_args(),
            *self.index.pip_args(),
        )
        if upgrade and not self.target.target_dir:
            argv.append("--upgrade")
        if dry_run:
            argv.append("--dry-run")
        argv += [*requirements, *pins]
        tally = self.run(
            argv,
            action="install " + ", ".join(requirements),
            cancel=cancel,
            on_phase=on_phase,
            requested=requirements,
            pins=pins,
        )
        if self.target.target_dir and not dry_run:
            prune_stale_dist_info(self.target.target_dir, tally.installed)
        return tally

    def uninstall(self, names: Sequence[str], cancel: CancelToken) -> Tally:
        """``pip uninstall -y`` (finds --target dists through PYTHONPATH)."""
        self.ensure_pip(cancel)
        return self.run(
            self._pip("uninstall", "-y", *names),
            action="uninstall " + ", ".join(names),
            cancel=cancel,
        )

    def sync(self, lock_path: str, cancel: CancelToken, on_phase: PhaseCallback | None) -> Tally:
        """``pip install --require-hashes`` of the lock; the service removes the extras."""
        self.ensure_pip(cancel)
        argv = self._pip(
            "install", "--no-input", "--progress-bar", "off", "--require-hashes", "--no-deps",
            *self._target_args(), *self.index.pip_args(), "-r", lock_path,
        )
        tally = self.run(argv, action="sync", cancel=cancel, on_phase=on_phase)
        if self.target.target_dir:
            prune_stale_dist_info(self.target.target_dir, tally.installed)
        return tally

    def outdated(self, cancel: CancelToken) -> dict[str, str]:
        """``pip list --outdated --format json``."""
        self.ensure_pip(cancel)
        tally = self.run(
            self._pip("list", "--outdated", "--format", "json", *self.index.pip_args()),
            action="list outdated packages",
            cancel=cancel,
        )
        return _outdated_json(tally.lines)


def prune_stale_dist_info(target_dir: str, installed: Sequence[str]) -> None:
    """Remove the old ``*.dist-info`` of projects pip --target just replaced.

    ``pip install --target --upgrade`` swaps package folders but leaves the previous
    version's dist-info (its name holds the version), so two versions would seem installed.
    """
    import shutil
    from pathlib import Path

    from packaging.utils import canonicalize_name

    fresh = {}
    for pin in installed:
        name, _, version = pin.partition("==")
        fresh[canonicalize_name(name)] = version
    for info in Path(target_dir).glob("*.dist-info"):
        project, _, version = info.name[: -len(".dist-info")].rpartition("-")
        key = canonicalize_name(project)
        if key in fresh and version != fresh[key]:
            shutil.rmtree(info, ignore_errors=True)


def _outdated_json(lines: Sequence[str]) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    text = next((line for line in lines if line.startswith("[")), "[]")
    return {
        canonicalize_name(item["name"]): str(item.get("latest_version", ""))
        for item in json.loads(text)
    }


BACKENDS: dict[str, type[Installer]] = {"uv": UvInstaller, "pip": PipInstaller}
