"""The run-command dialog: one command line, split like a shell would, never run by one."""

from __future__ import annotations

import shlex
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


def split_command(line: str) -> list[str]:
    """Split ``line`` into an argument list (ValueError for unbalanced quotes)."""
    return shlex.split(line)


class RunCommandScreen(ModalScreen[list[str] | None]):
    """Ask for a command to run in ``env``; dismisses with its argument list or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, env: str, last: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.env = env
        self.last = last

    def compose(self) -> ComposeResult:
        """Prompt, input and a line for problems."""
        with Vertical(classes="dialog", id="run-dialog") as dialog:
            dialog.border_title = f"Run a command in {self.env}"
            yield Input(self.last, placeholder="e.g. python -m pytest -q", id="run-command",
                        compact=True)
            yield Static("", id="run-error")
            yield Label(
                Content.assemble(
                    ("Enter", "bold $accent"), " run (output goes to the log pane)   ",
                    ("Esc", "bold $accent"), " cancel",
                ),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        """Focus the command line, with any previous command selected for overtyping."""
        field = self.query_one("#run-command", Input)
        field.focus()
        if self.last:
            field.select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Split the line; report quoting mistakes instead of guessing."""
        event.stop()
        error = self.query_one("#run-error", Static)
        try:
            argv = split_command(event.value)
        except ValueError as exc:
            error.update(Content.styled(f"✖ {exc}: check the quotes", "$error"))
            return
        if not argv:
            error.update(Content.styled("✖ type a command, e.g. python --version", "$error"))
            return
        self.dismiss(argv)

    def action_cancel(self) -> None:
        """Esc closes without running anything."""
        self.dismiss(None)
