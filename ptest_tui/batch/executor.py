"""Execute a resolved plan: steps in dependency order, independent ones in parallel.

A bounded pool runs up to ``parallel`` steps at once; a step starts as soon as every step
it needs has ended. When a need did not pass, the step is skipped (so are its dependents,
in turn) while unrelated steps go on; ``when = "always"`` steps run anyway. Cancelling
(Ctrl+C, SIGTERM, the plan's timeout, ``fail_fast``) stops running steps through their
cancel token (a run keeps its finished results, is marked cancelled and still writes its
reports), starts nothing new except ``always`` steps, and then applies the cleanup policy.
Everything is published as events on the session's bus; nothing here prints.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ptest_tui.batch.events import (
    PlanFinished,
    PlanStarted,
    StepFinished,
    StepProgress,
    StepStarted,
)
from ptest_tui.batch.model import (
    CANCELLED,
    CLEANUP_ID,
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    BatchOutcome,
    BatchPlan,
    Step,
    StepResult,
    plan_exit_code,
)
from ptest_tui.batch.resolve import resolve
from ptest_tui.batch.steps import ACTIONS, BatchState, Done, StepContext, cleanup_made, made
from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError, ExitCode, PtestError

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

_WAIT, _RUN = "wait", "run"


@dataclass(frozen=True)
class BatchOptions:
    """How to execute a plan, beyond what the plan file says."""

    keep: bool = False  # leave what the plan made (envs, objects); skip cleanup steps
    parallel: int = 0  # steps at once; 0: the plan's setting, else from the CPU count
    # The exit code of an interrupted plan: the CLI passes 128 + the signal (130, 143).
    interrupted_code: Callable[[], int] | None = None


def execute(
    session: Session,
    plan: BatchPlan,
    options: BatchOptions | None = None,
    cancel: CancelToken | None = None,
) -> BatchOutcome:
    """Check ``plan`` against the workspace (ConfigError, nothing run), then execute it."""
    resolved = resolve(session, plan)
    return Executor(session, resolved, options or BatchOptions(), cancel).run()


class Executor:
    """Runs one resolved plan; build a new one per execution."""

    def __init__(
        self,
        session: Session,
        plan: BatchPlan,
        options: BatchOptions,
        cancel: CancelToken | None = None,
    ) -> None:
        self.session = session
        self.plan = plan
        self.options = options
        self.user_cancel = cancel or CancelToken()
        self.token = self.user_cancel.child()  # also cancelled by fail_fast and the timeout
        self.parallel = max(
            1, options.parallel or plan.settings.parallel or max(2, os.cpu_count() or 1)
        )
        self.state = BatchState()
        self.results: dict[str, StepResult] = {}
        self.stop_reason = ""
        self._lock = threading.Lock()
        self.name = plan.settings.name

    # -- the whole plan -------------------------------------------------------------------

    def run(self) -> BatchOutcome:
        """Execute every step, then the cleanup policy; never raises for a failed step."""
        began = time.monotonic()
        bus = self.session.bus
        bus.publish(PlanStarted(self.name, str(self.plan.path),
                                tuple(s.id for s in self.plan.steps), self.parallel))
        timer = None
        if self.plan.settings.timeout:
            seconds = self.plan.settings.timeout
            reason = f"the plan took longer than {seconds:g} s"
            timer = threading.Timer(seconds, self._stop, (reason,))
            timer.daemon = True
            timer.start()
        try:
            self._schedule()
        finally:
            if timer:
                timer.cancel()
        interrupted = self.user_cancel.cancelled
        results = [self.results[s.id] for s in self.plan.steps]
        removed, kept, cleanup = self._cleanup(results, interrupted)
        if cleanup:
            results.append(cleanup)
        code = int(plan_exit_code(results, interrupted))
        if interrupted and self.options.interrupted_code:
            code = self.options.interrupted_code()
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        message = self.stop_reason or ("interrupted" if interrupted else "")
        outcome = BatchOutcome(self.name, code, time.monotonic() - began, tuple(results),
                               interrupted, message, tuple(removed), tuple(kept))
        bus.publish(PlanFinished(self.name, outcome.status, code, outcome.seconds,
                                 counts, outcome.runs, message))
        return outcome

    def _stop(self, reason: str) -> None:
        with self._lock:
            if not self.stop_reason:
                self.stop_reason = reason
        self.token.cancel()

    # -- scheduling -----------------------------------------------------------------------

    def _schedule(self) -> None:
        pending = {step.id: step for step in self.plan.steps}  # in dependency order
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="ptest-batch") as pool:
            while pending or running:
                progressed = True
                while progressed:  # a skip can settle its dependents in the same pass
                    progressed = False
                    for step in list(pending.values()):
                        verdict = self._verdict(step)
                        if verdict == _WAIT or (verdict == _RUN and len(running) >= self.parallel):
                            continue
                        del pending[step.id]
                        progressed = True
                        if isinstance(verdict, tuple):
                            status, why = verdict
                            self._finish(StepResult(step.id, step.kind, status, message=why))
                        else:
                            token = self.token.child()
                            running[pool.submit(self._run_step, step, token)] = step.id
                if not running:
                    # Needs only name steps of the (acyclic) plan, so nothing is left
                    # waiting here; settle anything that is, rather than hang.
                    for step in pending.values():
                        self._finish(StepResult(step.id, step.kind, CANCELLED,
                                                message="its needs never ended"))
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    future.result()  # _run_step records its own errors

    def _verdict(self, step: Step) -> str | tuple[str, str]:
        """wait, run, or (skipped | cancelled, why)."""
        if any(need not in self.results for need in step.needs):
            return _WAIT
        if step.when == "always":
            return _RUN
        if self.token.cancelled:
            return CANCELLED, self.stop_reason or "interrupted before it started"
        for need in step.needs:
            status = self.results[need].status
            if status != PASSED:
                was = "was " if status in (SKIPPED, CANCELLED) else ""
                return SKIPPED, f"needs {need}, which {was}{status}"
        return _RUN

    def _run_step(self, step: Step, token: CancelToken) -> None:
        bus = self.session.bus
        began = time.monotonic()
        bus.publish(StepStarted(self.name, step.id, step.kind, step.target))

        def progress(done: int, total: int, detail: str) -> None:
            bus.publish(StepProgress(self.name, step.id, done, total, detail))

        ctx = StepContext(self.session, self.plan, step, token, self.state, self.parallel,
                          self.options.keep, progress)
        try:
            done = ACTIONS[step.kind](ctx)
        except CancelledError as exc:
            done = Done(CANCELLED, exc.one_line())
        except PtestError as exc:
            done = Done(CANCELLED if token.cancelled else ERROR, exc.one_line())
        except Exception as exc:  # a bug in one step must not sink the others
            log.exception("step %s crashed", step.id)
            done = Done(ERROR, f"{type(exc).__name__}: {exc}")
        self._finish(StepResult(step.id, step.kind, done.status, time.monotonic() - began,
                                done.message, done.run_id, dict(done.counts), done.reports))

    def _finish(self, result: StepResult) -> None:
        with self._lock:
            self.results[result.id] = result
        self.session.bus.publish(StepFinished(
            self.name, result.id, result.kind, result.status, result.seconds, result.message,
            result.run_id, dict(result.counts), result.reports,
        ))
        if result.status in (FAILED, ERROR) and self.plan.settings.fail_fast:
            self._stop(f"stopped at the first failing step ({result.id}): fail_fast")

    # -- cleanup --------------------------------------------------------------------------

    def _cleanup(
        self, results: list[StepResult], interrupted: bool
    ) -> tuple[list[str], list[str], StepResult | None]:
        """Apply the policy to what the plan made: (removed, kept, the pseudo-step result)."""
        things = made(self.state)
        if not things:
            return [], [], None
        policy = self.plan.settings.cleanup
        success = plan_exit_code(results, interrupted) == ExitCode.OK
        if self.options.keep or policy == "never" or (policy == "on-success" and not success):
            return [], things, None
        bus = self.session.bus
        began = time.monotonic()
        bus.publish(StepStarted(self.name, CLEANUP_ID, "cleanup", ", ".join(things)))
        removed, errors = cleanup_made(self.session, self.state)
        status = ERROR if errors else PASSED
        message = "; ".join(errors) if errors else ", ".join(removed)
        result = StepResult(CLEANUP_ID, "cleanup", status, time.monotonic() - began, message)
        bus.publish(StepFinished(self.name, CLEANUP_ID, "cleanup", status, result.seconds,
                                 message))
        kept = [t for t in things if not any(r.startswith(t + " ") for r in removed)]
        return removed, kept, result
