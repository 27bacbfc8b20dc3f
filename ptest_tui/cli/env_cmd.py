"""``ptest-tui env``: create, list, show, exec in, delete, clean up and repair environments.

Every action goes through the Session facade; this module only parses, validates the
whole request before acting, runs long calls so Ctrl+C cancels them, and prints.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import TYPE_CHECKING

from ptest_tui.cli import signals
from ptest_tui.cli.common import add_json_flag
from ptest_tui.cli.env_create import run_create
from ptest_tui.cli.env_render import (
    confirm,
    parse_assignments,
    positive_float,
    positive_int,
    run_cancellable,
)
from ptest_tui.errors import EnvStateError, ExitCode, PtestError, UsageError

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

TIMEOUT_EXIT = 124  # as coreutils `timeout` does, so scripts can tell a timeout apart


# -- parsers -----------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``env`` and its actions."""
    parser = subparsers.add_parser(
        "env",
        help="create, list, inspect, run in and delete environments",
        description="Manage isolated environments (basic, virtualenv, docker).",
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="env_command", metavar="ACTION")
    _register_create(sub)
    _register_inspect(sub)
    _register_exec(sub)
    _register_maintenance(sub)
    _register_migrate(sub)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _register_create(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    create = sub.add_parser(
        "create",
        help="create one or more environments",
        description="Create environments. A NAME declared in ptest.toml uses its settings,"
        " with these options on top. Every name and option is checked before anything is"
        " created. Exit 0 when all were created, 1 when some failed (the rest are kept),"
        " 2 on bad input (nothing created).",
    )
    create.add_argument("names", nargs="+", metavar="NAME", help="environment name(s)")
    create.add_argument(
        "--isolation",
        metavar="LEVEL",
        help="auto (default: picked from what the env needs), basic, virtualenv or docker",
    )
    create.add_argument("--python", metavar="X", help="interpreter: a version (3.12) or a path")
    create.add_argument("--image", metavar="I", help="container image (selects docker)")
    create.add_argument("--memory", metavar="SIZE", help="memory limit such as 512m (docker)")
    create.add_argument("--cpus", metavar="N", help="CPU limit such as 1.5 (docker)")
    create.add_argument("--pids", metavar="N", help="process limit (docker)")
    create.add_argument(
        "--network", choices=("none", "bridge"), help="container network (docker; default none)"
    )
    create.add_argument(
        "--mount",
        choices=("ro", "rw", "none"),
        help="how the workspace is mounted in the container (docker; default ro)",
    )
    create.add_argument(
        "--package",
        dest="packages",
        action="append",
        default=[],
        metavar="REQ",
        help="requirement to install (repeatable; needs a Python environment)",
    )
    create.add_argument(
        "-r",
        "--requirement",
        dest="requirement_files",
        action="append",
        default=[],
        metavar="FILE",
        help="install the requirements listed in FILE too (repeatable)",
    )
    create.add_argument(
        "--env",
        dest="variables",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable for commands in the env (repeatable)",
    )
    create.add_argument("--description", metavar="TEXT", help="free text shown by `env show`")
    create.add_argument(
        "--count", type=positive_int, metavar="N", help="create NAME-1 ... NAME-N for each NAME"
    )
    create.add_argument(
        "--parallel",
        type=positive_int,
        metavar="N",
        help="environments created at once (default: defaults.max_workers or from the CPUs)",
    )
    add_json_flag(create)
    create.set_defaults(handler=run_create)


def _register_inspect(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser(
        "list",
        help="list environments (created and declared)",
        description="List stored environments and those only declared in ptest.toml"
        " (status 'declared'). Broken environments show their error.",
    )
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    show = sub.add_parser(
        "show",
        help="details, engine status and history of one environment",
        description="Show an environment: its record, why its isolation level was chosen,"
        " what the engine sees now and its status history.",
    )
    show.add_argument("name", metavar="NAME")
    add_json_flag(show)
    show.set_defaults(handler=run_show)


def _register_exec(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "exec",
        help="run a command in an environment",
        usage="%(prog)s [--timeout S] [--cwd DIR] [--env KEY=VALUE] NAME -- CMD [ARG ...]",
        description="Run CMD in the environment, streaming its output live, and exit with"
        " its exit code (124 if --timeout expired, 130 if interrupted). Ctrl+C stops the"
        " command: interrupt, then terminate, then kill.",
    )
    run.add_argument("--timeout", type=positive_float, metavar="S", help="stop after S seconds")
    run.add_argument("--cwd", metavar="DIR", help="working folder (default: the workspace)")
    run.add_argument(
        "--env",
        dest="variables",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment variable for this command (repeatable)",
    )
    run.add_argument("name", metavar="NAME")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD", help="the command")
    run.set_defaults(handler=run_exec, exec_parser=run)


def _register_maintenance(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    delete = sub.add_parser(
        "delete",
        help="delete environments and everything they own",
        description="Delete environments. All names must exist (and, without --force,"
        " be ready or broken) before anything is deleted. On a terminal, asks first"
        " unless --yes.",
    )
    delete.add_argument("names", nargs="+", metavar="NAME")
    delete.add_argument(
        "--force", action="store_true", help="delete even while creating, busy or deleting"
    )
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=run_delete)

    cleanup = sub.add_parser(
        "cleanup",
        help="remove broken environments and leftovers",
        description="Remove broken environments, folders under .ptest/envs that no"
        " environment owns, and engine resources (containers, networks, volumes) left by"
        " killed runs.",
    )
    cleanup.add_argument("--dry-run", action="store_true", help="list what would be removed")
    cleanup.add_argument(
        "--orphans-only",
        action="store_true",
        help="keep broken environments; remove only resources no environment owns",
    )
    add_json_flag(cleanup)
    cleanup.set_defaults(handler=run_cleanup)

    repair = sub.add_parser(
        "repair",
        help="rebuild a broken environment from its stored settings",
        description="Rebuild a broken (or unhealthy) environment from its stored spec;"
        " leftovers are removed first.",
    )
    repair.add_argument("name", metavar="NAME")
    repair.set_defaults(handler=run_repair)


# -- list / show ---------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    """``env list``: stored and declared environments."""
    from ptest_tui.cli.common import open_session, print_json
    from ptest_tui.cli.env_render import print_list

    with open_session(args) as session:
        views = session.list_envs()
    if args.json:
        print_json([view.to_dict() for view in views])
    else:
        print_list(views, session.config.envs)
    return int(ExitCode.OK)


def run_show(args: argparse.Namespace) -> int:
    """``env show``: record, selection reason, engine status and history."""
    from ptest_tui.cli.common import open_session, print_json
    from ptest_tui.cli.env_render import declared_dict, print_declared, print_show, show_dict
    from ptest_tui.engines.base import EngineStatus

    with open_session(args) as session:
        record = session.store.find_env(args.name)
        if record is None and args.name in session.config.envs:
            spec = session.spec_for(args.name)
            selection = session.select(spec)
            if args.json:
                print_json(declared_dict(args.name, selection.level, selection.reason, spec))
            else:
                print_declared(args.name, selection.level, selection.reason, spec.to_dict())
            return int(ExitCode.OK)
        record = session.get_env(args.name)  # EnvNotFoundError names it
        status: EngineStatus | PtestError
        try:
            status = session.env_status(args.name)
        except PtestError as exc:  # e.g. the Docker daemon is down: still show the record
            status = exc
        history = session.store.transitions(args.name)
    if args.json:
        print_json(show_dict(record, status, history))
    else:
        print_show(record, status, history)
    return int(ExitCode.OK)


# -- exec ----------------------------------------------------------------------------------


def _exec_argv(args: argparse.Namespace) -> list[str]:
    """The command after NAME; options given between NAME and ``--`` are parsed too."""
    argv = list(args.argv)
    if argv and argv[0].startswith("-") and "--" in argv:
        # `env exec NAME --timeout 5 -- CMD`: REMAINDER swallowed our options; parse them.
        cut = argv.index("--")
        args.exec_parser.parse_args([*argv[:cut], args.name], namespace=args)
        argv = argv[cut + 1 :]
    if not argv:
        raise UsageError("no command given", "put the command after --: env exec NAME -- CMD")
    return argv


def _exit_status(code: int) -> int:
    # A negative return code means killed by that signal; shells report 128 + signal.
    return 128 - code if code < 0 else code


def run_exec(args: argparse.Namespace) -> int:
    """``env exec``: stream the command's output and exit with its exit code."""
    from ptest_tui.cli.common import open_session
    from ptest_tui.cli.env_render import say

    argv = _exec_argv(args)
    variables = parse_assignments(args.variables)
    streams = {"stdout": sys.stdout, "stderr": sys.stderr}

    def on_output(stream: str, line: str) -> None:
        say(line, streams.get(stream, sys.stdout))

    with open_session(args) as session:
        result, interrupted = run_cancellable(
            lambda token: session.exec(
                args.name,
                argv,
                on_output=on_output,
                cancel=token,
                cwd=args.cwd,
                env=variables or None,
                timeout=args.timeout,
            )
        )
    if result.timed_out:
        print(f"ptest-tui: error: command timed out after {args.timeout:g} s", file=sys.stderr)
        return TIMEOUT_EXIT
    if interrupted or result.cancelled:
        print("ptest-tui: interrupted", file=sys.stderr)
        return signals.interrupted_exit_code()
    return _exit_status(result.exit_code)


# -- delete / cleanup / repair -------------------------------------------------------------


def run_delete(args: argparse.Namespace) -> int:
    """``env delete``: check every name first, then delete them all."""
    from ptest_tui.cli.common import open_session
    from ptest_tui.cli.env_render import say

    names = list(dict.fromkeys(args.names))
    with open_session(args) as session:
        records = [session.get_env(name) for name in names]  # all must exist
        if not args.force:
            for record in records:
                if record.status not in ("ready", "broken"):
                    raise EnvStateError(
                        f"environment {record.name!r} is {record.status}; cannot delete it now",
                        "wait for the other operation, or pass --force",
                    )
        question = f"delete {len(names)} environment(s): {', '.join(names)}?"
        asking = not args.yes and sys.stdin.isatty() and sys.stdout.isatty()
        if asking and not confirm(question):
            say("nothing deleted")
            return int(ExitCode.FAILURE)
        if args.force:
            errors: dict[str, PtestError | None] = {}
            for name in names:
                try:
                    session.delete_env(name, force=True)
                    errors[name] = None
                except PtestError as exc:
                    errors[name] = exc
        else:
            errors = session.delete_envs(names)
    for name in names:
        error = errors.get(name)
        if error is None:
            say(f"deleted {name}")
        else:
            say(f"failed to delete {name}: {error.one_line()}", sys.stderr)
    return int(ExitCode.FAILURE if any(errors.values()) else ExitCode.OK)


def run_cleanup(args: argparse.Namespace) -> int:
    """``env cleanup``: broken environments and leftovers no environment owns."""
    from ptest_tui.cli.common import open_session, print_json
    from ptest_tui.cli.env_render import print_cleanup

    with open_session(args) as session:
        items = session.cleanup(dry_run=args.dry_run, include_broken=not args.orphans_only)
    if args.json:
        print_json([item.to_dict() for item in items])
    else:
        print_cleanup(items, args.dry_run)
    return int(ExitCode.FAILURE if any(item.error for item in items) else ExitCode.OK)


def run_repair(args: argparse.Namespace) -> int:
    """``env repair``: rebuild one environment from its stored spec."""
    from ptest_tui.cli.common import open_session
    from ptest_tui.cli.env_render import say

    started = time.monotonic()
    with open_session(args) as session:
        session.get_env(args.name)
        record, interrupted = run_cancellable(lambda token: session.repair_env(args.name, token))
    if interrupted:
        return signals.interrupted_exit_code()
    say(f"repaired {record.name} ({record.isolation}, {time.monotonic() - started:.2f} s)")
    return int(ExitCode.OK)


# -- migrate (the work is in ptest_tui.snapshots; see docs/snapshots.md) -------------------


def _register_migrate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = sub.add_parser(
        "migrate",
        help="move an environment to another isolation level",
        description="Rebuild the env at LEVEL with the same packages (from its lock), HOME"
        " files and settings, verify it (same lock; the env's smoke command) and switch the"
        " name over only then; on failure the env is unchanged. Prints what is kept and what"
        " is not (basic envs have no Python packages of their own).",
    )
    migrate.add_argument("name", metavar="ENV")
    migrate.add_argument("--to", required=True, metavar="LEVEL", help="basic, virtualenv or docker")
    migrate.add_argument(
        "--keep-source", action="store_true", help="keep the old env as ENV-<old level>"
    )
    migrate.add_argument(
        "--smoke", metavar="CMD", help="command that must pass in the new env (default: the"
        " env's smoke setting)"
    )
    add_json_flag(migrate)
    migrate.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    """``env migrate``: see ptest_tui.cli.snapshot_cmd.run_migrate."""
    from ptest_tui.cli.snapshot_cmd import run_migrate as migrate

    return migrate(args)
