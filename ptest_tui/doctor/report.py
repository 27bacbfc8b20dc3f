"""Values of the doctor: one check's result, a fix action and the whole report.

Checks produce :class:`CheckResult` values with ``required=False``; the levels step in
:func:`ptest_tui.doctor.run_checks` decides which are required for this machine and
workspace. Nothing here runs anything.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from typing import Any

from ptest_tui.errors import ExitCode


@dataclass(frozen=True)
class FixAction:
    """One command that repairs a check, run as an argument list (never a shell string).

    ``manager`` groups commands that can be merged into one run ("apt", "dnf", "brew"
    package installs); ``packages`` are the package names for that merge. ``background``
    starts a long-running daemon detached instead of waiting for it. ``order`` sorts the
    plan: packages before daemons, daemons before images.
    """

    argv: tuple[str, ...]
    needs_root: bool = False
    manager: str = ""
    packages: tuple[str, ...] = ()
    background: bool = False
    order: int = 50
    note: str = ""
    label: str = ""  # how to show it when argv is an internal spelling (python -m ...)

    def display(self) -> str:
        """The command as a person would type it."""
        return self.label or shlex.join(self.argv)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``ok`` False with ``required`` False is a warning (optional piece missing, or little
    free disk); ``ok`` False with ``required`` True fails the doctor (exit code 1).
    ``features`` name what the check serves, so workspace use and PTEST_REQUIRE can make
    it required ("docker", "image", "debootstrap", ...).
    """

    name: str
    ok: bool
    detail: str
    needed_by: str
    fix: FixAction | None = None
    required: bool = False
    features: frozenset[str] = field(default_factory=frozenset)
    manual_fix: str = ""  # advice when there is no command (e.g. "log out and in again")

    @property
    def fix_command(self) -> str | None:
        """The fix as one displayable command, or None."""
        return self.fix.display() if self.fix else None

    @property
    def status(self) -> str:
        """``ok``, ``missing`` (required and not ok) or ``warning`` (optional, not ok)."""
        if self.ok:
            return "ok"
        return "missing" if self.required else "warning"

    def require(self, why: str = "") -> CheckResult:
        """This result marked required; ``why`` is appended to ``needed_by``."""
        needed = self.needed_by
        if why and why not in needed:
            needed = f"{needed}; required: {why}"
        return replace(self, required=True, needed_by=needed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: name, ok, required, detail, needed_by, fix_command (+ extras)."""
        return {
            "name": self.name,
            "ok": self.ok,
            "required": self.required,
            "detail": self.detail,
            "needed_by": self.needed_by,
            "fix_command": self.fix_command,
            "status": self.status,
            "fix_needs_root": bool(self.fix and self.fix.needs_root),
            "manual_fix": self.manual_fix,
        }


@dataclass(frozen=True)
class Report:
    """Every check's result, in display order."""

    checks: tuple[CheckResult, ...]
    package_manager: str = ""  # "apt", "dnf", "brew" or "" when unknown
    workspace: str = ""  # the workspace root, or "" when there is none
    docker_host: str = ""  # docker.host from the config ("" means DOCKER_HOST or the default)

    @property
    def ok(self) -> bool:
        """True when every required check passes."""
        return all(c.ok or not c.required for c in self.checks)

    @property
    def exit_code(self) -> int:
        """0 when everything required is there, 1 otherwise."""
        return int(ExitCode.OK if self.ok else ExitCode.FAILURE)

    @property
    def missing(self) -> tuple[CheckResult, ...]:
        """Required checks that fail."""
        return tuple(c for c in self.checks if c.required and not c.ok)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        """Optional checks that fail."""
        return tuple(c for c in self.checks if not c.required and not c.ok)

    def get(self, name: str) -> CheckResult:
        """The result of the check called ``name`` (KeyError if there is none)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def summary(self) -> str:
        """One line: whether the required checks pass, and what is missing."""
        warn = f"; {len(self.warnings)} optional missing" if self.warnings else ""
        if self.ok:
            return f"doctor: all required checks pass{warn}"
        names = ", ".join(c.name for c in self.missing)
        return f"doctor: {len(self.missing)} required check(s) fail: {names}{warn}"

    def to_json(self) -> list[dict[str, Any]]:
        """The ``--json`` output: a list of checks."""
        return [c.to_dict() for c in self.checks]
