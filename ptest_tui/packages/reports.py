"""Values the package operations return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ptest_tui.errors import PtestError

if TYPE_CHECKING:
    from ptest_tui.packages.progress import Tally


@dataclass(frozen=True)
class InstallReport:
    """What one install, uninstall or sync changed in one env."""

    env: str
    installer: str
    installed: tuple[str, ...] = ()  # name==version added or changed
    removed: tuple[str, ...] = ()  # name==version removed or replaced
    seconds: float = 0.0
    cache_hits: int = 0
    downloads: int = 0

    @classmethod
    def from_tally(cls, env: str, installer: str, tally: Tally, seconds: float) -> InstallReport:
        """The report of one tool run, from what its output said."""
        return cls(
            env, installer, tuple(tally.installed), tuple(tally.removed), seconds,
            tally.cache_hits, tally.downloads,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "env": self.env,
            "installer": self.installer,
            "installed": list(self.installed),
            "removed": list(self.removed),
            "seconds": round(self.seconds, 3),
            "cache_hits": self.cache_hits,
            "downloads": self.downloads,
        }


@dataclass(frozen=True)
class InstallOutcome:
    """One env of a batch install: a report or an error."""

    env: str
    report: InstallReport | None
    error: PtestError | None
    seconds: float

    @property
    def ok(self) -> bool:
        """True when the install succeeded."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data: dict[str, Any] = {"env": self.env, "ok": self.ok, "seconds": round(self.seconds, 3)}
        if self.report:
            data["report"] = self.report.to_dict()
        if self.error:
            data["error"] = self.error.message
            data["hint"] = self.error.hint
        return data
