"""The run dialog: which suites, in which envs, how many at once, stop at the first failure.

Nothing runs from here. On Enter the request is checked with :meth:`Session.plan_run`
(names, envs, objects and case settings, exactly as a run checks them) in a worker; a
problem is shown in the dialog and it stays open; a valid request closes the dialog with
a :class:`RunRequest` for the Results pane to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from ptest_tui.errors import PtestError
from ptest_tui.runs.runner import RunOptions
from ptest_tui.session import Session
from ptest_tui.tui.widgets.vim_keys import VIM_UP_DOWN

LIST_HEIGHT = 7  # rows of each list before it scrolls


@dataclass(frozen=True)
class RunRequest:
    """A run to start: ``selection`` of suites (empty: all), ``envs`` instead of the
    suites' own (empty: theirs), or ``rerun_failed`` naming a run whose failures to rerun."""

    selection: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()
    parallel: int = 0  # 0: from the CPU count
    fail_fast: bool = False
    rerun_failed: str | None = None

    def options(self) -> RunOptions:
        """The runner options."""
        return RunOptions(parallel=self.parallel, fail_fast=self.fail_fast)

    def describe(self) -> str:
        """``api, smoke in unit`` / ``every suite`` / ``the failures of run 3``."""
        if self.rerun_failed is not None:
            return f"the failures of run {self.rerun_failed}"
        what = ", ".join(self.selection) or "every suite"
        return what + (f" in {', '.join(self.envs)}" if self.envs else "")


def check(session: Session, request: RunRequest) -> str:
    """Plan ``request`` without running it (blocking); returns a one-line summary."""
    plan = session.plan_run(request.selection, envs=request.envs,
                            rerun_failed=request.rerun_failed)
    units = ", ".join(unit.label for unit in plan.units)
    cases = sum(len(unit.cases) for unit in plan.units)
    return f"{cases} case(s) in {units}"


