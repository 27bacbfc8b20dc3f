"""``ptest-tui advise [ENV]``: suggestions from history, each with its evidence.

Exit codes: 0 (advice is not a failure, even with some), 2 an unknown env or bad option.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ptest_tui.cli.common import add_json_flag, open_session, print_json

if TYPE_CHECKING:
    from ptest_tui.advise import AdviceReport

RULE_NAMES = (
    "slowest-cases", "flaky-cases", "idle-envs", "memory-limits", "pip-backend",
    "package-conflicts",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``advise``."""
    parser = subparsers.add_parser(
        "advise",
        help="suggestions from run history, envs and benchmarks, with evidence",
        description="Compute suggestions from stored runs, envs, resource samples and"
        " benchmarks: the slowest cases, flaky cases, idle envs, memory limits too tight or"
        " too loose, the pip backend where uv is faster, package conflicts. Each comes"
        " with the facts behind it. Thresholds: [advise] in ptest.toml (docs/advise.md).",
    )
    parser.add_argument("env", nargs="?", metavar="ENV", help="only advice about this env")
    parser.add_argument("--idle-days", type=int, metavar="N",
                        help="days without use that make an env idle (default: advise.idle_days)")
    parser.add_argument("--runs", type=int, metavar="N",
                        help="recent runs to look at (default: advise.runs)")
    parser.add_argument("--rule", action="append", choices=RULE_NAMES, metavar="RULE",
                        help="run only this rule (repeatable): " + ", ".join(RULE_NAMES))
    add_json_flag(parser)
    parser.set_defaults(handler=_advise)


def _advise(args: argparse.Namespace) -> int:
    from ptest_tui.advise import advise
    from ptest_tui.errors import UsageError

    for flag, value in (("--idle-days", args.idle_days), ("--runs", args.runs)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be at least 1, got {value}", "")
    with open_session(args) as session:
        report = advise(session, args.env, rules=args.rule, idle_days=args.idle_days,
                        runs=args.runs)
    if args.json:
        print_json(report.to_dict())
    else:
        render(report)
    return 0


def render(report: AdviceReport) -> None:
    """Each piece of advice with its evidence, then what could not be checked."""
    out = sys.stdout
    if not report.advice:
        about = f" about {report.env}" if report.env else ""
        out.write(f"no advice{about}: nothing in the history calls for a change\n")
    for item in report.advice:
        out.write(f"[{item.severity}] {item.kind}: {item.message}\n")
        for fact in item.evidence:
            out.write(f"    - {fact}\n")
    if report.skipped:
        out.write("\nnot checked:\n")
        for note in report.skipped:
            out.write(f"    - {note}\n")
