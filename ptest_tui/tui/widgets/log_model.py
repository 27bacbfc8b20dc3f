"""What the log pane holds: a bounded history of lines and the text filter over it.

Kept apart from the widget (and free of Textual) so the rules are plain to read and test:
the history keeps the last ``limit`` logical lines (a wrapped line counts once), the filter
is a case-insensitive substring match on a line's plain text, and an empty filter matches
everything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text


def matches(line: Text, query: str) -> bool:
    """Whether ``line`` contains ``query``, ignoring case (an empty query matches all)."""
    return not query or query.casefold() in line.plain.casefold()


def split_lines(text: Text) -> list[Text]:
    """``text`` as one Text per line (blank lines kept: they are part of the output)."""
    return list(text.split("\n", allow_blank=True))


def join_lines(lines: Iterable[Text]) -> Text:
    """Lines back into one Text, so a burst costs one write and one render."""
    return Text("\n").join(lines)


class LogHistory:
    """The last ``limit`` lines written to the log, and the active filter."""

    def __init__(self, limit: int) -> None:
        self.lines: deque[Text] = deque(maxlen=limit)
        self.query = ""

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, text: Text) -> list[Text]:
        """Keep every line of ``text``; return those the filter lets through."""
        new = split_lines(text)
        self.lines.extend(new)
        return [line for line in new if matches(line, self.query)]

    def matching(self) -> list[Text]:
        """The kept lines the filter lets through, oldest first."""
        return [line for line in self.lines if matches(line, self.query)]

    def clear(self) -> None:
        """Forget every line (the filter stays)."""
        self.lines.clear()

    def summary(self) -> str:
        """A short status of the filter for the pane's border ("" when not filtering)."""
        if not self.query:
            return ""
        return f"/{self.query}: {len(self.matching())} of {len(self.lines)} lines"
