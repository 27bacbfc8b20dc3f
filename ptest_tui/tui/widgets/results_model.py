"""What the Results pane shows, kept apart from the widgets: runs, their results, live state.

Two sources feed it. Engine events (RunStarted, CaseStarted, CaseFinished, CaseDone,
RunFinished) make the runs of this process live; a periodic re-read of the run history
brings in runs made anywhere else (a batch run in another terminal, the CLI) and corrects
anything an event missed. The store is the source of truth, so a history read replaces
what events guessed, except that it never takes a finished run back to running or drops
results a slower read has not seen yet.

Everything here runs on the app's thread; history reads happen in a worker and arrive as
plain values (:class:`HistoryRead`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from ptest_tui.events import CaseDone, CaseFinished, CaseStarted, Event, RunFinished, RunStarted
from ptest_tui.runs.model import FAILING, OUTCOMES, PASSED, CaseResult, RunRecord
from ptest_tui.tui.style import StatusLook

RUNNING = "running"
FLAKY = "flaky"

# Outcome icons: one cell each, colors from the theme.
OUTCOME_LOOKS: dict[str, StatusLook] = {
    "passed": StatusLook("✔", "success"),
    "failed": StatusLook("✖", "error"),
    "error": StatusLook("⚠", "error"),
    "skipped": StatusLook("○", "foreground-muted"),
    "xfailed": StatusLook("✗", "foreground-muted"),
    "xpassed": StatusLook("✦", "warning"),
    "cancelled": StatusLook("⊘", "warning"),
    FLAKY: StatusLook("↻", "warning"),
    RUNNING: StatusLook("◐", "accent"),
}
UNKNOWN = StatusLook("?", "foreground-muted")
# Which status a group (run, env, suite) shows: the first of these any member has.
WORST_FIRST = ("failed", "error", RUNNING, "cancelled", FLAKY, "xpassed", "passed", "xfailed",
               "skipped")
# Outcomes in the order counts are written, flaky after them.
COUNTED = (*OUTCOMES, FLAKY)
FILTER_WORDS = frozenset((*OUTCOMES, FLAKY, RUNNING))

CaseKey = tuple[str, str, str]  # (env, suite, case)


def outcome_look(status: str) -> StatusLook:
    """The icon and color variable of an outcome (or ``running``, ``flaky``)."""
    return OUTCOME_LOOKS.get(status, UNKNOWN)


def worst(statuses: Iterable[str]) -> str:
    """The status a group of results shows (``passed`` for an empty group)."""
    present = set(statuses)
    return next((status for status in WORST_FIRST if status in present), PASSED)


@dataclass(frozen=True)
class ResultRow:
    """One result as the tree shows it (no output: that is loaded when a case is opened)."""

    suite: str
    env: str
    case: str
    status: str
    duration: float = 0.0
    message: str = ""
    parent: str = ""
    flaky: bool = False
    attempts: int = 1
    # Derived once, read for every row on every redraw: the key, and the status drawn
    # (``flaky`` for a pass after retries, else the outcome).
    key: CaseKey = field(init=False, compare=False, repr=False)
    shown: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.env, self.suite, self.case))
        object.__setattr__(self, "shown", FLAKY if self.flaky and self.status not in FAILING
                           else self.status)

    @classmethod
    def from_result(cls, result: CaseResult) -> ResultRow:
        """From a stored result."""
        return cls(result.suite, result.env, result.case, result.status, result.duration,
                   result.message, result.parent, result.flaky, result.attempts)

    @classmethod
    def from_event(cls, event: CaseFinished) -> ResultRow:
        """From a live CaseFinished (its message is only the first line)."""
        return cls(event.suite, event.env, event.case, event.status, event.duration,
                   event.message, event.parent, event.flaky)


@dataclass(frozen=True)
class Running:
    """A configured case started and not done yet (pytest tests arrive under it)."""

    env: str
    suite: str
    case: str
    attempt: int = 1

    @property
    def key(self) -> CaseKey:
        """(env, suite, case)."""
        return (self.env, self.suite, self.case)


@dataclass
class RunState:
    """One run in the pane: its record, its results so far and what is running in it.

    ``touched`` names the cases whose node changed since the tree last looked, so a live
    run with thousands of tests redraws only what arrived, not everything each time.
    """

    record: RunRecord
    results: dict[CaseKey, ResultRow] = field(default_factory=dict)
    running: dict[CaseKey, Running] = field(default_factory=dict)
    touched: set[CaseKey] = field(default_factory=set)

    def stop_running(self) -> None:
        """The run ended: nothing in it runs any more."""
        self.touched.update(self.running)
        self.running.clear()

    @property
    def id(self) -> str:
        """The run id."""
        return self.record.id

    @property
    def live(self) -> bool:
        """Whether the run has not finished."""
        return self.record.status == RUNNING

    def counts(self) -> dict[str, int]:
        """Results per shown outcome (flaky passes count as flaky only)."""
        return tally(self.results.values())


@dataclass(frozen=True)
class HistoryRead:
    """What one history read found: the newest runs, and results of those that changed."""

    records: tuple[RunRecord, ...]
    results: Mapping[str, tuple[CaseResult, ...]]


def tally(rows: Iterable[ResultRow]) -> dict[str, int]:
    """How many rows show each outcome (flaky passes count as flaky only)."""
    counts = dict.fromkeys(COUNTED, 0)
    for row in rows:
        counts[row.shown] = counts.get(row.shown, 0) + 1
    return counts


def run_order(run_id: str) -> tuple[int, str]:
    """Sort key of run ids: by number (ids are "1", "2", ...), newest last."""
    return (int(run_id), run_id) if run_id.isdigit() else (0, run_id)


def signature(record: RunRecord) -> tuple[str, float | None]:
    """What tells whether a stored run changed since the last read."""
    return (record.status, record.finished_at)


class ResultsModel:
    """Runs by id; ``dirty`` names the runs whose tree needs redrawing."""

    def __init__(self) -> None:
        self.runs: dict[str, RunState] = {}
        self.dirty: set[str] = set()
        self.order_changed = False  # runs appeared or went: the top level needs a sync

    # -- reading ------------------------------------------------------------------------

    def ordered(self) -> list[RunState]:
        """Runs newest first."""
        return sorted(self.runs.values(), key=lambda run: run_order(run.id), reverse=True)

    def newest(self) -> RunState | None:
        """The newest run, if any."""
        ordered = self.ordered()
        return ordered[0] if ordered else None

    def signatures(self) -> dict[str, tuple[str, float | None]]:
        """Per finished run, its signature: a history read skips results of unchanged ones."""
        return {run.id: signature(run.record) for run in self.runs.values() if not run.live}

    # -- events -------------------------------------------------------------------------

    def _state(self, run_id: str, at: float) -> RunState:
        run = self.runs.get(run_id)
        if run is None:
            run = self.runs[run_id] = RunState(RunRecord(run_id, at))
            self.order_changed = True
        return run

    def apply_events(self, events: Sequence[Event]) -> list[RunRecord]:
        """Apply a batch of engine events; returns the runs that finished in it."""
        finished: list[RunRecord] = []
        for event in events:
            record = self._apply(event)
            if record is not None:
                finished.append(record)
        return finished

    def _apply(self, event: Event) -> RunRecord | None:
        if isinstance(event, RunStarted):
            run = self._state(event.run_id, event.at)
            envs = tuple(dict.fromkeys(label.rpartition("[")[2].rstrip("]")
                                       for label in event.units))
            if not run.record.envs:
                run.record = replace(run.record, envs=envs)
        elif isinstance(event, CaseStarted):
            run = self._state(event.run_id, event.at)
            item = Running(event.env, event.suite, event.case, event.attempt)
            run.running[item.key] = item
            run.touched.add(item.key)
        elif isinstance(event, CaseFinished):
            run = self._state(event.run_id, event.at)
            row = ResultRow.from_event(event)
            old = run.results.get(row.key)
            # A stored row has the full message; an event repeating it adds nothing.
            if old is None or old.status != row.status or old.duration != row.duration:
                run.results[row.key] = row
                run.touched.add(row.key)
        elif isinstance(event, CaseDone):
            run = self._state(event.run_id, event.at)
            key = (event.env, event.suite, event.case)
            if run.running.pop(key, None) is not None:
                run.touched.add(key)
        elif isinstance(event, RunFinished):
            run = self._state(event.run_id, event.at - event.seconds)
            run.stop_running()
            was_live = run.live
            run.record = replace(run.record, status=event.status, finished_at=event.at,
                                 counts=dict(event.counts), message=event.message)
            self.dirty.add(run.id)
            return run.record if was_live else None
        else:
            return None
        self.dirty.add(run.id)
        return None

    # -- history ------------------------------------------------------------------------

    def apply_history(self, read: HistoryRead) -> tuple[list[RunRecord], list[RunRecord]]:
        """Merge a history read; returns (runs new to the pane, runs seen finishing).

        Runs newer than the newest stored one are kept (a read can start just before a
        run is recorded); other runs the read does not list have left the window.
        """
        listed = {record.id for record in read.records}
        newest = max((run_order(i) for i in listed), default=(0, ""))
        for run_id in [i for i in self.runs if i not in listed and run_order(i) <= newest]:
            del self.runs[run_id]
            self.order_changed = True
        appeared: list[RunRecord] = []
        finished: list[RunRecord] = []
        for record in read.records:
            run = self.runs.get(record.id)
            if run is None:
                run = self.runs[record.id] = RunState(record)
                self.order_changed = True
                appeared.append(record)
            elif run.live and record.status != RUNNING:
                finished.append(record)
            # A read that started before the RunFinished event must not revive the run.
            stale = record.status == RUNNING and not run.live
            if not stale:
                if record != run.record:
                    self.dirty.add(record.id)
                run.record = record
            if not run.live and run.running:
                run.stop_running()
                self.dirty.add(run.id)
            results = read.results.get(record.id)
            if results is not None:
                self._merge_results(run, results, union=run.live or stale)
        return appeared, finished

    def _merge_results(
        self, run: RunState, results: Sequence[CaseResult], *, union: bool
    ) -> None:
        rows = {row.key: row for row in map(ResultRow.from_result, results)}
        # While a run goes on, results arrive live before they are stored (and a read may
        # lag behind the events): keep both. A finished run's stored results are final.
        merged = {**run.results, **rows} if union else rows
        if merged != run.results:
            old = run.results
            run.touched.update(key for key in merged.keys() | old.keys()
                               if merged.get(key) != old.get(key))
            run.results = merged
            self.dirty.add(run.id)


@dataclass(frozen=True)
class ResultFilter:
    """The ``/`` filter: outcome words match statuses, other words match names or messages.

    Every word must match (``failed api`` is the failed results of suite api). ``flaky``
    and ``running`` work as words too.
    """

    text: str = ""

    @property
    def active(self) -> bool:
        """Whether anything is filtered."""
        return bool(self.text.strip())

    @cached_property
    def _split(self) -> tuple[set[str], list[str]]:
        words = self.text.lower().split()
        return ({w for w in words if w in FILTER_WORDS},
                [w for w in words if w not in FILTER_WORDS])

    def matches_row(self, row: ResultRow) -> bool:
        """Whether a result is shown."""
        statuses, words = self._split
        if statuses and row.status not in statuses and row.shown not in statuses:
            return False
        haystack = f"{row.env} {row.suite} {row.case} {row.parent} {row.message}".lower()
        return all(word in haystack for word in words)

    def matches_running(self, item: Running) -> bool:
        """Whether a running case is shown."""
        statuses, words = self._split
        if statuses and RUNNING not in statuses:
            return False
        haystack = f"{item.env} {item.suite} {item.case}".lower()
        return all(word in haystack for word in words)


def counts_text(counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """(text, color variable) parts such as ``3 passed``, non-zero outcomes only."""
    return [(f"{counts[status]} {status}", outcome_look(status).variable)
            for status in COUNTED if counts.get(status)]
