"""The TestObject interface: a test dependency with a lifecycle.

Every kind (sqlite, postgres, mysql, redis, web, service) implements start, stop, status,
logs and connection info. Objects never print; starting one waits on a readiness strategy
(see readiness.py) and raises ObjectStartError with the last log lines when it fails.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ptest_tui.cancel import CancelToken


@dataclass(frozen=True)
class ObjectSpec:
    """What an object should be: its kind and the kind's settings."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ConnectionInfo:
    """How cases and environments reach an object."""

    host: str = ""
    port: int | None = None
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict, hash=False)

    def environment(self, name: str) -> dict[str, str]:
        """``PTEST_OBJ_<NAME>_HOST``, ``_PORT``, ``_URL`` (and extras) for commands."""
        prefix = "PTEST_OBJ_" + "".join(c if c.isalnum() else "_" for c in name.upper())
        env = {f"{prefix}_{key.upper()}": value for key, value in self.extra.items()}
        if self.host:
            env[f"{prefix}_HOST"] = self.host
        if self.port is not None:
            env[f"{prefix}_PORT"] = str(self.port)
        if self.url:
            env[f"{prefix}_URL"] = self.url
        return env


@dataclass(frozen=True)
class ObjectStatus:
    """What an object looks like right now."""

    running: bool
    healthy: bool
    detail: str


class TestObject(ABC):
    """One kind of test object; an instance manages one named object."""

    __test__ = False  # not a pytest test class, despite the name

    kind: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, spec: ObjectSpec, folder: Path, workspace: Path) -> None:
        self.spec = spec
        self.folder = folder  # .ptest/objects/NAME: data, logs, pid files
        self.workspace = workspace

    def unavailable_reason(self) -> str | None:
        """None when this kind can run here, else why not (missing binaries, daemon)."""
        return None

    @abstractmethod
    def start(self, cancel: CancelToken, fresh: bool = False) -> ConnectionInfo:
        """Start (or reuse) the object and wait until it is ready; ``fresh`` drops data."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it; data is kept. Idempotent."""

    def restart(self, cancel: CancelToken) -> ConnectionInfo:
        """Stop, then start again with the same data."""
        self.stop()
        return self.start(cancel)

    @abstractmethod
    def status(self) -> ObjectStatus:
        """Inspect it now."""

    @abstractmethod
    def connection(self) -> ConnectionInfo:
        """How to reach it (valid while it runs)."""

    def log_file(self) -> Path | None:
        """Its log file, if it has one."""
        return None

    def remove(self) -> None:
        """Stop it and delete its data."""
        import shutil

        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
