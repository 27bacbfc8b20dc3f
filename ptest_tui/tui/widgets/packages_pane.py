"""The Packages pane: what the selected environment has installed, and changing it.

The app tells the pane which env is selected (:meth:`PackagesPane.show_env`) and forwards
every engine event (:meth:`PackagesPane.engine_event`). Reading the packages and checking
them runs in a thread worker and is cheap; asking the index for newer releases runs a tool
and may take seconds, so it starts a moment after the listing arrives, only while the pane
is visible, and its answer is kept per set of installed versions. Installs, uninstalls,
locks and checks run in workers with a CancelToken each; one package change per env at a
time. While the pane is hidden (another tab), reloads are only remembered and run once it
shows again.
"""

from __future__ import annotations

import logging

from textual import events, on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input

from ptest_tui.cancel import CancelToken
from ptest_tui.events import (
    EnvCreated,
    EnvDeleted,
    EnvFailed,
    EnvStatusChanged,
    Event,
    PackageInstallFailed,
    PackagePhase,
    PackagesInstalled,
)
from ptest_tui.session import Session
from ptest_tui.tui.throttle import Throttle
from ptest_tui.tui.widgets.packages_actions import DONE_WINDOW, PackageActions
from ptest_tui.tui.widgets.packages_model import (
    LatestInfo,
    PackagesView,
    Signature,
    load_latest,
    load_packages,
    offline_latest,
)
from ptest_tui.tui.widgets.packages_progress import InstallProgress, ProgressState
from ptest_tui.tui.widgets.packages_table import PackageFilter, PackageTable
from ptest_tui.tui.widgets.text_box import TextBox

log = logging.getLogger(__name__)

LATEST_DELAY = 0.4  # seconds the selection must rest before the index is asked
PROGRESS_COALESCE = 0.05  # at most one progress redraw per this many seconds
MUTED = "$foreground-muted"
ENV_EVENTS = (EnvStatusChanged, EnvCreated, EnvDeleted, EnvFailed, PackagesInstalled,
              PackageInstallFailed)


class PackagesLoaded(Message):
    """A worker read the packages of an env."""

    def __init__(self, view: PackagesView) -> None:
        super().__init__()
        self.view = view


class LatestLoaded(Message):
    """A worker asked the index for newer releases."""

    def __init__(self, info: LatestInfo) -> None:
        super().__init__()
        self.info = info


