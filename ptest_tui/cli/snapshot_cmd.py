"""``ptest-tui snapshot``: create, list, show, delete, diff, restore, export and import
environment snapshots; also the handler of ``env migrate``.

Exit codes: 0 ok, 2 bad input (unknown or deleted snapshot, hostile or tampered archive,
broken env: nothing changed), 3 a failure while acting (disk full, engine failed: the
env that was to be replaced is unchanged), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ptest_tui.cli.common import add_json_flag, open_session, print_json, print_table
from ptest_tui.errors import ExitCode

if TYPE_CHECKING:
    from ptest_tui.session import Session
    from ptest_tui.snapshots.rebuild import RebuildOutcome

def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``snapshot`` and its actions."""
    parser = subparsers.add_parser(
        "snapshot",
        help="save, restore, export and import environments",
        description="Environment snapshots: the lock (exact versions), the HOME files and"
        " the settings of an env, content-addressed under .ptest/snapshots. See"
        " docs/snapshots.md.",
    )
    parser.set_defaults(handler=lambda _a: _usage(parser))
    sub = parser.add_subparsers(dest="snapshot_command", metavar="ACTION")

    create = sub.add_parser("create", help="snapshot an environment")
    create.add_argument("env", metavar="ENV")
    create.add_argument("--tag", metavar="T", help="a name to refer to the snapshot by")
    create.add_argument("-m", "--message", metavar="M", help="a one-line note")
    create.add_argument("--include", action="append", default=[], metavar="GLOB",
                        help="record only HOME paths matching GLOB (repeatable; default **)")
    create.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="leave out HOME paths matching GLOB (repeatable; caches and"
                        " bytecode are always left out)")
    create.add_argument("--container-fs", action="store_true",
                        help="docker envs: also record the container's changes to its image")
    add_json_flag(create)
    create.set_defaults(handler=_create)

    listing = sub.add_parser("list", help="stored snapshots (of one env)")
    listing.add_argument("env", nargs="?", metavar="ENV")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", help="what a snapshot holds")
    show.add_argument("id", metavar="ID", help="id, unique id prefix or tag")
    add_json_flag(show)
    show.set_defaults(handler=_show)

    delete = sub.add_parser("delete", help="delete a snapshot (shared content is kept)")
    delete.add_argument("id", metavar="ID")
    add_json_flag(delete)
    delete.set_defaults(handler=_delete)

    diff = sub.add_parser("diff", help="packages and files that differ between two snapshots")
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    add_json_flag(diff)
    diff.set_defaults(handler=_diff)

    restore = sub.add_parser(
        "restore", help="rebuild an env exactly as snapshotted (verified, atomic)",
        description="Rebuild the env of a snapshot and verify it (same lock, same file"
        " hashes, the env's smoke command). Over an existing env it is atomic: the new env"
        " is built beside it and switched in only when verified.",
    )
    restore.add_argument("id", metavar="ID")
    restore.add_argument("--as", dest="as_name", metavar="NAME", help="restore under this name")
    add_json_flag(restore)
    restore.set_defaults(handler=_restore)

    export = sub.add_parser("export", help="write a snapshot to one archive file")
    export.add_argument("id", metavar="ID")
    export.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the archive (.tar, or .tar.gz to compress)")
    add_json_flag(export)
    export.set_defaults(handler=_export)

    imp = sub.add_parser("import", help="check and store a snapshot archive")
    imp.add_argument("file", metavar="FILE")
    add_json_flag(imp)
    imp.set_defaults(handler=_import)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _say(text: str) -> None:
    print(text, flush=True)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


@contextmanager
def progress(session: Session, quiet: bool) -> Iterator[None]:
    """Each restore/migration step as a line on stderr (a terminal only, unless quiet)."""
    from ptest_tui.events import MigrationStep

    if quiet or not sys.stderr.isatty():
        yield
        return

    def show(event: MigrationStep) -> None:
        count = f"[{event.index}/{event.total}] " if event.index else ""
        detail = f": {event.detail}" if event.detail else ""
        print(f"{event.env}: {count}{event.step}{detail}", file=sys.stderr, flush=True)

    stop = session.bus.subscribe(MigrationStep, show)
    try:
        yield
    finally:
        stop()


def _cancellable(work: Callable[[Any], Any]) -> Any:
    from ptest_tui.cli import signals
    from ptest_tui.cli.env_render import run_cancellable

    result, interrupted = run_cancellable(work)
    if interrupted:
        raise SystemExit(signals.interrupted_exit_code())
    return result


# -- handlers --------------------------------------------------------------------------


