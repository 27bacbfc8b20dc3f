"""The app's listing: reading the environments, the table rows, and the details.

Reads are coalesced under load (eight installs publish dozens of events a second): the
listing is re-read at most every :data:`REFRESH_GAP` seconds, and the details follow a
cursor that moves row after row once it rests (:data:`FOLLOW_GAP`). What a person sees a
moment later is always the latest state; ``updates_pending`` says whether one is due.
"""

from __future__ import annotations

import time

from textual import on, work
from textual.timer import Timer
from textual.widgets import DataTable, Input
from textual.worker import get_current_worker

from ptest_tui.errors import PtestError
from ptest_tui.events import MonitorSample
from ptest_tui.session import EnvView
from ptest_tui.tui.messages import DetailLoaded, EnginesChecked, EnvsLoaded
from ptest_tui.tui.pane_actions import PaneActions
from ptest_tui.tui.screens.create_env import CreateEnvScreen
from ptest_tui.tui.throttle import Throttle
from ptest_tui.tui.widgets.env_detail import EnvDetailPanel, load_detail
from ptest_tui.tui.widgets.env_table import EnvRow
from ptest_tui.tui.widgets.resources_pane import UsageUpdated

REFRESH_GAP = 0.5  # seconds between listing re-reads while events keep coming
FOLLOW_GAP = 0.15  # cursor moves closer than this load the details when the cursor rests


class ListingActions(PaneActions):
    """Base of the app that keeps the environments listing, table and details current."""

    usage: dict[str, MonitorSample]

    def init_listing(self) -> None:
        """Per-app state of the listing's reads."""
        self._refresh_again = False
        self._reads = Throttle(self, REFRESH_GAP, self._read_now)
        self._follow_timer: Timer | None = None
        self._last_move = 0.0
        self._refresh_error = ""

    @property
    def selected(self) -> str | None:
        """The name of the highlighted environment."""
        return self.table.selected_name

    @property
    def updates_pending(self) -> bool:
        """Whether a coalesced update (listing, table values, details) is still due."""
        return (self._reads.pending or self._follow_timer is not None
                or self.table.data_pending)

    def request_refresh(self) -> None:
        """Re-read the environments: now when quiet, else once at the end of the gap.

        Eight installs publish dozens of status events a second; each re-read is a store
        query in a thread, a table update and a detail reload. Reads start at most every
        :data:`REFRESH_GAP` seconds, and never two at once (a request meanwhile is kept
        for after the running one), so the last change always shows.
        """
        self._reads.request()

    def _read_now(self) -> bool:
        if self._busy("refresh"):
            self._refresh_again = True  # read once more when this one is done
            return False
        self._refresh_again = False
        self.load_envs()
        return True

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def load_envs(self) -> None:
        """Read the listing in a thread and post it."""
        try:
            views = tuple(self.session.list_envs())
        except PtestError as exc:
            self.call_from_thread(self._refresh_failed, exc)
            return
        if not get_current_worker().is_cancelled:
            self.post_message(EnvsLoaded(views))

    def _refresh_failed(self, error: PtestError) -> None:
        # Polling repeats every few seconds; say it once, not every time.
        if error.one_line() != self._refresh_error:
            self._refresh_error = error.one_line()
            self.show_error(error, title="Cannot read the workspace state")

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self, view: EnvView) -> None:
        """Gather one environment's detail (the engine status may be slow) and post it."""
        try:
            detail = load_detail(self.session, view)
        except PtestError:
            return  # deleted meanwhile; the next listing drops it
        if not get_current_worker().is_cancelled:
            self.post_message(DetailLoaded(detail))

    @work(thread=True, exclusive=True, group="engines", exit_on_error=False)
    def check_engines(self) -> None:
        """Ask each engine once whether it can run here (Docker may need a round trip)."""
        result: dict[str, str | None] = {}
        for level in self.session.engines.names():
            try:
                result[level] = self.session.engines.get(level).unavailable_reason()
            except Exception as exc:  # a broken plugin must not take the app down
                result[level] = str(exc)
        self.post_message(EnginesChecked(result))

    def on_envs_loaded(self, message: EnvsLoaded) -> None:
        """Show a new listing; reload the detail if the selected env changed."""
        if self.closing:
            return  # a listing that arrives after the app closed
        old = self.views
        self._refresh_error = ""
        self.views = {view.name: view for view in message.views}
        self.render_rows()
        if self._select_after_refresh and self.table.select_name(self._select_after_refresh):
            self._select_after_refresh = None
        selected = self.selected
        view = self.views.get(selected) if selected is not None else None
        if view is None:
            self.query_one(EnvDetailPanel).show(None)
        elif old.get(view.name) != view:
            self.load_detail(view)
        if self._refresh_again:
            self.request_refresh()

    def render_rows(self) -> None:
        """Rebuild the table rows from the listing and what is running."""
        rows = [
            EnvRow.from_view(view, self.session.config.envs.get(name), self.activity.get(name, ""),
                             self.usage.get(f"env:{name}"))
            for name, view in self.views.items()
        ]
        self.table.set_rows(rows)

    def on_usage_updated(self, message: UsageUpdated) -> None:
        """The monitor ticked: the table's CPU and memory cells follow (changed cells only)."""
        self.usage = message.latest
        if self.views and not self.closing:  # a tick can arrive while the app closes
            self.render_rows()

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        """Show the detail if it is still the selected env."""
        if self.closing:
            return  # a detail that arrives after the app closed
        if message.detail.name == self.selected:
            self.query_one(EnvDetailPanel).show(message.detail)

    def on_engines_checked(self, message: EnginesChecked) -> None:
        """Remember engine availability; update an open create dialog."""
        self.unavailable = message.unavailable
        if isinstance(self.screen, CreateEnvScreen):
            self.screen.set_unavailable(self.unavailable)

    @on(DataTable.RowHighlighted, "#envs")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = self.selected
        for pane in self._panes():
            pane.show_env(name)
        # A cursor moving row after row (j held down) loads the details once it rests;
        # a single move loads them at once.
        now = time.monotonic()
        moving = now - self._last_move < FOLLOW_GAP
        self._last_move = now
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        if moving:
            self._follow_timer = self.set_timer(FOLLOW_GAP, self._follow_selection)
        else:
            self._follow_selection()

    def _follow_selection(self) -> None:
        """Show the details of the highlighted env (loaded in a worker)."""
        self._follow_timer = None
        if self.closing:
            return  # the app is closing
        name = self.selected
        view = self.views.get(name) if name else None
        panel = self.query_one(EnvDetailPanel)
        if view is None:
            panel.show(None)
        elif panel.detail is None or panel.detail.name != name:
            self.load_detail(view)

    @on(DataTable.RowHighlighted, "#objects DataTable")
    def _object_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The Resources pane follows the highlighted object."""
        from ptest_tui.tui.widgets.objects_panel import ObjectsTable
        from ptest_tui.tui.widgets.resources_pane import ResourcesPane

        if isinstance(event.data_table, ObjectsTable):
            self.query_one("#resources", ResourcesPane).show_object(
                event.data_table.selected_name
            )

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
