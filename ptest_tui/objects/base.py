"""The TestObject interface: a test dependency with a lifecycle.

Every kind (sqlite, postgres, mysql, redis, web, service) implements start, stop, status,
logs and connection info. Objects never print; starting one waits on a readiness strategy
(see readiness.py) and raises ObjectStartError with the last log lines when it fails.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError


@dataclass(frozen=True)
class ObjectSpec:
    """What an object should be: its kind and the kind's settings."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ObjectContext:
    """What an object gets from the session: where it lives and the shared services.

    ``allocate_port(name, pinned)`` and ``release_port(name)`` go to the one port allocator;
    ``held_port(name)`` reads it back; ``env_environment(env)`` returns the working folder and
    variables of a workspace environment (for web and service objects started inside one).
    """

    workspace: Path
    objects_dir: Path
    workspace_key: str
    allocate_port: Callable[[str, int | None], int]
    release_port: Callable[[str], None]
    held_port: Callable[[str], int | None]
    env_environment: Callable[[str], tuple[Path, Mapping[str, str]]] | None = None
    docker: Callable[[], Any] | None = None
    run_as: str = ""

    def folder(self, name: str) -> Path:
        """``.ptest/objects/NAME``: data, logs, pid files."""
        return self.objects_dir / name


@dataclass(frozen=True)
class ConnectionInfo:
    """How cases and environments reach an object."""

    host: str = ""
    port: int | None = None
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict, hash=False)

    def inside_docker(self) -> ConnectionInfo:
        """The view from a docker env: ``docker_host``/``docker_port``/``docker_url`` extras
        (set by container objects) replace host, port and URL."""
        if "docker_host" not in self.extra:
            return self
        extra = {k: v for k, v in self.extra.items() if not k.startswith("docker_")}
        port = self.extra.get("docker_port")
        return ConnectionInfo(
            host=self.extra["docker_host"],
            port=int(port) if port else self.port,
            url=self.extra.get("docker_url", self.url),
            extra=extra,
        )

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

    # Settings this kind accepts beyond the common ones (kind, runtime, port, ...), with a
    # one-line description each; unknown keys are refused with a suggestion.
    settings_doc: ClassVar[Mapping[str, str]] = {}
    runtimes: ClassVar[tuple[str, ...]] = ("process",)

    def __init__(self, spec: ObjectSpec, context: ObjectContext) -> None:
        self.spec = spec
        self.context = context
        self.folder = context.folder(spec.name)  # .ptest/objects/NAME: data, logs, pid files
        self.workspace = context.workspace

    @property
    def name(self) -> str:
        """The object's name."""
        return self.spec.name

    @property
    def runtime(self) -> str:
        """``process`` (on the host) or ``docker``."""
        return str(self.spec.settings.get("runtime") or self.runtimes[0])

    def setting(self, key: str, default: Any = None) -> Any:
        """One setting, or ``default``."""
        value = self.spec.settings.get(key)
        return default if value in (None, "") else value

    def validate(self) -> None:  # noqa: B027 - optional hook
        """Check settings and prerequisites before anything is touched (UsageError)."""

    def pinned_port(self) -> int | None:
        """The ``port`` setting as a number, or None for ``auto``."""
        value = self.spec.settings.get("port", "auto")
        if value in (None, "", "auto", 0):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(
                f"{self.name}: port must be auto or a number, got {value!r}",
                "use --port auto or --port 5433",
            ) from None

    def claim_port(self) -> int:
        """Allocate this object's port (the pinned one, or a free one)."""
        return self.context.allocate_port(self.name, self.pinned_port())

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

    def pid(self) -> int | None:
        """The server's process id on the host, when it has one."""
        return None
