"""The install dialog: requirements for one environment, checked before anything runs.

Requirements are typed space-separated (quotes keep a requirement with spaces together,
e.g. ``"attrs >= 23"``) and each is validated with
:func:`ptest_tui.validation.validate_requirement` on every keystroke; Enter is refused, with
the reason shown inline, until all of them parse. The dialog only asks: the pane that opened
it runs the install in a worker.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from ptest_tui.errors import PtestError, UsageError
from ptest_tui.validation import validate_requirement


@dataclass(frozen=True)
class InstallRequest:
    """What to install into which environment, and whether installed packages may move."""

    env: str
    requirements: tuple[str, ...]
    upgrade: bool = False

    @property
    def text(self) -> str:
        """The requirements as one line (to prefill the dialog next time)."""
        return shlex.join(self.requirements)


def parse_requirements(line: str) -> tuple[str, ...]:
    """Split ``line`` into requirements and validate each; UsageError for the first bad one."""
    try:
        parts = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{exc}", "check the quotes") from None
    if not parts:
        raise UsageError("no packages given", "type one or more requirements, e.g. attrs>=23")
    for part in parts:
        validate_requirement(part)
    return tuple(parts)


class InstallScreen(ModalScreen[InstallRequest | None]):
    """Ask for requirements to install into ``env``; dismisses with an InstallRequest or None."""

    DEFAULT_CSS = """
    InstallScreen {
        align: center middle;
        background: $background 60%;
    }
    InstallScreen #install-dialog {
        width: 76;
        max-width: 95%;
        height: auto;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    InstallScreen #install-requirements {
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    InstallScreen #install-requirements:focus {
        background: $primary 25%;
    }
    InstallScreen #install-upgrade {
        margin-top: 1;
    }
    InstallScreen #install-error {
        height: auto;
        min-height: 1;
        margin-top: 1;
    }
    InstallScreen .install-keys {
        color: $foreground-muted;
        margin-top: 1;
    }
    InstallScreen .install-buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    InstallScreen .install-buttons Button {
        margin-left: 2;
        min-width: 10;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, env: str, last: str = "", upgrade: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.env = env
        self.last = last
        self.initial_upgrade = upgrade

    def compose(self) -> ComposeResult:
        """Requirements, the upgrade switch, the problem line and the keys."""
        with Vertical(classes="dialog", id="install-dialog") as dialog:
            dialog.border_title = f"Install packages into {self.env}"
            yield Input(self.last, placeholder="e.g. attrs>=23 'requests[socks]'",
                        id="install-requirements", compact=True)
            yield Checkbox("Upgrade: let installed packages move to newer versions",
                           self.initial_upgrade, id="install-upgrade", compact=True)
            yield Static("", id="install-error")
            yield Label(
                Content.assemble(
                    ("Enter", "bold $accent"), " install   ",
                    ("Tab", "bold $accent"), " then ", ("Space", "bold $accent"),
                    " upgrade   ",
                    ("Esc", "bold $accent"), " cancel",
                ),
                classes="install-keys",
            )
            with Horizontal(classes="install-buttons"):
                yield Button("Install", variant="primary", id="install-ok", compact=True)
                yield Button("Cancel", id="install-cancel", compact=True)

    def on_mount(self) -> None:
        """Focus the requirements, any previous ones selected for overtyping."""
        field = self.query_one("#install-requirements", Input)
        field.focus()
        if self.last:
            field.select_all()

    @property
    def error_text(self) -> str:
        """The problem line as plain text (tests, screen readers)."""
        return str(self.query_one("#install-error", Static).render()).strip()

    def request(self) -> InstallRequest:
        """The request as typed (UsageError if a requirement does not parse)."""
        line = self.query_one("#install-requirements", Input).value
        upgrade = self.query_one("#install-upgrade", Checkbox).value
        return InstallRequest(self.env, parse_requirements(line), upgrade)

    def check(self, *, quiet_when_empty: bool) -> InstallRequest | None:
        """Validate; show the first problem inline and return None, or the request."""
        error = self.query_one("#install-error", Static)
        try:
            request = self.request()
        except PtestError as exc:
            empty = not self.query_one("#install-requirements", Input).value.strip()
            if empty and quiet_when_empty:
                error.update("")
            else:
                hint = f"  ({exc.hint})" if exc.hint else ""
                error.update(Content.assemble(("✖ ", "$error"), (exc.message, "$error"),
                                              (hint, "$foreground-muted")))
            return None
        count = len(request.requirements)
        noun = "requirement" if count == 1 else "requirements"
        error.update(Content.styled(f"✔ {count} {noun}", "$success"))
        return request

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate while typing (an empty field is not an error yet)."""
        self.check(quiet_when_empty=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter installs, if every requirement is valid."""
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Install or Cancel."""
        event.stop()
        if event.button.id == "install-ok":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Dismiss with the request; on a problem stay open and say why."""
        request = self.check(quiet_when_empty=False)
        if request is None:
            self.app.bell()
            self.query_one("#install-requirements", Input).focus()
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        """Esc closes without installing anything."""
        self.dismiss(None)
