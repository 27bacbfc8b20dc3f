"""The terminal side of the ``env`` subcommands: output, user strings and Ctrl+C.

Plain lines when stdout is a pipe (scripts and tests read them); rich progress and tables
on a terminal. rich is imported only on the terminal path so piped runs stay light, and
this module is cheap to import because ``env_cmd`` needs its argument types for --help.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ptest_tui.errors import CancelledError, PtestError, UsageError

if TYPE_CHECKING:
    from ptest_tui.cancel import CancelToken
    from ptest_tui.engines.base import EngineStatus
    from ptest_tui.engines.spec import EnvSpec
    from ptest_tui.session import CleanupItem, CreateOutcome, EnvView
    from ptest_tui.store import EnvRecord, Transition

T = TypeVar("T")

_print_lock = threading.Lock()
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def say(text: str, stream: TextIO | None = None) -> None:
    """Print one line now (thread-safe, flushed so progress shows through pipes)."""
    out = stream or sys.stdout
    with _print_lock:
        out.write(text + "\n")
        out.flush()


def on_terminal() -> bool:
    """Whether stdout is a terminal (progress bars and rich tables)."""
    return sys.stdout.isatty()


def _python_of(record: EnvRecord | None, spec: dict[str, Any]) -> str:
    if record is not None and record.engine_state.get("python_version"):
        return str(record.engine_state["python_version"])
    return str(spec.get("python") or "-")


# -- create ----------------------------------------------------------------------------


def created_line(outcome: CreateOutcome) -> str:
    """``created NAME (LEVEL, 0.31 s)``, plus why when the level was picked by auto."""
    record = outcome.record
    assert record is not None
    line = f"created {outcome.name} ({record.isolation}, {outcome.seconds:.2f} s)"
    picked = record.spec.get("isolation", "auto") == "auto"
    return f"{line}: {record.reason}" if picked and record.reason else line


def failed_line(name: str, error: PtestError) -> str:
    """``failed NAME: message (hint: ...)``."""
    return f"failed {name}: {error.one_line()}"


def outcome_dict(outcome: CreateOutcome) -> dict[str, Any]:
    """One item of ``env create --json``: the record, or the error."""
    error = outcome.error
    return {
        "name": outcome.name,
        "ok": outcome.ok,
        "seconds": round(outcome.seconds, 3),
        "record": outcome.record.to_dict() if outcome.record else None,
        "error": None
        if error is None
        else {"message": error.message, "hint": error.hint, "exit_code": int(error.exit_code)},
    }


class CreateProgress:
    """Reports environments as they become ready: plain lines, or a rich progress bar.

    ``done`` is called from worker threads; rich's Progress is thread-safe and plain
    lines go through :func:`say`'s lock.
    """

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.quiet = quiet
        self._progress: Any = None
        self._task: Any = None

    @contextmanager
    def running(self, label: str) -> Iterator[CreateProgress]:
        """Show a bar (several envs) or a spinner (one env) while the block runs."""
        if self.quiet or not on_terminal():
            yield self
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if self.total > 1:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, transient=True) as progress:
            self._progress = progress
            self._task = progress.add_task(label, total=self.total)
            try:
                yield self
            finally:
                self._progress = None

    def done(self, outcome: CreateOutcome) -> None:
        """One environment finished (created or failed)."""
        if self.quiet or isinstance(outcome.error, CancelledError):
            return  # cancelled ones are counted in the summary, not listed one by one
        ok = outcome.error is None
        line = (
            created_line(outcome) if ok else failed_line(outcome.name, outcome.error)  # type: ignore[arg-type]
        )
        progress = self._progress
        if progress is not None:
            from rich.markup import escape

            style = "green" if ok else "red"
            progress.console.print(f"[{style}]{escape(line)}[/]", highlight=False)
            progress.advance(self._task)
        else:
            say(line, sys.stdout if ok else sys.stderr)

    def summary(self, outcomes: Sequence[CreateOutcome], seconds: float) -> None:
        """``created 3 of 3 environments in 1.2 s`` (only for several)."""
        if self.quiet or len(outcomes) < 2:
            return
        ok = sum(1 for o in outcomes if o.ok)
        cancelled = sum(1 for o in outcomes if isinstance(o.error, CancelledError))
        failed = len(outcomes) - ok - cancelled
        tail = f"; {failed} failed" if failed else ""
        tail += f"; {cancelled} cancelled" if cancelled else ""
        say(f"created {ok} of {len(outcomes)} environments in {seconds:.2f} s{tail}")


# -- list and show ---------------------------------------------------------------------


def list_rows(views: Sequence[EnvView], declared: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Rows of ``env list``: name, isolation, status, python, detail.

    ``declared`` is the ``envs`` table of the configuration, for envs not created yet.
    """
    rows = []
    for view in views:
        record = view.record
        spec = record.spec if record else declared.get(view.name, {})
        detail = record.error if record is not None and record.error else view.reason
        rows.append([view.name, view.isolation, view.status, _python_of(record, spec), detail])
    return rows


def print_list(views: Sequence[EnvView], declared: dict[str, dict[str, Any]]) -> None:
    """The ``env list`` table (a hint instead of an empty table on a terminal)."""
    from ptest_tui.cli.common import print_table

    rows = list_rows(views, declared)
    if not rows and on_terminal():
        say("no environments yet: declare them in ptest.toml or run `ptest-tui env create NAME`")
        return
    if on_terminal():
        from rich.markup import escape

        rows = [[escape(cell) for cell in row] for row in rows]
    print_table(["name", "isolation", "status", "python", "detail"], rows, title="environments")


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def history_dicts(history: Sequence[Transition]) -> list[dict[str, Any]]:
    """Status history as JSON-ready data."""
    return [{"old": t.old, "new": t.new, "note": t.note, "at": t.at} for t in history]


