"""The IsolationEngine interface every isolation level implements.

Engines are synchronous and thread-safe; they never print. Output is streamed through the
``on_output`` callback and the session turns it into events. An engine that cannot run on
this machine says why in :meth:`IsolationEngine.unavailable_reason` (as virtualenv's
seeders do with ``cannot_seed``) instead of failing later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.spec import EnvSpec

if TYPE_CHECKING:
    from ptest_tui.config.model import Config
    from ptest_tui.store import EnvRecord

OutputCallback = Callable[[str, str], None]  # (stream, line) with stream "stdout"/"stderr"


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one command."""

    exit_code: int
    seconds: float
    cancelled: bool = False
    timed_out: bool = False


@dataclass(frozen=True)
class EngineStatus:
    """What the engine sees of an environment right now."""

    healthy: bool
    detail: str


@dataclass(frozen=True)
class Leftover:
    """A resource an engine found that no stored environment owns (or a broken one does)."""

    kind: str  # "container", "network", "volume", "folder"
    name: str
    env: str
    reason: str


@dataclass(frozen=True)
class PackageTarget:
    """Where an environment's packages go, as the package tools see it.

    ``python`` is the interpreter path *where the tool runs* (inside the container for
    docker envs). ``target_dir`` is set for envs without a Python of their own (basic):
    packages go there with ``--target`` and commands get it on PYTHONPATH.
    """

    python: str
    target_dir: str = ""
    in_container: bool = False


@dataclass(frozen=True)
class EngineContext:
    """What an engine knows about the workspace it serves."""

    root: Path
    state_dir: Path
    config: Config
    workspace_id: str
    session_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    def env_dir(self, name: str) -> Path:
        """The host folder that belongs to environment ``name``."""
        return self.state_dir / "envs" / name


class IsolationEngine(ABC):
    """One isolation level: creates, runs commands in, inspects and deletes environments."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Needs this engine honours: "python", "packages", "limits", "image", "network".
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, context: EngineContext) -> None:
        self.context = context

    def unavailable_reason(self) -> str | None:
        """None when the engine can work here, else a one-line reason."""
        return None

    @property
    def shares_host_filesystem(self) -> bool:
        """Whether paths on this host are paths the environment can see."""
        return True

    def validate(self, spec: EnvSpec) -> None:  # noqa: B027 - optional hook
        """Check ``spec`` against this machine before anything is changed (UsageError)."""

    @abstractmethod
    def create(self, spec: EnvSpec, cancel: CancelToken) -> dict[str, Any]:
        """Create the environment; return engine state to store with it."""

    @abstractmethod
    def exec(
        self,
        record: EnvRecord,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        cancel: CancelToken,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the environment, streaming output; never raises on non-zero exit."""

    @abstractmethod
    def status(self, record: EnvRecord) -> EngineStatus:
        """Inspect the environment's resources."""

    @abstractmethod
    def delete(self, record: EnvRecord) -> None:
        """Remove everything the environment owns; idempotent, finds partial leftovers."""

    def package_target(self, record: EnvRecord) -> PackageTarget | None:
        """Where packages of this env go; None when this level cannot hold packages."""
        return None

    def run_package_tool(
        self,
        record: EnvRecord,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        cancel: CancelToken,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run a package tool where it can reach the env's interpreter.

        ``argv[0]`` is ``"uv"`` (the uv binary available to this env) or ``"python"`` (the
        env's interpreter, e.g. for ``-m pip``). Host engines run it on this machine;
        the docker engine runs it inside the container, offline, with the shared cache.
        """
        raise NotImplementedError(f"{self.name} environments cannot run package tools")

    def leftovers(self, known: set[str]) -> list[Leftover]:
        """Resources of this engine in this workspace whose env is not in ``known``."""
        return []

    def remove_leftover(self, leftover: Leftover) -> None:  # noqa: B027 - optional hook
        """Remove one resource returned by :meth:`leftovers`."""
