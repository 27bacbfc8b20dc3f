"""``pkg check``: is every requirement of every installed distribution met?

Like ``pip check``, pure Python over the inventory: each Requires-Dist whose marker applies
to the env's interpreter must be installed in a matching version. Markers are evaluated
with the env's own Python version and platform, not ptest-tui's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ptest_tui.packages.inventory import Inventory


@dataclass(frozen=True)
class Problem:
    """One unmet requirement: ``dist`` ``version`` requires ``requirement``."""

    kind: str  # "missing" or "conflict"
    dist: str
    version: str
    requirement: str
    installed: str = ""  # the installed version that does not match (conflict)

    def describe(self) -> str:
        """One line, as pip check prints it."""
        if self.kind == "missing":
            return f"{self.dist} {self.version} requires {self.requirement}, which is not installed"
        name = Requirement(self.requirement).name
        return (
            f"{self.dist} {self.version} requires {self.requirement}, but {name}"
            f" {self.installed} is installed"
        )

    def to_dict(self) -> dict[str, str]:
        """JSON-ready data, with the line."""
        return {
            "kind": self.kind,
            "dist": self.dist,
            "version": self.version,
            "requirement": self.requirement,
            "installed": self.installed,
            "message": self.describe(),
        }


@dataclass(frozen=True)
class CheckReport:
    """The outcome of ``pkg check`` for one env."""

    env: str
    checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is missing or conflicting."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "env": self.env,
            "ok": self.ok,
            "checked": self.checked,
            "problems": [p.to_dict() for p in self.problems],
        }


def check_inventory(env: str, inventory: Inventory) -> CheckReport:
    """Every missing or conflicting requirement among the installed distributions."""
    installed = inventory.by_key()
    versions: dict[str, Version | None] = {}
    for key, dist in installed.items():
        try:
            versions[key] = Version(dist.version)
        except InvalidVersion:
            versions[key] = None  # legacy version strings cannot be compared; skip them
    problems: list[Problem] = []
    for dist in inventory.dists:
        for text in dist.requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue  # pip check ignores unparsable metadata too
            # "extra" is empty: only the distribution's unconditional requirements count.
            if requirement.marker is not None and not requirement.marker.evaluate(
                {**inventory.markers, "extra": ""}
            ):
                continue
            key = canonicalize_name(requirement.name)
            if key not in installed:
                problems.append(Problem("missing", dist.name, dist.version, _plain(requirement)))
                continue
            version = versions[key]
            if version is None or not requirement.specifier:
                continue
            if not requirement.specifier.contains(version, prereleases=True):
                problems.append(
                    Problem(
                        "conflict",
                        dist.name,
                        dist.version,
                        _plain(requirement),
                        installed[key].version,
                    )
                )
    return CheckReport(env, len(inventory.dists), tuple(problems))


def _plain(requirement: Requirement) -> str:
    """The requirement without its marker (already known to apply)."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"
