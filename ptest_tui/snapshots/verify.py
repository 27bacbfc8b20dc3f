"""Verifying a rebuilt env against its snapshot: the lock, the file hashes, the smoke
command. Nothing here changes anything; a difference raises VerificationError and the
rebuild is undone (see :mod:`ptest_tui.snapshots.rebuild`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptest_tui.errors import CancelledError, PtestError
from ptest_tui.snapshots.errors import VerificationError
from ptest_tui.snapshots.files_host import HashOnly, differences
from ptest_tui.snapshots.patterns import PathFilter

if TYPE_CHECKING:
    from ptest_tui.snapshots.rebuild import Rebuilder
    from ptest_tui.store import EnvRecord


def verify(rebuilder: Rebuilder, record: EnvRecord) -> list[str]:
    """Same lock, same file hashes, the smoke command passes; VerificationError if not."""
    plan, problems, checked = rebuilder.plan, [], []
    if "packages" in rebuilder.steps:
        problems += package_differences(rebuilder, record)
        checked.append(f"packages: {len(plan.manifest.pins)} match the lock")
    flt = PathFilter(plan.manifest.include, plan.manifest.exclude)
    if plan.level == "docker":
        from ptest_tui.snapshots.files_docker import as_docker, capture_home

        actual, _ = capture_home(as_docker(rebuilder.engine), record, flt, HashOnly())
    else:
        from ptest_tui.snapshots.files_host import capture

        home = rebuilder.session.workspace.state_dir / "envs" / rebuilder.temp / "home"
        actual, _ = capture(home, flt, HashOnly())
    problems += differences(plan.manifest.files, actual)
    checked.append(f"files: {sum(e.kind == 'file' for e in plan.manifest.files)} hashes match")
    if plan.container_fs:
        from ptest_tui.snapshots.files_docker import as_docker, fs_differences

        problems += fs_differences(
            as_docker(rebuilder.engine), record, plan.manifest.container_fs or (), HashOnly()
        )
        checked.append("container filesystem: changes match")
    if plan.smoke and not problems:
        problems += smoke(rebuilder)
        checked.append(f"smoke command passed: {' '.join(plan.smoke)}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise VerificationError(
            f"the rebuilt env differs from snapshot {plan.snapshot_id}:"
            f" {'; '.join(problems[:5])}{more}",
            f"nothing was switched; compare with `ptest-tui snapshot show {plan.snapshot_id}`",
        )
    return checked


def package_differences(rebuilder: Rebuilder, record: EnvRecord) -> list[str]:
    """Installed versions against the snapshot's pins."""
    from packaging.utils import canonicalize_name

    from ptest_tui.packages.inventory import PIP_TOOLING

    service = rebuilder.session.package_service
    target = rebuilder.engine.package_target(record)
    assert target is not None
    have = {
        d.key: d.version
        for d in service.inventory(record, rebuilder.engine, target, rebuilder.cancel).dists
        if d.key not in PIP_TOOLING
    }
    want = {}
    for pin in rebuilder.plan.manifest.pins:
        name, _, version = pin.partition("==")
        want[canonicalize_name(name)] = version
    problems = [
        f"package {k} is {have.get(k, 'missing')}, not {v}"
        for k, v in sorted(want.items()) if have.get(k) != v
    ]
    problems += [f"package {k} is not in the lock" for k in sorted(set(have) - set(want))]
    return problems

def smoke(rebuilder: Rebuilder) -> list[str]:
    """Run the env's smoke command in the temporary env."""
    lines: list[str] = []
    try:
        result = rebuilder.session.exec(
            rebuilder.temp, list(rebuilder.plan.smoke),
            on_output=lambda _s, line: lines.append(line), cancel=rebuilder.cancel, timeout=600,
        )
    except CancelledError:
        raise
    except PtestError as exc:
        return [f"the smoke command {' '.join(rebuilder.plan.smoke)!r} cannot run: {exc.message}"]
    if result.exit_code == 0:
        return []
    last = f": {lines[-1][:200]}" if lines else ""
    return [f"the smoke command {' '.join(rebuilder.plan.smoke)!r} exited {result.exit_code}{last}"]
