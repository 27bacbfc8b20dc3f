"""``ptest-tui benchmark``: measure each engine on each scenario on this machine.

Exit codes: 0 every measurement ran (or was skipped: an engine unavailable here), 2 bad
input, 3 a scenario failed while measuring (the others still ran), 130 interrupted (the
temporary envs are removed first; what was measured is printed and stored).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ptest_tui.cli.common import add_json_flag, open_session, print_json, print_table
from ptest_tui.errors import ExitCode

if TYPE_CHECKING:
    from ptest_tui.benchmark import BenchmarkReport, BenchmarkResult
    from ptest_tui.cancel import CancelToken


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``benchmark``."""
    parser = subparsers.add_parser(
        "benchmark",
        help="measure the engines on this machine (create, install, exec, snapshot)",
        description="Measure each engine on each scenario with temporary envs (named"
        " ptbench-*, always removed): create an env, install a tiny local wheel with uv and"
        " with pip, run a command, snapshot and restore. Prints the median and spread of"
        " the runs and stores them; `ptest-tui advise` uses them.",
    )
    parser.add_argument("--engines", default="all", metavar="LIST",
                        help="all, or a comma-separated list such as basic,virtualenv,docker")
    parser.add_argument("--scenarios", default="create,install,exec,snapshot", metavar="LIST",
                        help="comma-separated: create, install, exec, snapshot (default: all)")
    parser.add_argument("--runs", type=int, default=3, metavar="N",
                        help="timed runs per scenario (default 3)")
    parser.add_argument("--show", metavar="ID",
                        help="print a stored benchmark (a number, or last) instead of running")
    add_json_flag(parser)
    parser.set_defaults(handler=_benchmark)


def _progress(engine: str, label: str, number: int, total: int) -> None:
    step = "setting up" if label == "setup" else (
        f"{label}: warm-up" if number == 0 else f"{label}: run {number}/{total}"
    )
    print(f"{engine}: {step}", file=sys.stderr, flush=True)


def _benchmark(args: argparse.Namespace) -> int:
    from ptest_tui.benchmark import BenchmarkHistory
    from ptest_tui.cli import signals
    from ptest_tui.cli.env_render import run_cancellable

    with open_session(args) as session:
        if args.show:
            report = BenchmarkHistory(session.store).get(args.show)
            interrupted = False
        else:
            show = _progress if sys.stderr.isatty() and not args.json else None

            def work(token: CancelToken) -> BenchmarkReport:
                return session.benchmark_engines(
                    args.engines, args.scenarios, runs=args.runs, cancel=token,
                    on_progress=show,
                )

            report, interrupted = run_cancellable(work)
    if args.json:
        print_json(report.to_dict())
    else:
        render(report)
    if interrupted or report.status == "cancelled":
        return signals.interrupted_exit_code() if interrupted else int(ExitCode.INTERRUPTED)
    return int(ExitCode.INFRASTRUCTURE) if report.failed else int(ExitCode.OK)


def _cell(result: BenchmarkResult) -> list[str]:
    if result.status != "ok":
        note = f"{result.status}: {result.reason}" if result.reason else result.status
        return [str(len(result.samples)), "-", "-", note]
    return [
        str(len(result.samples)),
        f"{result.median:.3f}",
        f"{result.spread:.3f} ({result.low:.3f}-{result.high:.3f})",
        "ok",
    ]


def render(report: BenchmarkReport) -> None:
    """The results as a table (seconds), with the batch number they are stored under."""
    rows = [[r.engine, r.label, *_cell(r)] for r in report.results]
    title = f"benchmark {report.batch} ({report.status}): seconds per run"
    if rows:
        print_table(["engine", "scenario", "runs", "median s", "spread s (min-max)", "status"],
                    rows, title=title)
    if not rows:
        print(f"{title}: nothing measured")
    elif not sys.stdout.isatty():
        # The table is tab-separated lines for scripts; the summary goes beside it.
        print(f"{title}; {len(report.results)} results stored", file=sys.stderr)
