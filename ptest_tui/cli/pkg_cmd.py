"""``ptest-tui pkg``: install, uninstall, list, check, lock and sync packages; the cache.

Exit codes: 0 ok, 1 some env failed (batch) or ``pkg check`` found problems, 2 bad input
or a conflict (nothing changed), 3 infrastructure (index unreachable, tool failed).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ptest_tui.cli.common import add_json_flag, open_session, print_json, print_table
from ptest_tui.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ptest_tui.packages.reports import InstallOutcome, InstallReport
    from ptest_tui.session import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkg`` and its actions."""
    parser = subparsers.add_parser(
        "pkg",
        help="install, list, check, lock and sync packages in environments",
        description="Package management in environments (uv or pip); see docs/packages.md.",
    )
    parser.set_defaults(handler=lambda _a: _usage(parser))
    sub = parser.add_subparsers(dest="pkg_command", metavar="ACTION")

    install = sub.add_parser("install", help="install packages into one or many envs")
    install.add_argument("targets", nargs="*", metavar="ENV PKG", help="env, then requirements")
    install.add_argument("-r", "--requirement", dest="files", action="append", default=[],
                         metavar="FILE", help="requirements file (repeatable)")
    install.add_argument("-U", "--upgrade", action="store_true",
                         help="let installed packages move to newer versions")
    install.add_argument("--envs", metavar="A,B,C", help="install into these envs (no ENV arg)")
    install.add_argument("--all", action="store_true", help="install into every stored env")
    install.add_argument("--dry-run", action="store_true",
                         help="resolve and show what would change; install nothing")
    _installer_flag(install)
    add_json_flag(install)
    install.set_defaults(handler=_install)

    uninstall = sub.add_parser("uninstall", help="remove packages from an env")
    uninstall.add_argument("env")
    uninstall.add_argument("names", nargs="+", metavar="PKG")
    _installer_flag(uninstall)
    add_json_flag(uninstall)
    uninstall.set_defaults(handler=_uninstall)

    listing = sub.add_parser("list", help="installed distributions of an env")
    listing.add_argument("env")
    listing.add_argument("--outdated", action="store_true", help="only those with newer releases")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    check = sub.add_parser("check", help="missing and conflicting requirements (like pip check)")
    check.add_argument("env")
    add_json_flag(check)
    check.set_defaults(handler=_check)

    lock = sub.add_parser("lock", help="exact versions with hashes of what an env has")
    lock.add_argument("env")
    lock.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    lock.set_defaults(handler=_lock)

    sync = sub.add_parser("sync", help="make an env exactly the set in a lock file")
    sync.add_argument("env")
    sync.add_argument("--lock", required=True, metavar="FILE")
    _installer_flag(sync)
    add_json_flag(sync)
    sync.set_defaults(handler=_sync)

    cache = sub.add_parser("cache", help="the shared download and wheel cache")
    cache.set_defaults(handler=lambda _a: _usage(cache))
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="ACTION")
    info = cache_sub.add_parser("info", help="size, entries, location, last hit rate")
    add_json_flag(info)
    info.set_defaults(handler=_cache_info)
    clean = cache_sub.add_parser("clean", help="empty the shared cache")
    clean.set_defaults(handler=_cache_clean)


def _installer_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--installer", choices=("uv", "pip"), help="override the backend")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


# -- progress ----------------------------------------------------------------------------


@contextmanager
def _progress(session: Session, quiet: bool) -> Iterator[None]:
    """Per-env progress from PackagePhase events: rich bars on a terminal, lines otherwise."""
    from ptest_tui.events import PackagePhase

    if quiet:
        yield
        return
    if not sys.stdout.isatty():
        seen: set[tuple[str, str]] = set()
        lock = threading.Lock()

        def plain(event: PackagePhase) -> None:
            # One line per env and phase keeps logs short; details carry the counts.
            if not event.detail:
                return
            with lock:
                if (event.env, event.detail) in seen:
                    return
                seen.add((event.env, event.detail))
                print(f"{event.env}: {event.phase}: {event.detail}", flush=True)

        unsubscribe = session.bus.subscribe(PackagePhase, plain)
        try:
            yield
        finally:
            unsubscribe()
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[phase]}"),
        transient=True,
    ) as bars:
        tasks: dict[str, Any] = {}

        def rich_event(event: PackagePhase) -> None:
            if event.env not in tasks:
                tasks[event.env] = bars.add_task(event.env, total=None, phase="")
            bars.update(
                tasks[event.env],
                completed=event.done,
                total=event.total or None,
                phase=f"{event.phase} {event.done}/{event.total}" if event.total else event.phase,
            )

        unsubscribe = session.bus.subscribe(PackagePhase, rich_event)
        try:
            yield
        finally:
            unsubscribe()


def _report_line(report: InstallReport) -> str:
    changed = ", ".join(report.installed) or "nothing new"
    removed = f"; removed {', '.join(report.removed)}" if report.removed else ""
    return (
        f"{report.env}: {changed}{removed} ({report.seconds:.2f} s, {report.cache_hits} from"
        f" cache, {report.downloads} downloaded)"
    )


def _cancellable(work: Any) -> Any:
    from ptest_tui.cli.env_render import run_cancellable

    result, interrupted = run_cancellable(work)
    if interrupted:
        from ptest_tui.errors import CancelledError

        raise CancelledError("interrupted", "")
    return result


# -- handlers ----------------------------------------------------------------------------


