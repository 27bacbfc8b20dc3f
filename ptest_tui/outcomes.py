"""Values returned by Session operations: bulk-create outcomes, listings, cleanup items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ptest_tui.errors import PtestError
from ptest_tui.store import EnvRecord


@dataclass(frozen=True)
class CreateOutcome:
    """One result of :meth:`Session.create_envs`: a record or an error."""

    name: str
    record: EnvRecord | None
    error: PtestError | None
    seconds: float

    @property
    def ok(self) -> bool:
        """True when the environment was created."""
        return self.error is None


@dataclass(frozen=True)
class EnvView:
    """An environment for listings: the stored record, or a declared-only entry."""

    name: str
    status: str  # a store status, or "declared" for envs only in ptest.toml
    isolation: str
    reason: str
    record: EnvRecord | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        base = self.record.to_dict() if self.record else {"name": self.name, "spec": {}}
        return {**base, "status": self.status, "isolation": self.isolation, "reason": self.reason}


@dataclass(frozen=True)
class CleanupItem:
    """One thing :meth:`Session.cleanup` removed (or would remove with ``dry_run``)."""

    kind: str
    name: str
    env: str
    reason: str
    error: str = ""  # set when removing it failed; the other items were still removed

    def to_dict(self) -> dict[str, str]:
        """JSON-ready data."""
        data = {"kind": self.kind, "name": self.name, "env": self.env, "reason": self.reason}
        if self.error:
            data["error"] = self.error
        return data
