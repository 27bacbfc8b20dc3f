"""Values behind the Packages pane, and the blocking calls that load them (worker threads).

:func:`load_packages` reads what is installed and checks it (``pkg list`` + ``pkg check``:
metadata reads, milliseconds for a virtualenv); :func:`load_latest` asks the index which
packages have newer releases (a tool run and network round trips), so the pane runs it
separately, later, and caches it per set of installed versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import EnvNotFoundError, EnvStateError, PackageUsageError, PtestError
from ptest_tui.packages.check import CheckReport, Problem
from ptest_tui.packages.inventory import InstalledDist
from ptest_tui.packages.reports import InstallReport
from ptest_tui.session import Session

Signature = tuple[tuple[str, str], ...]  # (canonical name, version) of every row
OFFLINE_NOTE = "offline: latest not looked up"
SHOWN_PINS = 4  # name==version items repeated in a notification before "and N more"


@dataclass(frozen=True)
class PackageRow:
    """One installed distribution as the table shows it."""

    name: str
    version: str
    required_by: tuple[str, ...] = ()  # installed distributions that depend on it
    problems: tuple[str, ...] = ()  # pip-check lines this row takes part in
    short: str = ""  # the problems, shortened for the table's Check column

    @property
    def key(self) -> str:
        """The canonical (PEP 503) name."""
        return canonicalize_name(self.name)

    def matches(self, needle: str) -> bool:
        """Whether the filter text occurs in the name, version or problem (any case)."""
        needle = needle.strip().lower()
        return not needle or needle in f"{self.name} {self.version} {self.short}".lower()


@dataclass(frozen=True)
class PackagesView:
    """What the pane shows for one env: its rows, or a message saying why there are none."""

    env: str
    rows: tuple[PackageRow, ...] = ()
    problems: tuple[str, ...] = ()
    message: str = ""
    hint: str = ""
    tone: str = "foreground-muted"  # theme variable of the message
    can_install: bool = True

    @property
    def signature(self) -> Signature:
        """The installed versions (what the latest-version lookup depends on)."""
        return tuple((row.key, row.version) for row in self.rows)

    def row(self, name: str) -> PackageRow | None:
        """The row of ``name`` (any spelling), if installed."""
        key = canonicalize_name(name)
        return next((row for row in self.rows if row.key == key), None)


@dataclass(frozen=True)
class LatestInfo:
    """Newer releases for one set of installed versions, or why they are unknown."""

    env: str
    signature: Signature
    newer: Mapping[str, str] = field(default_factory=dict)  # canonical name -> newest
    note: str = ""  # set when the lookup was not possible (offline, index unreachable)


def _dependents(dists: Sequence[InstalledDist]) -> dict[str, list[str]]:
    """Canonical name -> the installed distributions that require it."""
    found: dict[str, list[str]] = {}
    for dist in dists:
        for text in dist.requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and "extra" in str(requirement.marker):
                continue  # optional extras do not make a dependency
            found.setdefault(canonicalize_name(requirement.name), []).append(dist.name)
    return found


def _problem_parts(problem: Problem) -> list[tuple[str, str]]:
    """(canonical name, short reason) for each row ``problem`` involves."""
    parts: list[tuple[str, str]] = [
        (canonicalize_name(problem.dist), f"requires {problem.requirement}")]
    if problem.kind == "conflict":
        wanted = Requirement(problem.requirement)
        parts.append((canonicalize_name(wanted.name),
                      f"{problem.dist} needs {wanted.specifier}"))
    else:
        parts[0] = (parts[0][0], f"requires {problem.requirement} (missing)")
    return parts


def build_rows(dists: Sequence[InstalledDist], report: CheckReport) -> tuple[PackageRow, ...]:
    """Rows for ``dists`` with the problems of ``report`` attached to the rows involved."""
    full: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    for problem in report.problems:
        for key, reason in _problem_parts(problem):
            full.setdefault(key, []).append(problem.describe())
            short.setdefault(key, []).append(reason)
    needed = _dependents(dists)
    rows = []
    for dist in sorted(dists, key=lambda d: d.key):
        rows.append(PackageRow(
            dist.name, dist.version, tuple(sorted(needed.get(dist.key, ()))),
            tuple(full.get(dist.key, ())), "; ".join(short.get(dist.key, ())),
        ))
    return tuple(rows)


def load_packages(session: Session, env: str) -> PackagesView:
    """What ``env`` has installed and its check (blocking: call from a worker thread)."""
    try:
        dists = session.packages(env)
        report = session.check_packages(env)
    except EnvNotFoundError as exc:
        if env in session.config.envs:
            return PackagesView(env, message=f"{env} is not created yet",
                                hint="create it on the Environments pane, then install here",
                                can_install=False)
        return PackagesView(env, message=exc.message, hint=exc.hint, can_install=False)
    except PackageUsageError as exc:
        # The level holds no packages (a basic env without a python3, a plugin level).
        return PackagesView(env, message=f"no packages: {exc.message}", hint=exc.hint,
                            can_install=False)
    except EnvStateError as exc:
        tone = "error" if "broken" in exc.message else "warning"
        return PackagesView(env, message=exc.message, hint=exc.hint, tone=tone,
                            can_install=False)
    except PtestError as exc:
        return PackagesView(env, message=exc.message, hint=exc.hint, tone="error")
    rows = build_rows(dists, report)
    problems = tuple(problem.describe() for problem in report.problems)
    if not rows:
        return PackagesView(env, message="no packages installed yet",
                            hint="press i to install some")
    return PackagesView(env, rows, problems)


def offline_latest(session: Session, env: str, signature: Signature) -> LatestInfo | None:
    """The answer when the workspace is offline (no lookup possible), else None.

    Only reads the configuration, so the pane can call it on the app's thread and skip the
    "looking for newer versions" state.
    """
    if session.package_service.index.offline:
        return LatestInfo(env, signature, note=OFFLINE_NOTE)
    return None


def load_latest(
    session: Session, env: str, signature: Signature, cancel: CancelToken
) -> LatestInfo:
    """Newer releases of what ``env`` has, from the index (blocking; may take seconds)."""
    service = session.package_service
    offline = offline_latest(session, env, signature)
    if offline is not None:
        return offline
    try:
        dists = service.packages(env, outdated=True, cancel=cancel)
    except PtestError as exc:
        return LatestInfo(env, signature, note=f"latest unknown: {exc.message}")
    return LatestInfo(env, signature, {dist.key: dist.latest for dist in dists})


def pins_summary(pins: Sequence[str]) -> str:
    """``a==1, b==2 and 3 more`` for notifications."""
    shown = ", ".join(pins[:SHOWN_PINS])
    rest = len(pins) - SHOWN_PINS
    return f"{shown} and {rest} more" if rest > 0 else shown


def install_summary(report: InstallReport) -> str:
    """One line saying what an install changed."""
    took = f"{report.seconds:.1f} s"
    if not report.installed and not report.removed:
        return f"{report.env}: already satisfied, nothing changed ({took})"
    parts = []
    if report.installed:
        parts.append(f"installed {pins_summary(report.installed)}")
    upgraded = {pin.split("==")[0] for pin in report.installed}
    replaced = [pin for pin in report.removed if pin.split("==")[0] not in upgraded]
    if replaced:
        parts.append(f"removed {pins_summary(replaced)}")
    return f"{report.env}: {'; '.join(parts)} ({took})"
