"""Migration between isolation levels: snapshot, rebuild at the target level, switch.

What carries over depends on the target (the plan lists it, and ``env migrate`` prints
it): packages go everywhere but basic (a basic env has no Python of its own: it runs the
host's python3, not the interpreter the lock was made for); the Python version goes to
virtualenv and docker; image, limits, network and mount settings only to docker; the
HOME files and environment variables everywhere. A docker source's other container
changes stay behind (only HOME is carried over).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import PtestError, UsageError
from ptest_tui.snapshots.capture import take, usable_env
from ptest_tui.snapshots.rebuild import Plan, Rebuilder, RebuildOutcome, hold_source
from ptest_tui.validation import validate_name

if TYPE_CHECKING:
    from ptest_tui.snapshots.service import SnapshotService
    from ptest_tui.store import EnvRecord

DOCKER_ONLY = {
    "image": "image {} (only docker envs run images)",
    "memory": "memory limit {} bytes (only docker enforces limits)",
    "cpus": "CPU limit {} (only docker enforces limits)",
    "pids": "process limit {} (only docker enforces limits)",
    "network": "network {} (only docker envs have a network setting)",
    "workspace_mount": "workspace mount {} (docker only)",
}


def target_spec(
    record: EnvRecord, to: str, packages: int
) -> tuple[EnvSpec, list[str], list[str]]:
    """The migrated env's spec, and what is kept and what is not (one line each)."""
    base = EnvSpec.from_dict(record.spec)
    version = str(record.engine_state.get("python_version", ""))
    short = ".".join(version.split(".")[:2])
    kept: list[str] = ["files: the working folder (HOME)"]
    dropped: list[str] = []
    changes: dict[str, object] = {"isolation": to}
    if to == "basic":
        changes.update(python="", packages=())
        if packages:
            dropped.append(
                f"packages: {packages} (a basic env has no Python of its own; the lock stays"
                " in the snapshot taken before migrating)"
            )
        if version:
            dropped.append(f"Python {version} (basic envs run the host's python3)")
    else:
        if short:
            changes["python"] = short
            kept.append(f"Python {short}")
        if packages:
            kept.append(f"packages: {packages}, the exact versions of the lock")
    for key, text in DOCKER_ONLY.items():
        value = getattr(base, key)
        if value in (None, ""):
            continue
        if to == "docker":
            kept.append(text.split(" (")[0].format(value))
        else:
            changes[key] = None if key in ("memory", "cpus", "pids") else ""
            dropped.append(text.format(value))
    if base.env:
        kept.append("environment variables: " + ", ".join(k for k, _ in base.env))
    if record.isolation == "docker":
        dropped.append("changes to the container outside HOME, and its running processes")
    return dataclasses.replace(base, **changes), kept, dropped  # type: ignore[arg-type]


def migrate(
    service: SnapshotService,
    env: str,
    to: str,
    *,
    keep_source: bool = False,
    smoke: Sequence[str] | None = None,
    cancel: CancelToken | None = None,
) -> RebuildOutcome:
    """Move ``env`` to level ``to``; the source is untouched unless verification passes."""
    session = service.session
    cancel = cancel or CancelToken()
    started = time.monotonic()
    record, _engine = usable_env(session, env, "migrate")
    if to not in session.engines.names():
        raise UsageError(
            f"unknown isolation level {to!r}", "use one of: " + ", ".join(session.engines.names())
        )
    if to == record.isolation:
        raise UsageError(f"environment {env!r} is already a {to} environment", "nothing to do")
    if record.status != "ready":
        raise UsageError(
            f"environment {env!r} is busy running commands; cannot migrate it now",
            "wait for them to finish and try again",
        )
    keep_as = ""
    if keep_source:
        keep_as = validate_name(f"{env}-{record.isolation}")
        if session.store.find_env(keep_as) is not None:
            raise UsageError(
                f"--keep-source keeps the old env as {keep_as!r}, which already exists",
                f"delete or rename {keep_as} first",
            )
        if (session.workspace.state_dir / "envs" / keep_as).exists():
            raise UsageError(
                f"--keep-source needs the folder .ptest/envs/{keep_as}, which a removed env"
                " left behind",
                "remove it with `ptest-tui env cleanup`",
            )
    engine = session.engine_for(to)  # Docker down: a clear error, nothing changed
    declared = session.config.envs.get(env, {}).get("smoke") or ()
    smoke_argv = tuple(smoke if smoke is not None else declared)
    spec, kept, dropped = target_spec(record, to, packages=1)  # checked again below
    engine.validate(dataclasses.replace(spec, packages=()))
    with hold_source(session, record, f"migrate to {to}"):
        snapshot, manifest = take(
            service, env, message=f"before migrating to {to}", origin="migrate",
            container_fs=keep_source and record.isolation == "docker", cancel=cancel, held=True,
        )
        spec, kept, dropped = target_spec(record, to, len(manifest.pins))
        kept.append(f"snapshot {snapshot.id}: the env as it was (restore it to go back)")
        plan = Plan(
            kind="migrate", name=env, level=to, spec=spec, manifest=manifest,
            snapshot_id=snapshot.id, install_packages=to != "basic", smoke=smoke_argv,
            keep_as=keep_as if record.isolation != "docker" else "",
            kept=tuple(kept), dropped=tuple(dropped),
        )
        copy = ""
        try:
            if keep_as and record.isolation == "docker":
                # A container cannot be renamed safely (its labels name the env): the kept
                # env is rebuilt from the snapshot (HOME, packages, container changes).
                from ptest_tui.snapshots.restore import plan_restore

                copy_plan = plan_restore(service, snapshot.id, keep_as)
                Rebuilder(service, copy_plan, cancel).run(None)
                copy = keep_as
            outcome = Rebuilder(service, plan, cancel).run(session.store.get_env(env), held=True)
        except PtestError:
            if copy:
                session.delete_env(copy, force=True)
            service.delete(snapshot.id)
            raise
    return dataclasses.replace(
        outcome, kept_source=keep_as, seconds=time.monotonic() - started
    )
