"""The run-a-plan dialog: a batch plan file, read and checked before anything runs.

The plan is loaded and resolved against the workspace exactly as ``ptest-tui --batch``
does (:func:`ptest_tui.batch.load_plan` and :func:`ptest_tui.batch.resolve`), in a worker;
a bad plan keeps the dialog open with the reason. A good one closes it with a
:class:`PlanRequest` holding the checked plan, which the Results pane runs with
:meth:`Session.run_plan`, so the app's runs are the ones batch mode would make.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ptest_tui.errors import PtestError
from ptest_tui.session import Session

if TYPE_CHECKING:
    from ptest_tui.batch import BatchPlan


@dataclass(frozen=True)
class PlanRequest:
    """A checked plan to run; ``path`` as typed, ``plan`` loaded and resolved."""

    path: str
    plan: BatchPlan

    @property
    def name(self) -> str:
        """The plan's name (its ``[plan] name``, or the file name)."""
        return self.plan.settings.name or self.plan.path.stem


def plan_path(session: Session, text: str) -> Path:
    """A typed path; relative ones are taken from the workspace folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else session.workspace.root / path


def load_checked(session: Session, text: str) -> BatchPlan:
    """Read and check a plan (blocking): ConfigError and friends when it is bad."""
    from ptest_tui.batch import load_plan, resolve

    loaded = load_plan(plan_path(session, text))
    return resolve(session, loaded)


class PlanScreen(ModalScreen[PlanRequest | None]):
    """Ask for a plan file; Enter checks it (nothing runs while the dialog is open)."""

    DEFAULT_CSS = """
    PlanScreen {
        align: center middle;
        background: $background 60%;
    }
    PlanScreen #plan-dialog {
        width: 76;
        max-width: 95%;
        height: auto;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
        padding: 1 2;
    }
    PlanScreen #plan-path {
        width: 1fr;
        background: $panel;
    }
    PlanScreen #plan-error {
        height: auto;
        margin-top: 1;
    }
    PlanScreen .plan-keys {
        color: $foreground-muted;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, session: Session, last: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.session = session
        self.last = last
        self.checking = False

    def compose(self) -> ComposeResult:
        """The path field and a line for problems."""
        with Vertical(classes="dialog", id="plan-dialog") as dialog:
            dialog.border_title = "Run a plan"
            yield Input(self.last, placeholder="plan file, e.g. ci/plan.toml (from the workspace)",
                        id="plan-path", compact=True)
            yield Static("", id="plan-error")
            yield Label(
                Content.assemble(("Enter", "bold $accent"), " check and run (as --batch)   ",
                                 ("Esc", "bold $accent"), " cancel"),
                classes="plan-keys",
            )

    def on_mount(self) -> None:
        """Focus the path, the previous one selected for overtyping."""
        field = self.query_one("#plan-path", Input)
        field.focus()
        if self.last:
            field.select_all()

    def on_input_changed(self, event: Input.Changed) -> None:
        """A new path: the old problem no longer applies."""
        if not self.checking:
            self.query_one("#plan-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Check the plan in a worker."""
        event.stop()
        text = event.value.strip()
        if self.checking:
            return
        if not text:
            self._error("type the path of a plan file", "see docs/batch.md")
            return
        self.checking = True
        self.query_one("#plan-error", Static).update(Content.styled("checking…",
                                                                    "$foreground-muted"))
        self._check(text)

    @work(thread=True, exclusive=True, group="plan-dialog-check", exit_on_error=False)
    def _check(self, text: str) -> None:
        try:
            plan = load_checked(self.session, text)
        except PtestError as exc:
            self.app.call_from_thread(self._checked, text, None, exc)
            return
        except Exception as exc:  # an engine bug: keep the dialog, show what happened
            self.app.call_from_thread(self._checked, text, None, PtestError(str(exc)))
            return
        self.app.call_from_thread(self._checked, text, plan, None)

    def _checked(self, text: str, plan: BatchPlan | None, error: PtestError | None) -> None:
        self.checking = False
        if not self.is_attached:
            return
        if error is not None or plan is None:
            problem = error or PtestError("the plan could not be read")
            self._error(problem.message, problem.hint)
            self.app.bell()
            return
        self.dismiss(PlanRequest(text, plan))

    def _error(self, message: str, hint: str = "") -> None:
        self.query_one("#plan-error", Static).update(Content.assemble(
            ("✖ ", "$error"), (message, "$error"),
            (f"  ({hint})" if hint else "", "$foreground-muted")))

    def action_cancel(self) -> None:
        """Esc closes without running anything."""
        self.dismiss(None)
