"""``ptest-tui doctor``: check this machine, say what is missing and how to install it.

``--fix`` installs what it can with the OS package manager (after showing the commands
and asking, unless ``--yes``), starts a stopped Docker daemon, builds a missing base image,
then checks again. Exit code 0 when everything required is there, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ptest_tui.errors import UsageError

if TYPE_CHECKING:
    from ptest_tui.doctor.fix import FixPlan
    from ptest_tui.doctor.report import CheckResult, FixAction, Report

MARKS = {"ok": ("✓", "green"), "missing": ("✗", "red"), "warning": ("!", "yellow")}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``doctor``."""
    from ptest_tui.cli.common import add_json_flag

    parser = subparsers.add_parser(
        "doctor",
        help="check what this machine has and how to install what is missing",
        description="Check Python, venv support, uv, virtualenv, Docker (SDK, CLI, daemon,"
        " socket), the base image, debootstrap and free disk space. Docker, the image and"
        " debootstrap are optional unless the workspace has docker environments or"
        " PTEST_REQUIRE names them (e.g. PTEST_REQUIRE=docker). Exit code 0 when everything"
        " required is there, 1 otherwise.",
    )
    add_json_flag(parser)
    parser.add_argument(
        "--fix",
        action="store_true",
        help="install what is missing with the OS package manager (asks first), then check"
        " again",
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="with --fix: do not ask for confirmation"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the commands --fix would run and run none (implies --fix)",
    )
    parser.add_argument(
        "--required-only",
        action="store_true",
        help="with --fix: fix only required checks, not optional ones",
    )
    parser.set_defaults(handler=run_doctor)


def _checks(args: argparse.Namespace) -> Report:
    from ptest_tui.doctor import run_checks

    explicit = Path(args.workspace) if getattr(args, "workspace", None) else None
    return run_checks(explicit, overrides=getattr(args, "overrides", []))


def run_doctor(args: argparse.Namespace) -> int:
    """Run the checks (and fixes); print them; return 0 or 1."""
    fixing = args.fix or args.dry_run
    if (args.yes or args.required_only) and not fixing:
        flag = "--yes" if args.yes else "--required-only"
        raise UsageError(f"{flag} only applies to --fix", "add --fix, or drop the flag")
    report = _checks(args)
    if not fixing:
        _show(report, args.json)
        return report.exit_code
    # With --json, stdout carries only the final JSON; everything else goes to stderr.
    out = sys.stderr if args.json else sys.stdout
    if not args.json:
        _show(report, False)
    from ptest_tui.doctor.fix import plan_fixes

    plan = plan_fixes(report, is_root=os.geteuid() == 0, required_only=args.required_only)
    _show_plan(plan, out, dry_run=args.dry_run)
    if plan.empty or args.dry_run:
        if args.json:
            _show(report, True)
        return report.exit_code
    if not args.yes and not _confirm(f"Run {len(plan.actions)} command(s)? [y/N] ", out):
        print("nothing was changed", file=out)
        if args.json:
            _show(report, True)
        return report.exit_code
    ok = _run_plan(plan, report, out)
    print("\nchecking again:" if ok else "\nsome fixes failed; checking again:", file=out)
    after = _checks(args)
    _show(after, args.json)
    return after.exit_code


# -- output ---------------------------------------------------------------------------------


def _level(check: CheckResult) -> str:
    return "required" if check.required else "optional"


def _fix_text(check: CheckResult) -> str:
    if check.ok:
        return ""
    command = check.fix_command or ""
    if command and check.fix and check.fix.needs_root:
        command += " (as root)"
    if check.manual_fix:
        return f"{command}; {check.manual_fix}" if command else check.manual_fix
    return command


def _show(report: Report, as_json: bool) -> None:
    if as_json:
        from ptest_tui.cli.common import print_json

        print_json(report.to_json())
    elif sys.stdout.isatty():
        _show_table(report)
    else:
        _show_lines(report)


def _show_lines(report: Report) -> None:
    """Plain lines for pipes and logs: one per check, a second one with the fix."""
    for check in report.checks:
        print(f"{check.status:<8} {check.name:<15} {check.detail}")
        if not check.ok:
            print(f"{'':<24} needed by: {check.needed_by} [{_level(check)}]")
            fix = _fix_text(check)
            if fix:
                print(f"{'':<24} fix: {fix}")
    print(report.summary())


def _show_table(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    fixes = [_fix_text(check) for check in report.checks]
    table = Table(header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=3)
    table.add_column("needed by", overflow="fold", ratio=2)
    if any(fixes):  # an all-green report needs no empty fix column
        table.add_column("fix", overflow="fold", ratio=3)
    for check, fix in zip(report.checks, fixes, strict=True):
        mark, colour = MARKS[check.status]
        row = [
            Text(mark, style=f"bold {colour}"),
            Text(check.name),
            Text(_level(check), style="bold" if check.required else "dim"),
            Text(check.detail),
            Text(check.needed_by, style="dim" if check.ok else ""),
        ]
        if any(fixes):
            row.append(Text(fix, style="cyan"))
        table.add_row(*row)
    console = Console()
    console.print(table)
    colour = "green" if report.ok else "red"
    console.print(Text(report.summary(), style=f"bold {colour}"))


def _show_plan(plan: FixPlan, out: TextIO, *, dry_run: bool) -> None:
    for name, advice in plan.unfixable:
        print(f"cannot fix {name} automatically: {advice}", file=out)
    if plan.needs_root:
        me = shutil.which("ptest-tui") or "ptest-tui"
        print("these commands need root (rerun with sudo: "
              f"`sudo {shlex.quote(me)} doctor --fix`):", file=out)
        for action in plan.needs_root:
            print(f"  {action.display()}", file=out)
    if plan.empty:
        if not plan.needs_root and not plan.unfixable:
            print("nothing to fix", file=out)
        return
    print("would run:" if dry_run else "will run:", file=out)
    for action in plan.actions:
        note = f"  ({action.note})" if action.note else ""
        print(f"  {action.display()}{note}", file=out)
    if dry_run:
        print("dry run: nothing was run", file=out)


def _confirm(prompt: str, out: TextIO) -> bool:
    """Ask on stdin; anything but y/yes (or end of input) means no."""
    print(prompt, end="", file=out, flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print(file=out)
    return answer.strip().lower() in ("y", "yes")


def _run_plan(plan: FixPlan, report: Report, out: TextIO) -> bool:
    from ptest_tui.doctor import wait_for_docker
    from ptest_tui.doctor.fix import run_plan
    from ptest_tui.paths import user_cache_dir

    def starting(action: FixAction) -> None:
        print(f"$ {action.display()}", file=out, flush=True)

    outcomes = run_plan(
        plan,
        user_cache_dir(),
        wait_for_daemon=lambda seconds: wait_for_docker(seconds, report.docker_host),
        on_start=starting,
    )
    for outcome in outcomes:
        if outcome.exit_code != 0 or outcome.detail:
            state = "ok" if outcome.exit_code == 0 else f"exit {outcome.exit_code}"
            print(f"  {outcome.action.display()}: {state} {outcome.detail}".rstrip(), file=out)
    return all(o.exit_code == 0 for o in outcomes)