def show_dict(
    record: EnvRecord, status: EngineStatus | PtestError, history: Sequence[Transition]
) -> dict[str, Any]:
    """``env show --json`` for a stored environment."""
    engine = (
        {"healthy": status.healthy, "detail": status.detail}
        if not isinstance(status, PtestError)
        else {"healthy": None, "detail": status.one_line()}
    )
    return {
        **record.to_dict(),
        "engine_status": engine,
        "history": history_dicts(history),
    }


def _spec_summary(spec: dict[str, Any]) -> str:
    from ptest_tui.validation import format_memory

    parts = []
    for key, value in spec.items():
        if key in ("name", "description") or value in (None, "", [], {}, ()):
            continue
        if key == "memory" and isinstance(value, int):
            value = format_memory(value)
        elif key == "env" and isinstance(value, dict):
            value = " ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = " ".join(map(str, value))
        parts.append(f"{key}={value}")
    return ", ".join(parts) or "-"


def print_fields(fields: Sequence[tuple[str, str]]) -> None:
    """Aligned ``label  value`` lines."""
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        say(f"{label.ljust(width)}  {value}")


def print_show(
    record: EnvRecord, status: EngineStatus | PtestError, history: Sequence[Transition]
) -> None:
    """``env show`` for a stored environment: record, reason, engine status, history."""
    if isinstance(status, PtestError):
        engine = f"unknown: {status.one_line()}"
    else:
        engine = f"{'healthy' if status.healthy else 'UNHEALTHY'}: {status.detail}"
    fields = [
        ("name", record.name),
        ("status", record.status),
        ("isolation", record.isolation),
        ("reason", record.reason or "-"),
        ("engine", engine),
        ("python", _python_of(record, record.spec)),
        ("location", record.location or "-"),
        ("spec", _spec_summary(record.spec)),
        ("created", _when(record.created_at)),
        ("updated", _when(record.updated_at)),
    ]
    if record.spec.get("description"):
        fields.insert(1, ("description", str(record.spec["description"])))
    if record.error:
        fields.insert(2, ("error", record.error))
    print_fields(fields)
    say("history")
    for item in history:
        old = item.old or "(new)"
        new = item.new or "(gone)"
        note = f"  {item.note}" if item.note else ""
        say(f"  {_when(item.at)}  {old} -> {new}{note}")


def declared_dict(name: str, level: str, reason: str, spec: EnvSpec) -> dict[str, Any]:
    """``env show --json`` for an environment only declared in ptest.toml."""
    return {
        "name": name,
        "status": "declared",
        "isolation": level,
        "reason": reason,
        "spec": spec.to_dict(),
        "history": [],
    }


def print_declared(name: str, level: str, reason: str, spec: dict[str, Any]) -> None:
    """``env show`` for an environment only declared in ptest.toml."""
    fields = [
        ("name", name),
        ("status", "declared (in ptest.toml; not created yet)"),
        ("isolation", level),
        ("reason", reason),
        ("spec", _spec_summary(spec)),
    ]
    if spec.get("description"):
        fields.insert(1, ("description", str(spec["description"])))
    print_fields(fields)
    say(f"create it with `ptest-tui env create {name}`")


# -- cleanup ---------------------------------------------------------------------------


def print_cleanup(items: Sequence[CleanupItem], dry_run: bool) -> None:
    """One line per removed (or, with --dry-run, removable) item."""
    if not items:
        say("nothing to clean up")
        return
    verb = "would remove" if dry_run else "removed"
    for item in items:
        if item.error:
            print(
                f"ptest-tui: could not remove {item.kind} {item.name}: {item.error}",
                file=sys.stderr,
            )
        else:
            say(f"{verb} {item.kind} {item.name}: {item.reason}")


# -- user strings --------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def parse_assignments(items: Sequence[str], option: str = "--env") -> dict[str, str]:
    """``KEY=VALUE`` strings to a dict; a malformed one is a usage error."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not _ENV_KEY.match(key):
            raise UsageError(
                f"invalid {option} {item!r}",
                f"use {option} KEY=VALUE with a variable name such as DEBUG=1",
            )
        result[key] = value
    return result


# -- running long calls so Ctrl+C cancels them -------------------------------------------


def run_cancellable(work: Callable[[CancelToken], T]) -> tuple[T, bool]:
    """Run ``work(token)`` in a thread; Ctrl+C cancels the token and waits for it to stop.

    Returns the result and whether the user interrupted. A second Ctrl+C gives up waiting;
    the next ptest-tui start then marks anything left half-done as broken.
    """
    from ptest_tui.cancel import CancelToken

    token = CancelToken()
    box: dict[str, Any] = {}
    # An Event, not Thread.join: on Python 3.11 a join interrupted by Ctrl+C can make
    # is_alive() report False while the thread still runs.
    finished = threading.Event()

    def target() -> None:
        try:
            box["result"] = work(token)
        except BaseException as exc:  # re-raised in the calling thread below
            box["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(target=target, name="ptest-cli-work", daemon=True)
    worker.start()
    interrupted = False
    while not finished.is_set():
        try:
            finished.wait(0.1)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            token.cancel()
            print("ptest-tui: cancelling (Ctrl+C again to quit now)", file=sys.stderr)
    if "error" in box:
        raise box["error"]
    return box["result"], interrupted


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; anything but y/yes (or EOF) is no."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
