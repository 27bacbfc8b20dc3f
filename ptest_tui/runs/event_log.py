"""Each run's events as NDJSON: ``.ptest/runs/<RUN>/events.ndjson``.

While a run executes, a subscriber on the session's bus appends every event that belongs
to it, one JSON object per line (:meth:`Event.to_dict`: ``event`` is the kind, ``at`` the
Unix time). An event that names a run (``run_id``) is kept only for this run; the others
(env creation, objects, output lines, plugin failures) are kept while the run is going on.
Monitor samples are left out: at one per target per second they would swamp the log, and
the monitor keeps its own. The log stops by itself at the run's ``RunFinished``.

Reading back: :func:`read_events` (a list of dicts), :func:`follow_events` (new lines as
they are written, until the run finishes) and :func:`to_event` (a dict as a typed event
again, to replay it on a bus). Writing never breaks a run: an unwritable folder or a full
disk logs one warning and recording stops.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ptest_tui.events import Event, EventBus, MonitorSample, RunFinished

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

EVENTS_FILE = "events.ndjson"
SKIPPED: tuple[type[Event], ...] = (MonitorSample,)


def events_path(state_dir: Path, run_id: str) -> Path:
    """Where the events of ``run_id`` are stored."""
    return state_dir / "runs" / run_id / EVENTS_FILE


class RunEventLog:
    """Appends one run's events to its NDJSON file; see the module docstring."""

    def __init__(self, bus: EventBus, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self.events = 0
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Line-buffered: each event reaches the file at once, for `runs events --follow`.
            self._file = path.open("a", encoding="utf-8", buffering=1)
        except OSError as exc:
            log.warning("run %s: cannot record events in %s: %s", run_id, path, exc)
        if self._file is not None:
            self._unsubscribe = bus.subscribe(Event, self._write)

    @property
    def closed(self) -> bool:
        """Whether recording has stopped."""
        return self._file is None

    def _write(self, event: Event) -> None:
        if isinstance(event, SKIPPED):
            return
        run_id = getattr(event, "run_id", None)
        if run_id is not None and run_id != self.run_id:
            return  # another run of the same session
        # ASCII JSON: output lines may hold lone surrogates, which UTF-8 cannot encode.
        line = json.dumps(event.to_dict(), default=str) + "\n"
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(line)
                self.events += 1
            except OSError as exc:
                log.warning("run %s: event log stopped: %s", self.run_id, exc)
                self._close_locked()
                return
        if isinstance(event, RunFinished) and run_id == self.run_id:
            self.close()

    def close(self) -> None:
        """Stop recording (idempotent)."""
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._file is not None:
            with suppress(OSError):
                self._file.close()
            self._file = None


def record_run_events(session: Session, run_id: str) -> RunEventLog:
    """Start storing ``run_id``'s events; recording stops at its RunFinished by itself."""
    return RunEventLog(session.bus, events_path(session.workspace.state_dir, run_id), run_id)


@contextmanager
def recording(session: Session, run_id: str) -> Iterator[RunEventLog]:
    """:func:`record_run_events` for a block; closed at its end whatever happens."""
    event_log = record_run_events(session, run_id)
    try:
        yield event_log
    finally:
        event_log.close()


# -- reading back ---------------------------------------------------------------------------


def _parse(lines: Sequence[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed process
        if isinstance(data, dict):
            yield data


def read_events(
    state_dir: Path, run_id: str, kinds: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The stored events of ``run_id`` as dicts, oldest first (only ``kinds`` if given).

    A run without an event log (older than this feature) gives an empty list.
    """
    path = events_path(state_dir, run_id)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [e for e in _parse(text.splitlines()) if not kinds or e.get("event") in kinds]


def follow_events(
    path: Path,
    running: Callable[[], bool],
    *,
    poll: float = 0.2,
    stop: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Every event of ``path``, then new ones as they are written, until a
    ``run_finished`` event arrives or ``running()`` is False with nothing left to read."""
    stop = stop or threading.Event()
    position = 0
    pending = ""
    while not stop.is_set():
        chunk = ""
        try:
            with path.open("r", encoding="utf-8", errors="replace") as handle:
                handle.seek(position)
                chunk = handle.read()
                position = handle.tell()
        except FileNotFoundError:
            pass
        if chunk:
            pending += chunk
            complete, _, pending = pending.rpartition("\n")
            for event in _parse(complete.splitlines()):
                yield event
                if event.get("event") == "run_finished":
                    return
            continue
        if not running():
            # The run ended (or was killed) since the last read: one more look, then stop.
            time.sleep(min(poll, 0.05))
            if not _has_more(path, position):
                return
            continue
        stop.wait(poll)


def _has_more(path: Path, position: int) -> bool:
    try:
        return path.stat().st_size > position
    except FileNotFoundError:
        return False


def _event_classes() -> dict[str, type[Event]]:
    found: dict[str, type[Event]] = {}
    pending: list[type[Event]] = [Event]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if dataclasses.is_dataclass(cls) and cls is not Event:
            kind = "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__)
            found[kind.lstrip("_")] = cls
    return found


def to_event(data: dict[str, Any]) -> Event | None:
    """A stored event dict as its typed event again (None for an unknown kind), for
    replaying a run on a bus: ``bus.publish(to_event(d))``."""
    cls = _event_classes().get(str(data.get("event", "")))
    if cls is None:
        return None
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in fields:
            continue
        # JSON has no tuples; fields declared as tuples get them back.
        if isinstance(value, list) and str(fields[name].type).startswith("tuple"):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except TypeError:
        return None  # written by another version with other fields
