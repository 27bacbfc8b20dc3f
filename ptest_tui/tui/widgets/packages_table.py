"""The packages table of the Packages pane, and its filter field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable

from ptest_tui.tui.style import theme_color
from ptest_tui.tui.widgets.list_filter import ListFilter
from ptest_tui.tui.widgets.packages_model import LatestInfo, PackageRow
from ptest_tui.tui.widgets.vim_keys import VIM_ROW_KEYS

COLUMNS = (("name", "Name"), ("version", "Version"), ("latest", "Latest"), ("check", "Check"))
MIN_CHECK_WIDTH = 12  # the Check column shrinks to the room left, down to this


class PackageTable(DataTable[Any]):
    """Installed distributions: name, version, newest release and check problems."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *VIM_ROW_KEYS,
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_all: tuple[PackageRow, ...] = ()
        self.latest: LatestInfo | None = None
        self.filter_text = ""
        self._shown: tuple[tuple[str, ...], ...] | None = None

    def on_mount(self) -> None:
        """Create the columns."""
        self._add_columns()

    def _add_columns(self, widths: Sequence[int] = ()) -> None:
        for index, (key, label) in enumerate(COLUMNS):
            self.add_column(label, key=key, width=widths[index] if widths else None)

    @property
    def visible_rows(self) -> tuple[PackageRow, ...]:
        """The rows shown after filtering, in order."""
        return tuple(row for row in self.rows_all if row.matches(self.filter_text))

    @property
    def visible_names(self) -> list[str]:
        """Names of the rows shown (tests)."""
        return [row.name for row in self.visible_rows]

    @property
    def selected_row(self) -> PackageRow | None:
        """The row under the cursor, if any."""
        rows = self.visible_rows
        if not rows or not 0 <= self.cursor_row < len(rows):
            return None
        return rows[self.cursor_row]

    def show(self, rows: Sequence[PackageRow], latest: LatestInfo | None) -> None:
        """Replace the data; redraws only when what is shown changes."""
        self.rows_all = tuple(rows)
        self.latest = latest
        self.redraw()

    def set_filter(self, text: str) -> None:
        """Show only rows matching ``text``."""
        self.filter_text = text
        self.redraw()

    def select_name(self, name: str) -> bool:
        """Move the cursor to the package ``name`` if it is shown."""
        names = [row.key for row in self.visible_rows]
        key = PackageRow(name, "").key
        if key not in names:
            return False
        self.move_cursor(row=names.index(key), animate=False)
        return True

    def _latest_cell(self, row: PackageRow) -> Text:
        muted = theme_color(self.app, "foreground-muted")
        info = self.latest
        if info is None:
            return Text("…", style=muted)
        if info.note:
            return Text("—", style=muted)
        newer = info.newer.get(row.key)
        if newer:
            return Text(f"↑ {newer}", style=theme_color(self.app, "warning"))
        return Text(row.version, style=muted)

    def _cells(self, rows: Sequence[PackageRow]) -> list[tuple[Text, ...]]:
        """The cells of ``rows``, problems cut to the room the other columns leave.

        The detail line under the table has the problems in full, so the table never
        scrolls sideways.
        """
        error = theme_color(self.app, "error")
        cells: list[tuple[Text, ...]] = []
        for row in rows:
            style = error if row.problems else ""
            check = Text("✖ " + row.short, style=error) if row.problems else Text("")
            cells.append((Text(row.name, style=f"bold {style}".strip()),
                          Text(row.version, style=style), self._latest_cell(row), check))
        widths = [max([len(label), *(cells[i][index].cell_len for i in range(len(cells)))])
                  for index, (_key, label) in enumerate(COLUMNS[:-1])]
        available = self.scrollable_content_region.width or 100
        room = max(MIN_CHECK_WIDTH,
                   available - sum(widths) - 2 * self.cell_padding * len(COLUMNS) - 1)
        for line in cells:
            if line[3].cell_len > room:
                line[3].truncate(room, overflow="ellipsis")
        return cells

    def on_resize(self) -> None:
        """Fit the Check column to the new width (redrawn only if a cell changes)."""
        self.redraw()

    def redraw(self, force: bool = False) -> None:
        """Rebuild the rows if any cell changed (``force``: regardless)."""
        rows = self.visible_rows
        cells = self._cells(rows)
        # Equal markup means an equal screen: nothing to do (a rebuild costs a frame).
        key = tuple((row.key, *(cell.markup for cell in line))
                    for row, line in zip(rows, cells, strict=True))
        if key == self._shown and not force:
            return
        keep = self.selected_row
        keep_index = self.cursor_row
        self._shown = key
        # Fixed widths measured here: auto widths never shrink and are measured later, on
        # idle, which can leave a frame whose header and rows disagree.
        widths = [max([len(label), *(line[index].cell_len for line in cells)])
                  for index, (_key, label) in enumerate(COLUMNS)]
        self.clear(columns=True)
        self._add_columns(widths)
        for row, line in zip(rows, cells, strict=True):
            self.add_row(*line, key=row.key)
        keys = [row.key for row in rows]
        if keep is not None and keep.key in keys:
            self.move_cursor(row=keys.index(keep.key), animate=False)
        elif keys:
            self.move_cursor(row=min(max(keep_index, 0), len(keys) - 1), animate=False)


class PackageFilter(ListFilter):
    """The packages filter: typing filters live; Enter, Down or Esc go back to the table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave(True)", "Clear filter", show=False),
        Binding("enter,down", "leave(False)", "Back to the table", show=False),
    ]

    def target(self) -> Widget | None:
        """The packages table beside this line."""
        return self.parent.query_one(PackageTable) if self.parent is not None else None
