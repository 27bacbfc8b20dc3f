"""Labels of the Results tree: status icons, names, counts and times as Rich text.

Tree labels are Rich text, so theme variables are resolved to colors here (and again after
a theme change). A case's label depends only on its result, a value, so it is made once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from rich.text import Text

from ptest_tui.tui.style import clock
from ptest_tui.tui.widgets.results_model import (
    RUNNING,
    ResultRow,
    Running,
    RunState,
    counts_text,
    outcome_look,
    worst,
)

MESSAGE_WIDTH = 72  # characters of a failure message shown in a case's label


DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=65536)
def natural(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key that puts ``test[7]`` before ``test[47]`` (cached: names repeat a lot)."""
    return tuple((int(part), "") if part.isdigit() else (0, part)
                 for part in DIGITS.split(text))


def format_seconds(seconds: float) -> str:
    """``12 ms``, ``3.4 s``, ``2 m 05 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} m {rest:02d} s"


def shorten(text: str, width: int) -> str:
    """The first line of ``text``, cut to ``width`` characters."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


class Labels:
    """Makes the labels, with colors of the current theme."""

    def __init__(self, resolve: Callable[[str], str]) -> None:
        """``resolve`` turns a theme variable into a color (``style.theme_color``)."""
        self.resolve = resolve
        self._colors: dict[str, str] = {}
        self._case_labels: dict[ResultRow, Text] = {}  # rows are values: labels reused

    def color(self, variable: str) -> str:
        """A theme variable as a Rich color (cached until the theme changes)."""
        if variable not in self._colors:
            self._colors[variable] = self.resolve(variable)
        return self._colors[variable]

    def theme_changed(self) -> None:
        """Forget resolved colors and cached labels."""
        self._colors.clear()
        self._case_labels.clear()

    def _icon(self, status: str) -> tuple[str, str]:
        look = outcome_look(status)
        return (look.icon + " ", self.color(look.variable))

    def _counts(self, counts: Mapping[str, int]) -> list[str | tuple[str, str]]:
        parts: list[str | tuple[str, str]] = []
        for index, (text, variable) in enumerate(counts_text(counts)):
            if index:
                parts.append((" · ", self.color("foreground-muted")))
            parts.append((text, self.color(variable)))
        return parts

    def run_label(self, run: RunState) -> Text:
        """``✖ run 3  failed  1 passed · 1 failed   12:00:00 · 0.4 s · api``."""
        record = run.record
        muted = self.color("foreground-muted")
        status = record.status
        look = outcome_look(status)
        tail = [clock(record.started_at)]
        if not run.live:
            tail.append(format_seconds(record.duration))
        if record.selection:
            tail.append(shorten(", ".join(record.selection), 40))
        return Text.assemble(
            self._icon(status), (f"run {record.id}", "bold"), "  ",
            (status, self.color(look.variable)), "  ", *self._counts(run.counts()),
            ("   " + " · ".join(tail), muted),
        )

    def group_label(self, name: str, counts: Mapping[str, int], running: int) -> Text:
        """An env or suite: its worst status, name and counts (of shown outcomes)."""
        statuses = [status for status, count in counts.items() if count]
        statuses += [RUNNING] * bool(running)
        parts = self._counts(counts)
        if running:
            parts += [("  ", ""), (f"{running} running", self.color("accent"))]
        return Text.assemble(self._icon(worst(statuses)), (name, "bold"), "  ", *parts)

    def case_label(self, row: ResultRow) -> Text:
        """``✖ bad  12 ms  exit code: expected 0, got 1``."""
        label = self._case_labels.get(row)
        if label is None:
            muted = self.color("foreground-muted")
            label = Text.assemble(self._icon(row.shown), row.case, "  ",
                                  (format_seconds(row.duration), muted))
            if row.attempts > 1:
                label.append(f"  {row.attempts} attempts", muted)
            if row.message and row.status not in ("passed", "xpassed"):
                label.append("  " + shorten(row.message, MESSAGE_WIDTH),
                             self.color(outcome_look(row.shown).variable))
            self._case_labels[row] = label
        return label

    def running_label(self, item: Running) -> Text:
        """``◐ slow  running``."""
        attempt = f" (attempt {item.attempt})" if item.attempt > 1 else ""
        return Text.assemble(self._icon(RUNNING), item.case, "  ",
                             (f"running{attempt}", self.color("accent")))
