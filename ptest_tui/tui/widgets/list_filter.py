"""The filter line under a list: typing filters live; Enter or Down go back, Esc clears."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Input


class ListFilter(Input):
    """Base of the filter lines of the tables, the results tree and the log.

    Subclasses say which widget the keys return to (:meth:`target`); the app or pane
    filters on ``Input.Changed``.
    """

    DEFAULT_CSS = """
    ListFilter {
        border: none;
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    ListFilter:focus {
        border: none;  /* Input:focus would draw a tall border */
        background: $panel-lighten-1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave(True)", "Clear filter", show=False),
        Binding("enter,down", "leave(False)", "Back to the list", show=False),
    ]

    def target(self) -> Widget | None:
        """The list this line filters (focus returns to it)."""
        raise NotImplementedError

    def cleared(self) -> None:
        """Esc emptied the line (the Changed message follows; override to act at once)."""

    def action_leave(self, clear: bool) -> None:
        """Back to the list; Esc also clears the filter."""
        if clear:
            self.value = ""
            self.cleared()
        target = self.target()
        if target is not None:
            target.focus()
