"""The vim keys every list in the app answers to (hidden from the footer)."""

from __future__ import annotations

from textual.binding import Binding

VIM_UP_DOWN = (
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
)

VIM_ROW_KEYS = (
    *VIM_UP_DOWN,
    Binding("g", "scroll_top", "First", show=False),
    Binding("G", "scroll_bottom", "Last", show=False),
)
