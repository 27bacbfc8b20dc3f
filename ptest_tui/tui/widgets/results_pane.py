"""The Results pane: runs as a live tree, a case's failure and output, and the run keys.

Two feeds keep it current (see ``results_model.py``): the engine events the app forwards
through :meth:`ResultsPane.engine_event`, buffered and applied at most ten times a second
(pytest can report hundreds of tests a second), and a re-read of the run history every
two seconds, so runs made in another terminal appear too: the store is the source of
truth. Every engine call (history reads, output, runs, plans, reports) runs in a thread
worker; results come back as messages handled on the app's thread.

Keys (active while the focus is in the pane): r run (dialog), F rerun the failures of the
selected run, h its HTML report, P run a batch plan, / filter, s or Esc stop the run.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Tree

from ptest_tui.errors import PtestError
from ptest_tui.events import CaseDone, CaseFinished, CaseStarted, Event, RunFinished, RunStarted
from ptest_tui.runs.model import CaseResult, RunRecord
from ptest_tui.session import Session
from ptest_tui.tui.widgets.results_actions import SEVERITY, ResultsActions
from ptest_tui.tui.widgets.results_detail import ResultDetail
from ptest_tui.tui.widgets.results_model import (
    CaseKey,
    HistoryRead,
    ResultFilter,
    ResultRow,
    ResultsModel,
    counts_text,
    signature,
)
from ptest_tui.tui.widgets.results_tree import NodeRef, ResultsFilter, ResultsTree
from ptest_tui.tui.widgets.text_box import TextBox

POLL_SECONDS = 2.0
FLUSH_SECONDS = 0.1  # live events are applied at most this often (10 Hz)
RECENT_RUNS = 20
FILTER_AT_ONCE = 500  # up to this many results shown, the filter applies on every key
FILTER_DELAY = 0.15  # beyond, it applies when typing pauses this long
NARROW_BELOW = 100  # columns under which the detail goes below the tree
RUN_EVENTS = (RunStarted, CaseStarted, CaseFinished, CaseDone, RunFinished)
NO_RUNS = "No runs yet: press r to run suites, or P to run a batch plan."
KEYS_HINT = Content.assemble(
    ("r", "bold $accent"), " run  ", ("F", "bold $accent"), " rerun failed  ",
    ("h", "bold $accent"), " report  ", ("P", "bold $accent"), " plan  ",
    ("/", "bold $accent"), " filter",
)


class HistoryLoaded(Message, bubble=False):
    """A history read finished (or failed)."""

    def __init__(self, read: HistoryRead | None, error: PtestError | None = None) -> None:
        super().__init__()
        self.read = read
        self.error = error


class OutputLoaded(Message, bubble=False):
    """The results of a run with their output, for the detail area."""

    def __init__(self, run_id: str, results: dict[CaseKey, CaseResult]) -> None:
        super().__init__()
        self.run_id = run_id
        self.results = results


class ResultsPane(ResultsActions):
    """Runs, results and output of the workspace, live; see the module doc for the keys."""

    DEFAULT_CSS = """
    ResultsPane {
        height: 1fr;
    }
    ResultsPane #results-body {
        height: 1fr;
    }
    ResultsPane.-narrow #results-body {
        layout: vertical;
    }
    ResultsPane #results-tree, ResultsPane #results-detail {
        border: round $foreground 25%;
        border-title-color: $foreground-muted;
        border-title-style: bold;
        background: $surface;
    }
    ResultsPane #results-tree:focus, ResultsPane #results-detail:focus {
        border: round $border;
        border-title-color: $border;
    }
    ResultsPane #results-tree {
        width: 3fr;
        height: 1fr;
    }
    ResultsPane #results-detail {
        width: 2fr;
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    ResultsPane.-narrow #results-tree, ResultsPane.-narrow #results-detail {
        width: 1fr;
    }
    ResultsPane #results-status {
        height: 1;
        padding: 0 1;
        color: $foreground-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run", tooltip="Run suites: choose suites, envs, parallelism"),
        Binding("F", "rerun_failed", "Rerun failed",
                tooltip="Rerun what failed in the selected run (or the newest)"),
        Binding("h", "report", "Report",
                tooltip="Open the HTML report of the selected run (written if missing)"),
        Binding("P", "run_plan", "Plan", tooltip="Run a batch plan file, as --batch does"),
        Binding("slash", "filter", "Filter", show=False,
                tooltip="Filter the results: words or statuses (failed, flaky, ...)"),
        Binding("s", "stop", "Stop", show=False, tooltip="Stop the run or plan started here"),
        Binding("escape", "stop(True)", "Stop", show=False,
                tooltip="Stop the run or plan started here"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        poll_seconds: float = POLL_SECONDS,
        flush_seconds: float = FLUSH_SECONDS,
        recent: int = RECENT_RUNS,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.session = session
        self.poll_seconds = poll_seconds
        self.flush_seconds = flush_seconds
        self.recent = recent
        self.model = ResultsModel()
        self.where = ResultFilter()
        self.init_actions()
        self._pending: list[Event] = []
        self._flush_due = False
        self._reading = False
        self._read_again = False
        self._loaded = False
        self._announced: set[str] = set()
        self._outputs: tuple[str, dict[CaseKey, CaseResult]] = ("", {})  # one run's output
        self._asked: tuple[str, ResultRow] | None = None  # the result last read for
        self._output_loading = False
        self._history_error = ""
        self._filter_timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Filter line, tree and detail side by side (stacked when narrow), status line."""
        yield ResultsFilter(placeholder="/ filter: words or statuses (failed, flaky, ...)",
                            id="results-filter")
        with Horizontal(id="results-body"):
            tree = ResultsTree(id="results-tree")
            tree.border_title = "Runs"
            yield tree
            detail = ResultDetail(id="results-detail")
            detail.border_title = "Result"
            yield detail
        yield TextBox(KEYS_HINT, id="results-status")

    @property
    def runs_tree(self) -> ResultsTree:
        """The runs tree."""
        return self.query_one(ResultsTree)

    @property
    def detail(self) -> ResultDetail:
        """The detail area."""
        return self.query_one(ResultDetail)

    def on_mount(self) -> None:
        """Read the history now and every few seconds; follow theme changes."""
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.set_interval(self.poll_seconds, self.refresh_history)
        self.refresh_history()

    def on_unmount(self) -> None:
        """Stop a run started here (quitting the app must not leave it going)."""
        if self.token is not None:
            self.token.cancel()

    def on_resize(self, event: Resize) -> None:
        """Stack the tree and the detail on narrow terminals."""
        self.set_class(event.size.width < NARROW_BELOW, "-narrow")

    def _theme_changed(self, _theme: object) -> None:
        self.runs_tree.theme_changed()
        self.runs_tree.sync(self.model, self.where, everything=True)

    # -- the pane interface ---------------------------------------------------------------

    def show_env(self, name: str | None) -> None:
        """The env selected elsewhere; the run dialog lists it first."""
        self.env = name

    def engine_event(self, event: Event) -> None:
        """Queue a run event; queued events are applied together, at most 10 times a second."""
        if not isinstance(event, RUN_EVENTS):
            return
        self._pending.append(event)
        if not self._flush_due:
            self._flush_due = True
            self.set_timer(self.flush_seconds, self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        events, self._pending = self._pending, []
        finished = self.model.apply_events(events)
        self._redraw()
        for record in finished:
            self._announce(record)
        if finished:
            self.refresh_history()  # the stored results have the full messages

    # -- history ------------------------------------------------------------------------

    def refresh_history(self) -> None:
        """Re-read the run history (once more after a read already going)."""
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read_again = False
        self._read_history(self.model.signatures())

    @work(thread=True, group="results-history", exit_on_error=False)
    def _read_history(self, known: dict[str, tuple[str, float | None]]) -> None:
        try:
            history = self.session.runs
            records = tuple(history.recent(self.recent))
            results = {
                record.id: tuple(history.results(record.id, with_output=False))
                for record in records if known.get(record.id) != signature(record)
            }
        except PtestError as exc:
            self.post_message(HistoryLoaded(None, exc))
            return
        except Exception as exc:  # a locked or damaged store: say so, keep polling
            error = PtestError(f"cannot read the run history: {exc}",
                               "it is retried every few seconds")
            self.post_message(HistoryLoaded(None, error))
            return
        self.post_message(HistoryLoaded(HistoryRead(records, results)))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        """Merge the read; announce runs that finished since the last one."""
        self._reading = False
        if message.error is not None:
            text = message.error.one_line()
            if text != self._history_error:  # polling repeats; say it once
                self._history_error = text
                self._notify_error(message.error, "Cannot read the run history")
        elif message.read is not None:
            self._history_error = ""
            appeared, finished = self.model.apply_history(message.read)
            if not self._loaded:
                self._announced.update(record.id for record in appeared)
            self._redraw()
            for record in [*appeared, *finished]:
                if record.status != "running":
                    self._announce(record)
            self._loaded = True
        if self._read_again:
            self.refresh_history()

    def _announce(self, record: RunRecord) -> None:
        if record.id in self._announced:
            return
        self._announced.add(record.id)
        run = self.model.runs.get(record.id)
        counts = run.counts() if run is not None and run.results else record.counts
        parts = ", ".join(text for text, _ in counts_text(counts)) or "no results"
        note = f"\n{record.message}" if record.message else ""
        self.app.notify(f"run {record.id} {record.status}: {parts}{note}",
                        title="Run finished", severity=SEVERITY.get(record.status, "warning"),
                        markup=False, timeout=6)

    # -- drawing ------------------------------------------------------------------------

    def _redraw(self, everything: bool = False) -> None:
        tree = self.runs_tree
        tree.sync(self.model, self.where, everything=everything)
        if self.follow and tree.created:
            self.follow = False
            tree.select_ref(tree.created[0])
        elif tree.root.children and (tree.selected_ref is None
                                     or tree.selected_ref not in tree.nodes):
            # Nothing selected yet, or the selected node was filtered away: the top run.
            tree.select_ref(tree.root.children[0].data or NodeRef("run", ""))
        self._show_selected()
        self.update_status()

    def update_status(self) -> None:
        """The status line: what runs here (and how to stop it), else the keys."""
        status = self.query_one("#results-status", TextBox)
        if self.token is not None:
            status.show(Content.assemble(("⟳ ", "$accent"), (self.job, "$accent"),
                                           "  ", ("s", "bold $accent"), " stop"))
        else:
            status.show(KEYS_HINT)

    @on(Tree.NodeHighlighted, "#results-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        ref = self.runs_tree.selected_ref
        run = self.model.runs.get(ref.run_id) if ref is not None else None
        if ref is None or run is None:
            if self.model.runs:
                self.detail.show_hint()
            else:
                self.detail.show_hint(NO_RUNS)
            return
        if ref.kind == "run":
            self.detail.show_run(run)
            return
        if ref.kind in ("env", "suite"):
            rows = [r for r in run.results.values()
                    if r.env == ref.env and (ref.kind == "env" or r.suite == ref.suite)]
            live = [i for i in run.running.values()
                    if i.env == ref.env and (ref.kind == "env" or i.suite == ref.suite)]
            self.detail.show_group(ref.kind, ref.env if ref.kind == "env" else ref.suite,
                                   run.id, rows, len(live))
            return
        key = (ref.env, ref.suite, ref.case)
        row = run.results.get(key)
        if row is None:
            item = run.running.get(key)
            if item is not None:
                self.detail.show_running(run.id, item)
            return
        cached_run, cached = self._outputs
        full = cached.get(key) if cached_run == run.id else None
        if full is not None and full.status == row.status:
            self.detail.show_case(run.id, row, full)
        elif self._output_loading or self._asked != (run.id, row):
            self.detail.show_case(run.id, row, None, loading=True)
            if not self._output_loading:
                self._asked = (run.id, row)
                self._output_loading = True
                self._load_output(run.id)
        else:  # read for this very result and not there: a test of a running pytest case
            self.detail.show_case(run.id, row, None, note="output is stored when the case ends")

    @work(thread=True, group="results-output", exit_on_error=False)
    def _load_output(self, run_id: str) -> None:
        try:
            results = {(r.env, r.suite, r.case): r for r in self.session.runs.results(run_id)}
        except Exception:  # gone meanwhile, or the store is busy: the next read retries
            results = {}
        self.post_message(OutputLoaded(run_id, results))

    def on_output_loaded(self, message: OutputLoaded) -> None:
        """Keep the run's output (one run at a time) and show the selected case's."""
        self._output_loading = False
        self._outputs = (message.run_id, message.results)
        self._show_selected()

    # -- filter -------------------------------------------------------------------------

    def action_filter(self) -> None:
        """/: type to filter."""
        self.query_one(ResultsFilter).focus()

    @on(Input.Changed, "#results-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.where = ResultFilter(event.value)
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if sum(len(run.results) for run in self.model.runs.values()) < FILTER_AT_ONCE:
            self._redraw(everything=True)
        else:  # thousands of results: filter once typing pauses, not on every key
            self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_timer = None
        self._redraw(everything=True)
