"""A live line chart drawn with braille dots: one or more series over a time window.

Each cell holds 2 x 4 braille dots, so a chart of W x H cells plots 2W points across and
4H levels up. Drawing is pure and in two steps: :func:`plan_graph` (a :class:`GraphSpec`
and a size in, a :class:`Plan` out: the dot level of each column, the labels, the marks)
and :func:`draw_plan` (Textual ``Content``, colors as theme variables). Plans are cheap to
make and compare, so the widget (ptest_tui/tui/widgets/graph.py) builds text only when the
picture changes; time is bucketed on absolute boundaries, so a flat line changes once per
column's worth of time, not at every sample.

    CPU 97% of a core  ▲ peak 99%  ┄ alert above 90%
     120┤
      90┤┄┄┄┄┄┄┄┄┄┄┄┄⢀⡠⠤⠤⠤⠤⠤
       0┤⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⠔⠁
        └-10m─────────────▲───now
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from textual.content import Content, Span

from ptest_tui.tui.widgets.chart_scale import (
    format_value,
    nice_ceiling,
    scale_label,
    short_duration,
)

BRAILLE = 0x2800
# The bit of each braille dot: DOTS[column within the cell][row from the top].
DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
LABEL_WIDTH = 5
GUTTER = LABEL_WIDTH + 1  # the scale labels and the axis line
THRESHOLD_CHAR = "┄"
PEAK_CHAR = "▲"
MUTED = "$foreground-muted"
THRESHOLD_STYLE = "$warning"
PEAK_STYLE = "bold $accent"
# A sample measures the interval before it; it is drawn back to the previous sample unless
# that one is older than this many intervals (the monitor was not running: a gap).
GAP_INTERVALS = 2.5
# A threshold stretches the scale only up to this many times the data's own top; beyond,
# it would flatten the line (an env using 20M under a 16G alert), so the title says it is
# off the chart instead.
STRETCH = 2.0
CACHE_SIZE = 8  # bucket sets a chart keeps (a few series, one resolution)
TIME = itemgetter(0)  # the time of a point

Point = tuple[float, float | None]  # (Unix time, value); None: no reading then


@dataclass(frozen=True)
class Series:
    """One line of a chart: ``(time, value)`` points, oldest first."""

    label: str  # shown before the current value; "" for a chart with a single line
    points: tuple[Point, ...]
    style: str = "$primary"


@dataclass(frozen=True)
class GraphSpec:
    """What a chart shows: series over ``window`` seconds ending at ``now``."""

    title: str
    series: tuple[Series, ...]
    now: float  # the time at the right edge (the newest sample's, not the clock's)
    window: float
    step: float  # the sampling interval
    unit: str = "percent"  # percent, bytes or rate (bytes per second)
    floor: float = 0.0  # the top of the scale is at least this
    ceiling: float | None = None  # a fixed top (the host's memory)
    threshold: float | None = None
    threshold_label: str = ""  # "alert above 90%"
    note: str = ""  # after the current value: "of a core"
    source: str = ""  # what the points are of: a new source rebuilds the cached buckets


class Buckets:
    """The largest value of one series in each time bucket (``width`` seconds, on absolute
    boundaries), kept between redraws: a new sample costs one bucket, not a pass over the
    whole history. A sample measures the interval before it, so it also fills the buckets
    back to the previous sample, unless that one is more than ``gap`` seconds older."""

    def __init__(self, width: float, gap: float) -> None:
        self.width = width
        self.gap = gap
        self.values: dict[int, float] = {}
        self._at = -math.inf  # the newest sample taken
        self._held = -math.inf  # the newest one with a value
        self._bucket = 0

    def feed(self, points: tuple[Point, ...], since: float = -math.inf) -> None:
        """Take the points newer than those taken before (the first time, from ``since``)."""
        start = bisect_right(points, self._at, key=TIME)
        if self._at == -math.inf:  # a line starts at the last point before the window
            start = max(0, bisect_left(points, since, key=TIME) - 1)
        floor, width, gap, values = math.floor, self.width, self.gap, self.values
        last, previous, before = self._at, self._held, self._bucket
        for index in range(start, len(points)):
            at, value = points[index]
            last = at
            if value is None:
                previous = -math.inf  # no reading: the line breaks here
                continue
            bucket = floor(at / width)
            first = before + 1 if at - previous <= gap and before < bucket else bucket
            for into in range(first, bucket + 1):
                held = values.get(into)
                if held is None or value > held:
                    values[into] = value
            previous, before = at, bucket
        self._at, self._held, self._bucket = last, previous, before

    def columns(self, first: int, count: int) -> list[float | None]:
        """The values of buckets ``first`` to ``first + count - 1`` (None: no sample)."""
        if len(self.values) > 2 * count:  # forget what scrolled out of the window
            self.values = {key: v for key, v in self.values.items() if key >= first}
        get = self.values.get
        return [get(first + x) for x in range(count)]


def columns(
    spec: GraphSpec, series: Series, dots: int, buckets: Buckets | None = None
) -> list[float | None]:
    """The value of each of ``dots`` columns (None: no sample there): the largest sample
    in it. ``buckets`` (of this series, at this resolution) is updated, not rebuilt."""
    width = spec.window / dots
    if buckets is None:
        buckets = Buckets(width, GAP_INTERVALS * spec.step)
    origin = math.floor(spec.now / width) - dots + 1  # the bucket of the first column
    buckets.feed(series.points, origin * width)
    return buckets.columns(origin, dots)


def peak_of(spec: GraphSpec) -> float | None:
    """The highest value in the window, over every series (None: nothing above zero)."""
    since = spec.now - spec.window
    values = [value for series in spec.series
              for _, value in series.points[bisect_right(series.points, since, key=TIME):]
              if value is not None]
    best = max(values, default=0.0)
    return best if best > 0 else None


def peak_column(columns_of: list[list[float | None]]) -> tuple[float, int] | None:
    """The highest column value over every series and its column (the latest of equal
    ones); None when nothing is above zero. From the columns, so the mark is where the
    picture has it."""
    best, where = 0.0, -1
    for values in columns_of:
        for x, value in enumerate(values):
            if value is not None and value >= best:
                best, where = value, x
    return (best, where) if best > 0 else None


def scale_top(spec: GraphSpec, peak: float) -> float:
    """The value at the top of the chart."""
    if spec.ceiling:
        return spec.ceiling
    wanted = max(spec.floor, peak)
    if spec.threshold is not None and spec.threshold <= STRETCH * wanted:
        wanted = max(wanted, spec.threshold)
    return nice_ceiling(wanted, binary=spec.unit != "percent")


class _Builder:
    """Text with styled spans, appended piece by piece (one Content at the end)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.offset = 0

    def add(self, text: str, style: str = "") -> None:
        if not text:
            return
        if style:
            last = self.spans[-1] if self.spans else None
            if last is not None and last.end == self.offset and last.style == style:
                self.spans[-1] = Span(last.start, self.offset + len(text), style)
            else:
                self.spans.append(Span(self.offset, self.offset + len(text), style))
        self.parts.append(text)
        self.offset += len(text)

    def content(self) -> Content:
        return Content("".join(self.parts), self.spans)