class Choices(SelectionList[str]):
    """A checklist where Space toggles, Enter submits the dialog and j/k move."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.submit", "Run", show=False),
        *VIM_UP_DOWN,
    ]


class RunScreen(ModalScreen[RunRequest | None]):
    """Choose suites, envs, parallelism and fail-fast; Enter checks and runs, Esc cancels."""

    DEFAULT_CSS = """
    RunScreen {
        align: center middle;
        background: $background 60%;
    }
    RunScreen #runs-dialog {
        width: 80;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
        padding: 1 2;
    }
    RunScreen .runs-caption {
        color: $foreground-muted;
        height: 1;
    }
    RunScreen Choices {
        height: auto;
        max-height: 7;
        margin-bottom: 1;
        border: none;
        padding: 0;
        background: $panel;
    }
    RunScreen Choices:focus {
        border: none;
        background: $primary 15%;
    }
    RunScreen .runs-field {
        height: 1;
        margin-bottom: 1;
    }
    RunScreen .runs-label {
        width: 14;
        color: $foreground-muted;
    }
    RunScreen #runs-parallel {
        width: 12;
    }
    RunScreen #runs-fail-fast {
        border: none;
        padding: 0;
        height: 1;
        background: transparent;
    }
    RunScreen #runs-preview, RunScreen #runs-error {
        height: auto;
    }
    RunScreen .runs-keys {
        color: $foreground-muted;
        margin-top: 1;
    }
    RunScreen .runs-buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    RunScreen .runs-buttons Button {
        margin-left: 2;
        min-width: 10;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "submit", "Run", show=False),
    ]

    def __init__(self, session: Session, *, envs: Sequence[str] = (),
                 last: RunRequest | None = None) -> None:
        """``envs``: the envs to offer (stored and declared); ``last`` prefills the form."""
        super().__init__(classes="dialog-screen")
        self.session = session
        self.env_names = list(envs)
        self.last = last or RunRequest()
        self.checking = False

    def compose(self) -> ComposeResult:
        """Suites, envs, parallelism, fail-fast, the preview and the buttons."""
        from ptest_tui.runs.plan import load_suites

        try:
            suites = load_suites(self.session)
            problem = ""
        except PtestError as exc:  # a broken suite table: say so, offer nothing to run
            suites, problem = {}, exc.one_line()
        with Vertical(classes="dialog", id="runs-dialog") as dialog:
            dialog.border_title = "Run suites"
            yield Label("Suites (none checked: every suite)", classes="runs-caption")
            yield Choices(*[
                Selection(self._suite_prompt(name, spec.description, spec.envs), name,
                          name in self.last.selection)
                for name, spec in suites.items()
            ], id="runs-suites")
            yield Label("Envs (none checked: each suite's own)", classes="runs-caption")
            yield Choices(*[Selection(name, name, name in self.last.envs)
                            for name in self.env_names], id="runs-envs")
            with Horizontal(classes="runs-field"):
                yield Label("Parallel", classes="runs-label")
                yield Input(str(self.last.parallel or ""), placeholder="CPUs",
                            type="integer", id="runs-parallel", compact=True)
                yield Checkbox("stop at the first failure", self.last.fail_fast,
                               id="runs-fail-fast", compact=True)
            yield Static(id="runs-preview")
            yield Static(Content.styled(f"✖ {problem}", "$error") if problem else "",
                         id="runs-error")
            yield Label(
                Content.assemble(("Space", "bold $accent"), " choose   ",
                                 ("Enter", "bold $accent"), " run   ",
                                 ("Tab", "bold $accent"), " next   ",
                                 ("Esc", "bold $accent"), " cancel"),
                classes="runs-keys",
            )
            with Horizontal(classes="runs-buttons"):
                yield Button("Run", variant="primary", id="runs-ok", compact=True)
                yield Button("Cancel", id="runs-cancel", compact=True)

    @staticmethod
    def _suite_prompt(name: str, description: str, envs: Sequence[str]) -> Content:
        where = f"  in {', '.join(envs)}" if envs else ""
        about = f"  {description}" if description else ""
        return Content.assemble((name, "bold"), (where, "$accent"), (about, "$foreground-muted"))

    def on_mount(self) -> None:
        """Focus the suites and show what would run."""
        self.query_one("#runs-suites", Choices).focus()
        self.update_preview()

    # -- the request --------------------------------------------------------------------

    def request(self) -> RunRequest:
        """The request as currently chosen (parallel: 0 when empty or not a number)."""
        suites = tuple(self.query_one("#runs-suites", Choices).selected)
        envs = tuple(self.query_one("#runs-envs", Choices).selected)
        text = self.query_one("#runs-parallel", Input).value.strip()
        parallel = int(text) if text.lstrip("-").isdigit() else 0
        fail_fast = self.query_one("#runs-fail-fast", Checkbox).value
        return RunRequest(suites, envs, parallel, fail_fast)

    def problem(self) -> str:
        """A form problem found without asking the engine ("" if none)."""
        text = self.query_one("#runs-parallel", Input).value.strip()
        if text and (not text.lstrip("-").isdigit() or int(text) < 1):
            return "parallel must be a whole number of at least 1 (empty: the CPU count)"
        return ""

    def update_preview(self) -> None:
        """One line saying what Enter would run."""
        request = self.request()
        parts: list[str | tuple[str, str]] = [("→ ", "$accent"), request.describe()]
        parts.append(f" · {request.parallel} at once" if request.parallel
                     else " · as many at once as CPUs")
        if request.fail_fast:
            parts.append(" · fail-fast")
        self.query_one("#runs-preview", Static).update(Content.assemble(*parts))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        """Live preview."""
        self._clear_error()
        self.update_preview()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Live preview."""
        self._clear_error()
        self.update_preview()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        """Live preview."""
        self.update_preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the parallel field runs."""
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Run or Cancel."""
        event.stop()
        if event.button.id == "runs-ok":
            self.action_submit()
        else:
            self.dismiss(None)

    def _clear_error(self) -> None:
        if not self.checking:
            self.query_one("#runs-error", Static).update("")

    def _error(self, message: str, hint: str = "") -> None:
        self.query_one("#runs-error", Static).update(Content.assemble(
            ("✖ ", "$error"), (message, "$error"),
            (f"  ({hint})" if hint else "", "$foreground-muted")))

    # -- actions ------------------------------------------------------------------------

    def action_submit(self) -> None:
        """Check the request with the engine (in a worker); close with it if it is valid."""
        if self.checking:
            return
        problem = self.problem()
        if problem:
            self._error(problem)
            self.app.bell()
            return
        self.checking = True
        self.query_one("#runs-error", Static).update(
            Content.styled("checking…", "$foreground-muted"))
        self._check(self.request())

    @work(thread=True, exclusive=True, group="run-dialog-check", exit_on_error=False)
    def _check(self, request: RunRequest) -> None:
        try:
            check(self.session, request)
        except PtestError as exc:
            self.app.call_from_thread(self._checked, request, exc)
            return
        except Exception as exc:  # an engine bug: keep the dialog, show what happened
            self.app.call_from_thread(self._checked, request, PtestError(str(exc)))
            return
        self.app.call_from_thread(self._checked, request, None)

    def _checked(self, request: RunRequest, error: PtestError | None) -> None:
        self.checking = False
        if not self.is_attached:
            return  # closed meanwhile
        if error is not None:
            self._error(error.message, error.hint or "")
            self.app.bell()
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        """Esc closes without running anything."""
        self.dismiss(None)
