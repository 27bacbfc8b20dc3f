"""Execute a checked :class:`~ptest_tui.runs.plan.RunPlan`: objects, envs, suites, results.

Order: record the run; start the objects the suites need (in parallel) and create declared
envs that do not exist yet (an error here stops the run with status ``error``); then run
every unit (a suite in one env: setup, cases, teardown). Units run in parallel, and so do
the cases of a unit unless the suite is ``sequential``; one shared pool of ``parallel``
slots bounds how many cases (and setup or teardown commands) run at once. Within a unit,
the slowest cases (from history) start first.

Results are stored as each case finishes; Ctrl+C (the cancel token) kills running process
trees, keeps what finished and marks the run ``cancelled``. Objects this run started are
stopped at the end unless kept.
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.events import CaseDone, CaseFinished, CaseStarted, RunFinished, RunStarted
from ptest_tui.runs.cases.base import Case, CaseContext, OutputBuffer
from ptest_tui.runs.event_log import record_run_events
from ptest_tui.runs.history import RunHistory
from ptest_tui.runs.model import CANCELLED, ERROR, FAILING, CaseResult, RunRecord
from ptest_tui.runs.plan import RunPlan, Unit

if TYPE_CHECKING:
    from ptest_tui.engines.base import ExecResult
    from ptest_tui.session import Session

log = logging.getLogger(__name__)


class RunInfrastructureError(PtestError):
    """Something the run needs could not be set up (an object, an env)."""


@dataclass(frozen=True)
class RunOptions:
    """How to run: parallelism, stopping early, keeping objects, reports."""

    parallel: int = 0  # 0: from the CPU count
    fail_fast: bool = False
    keep_objects: bool = False
    timeout: float | None = None  # the whole run, seconds
    report_formats: tuple[str, ...] = ()
    report_dir: Path | None = None


@dataclass(frozen=True)
class RunOutcome:
    """A finished run and where its reports went."""

    run: RunRecord
    reports: tuple[Path, ...] = ()


class Runner:
    """Runs one plan; build a new one per run."""

    def __init__(
        self, session: Session, options: RunOptions, cancel: CancelToken | None = None
    ) -> None:
        self.session = session
        self.options = options
        self.user_cancel = cancel or CancelToken()
        self.token = self.user_cancel.child()  # also cancelled by --fail-fast and timeouts
        self.history = RunHistory(session.store)
        workers = options.parallel or max(2, os.cpu_count() or 1)
        self.slots = threading.BoundedSemaphore(max(1, workers))
        self.workers = max(1, workers)
        self.stop_reason = ""
        self._lock = threading.Lock()
        self._failed = False
        self.object_variables: dict[str, str] = {}

    # -- the whole run ------------------------------------------------------------------

    def execute(self, plan: RunPlan) -> RunOutcome:
        """Run the plan; returns the finished run (never raises for test failures)."""
        run = self.history.begin(plan.selection, plan.envs, self.session.owner())
        # .ptest/runs/RUN/events.ndjson (runs/event_log.py); it stops at RunFinished.
        event_log = record_run_events(self.session, run.id)
        started = time.monotonic()
        cases = sum(len(unit.cases) for unit in plan.units)
        self.session.bus.publish(RunStarted(run.id, tuple(u.label for u in plan.units), cases))
        timer = None
        if self.options.timeout:
            timer = threading.Timer(self.options.timeout, self._stop, (
                f"the run took longer than {self.options.timeout:g} s",))
            timer.daemon = True
            timer.start()
        started_objects: list[str] = []
        status, message = "passed", ""
        try:
            started_objects = self._start_objects(plan)
            # Objects run unchanged until the end of the run: their variables are read once
            # here, not again for every case (10,000 cases would mean 10,000 lookups).
            self.object_variables = self.session.object_environment()
            self._create_envs(plan)
            self._run_units(run, plan.units)
            if self.user_cancel.cancelled:
                status, message = "cancelled", "stopped by the user"
            elif self._failed or self.stop_reason:
                status, message = "failed", self.stop_reason
        except RunInfrastructureError as exc:
            status, message = "error", exc.message
        except BaseException as exc:  # a bug must still leave a finished run behind
            status, message = "error", str(exc) or type(exc).__name__
            raise
        finally:
            if timer:
                timer.cancel()
            try:
                self._stop_objects(plan, started_objects)
                run = self.history.finish(run, status, message)
                self.session.bus.publish(
                    RunFinished(run.id, run.status, time.monotonic() - started,
                                dict(run.counts), message)
                )
            finally:
                event_log.close()  # closed by RunFinished already, unless finishing failed
        reports: tuple[Path, ...] = ()
        if self.options.report_formats:
            reports = self.write_reports(run)
        return RunOutcome(run, reports)

    def write_reports(self, run: RunRecord) -> tuple[Path, ...]:
        """Write the requested reports for ``run``."""
        from ptest_tui.reports import write_reports

        folder = self.options.report_dir or (
            self.session.workspace.state_dir / "reports" / run.id
        )
        results = self.history.results(run.id)
        return tuple(write_reports(run, results, self.options.report_formats, folder,
                                   reporters=self.session.reporters))  # + plugin formats

    def _stop(self, reason: str) -> None:
        with self._lock:
            if not self.stop_reason:
                self.stop_reason = reason
        self.token.cancel()

    # -- objects and envs ---------------------------------------------------------------

    def _start_objects(self, plan: RunPlan) -> list[str]:
        if not plan.objects:
            return []
        objects = self.session.objects
        already = {v.name for v in objects.views() if v.state == "running"}
        outcome = objects.start_many(list(plan.objects), cancel=self.token)
        failed = {name: r for name, r in outcome.items() if isinstance(r, PtestError)}
        started = [n for n in plan.objects if n not in already and n not in failed]
        if failed:
            self._stop_objects(plan, started)
            name, error = next(iter(failed.items()))
            raise RunInfrastructureError(f"object {name} did not start: {error.message}",
                                         error.hint)
        return started

    def _stop_objects(self, plan: RunPlan, started: Sequence[str]) -> None:
        keep = self.options.keep_objects or any(u.suite.keep_objects for u in plan.units)
        if keep:
            return
        for name in started:
            try:
                self.session.objects.stop(name)
            except PtestError as exc:
                log.warning("could not stop object %s: %s", name, exc.one_line())

    def _create_envs(self, plan: RunPlan) -> None:
        if not plan.envs_to_create:
            return
        outcomes = self.session.create_envs(list(plan.envs_to_create), cancel=self.token)
        for outcome in outcomes:
            if outcome.error is not None:
                raise RunInfrastructureError(
                    f"env {outcome.name} could not be created: {outcome.error.message}",
                    outcome.error.hint,
                )

    # -- units and cases ----------------------------------------------------------------

    def _run_units(self, run: RunRecord, units: Sequence[Unit]) -> None:
        if not units:
            return
        with ThreadPoolExecutor(max_workers=min(len(units), self.workers)) as pool:
            for future in [pool.submit(self._run_unit, run, unit) for unit in units]:
                future.result()

    def _run_unit(self, run: RunRecord, unit: Unit) -> None:
        token = self.token.child()
        timer = None
        if unit.suite.timeout:
            timer = threading.Timer(unit.suite.timeout, token.cancel)
            timer.daemon = True
            timer.start()
        record = self.session.store.get_env(unit.env)
        try:
            setup_error = self._commands(unit, unit.suite.setup, token, "setup")
            if setup_error:
                self._record([
                    CaseResult(run.id, unit.suite.name, unit.env, case.spec.name, case.spec.kind,
                               ERROR, message=f"setup failed: {setup_error}")
                    for case in unit.cases
                ])
                for case in unit.cases:
                    self.session.bus.publish(CaseDone(
                        run.id, unit.suite.name, unit.env, case.spec.name, ERROR, 1, 0
                    ))
            else:
                cases = self._order(unit)
                if unit.suite.sequential or len(cases) == 1:
                    for case in cases:
                        self._run_case(run, unit, case, token, record.isolation)
                else:
                    with ThreadPoolExecutor(max_workers=min(len(cases), self.workers)) as pool:
                        futures = [
                            pool.submit(self._run_case, run, unit, c, token, record.isolation)
                            for c in cases
                        ]
                        for future in futures:
                            future.result()
            if not self.user_cancel.cancelled:
                self._commands(unit, unit.suite.teardown, CancelToken(), "teardown")
        finally:
            if timer:
                timer.cancel()

    def _order(self, unit: Unit) -> list[Case]:
        """The slowest cases first (from history), unless the suite is sequential."""
        if unit.suite.sequential:
            return list(unit.cases)
        seconds = self.history.durations()
        return sorted(
            unit.cases, key=lambda c: -seconds.get((unit.suite.name, c.spec.name), 0.0)
        )

    def _commands(
        self, unit: Unit, commands: Sequence[str], token: CancelToken, what: str
    ) -> str:
        """Run setup or teardown commands; the first failure's description, else ""."""
        for command in commands:
            output = OutputBuffer(4096)

            def keep(_stream: str, line: str, buffer: OutputBuffer = output) -> None:
                buffer.add(line)

            with self.slots:
                try:
                    result = self.session.exec(
                        unit.env, shlex.split(command), cancel=token, on_output=keep
                    )
                except PtestError as exc:
                    return f"{command}: {exc.message}"
            if result.exit_code != 0 or result.cancelled or result.timed_out:
                tail = " | ".join(output.text().splitlines()[-5:])
                return f"{command} exited with {result.exit_code}" + (f": {tail}" if tail else "")
        return ""

    def _run_case(
        self, run: RunRecord, unit: Unit, case: Case, unit_token: CancelToken, isolation: str
    ) -> None:
        spec = case.spec
        earlier_failures: set[str] = set()
        attempt = 0
        while True:
            attempt += 1
            if unit_token.cancelled:
                return  # never started: no result is made up for it
            token = unit_token.child()
            ctx = self._context(run, unit, token, spec.timeout, isolation)
            self.session.bus.publish(
                CaseStarted(run.id, unit.suite.name, unit.env, spec.name, attempt)
            )
            with self.slots:
                results = self._attempt(case, ctx)
            failing = {r.case for r in results if r.status in FAILING}
            if failing and attempt <= spec.retries and not unit_token.cancelled:
                earlier_failures |= failing
                continue
            final = [
                replace(r, attempts=attempt,
                        flaky=r.case in earlier_failures and r.status not in FAILING)
                for r in results
            ]
            self._record(final)
            worst = next((r.status for r in final if r.status in FAILING), None) or (
                CANCELLED if any(r.status == CANCELLED for r in final) else "passed"
            )
            self.session.bus.publish(CaseDone(
                run.id, unit.suite.name, unit.env, spec.name, worst, len(final), attempt
            ))
            return

    def _attempt(self, case: Case, ctx: CaseContext) -> list[CaseResult]:
        began = time.time()
        try:
            results = list(case.run(ctx))
        except PtestError as exc:
            results = [ctx.result(case.spec, ERROR, message=exc.one_line())]
        except Exception as exc:  # a kind's bug is that case's error, not the run's end
            log.exception("case %s crashed", case.spec.name)
            results = [ctx.result(case.spec, ERROR, message=f"{type(exc).__name__}: {exc}")]
        if not results:
            status = CANCELLED if ctx.cancel.cancelled else ERROR
            results = [ctx.result(case.spec, status, message="the case produced no result")]
        return [r if r.started_at else replace(r, started_at=began) for r in results]

    def _context(
        self, run: RunRecord, unit: Unit, token: CancelToken, timeout: float | None,
        isolation: str,
    ) -> CaseContext:
        objects = self.session.objects
        variables = {
            **self.object_variables, "PTEST_RUN_ID": run.id, "PTEST_SUITE": unit.suite.name,
        }

        def run_in_env(argv: Sequence[str], **options: Any) -> ExecResult:
            extra = {"PTEST_RUN_ID": run.id, "PTEST_SUITE": unit.suite.name,
                     **(options.pop("env", None) or {})}
            return self.session.exec(unit.env, argv, cancel=token, env=extra, **options)

        def emit(result: CaseResult) -> None:
            self._publish(result)

        return CaseContext(
            run_id=run.id, suite=unit.suite.name, env=unit.env, isolation=isolation,
            cancel=token, timeout=timeout, variables=variables, exec=run_in_env, emit=emit,
            object_info=objects.connection,
            object_kind=lambda name: objects.spec(name).kind,
            workspace=str(self.session.workspace.root),
        )

    def _publish(self, result: CaseResult) -> None:
        self.session.bus.publish(CaseFinished(
            result.run_id, result.suite, result.env, result.case, result.status,
            result.duration, result.message.splitlines()[0] if result.message else "",
            result.parent, result.flaky,
        ))

    def _record(self, results: Sequence[CaseResult]) -> None:
        self.history.add(results)
        for result in results:
            if not result.parent:  # pytest tests were published live by the case
                self._publish(result)
        if any(r.status in FAILING for r in results):
            with self._lock:
                self._failed = True
            if self.options.fail_fast:
                self._stop("stopped at the first failure (--fail-fast)")


def run_plan(
    session: Session, plan: RunPlan, options: RunOptions, cancel: CancelToken | None = None,
    on_ready: Callable[[Runner], None] | None = None,
) -> RunOutcome:
    """Execute ``plan`` with ``options`` (the Session API and every front end use this)."""
    runner = Runner(session, options, cancel)
    if on_ready:
        on_ready(runner)
    return runner.execute(plan)