def _title(spec: GraphSpec, peak: float | None, top: float,
           width: int) -> tuple[tuple[str, str], ...]:
    pieces: list[tuple[str, str]] = [(spec.title, "bold")]
    for series in spec.series:
        value = series.points[-1][1] if series.points else None
        now = "-" if value is None else format_value(value, spec.unit)
        label = f"{series.label} " if series.label else ""
        pieces.append((f" {label}{now}", series.style))
    if spec.note:
        pieces.append((f" {spec.note}", MUTED))
    if spec.threshold is not None:  # before the peak: narrow charts cut the title's end
        above = " ↑ off the chart" if spec.threshold > top else ""
        pieces.append((f"  {THRESHOLD_CHAR} {spec.threshold_label}{above}", THRESHOLD_STYLE))
    if peak is not None:
        pieces.append((f"  {PEAK_CHAR} peak {format_value(peak, spec.unit)}", "$accent"))
    fitted: list[tuple[str, str]] = []
    room = width
    for text, style in pieces:
        if room <= 0:
            break
        fitted.append((text[:room], style))
        room -= len(text)
    return tuple(fitted)


@dataclass(frozen=True)
class Plan:
    """What a chart will show, cell for cell, before any text is built: two equal plans
    draw the same picture, so comparing plans (cheap) spares building Content (not)."""

    title: tuple[tuple[str, str], ...]
    plot_width: int = 0  # 0: the chart is too small for a plot, only the title shows
    rows: int = 0
    levels: tuple[tuple[int | None, ...], ...] = ()  # per series: a dot level per column
    styles: tuple[str, ...] = ()
    labels: tuple[tuple[int, str, str], ...] = ()  # scale labels: (row, text, style)
    threshold_row: int = -1
    peak_cell: tuple[int, int] = (-1, -1)  # (row, column) of the highest value
    axis: str = ""  # the time axis ("" when there is no room for it)


