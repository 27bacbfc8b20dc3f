"""The environment actions of the app: create, delete, repair, cleanup, exec and stop.

Each action validates what it can on the app's thread (is an env selected, is it only
declared), asks through a dialog where needed, then runs the engine call in a thread
worker. Workers are grouped per action and environment (``delete:unit``) and exclusive in
that group; a second request while one runs is refused with a notification rather than
cancelling real work halfway. Each worker carries a CancelToken so ``s`` and quitting stop
commands promptly.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable

from textual.app import App
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.worker import WorkerState

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.session import CleanupItem, EnvView, Session
from ptest_tui.tui.messages import ActionDone, CleanupPlanned
from ptest_tui.tui.priority import in_background
from ptest_tui.tui.screens.confirm import ConfirmScreen
from ptest_tui.tui.screens.create_env import CreateEnvScreen, CreateRequest
from ptest_tui.tui.screens.run_command import RunCommandScreen
from ptest_tui.tui.widgets.env_table import EnvTable
from ptest_tui.tui.widgets.log_pane import LogPane

log = logging.getLogger(__name__)

# Maintenance runs at background priority (see tui/priority.py); a command the user runs
# in an env (exec) keeps the normal priority, like the same command from a shell.
BACKGROUND_ACTIONS = frozenset({"create", "delete", "repair", "cleanup-plan", "cleanup"})
COMMAND_SHOWN = 32  # characters of a command repeated in its completion message
Job = Callable[[CancelToken], tuple[str, SeverityLevel]]  # returns (summary, severity)


class EnvActions(App[int]):
    """Base of the app holding the actions; the app supplies listing and refresh."""

    session: Session
    env_table: EnvTable | None = None  # set when composed
    views: dict[str, EnvView]
    unavailable: dict[str, str | None]
    _select_after_refresh: str | None

    def init_actions(self) -> None:
        """Per-app state of running actions."""
        self.activity: dict[str, str] = {}  # env -> what runs in it, shown in the table
        self.tokens: dict[str, CancelToken] = {}  # worker group -> its cancel token
        self.last_command = ""

    # -- hooks the app provides ---------------------------------------------------------

    def request_refresh(self) -> None:
        """Re-read the listing (implemented by the app)."""
        raise NotImplementedError

    def render_rows(self) -> None:
        """Redraw the table rows (implemented by the app)."""
        raise NotImplementedError

    def show_error(self, error: PtestError, title: str = "") -> None:
        """Show an error notification (implemented by the app)."""
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------

    @property
    def table(self) -> EnvTable:
        """The environments table (composed with the app; kept, so no DOM query)."""
        if self.env_table is None:
            raise RuntimeError("the environments table is not composed yet")
        return self.env_table

    @property
    def closing(self) -> bool:
        """Whether the app is closing (asked to exit, or its widgets are gone).

        Worker results, monitor ticks and engine events can arrive after the main
        widgets were removed; their handlers check this and do nothing. Cheap (no DOM
        query): it runs for every engine event.
        """
        table = self.env_table
        return table is None or not table.is_attached

    @property
    def selected_view(self) -> EnvView | None:
        """The highlighted environment's listing entry."""
        name = self.table.selected_name
        return self.views.get(name) if name else None

    def _need_selection(self, verb: str, *, stored: bool = True) -> EnvView | None:
        view = self.selected_view
        if view is None:
            self.notify(f"no environment selected to {verb}", severity="warning", markup=False)
            return None
        if stored and view.record is None:
            self.notify(
                f"{view.name} is only declared in ptest.toml; nothing to {verb}"
                "\nhint: press c to create it first",
                severity="warning",
                markup=False,
            )
            return None
        return view

    def _busy(self, group: str) -> bool:
        return any(
            w.group == group and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
        )

    def start_job(self, action: str, env: str, activity: str, job: Job) -> bool:
        """Run ``job`` in a thread worker of group ``action:env``; False if one runs."""
        group = f"{action}:{env}"
        if self._busy(group):
            self.notify(f"{activity} is already running", severity="warning", markup=False)
            return False
        token = CancelToken()
        self.tokens[group] = token
        if env:
            self.activity[env] = activity
            self.render_rows()

        def work() -> None:
            try:
                if action in BACKGROUND_ACTIONS:
                    summary, severity = in_background(lambda: job(token))
                else:
                    summary, severity = job(token)
                self.post_message(ActionDone(group, env, summary, severity=severity))
            except PtestError as exc:
                self.post_message(ActionDone(group, env, error=exc))
            except Exception as exc:  # an engine bug: report it, keep the app alive
                log.exception("%s failed", group)
                error = PtestError(
                    f"{activity} failed unexpectedly: {exc}",
                    "the log pane has the traceback; please report it",
                )
                self.post_message(ActionDone(group, env, error=error))

        self.run_worker(work, name=group, group=group, thread=True, exclusive=True,
                        exit_on_error=False, description=activity)
        return True

    def on_action_done(self, message: ActionDone) -> None:
        """An action finished: notify, and show the new state."""
        self.tokens.pop(message.group, None)
        if self.closing:
            return
        if message.env:
            self.activity.pop(message.env, None)
            self.render_rows()
        pane = self.query_one(LogPane)
        if message.error is not None:
            pane.event_line(time.time(), message.error.one_line(), "error")
            self.show_error(message.error)
        elif message.summary:
            variable = "success" if message.severity == "information" else "warning"
            pane.event_line(time.time(), message.summary, variable)
            self.notify(message.summary, severity=message.severity, markup=False)
        self.request_refresh()

    def cancel_all(self) -> None:
        """Cancel every running action (used on quit)."""
        for token in self.tokens.values():
            token.cancel()

    # -- create -------------------------------------------------------------------------

    def action_create(self) -> None:
        """c: the create dialog (prefilled with a declared-only env's name)."""
        view = self.selected_view
        name = view.name if view is not None and view.record is None else ""
        screen = CreateEnvScreen(self.session, name=name, unavailable=self.unavailable)
        self.push_screen(screen, self._create_chosen)

    def _create_chosen(self, request: CreateRequest | None) -> None:
        if request is None:
            return
        options = request.options()

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            record = self.session.create_env(request.name, token, **options)
            return f"{record.name} is ready ({record.isolation})", "information"

        self._select_after_refresh = request.name
        self.start_job("create", request.name, f"creating {request.name}", job)

    # -- delete, repair -----------------------------------------------------------------

    def action_delete(self) -> None:
        """d: confirm, then delete the selected environment."""
        view = self._need_selection("delete")
        if view is None:
            return
        body = Content.assemble(
            "Delete ", (view.name, "bold"), f" ({view.isolation}, {view.status})?\n\n",
            ("Its folder under .ptest/envs and everything its engine made are removed.",
             "$foreground-muted"),
        )
        name = view.name

        def chosen(yes: bool | None) -> None:
            if yes:
                self.start_job("delete", name, f"deleting {name}", self._delete_job(name))

        self.push_screen(ConfirmScreen("Delete environment", body, "Delete"), chosen)

    def _delete_job(self, name: str) -> Job:
        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            self.session.delete_env(name)
            return f"{name} deleted", "information"

        return job

    def action_repair(self) -> None:
        """R: rebuild the selected environment from its stored spec."""
        view = self._need_selection("repair")
        if view is None:
            return
        name = view.name

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            record = self.session.repair_env(name, token)
            return f"{record.name} repaired and ready", "information"

        self.start_job("repair", name, f"repairing {name}", job)

    # -- cleanup ------------------------------------------------------------------------

    def action_cleanup(self) -> None:
        """x: find leftovers (dry run), then confirm removing them."""

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            items = tuple(self.session.cleanup(dry_run=True))
            self.post_message(CleanupPlanned(items))
            return "", "information"

        self.start_job("cleanup-plan", "", "looking for leftovers", job)

    def on_cleanup_planned(self, message: CleanupPlanned) -> None:
        """Show what cleanup would remove and ask."""
        items = message.items
        if not items:
            self.notify("nothing to clean up: no broken environments or leftovers",
                        markup=False)
            return
        noun = "item" if len(items) == 1 else f"{len(items)} items"
        lines: list[str | tuple[str, str]] = [f"Remove this {noun}?\n\n" if len(items) == 1
                                              else f"Remove these {noun}?\n\n"]
        for item in items[:12]:
            lines += [(f"{item.kind:<10}", "$accent"), f"{item.env or item.name}  ",
                      (item.reason, "$foreground-muted"), "\n"]
        if len(items) > 12:
            lines.append((f"… and {len(items) - 12} more\n", "$foreground-muted"))
        body = Content.assemble(*lines)

        def chosen(yes: bool | None) -> None:
            if yes:
                self.start_job("cleanup", "", "cleanup", self._cleanup_job)

        self.push_screen(ConfirmScreen("Clean up", body, "Remove"), chosen)

    def _cleanup_job(self, token: CancelToken) -> tuple[str, SeverityLevel]:
        removed: list[CleanupItem] = self.session.cleanup()
        return f"cleanup removed {len(removed)} item(s)", "information"

    # -- exec and stop ------------------------------------------------------------------

    def action_exec(self) -> None:
        """e: ask for a command and run it in the selected environment."""
        view = self._need_selection("run a command in")
        if view is None:
            return
        name = view.name

        def chosen(argv: list[str] | None) -> None:
            if argv:
                self._run_command(name, argv)

        self.push_screen(RunCommandScreen(name, self.last_command), chosen)

    def _run_command(self, name: str, argv: list[str]) -> None:
        line = shlex.join(argv)
        self.last_command = line

        short = line if len(line) <= COMMAND_SHOWN else line[: COMMAND_SHOWN - 1] + "…"

        def job(token: CancelToken) -> tuple[str, SeverityLevel]:
            result = self.session.exec(name, argv, cancel=token)
            took = f"{result.seconds:.1f} s"
            if result.cancelled:
                return f"{name}: `{short}` stopped after {took}", "warning"
            if result.timed_out:
                return f"{name}: `{short}` timed out after {took}", "warning"
            if result.exit_code:
                return f"{name}: `{short}` exited {result.exit_code} after {took}", "warning"
            return f"{name}: `{short}` finished in {took}", "information"

        if self.start_job("exec", name, f"running {line}", job):
            self.query_one(LogPane).event_line(time.time(), f"{name} $ {line}", "accent")

    def action_stop(self) -> None:
        """s: stop whatever runs in the selected environment."""
        view = self.selected_view
        if view is None:
            return
        groups = [g for g in self.tokens if g.endswith(f":{view.name}")]
        if not groups:
            self.notify(f"nothing is running in {view.name}", markup=False)
            return
        for group in groups:
            self.tokens[group].cancel()
        self.notify(f"stopping {self.activity.get(view.name, view.name)}", markup=False)
