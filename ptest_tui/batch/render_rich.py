"""Batch output on a terminal: a progress bar per running step and a summary table.

Running steps each have a line: a bar for the cases of a run step or the packages of an env
or install step (a pulsing bar while the total is unknown). A finished step leaves its line
and is printed above the bars with its status, so the live area stays the size of what
runs now; failing cases are printed above as they happen. rich is imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from ptest_tui.batch.render import Renderer, detail_lines, summary_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from ptest_tui.batch.model import BatchOutcome
    from ptest_tui.events import Event
    from ptest_tui.session import Session

STYLES = {"passed": "green", "failed": "red", "error": "bold red", "skipped": "yellow",
          "cancelled": "magenta"}


class RichRenderer(Renderer):
    """Progress bars while the plan runs, a table at the end."""

    def __init__(self, out: TextIO, console: Console | None = None) -> None:
        super().__init__(out)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console or Console(file=out)
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[detail]}"),
            console=self.console, transient=True,
        )
        self.tasks: dict[str, TaskID] = {}

    def start(self, session: Session) -> None:
        super().start(session)
        self.progress.start()

    def on_event(self, event: Event) -> None:
        data: dict[str, Any] = event.to_dict()
        kind = event.kind
        if kind == "step_started":
            label = f"[bold]{data['step']}[/] [dim]{data['step_kind']}[/]"
            self.tasks[data["step"]] = self.progress.add_task(
                label, total=None, detail=data["target"]
            )
        elif kind == "step_progress" and data["step"] in self.tasks:
            self.progress.update(
                self.tasks[data["step"]], total=data["total"] or None, completed=data["done"],
                detail=data["detail"],
            )
        elif kind == "step_finished":
            task = self.tasks.pop(data["step"], None)
            if task is not None:
                self.progress.remove_task(task)
            style = STYLES.get(data["status"], "")
            message = f" {data['message']}" if data["message"] else ""
            self.progress.console.print(
                f"[{style}]{data['status']:<9}[/] [bold]{data['step']}[/]"
                f" [dim]{data['seconds']:.2f} s[/]{_escape(message)}", highlight=False,
            )
        elif kind in ("monitor_alert", "config_reload_failed"):
            prefix = "config not reloaded: " if kind == "config_reload_failed" else ""
            self.progress.console.print(
                f"[yellow]WARNING[/] {_escape(prefix + data['message'])}", highlight=False
            )
        elif kind == "case_finished" and data["status"] in ("failed", "error"):
            why = f": {data['message']}" if data["message"] else ""
            label = f"{data['suite']}[{data['env']}] {data['case']}{why}"
            self.progress.console.print(
                f"  [red]{data['status'].upper()}[/] {_escape(label)}", highlight=False
            )

    def stop(self) -> None:
        super().stop()
        self.progress.stop()

    def finish(self, outcome: BatchOutcome) -> None:
        from rich.table import Table

        table = Table(title=f"plan {outcome.plan}", header_style="bold")
        for header in ("step", "kind", "status", "seconds", "detail"):
            table.add_column(header, justify="right" if header == "seconds" else "left")
        for result in outcome.steps:
            style = STYLES.get(result.status, "")
            table.add_row(result.id, result.kind, f"[{style}]{result.status}[/]",
                          f"{result.seconds:.2f}", _escape(result.message))
        self.console.print(table)
        for line in detail_lines(outcome):
            self.console.print(line, markup=False, highlight=False)
        style = STYLES.get(outcome.status, "")
        self.console.print(f"[{style}]{_escape(summary_line(outcome))}[/]", highlight=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
