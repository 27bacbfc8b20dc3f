"""The Packages pane's actions: install, uninstall, lock and check, each in a thread worker.

Each action checks what it can on the app's thread (an env is shown, it can hold packages,
no other change runs in it), asks through a dialog where needed, then runs the engine call
in a worker with its own CancelToken. Workers are grouped per kind and env (``change:unit``
for installs and uninstalls, which the engine would refuse to overlap anyway); a second
request while one runs is refused with a notification. Results come back as a
:class:`PackageJobDone` message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.session import Session
from ptest_tui.tui.priority import in_background
from ptest_tui.tui.screens.confirm import ConfirmScreen
from ptest_tui.tui.screens.install import InstallRequest, InstallScreen
from ptest_tui.tui.throttle import Throttle
from ptest_tui.tui.widgets.packages_model import (
    PackageRow,
    PackagesView,
    install_summary,
    pins_summary,
)
from ptest_tui.tui.widgets.packages_progress import ProgressState
from ptest_tui.tui.widgets.packages_table import PackageTable

log = logging.getLogger(__name__)

SHOWN_PROBLEMS = 5  # problems listed in the check notification
Job = Callable[[CancelToken], tuple[str, SeverityLevel]]  # returns (summary, severity)
CHANGES = ("install", "uninstall")


class PackageJobDone(Message):
    """A package operation finished: a summary, or the error to show."""

    def __init__(self, group: str, action: str, env: str, summary: str = "",
                 severity: SeverityLevel = "information",
                 error: PtestError | None = None) -> None:
        super().__init__()
        self.group = group
        self.action = action
        self.env = env
        self.summary = summary
        self.severity = severity
        self.error = error


DONE_WINDOW = 2.0  # after one finished job's toast, later ones share one per window
DONE_SHOWN = 3  # summaries listed in a shared notification


class PackageActions(Vertical):
    """Base of :class:`PackagesPane` holding its key actions; the pane supplies the state."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "install", "Install", tooltip="Install packages into the env (dialog)"),
        Binding("u", "uninstall", "Uninstall",
                tooltip="Uninstall the selected package (asks first)"),
        Binding("l", "lock", "Lock", tooltip="Write ENV.lock (exact versions with hashes) "
                "in the workspace folder"),
        Binding("K", "check", "Check",
                tooltip="Check: is every requirement of every package met (like pip check)"),
        Binding("slash", "filter", "Filter", show=False, tooltip="Filter the packages"),
        Binding("r", "reload", "Reload", show=False,
                tooltip="Re-read the packages and ask the index for newer versions again"),
    ]

    session: Session
    env: str | None
    view: PackagesView | None
    progress: dict[str, ProgressState]
    tokens: dict[str, CancelToken]  # running job group -> its token
    last_request: str
    done_summaries: list[str]  # finished jobs waiting for their shared notification
    done_toasts: Throttle  # runs _flush_done

    # -- hooks the pane provides ----------------------------------------------------------

    @property
    def table(self) -> PackageTable:
        """The packages table."""
        return self.query_one(PackageTable)

    def request_reload(self) -> None:
        """Re-read the shown env's packages (implemented by the pane)."""
        raise NotImplementedError

    def flush_progress(self) -> None:
        """Redraw the progress box (implemented by the pane)."""
        raise NotImplementedError

    # -- running jobs ---------------------------------------------------------------------

    def job_running(self, env: str, kind: str) -> bool:
        """Whether a job of ``kind`` (change, lock, check) runs in ``env``."""
        return f"{kind}:{env}" in self.tokens

    def run_job(self, action: str, kind: str, env: str, job: Job) -> bool:
        """Run ``job`` in a thread worker unless a job of ``kind`` runs in ``env``."""
        group = f"{kind}:{env}"
        if group in self.tokens:
            what = "a package change" if kind == "change" else f"a {action}"
            self.app.notify(f"{what} is already running in {env}", severity="warning",
                            markup=False)
            return False
        token = CancelToken()
        self.tokens[group] = token

        def work() -> None:
            try:
                # Installers at background priority: the screen's thread comes first.
                summary, severity = in_background(lambda: job(token))
                self.post_message(PackageJobDone(group, action, env, summary, severity))
            except PtestError as exc:
                self.post_message(PackageJobDone(group, action, env, error=exc))
            except Exception as exc:  # an engine bug: report it, keep the app alive
                log.exception("%s in %s failed", action, env)
                error = PtestError(f"{action} failed unexpectedly: {exc}",
                                   "the log pane has the traceback; please report it")
                self.post_message(PackageJobDone(group, action, env, error=error))

        self.run_worker(work, name=f"packages-{group}", group=f"packages-{group}",
                        thread=True, exit_on_error=False, description=f"{action} in {env}")
        return True

    def cancel_jobs(self) -> None:
        """Ask every running job to stop (the pane is going away)."""
        for token in self.tokens.values():
            token.cancel()

    def on_package_job_done(self, message: PackageJobDone) -> None:
        """A job finished: notify, drop its progress, re-read the env."""
        message.stop()
        self.tokens.pop(message.group, None)
        env = message.env
        if message.action in CHANGES:
            self.progress.pop(env, None)
            self.flush_progress()
        error = message.error
        if error is not None:
            text = error.message + (f"\nhint: {error.hint}" if error.hint else "")
            if message.action in CHANGES:
                text += f"\n{env} is unchanged"
            self.app.notify(text, title=f"{message.action.capitalize()} failed",
                            severity="error", markup=False, timeout=10)
        elif message.summary and message.severity == "information":
            self.announce_done(message.summary)
        elif message.summary:
            self.app.notify(message.summary, severity=message.severity, markup=False,
                            timeout=8 if message.severity == "error" else 5)
        if env == self.env:
            self.request_reload()

    def announce_done(self, summary: str) -> None:
        """Say a job succeeded: at once, then one toast per :data:`DONE_WINDOW` for the rest.

        Eight parallel installs finishing every second would otherwise mount a toast each
        (a relayout of the screen per toast) and push the keyboard's frames back.
        """
        self.done_summaries.append(summary)
        self.done_toasts.request()

    def _flush_done(self) -> None:
        summaries, self.done_summaries = self.done_summaries, []
        if len(summaries) == 1:
            self.app.notify(summaries[0], markup=False, timeout=5)
        elif summaries:
            shown = summaries[:DONE_SHOWN]
            more = len(summaries) - len(shown)
            text = "\n".join(shown) + (f"\n… and {more} more" if more else "")
            self.app.notify(text, title=f"{len(summaries)} package jobs done", markup=False,
                            timeout=5)

    def usable_env(self, verb: str) -> str | None:
        """The shown env if packages can be handled there; otherwise say why and None."""
        env, view = self.env, self.view
        if env is None:
            self.app.notify(f"no environment selected to {verb}", severity="warning",
                            markup=False)
            return None
        if view is not None and not view.can_install:
            hint = f"\nhint: {view.hint}" if view.hint else ""
            self.app.notify(f"cannot {verb}: {view.message}{hint}", severity="warning",
                            markup=False)
            return None
        return env

    # -- install --------------------------------------------------------------------------

    def action_install(self) -> None:
        """i: ask for requirements, then install them in a worker."""
        env = self.usable_env("install packages")
        if env is None:
            return
        if self.job_running(env, "change"):
            self.app.notify(f"a package change is already running in {env}",
                            severity="warning", markup=False)
            return
        self.app.push_screen(InstallScreen(env, self.last_request), self._install_chosen)

    def _install_chosen(self, request: InstallRequest | None) -> None:
        if request is not None:
            self.start_install(request)

    def start_install(self, request: InstallRequest) -> bool:
        """Install ``request`` in a worker, with live progress (False if a change runs)."""
        env = request.env
        self.last_request = request.text

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            report = self.session.install(env, list(request.requirements),
                                          upgrade=request.upgrade, cancel=token)
            return install_summary(report), "information"

        if not self.run_job("install", "change", env, job):
            return False
        verb = "Upgrading to" if request.upgrade else "Installing"
        self.progress[env] = ProgressState.begin(env, f"{verb} {request.text} in {env}")
        self.flush_progress()
        return True

    # -- uninstall ------------------------------------------------------------------------

    def action_uninstall(self) -> None:
        """u: confirm, then uninstall the selected package."""
        env = self.usable_env("uninstall packages")
        if env is None:
            return
        row = self.table.selected_row
        if row is None:
            self.app.notify("no package selected to uninstall", severity="warning",
                            markup=False)
            return
        name = row.name

        def chosen(yes: bool | None) -> None:
            if yes:
                self.start_uninstall(env, name)

        screen = ConfirmScreen("Uninstall package", uninstall_body(env, row), "Uninstall")
        self.app.push_screen(screen, chosen)

    def start_uninstall(self, env: str, name: str) -> bool:
        """Uninstall ``name`` from ``env`` in a worker (False if a change runs)."""

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            report = self.session.uninstall(env, [name], cancel=token)
            return f"{env}: removed {pins_summary(report.removed)}", "information"

        return self.run_job("uninstall", "change", env, job)

    # -- lock and check -------------------------------------------------------------------

    def lock_path(self, env: str) -> Path:
        """Where ``l`` writes the lock of ``env``: ``<env>.lock`` in the workspace folder."""
        return self.session.workspace.root / f"{env}.lock"

    def action_lock(self) -> None:
        """l: write a hash-pinned lock of the env next to ptest.toml."""
        env = self.usable_env("lock")
        if env is None:
            return
        path = self.lock_path(env)

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            lock = self.session.lock(env, path)
            summary = (f"{env}: locked {len(lock.pins)} packages to {path}"
                       f"\nreproduce with: ptest-tui pkg sync {env} --lock {path.name}")
            return summary, "information"

        self.run_job("lock", "lock", env, job)

    def action_check(self) -> None:
        """K: check every requirement of every installed package; the result is notified."""
        env = self.usable_env("check")
        if env is None:
            return

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            report = self.session.check_packages(env)
            if report.ok:
                return f"{env}: {report.checked} packages checked, no problems", "information"
            lines = [problem.describe() for problem in report.problems]
            shown = "\n".join(lines[:SHOWN_PROBLEMS])
            rest = len(lines) - SHOWN_PROBLEMS
            more = f"\n… and {rest} more" if rest > 0 else ""
            noun = "problem" if len(lines) == 1 else "problems"
            return f"{env}: {len(lines)} {noun}\n{shown}{more}", "error"

        self.run_job("check", "check", env, job)


def uninstall_body(env: str, row: PackageRow) -> Content:
    """The confirmation text: what goes, and who depends on it."""
    parts: list[str | tuple[str, str]] = [
        "Uninstall ", (f"{row.name} {row.version}", "bold"), " from ", (env, "bold"), "?"]
    if row.required_by:
        parts += ["\n\n", ("Required by " + ", ".join(row.required_by)
                           + ": they may stop working.", "$warning")]
    return Content.assemble(*parts)