def _install(args: argparse.Namespace) -> int:
    targets: list[str] = list(args.targets)
    batch = bool(args.envs or args.all)
    if args.envs and args.all:
        raise UsageError("--envs and --all cannot be combined", "pick one")
    with open_session(args) as session:
        if batch:
            envs = (
                [r.name for r in session.store.list_envs()]
                if args.all
                else [e.strip() for e in args.envs.split(",") if e.strip()]
            )
            requirements = targets
        else:
            if not targets:
                raise UsageError("no environment given", "pkg install ENV PKG... (or --envs/--all)")
            envs, requirements = [targets[0]], targets[1:]
        if args.dry_run:
            if batch:
                raise UsageError("--dry-run takes one env", "pkg install ENV PKG... --dry-run")
            plan = _cancellable(
                lambda token: session.plan_install(
                    envs[0], requirements, requirement_files=args.files,
                    upgrade=args.upgrade, installer=args.installer, cancel=token,
                )
            )
            if args.json:
                print_json({**plan.to_dict(), "dry_run": True})
            else:
                changes = ", ".join(plan.installed) or "nothing"
                print(f"{plan.env}: would install {changes} ({plan.seconds:.2f} s to resolve)")
            return int(ExitCode.OK)
        with _progress(session, args.json):
            if not batch:
                report = _cancellable(
                    lambda token: session.install(
                        envs[0], requirements, requirement_files=args.files,
                        upgrade=args.upgrade, installer=args.installer, cancel=token,
                    )
                )
                outcomes: list[InstallOutcome] = []
            else:
                outcomes = _cancellable(
                    lambda token: session.install_many(
                        envs, requirements, requirement_files=args.files,
                        upgrade=args.upgrade, installer=args.installer, cancel=token,
                    )
                )
        if not batch:
            if args.json:
                print_json(report.to_dict())
            else:
                print(_report_line(report))
            return int(ExitCode.OK)
        return _batch_summary(outcomes, args.json)


def _batch_summary(outcomes: list[InstallOutcome], as_json: bool) -> int:
    failed = [o for o in outcomes if not o.ok]
    if as_json:
        print_json([o.to_dict() for o in outcomes])
    else:
        for outcome in outcomes:
            if outcome.report is not None:
                print(_report_line(outcome.report))
            elif outcome.error is not None:
                print(f"{outcome.env}: failed: {outcome.error.one_line()}")
        print(f"{len(outcomes) - len(failed)} of {len(outcomes)} environments ok")
    if not failed:
        return int(ExitCode.OK)
    # Only bad input everywhere is a usage problem; any other failure is "some env failed".
    if all(o.error is not None and o.error.exit_code == ExitCode.USAGE for o in failed) and len(
        failed
    ) == len(outcomes):
        return int(ExitCode.USAGE)
    return int(ExitCode.FAILURE)


def _uninstall(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        report = _cancellable(
            lambda token: session.uninstall(
                args.env, args.names, installer=args.installer, cancel=token
            )
        )
        if args.json:
            print_json(report.to_dict())
        else:
            print(f"{args.env}: removed {', '.join(report.removed)}")
    return int(ExitCode.OK)


def _list(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        dists = session.packages(args.env, outdated=args.outdated)
    if args.json:
        print_json([d.to_dict() for d in dists])
        return int(ExitCode.OK)
    if args.outdated:
        print_table(["name", "version", "latest"], [[d.name, d.version, d.latest] for d in dists])
    else:
        print_table(
            ["name", "version", "installer"], [[d.name, d.version, d.installer] for d in dists]
        )
    return int(ExitCode.OK)


def _check(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        report = session.check_packages(args.env)
    if args.json:
        print_json(report.to_dict())
    elif report.ok:
        print(f"{args.env}: {report.checked} distributions, no broken requirements")
    else:
        for problem in report.problems:
            print(problem.describe())
    return int(ExitCode.OK if report.ok else ExitCode.FAILURE)


def _lock(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        lock = _cancellable(
            lambda token: session.package_service.lock(args.env, args.output, token)
        )
    if args.output:
        print(f"wrote {args.output}: {len(lock.pins)} pinned distributions", file=sys.stderr)
    else:
        sys.stdout.write(lock.text)
    return int(ExitCode.OK)


def _sync(args: argparse.Namespace) -> int:
    with open_session(args) as session, _progress(session, args.json):
        report = _cancellable(
            lambda token: session.sync(
                args.env, args.lock, installer=args.installer, cancel=token
            )
        )
    if args.json:
        print_json(report.to_dict())
    else:
        print(_report_line(report))
    return int(ExitCode.OK)


def _cache_info(args: argparse.Namespace) -> int:
    from ptest_tui.packages.cache import cache_info

    info = cache_info()  # the cache is per user, so no workspace is needed
    if args.json:
        print_json(info.to_dict())
        return int(ExitCode.OK)
    rate = "-" if info.hit_rate is None else f"{info.hit_rate:.0%}"
    print(f"location  {info.location}")
    print(f"size      {info.size_bytes / 1024 / 1024:.1f} MiB")
    print(f"entries   {info.entries}")
    print(f"last install hit rate  {rate}")
    return int(ExitCode.OK)


def _cache_clean(args: argparse.Namespace) -> int:
    from ptest_tui.engines.virtualenv import find_uv
    from ptest_tui.packages.cache import clean_cache

    freed = clean_cache(find_uv())
    print(f"freed {freed / 1024 / 1024:.1f} MiB")
    return int(ExitCode.OK)


__all__ = ["register"]

