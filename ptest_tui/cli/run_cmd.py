"""``ptest-tui run``, ``runs`` and ``report``: run suites, look back at runs, write reports.

Exit codes of ``run``: 0 everything passed (skips and xfails count as passed), 1 test
failures, 2 usage or config error (nothing ran), 3 infrastructure error (an object or env
could not be set up), 130/143 interrupted (results so far are kept).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ptest_tui.cli import signals
from ptest_tui.cli.common import add_json_flag, open_session, print_json, print_table
from ptest_tui.cli.env_render import run_cancellable
from ptest_tui.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ptest_tui.cancel import CancelToken
    from ptest_tui.events import CaseDone, CaseFinished
    from ptest_tui.runs.model import RunRecord
    from ptest_tui.runs.runner import RunOutcome
    from ptest_tui.session import Session

FORMATS = ("html", "json", "junit")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run``, ``runs`` and ``report``."""
    run = subparsers.add_parser(
        "run", help="run suites or cases in their environments",
        description="Run suites (or single cases: SUITE/CASE or CASE); see docs/cases.md.",
    )
    run.add_argument("selection", nargs="*", metavar="SUITE|CASE",
                     help="suites or cases to run (default: every suite)")
    run.add_argument("--env", dest="envs", action="append", default=[], metavar="NAME",
                     help="run in this env instead of the suites' envs (repeatable)")
    run.add_argument("--parallel", "-j", type=int, default=0, metavar="N",
                     help="cases at once (default: the CPU count)")
    run.add_argument("--fail-fast", "-x", action="store_true", help="stop at the first failure")
    run.add_argument("--rerun-failed", nargs="?", const="last", metavar="RUN",
                     help="run again what failed in RUN (default: the last run)")
    run.add_argument("--report", metavar="FORMATS", help="html,json,junit: write these reports")
    run.add_argument("-o", "--output", metavar="DIR",
                     help="report folder (default .ptest/reports/RUN)")
    run.add_argument("--keep-objects", action="store_true",
                     help="leave the objects the run started running")
    run.add_argument("--timeout", type=float, metavar="SECONDS", help="limit for the whole run")
    run.add_argument("--quiet", "-q", action="store_true", help="only the summary")
    add_json_flag(run)
    run.set_defaults(handler=_run)

    runs = subparsers.add_parser("runs", help="past runs and their results")
    runs.set_defaults(handler=lambda _a: _usage(runs))
    sub = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    listing = sub.add_parser("list", help="the latest runs")
    listing.add_argument("-n", "--limit", type=int, default=20)
    add_json_flag(listing)
    listing.set_defaults(handler=_runs_list)
    show = sub.add_parser("show", help="one run's results")
    show.add_argument("run", nargs="?", default="last", help="run id (default: the last run)")
    show.add_argument("--failed", action="store_true", help="only failures and errors")
    show.add_argument("--output", action="store_true", help="include captured output")
    add_json_flag(show)
    show.set_defaults(handler=_runs_show)
    from ptest_tui.cli.events_cmd import register_events

    register_events(sub)  # runs events RUN [--json] [--follow]

    report = subparsers.add_parser("report", help="write reports of a past run")
    report.add_argument("run", nargs="?", default="last", help="run id (default: the last run)")
    report.add_argument("--format", default="html,json,junit", help="html,json,junit")
    report.add_argument("-o", "--output", metavar="DIR", help="folder (default .ptest/reports/RUN)")
    report.set_defaults(handler=_report)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _formats(text: str | None, plugin_formats: Sequence[str] = ()) -> tuple[str, ...]:
    """The formats of a comma list; ``plugin_formats`` are those plugins register."""
    if not text:
        return ()
    formats = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS and f not in plugin_formats]
    if unknown:
        raise UsageError(f"unknown report format {unknown[0]!r}",
                         "use " + ", ".join((*FORMATS, *plugin_formats)))
    return formats


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ptest_tui.runs.runner import RunOptions, run_plan

    if args.parallel < 0:
        raise UsageError("--parallel must be 1 or more", "for example --parallel 4")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds", "")
    if args.rerun_failed and args.selection:
        raise UsageError("--rerun-failed takes no suite or case names", "")
    with open_session(args) as session:
        formats = _formats(args.report, tuple(session.reporters) if args.report else ())
        plan = session.plan_run(args.selection, envs=args.envs, rerun_failed=args.rerun_failed)
        options = RunOptions(
            parallel=args.parallel, fail_fast=args.fail_fast, keep_objects=args.keep_objects,
            timeout=args.timeout, report_formats=formats,
            report_dir=Path(args.output).resolve() if args.output else None,
        )
        printer = _LivePrinter(session, quiet=args.quiet or args.json)
        printer.start(sum(len(u.cases) for u in plan.units))

        def work(token: CancelToken) -> RunOutcome:
            return run_plan(session, plan, options, token)

        try:
            outcome, interrupted = run_cancellable(work)
        finally:
            printer.stop()
        _summary(session, outcome, args.json)
        if interrupted or outcome.run.status == "cancelled":
            return signals.interrupted_exit_code() if interrupted else int(ExitCode.INTERRUPTED)
        return {"passed": 0, "failed": 1, "error": 3}.get(outcome.run.status, 1)


