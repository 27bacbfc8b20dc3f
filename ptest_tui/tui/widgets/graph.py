"""Chart widgets: :class:`Graph` draws a :class:`~ptest_tui.tui.widgets.chart.GraphSpec`
to fit its size and repaints only what changed (see chart.py); :class:`ChartColumn`
stacks graphs under a title, or shows why there are none.

The graph keeps one Strip per line and repaints only the lines whose runs changed: a new
value in the title repaints one line, not the chart. Strips need concrete colors, so the
theme variables of the runs are resolved here and again when the theme changes.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Static

from ptest_tui.tui.style import theme_color
from ptest_tui.tui.widgets.chart import (
    Buckets,
    GraphSpec,
    Line,
    Plan,
    lines_content,
    plan_graph,
    plan_lines,
)


class Graph(Widget):
    """A chart widget: give it a :class:`GraphSpec` with :meth:`show`; it lays itself out
    for its size and repaints only the lines that changed."""

    DEFAULT_CSS = """
    Graph {
        width: 1fr;
        height: 1fr;
        min-height: 3;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spec: GraphSpec | None = None
        self.repaints = 0  # how often the drawing changed (diagnostics and tests)
        self._cache: dict[tuple[Any, ...], Buckets] = {}
        self._plan: Plan | None = None
        self._lines: list[Line] = []
        self._strips: list[Strip | None] = []
        self._palette: dict[str, Style] = {}

    def on_mount(self) -> None:
        """Follow theme changes (the strips hold resolved colors)."""
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: Theme) -> None:
        self._palette.clear()
        self._strips = [None] * len(self._lines)
        self.refresh()

    def show(self, spec: GraphSpec | None) -> bool:
        """Take new data (None empties the chart); returns whether the drawing changed."""
        self.spec = spec
        return self._layout()

    def _layout(self) -> bool:
        width, height = self.size
        plan = None
        if self.spec is not None and width and height:
            plan = plan_graph(self.spec, width, height, self._cache)
        if plan == self._plan:
            return False  # the same picture: nothing to build or repaint
        self._plan = plan
        lines = plan_lines(plan) if plan is not None else []
        old, old_strips = self._lines, self._strips
        changed = [y for y in range(max(len(lines), len(old)))
                   if y >= len(lines) or y >= len(old) or lines[y] != old[y]]
        self._lines = lines
        self._strips = [old_strips[y] if y < len(old) and lines[y] == old[y] else None
                        for y in range(len(lines))]
        if changed:
            self.repaints += 1
            self.refresh(*(Region(0, y, width, 1) for y in changed))
        return bool(changed)

    def on_resize(self) -> None:
        """Lay out again for the new size (every line is new)."""
        self._strips = [None] * len(self._lines)
        self._layout()
        self.refresh()

    def _style(self, name: str) -> Style:
        style = self._palette.get(name)
        if style is None:
            words = name.split()
            color = next((theme_color(self.app, w[1:]) for w in words if w.startswith("$")),
                         None)
            style = self._palette[name] = Style(color=color, bold="bold" in words or None)
        return style

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the chart, built once per change."""
        width = self.size.width
        base = self.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._strips[y]
        if strip is None:
            segments = [Segment(text, base + self._style(style) if style else base)
                        for text, style in self._lines[y]]
            strip = Strip(segments).adjust_cell_length(width, base)
            self._strips[y] = strip
        return strip

    @property
    def content(self) -> Content:
        """The chart as Content with theme variables (tests, export)."""
        return lines_content(self._lines)

    @property
    def text(self) -> str:
        """The chart as plain text (tests, screen readers)."""
        return "\n".join("".join(text for text, _ in line) for line in self._lines)


class ChartColumn(Vertical):
    """A column of charts under a title line, or a message saying why there are none."""

    DEFAULT_CSS = """
    ChartColumn { width: 1fr; height: 1fr; padding: 0 1; }
    ChartColumn > .chart-title { height: auto; max-height: 2; }
    ChartColumn > .chart-message { height: auto; color: $foreground-muted; display: none; }
    ChartColumn.-message > .chart-message { display: block; }
    ChartColumn.-message > Graph { display: none; }
    """

    def __init__(self, charts: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.graphs = [Graph(classes="chart-graph") for _ in range(charts)]
        self._title = Static(classes="chart-title")
        self._message = Static(classes="chart-message")
        self._shown: tuple[Content, Content] = (Content(""), Content(""))

    def compose(self) -> Any:
        """The title, the message and the charts."""
        yield self._title
        yield self._message
        yield from self.graphs

    def _texts(self, title: Content, message: Content) -> None:
        old_title, old_message = self._shown
        # A new layout only when the line count changes: the process count in the title
        # changes nearly every tick, and a layout costs far more than a repaint.
        if not title.is_same(old_title):
            lines = title.plain.count("\n") != old_title.plain.count("\n")
            self._title.update(title, layout=lines)
        if not message.is_same(old_message):
            self._message.update(message)
        self._shown = (title, message)

    def show_charts(self, title: Content, specs: list[GraphSpec]) -> None:
        """Show the charts of ``specs`` (in the order of the graphs)."""
        self._texts(title, Content(""))
        self.set_class(False, "-message")
        for graph, spec in zip(self.graphs, specs, strict=True):
            graph.show(spec)

    def show_message(self, title: Content, message: str) -> None:
        """Show ``message`` instead of the charts."""
        self._texts(title, Content(message))
        self.set_class(True, "-message")

    @property
    def text(self) -> str:
        """What the column shows, as plain text."""
        title, message = self._shown
        if self.has_class("-message"):
            return f"{title.plain}\n{message.plain}"
        return "\n".join([title.plain, *(graph.text for graph in self.graphs)])
