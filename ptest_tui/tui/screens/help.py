"""The help screen: every key of every screen, built from the live binding tables."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ptest_tui.tui.screens.confirm import ConfirmScreen
from ptest_tui.tui.screens.create_env import CreateEnvScreen
from ptest_tui.tui.screens.run_command import RunCommandScreen
from ptest_tui.tui.widgets.env_table import EnvTable, FilterInput
from ptest_tui.tui.widgets.log_pane import LogFilter, LogPane

Section = tuple[str, Sequence[tuple[str, str]]]
MIN_WRAP = 20  # narrower than this, let the terminal wrap instead


def key_rows(bindings: Iterable[BindingType], display: dict[str, str]) -> list[tuple[str, str]]:
    """(keys, description) rows for a BINDINGS list, merging keys that share an action."""
    rows: dict[tuple[str, str], list[str]] = {}
    for item in bindings:
        if not isinstance(item, Binding):
            continue
        shown = item.key_display or " / ".join(
            display.get(key.strip(), pretty_key(key.strip())) for key in item.key.split(",")
        )
        # The tooltip is the longer explanation; the description is the footer's label.
        rows.setdefault((item.action, item.tooltip or item.description), []).append(shown)
    return [(" / ".join(keys), description) for (_action, description), keys in rows.items()]


def pretty_key(key: str) -> str:
    """``ctrl+r`` -> ``Ctrl+R``, ``f5`` -> ``F5`` (keys without a display name)."""
    if key.startswith("ctrl+"):
        rest = key[5:]
        return "Ctrl+" + (rest.upper() if len(rest) == 1 else pretty_key(rest))
    if len(key) == 1 or (key[:1] == "f" and key[1:].isdigit()):
        return key.upper() if key[:1] == "f" and len(key) > 1 else key
    return key


def render_sections(sections: Sequence[Section], width: int = 0) -> Content:
    """Sections as aligned two-column text; with ``width``, long descriptions wrap under
    their own column instead of running back to the left edge."""
    keys_width = max((len(keys) for _, rows in sections for keys, _ in rows), default=8) + 3
    room = width - keys_width - 2 if width else 0
    parts: list[Content] = []
    for index, (title, rows) in enumerate(sections):
        if index:
            parts.append(Content(""))
        parts.append(Content.styled(title, "bold $primary"))
        for keys, description in rows:
            lines = textwrap.wrap(description, room) if room >= MIN_WRAP else [description]
            lead = "  " + keys.ljust(keys_width)
            for number, text in enumerate(lines or [""]):
                key_part = lead if number == 0 else " " * len(lead)
                parts.append(Content.assemble((key_part, "bold $accent"), text))
    return Content("\n").join(parts)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; Esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help"),
        Binding("j", "scroll(1)", "Scroll down", show=False),
        Binding("k", "scroll(-1)", "Scroll up", show=False),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__(classes="dialog-screen")
        self.sections = sections

    def compose(self) -> ComposeResult:
        """The key table in a scrolling box."""
        with VerticalScroll(classes="dialog", id="help-dialog") as box:
            box.border_title = "Keys"
            box.border_subtitle = "Esc close"
            yield Static(render_sections(self.sections), id="help-body")

    def on_mount(self) -> None:
        """Let j/k scroll right away."""
        self.query_one("#help-dialog").focus()
        self.call_after_refresh(self._wrap)

    def on_resize(self) -> None:
        """Wrap again at the new width."""
        self.call_after_refresh(self._wrap)

    def _wrap(self) -> None:
        """Wrap the descriptions to the box's width."""
        body = self.query_one("#help-body", Static)
        body.update(render_sections(self.sections, body.content_region.width or 0))

    def action_scroll(self, lines: int) -> None:
        """Scroll the key list."""
        self.query_one("#help-dialog", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_close(self) -> None:
        """Back to where you were."""
        self.dismiss(None)

    @property
    def text(self) -> str:
        """Plain text of the help (tests, screen readers)."""
        return render_sections(self.sections).plain


DISPLAY = {"question_mark": "?", "slash": "/", "escape": "Esc", "enter": "Enter",
           "ctrl+l": "Ctrl+L", "down": "↓", "up": "↑", "tab": "Tab"}


def app_sections(app_bindings: Sequence[BindingType]) -> list[Section]:
    """Help sections: the app's bindings (as remapped), then each widget's and dialog's."""
    display = DISPLAY
    main = [
        *key_rows(app_bindings, display),
        ("Tab / Shift+Tab", "Move focus between filter, table, details and log"),
        ("Ctrl+P", "Command palette: every action, plus switching theme"),
        ("Ctrl+Q", "Quit from anywhere, even with a dialog open"),
    ]
    return [
        ("Main screen", main),
        ("Environments table", [("↑ / ↓", "Move the selection"),
                                *key_rows(EnvTable.BINDINGS, display)]),
        ("Filter", key_rows(FilterInput.BINDINGS, display)),
        ("Log pane", key_rows(LogPane.BINDINGS, display)),
        ("Log filter", [("type", "Show only log lines containing the text (any case)"),
                        *key_rows(LogFilter.BINDINGS, display)]),
        ("Create dialog", [("Tab", "Next field"), ("← / →", "Choose the isolation level"),
                           ("Enter", "Create"), *key_rows(CreateEnvScreen.BINDINGS, display)]),
        ("Run-command dialog", [("Enter", "Run"),
                                *key_rows(RunCommandScreen.BINDINGS, display)]),
        ("Confirm dialog", key_rows(ConfirmScreen.BINDINGS, display)),
        *pane_sections(display),
        ("Help screen", key_rows(HelpScreen.BINDINGS, display)),
    ]


def pane_sections(display: dict[str, str]) -> list[Section]:
    """The keys of the panes (active when the focus is in them) and their dialogs."""
    from ptest_tui.tui.screens.add_object import AddObjectScreen
    from ptest_tui.tui.screens.install import InstallScreen
    from ptest_tui.tui.screens.migrate import MigrateScreen
    from ptest_tui.tui.screens.run_plan import PlanScreen
    from ptest_tui.tui.screens.run_suite import RunScreen
    from ptest_tui.tui.screens.snapshots import SnapshotScreen
    from ptest_tui.tui.widgets.objects_panel import ObjectsPanel
    from ptest_tui.tui.widgets.packages_actions import PackageActions
    from ptest_tui.tui.widgets.packages_table import PackageTable
    from ptest_tui.tui.widgets.resources_pane import ResourcesPane
    from ptest_tui.tui.widgets.results_pane import ResultsPane
    from ptest_tui.tui.widgets.results_tree import ResultsTree

    return [
        ("Objects (under the environments)", key_rows(ObjectsPanel.BINDINGS, display)),
        ("Packages pane (2)", [*key_rows(PackageActions.BINDINGS, display),
                               *key_rows(PackageTable.BINDINGS, display)]),
        ("Resources pane (3)", key_rows(ResourcesPane.BINDINGS, display)),
        ("Results pane (4)", [*key_rows(ResultsPane.BINDINGS, display),
                              *key_rows(ResultsTree.BINDINGS, display)]),
        ("Install dialog", key_rows(InstallScreen.BINDINGS, display)),
        ("Run dialog", key_rows(RunScreen.BINDINGS, display)),
        ("Plan dialog", key_rows(PlanScreen.BINDINGS, display)),
        ("Migrate dialog", key_rows(MigrateScreen.BINDINGS, display)),
        ("Snapshot dialog", key_rows(SnapshotScreen.BINDINGS, display)),
        ("Add-object dialog", key_rows(AddObjectScreen.BINDINGS, display)),
    ]
