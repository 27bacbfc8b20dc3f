"""The scenarios: what one timed run of each is, and what is set up and undone around it.

Only the action itself is timed (``time.perf_counter``); setup (the env an install or
exec runs in) and undo (deleting a created env, uninstalling) happen outside the timer.
Install and exec get one untimed warm-up run first, so the median shows the steady state
rather than one-time costs (pip seeding itself into a fresh env, a cold page cache).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.benchmark.cleanup import env_name, remove_env
from ptest_tui.benchmark.model import BenchmarkResult
from ptest_tui.benchmark.wheel import NAME, VERSION
from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError, PtestError, UsageError
from ptest_tui.packages.index import IndexConfig
from ptest_tui.packages.service import PackageService

if TYPE_CHECKING:
    from ptest_tui.session import Session

# (engine, scenario label, run number or 0 for setup, total runs)
ProgressCallback = Callable[[str, str, int, int], None]

INSTALLERS = ("uv", "pip")
EXEC_ARGV = ("python3", "-c", "pass")
DESCRIPTION = "temporary env of ptest-tui benchmark"


class _WheelPackages(PackageService):
    """Package operations that install from the benchmark's wheel folder, offline."""

    def __init__(self, session: Session, wheels: Path) -> None:
        super().__init__(session)
        self._index = IndexConfig(find_links=(str(wheels),), offline=True)

    @property
    def index(self) -> IndexConfig:
        """Only the local wheel folder; nothing is fetched."""
        return self._index


def snapshots_unavailable(session: Session) -> str | None:
    """Why snapshots cannot be measured here, or None."""
    if importlib.util.find_spec("ptest_tui.snapshots") is None or not hasattr(
        session, "snapshot"
    ):
        return "snapshots are not part of this ptest-tui (no ptest_tui.snapshots)"
    return None


