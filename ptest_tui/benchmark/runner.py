"""``session.benchmark_engines``: measure each engine on each scenario on this machine.

Every result is stored as soon as it is measured (benchmark.records), so an interrupted
benchmark keeps what it had. Envs are temporary and deleted whatever happens: after each
engine, on failure and on cancel; a killed process leaves them to the next benchmark (or
``env cleanup``), which finds them by name and dead owner (benchmark.cleanup).
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.benchmark.cleanup import remove_leftovers
from ptest_tui.benchmark.model import SCENARIOS, BenchmarkReport, BenchmarkResult
from ptest_tui.benchmark.records import BenchmarkHistory
from ptest_tui.benchmark.scenarios import INSTALLERS, SCENARIO_METHODS, EngineRun, ProgressCallback
from ptest_tui.benchmark.wheel import build_wheel
from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError, UsageError

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

MAX_RUNS = 100
# The variants each scenario reports, so skipped engines list the same rows.
VARIANTS: dict[str, tuple[str, ...]] = {
    "create": ("",),
    "install": INSTALLERS,
    "exec": ("",),
    "snapshot": ("create", "restore"),
}


def _split(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def check_request(
    session: Session,
    engines: str | Sequence[str] | None,
    scenarios: str | Sequence[str] | None,
    runs: int,
) -> tuple[list[str], list[str]]:
    """Engines and scenarios to measure, validated (``all`` or none given: every one)."""
    known = session.engines.names()
    wanted = _split(engines)
    if not wanted or wanted == ["all"]:
        wanted = known
    for name in wanted:
        if name not in known:
            raise UsageError(
                f"unknown engine {name!r}", "use all, or some of: " + ", ".join(known)
            )
    chosen = _split(scenarios) or list(SCENARIOS)
    if chosen == ["all"]:
        chosen = list(SCENARIOS)
    for name in chosen:
        if name not in SCENARIOS:
            raise UsageError(
                f"unknown scenario {name!r}", "use some of: " + ", ".join(SCENARIOS)
            )
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise UsageError(f"runs must be 1 to {MAX_RUNS}, got {runs!r}", "try --runs 5")
    order = {name: i for i, name in enumerate(known)}
    return (sorted(dict.fromkeys(wanted), key=order.__getitem__),
            [s for s in SCENARIOS if s in chosen])


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count() or 0,
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def benchmark_engines(
    session: Session,
    engines: str | Sequence[str] | None = None,
    scenarios: str | Sequence[str] | None = None,
    *,
    runs: int = 3,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    on_result: Callable[[BenchmarkResult], None] | None = None,
) -> BenchmarkReport:
    """Measure ``engines`` (names, comma-separated or ``all``) on ``scenarios`` (create,
    install, exec, snapshot), ``runs`` timed runs each.

    An engine that cannot run here is reported as skipped with the reason; a scenario
    that fails is reported as failed and the others go on. Cancelling stops after the
    current step, removes the temporary envs and returns the report so far (status
    ``cancelled``).
    """
    chosen_engines, chosen_scenarios = check_request(session, engines, scenarios, runs)
    cancel = cancel or CancelToken()
    history = BenchmarkHistory(session.store)
    for item in remove_leftovers(session):
        log.warning("removed %s %s: %s", item.kind, item.name, item.error or item.reason)
    report = history.begin(chosen_engines, chosen_scenarios, runs, session.owner(),
                           session.session_id, machine())
    results: list[BenchmarkResult] = []

    def keep(result: BenchmarkResult) -> None:
        stored = history.add(report.batch, result)
        results.append(stored)
        if on_result is not None:
            on_result(stored)

    wheels = Path(tempfile.mkdtemp(prefix="ptest-bench-"))
    status = "done"
    try:
        build_wheel(wheels)
        for engine in chosen_engines:
            reason = session.engines.get(engine).unavailable_reason()
            if reason:
                why = f"the {engine} engine is unavailable: {reason}"
                for scenario in chosen_scenarios:
                    for variant in VARIANTS[scenario]:
                        keep(BenchmarkResult(engine, scenario, variant, "skipped", reason=why))
                continue
            run = EngineRun(session, engine, report.batch, runs, cancel, wheels,
                            on_progress or (lambda *_a: None))
            try:
                for scenario in chosen_scenarios:
                    for result in SCENARIO_METHODS[scenario](run):
                        keep(result)
            finally:
                left = run.cleanup()
                if left:
                    log.warning("benchmark envs left behind: %s", ", ".join(left))
    except CancelledError:
        status = "cancelled"
    except BaseException:
        status = "failed"
        raise
    finally:
        shutil.rmtree(wheels, ignore_errors=True)
        history.finish(report.batch, status)
    return history.get(report.batch)
