"""The objects panel: the workspace's test objects, their state, port and URL.

A compact table under the environments. Objects are workspace-wide, so the panel does not
follow the selected env. It re-reads ``session.objects.views()`` in a worker (a status
check may probe a port or ask Docker) on every Object* event and every few seconds, never
two reads at once. ``o`` starts or stops the highlighted object, ``a`` adds one through a
dialog, ``L`` shows its log, following new lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.events import (
    Event,
    ObjectAdded,
    ObjectFailed,
    ObjectRemoved,
    ObjectStarted,
    ObjectStarting,
    ObjectStopped,
)
from ptest_tui.objects.base import ObjectSpec
from ptest_tui.objects.service import ObjectView
from ptest_tui.session import Session
from ptest_tui.tui.style import StatusLook, theme_color
from ptest_tui.tui.widgets.text_box import TextBox
from ptest_tui.tui.widgets.vim_keys import VIM_ROW_KEYS

POLL_SECONDS = 3.0
OBJECT_EVENTS = (ObjectAdded, ObjectStarting, ObjectStarted, ObjectStopped, ObjectFailed,
                 ObjectRemoved)
LIVE_STATES = ("running", "unhealthy", "starting")  # o stops these, starts the others
OBJECT_LOOKS: dict[str, StatusLook] = {
    "running": StatusLook("●", "success"),
    "unhealthy": StatusLook("◑", "warning"),
    "starting": StatusLook("◐", "accent"),
    "stopping": StatusLook("◌", "warning"),
    "stopped": StatusLook("○", "foreground-muted"),
    "crashed": StatusLook("✖", "error"),
    "failed": StatusLook("✖", "error"),
}
COLUMNS = (("name", "Name"), ("kind", "Kind"), ("runtime", "Runtime"), ("state", "State"),
           ("port", "Port"), ("url", "URL"))
EMPTY_HINT = Content.assemble(
    ("No test objects. ", "$foreground-muted"), ("a", "bold $accent"),
    (" adds one (or declare them in ptest.toml).", "$foreground-muted"),
)


URL_SHOWN = 40  # characters; a file URL keeps its end (the file), `obj show` has it all


def short_url(url: str) -> str:
    """``url`` cut to :data:`URL_SHOWN` characters, keeping the end, so the table never
    scrolls sideways for a long sqlite path."""
    return url if len(url) <= URL_SHOWN else "…" + url[-(URL_SHOWN - 1):]


@dataclass(frozen=True)
class ObjectRow:
    """What one row shows (a value, so unchanged rows are not redrawn)."""

    name: str
    kind: str
    runtime: str
    state: str
    port: str
    url: str
    activity: str = ""  # "starting…" / "stopping…" while this panel works on it

    @classmethod
    def from_view(cls, view: ObjectView, activity: str = "") -> ObjectRow:
        """A row from a service listing entry (its URL already has the password hidden)."""
        port = str(view.port) if view.port is not None else ""
        return cls(view.name, view.kind, view.runtime, view.state, port, view.url, activity)


class ObjectsLoaded(Message, bubble=False):
    """A fresh listing of the objects (or why it could not be read)."""

    def __init__(self, views: tuple[ObjectView, ...], error: PtestError | None = None) -> None:
        super().__init__()
        self.views = views
        self.error = error


class ObjectActionDone(Message, bubble=False):
    """A start or stop finished: a summary line, or the error."""

    def __init__(self, name: str, summary: str, error: PtestError | None = None) -> None:
        super().__init__()
        self.name = name
        self.summary = summary
        self.error = error


class ObjectsTable(DataTable[Any]):
    """The objects as rows, with vim keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *VIM_ROW_KEYS,
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_all: tuple[ObjectRow, ...] = ()
        self._shown: tuple[tuple[ObjectRow, ...], str] | None = None

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_name(self) -> str | None:
        """The object under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor can briefly point past a shrunk table
            return None
        return str(key.value) if key.value is not None else None

    def select_name(self, name: str) -> bool:
        """Move the cursor to ``name`` if it is listed."""
        names = [row.name for row in self.rows_all]
        if name not in names:
            return False
        self.move_cursor(row=names.index(name), animate=False)
        return True

    def set_rows(self, rows: Iterable[ObjectRow], force: bool = False) -> None:
        """Show ``rows``; redraws only when something shown changed (or ``force``)."""
        self.rows_all = tuple(rows)
        shown = (self.rows_all, self.app.theme)
        if shown == self._shown and not force:
            return
        self._shown = shown
        keep, keep_index = self.selected_name, self.cursor_row
        self.clear()
        for row in self.rows_all:
            self.add_row(Text(row.name, style="bold"), row.kind, row.runtime,
                         self._state_cell(row), row.port or "—", short_url(row.url),
                         key=row.name)
        names = [row.name for row in self.rows_all]
        if keep in names:
            self.move_cursor(row=names.index(keep), animate=False)
        elif names:
            self.move_cursor(row=min(keep_index, len(names) - 1), animate=False)

    def _state_cell(self, row: ObjectRow) -> Text:
        if row.activity:
            accent = theme_color(self.app, "accent")
            return Text.assemble(("⟳ ", accent), (row.activity, accent))
        look = OBJECT_LOOKS.get(row.state, StatusLook("?", "foreground-muted"))
        color = theme_color(self.app, look.variable)
        return Text.assemble((look.icon, color), " ", (row.state, color))


class ObjectsPanel(Vertical):
    """Test objects with start/stop, add and log keys (active when focus is inside)."""

    DEFAULT_CSS = """
    ObjectsPanel {
        height: auto;
        max-height: 12;
    }
    ObjectsPanel > ObjectsTable {
        height: auto;
        max-height: 10;
        background: $surface;
    }
    ObjectsPanel > #objects-empty {
        height: auto;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "start_stop", "Start/stop",
                tooltip="Start the highlighted object, or stop it if it runs"),
        Binding("a", "add", "Add object", tooltip="Add a test object (dialog)"),
        Binding("L", "log", "Object log", tooltip="The highlighted object's log, following"),
    ]

    def __init__(self, session: Session, *, poll_seconds: float = POLL_SECONDS,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.poll_seconds = poll_seconds
        self.views: dict[str, ObjectView] = {}
        self.activity: dict[str, str] = {}  # object -> "starting…" while a toggle runs
        self.tokens: dict[str, CancelToken] = {}
        self.env: str | None = None
        self._loading = False
        self._again = False
        self._select_after_load = ""

    def compose(self) -> Any:
        """The table and the empty hint."""
        yield ObjectsTable(id="objects-table")
        yield TextBox(EMPTY_HINT, id="objects-empty")

    @property
    def table(self) -> ObjectsTable:
        """The objects table."""
        return self.query_one(ObjectsTable)

    def on_mount(self) -> None:
        """First read, then every few seconds (crashes and outside changes show up)."""
        self.request_refresh()
        self.set_interval(self.poll_seconds, self.request_refresh)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._render_rows(True))

    def on_unmount(self) -> None:
        """Stop waiting for starts that are still running."""
        for token in self.tokens.values():
            token.cancel()

    # -- the pane interface -----------------------------------------------------------

    def show_env(self, name: str | None) -> None:
        """Objects are workspace-wide: the selected env changes nothing here."""
        self.env = name

    def engine_event(self, event: Event) -> None:
        """Object events re-read the listing (bursts coalesce into one read)."""
        if isinstance(event, OBJECT_EVENTS):
            self.request_refresh()

    # -- loading ----------------------------------------------------------------------

    def request_refresh(self) -> None:
        """Re-read the objects, unless a read runs (then once more after it)."""
        if self._loading:
            self._again = True
            return
        self._loading, self._again = True, False
        session = self.session

        def work() -> None:
            try:
                views = tuple(session.objects.views())
            except PtestError as exc:
                self.post_message(ObjectsLoaded((), exc))
                return
            except Exception as exc:  # a broken plugin kind must not stop the polling
                self.post_message(ObjectsLoaded((), PtestError(f"cannot list objects: {exc}")))
                return
            self.post_message(ObjectsLoaded(views))

        self.run_worker(work, name="objects-refresh", group="objects-refresh", thread=True,
                        exit_on_error=False)

    def on_objects_loaded(self, message: ObjectsLoaded) -> None:
        """Show the listing."""
        self._loading = False
        empty = self.query_one("#objects-empty", TextBox)
        if message.error is None:
            self.views = {view.name: view for view in message.views}
            self._render_rows()
            empty.show(EMPTY_HINT)
            if self._select_after_load and self.table.select_name(self._select_after_load):
                self._select_after_load = ""
        else:
            # Said in the panel rather than as a toast: the poll would repeat it every time.
            empty.show(Content.styled(f"✖ {message.error.one_line()}", "$error"))
            empty.display = True
        if self._again:
            self.request_refresh()

    def _render_rows(self, force: bool = False) -> None:
        rows = [ObjectRow.from_view(view, self.activity.get(name, ""))
                for name, view in self.views.items()]
        self.table.set_rows(rows, force)
        self.query_one("#objects-empty").display = not rows

    @property
    def selected(self) -> ObjectView | None:
        """The highlighted object's listing entry."""
        name = self.table.selected_name
        return self.views.get(name) if name else None

    # -- actions ----------------------------------------------------------------------

    def action_start_stop(self) -> None:
        """o: start the highlighted object, or stop it when it runs."""
        view = self.selected
        if view is None:
            self.app.notify("no object selected; press a to add one", severity="warning",
                            markup=False)
            return
        name = view.name
        if name in self.activity:
            self.app.notify(f"{name} is already {self.activity[name]}", severity="warning",
                            markup=False)
            return
        stopping = view.state in LIVE_STATES
        token = CancelToken()
        self.tokens[name] = token
        self.activity[name] = "stopping…" if stopping else "starting…"
        self._render_rows()
        session = self.session

        def work() -> None:
            try:
                objects = session.objects  # built on first use, with I/O: not on the app thread
                if stopping:
                    objects.stop(name)
                    summary = f"{name} stopped"
                else:
                    info = objects.start(name, cancel=token)
                    where = objects.view(name).url or (
                        f"port {info.port}" if info.port is not None else "")
                    summary = f"{name} ready" + (f": {where}" if where else "")
            except PtestError as exc:
                self.post_message(ObjectActionDone(name, "", exc))
                return
            except Exception as exc:  # an object bug: report it, keep the app alive
                error = PtestError(f"{name}: {exc}", "the log pane has the traceback")
                self.post_message(ObjectActionDone(name, "", error))
                return
            self.post_message(ObjectActionDone(name, summary))

        self.run_worker(work, name=f"object:{name}", group=f"object:{name}", thread=True,
                        exit_on_error=False)

    def on_object_action_done(self, message: ObjectActionDone) -> None:
        """A start or stop finished: say so and re-read."""
        self.activity.pop(message.name, None)
        self.tokens.pop(message.name, None)
        error = message.error
        if error is not None:
            self.app.notify(error.message + (f"\nhint: {error.hint}" if error.hint else ""),
                            title=f"Object {message.name}", severity="error", markup=False,
                            timeout=10)
        else:
            self.app.notify(message.summary, markup=False)
        self._render_rows()
        self.request_refresh()

    def action_add(self) -> None:
        """a: the add-object dialog; the new object is selected afterwards."""
        from ptest_tui.tui.screens.add_object import AddObjectScreen

        def added(spec: ObjectSpec | None) -> None:
            if spec is None:
                return
            self.app.notify(f"added {spec.kind} object {spec.name}; o starts it",
                            markup=False)
            self._select_after_load = spec.name
            self.request_refresh()

        self.app.push_screen(AddObjectScreen(self.session), added)

    def action_log(self) -> None:
        """L: the highlighted object's log, following new lines."""
        from ptest_tui.tui.screens.object_log import ObjectLogScreen

        view = self.selected
        if view is None:
            self.app.notify("no object selected", severity="warning", markup=False)
            return
        self.app.push_screen(ObjectLogScreen(self.session, view.name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """o and L need an object; shown dimmed in the footer otherwise."""
        if action in ("start_stop", "log"):
            return True if self.views else None
        return True
