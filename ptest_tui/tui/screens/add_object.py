"""The add-object dialog: name, kind, runtime, port and the kind's settings.

The kinds (and each kind's runtimes and settings) come from the object registry, read in
a worker when the dialog opens. Settings are typed as ``KEY=VALUE`` lines, converted like
``obj add --set`` does (true/false, whole numbers; a key given twice becomes a list). The
object is stored through ``session.objects.add``, which checks the name, the kind, every
setting and the kind's prerequisites before storing anything; its error is shown inline
and the dialog stays open to fix it. Dismisses with the stored :class:`ObjectSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ptest_tui.errors import PtestError, UsageError
from ptest_tui.objects.base import ObjectSpec
from ptest_tui.session import Session

MUTED = "$foreground-muted"
DEFAULT_KIND = "web"


@dataclass(frozen=True)
class KindInfo:
    """One object kind as the dialog offers it."""

    kind: str
    runtimes: tuple[str, ...]
    description: str = ""
    settings: tuple[tuple[str, str], ...] = ()  # (key, what it means)


def load_kinds(session: Session) -> tuple[KindInfo, ...]:
    """Every registered kind (blocking: the object service is built on first use)."""
    registry = session.objects.registry
    infos = []
    for kind in registry.kinds():
        cls = registry.get(kind)
        infos.append(KindInfo(kind, tuple(cls.runtimes), str(getattr(cls, "description", "")),
                              tuple(sorted(dict(cls.settings_doc).items()))))
    return tuple(infos)


def plain_value(value: str) -> Any:
    """``true``/``false`` as booleans, whole numbers as ints, the rest as text (as --set)."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if value.isdigit():
        return int(value)
    return value


def parse_settings(text: str) -> dict[str, Any]:
    """``KEY=VALUE`` lines as settings; blank lines and ``#`` comments are skipped."""
    settings: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"settings line {number}: {line!r} is not KEY=VALUE",
                             "for example: command=python -m http.server {port}")
        if key == "kind":
            raise UsageError(f"settings line {number}: the kind is chosen above", "")
        item = plain_value(value.strip())
        if key in settings:  # a key given twice (init files, vars) becomes a list
            previous = settings[key]
            settings[key] = [*previous, item] if isinstance(previous, list) else [previous, item]
        else:
            settings[key] = item
    return settings


def parse_port(text: str) -> int | None:
    """``auto`` (or nothing) as None, else a port number."""
    text = text.strip().lower()
    if text in ("", "auto"):
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"port must be auto or a number from 1 to 65535, not {text!r}", "")
    return int(text)


@dataclass(frozen=True)
class AddObjectRequest:
    """The form as typed."""

    name: str
    kind: str
    runtime: str = ""
    port: str = ""
    settings_text: str = ""

    def settings(self) -> dict[str, Any]:
        """The settings to store (UsageError for lines or a port that make no sense)."""
        settings = parse_settings(self.settings_text)
        if self.runtime:
            settings["runtime"] = self.runtime
        port = parse_port(self.port)
        if port is not None:
            settings["port"] = port
        return settings


class KindsLoaded(Message, bubble=False):
    """The registry's kinds, or why they could not be read."""

    def __init__(self, kinds: tuple[KindInfo, ...], error: PtestError | None = None) -> None:
        super().__init__()
        self.kinds = kinds
        self.error = error


