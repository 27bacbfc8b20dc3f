"""``ptest-tui batch PLAN.toml`` (also ``ptest-tui --batch PLAN.toml``): run a plan headless.

Exit codes: 0 every step passed, 1 test failures, 2 plan or config error (nothing was
executed), 3 a step failed otherwise (an env, object, install, command...; wins over 1),
130/143 interrupted by SIGINT/SIGTERM (what finished is kept, reports are written and the
cleanup policy applied). Output: rich progress on a terminal, timestamped lines otherwise,
NDJSON with ``--json`` (``--schema`` prints its JSON Schema), the summary with ``--quiet``.
See docs/batch.md. This module is imported for ``--help``; the work is imported lazily.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ptest_tui.errors import UsageError

if TYPE_CHECKING:
    from ptest_tui.batch.model import BatchPlan

# Options of the main parser that take a value, for rewriting ``--batch PLAN``.
_GLOBAL_WITH_VALUE = ("-w", "--workspace", "--set")
_GLOBAL_FLAGS = ("--debug",)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``batch``."""
    batch = subparsers.add_parser(
        "batch", help="run a plan file headless (scripts and CI)",
        description="Run a plan of envs, objects and steps (see docs/batch.md). Exit codes: 0"
        " passed, 1 test failures, 2 plan or config error, 3 a step failed, 130/143"
        " interrupted.",
    )
    batch.add_argument("plan", nargs="?", metavar="PLAN.toml", help="the plan file")
    batch.add_argument("--dry-run", action="store_true",
                       help="check the plan and print the resolved step graph; run nothing")
    batch.add_argument("--keep", action="store_true",
                       help="leave the envs and objects the plan made, for inspection")
    batch.add_argument("--json", action="store_true",
                       help="NDJSON events on stdout (schema: --schema)")
    batch.add_argument("--quiet", "-q", action="store_true", help="only the summary")
    batch.add_argument("--parallel", "-j", type=int, default=0, metavar="N",
                       help="steps at once (default: the plan's parallel, else the CPU count)")
    batch.add_argument("--schema", action="store_true",
                       help="print the JSON Schema of the --json lines and exit")
    batch.set_defaults(handler=run_batch)


def rewrite_batch_flag(argv: Sequence[str]) -> list[str]:
    """``[globals] --batch PLAN [options]`` -> ``[globals] batch PLAN [options]``.

    Only a ``--batch`` before any subcommand counts; global options after it move before
    ``batch`` so ``ptest-tui --batch plan.toml -w ws --json`` works too.
    """
    args = list(argv)
    index = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--batch" or arg.startswith("--batch="):
            index = i
            break
        if arg in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if not arg.startswith("-"):
            return args  # a subcommand came first
        i += 1
    if index is None:
        return args
    flag = args[index]
    if "=" in flag:
        plan, rest = [flag.split("=", 1)[1]], args[index + 1:]
    else:
        plan = args[index + 1:index + 2]
        rest = args[index + 2:]
    globals_, options = list(args[:index]), []
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg in _GLOBAL_WITH_VALUE and j + 1 < len(rest):
            globals_ += rest[j:j + 2]
            j += 2
            continue
        if arg in _GLOBAL_FLAGS or arg.startswith(("--workspace=", "--set=")):
            globals_.append(arg)
        else:
            options.append(arg)
        j += 1
    return [*globals_, "batch", *plan, *options]


def run_batch(args: argparse.Namespace) -> int:
    """Load, check, then execute (or only print) the plan."""
    from pathlib import Path

    from ptest_tui.batch import BatchOptions, execute, load_plan, resolve
    from ptest_tui.cli import signals
    from ptest_tui.cli.common import print_json
    from ptest_tui.cli.env_render import run_cancellable
    from ptest_tui.session import Session

    if args.schema:
        from ptest_tui.batch.schema import ndjson_schema

        print_json(ndjson_schema())
        return 0
    if not args.plan:
        raise UsageError("no plan file given", "ptest-tui batch PLAN.toml (see docs/batch.md)")
    if args.parallel < 0:
        raise UsageError("--parallel must be 1 or more", "for example --parallel 4")
    plan = load_plan(args.plan)
    workspace = Path(args.workspace) if args.workspace else plan.settings.workspace
    with Session.open(workspace=workspace, overrides=args.overrides) as session:
        resolved = resolve(session, plan)
        if args.dry_run:
            if args.json:
                print_json(resolved.to_dict())
            else:
                print_graph(resolved)
            return 0
        from ptest_tui.batch.render import make_renderer

        renderer = make_renderer(sys.stdout, json_lines=args.json, quiet=args.quiet,
                                 terminal=sys.stdout.isatty())
        options = BatchOptions(keep=args.keep, parallel=args.parallel,
                               interrupted_code=signals.interrupted_exit_code)
        from ptest_tui.monitor.live import LiveWatch

        renderer.start(session)
        try:
            # Config edits apply while the plan runs; thresholds raise warning lines.
            with LiveWatch(session):
                outcome, interrupted = run_cancellable(
                    lambda token: execute(session, resolved, options, token)
                )
        finally:
            renderer.stop()
        renderer.finish(outcome)
        if renderer.broken:  # keep Python from complaining when it flushes stdout at exit
            import os

            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaced for interpreter exit
        if interrupted:
            return signals.interrupted_exit_code()
        return outcome.exit_code


def print_graph(plan: BatchPlan) -> None:
    """The resolved steps (dependency order) and the waves that can run together."""
    s = plan.settings
    print(f"plan {s.name} ({plan.label}): {len(plan.steps)} steps, cleanup {s.cleanup}"
          + (f", up to {s.parallel} at once" if s.parallel else "")
          + (", fail fast" if s.fail_fast else "")
          + (f", timeout {s.timeout:g} s" if s.timeout else ""))
    width = max(len(step.id) for step in plan.steps)
    for number, step in enumerate(plan.steps, 1):
        notes = []
        if step.needs:
            notes.append("needs " + ", ".join(step.needs))
        if step.when != "success":
            notes.append(f"when {step.when}")
        if step.implicit:
            notes.append("implicit: declared in ptest.toml, not created yet")
        note = f"  [{'; '.join(notes)}]" if notes else ""
        print(f"{number:>3}. {step.id:<{width}}  {step.kind:<8} {step.target}{note}")
    print("waves (steps in one wave can run at the same time):")
    for number, wave in enumerate(plan.levels(), 1):
        print(f"{number:>3}: {', '.join(wave)}")
