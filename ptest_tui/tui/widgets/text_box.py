"""A Static for text that changes while the app is busy.

``Static.update`` asks for a layout of the whole screen every time, since new text may
need a different size. Under load (eight installs updating statuses, details and progress
several times a second) those relayouts are most of the app's work, and a key press waits
behind them. :class:`TextBox` skips the update when the text is the same, and skips the
relayout when the new text needs the size the box already has.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.visual import VisualType
from textual.widgets import Static


def _identity(content: VisualType) -> object:
    """What tells two texts apart, styles included (``Content ==`` compares text only)."""
    if isinstance(content, Content):
        return ("content", content.plain, tuple(content.spans))
    if isinstance(content, Text | str):
        return content
    return ("object", id(content))  # another renderable: always treated as new


class TextBox(Static):
    """A Static whose :meth:`show` redraws only on change and relayouts only on resize."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._shown = _identity(content)

    def show(self, content: VisualType) -> bool:
        """Display ``content``; returns whether anything changed."""
        identity = _identity(content)
        if identity == self._shown:
            return False
        self._shown = identity
        width = self.content_region.width
        styles = self.styles
        sized_by_text = styles.width is not None and styles.width.is_auto
        if not width or sized_by_text or not self.is_mounted:
            self.update(content)  # not laid out yet, or the width follows the text
            return True
        before = self.content_region.height
        self.update(content, layout=False)
        if styles.height is None or styles.height.is_auto:
            after = self.get_content_height(self.size, self.app.size, width)
            if after != before:
                self.refresh(layout=True)
        return True
