"""Conflict detection before anything changes.

The requested requirements are resolved together with what the env already has: every
installed distribution that is not being asked for is pinned to its installed version
(unless ``--upgrade`` lets them move). A dry run of uv (``uv pip install --dry-run``)
answers in milliseconds with a warm cache; pip >= 22.2 has ``--dry-run`` too and is used
when no uv binary exists. A conflict raises PackageConflictError naming who asked for what.
"""

from __future__ import annotations

from collections.abc import Sequence

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.virtualenv import find_uv
from ptest_tui.packages.installers import Installer, PipInstaller, UvInstaller
from ptest_tui.packages.inventory import InstalledDist
from ptest_tui.packages.progress import PhaseCallback, Tally
from ptest_tui.packages.requirements import RequirementLine


def pins_for(
    installed: Sequence[InstalledDist], requested: Sequence[RequirementLine], upgrade: bool
) -> list[str]:
    """``name==version`` for each installed dist the request must not move."""
    if upgrade:
        return []
    asked = {line.name for line in requested}
    return [f"{dist.name}=={dist.version}" for dist in installed if dist.key not in asked]


def resolve(
    installer: Installer,
    requirements: Sequence[str],
    pins: Sequence[str],
    *,
    upgrade: bool,
    cancel: CancelToken,
    on_phase: PhaseCallback | None = None,
) -> Tally:
    """Resolve without installing; raise the classified error (conflict, not found...)."""
    resolver: Installer = installer
    if isinstance(installer, PipInstaller) and find_uv() is not None and not (
        installer.target.in_container
    ):
        # uv explains conflicts better and faster than pip; it resolves for the same target.
        resolver = UvInstaller(
            installer.engine, installer.record, installer.target, installer.index
        )
    return resolver.install(
        requirements, upgrade=upgrade, pins=pins, cancel=cancel, on_phase=on_phase, dry_run=True
    )