def plan_graph(spec: GraphSpec, width: int, height: int,
               cache: dict[tuple[Any, ...], Buckets] | None = None) -> Plan:
    """Lay out ``spec`` in ``width`` x ``height`` cells. ``cache`` keeps each series'
    buckets from one call to the next (see :class:`Buckets`)."""
    plot_width = width - GUTTER
    rows = height - 1 - (1 if height >= 4 else 0)
    if plot_width < 2 or rows < 1:
        peak_value = peak_of(spec)
        return Plan(_title(spec, peak_value, scale_top(spec, peak_value or 0.0), width))
    dots_x, dots_y = plot_width * 2, rows * 4

    columns_of: list[list[float | None]] = []
    for which, series in enumerate(spec.series):
        buckets = None
        if cache is not None:
            key = (spec.source, which, series.label, spec.window / dots_x, spec.step)
            if key not in cache and len(cache) >= CACHE_SIZE:
                cache.clear()  # resized, zoomed or another target: start over
            buckets = cache.setdefault(key, Buckets(key[3], GAP_INTERVALS * spec.step))
        columns_of.append(columns(spec, series, dots_x, buckets))
    peak = peak_column(columns_of)
    top = scale_top(spec, peak[0] if peak else 0.0)
    title = _title(spec, peak[0] if peak else None, top, width)
    scale = (dots_y - 1) / top
    levels = [
        tuple(None if value is None else min(dots_y - 1, max(0, round(value * scale)))
              for value in values)
        for values in columns_of
    ]

    labels = [(0, scale_label(top, spec.unit), MUTED),
              (rows - 1, scale_label(0.0, spec.unit), MUTED)]
    threshold_row = -1
    if spec.threshold is not None and 0 <= spec.threshold <= top:
        threshold_row = rows - 1 - min(dots_y - 1, round(spec.threshold * scale)) // 4
        if 0 < threshold_row < rows - 1:
            labels.append((threshold_row, scale_label(spec.threshold, spec.unit),
                           THRESHOLD_STYLE))
    peak_cell = (-1, -1)
    if peak is not None:
        peak_cell = (rows - 1 - min(dots_y - 1, round(peak[0] * scale)) // 4, peak[1] // 2)
    axis = ""
    if height >= 4:
        start = f"-{short_duration(spec.window)}"
        axis = "─" * plot_width
        if plot_width >= len(start) + 5:
            axis = start + axis[len(start) : -3] + "now"
    return Plan(title, plot_width, rows, tuple(levels),
                tuple(series.style for series in spec.series), tuple(labels), threshold_row,
                peak_cell, axis)


Line = tuple[tuple[str, str], ...]  # one line of a chart: (text, style) runs


def _clear_label_under(axis: str, column: int) -> str:
    """The axis with the time label that ``column`` falls in ("-10m", "now") drawn as a
    plain line, so the peak marker never leaves half a word ("no▲")."""
    labels = [(0, axis.find("─")), (axis.rfind("─") + 1, len(axis))]
    for start, end in labels:
        if 0 <= start <= column < end:
            return axis[:start] + "─" * (end - start) + axis[end:]
    return axis


def plan_lines(plan: Plan) -> list[Line]:
    """The chart's lines as styled runs: the title, the plot with its scale, the axis."""
    lines: list[Line] = [plan.title]
    rows, plot_width = plan.rows, plan.plot_width
    if not plot_width:
        return lines
    bits = [[0] * plot_width for _ in range(rows)]
    owner = [[-1] * plot_width for _ in range(rows)]
    for which, levels in enumerate(plan.levels):
        before: int | None = None
        for x, y in enumerate(levels):
            if y is None:
                before = None
                continue
            # A dot at the level, joined to the previous column's level by a vertical run.
            low, high = y, y
            if before is not None and before != y:
                low, high = (before + 1, y) if y > before else (y, before - 1)
            column, side = x >> 1, DOTS[x & 1]
            for up in range(low, high + 1):
                row = rows - 1 - (up >> 2)
                bits[row][column] |= side[3 - (up & 3)]
                if owner[row][column] < 0:
                    owner[row][column] = which
            before = y

    labels = {row: (text, style) for row, text, style in plan.labels}
    peak_row, peak_column = plan.peak_cell
    for row in range(rows):
        label, style = labels.get(row, ("", MUTED))
        line = [(f"{label[:LABEL_WIDTH]:>{LABEL_WIDTH}}", style), ("┤" if label else "│", MUTED)]
        empty = (THRESHOLD_CHAR, THRESHOLD_STYLE) if row == plan.threshold_row else (" ", "")
        cells = [
            (chr(BRAILLE + cell), plan.styles[which]) if cell else empty
            for cell, which in zip(bits[row], owner[row], strict=True)
        ]
        if row == peak_row and 0 <= peak_column < plot_width and bits[row][peak_column]:
            cells[peak_column] = (cells[peak_column][0], PEAK_STYLE)
        for style, run in groupby(cells, key=itemgetter(1)):  # one run per style change
            line.append(("".join(char for char, _ in run), style))
        lines.append(tuple(line))

    if plan.axis:
        axis = [(" " * LABEL_WIDTH + "└", MUTED)]
        if 0 <= peak_column < plot_width:
            text = _clear_label_under(plan.axis, peak_column)
            axis += [(text[:peak_column], MUTED), (PEAK_CHAR, "$accent"),
                     (text[peak_column + 1 :], MUTED)]
        else:
            axis.append((plan.axis, MUTED))
        lines.append(tuple(axis))
    return lines


def lines_content(lines: list[Line]) -> Content:
    """Lines of styled runs as one Content (tests, plain text, static use)."""
    out = _Builder()
    for index, line in enumerate(lines):
        if index:
            out.add("\n")
        for text, style in line:
            out.add(text, style)
    return out.content()


def draw_plan(plan: Plan) -> Content:
    """The chart of ``plan`` as Content: the title, the plot and scale, the time axis."""
    return lines_content(plan_lines(plan))


def render_graph(spec: GraphSpec, width: int, height: int,
                 cache: dict[tuple[Any, ...], Buckets] | None = None) -> Content:
    """The chart of ``spec`` in ``width`` x ``height`` cells: a title line, the plot with
    its scale, and (from four lines up) a time axis with the peak marked."""
    return draw_plan(plan_graph(spec, width, height, cache))
