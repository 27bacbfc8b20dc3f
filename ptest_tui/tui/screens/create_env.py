"""The create-environment dialog, with a live preview of the isolation level auto picks.

The preview calls :meth:`Session.spec_for` and :meth:`Session.select`, which only validate
and decide (no side effects, no I/O), so it is safe on every keystroke. Whether an engine
can run on this machine is checked once by the app in a worker and passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from ptest_tui.errors import PtestError
from ptest_tui.session import Session
from ptest_tui.validation import format_memory

PLACEHOLDER_NAME = "new-env"


@dataclass(frozen=True)
class CreateRequest:
    """What the dialog asks for; ``options`` use the ptest.toml keys."""

    name: str
    isolation: str = "auto"
    python: str = ""
    memory: str = ""
    cpus: str = ""

    def options(self) -> dict[str, Any]:
        """Keyword options for :meth:`Session.create_env` (empty fields left out).

        ``auto`` is left out too, so an env declared in ptest.toml keeps its declared
        level and the workspace default applies otherwise (the preview shows the result).
        """
        isolation = "" if self.isolation == "auto" else self.isolation
        values = {"isolation": isolation, "python": self.python,
                  "memory": self.memory, "cpus": self.cpus}
        return {key: value for key, value in values.items() if value}


def preview(
    session: Session, request: CreateRequest, unavailable: Mapping[str, str | None]
) -> tuple[bool, Content]:
    """Whether ``request`` is valid, and a line saying which level it gets and why."""
    try:
        spec = session.spec_for(request.name or PLACEHOLDER_NAME, **request.options())
        selection = session.select(spec)
    except PtestError as exc:
        hint = f"  ({exc.hint})" if exc.hint else ""
        return False, Content.assemble(("✖ ", "$error"), (exc.message, "$error"),
                                       (hint, "$foreground-muted"))
    parts: list[str | tuple[str, str]] = [
        ("→ ", "$accent"), (selection.level, "bold $accent"), ": ", selection.reason
    ]
    reason = unavailable.get(selection.level)
    if reason:
        parts += ["\n", ("⚠ ", "$warning"), (f"{selection.level} is unavailable: {reason}",
                                            "$warning")]
    if not request.name:
        return False, Content.assemble(*parts, "\n", ("Enter a name to create it.",
                                                      "$foreground-muted"))
    return True, Content.assemble(*parts)


class IsolationChoice(RadioSet):
    """A row of radio buttons where the arrow keys choose (no extra Space needed)."""

    # New keys, not overridden next/previous actions: RadioSet's own mount calls
    # action_next_button, and a toggle there switched the first button off and on again
    # before the set knew it was pressed, so it stayed lit beside the one chosen later.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,right", "choose(1)", "Next level", show=False),
        Binding("up,left", "choose(-1)", "Previous level", show=False),
    ]

    def action_choose(self, step: int) -> None:
        """Move right (1) or left (-1) and choose that level."""
        if step > 0:
            self.action_next_button()
        else:
            self.action_previous_button()
        self.action_toggle_button()


class CreateEnvScreen(ModalScreen[CreateRequest | None]):
    """Name, isolation level, Python and limits; Enter creates, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        name: str = "",
        unavailable: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.session = session
        self.initial_name = name
        self.unavailable: Mapping[str, str | None] = unavailable or {}
        self.levels = ["auto", *session.engines.names()]

    def compose(self) -> ComposeResult:
        """The form."""
        with Vertical(classes="dialog", id="create-dialog") as dialog:
            dialog.border_title = "Create environment"
            with Horizontal(classes="field"):
                yield Label("Name", classes="field-label")
                yield Input(self.initial_name, placeholder="e.g. unit", id="create-name",
                            compact=True)
            with Horizontal(classes="field"):
                yield Label("Isolation", classes="field-label")
                with IsolationChoice(id="create-isolation"):
                    for index, level in enumerate(self.levels):
                        yield RadioButton(level, value=index == 0, id=f"iso-{level}")
            with Horizontal(classes="field"):
                yield Label("Python", classes="field-label")
                yield Input(placeholder="3.11 or a path (empty: default)", id="create-python",
                            compact=True)
            with Horizontal(classes="field"):
                yield Label("Memory", classes="field-label")
                yield Input(placeholder="e.g. 512m (docker)", id="create-memory", compact=True)
            with Horizontal(classes="field"):
                yield Label("CPUs", classes="field-label")
                yield Input(placeholder="e.g. 1.5 (docker)", id="create-cpus", compact=True)
            yield Static(id="create-preview")
            yield Label(
                Content.assemble(("Enter", "bold $accent"), " create   ",
                                 ("Tab", "bold $accent"), " next field   ",
                                 ("←/→", "bold $accent"), " isolation   ",
                                 ("Esc", "bold $accent"), " cancel"),
                classes="dialog-keys",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create-ok", compact=True)
                yield Button("Cancel", id="create-cancel", compact=True)

    def on_mount(self) -> None:
        """Prefill a declared env's settings, focus the name and show the first preview."""
        self.prefill(self.session.config.envs.get(self.initial_name, {}))
        self.query_one("#create-name", Input).focus()
        self.update_preview()

    def prefill(self, declared: Mapping[str, Any]) -> None:
        """Show the settings an env declared in ptest.toml will get."""
        level = declared.get("isolation", "")
        if level in self.levels:
            self.query_one(f"#iso-{level}", RadioButton).value = True
        if declared.get("python"):
            self.query_one("#create-python", Input).value = str(declared["python"])
        if declared.get("memory"):
            self.query_one("#create-memory", Input).value = format_memory(declared["memory"])
        if declared.get("cpus"):
            self.query_one("#create-cpus", Input).value = f"{declared['cpus']:g}"

    def request(self) -> CreateRequest:
        """The request as currently typed."""
        pressed = self.query_one(IsolationChoice).pressed_button
        isolation = str(pressed.id or "iso-auto").removeprefix("iso-") if pressed else "auto"

        def value(field: str) -> str:
            return self.query_one(f"#create-{field}", Input).value.strip()

        return CreateRequest(value("name"), isolation, value("python"), value("memory"),
                             value("cpus"))

    def set_unavailable(self, unavailable: Mapping[str, str | None]) -> None:
        """Engine availability arrived (it is checked in the background)."""
        self.unavailable = unavailable
        self.update_preview()

    def update_preview(self) -> bool:
        """Refresh the preview line; returns whether the form is valid."""
        ok, content = preview(self.session, self.request(), self.unavailable)
        self.query_one("#create-preview", Static).update(content)
        return ok

    def on_input_changed(self, event: Input.Changed) -> None:
        """Live preview while typing."""
        self.update_preview()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """Live preview when the isolation level changes."""
        self.update_preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any field creates."""
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Create or Cancel."""
        event.stop()
        if event.button.id == "create-ok":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Dismiss with the request if it is valid; otherwise the preview says why."""
        if not self.update_preview():
            self.app.bell()
            if not self.request().name:
                self.query_one("#create-name", Input).focus()
            return
        self.dismiss(self.request())

    def action_cancel(self) -> None:
        """Esc closes without creating."""
        self.dismiss(None)