class PackagesPane(PackageActions):
    """The selected env's packages: a table, a detail line and live install progress."""

    DEFAULT_CSS = """
    PackagesPane {
        height: 1fr;
        background: $surface;
    }
    PackagesPane #pkg-title {
        height: 1;
        padding: 0 1;
    }
    PackagesPane #pkg-table {
        height: 1fr;
        background: $surface;
    }
    PackagesPane #pkg-table > .datatable--header {
        background: $surface;
        color: $foreground-muted;
        text-style: bold;
    }
    PackagesPane #pkg-detail {
        height: auto;
        max-height: 8;
        padding: 0 1;
        border-top: solid $foreground 20%;
    }
    """

    def __init__(self, session: Session, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.session = session
        self.env: str | None = None
        self.view: PackagesView | None = None
        self.latest: dict[str, LatestInfo] = {}
        self.progress: dict[str, ProgressState] = {}
        self.tokens: dict[str, CancelToken] = {}  # running job group -> its token
        self.done_summaries: list[str] = []
        self.done_toasts = Throttle(self, DONE_WINDOW, self._flush_done)
        self.last_request = ""
        self._visible = False
        self._stale = False
        self._loading = False
        self._load_again = False
        self._latest_pending: tuple[str, Signature] | None = None
        self._latest_timer: Timer | None = None
        self._latest_token: CancelToken | None = None
        self._progress_timer: Timer | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Title, filter, table, detail line and the (hidden) progress box."""
        yield TextBox(id="pkg-title")
        yield PackageFilter(placeholder="/ filter packages", id="pkg-filter")
        yield PackageTable(id="pkg-table")
        yield TextBox(id="pkg-detail")
        yield InstallProgress(id="pkg-progress")

    @property
    def title_text(self) -> str:
        """The title line as plain text (tests)."""
        return self._title().plain

    @property
    def detail_text(self) -> str:
        """The detail line as plain text (tests)."""
        return self._detail().plain

    @property
    def progress_text(self) -> str:
        """The progress box as plain text, empty while nothing runs (tests)."""
        return self.query_one(InstallProgress).text

    def on_mount(self) -> None:
        """Draw the empty state; follow theme changes (table cells hold concrete colors)."""
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.render_all()

    def on_unmount(self) -> None:
        """Stop everything still running."""
        self.cancel_jobs()
        self._cancel_latest()

    def _theme_changed(self, _theme: object) -> None:
        self.table.redraw(force=True)

    def on_show(self, event: events.Show) -> None:
        """Visible (again): run the reload that was put off, ask for newer versions."""
        self._visible = True
        if self._stale:
            self._stale = False
            self.render_all()
            self.request_reload()
        else:
            self.flush_progress()
            self._schedule_latest()

    def on_hide(self, event: events.Hide) -> None:
        """Hidden: no index lookups for a pane nobody sees."""
        self._visible = False
        self._cancel_latest()

    # -- the interface the app uses -------------------------------------------------------

    def show_env(self, name: str | None) -> None:
        """The selected env changed (app thread)."""
        if name == self.env:
            return
        self.env = name
        self.view = None
        self._cancel_latest()
        if not self._visible:
            # Drawn when shown: a hidden pane's redraw still costs the screen a relayout
            # on every cursor move in the environments table.
            self._stale = True
            return
        self.render_all()
        self.request_reload()

    def engine_event(self, event: Event) -> None:
        """An engine event (app thread): progress, and reloads for the shown env."""
        env = getattr(event, "env", None)
        if not isinstance(env, str):
            return
        if isinstance(event, PackagePhase):
            state = self.progress.get(env) or ProgressState.begin(env, f"Installing into {env}")
            self.progress[env] = state.advance(event)
            if env == self.env and self._progress_timer is None:
                self._progress_timer = self.set_timer(PROGRESS_COALESCE, self.flush_progress)
            return
        if isinstance(event, (PackagesInstalled, PackageInstallFailed)) and not (
            self.job_running(env, "change")
        ):
            # Started elsewhere (another pane, the CLI): its progress ends with it.
            self.progress.pop(env, None)
            self.flush_progress()
        if isinstance(event, ENV_EVENTS) and env == self.env:
            self.request_reload()

    # -- loading --------------------------------------------------------------------------

    def request_reload(self) -> None:
        """Re-read the env's packages (once more after a read already running)."""
        if self.env is None:
            return
        if not self._visible:
            self._stale = True
            return
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        self._load(self.env)

    @work(thread=True, group="packages-load", exit_on_error=False)
    def _load(self, env: str) -> None:
        try:
            view = load_packages(self.session, env)
        except Exception as exc:  # an engine bug must not leave the pane loading for good
            log.exception("reading the packages of %s failed", env)
            view = PackagesView(env, message=f"cannot read the packages: {exc}", tone="error")
        self.post_message(PackagesLoaded(view))

    def on_packages_loaded(self, message: PackagesLoaded) -> None:
        """Show a fresh listing if it is still the selected env's."""
        message.stop()
        self._loading = False
        if message.view.env == self.env:
            view = self.view = message.view
            known = self.latest.get(view.env)
            if view.rows and not (known and known.signature == view.signature):
                offline = offline_latest(self.session, view.env, view.signature)
                if offline is not None:
                    self.latest[view.env] = offline
            self.render_all()
            self._schedule_latest()
        if self._load_again:
            self._load_again = False
            self.request_reload()

    def _schedule_latest(self) -> None:
        view = self.view
        if view is None or not view.rows or not self._visible:
            return
        known = self.latest.get(view.env)
        wanted = (view.env, view.signature)
        if (known and known.signature == view.signature) or self._latest_pending == wanted:
            return
        self._cancel_latest()
        self._latest_pending = wanted
        self._latest_timer = self.set_timer(LATEST_DELAY, self._start_latest)

    def _start_latest(self) -> None:
        self._latest_timer = None
        if self._latest_pending is None:
            return
        env, signature = self._latest_pending
        token = CancelToken()
        self._latest_token = token
        self._lookup_latest(env, signature, token)

    @work(thread=True, group="packages-latest", exit_on_error=False)
    def _lookup_latest(self, env: str, signature: Signature, token: CancelToken) -> None:
        try:
            info = load_latest(self.session, env, signature, token)
        except Exception as exc:
            log.exception("looking up newer versions for %s failed", env)
            info = LatestInfo(env, signature, note=f"latest unknown: {exc}")
        if not token.cancelled:
            self.post_message(LatestLoaded(info))

    def on_latest_loaded(self, message: LatestLoaded) -> None:
        """Keep the answer for that set of versions; show it if it is the shown env's."""
        message.stop()
        info = message.info
        self.latest[info.env] = info
        if self._latest_pending == (info.env, info.signature):
            self._latest_pending = None
            self._latest_token = None
        if self.view is not None and info.env == self.view.env:
            self.render_all()

    def _cancel_latest(self) -> None:
        if self._latest_timer is not None:
            self._latest_timer.stop()
            self._latest_timer = None
        if self._latest_token is not None:
            self._latest_token.cancel()
            self._latest_token = None
        self._latest_pending = None

    # -- drawing --------------------------------------------------------------------------

    def _latest_for_view(self) -> LatestInfo | None:
        view = self.view
        info = self.latest.get(view.env) if view else None
        return info if view is not None and info and info.signature == view.signature else None

    def render_all(self) -> None:
        """Redraw the title, table, detail line and progress from the current state."""
        view = self.view
        self.table.show(view.rows if view else (), self._latest_for_view())
        self.query_one("#pkg-title", TextBox).show(self._title())
        self.query_one("#pkg-detail", TextBox).show(self._detail())
        self.flush_progress()

    def _title(self) -> Content:
        if self.env is None:
            return Content.styled("Packages: no environment selected", MUTED)
        parts: list[str | tuple[str, str]] = [("Packages of ", MUTED), (self.env, "bold")]
        view = self.view
        if view is None:
            return Content.assemble(*parts, ("  loading…", MUTED))
        if view.rows:
            count = len(view.rows)
            parts.append((f"  ·  {count} installed", MUTED))
            if view.problems:
                noun = "problem" if len(view.problems) == 1 else "problems"
                parts.append(("  ·  ", MUTED))
                parts.append((f"✖ {len(view.problems)} {noun}", "$error"))
            else:
                parts += [("  ·  ", MUTED), ("✔ no conflicts", "$success")]
            latest = self._latest_for_view()
            if latest is None:
                parts.append(("  ·  looking for newer versions…", MUTED))
            elif latest.note:
                parts.append((f"  ·  {latest.note}", MUTED))
            elif latest.newer:
                parts.append(("  ·  ", MUTED))
                parts.append((f"↑ {len(latest.newer)} newer", "$warning"))
        return Content.assemble(*parts)

    def _detail(self) -> Content:
        view = self.view
        if self.env is None:
            return Content.styled("Select an environment to see its packages.", MUTED)
        if view is None:
            return Content("")
        if view.message:
            hint = f"\nhint: {view.hint}" if view.hint else ""
            return Content.assemble((view.message, f"${view.tone}"), (hint, MUTED))
        row = self.table.selected_row
        if row is not None and row.problems:
            return Content("\n").join(Content.styled(f"✖ {text}", "$error")
                                      for text in row.problems)
        lines: list[Content] = []
        if row is not None and row.required_by:
            lines.append(Content.assemble(
                (row.name, "bold"), (" is required by ", MUTED), ", ".join(row.required_by)))
        if view.problems:
            noun = "problem" if len(view.problems) == 1 else "problems"
            lines.append(Content.styled(
                f"✖ {len(view.problems)} {noun}: the rows in red; select one for the reason",
                "$error"))
        elif row is not None and not row.required_by:
            lines.append(Content.styled(f"{row.name} {row.version}: nothing depends on it", MUTED))
        return Content("\n").join(lines)

    def flush_progress(self) -> None:
        """Show the shown env's progress (hidden when nothing runs there)."""
        self._progress_timer = None
        if not self._visible:
            return  # on_show draws it
        state = self.progress.get(self.env) if self.env else None
        self.query_one(InstallProgress).show_state(state)

    @on(DataTable.RowHighlighted, "#pkg-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.query_one("#pkg-detail", TextBox).show(self._detail())

    @on(Input.Changed, "#pkg-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.set_filter(event.value)
        self.query_one("#pkg-detail", TextBox).show(self._detail())

    def action_filter(self) -> None:
        """/: type to filter the packages."""
        self.query_one(PackageFilter).focus()

    def action_reload(self) -> None:
        """r: re-read the packages and look for newer versions again."""
        if self.env is not None:
            self.latest.pop(self.env, None)
            self._cancel_latest()
            self.request_reload()
