"""No workspace here: offer to create a starter ptest.toml, then open the app on it.

``ptest-tui`` in a terminal, in a folder without ptest.toml (or ``[tool.ptest]``) anywhere
above it, shows :class:`InitWorkspaceScreen` in a small app of its own
(:class:`InitWorkspaceApp`) before the main app exists: the main app needs a workspace to
start. ``y`` or Enter writes the same starter ``ptest-tui init`` writes (the ``minimal``
template, validated, written atomically) and the app exits with the path, so the CLI can
open the main app on it; ``n``, Esc or ``q`` quit and write nothing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Label, Static

from ptest_tui.config.templates import DEFAULT_TEMPLATE, template_text, write_template
from ptest_tui.errors import PtestError
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes

APP_CSS = Path(__file__).resolve().parent.parent / "app.tcss"


class InitWorkspaceScreen(Screen[Path | None]):
    """Explain that ``folder`` has no ptest.toml and offer to write a starter one."""

    DEFAULT_CSS = """
    InitWorkspaceScreen {
        align: center middle;
    }
    #init-dialog {
        width: 84;
        max-width: 100%;
        height: 90%;  /* the preview takes what the text and buttons leave */
        max-height: 100%;
    }
    #init-preview {
        height: 1fr;
        min-height: 3;
        margin-top: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground-muted;
    }
    #init-error {
        height: auto;
        margin-top: 1;
        color: $error;
        display: none;  /* until something goes wrong */
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "create", "Create ptest.toml"),
        Binding("n,escape,q", "quit_init", "Quit without creating anything"),
    ]

    def __init__(self, folder: Path, template: str = DEFAULT_TEMPLATE) -> None:
        super().__init__()
        self.folder = folder
        self.template = template
        self.text = template_text(template)

    def compose(self) -> ComposeResult:
        """What is missing, what would be written, and the two choices."""
        with Vertical(classes="dialog", id="init-dialog") as dialog:
            dialog.border_title = "No workspace here"
            yield Static(
                Content.assemble(
                    "No ptest.toml was found in ", (str(self.folder), "bold"),
                    " or any folder above it.\n\nCreate a starter ptest.toml here? It is "
                    "the file `ptest-tui init` writes: commented, valid as written, and it "
                    f"declares {declared_envs(self.text)}, listed in the app as declared; "
                    "each is created only when you ask (c in the app).",
                ),
                id="init-body",
            )
            with VerticalScroll(id="init-preview"):
                yield Static(self.text, markup=False)
            yield Static("", id="init-error")
            yield Label(
                Content.assemble(("y", "bold $accent"), " / ", ("Enter", "bold $accent"),
                                 " create and open   ", ("n", "bold $accent"), " / ",
                                 ("Esc", "bold $accent"), " / ", ("q", "bold $accent"),
                                 " quit"),
                classes="dialog-keys",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create ptest.toml", variant="primary", id="init-create",
                             compact=True)
                yield Button("Quit", id="init-quit", compact=True)

    def on_mount(self) -> None:
        """Enter creates: the create button has the focus."""
        self.query_one("#init-create", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button chooses."""
        event.stop()
        if event.button.id == "init-create":
            self.action_create()
        else:
            self.action_quit_init()

    def action_create(self) -> None:
        """Write the starter file; on a problem, say so and stay (nothing was written)."""
        try:
            path = write_template(self.folder, self.template)
        except PtestError as exc:
            error = exc.message + (f"\nhint: {exc.hint}" if exc.hint else "")
            shown = self.query_one("#init-error", Static)
            shown.update(Content(error))
            shown.display = True
            return
        self.dismiss(path)

    def action_quit_init(self) -> None:
        """Leave without writing anything."""
        self.dismiss(None)


def declared_envs(text: str) -> str:
    """The environments a starter declares, as words: ``smoke (basic), unit (...)``."""
    envs = tomllib.loads(text).get("envs", {})
    if not envs:
        return "no environments yet"
    listed = ", ".join(f"{name} ({spec.get('isolation', 'auto')})" for name, spec in envs.items())
    return f"the environments {listed}"


class InitWorkspaceApp(App[Path | None]):
    """The one-screen app that runs the offer; returns the written path, or None."""

    CSS_PATH = APP_CSS
    TITLE = "ptest-tui"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        for theme in shipped_themes():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def on_mount(self) -> None:
        """Show the offer; its answer is the app's result."""
        self.push_screen(InitWorkspaceScreen(self.folder), self.exit)


def offer_workspace(folder: Path) -> Path | None:
    """Ask in the terminal whether to create ``folder/ptest.toml``; the path if written."""
    return InitWorkspaceApp(folder).run()
