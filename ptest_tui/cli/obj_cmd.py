"""``ptest-tui obj``: add, start, stop, inspect and remove test objects.

Exit codes: 0 ok, 2 bad input (nothing changed), 3 the object could not start or its
programs are missing (the message says why, with the last log lines), 130/143 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ptest_tui.cli import signals
from ptest_tui.cli.common import add_json_flag, open_session, print_json, print_table
from ptest_tui.cli.env_render import run_cancellable
from ptest_tui.errors import ExitCode

if TYPE_CHECKING:
    from ptest_tui.cancel import CancelToken
    from ptest_tui.objects.base import ConnectionInfo


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``obj`` and its actions."""
    parser = subparsers.add_parser(
        "obj",
        help="test objects: databases, redis, web apps and services",
        description="Test objects with a lifecycle; see docs/objects.md.",
    )
    parser.set_defaults(handler=lambda _a: _usage(parser))
    sub = parser.add_subparsers(dest="obj_command", metavar="ACTION")

    add = sub.add_parser("add", help="add an object (stored in the workspace)")
    add.add_argument("name")
    add.add_argument("--kind", required=True,
                     help="sqlite, postgres, mysql, mariadb, redis, web, service (or a plugin's)")
    add.add_argument("--runtime", help="process (on the host) or docker (a container)")
    add.add_argument("--version", dest="server_version", help="server version (postgres 15, ...)")
    add.add_argument("--port", default="auto", help="auto (default) or a fixed port")
    add.add_argument("--init", action="append", default=[], metavar="FILE",
                     help="SQL (or redis-cli) file run once on a new database (repeatable)")
    add.add_argument("--user")
    add.add_argument("--password")
    add.add_argument("--database")
    add.add_argument("--image", help="container image (runtime docker)")
    add.add_argument("--command", dest="object_command", help="command of a web or service")
    add.add_argument("--env", dest="object_env", help="environment a web or service runs in")
    add.add_argument("--ready", help="service readiness: port, http, log or command")
    add.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                     help="any other setting of the kind (repeatable)")
    add.add_argument("--start", action="store_true", help="start it right away")
    add.set_defaults(handler=_add)

    for action, text in (
        ("start", "start objects and wait until they are ready"),
        ("stop", "stop objects (data kept, ports released)"),
        ("restart", "stop and start objects with the same data"),
    ):
        command = sub.add_parser(action, help=text)
        command.add_argument("names", nargs="*", metavar="NAME")
        command.add_argument("--all", action="store_true", help="every object")
        if action == "start":
            command.add_argument("--fresh", action="store_true",
                                 help="drop the data first and initialise again")
        add_json_flag(command)
        command.set_defaults(handler=_lifecycle, action=action)

    status = sub.add_parser("status", help="state and health of objects")
    status.add_argument("names", nargs="*", metavar="NAME")
    add_json_flag(status)
    status.set_defaults(handler=_list)

    listing = sub.add_parser("list", help="every object with its state, port and URL")
    add_json_flag(listing)
    listing.set_defaults(handler=_list, names=[])

    show = sub.add_parser("show", help="settings, connection info and variables of an object")
    show.add_argument("name")
    show.add_argument("--reveal", action="store_true", help="show passwords")
    add_json_flag(show)
    show.set_defaults(handler=_show)

    remove = sub.add_parser("remove", help="stop an object and delete its data")
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.set_defaults(handler=_remove)

    logs = sub.add_parser("logs", help="an object's log")
    logs.add_argument("name")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("-n", "--lines", type=int, default=50, help="lines to show (default 50)")
    logs.set_defaults(handler=_logs)

    clean = sub.add_parser("cleanup", help="stop servers and delete data no object owns")
    clean.add_argument("--dry-run", action="store_true", help="only list what would go")
    add_json_flag(clean)
    clean.set_defaults(handler=_cleanup)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    from ptest_tui.errors import UsageError

    settings: dict[str, Any] = {
        "runtime": args.runtime, "version": args.server_version, "port": args.port,
        "init": list(args.init), "user": args.user, "password": args.password,
        "database": args.database, "image": args.image, "command": args.object_command,
        "env": args.object_env, "ready": args.ready,
    }
    if settings["port"] == "auto":
        settings["port"] = None
    for item in args.settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item!r} is not KEY=VALUE", "for example --set durable=true")
        settings[key] = _plain(value)
    return {k: v for k, v in settings.items() if v not in (None, "", [])}


