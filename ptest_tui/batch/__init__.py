"""Batch mode: a plan file of envs, objects and steps, executed headless.

``ptest-tui --batch PLAN.toml`` and ``ptest-tui batch PLAN.toml`` are thin front ends over
:func:`execute` (also ``Session.run_plan``), which the TUI calls too. A plan is read and
checked in full before anything runs (:func:`load_plan`, then
:func:`ptest_tui.batch.resolve.resolve`); steps then call the Session API, so a run made by
a plan is a normal run in the history. See docs/batch.md.

    from ptest_tui.batch import load_plan
    from ptest_tui.session import Session

    with Session.open() as session:
        outcome = session.run_plan(load_plan("ci/plan.toml"))
        print(outcome.status, outcome.exit_code, outcome.runs)
"""

from ptest_tui.batch.executor import BatchOptions, execute
from ptest_tui.batch.model import BatchOutcome, BatchPlan, PlanSettings, Step, StepResult
from ptest_tui.batch.parse import load_plan, parse_plan
from ptest_tui.batch.resolve import resolve

__all__ = [
    "BatchOptions",
    "BatchOutcome",
    "BatchPlan",
    "PlanSettings",
    "Step",
    "StepResult",
    "execute",
    "load_plan",
    "parse_plan",
    "resolve",
]
