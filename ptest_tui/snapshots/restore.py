"""Restoring a snapshot: the env rebuilt to exactly that state, verified, switched in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import UsageError
from ptest_tui.events import SnapshotRestored
from ptest_tui.snapshots.rebuild import Plan, Rebuilder, RebuildOutcome
from ptest_tui.validation import validate_name

if TYPE_CHECKING:
    from ptest_tui.snapshots.service import SnapshotService


def plan_restore(service: SnapshotService, ref: str, as_name: str | None = None) -> Plan:
    """What restoring ``ref`` (as ``as_name``) builds; errors for unknown snapshots or levels."""
    session = service.session
    record = service.records.get(ref)
    manifest = service.manifest(record)
    name = validate_name(as_name or manifest.env)
    level = manifest.isolation
    if level not in session.engines.names():
        raise UsageError(
            f"snapshot {record.id} is of a {level} environment; no installed engine provides it",
            "install the plugin that provides it",
        )
    spec = EnvSpec.from_dict({**manifest.settings.get("spec", {}), "name": name,
                              "isolation": level})
    warnings: list[str] = []
    from ptest_tui.objects.records import ObjectRecords

    known = set(session.config.declared_objects)
    known |= {o.name for o in ObjectRecords(session.store).all()}
    missing = [o["name"] for o in manifest.settings.get("objects", []) if o["name"] not in known]
    if missing:
        warnings.append(f"objects the env used are not defined here: {', '.join(missing)}")
    if manifest.skipped:
        warnings.append(f"{len(manifest.skipped)} paths were not recorded (see snapshot show)")
    smoke = tuple(session.config.envs.get(name, {}).get("smoke") or ())
    return Plan(
        kind="restore", name=name, level=level, spec=spec, manifest=manifest,
        snapshot_id=record.id, install_packages=True,
        container_fs=manifest.container_fs is not None and level == "docker",
        smoke=smoke, warnings=tuple(warnings),
    )


def restore(
    service: SnapshotService,
    ref: str,
    as_name: str | None = None,
    cancel: CancelToken | None = None,
) -> RebuildOutcome:
    """Rebuild the env of snapshot ``ref`` (over an existing env atomically)."""
    plan = plan_restore(service, ref, as_name)
    source = service.session.store.find_env(plan.name)
    outcome = Rebuilder(service, plan, cancel or CancelToken()).run(source)
    service.session.bus.publish(SnapshotRestored(plan.snapshot_id, plan.name, outcome.seconds))
    return outcome
