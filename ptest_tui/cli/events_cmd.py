"""``ptest-tui runs events RUN``: print (or follow) the stored events of a run.

Text: one line per event (local time, kind, fields). ``--json``: the stored NDJSON lines
as they are, for scripts and for replaying elsewhere. ``--follow`` keeps printing new
events of a run that is still going until it finishes (Ctrl+C stops it, exit 130).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ptest_tui.cli.common import open_session
from ptest_tui.errors import UsageError

# Fields every event has, or that the line already shows in front.
_QUIET = ("event", "at")


def register_events(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``runs events`` to the ``runs`` subcommands."""
    events = sub.add_parser(
        "events", help="one run's stored events (replay), optionally following a live run",
        description="Print the events stored in .ptest/runs/RUN/events.ndjson.",
    )
    events.add_argument("run", nargs="?", default="last", help="run id (default: the last run)")
    events.add_argument("--json", action="store_true", help="NDJSON: the stored lines as is")
    events.add_argument("--follow", "-f", action="store_true",
                        help="keep printing new events until the run finishes")
    events.add_argument("--kind", action="append", default=[], metavar="KIND",
                        help="only events of this kind, e.g. case_finished (repeatable)")
    events.set_defaults(handler=_events)


def format_event(event: dict[str, Any]) -> str:
    """One event as a line of text: ``12:00:01.234 case_finished suite=api ...``."""
    at = event.get("at")
    when = "--:--:--.---"
    if isinstance(at, int | float):
        when = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
    fields = " ".join(
        f"{key}={_value(value)}" for key, value in event.items()
        if key not in _QUIET and value not in ("", None, [], {}) and value is not False
    )
    return f"{when} {event.get('event', '?')}" + (f" {fields}" if fields else "")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def _events(args: argparse.Namespace) -> int:
    from ptest_tui.runs.event_log import events_path, follow_events, read_events

    with open_session(args) as session:
        run = session.runs.get(args.run)
        path = events_path(session.workspace.state_dir, run.id)
        kinds = tuple(args.kind)

        def show(event: dict[str, Any]) -> None:
            if kinds and event.get("event") not in kinds:
                return
            line = json.dumps(event) if args.json else format_event(event)
            print(line, flush=args.follow)

        if args.follow and run.status == "running":
            def running() -> bool:
                return session.runs.get(run.id).status == "running"

            for event in follow_events(path, running):
                show(event)
            return 0
        if not path.exists():
            raise UsageError(
                f"run {run.id} has no stored events",
                "runs record their events since ptest-tui stores them; start a new run",
            )
        for event in read_events(session.workspace.state_dir, run.id):
            show(event)
    sys.stdout.flush()
    return 0