class _LivePrinter:
    """Failures as they happen and a progress bar (terminal) or one line per case (pipes)."""

    def __init__(self, session: Session, quiet: bool) -> None:
        self.session = session
        self.quiet = quiet
        self.lock = threading.Lock()
        self.unsubscribe: list[Any] = []
        self.progress: Any = None
        self.task: Any = None

    def start(self, total: int) -> None:
        from ptest_tui.events import CaseDone, CaseFinished

        if self.quiet:
            return
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("running"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[last]}"), transient=True,
            )
            self.task = self.progress.add_task("run", total=total, last="")
            self.progress.start()
        self.unsubscribe.append(self.session.bus.subscribe(CaseFinished, self._result))
        self.unsubscribe.append(self.session.bus.subscribe(CaseDone, self._done))

    def _result(self, event: CaseFinished) -> None:
        """Failures and errors at once, with the first line of why."""
        if event.status not in ("failed", "error"):
            return  # passes are shown by _done, once per case
        label = f"{event.suite}[{event.env}] {event.case}"
        why = f": {event.message}" if event.message else ""
        line = f"{event.status.upper():<7} {label}{why}"
        with self.lock:
            if self.progress:
                self.progress.console.print(line, markup=False, highlight=False)
            else:
                print(line, flush=True)

    def _done(self, event: CaseDone) -> None:
        with self.lock:
            if self.progress:
                self.progress.update(self.task, advance=1, last=f"{event.suite}/{event.case}")
            elif event.status not in ("failed", "error") or event.results > 1:
                tests = f" ({event.results} tests)" if event.results > 1 else ""
                print(f"{event.status.upper():<7} {event.suite}[{event.env}] {event.case}{tests}",
                      flush=True)

    def stop(self) -> None:
        for unsubscribe in self.unsubscribe:
            unsubscribe()
        if self.progress:
            self.progress.stop()


def _summary(session: Session, outcome: RunOutcome, as_json: bool) -> None:
    run = outcome.run
    if as_json:
        print_json({**run.to_dict(), "reports": [str(p) for p in outcome.reports]})
        return
    counts = run.counts
    parts = [f"{counts.get(k, 0)} {k}" for k in (
        "passed", "failed", "error", "skipped", "xfailed", "xpassed", "cancelled")
        if counts.get(k)]
    if counts.get("flaky"):
        parts.append(f"{counts['flaky']} flaky")
    print(f"run {run.id} {run.status}: " + (", ".join(parts) or "no results")
          + f" in {run.duration:.2f} s" + (f" ({run.message})" if run.message else ""))
    for path in outcome.reports:
        print(f"report: {path}")


def _runs_list(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        runs = session.runs.recent(max(1, args.limit))
        if args.json:
            print_json([run.to_dict() for run in runs])
            return 0
        if not runs:
            print("no runs yet: ptest-tui run")
            return 0
        print_table(
            ["run", "status", "started", "seconds", "passed", "failed", "error", "skipped"],
            [[run.id, run.status, _when(run), f"{run.duration:.2f}",
              *(str(run.counts.get(k, 0)) for k in ("passed", "failed", "error", "skipped"))]
             for run in runs],
        )
    return 0


def _when(run: RunRecord) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at))


def _runs_show(args: argparse.Namespace) -> int:
    from ptest_tui.runs.model import FAILING

    with open_session(args) as session:
        run = session.runs.get(args.run)
        results = session.runs.results(run.id, with_output=args.output or args.json)
        if args.failed:
            results = [r for r in results if r.status in FAILING]
        if args.json:
            print_json({"run": run.to_dict(), "results": [r.to_dict() for r in results]})
            return 0
        print(f"run {run.id} {run.status} ({_when(run)}, {run.duration:.2f} s)"
              + (f": {run.message}" if run.message else ""))
        print_table(
            ["suite", "env", "case", "status", "seconds", "detail"],
            [[r.suite, r.env, r.case, r.status + (" (flaky)" if r.flaky else ""),
              f"{r.duration:.3f}", (r.message.splitlines() or [""])[0][:120]] for r in results],
        )
        if args.output:
            for r in results:
                if r.stdout or r.stderr:
                    print(f"--- {r.suite}[{r.env}] {r.case}")
                    print((r.stdout + r.stderr).rstrip())
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ptest_tui.reports import write_reports

    if not args.format.strip(" ,"):
        raise UsageError("no report format given", "--format html,json,junit")
    with open_session(args) as session:
        formats = _formats(args.format, tuple(session.reporters))  # + plugin formats
        run = session.runs.get(args.run)
        folder = Path(args.output).resolve() if args.output else (
            session.workspace.state_dir / "reports" / run.id
        )
        for path in write_reports(run, session.runs.results(run.id), formats, folder,
                                  reporters=session.reporters):
            print(path)
    return 0