def _create(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        record = _cancellable(lambda token: session.snapshot(
            args.env, args.tag, args.message, include=args.include, exclude=args.exclude,
            container_fs=args.container_fs, cancel=token,
        ))
    if args.json:
        print_json(record.to_dict())
    else:
        tag = f" [{record.tag}]" if record.tag else ""
        _say(f"snapshot {record.id}{tag} of {record.env}: {record.packages} packages,"
             f" {record.files} files ({_size(record.bytes)})")
    return int(ExitCode.OK)


def _list(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        records = session.snapshots.all(args.env)
    if args.json:
        print_json([r.to_dict() for r in records])
        return int(ExitCode.OK)
    rows = [
        [r.id, r.env, r.isolation, r.tag, str(r.packages), str(r.files), _size(r.bytes),
         _when(r.created_at), r.message]
        for r in records
    ]
    print_table(["id", "env", "level", "tag", "packages", "files", "size", "created",
                 "message"], rows)
    return int(ExitCode.OK)


def _show(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        record, manifest = session.snapshots.show(args.id)
    if args.json:
        data = record.to_dict()
        data.update(settings=manifest.settings, pins=list(manifest.pins),
                    files=[e.to_dict() for e in manifest.files],
                    include=list(manifest.include), exclude=list(manifest.exclude),
                    container_fs=None if manifest.container_fs is None
                    else [e.to_dict() for e in manifest.container_fs],
                    skipped=list(manifest.skipped))
        print_json(data)
        return int(ExitCode.OK)
    spec = manifest.settings.get("spec", {})
    fields = [
        ("snapshot", record.id + (f" [{record.tag}]" if record.tag else "")),
        ("env", f"{record.env} ({record.isolation})"),
        ("created", f"{_when(record.created_at)} ({record.origin})"),
        ("message", record.message or "-"),
        ("python", manifest.settings.get("python_version") or "-"),
        ("image", manifest.settings.get("image") or "-"),
        ("variables", ", ".join(sorted(spec.get("env") or {})) or "-"),
        ("objects", ", ".join(o["name"] for o in manifest.settings.get("objects", [])) or "-"),
        ("packages", str(len(manifest.pins))),
        ("files", f"{record.files} ({_size(record.bytes)}) in "
                  f"{manifest.settings.get('working_folder', 'home')}"),
    ]
    if manifest.container_fs is not None:
        fields.append(("container fs", f"{len(manifest.container_fs)} changes"))
    for key, value in fields:
        _say(f"{key + ':':<14}{value}")
    for pin in manifest.pins:
        _say(f"  {pin}")
    for entry in manifest.files:
        if entry.kind != "dir":
            what = entry.sha256[:12] if entry.kind == "file" else f"-> {entry.target}"
            _say(f"  {entry.path}  {what}")
    for line in manifest.skipped:
        _say(f"  not recorded: {line}")
    return int(ExitCode.OK)


def _delete(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        record, freed = session.snapshots.delete(args.id)
    if args.json:
        print_json({"id": record.id, "freed": freed})
    else:
        _say(f"deleted snapshot {record.id} ({_size(freed)} freed)")
    return int(ExitCode.OK)


def _diff(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        result = session.snapshots.diff(args.a, args.b)
    if args.json:
        print_json(result.to_dict())
        return int(ExitCode.OK)
    if result.empty:
        _say(f"{result.a} and {result.b} hold the same packages, files and settings")
    for pin in result.packages_added:
        _say(f"+ {pin}")
    for pin in result.packages_removed:
        _say(f"- {pin}")
    for name, old, new in result.packages_changed:
        _say(f"~ {name} {old} -> {new}")
    for path in result.files_added:
        _say(f"+ file {path}")
    for path in result.files_removed:
        _say(f"- file {path}")
    for path in result.files_changed:
        _say(f"~ file {path}")
    for key, old, new in result.settings_changed:
        _say(f"~ {key}: {old!r} -> {new!r}")
    return int(ExitCode.OK)


def print_outcome(outcome: RebuildOutcome) -> None:
    """A restore or migration: what happened, what was verified, kept and not kept."""
    verb = "restored" if outcome.kind == "restore" else "migrated"
    was = f" (was {outcome.replaced})" if outcome.replaced else ""
    _say(f"{verb} {outcome.env} to {outcome.level}{was} from snapshot {outcome.snapshot_id}"
         f" in {outcome.seconds:.2f} s")
    for line in outcome.verified:
        _say(f"  verified: {line}")
    for line in outcome.kept:
        _say(f"  kept: {line}")
    for line in outcome.dropped:
        _say(f"  not kept: {line}")
    if outcome.kept_source:
        _say(f"  the old env is kept as {outcome.kept_source}")
    for line in outcome.warnings:
        print(f"ptest-tui: warning: {line}", file=sys.stderr)


def _restore(args: argparse.Namespace) -> int:
    with open_session(args) as session, progress(session, args.json):
        outcome = _cancellable(lambda token: session.restore(args.id, args.as_name, token))
    if args.json:
        print_json(outcome.to_dict())
    else:
        print_outcome(outcome)
    return int(ExitCode.OK)


def _export(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        record, size = session.snapshots.export(args.id, args.output)
    if args.json:
        print_json({"id": record.id, "file": args.output, "bytes": size})
    else:
        _say(f"exported snapshot {record.id} of {record.env} to {args.output} ({_size(size)})")
    return int(ExitCode.OK)


def _import(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        record, new = session.snapshots.import_(args.file)
    if args.json:
        print_json({**record.to_dict(), "new": new})
    else:
        state = "imported" if new else "already here:"
        _say(f"{state} snapshot {record.id} of {record.env} ({record.isolation});"
             f" restore it with `ptest-tui snapshot restore {record.id}`")
    return int(ExitCode.OK)


def run_migrate(args: argparse.Namespace) -> int:
    """``env migrate``: rebuild an env at another level, switched in once verified."""
    import shlex

    smoke = shlex.split(args.smoke) if args.smoke else None
    with open_session(args) as session, progress(session, args.json):
        outcome = _cancellable(lambda token: session.migrate(
            args.name, args.to, keep_source=args.keep_source, smoke=smoke, cancel=token,
        ))
    if args.json:
        print_json(outcome.to_dict())
    else:
        print_outcome(outcome)
    return int(ExitCode.OK)
