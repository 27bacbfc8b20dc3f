"""The full-screen app: environments on the left, detail and log on the right.

Every engine call runs in a thread worker and reports back with a message (see
``messages.py`` and ``bridge.py``); widgets are only touched on the app's own thread. The
environment list is re-read from the store every two seconds (never two reads at once), so
changes made by the CLI in another terminal show up by themselves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.notifications import Notify
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, TabbedContent, TabPane

from ptest_tui.errors import PtestError
from ptest_tui.events import (
    CaseDone,
    CaseFinished,
    CaseStarted,
    Event,
    MonitorAlert,
    MonitorAlertCleared,
    MonitorSample,
    PackagePhase,
    RunStarted,
)
from ptest_tui.session import EnvView, Session
from ptest_tui.tui.bridge import (
    EngineEvent,
    EventBridge,
    LogRecordPosted,
    OutputReady,
    capture_logging,
)
from ptest_tui.tui.gc_tuning import freeze_startup_objects, thaw
from ptest_tui.tui.keys import (
    APP_BINDINGS,
    MAIN_SCREEN_ACTIONS,
    bindings_in_use,
    checked_keymap,
)
from ptest_tui.tui.listing import ListingActions
from ptest_tui.tui.screens.help import HelpScreen, Section, app_sections
from ptest_tui.tui.theme_reload import ThemeFilesChanged, ThemeLibrary
from ptest_tui.tui.themes import DEFAULT_THEME
from ptest_tui.tui.widgets.env_detail import EnvDetailPanel
from ptest_tui.tui.widgets.env_table import EnvTable, FilterInput
from ptest_tui.tui.widgets.log_pane import LogPane, describe_event

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
SETTLE_SECONDS = 2.0  # after start, the objects built so far are frozen (tui/gc_tuning.py)
WORKER_THREADS = 32  # the app's thread workers at once (engine jobs, reads)
COMPACT_BELOW = 110  # terminal columns under which the footer drops its padding


# Events that never change the environments listing: no re-read for them (installs and
# runs send many a second; each re-read is a store query in a thread).
LISTING_UNCHANGED: tuple[type[Event], ...] = (
    PackagePhase, CaseStarted, CaseFinished, CaseDone, MonitorAlert, MonitorAlertCleared,
    RunStarted,
)
MAX_TOASTS = 4  # more at once and the oldest informational ones make room


class PtestApp(ListingActions):
    """ptest-tui's full-screen app over one :class:`Session`."""

    CSS_PATH = "app.tcss"
    TITLE = "ptest-tui"
    AUTO_FOCUS = "#envs"
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    def __init__(self, session: Session, *, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__()
        self.session = session
        self.poll_seconds = poll_seconds
        self.sub_title = session.config.workspace_name
        self.bridge = EventBridge(self, session.bus)
        self.views: dict[str, EnvView] = {}
        self.usage: dict[str, MonitorSample] = {}  # latest sample per monitor key
        self.unavailable: dict[str, str | None] = {}
        self.init_listing()
        self._gc_before: tuple[int, int, int] | None = None
        self.keys_in_use: list[BindingType] = list(self.BINDINGS)  # [ui] keymap applied
        self._select_after_refresh: str | None = None
        self._restore_logging: object = None
        # Shipped themes plus the workspace's themes/*.toml, registered; reloaded live.
        self.theme_library = ThemeLibrary(session.workspace.root)
        self.themes: list[Theme] = self.theme_library.load(self)
        wanted = session.config.ui.theme or DEFAULT_THEME
        self._theme_problem = "" if wanted in self.available_themes else wanted
        self.theme = DEFAULT_THEME if self._theme_problem else wanted
        self.init_actions()

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, the four panes (tabs) beside details and log, and the footer."""
        from ptest_tui.tui.widgets.objects_panel import ObjectsPanel
        from ptest_tui.tui.widgets.packages_pane import PackagesPane
        from ptest_tui.tui.widgets.resources_pane import ResourcesPane
        from ptest_tui.tui.widgets.results_pane import ResultsPane

        yield Header(icon="◆")
        with Horizontal(id="main"):
            with Vertical(id="left"), TabbedContent(id="panes", initial="tab-envs"):
                with TabPane("1 Environments", id="tab-envs"):
                    yield FilterInput(placeholder="/ filter", id="filter")
                    self.env_table = EnvTable(id="envs")
                    yield self.env_table
                    yield ObjectsPanel(self.session, id="objects")
                with TabPane("2 Packages", id="tab-packages"):
                    yield PackagesPane(self.session, id="packages")
                with TabPane("3 Resources", id="tab-resources"):
                    yield ResourcesPane(self.session, id="resources")
                with TabPane("4 Results", id="tab-results"):
                    yield ResultsPane(self.session, id="results")
            with Vertical(id="right"):
                detail = EnvDetailPanel(id="detail")
                detail.border_title = "Details"
                yield detail
                pane = LogPane(id="log")
                pane.border_title = "Log"
                yield pane
        yield Footer()

    @property
    def log_pane(self) -> LogPane:
        """The log pane."""
        return self.query_one(LogPane)

    def on_mount(self) -> None:
        """Connect the engine, load the data and start polling."""
        # Thread workers run on the loop's default executor, which has cpu_count + 4
        # threads (6 on two cores): eight installs would queue, and the listing and detail
        # reads behind them. The workers mostly wait on subprocesses, so give them room.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="ptest-worker"))
        self.bridge.start()
        self._restore_logging = capture_logging(self)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        if self._theme_problem:
            self.notify(
                f"unknown theme {self._theme_problem!r} in ui.theme; using {DEFAULT_THEME}"
                "\nhint: use one of " + ", ".join(t.name for t in self.themes),
                severity="warning",
                markup=False,
            )
        if self.session.recovered:
            names = ", ".join(self.session.recovered)
            self.notify(
                f"left half-done by a killed process, now broken: {names}"
                "\nhint: select one and press R to repair it, or x to clean up",
                title="Recovered environments",
                severity="warning",
                markup=False,
                timeout=10,
            )
        self.request_refresh()
        self.check_engines()
        self.set_interval(self.poll_seconds, self.request_refresh)
        self.set_timer(SETTLE_SECONDS, self._freeze_startup_objects)
        from ptest_tui.monitor.live import LiveWatch

        # ptest.toml edits apply live; [monitor] thresholds raise notifications.
        self.live = LiveWatch(self.session).start()
        self._apply_keymap()
        self.theme_library.start(self)  # reports broken theme files, then watches them

    def _freeze_startup_objects(self) -> None:
        """Keep the garbage collector's pauses short while the app runs (tui/gc_tuning.py)."""
        self._gc_before = freeze_startup_objects()

    def _thaw(self) -> None:
        """Undo :meth:`_freeze_startup_objects` (an app inside a longer process: tests)."""
        if self._gc_before is not None:
            thaw(self._gc_before)
            self._gc_before = None

    def on_unmount(self) -> None:
        """Disconnect from the engine and stop anything still running."""
        self._thaw()
        self.theme_library.stop()
        live = getattr(self, "live", None)
        if live is not None:
            live.stop()
        self.bridge.stop()
        self.cancel_all()
        if callable(self._restore_logging):
            self._restore_logging()

    def on_resize(self, event: Resize) -> None:
        """Tighten the footer on narrow terminals so every key still shows."""
        self.query_one(Footer).compact = event.size.width < COMPACT_BELOW

    def _on_theme_changed(self, theme: Theme) -> None:
        self.table.redraw(force=True)

    def on_theme_files_changed(self, message: ThemeFilesChanged) -> None:
        """A theme file changed on disk: re-read it; the theme in use is re-applied."""
        self.theme_library.apply(self, message.paths)

    # -- engine events ------------------------------------------------------------------

    def on_output_ready(self, message: OutputReady) -> None:
        """Drain the buffered output lines into the log in one write."""
        batch = self.bridge.drain()
        if self.closing:
            return
        self.log_pane.output_lines(batch.lines, batch.dropped)

    def on_engine_event(self, message: EngineEvent) -> None:
        """Log an engine event and re-read the listing."""
        from ptest_tui.events import ConfigReloaded, ConfigReloadFailed, PackageInstallFailed

        event = message.event
        if isinstance(event, MonitorSample) or self.closing:
            return  # graphs read the monitor directly; or the app is closing
        for pane in self._panes():
            pane.engine_event(event)
        forward = getattr(self.screen, "engine_event", None)
        if callable(forward):  # a migration or snapshot flow shows its steps live
            forward(event)
        if isinstance(event, MonitorAlert):
            self.notify(event.message, title="Threshold crossed", severity="warning",
                        markup=False, timeout=8)
        elif isinstance(event, PackageInstallFailed) and not self._reports_itself(event.env):
            self.notify(f"{event.env}: {event.message}", title="Install failed",
                        severity="error", markup=False, timeout=8)
        elif isinstance(event, ConfigReloadFailed):
            self.notify(event.message + (f"\nhint: {event.hint}" if event.hint else ""),
                        title="ptest.toml not reloaded", severity="error", markup=False,
                        timeout=10)
        elif isinstance(event, ConfigReloaded):
            self._config_reloaded(event)
        line = describe_event(message.event)
        if line is not None:
            text, variable = line
            self.log_pane.event_line(message.event.at, text, variable)
        if not isinstance(event, LISTING_UNCHANGED):
            self.request_refresh()

    def _on_notify(self, event: Notify) -> None:
        """Show a notification, keeping at most :data:`MAX_TOASTS` on screen.

        A flood (eight installs finishing every second) would otherwise stack dozens of
        toasts, and every frame lays all of them out; the oldest non-error ones go first.
        """
        self._notifications.add(event.notification)
        shown = list(self._notifications)
        extra = len(shown) - MAX_TOASTS
        for old in [n for n in shown if n.severity != "error"][: max(0, extra)]:
            self._unnotify(old, refresh=False)
        self._refresh_notifications()

    def _reports_itself(self, env: str) -> bool:
        """Whether an action started here in ``env`` will report its own failure.

        Installs from the Packages pane and env actions (create with packages, exec) say
        what failed when they end; installs made by a plan, a run or a migration do not.
        """
        from ptest_tui.tui.widgets.packages_pane import PackagesPane

        panes = self.query(PackagesPane)
        return env in self.activity or any(pane.job_running(env, "change") for pane in panes)

    def _apply_keymap(self) -> None:
        """``[ui] keymap``: action = "keys" (comma-separated alternatives), by binding id."""
        keymap, problem = checked_keymap(self.session.config.ui.keymap, self.BINDINGS)
        if problem:
            self.notify(problem, severity="warning", markup=False)
        self.set_keymap(keymap)
        self.keys_in_use = bindings_in_use(self.BINDINGS, keymap)

    def _config_reloaded(self, event: object) -> None:
        """A new ptest.toml is in effect: the theme follows, the listing is re-read."""
        self.sub_title = self.session.config.workspace_name
        if "ui" in getattr(event, "changed", ()):
            self._apply_keymap()
        wanted = self.session.config.ui.theme or DEFAULT_THEME
        if wanted != self.theme and wanted in self.available_themes:
            self.theme = wanted
        changed = ", ".join(getattr(event, "changed", ())) or "nothing"
        self.notify(f"configuration reloaded ({changed})", markup=False, timeout=3)

    def on_log_record_posted(self, message: LogRecordPosted) -> None:
        """Show a Python logging record from the engine."""
        if self.closing:
            return
        variable = "error" if message.level >= logging.ERROR else "warning"
        if message.level < logging.WARNING:
            variable = "foreground-muted"
        self.log_pane.event_line(time.time(), message.text, variable)

    def show_error(self, error: PtestError, title: str = "") -> None:
        """A PtestError as a notification: the message, then the hint."""
        text = error.message + (f"\nhint: {error.hint}" if error.hint else "")
        self.notify(text, title=title, severity="error", markup=False, timeout=8)

    # -- simple actions -----------------------------------------------------------------

    def action_refresh(self) -> None:
        """Ctrl+R: re-read everything now, including the selected env's engine status."""
        self.request_refresh()
        self.check_engines()
        name = self.selected
        if name and name in self.views:
            self.load_detail(self.views[name])

    def action_filter(self) -> None:
        """/: type to filter the table."""
        self.query_one(FilterInput).focus()

    def action_clear_log(self) -> None:
        """Ctrl+L: empty the log pane."""
        self.log_pane.clear()

    def action_help(self) -> None:
        """?: the key list."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    async def action_quit(self) -> None:
        """Ctrl+Q (anywhere): stop running commands and leave."""
        self.cancel_all()
        self.exit(0)

    async def action_leave(self) -> None:
        """q on the main screen: quit."""
        await self.action_quit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The main screen's keys are off while a dialog is open (Esc closes it first)."""
        return not (action in MAIN_SCREEN_ACTIONS and isinstance(self.screen, ModalScreen))

    def help_sections(self) -> list[Section]:
        """Every key of the app, its widgets and its dialogs, for the help screen."""
        return app_sections(self.keys_in_use)

    def switch_theme(self, name: str) -> None:
        """Use theme ``name`` now and save it as ``[ui] theme`` in the config file."""
        from ptest_tui.config.edit import set_setting

        self.theme = name
        try:
            path = set_setting(self.session.workspace.root, "ui", "theme", name)
        except PtestError as exc:
            self.show_error(exc, title="Theme not saved")
            return
        self.notify(f"theme {name} saved in {path.name}", markup=False, timeout=3)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every action, one entry per theme, then Textual's own."""
        from ptest_tui.tui.palette import app_commands

        yield from app_commands(self)
        yield from super().get_system_commands(screen)