@dataclass
class EngineRun:
    """Measures the scenarios of one engine; remembers every env it made."""

    session: Session
    engine: str
    batch: str
    runs: int
    cancel: CancelToken
    wheels: Path
    progress: ProgressCallback
    created: list[str] = field(default_factory=list)
    _shared: str = ""

    # -- helpers ----------------------------------------------------------------------------

    def _create(self, what: str) -> str:
        name = env_name(self.batch, self.engine, what)
        self.created.append(name)  # before creating: a cancel mid-create must clean it
        self.session.create_env(
            name, self.cancel, isolation=self.engine, description=DESCRIPTION
        )
        return name

    def _remove(self, name: str) -> None:
        remove_env(self.session, name)
        if name in self.created:
            self.created.remove(name)

    def shared_env(self) -> str:
        """The env install, exec and snapshot run in (created once, untimed)."""
        if not self._shared:
            self.progress(self.engine, "setup", 0, self.runs)
            self._shared = self._create("main")
        return self._shared

    def _measure(
        self,
        label: str,
        action: Callable[[], Any],
        undo: Callable[[Any], object] | None = None,
        warm_up: bool = False,
    ) -> tuple[float, ...]:
        samples: list[float] = []
        if warm_up:
            self.cancel.raise_if_cancelled("benchmark")
            self.progress(self.engine, label, 0, self.runs)
            outcome = action()
            if undo is not None:
                undo(outcome)
        for number in range(1, self.runs + 1):
            self.cancel.raise_if_cancelled("benchmark")
            self.progress(self.engine, label, number, self.runs)
            started = time.perf_counter()
            outcome = action()
            samples.append(time.perf_counter() - started)
            if undo is not None:
                undo(outcome)
        return tuple(samples)

    def _result(self, scenario: str, variant: str, work: Callable[[], tuple[float, ...]]) -> (
        BenchmarkResult
    ):
        """Run ``work``; a cancel propagates. What the engine refuses to do (a usage
        error: say, packages in a container on a remote daemon) is skipped, any other
        failure is a failed result; either way the other scenarios still run."""
        try:
            return BenchmarkResult(self.engine, scenario, variant, "ok", work())
        except CancelledError:
            raise
        except PtestError as exc:
            if self.cancel.cancelled:
                raise CancelledError("benchmark cancelled", "") from None
            status = "skipped" if isinstance(exc, UsageError) else "failed"
            return BenchmarkResult(self.engine, scenario, variant, status,
                                   reason=exc.one_line())

    # -- scenarios --------------------------------------------------------------------------

    def create(self) -> list[BenchmarkResult]:
        """Create a fresh env per run (deleted after each, untimed)."""
        count = iter(range(1, 10_000))
        return [self._result("create", "", lambda: self._measure(
            "create", lambda: self._create(f"c{next(count)}"), self._remove,
        ))]

    def install(self) -> list[BenchmarkResult]:
        """Install the tiny local wheel with each installer (uninstalled after each run)."""
        results: list[BenchmarkResult] = []
        packages = _WheelPackages(self.session, self.wheels)
        requirement = f"{NAME}=={VERSION}"
        for installer in INSTALLERS:
            def work(backend: str = installer) -> tuple[float, ...]:
                env = self.shared_env()
                return self._measure(
                    f"install ({backend})",
                    lambda: packages.install(env, [requirement], installer=backend,
                                             cancel=self.cancel),
                    lambda _report: packages.uninstall(env, [NAME], installer=backend),
                    warm_up=True,
                )

            results.append(self._result("install", installer, work))
        return results

    def exec(self) -> list[BenchmarkResult]:
        """Run ``python3 -c pass`` in the env: the per-command overhead of the engine."""
        def work() -> tuple[float, ...]:
            env = self.shared_env()

            def run() -> None:
                done = self.session.exec(env, list(EXEC_ARGV), cancel=self.cancel)
                if done.cancelled:
                    raise CancelledError("benchmark cancelled", "")
                if done.exit_code != 0:
                    raise PtestError(f"python3 -c pass exited with {done.exit_code} in {env}",
                                     "check the env with `ptest-tui env status`")

            return self._measure("exec", run, warm_up=True)

        return [self._result("exec", "", work)]

    def snapshot(self) -> list[BenchmarkResult]:
        """Snapshot the env (variant create), then restore it under a new name (variant
        restore; the restored env is deleted after each run, untimed)."""
        reason = snapshots_unavailable(self.session)
        if reason:
            return [BenchmarkResult(self.engine, "snapshot", variant, "skipped", reason=reason)
                    for variant in ("create", "restore")]
        taken: list[str] = []

        def take() -> tuple[float, ...]:
            env = self.shared_env()
            return self._measure(
                "snapshot (create)",
                lambda: taken.append(self.session.snapshot(env, cancel=self.cancel).id),
            )

        results = [self._result("snapshot", "create", take)]
        if not taken:
            results.append(BenchmarkResult(self.engine, "snapshot", "restore", "skipped",
                                           reason="no snapshot was taken"))
            return results
        count = iter(range(1, 10_000))

        def restore_one() -> str:
            name = env_name(self.batch, self.engine, f"r{next(count)}")
            self.created.append(name)
            self.session.restore(taken[-1], as_name=name, cancel=self.cancel)
            return name

        results.append(self._result("snapshot", "restore", lambda: self._measure(
            "snapshot (restore)", restore_one, self._remove,
        )))
        return results

    def cleanup(self) -> list[str]:
        """Delete every env this run made; the names that could not be deleted."""
        failed: list[str] = []
        for name in list(self.created):
            try:
                self._remove(name)
            except PtestError:
                failed.append(name)
        self._shared = ""
        return failed


SCENARIO_METHODS: dict[str, Callable[[EngineRun], list[BenchmarkResult]]] = {
    "create": EngineRun.create,
    "install": EngineRun.install,
    "exec": EngineRun.exec,
    "snapshot": EngineRun.snapshot,
}