def _plain(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if value.isdigit():
        return int(value)
    return value


def _add(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        spec = session.objects.add(args.name, args.kind, _settings(args))
        print(f"added {spec.kind} object {spec.name}")
        if args.start:
            return _start_all(session, [spec.name], fresh=False, as_json=False)
    return 0


def _names(session: Any, args: argparse.Namespace) -> list[str]:
    from ptest_tui.errors import UsageError

    if args.all:
        return list(session.objects.specs())
    if not args.names:
        raise UsageError("name at least one object, or use --all", "ptest-tui obj list")
    for name in args.names:
        session.objects.spec(name)  # every name checked before anything happens
    return list(args.names)


def _lifecycle(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        names = _names(session, args)
        if args.action == "start":
            return _start_all(session, names, fresh=args.fresh, as_json=args.json)
        if args.action == "stop":
            for name in names:
                session.objects.stop(name)
                if not args.json:
                    print(f"stopped {name}")
            if args.json:
                print_json([session.objects.view(n).to_dict() for n in names])
            return 0
        for name in names:
            session.objects.stop(name)
        return _start_all(session, names, fresh=False, as_json=args.json)


def _start_all(session: Any, names: list[str], *, fresh: bool, as_json: bool) -> int:
    from ptest_tui.errors import PtestError

    def work(token: CancelToken) -> dict[str, ConnectionInfo | PtestError]:
        if len(names) == 1:
            try:
                return {names[0]: session.objects.start(names[0], fresh=fresh, cancel=token)}
            except PtestError as exc:
                return {names[0]: exc}
        result: dict[str, ConnectionInfo | PtestError] = session.objects.start_many(
            names, fresh=fresh, cancel=token
        )
        return result

    results, interrupted = run_cancellable(work)
    failed = {n: r for n, r in results.items() if isinstance(r, PtestError)}
    if as_json:
        print_json([
            {**session.objects.view(n).to_dict(),
             "error": failed[n].message if n in failed else ""}
            for n in names
        ])
    else:
        for name in names:
            if name in failed:
                print(f"ptest-tui: error: {failed[name].one_line()}", file=sys.stderr)
            else:
                view = session.objects.view(name)
                where = view.url or (f"127.0.0.1:{view.port}" if view.port else view.detail)
                print(f"{name} ready: {where}")
    if interrupted:
        return signals.interrupted_exit_code()
    if failed:
        codes = {int(e.exit_code) for e in failed.values()}
        return max(codes)
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        names = list(args.names) or list(session.objects.specs())
        for name in names:
            session.objects.spec(name)
        views = [session.objects.view(name) for name in names]
        if args.json:
            print_json([view.to_dict() for view in views])
            return 0
        if not views:
            print("no objects yet: ptest-tui obj add NAME --kind postgres (or declare them in"
                  " ptest.toml)")
            return 0
        rows = [
            [v.name, v.kind, v.runtime, v.state, str(v.port or ""), v.url, v.error or v.detail]
            for v in views
        ]
        print_table(["name", "kind", "runtime", "state", "port", "url", "detail"], rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    from ptest_tui.objects.service import redact_url

    with open_session(args) as session:
        view = session.objects.view(args.name)
        spec = session.objects.spec(args.name)
        info = session.objects.connection(args.name) if view.state in (
            "running", "unhealthy") else None
        password = info.extra.get("password", "") if info else ""
        variables = info.environment(args.name) if info else {}
        if not args.reveal:
            variables = {
                k: ("***" if k.endswith("_PASSWORD") and v else redact_url(v, password))
                for k, v in variables.items()
            }
        settings = {
            k: ("***" if "password" in k and not args.reveal else v)
            for k, v in spec.settings.items()
        }
        data = {**view.to_dict(), "settings": settings, "environment": variables,
                "log": str(session.objects.log_file(args.name) or "")}
        if args.reveal and info:
            data["url"] = info.url
        if args.json:
            print_json(data)
            return 0
        for key in ("name", "kind", "runtime", "source", "state", "port", "url", "pid",
                    "detail", "error", "log"):
            if data.get(key) not in (None, ""):
                print(f"{key:<9} {data[key]}")
        if settings:
            print("settings")
            for key, value in settings.items():
                print(f"  {key} = {value}")
        if variables:
            print("environment")
            for key, value in sorted(variables.items()):
                print(f"  {key}={value}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        for name in args.names:
            session.objects.spec(name)
        for name in args.names:
            session.objects.remove(name)
            print(f"removed {name}")
    return 0


def _logs(args: argparse.Namespace) -> int:
    from ptest_tui.errors import UsageError
    from ptest_tui.objects.readiness import last_lines

    with open_session(args) as session:
        path = session.objects.log_file(args.name)
        if path is None:
            raise UsageError(f"{args.name} has no log", "only server objects write logs")
        for line in last_lines(path, max(args.lines, 0)):
            print(line)
        if not args.follow:
            return 0
        sys.stdout.flush()

        def follow(token: CancelToken) -> None:
            for line in session.objects.follow_log(args.name, token):
                print(line, flush=True)

        _result, interrupted = run_cancellable(follow)
        return signals.interrupted_exit_code() if interrupted else 0


def _cleanup(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        items = session.objects.cleanup(dry_run=args.dry_run)
        if args.json:
            print_json([item.to_dict() for item in items])
            return 0
        if not items:
            print("nothing to clean up")
            return 0
        verb = "would remove" if args.dry_run else "removed"
        for item in items:
            status = f"failed: {item.error}" if item.error else verb
            print(f"{status} {item.kind} {item.name} ({item.reason})")
        return 1 if any(item.error for item in items) else 0
