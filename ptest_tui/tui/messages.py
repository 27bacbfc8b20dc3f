"""Messages that worker threads post back to the app (the only way they talk to the UI)."""

from __future__ import annotations

from textual.message import Message
from textual.notifications import SeverityLevel

from ptest_tui.errors import PtestError
from ptest_tui.session import CleanupItem, EnvView
from ptest_tui.tui.widgets.env_detail import EnvDetail


class EnvsLoaded(Message):
    """A fresh environment listing from the store."""

    def __init__(self, views: tuple[EnvView, ...]) -> None:
        super().__init__()
        self.views = views


class DetailLoaded(Message):
    """The detail of one environment, ready to show."""

    def __init__(self, detail: EnvDetail) -> None:
        super().__init__()
        self.detail = detail


class EnginesChecked(Message):
    """Which engines cannot run here, and why (None: available)."""

    def __init__(self, unavailable: dict[str, str | None]) -> None:
        super().__init__()
        self.unavailable = unavailable


class CleanupPlanned(Message):
    """What a cleanup would remove (from a dry run)."""

    def __init__(self, items: tuple[CleanupItem, ...]) -> None:
        super().__init__()
        self.items = items


class ActionDone(Message):
    """An engine action finished: a success line, or the error to show."""

    def __init__(
        self,
        group: str,
        env: str,
        summary: str = "",
        *,
        error: PtestError | None = None,
        severity: SeverityLevel = "information",
    ) -> None:
        super().__init__()
        self.group = group
        self.env = env
        self.summary = summary
        self.error = error
        self.severity = severity
