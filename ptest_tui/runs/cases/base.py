"""The case interface: one kind of check, run in one environment, giving results.

The runner builds a :class:`CaseContext` per execution (case x env x attempt): it carries
the cancel token, the case timeout, the connection variables of running objects, and
``exec`` (a command in the environment, streamed, with the process tree killed on timeout
or cancel) and ``emit`` (publish a result live). A kind validates its settings up front
(:meth:`Case.validate`, a ConfigError naming the key path) and never prints.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult
from ptest_tui.runs.model import CaseResult

# Output kept per stream and case; beyond it a marker says how much was dropped, so a
# case printing a gigabyte keeps memory flat.
OUTPUT_CAP = 256 * 1024


@dataclass(frozen=True)
class CaseSpec:
    """A configured case: its name, kind, settings and the suite's limits for it."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)
    timeout: float | None = None  # seconds for one attempt
    retries: int = 0  # extra attempts for a failing case (it is then recorded as flaky)
    where: str = ""  # "suites.api.cases[2]": for error messages


# exec(argv, on_output=None, cwd=None, env=None, timeout=None) -> ExecResult
ExecFunction = Callable[..., ExecResult]


@dataclass(frozen=True)
class CaseContext:
    """What one execution of a case gets from the runner."""

    run_id: str
    suite: str
    env: str
    isolation: str  # the env's level: basic, virtualenv, docker
    cancel: CancelToken
    timeout: float | None
    variables: Mapping[str, str]  # PTEST_OBJ_* of the suite's objects (and PTEST_* of the run)
    exec: ExecFunction
    emit: Callable[[CaseResult], None]
    object_info: Callable[[str], Any]  # name -> ConnectionInfo of a running object
    object_kind: Callable[[str], str]  # name -> kind ("postgres", ...)
    workspace: str = ""

    def result(self, spec: CaseSpec, status: str, **values: Any) -> CaseResult:
        """A result of the case ``spec`` in this context (run, suite and env filled in;
        ``case=`` in ``values`` names a test of it, such as a pytest node id)."""
        case = values.pop("case", spec.name)
        return CaseResult(
            run_id=self.run_id, suite=self.suite, env=self.env, case=case, kind=spec.kind,
            status=status, **values,
        )


class Case(ABC):
    """One kind of case; an instance checks and runs one configured case."""

    kind: ClassVar[str]
    description: ClassVar[str]
    # Settings the kind accepts (beyond name, kind, timeout, retries), each documented.
    settings_doc: ClassVar[Mapping[str, str]] = {}

    def __init__(self, spec: CaseSpec) -> None:
        self.spec = spec

    def validate(self) -> None:  # noqa: B027 - optional hook
        """Check the settings before anything runs; raise ConfigError naming the key."""

    @abstractmethod
    def run(self, ctx: CaseContext) -> Sequence[CaseResult]:
        """Run once in ``ctx``'s environment and return the results (also emitted live)."""


def capped(text: str, cap: int = OUTPUT_CAP) -> str:
    """``text`` cut to ``cap`` characters with a marker saying how much was dropped."""
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n[... {len(text) - cap} more characters truncated by ptest-tui]"


class OutputBuffer:
    """Collects streamed lines up to a cap; counts (but drops) the rest."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def add(self, line: str) -> None:
        """Keep ``line`` while under the cap."""
        if self.size + len(line) + 1 > self.cap:
            self.dropped += len(line) + 1
            return
        self.parts.append(line)
        self.size += len(line) + 1

    def text(self) -> str:
        """Everything kept, with the truncation marker when something was dropped."""
        body = "\n".join(self.parts)
        if self.dropped:
            body += f"\n[... {self.dropped} more characters truncated by ptest-tui]"
        return body