class AddFinished(Message, bubble=False):
    """The add went through (the spec) or was refused (the error)."""

    def __init__(self, spec: ObjectSpec | None, error: PtestError | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.error = error


class AddObjectScreen(ModalScreen[ObjectSpec | None]):
    """Add a test object; dismisses with its spec once stored, or None."""

    DEFAULT_CSS = """
    AddObjectScreen {
        align: center middle;
        background: $background 60%;
    }
    AddObjectScreen > #obj-dialog {
        width: 84;
        max-width: 96%;
        height: auto;
        max-height: 94%;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    AddObjectScreen .obj-field {
        height: auto;
        margin-bottom: 1;
    }
    AddObjectScreen .obj-label {
        width: 10;
        color: $foreground-muted;
    }
    AddObjectScreen Input {
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    AddObjectScreen Input:focus {
        background: $primary 25%;
    }
    AddObjectScreen Select {
        width: 1fr;
    }
    AddObjectScreen .obj-label-wide {
        color: $foreground-muted;
    }
    AddObjectScreen #obj-settings {
        height: 5;
        width: 1fr;
        background: $panel;
        margin-bottom: 1;
    }
    AddObjectScreen #obj-settings:focus {
        background: $primary 15%;
    }
    AddObjectScreen #obj-help, AddObjectScreen #obj-error {
        height: auto;
    }
    AddObjectScreen #obj-error {
        margin-top: 1;
    }
    AddObjectScreen .obj-keys {
        color: $foreground-muted;
        margin-top: 1;
    }
    AddObjectScreen .obj-buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    AddObjectScreen .obj-buttons Button {
        margin-left: 2;
        min-width: 10;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "add", "Add", tooltip="Add the object (from any field)"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.kinds: dict[str, KindInfo] = {}
        self.busy = False

    def compose(self) -> ComposeResult:
        """The form."""
        # Scrolls on short terminals (80x24 does not fit the form), so the error line and
        # the buttons stay reachable; an error scrolls them into view when it shows.
        with VerticalScroll(id="obj-dialog", can_focus=False) as dialog:
            dialog.border_title = "Add a test object"
            with Horizontal(classes="obj-field"):
                yield Label("Name", classes="obj-label")
                yield Input(placeholder="e.g. db or api", id="obj-name", compact=True)
            with Horizontal(classes="obj-field"):
                yield Label("Kind", classes="obj-label")
                yield Select[str]([], prompt="reading kinds…", id="obj-kind", compact=True)
            with Horizontal(classes="obj-field"):
                yield Label("Runtime", classes="obj-label")
                yield Select[str]([], prompt="the kind's default", id="obj-runtime",
                                  compact=True)
            with Horizontal(classes="obj-field"):
                yield Label("Port", classes="obj-label")
                yield Input(placeholder="auto, or a fixed port", id="obj-port", compact=True)
            yield Label("Settings, one KEY=VALUE per line", classes="obj-label-wide")
            yield TextArea(id="obj-settings", soft_wrap=True, show_line_numbers=False,
                           compact=True)
            yield Static(id="obj-help")
            yield Static(id="obj-error")
            yield Label(Content.assemble(
                ("Ctrl+S", "bold $accent"), " or ", ("Enter", "bold $accent"),
                " in a field: add   ", ("Tab", "bold $accent"), " next field   ",
                ("Esc", "bold $accent"), " cancel",
            ), classes="obj-keys")
            with Horizontal(classes="obj-buttons"):
                yield Button("Add", variant="primary", id="obj-ok", compact=True)
                yield Button("Cancel", id="obj-cancel", compact=True)

    def on_mount(self) -> None:
        """Read the kinds in the background; focus the name."""
        self.query_one("#obj-name", Input).focus()
        session = self.session

        def work() -> None:
            try:
                kinds = load_kinds(session)
            except PtestError as exc:
                self.post_message(KindsLoaded((), exc))
                return
            self.post_message(KindsLoaded(kinds))

        self.run_worker(work, name="object-kinds", thread=True, exit_on_error=False)

    def on_kinds_loaded(self, message: KindsLoaded) -> None:
        """Offer the kinds (web first chosen: the most common thing to add by hand)."""
        if message.error is not None:
            self._error(message.error)
            return
        self.kinds = {info.kind: info for info in message.kinds}
        select = self.query_one("#obj-kind", Select)
        select.set_options((kind, kind) for kind in self.kinds)
        if self.kinds:
            select.value = DEFAULT_KIND if DEFAULT_KIND in self.kinds else next(iter(self.kinds))
        self._kind_changed()

    @property
    def kind(self) -> str:
        """The chosen kind ("" until the kinds are read)."""
        value = self.query_one("#obj-kind", Select).value
        return value if isinstance(value, str) else ""

    def on_select_changed(self, event: Select.Changed) -> None:
        """A new kind brings its runtimes and settings."""
        if event.select.id == "obj-kind":
            self._kind_changed()

    def _kind_changed(self) -> None:
        info = self.kinds.get(self.kind)
        runtime = self.query_one("#obj-runtime", Select)
        help_text = self.query_one("#obj-help", Static)
        if info is None:
            runtime.set_options([])
            help_text.update("")
            return
        runtime.set_options((name, name) for name in info.runtimes)
        keys = ", ".join(key for key, _doc in info.settings) or "none beyond the common ones"
        help_text.update(Content.assemble(
            (f"{info.kind}: ", "bold"), (info.description, MUTED), "\n",
            ("settings: ", "bold"), (keys, MUTED),
        ))

    def request(self) -> AddObjectRequest:
        """The form as typed."""
        runtime = self.query_one("#obj-runtime", Select).value
        return AddObjectRequest(
            name=self.query_one("#obj-name", Input).value.strip(),
            kind=self.kind,
            runtime=runtime if isinstance(runtime, str) else "",
            port=self.query_one("#obj-port", Input).value,
            settings_text=self.query_one("#obj-settings", TextArea).text,
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the name or port field adds."""
        event.stop()
        self.action_add()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Add or Cancel."""
        event.stop()
        if event.button.id == "obj-ok":
            self.action_add()
        else:
            self.action_cancel()

    def action_add(self) -> None:
        """Check the form here, then store the object in a worker (which validates it)."""
        if self.busy:
            return
        request = self.request()
        if not request.name:
            self._error(UsageError("give the object a name", "for example db, cache or api"))
            self.query_one("#obj-name", Input).focus()
            return
        if not request.kind:
            self._error(UsageError("choose a kind", "the kinds are still being read"))
            return
        try:
            settings = request.settings()
        except UsageError as exc:
            self._error(exc)
            return
        self.busy = True
        self.query_one("#obj-error", Static).update(Content.styled("checking…", MUTED))
        session = self.session

        def work() -> None:
            try:
                spec = session.objects.add(request.name, request.kind, settings)
            except PtestError as exc:
                self.post_message(AddFinished(None, exc))
                return
            self.post_message(AddFinished(spec))

        self.run_worker(work, name=f"object-add:{request.name}", thread=True,
                        exit_on_error=False)

    def on_add_finished(self, message: AddFinished) -> None:
        """Stored: close with the spec. Refused: say why and stay open."""
        self.busy = False
        if message.spec is not None:
            self.dismiss(message.spec)
        elif message.error is not None:
            self._error(message.error)

    def _error(self, error: PtestError) -> None:
        parts: list[str | tuple[str, str]] = [("✖ ", "$error"), (error.message, "$error")]
        if error.hint:
            parts += ["\n", ("hint: ", "bold"), (error.hint, MUTED)]
        line = self.query_one("#obj-error", Static)
        line.update(Content.assemble(*parts))
        # On a short terminal the form scrolls: show the end, where the error and its hint
        # sit above the keys and buttons (after the next layout, with the new height).
        self.query_one("#obj-dialog", VerticalScroll).scroll_end(animate=False)

    @property
    def error_text(self) -> str:
        """The inline error as plain text (tests)."""
        content = self.query_one("#obj-error", Static).content
        return content.plain if isinstance(content, Content) else str(content)

    def action_cancel(self) -> None:
        """Esc: close without adding (not while an add is being checked: it may store)."""
        if self.busy:
            self.app.bell()
            return
        self.dismiss(None)
