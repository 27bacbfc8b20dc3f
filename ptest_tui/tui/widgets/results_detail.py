"""The detail area of the Results pane: the selected run, group or case, with its output.

It only renders values it is given; the pane loads a case's output from the history in a
worker and passes it in. Text uses theme variables (Textual ``Content``), so it follows
theme changes by itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content

from ptest_tui.runs.model import CaseResult
from ptest_tui.tui.style import stamp
from ptest_tui.tui.widgets.results_labels import format_seconds
from ptest_tui.tui.widgets.results_model import (
    ResultRow,
    Running,
    RunState,
    counts_text,
    outcome_look,
)
from ptest_tui.tui.widgets.text_box import TextBox

MUTED = "$foreground-muted"
MAX_OUTPUT_LINES = 1000  # per stream; the newest lines are the useful ones
HINT = "Select a run or a case: its results, failure and output show here."


def _plain(text: str) -> str:
    # Tools color their output; the escape codes would show as garbage in a Content.
    return Text.from_ansi(text).plain if "\x1b" in text else text


def _tail(text: str) -> tuple[str, int]:
    lines = _plain(text).rstrip("\n").splitlines()
    if len(lines) <= MAX_OUTPUT_LINES:
        return "\n".join(lines), 0
    return "\n".join(lines[-MAX_OUTPUT_LINES:]), len(lines) - MAX_OUTPUT_LINES


def _heading(text: str) -> Content:
    return Content.styled(text, "bold $primary")


def _counts(counts: dict[str, int]) -> Content:
    parts: list[Content] = [Content.styled(text, f"${variable}")
                            for text, variable in counts_text(counts)]
    return Content(" · ").join(parts) if parts else Content.styled("no results yet", MUTED)


def _status(status: str) -> Content:
    look = outcome_look(status)
    return Content.styled(f"{look.icon} {status}", f"bold ${look.variable}")


class ResultDetail(VerticalScroll):
    """A scrolling view of one run, env, suite or case."""

    def compose(self) -> ComposeResult:
        """One Static holds the text."""
        yield TextBox(Content.styled(HINT, MUTED), id="results-detail-body")

    @property
    def body(self) -> TextBox:
        """The text widget."""
        return self.query_one("#results-detail-body", TextBox)

    @property
    def text(self) -> str:
        """The plain text shown (tests)."""
        return str(self.body.content)

    def _show(self, *lines: Content | str) -> None:
        self.body.show(Content("\n").join(
            line if isinstance(line, Content) else Content(line) for line in lines))

    def show_hint(self, text: str = HINT) -> None:
        """Nothing selected."""
        self._show(Content.styled(text, MUTED))

    def show_run(self, run: RunState) -> None:
        """A run: what was asked, how it ended, its counts and the keys that act on it."""
        record = run.record
        took = "running" if run.live else format_seconds(record.duration)
        lines: list[Content | str] = [
            Content.assemble(("Run ", "bold"), (record.id, "bold"), "  ",
                             _status(record.status)),
            Content.assemble(("started  ", MUTED), stamp(record.started_at),
                             (f"  ({took})", MUTED)),
            Content.assemble(("asked    ", MUTED),
                             ", ".join(record.selection) or "every suite"),
        ]
        if record.envs:
            lines.append(Content.assemble(("envs     ", MUTED), ", ".join(record.envs)))
        lines.append(Content.assemble(("results  ", MUTED), _counts(run.counts())))
        if record.message:
            variable = outcome_look(record.status).variable
            lines.append(Content.assemble(("note     ", MUTED), (record.message, f"${variable}")))
        lines += ["", Content.assemble(("F", "bold $accent"), " rerun what failed   ",
                                       ("h", "bold $accent"), " open the HTML report")]
        self._show(*lines)

    def show_group(self, kind: str, name: str, run_id: str, rows: Sequence[ResultRow],
                   running: int) -> None:
        """An env or a suite of a run: counts, and its cases that did not pass."""
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.shown] = counts.get(row.shown, 0) + 1
        lines: list[Content | str] = [
            Content.assemble((f"{kind.title()} ", "bold"), (name, "bold"),
                             (f"  in run {run_id}", MUTED)),
            Content.assemble(("results  ", MUTED), _counts(counts)),
        ]
        if running:
            lines.append(Content.styled(f"{running} running", "$accent"))
        bad = [row for row in rows if row.status in ("failed", "error")]
        if bad:
            lines += ["", _heading("Not passed")]
            for row in bad[:50]:
                look = outcome_look(row.shown)
                first = row.message.strip().splitlines()[0] if row.message.strip() else ""
                lines.append(Content.assemble((f"{look.icon} ", f"${look.variable}"),
                                              f"{row.suite}/{row.case}  ", (first, MUTED)))
        self._show(*lines)

    def show_running(self, run_id: str, item: Running) -> None:
        """A case that has started and not finished."""
        attempt = f" (attempt {item.attempt})" if item.attempt > 1 else ""
        self._show(
            Content.assemble((item.case, "bold"), "  ", _status("running"),
                             (attempt, MUTED)),
            Content.styled(f"suite {item.suite} · env {item.env} · run {run_id}", MUTED),
        )

    def show_case(self, run_id: str, row: ResultRow, full: CaseResult | None,
                  loading: bool = False, note: str = "") -> None:
        """A result: status, where, how long; the failure message; stdout and stderr."""
        kind = f" · {full.kind}" if full is not None else ""
        attempts = f" · {row.attempts} attempts" if row.attempts > 1 else ""
        lines: list[Content | str] = [
            Content.assemble((row.case, "bold"), "  ", _status(row.shown)),
            Content.styled(
                f"suite {row.suite} · env {row.env} · run {run_id}{kind} · "
                f"{format_seconds(row.duration)}{attempts}", MUTED),
        ]
        if row.parent and row.parent != row.case:
            lines.append(Content.styled(f"case {row.parent}", MUTED))
        message = full.message if full is not None and full.message else row.message
        if message:
            variable = outcome_look(row.shown).variable
            lines += ["", _heading("Failure" if row.status in ("failed", "error")
                                   else "Message"),
                      Content.styled(_plain(message).rstrip(), f"${variable}")]
        if loading or note:
            lines += ["", Content.styled(note or "loading output…", MUTED)]
        elif full is not None:
            for name, text in (("stdout", full.stdout), ("stderr", full.stderr)):
                lines += ["", _heading(name)]
                shown, dropped = _tail(text)
                if dropped:
                    lines.append(Content.styled(f"… {dropped} earlier lines not shown", MUTED))
                lines.append(Content(shown) if shown else Content.styled("(empty)", MUTED))
        self._show(*lines)
