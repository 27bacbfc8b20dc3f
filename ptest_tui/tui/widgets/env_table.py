"""The environments table: one row per stored or declared environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable

from ptest_tui.events import MonitorSample
from ptest_tui.session import EnvView
from ptest_tui.tui.style import status_look, theme_color
from ptest_tui.tui.throttle import Throttle
from ptest_tui.tui.widgets.list_filter import ListFilter
from ptest_tui.tui.widgets.vim_keys import VIM_ROW_KEYS

MIN_SUMMARY_WIDTH = 16
COLUMNS = (("name", "Name"), ("isolation", "Isolation"), ("status", "Status"),
           ("python", "Python"), ("packages", "Pkgs"), ("cpu", "CPU"), ("memory", "Mem"),
           ("summary", "Summary"))
NUMERIC = frozenset({"packages", "cpu", "memory"})  # right-aligned
UNKNOWN = "—"
ACTIVITY_IN_STATUS = 18  # characters of "installing ..." in the status cell (no summary)
DATA_GAP = 0.25  # seconds between redraws for new data (filtering and resizing redraw at once)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())  # errors can span lines; a cell shows one
    return text if len(text) <= width else text[: width - 1] + "…"


def cpu_text(percent: float | None) -> str:
    """CPU in percent of one core, whole numbers (a cell that flickers less)."""
    return UNKNOWN if percent is None else f"{percent:.0f}%"


def memory_text(amount: int | None) -> str:
    """Resident memory: ``85M``, ``1.2G``; whole MiB below 10 GiB wide enough to read."""
    if amount is None:
        return UNKNOWN
    if amount >= 1024**3:
        return f"{amount / 1024**3:.1f}G"
    return f"{amount / 1024**2:.0f}M"


@dataclass(frozen=True)
class EnvRow:
    """What one table row shows (a value, so unchanged rows are not redrawn)."""

    name: str
    isolation: str
    status: str
    python: str
    summary: str
    activity: str = ""
    packages: int | None = None  # installed distributions, as last seen (store)
    cpu: str = UNKNOWN  # live, from the monitor: already rounded for display
    memory: str = UNKNOWN

    @classmethod
    def from_view(
        cls,
        view: EnvView,
        declared: Mapping[str, Any] | None = None,
        activity: str = "",
        usage: MonitorSample | None = None,
    ) -> EnvRow:
        """Build a row from a session listing entry (``declared``: its ptest.toml table;
        ``usage``: the env's latest monitor sample)."""
        record = view.record
        spec: Mapping[str, Any] = record.spec if record else (declared or {})
        state = record.engine_state if record else {}
        python = str(state.get("python_version") or spec.get("python") or "")
        if view.status == "broken" and record and record.error:
            summary = record.error
        elif spec.get("description"):
            summary = str(spec["description"])
        else:
            summary = view.reason
        cpu = memory = UNKNOWN
        if usage is not None and usage.state in ("running", "idle"):
            cpu, memory = cpu_text(usage.cpu_percent), memory_text(usage.memory_bytes)
        packages = record.package_count if record else None
        return cls(view.name, view.isolation, view.status, python, summary, activity,
                   packages, cpu, memory)

    def matches(self, needle: str) -> bool:
        """Whether the filter text ``needle`` occurs in any column (case-insensitive)."""
        needle = needle.strip().lower()
        if not needle:
            return True
        haystack = " ".join((self.name, self.isolation, self.status, self.python, self.summary))
        return needle in haystack.lower()

    def status_text(self, with_activity: bool) -> str:
        """The status cell's text; ``with_activity`` when no summary column shows it."""
        if with_activity and self.activity:
            return "⟳ " + _shorten(self.activity, ACTIVITY_IN_STATUS)
        return self.status

    def plain_cells(self, with_activity: bool = False) -> tuple[str, ...]:
        """The text of every column but the summary (for widths)."""
        packages = UNKNOWN if self.packages is None else str(self.packages)
        return (self.name, self.isolation, f"? {self.status_text(with_activity)}",
                self.python or UNKNOWN, packages, self.cpu, self.memory)


class EnvTable(DataTable[Any]):
    """A DataTable of environments with vim keys, filtering and theme-aware status colors."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *VIM_ROW_KEYS,
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_all: tuple[EnvRow, ...] = ()
        self.filter_text = ""
        self._shown: tuple[EnvRow, ...] | None = None
        self._shown_theme = ""
        self._layout_shown: tuple[int, int] = (0, 0)
        self._drawn_width = -1
        self._new_data = Throttle(self, DATA_GAP, self._redraw)

    def on_mount(self) -> None:
        """Create the columns."""
        self._add_columns()

    def _add_columns(self, count: int = len(COLUMNS)) -> None:
        for key, label in COLUMNS[:count]:
            self.add_column(label, key=key)

    @property
    def data_pending(self) -> bool:
        """Whether new rows wait for their redraw (see :meth:`set_rows`)."""
        return self._new_data.pending

    @property
    def selected_name(self) -> str | None:
        """The environment under the cursor, if any."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor can briefly point past a shrunk table
            return None
        return str(key.value) if key.value is not None else None

    @property
    def visible_names(self) -> list[str]:
        """Names of the rows currently shown (after filtering), in order."""
        return [row.name for row in self._shown or ()]

    def set_rows(self, rows: Iterable[EnvRow]) -> None:
        """Replace the data; redraws only when what is shown changes.

        Every changed cell makes the DataTable render all its rows again, so new values in
        the same rows are drawn at most every :data:`DATA_GAP` seconds: eight installs
        change statuses and activities dozens of times a second, and the keyboard's frames
        come first. Rows added or removed show at once.
        """
        self.rows_all = tuple(rows)
        shown = [row.name for row in self.rows_all if row.matches(self.filter_text)]
        if shown != self.visible_names:
            self._new_data.run()  # rows came or went: the selection must follow at once
        else:
            self._new_data.request()

    def set_filter(self, text: str) -> None:
        """Show only rows matching ``text``."""
        self.filter_text = text
        self._new_data.run()

    def redraw(self, force: bool = False) -> None:
        """Redraw (after a theme change, pass ``force``)."""
        if force:
            self._shown = None
        self._new_data.run()

    def select_name(self, name: str) -> bool:
        """Move the cursor to ``name`` if it is shown."""
        names = self.visible_names
        if name not in names:
            return False
        self.move_cursor(row=names.index(name))
        return True

    def _status_cell(self, row: EnvRow, with_activity: bool) -> Text:
        if with_activity and row.activity:
            # Narrow: the summary column is gone, so what runs shows in the status.
            accent = theme_color(self.app, "accent")
            return Text(row.status_text(True), style=accent)
        look = status_look(row.status)
        color = theme_color(self.app, look.variable)
        return Text.assemble((look.icon, color), " ", (row.status, color))

    def _layout(self, rows: tuple[EnvRow, ...]) -> tuple[int, int]:
        """How many columns fit, and the room left for the summary.

        Narrow terminals drop the summary, then memory, CPU, packages and Python, instead of
        making the table scroll sideways.
        """
        available = self.scrollable_content_region.width or 100
        pad = 2 * self.cell_padding
        widths = []
        plain = [row.plain_cells() for row in rows]  # once per row, not once per column
        for index, (_key, label) in enumerate(COLUMNS[:-1]):
            widths.append(max([len(label), *(len(cells[index]) for cells in plain)]) + pad)
        room = available - sum(widths) - pad - 1
        if room >= MIN_SUMMARY_WIDTH:
            return len(COLUMNS), room
        # No summary: activity goes in the status cell, which may need more room.
        widths[2] = max([widths[2], *(len(r.plain_cells(True)[2]) + pad for r in rows)])
        count = len(COLUMNS) - 1
        while count > 2 and sum(widths[:count]) > available:
            count -= 1
        return count, 0

    def _summary_cell(self, row: EnvRow, width: int) -> Text:
        if row.activity:
            accent = theme_color(self.app, "accent")
            return Text.assemble(("⟳ ", accent), (_shorten(row.activity, width - 2), accent))
        muted = theme_color(self.app, "foreground-muted")
        style = theme_color(self.app, "error") if row.status == "broken" else muted
        return Text(_shorten(row.summary, width), style=style)

    def on_resize(self) -> None:
        """Fit the summary column to the new width (a rebuild only when it changed)."""
        width = self.scrollable_content_region.width
        if width != self._drawn_width:
            self._drawn_width = width
            self.redraw(force=True)

    def _cells(self, row: EnvRow, count: int, width: int) -> list[Any]:
        packages = UNKNOWN if row.packages is None else str(row.packages)
        cells: list[Any] = [
            Text(row.name, style="bold"),
            row.isolation,
            self._status_cell(row, count < len(COLUMNS)),
            row.python or UNKNOWN,
            Text(packages, justify="right"),
            Text(row.cpu, justify="right"),
            Text(row.memory, justify="right"),
            self._summary_cell(row, width) if count == len(COLUMNS) else "",
        ]
        return cells[:count]

    def _redraw(self) -> bool:
        """Show ``rows_all`` through the filter; False when nothing shown changed."""
        shown = tuple(row for row in self.rows_all if row.matches(self.filter_text))
        theme = self.app.theme
        if shown == self._shown and theme == self._shown_theme:
            return False
        previous = self._shown
        keep = self.selected_name
        keep_index = self.cursor_row
        self._shown, self._shown_theme = shown, theme
        layout = self._layout(shown)
        if previous is not None and self._update_in_place(previous, shown, layout):
            return True
        self._layout_shown = layout
        count, width = layout
        # Auto-width columns never shrink, so start from fresh columns each time; otherwise
        # one long summary would leave the table scrolling sideways for good.
        self.clear(columns=True)
        self._add_columns(count)
        for row in shown:
            self.add_row(*self._cells(row, count, width), key=row.name)
        names = [row.name for row in shown]
        if keep in names:
            self.move_cursor(row=names.index(keep), animate=False)
        elif names:
            # The selected env vanished (deleted elsewhere): stay at the same height.
            self.move_cursor(row=min(keep_index, len(names) - 1), animate=False)
        return True

    def _update_in_place(
        self, previous: tuple[EnvRow, ...], shown: tuple[EnvRow, ...], layout: tuple[int, int]
    ) -> bool:
        """Change only the cells that differ when the same rows keep the same layout.

        Live CPU and memory change every second; rebuilding the whole table for them
        would cost a full relayout per tick (and reset the scroll position).
        """
        if layout != self._layout_shown or len(previous) != len(shown):
            return False
        if any(old.name != new.name for old, new in zip(previous, shown, strict=True)):
            return False
        count, width = layout
        keys = [key for key, _label in COLUMNS[:count]]
        for old, new in zip(previous, shown, strict=True):
            if old == new:
                continue
            before, after = self._cells(old, count, width), self._cells(new, count, width)
            for key, cell_before, cell_after in zip(keys, before, after, strict=True):
                if cell_before != cell_after:
                    self.update_cell(new.name, key, cell_after)
        return True


class FilterInput(ListFilter):
    """The environments filter: typing filters live; Enter, Down or Esc go back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave(True)", "Clear filter", show=False),
        Binding("enter,down", "leave(False)", "Back to the table", show=False),
    ]

    def target(self) -> Widget | None:
        """The environments table."""
        return self.screen.query_one(EnvTable)
