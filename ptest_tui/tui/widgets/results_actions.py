"""The actions of the Results pane: run suites, rerun failures, run a plan, stop, report.

A run or plan started here runs in one thread worker with a CancelToken (s or Esc stops
it); only one at a time, so a second request is refused with a notification rather than
racing the first. How a run went is announced by the pane when it sees the run finish
(from events or the history), the same way for runs started anywhere; a plan adds its
own summary. Reports are written in a worker too.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.containers import Vertical
from textual.message import Message
from textual.notifications import SeverityLevel

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.runs.model import FAILING
from ptest_tui.session import Session
from ptest_tui.tui.screens.run_plan import PlanRequest, PlanScreen
from ptest_tui.tui.screens.run_suite import RunRequest, RunScreen
from ptest_tui.tui.widgets.results_model import ResultsModel
from ptest_tui.tui.widgets.results_tree import ResultsTree

SEVERITY: dict[str, SeverityLevel] = {"passed": "information", "failed": "warning",
                                      "cancelled": "warning", "error": "error"}


class JobDone(Message, bubble=False):
    """A run, rerun or plan the pane started has ended."""

    def __init__(self, summary: str = "", severity: SeverityLevel = "information",
                 error: PtestError | None = None, ran: bool = True) -> None:
        super().__init__()
        self.summary = summary
        self.severity = severity
        self.error = error
        self.ran = ran  # whether it recorded a run (the cursor waits for it)


class ReportReady(Message, bubble=False):
    """An HTML report was found or written (and handed to the browser)."""

    def __init__(self, path: Path | None, written: bool, error: PtestError | None = None,
                 opened: bool = False) -> None:
        super().__init__()
        self.path = path
        self.written = written
        self.error = error
        self.opened = opened


class ResultsActions(Vertical):
    """Base of :class:`ResultsPane` holding its actions; the pane supplies the rest."""

    session: Session
    model: ResultsModel

    def init_actions(self) -> None:
        """Per-pane state of the actions."""
        self.env: str | None = None  # the env selected in the Environments pane
        self.open_url: Callable[[str], bool] = webbrowser.open  # tests replace it
        self.token: CancelToken | None = None  # the job (run or plan) started here
        self.job = ""  # what it is, for the status line
        self.last_request: RunRequest | None = None
        self.last_plan = ""
        self.follow = False  # move the cursor to the next new run (one started here)

    # -- hooks the pane provides ----------------------------------------------------------

    @property
    def runs_tree(self) -> ResultsTree:
        """The runs tree (provided by the pane)."""
        raise NotImplementedError

    def refresh_history(self) -> None:
        """Re-read the history (provided by the pane)."""
        raise NotImplementedError

    def update_status(self) -> None:
        """Redraw the status line (provided by the pane)."""
        raise NotImplementedError

    # -- runs -----------------------------------------------------------------------------

    def selected_run(self) -> str | None:
        """The run under the cursor, or else the newest."""
        ref = self.runs_tree.selected_ref
        if ref is not None and ref.run_id in self.model.runs:
            return ref.run_id
        newest = self.model.newest()
        return newest.id if newest is not None else None

    def action_run(self) -> None:
        """r: the run dialog."""
        envs = sorted({r.name for r in self.session.store.list_envs()}
                      | set(self.session.config.envs))
        if self.env in envs:  # the env selected elsewhere comes first
            envs.remove(self.env)
            envs.insert(0, self.env)
        self.app.push_screen(RunScreen(self.session, envs=envs, last=self.last_request),
                             self._run_chosen)

    def _run_chosen(self, request: RunRequest | None) -> None:
        if request is not None:
            self.last_request = request
            self.start_run(request)

    def action_rerun_failed(self) -> None:
        """F: rerun what failed in the selected run."""
        run_id = self.selected_run()
        if run_id is None:
            self.app.notify("no runs yet: press r to run suites", severity="warning",
                            markup=False)
            return
        run = self.model.runs[run_id]
        if run.live:
            self.app.notify(f"run {run_id} is still running", severity="warning", markup=False)
            return
        if not any(row.status in FAILING for row in run.results.values()):
            self.app.notify(f"run {run_id} has no failed cases: nothing to rerun",
                            markup=False)
            return
        self.start_run(RunRequest(rerun_failed=run_id))

    def start_run(self, request: RunRequest) -> bool:
        """Run ``request`` in a worker (False if a run or plan started here still runs)."""

        def job(token: CancelToken) -> JobDone:
            self.session.run(request.selection, envs=request.envs,
                             rerun_failed=request.rerun_failed, options=request.options(),
                             cancel=token)
            return JobDone()  # the run's own notification says how it went

        return self._start(f"running {request.describe()}", job)

    def action_run_plan(self) -> None:
        """P: ask for a plan file and run it as ``--batch`` would."""
        self.app.push_screen(PlanScreen(self.session, self.last_plan), self._plan_chosen)

    def _plan_chosen(self, request: PlanRequest | None) -> None:
        if request is None:
            return
        self.last_plan = request.path

        def job(token: CancelToken) -> JobDone:
            outcome = self.session.run_plan(request.plan, cancel=token)
            steps: dict[str, int] = {}
            for step in outcome.steps:
                steps[step.status] = steps.get(step.status, 0) + 1
            counts = ", ".join(f"{n} {status}" for status, n in steps.items())
            summary = (f"plan {outcome.plan} {outcome.status}: steps {counts}"
                       f" (exit code {outcome.exit_code})")
            if outcome.message:
                summary += f"\n{outcome.message}"
            return JobDone(summary, SEVERITY.get(outcome.status, "warning"),
                           ran=bool(outcome.runs))

        self._start(f"plan {request.name}", job)

    def _start(self, label: str, job: Callable[[CancelToken], JobDone]) -> bool:
        if self.token is not None:
            self.app.notify(f"{self.job} is still going: press s to stop it first",
                            severity="warning", markup=False)
            return False
        token = self.token = CancelToken()
        self.job = label
        self.follow = True
        self.update_status()

        def work() -> None:
            try:
                self.post_message(job(token))
            except PtestError as exc:
                self.post_message(JobDone(error=exc))
            except Exception as exc:  # an engine bug: report it, keep the app alive
                self.post_message(JobDone(error=PtestError(
                    f"{label} failed unexpectedly: {exc}", "please report it")))

        self.run_worker(work, name="results-job", group="results-job", thread=True,
                        exit_on_error=False, description=label)
        return True

    def on_job_done(self, message: JobDone) -> None:
        """The job ended: say so if it has more to say than the run's own notification."""
        self.token = None
        self.job = ""
        if message.error is not None or not message.ran:
            self.follow = False  # no run is coming; otherwise its events may still be queued
        self.update_status()
        if message.error is not None:
            self._notify_error(message.error)
        elif message.summary:
            self.app.notify(message.summary, severity=message.severity, markup=False,
                            timeout=8)
        self.refresh_history()

    def action_stop(self, quiet: bool = False) -> None:
        """s / Esc: stop the run or plan started here."""
        if self.token is None:
            if not quiet:
                self.app.notify("nothing started here is running", markup=False)
            return
        self.token.cancel()
        self.app.notify(f"stopping: {self.job}", markup=False)

    # -- report -------------------------------------------------------------------------

    def action_report(self) -> None:
        """h: the HTML report of the selected run, written first if missing."""
        run_id = self.selected_run()
        if run_id is None:
            self.app.notify("no runs yet: press r to run suites", severity="warning",
                            markup=False)
            return
        if self.model.runs[run_id].live:
            self.app.notify(f"run {run_id} is still running; its report comes when it ends",
                            severity="warning", markup=False)
            return
        self._write_report(run_id)

    @work(thread=True, exclusive=True, group="results-report", exit_on_error=False)
    def _write_report(self, run_id: str) -> None:
        from ptest_tui.reports import FILE_NAMES, write_reports

        folder = self.session.workspace.state_dir / "reports" / run_id
        path = folder / FILE_NAMES["html"]
        written = False
        try:
            if not path.exists():
                record = self.session.runs.get(run_id)
                write_reports(record, self.session.runs.results(run_id), ["html"], folder)
                written = True
        except PtestError as exc:
            self.post_message(ReportReady(None, False, exc))
            return
        try:
            opened = bool(self.open_url(path.as_uri()))
        except Exception:  # no browser here: the path is still worth showing
            opened = False
        self.post_message(ReportReady(path, written, opened=opened))

    def on_report_ready(self, message: ReportReady) -> None:
        """Tell where the report is."""
        if message.error is not None or message.path is None:
            self._notify_error(message.error or PtestError("no report was written"))
            return
        verb = "written to" if message.written else "at"
        opened = "" if message.opened else "\nhint: no browser could be started; open the file"
        self.app.notify(f"HTML report {verb} {message.path}{opened}", title="Report",
                        markup=False, timeout=8)

    def _notify_error(self, error: PtestError, title: str = "") -> None:
        text = error.message + (f"\nhint: {error.hint}" if error.hint else "")
        self.app.notify(text, title=title, severity="error", markup=False, timeout=8)
