"""Taking a snapshot: the env's lock, its working folder and its settings.

The env must be ready and healthy. While the snapshot is taken the env holds the same
file lock and lease as a package install (it shows ``busy``; no install can change it
underneath), and the blob store is held shared (no garbage collection meanwhile).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui import __version__
from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError, EnvStateError, PtestError, UsageError
from ptest_tui.events import SnapshotCreated
from ptest_tui.snapshots.manifest import FileEntry, Manifest
from ptest_tui.snapshots.patterns import PathFilter
from ptest_tui.snapshots.records import SnapshotRecord
from ptest_tui.validation import validate_name

if TYPE_CHECKING:
    from ptest_tui.engines.base import IsolationEngine
    from ptest_tui.session import Session
    from ptest_tui.snapshots.service import SnapshotService
    from ptest_tui.store import EnvRecord

LEVELS = ("basic", "virtualenv", "docker")
SECRET_WORDS = ("password", "secret", "token", "key")


def usable_env(session: Session, name: str, action: str) -> tuple[EnvRecord, IsolationEngine]:
    """The env's record and engine if it is ready and healthy; one clear error otherwise."""
    record = session.store.get_env(name)
    if record.status == "broken":
        detail = f" ({record.error})" if record.error else ""
        raise EnvStateError(
            f"cannot {action} environment {name!r}: it is broken{detail}",
            f"repair it first with `ptest-tui env repair {name}`, or delete it",
        )
    if record.status not in ("ready", "busy"):
        raise EnvStateError(
            f"cannot {action} environment {name!r} while it is {record.status}",
            "wait for the other operation to finish (see `ptest-tui env list`)",
        )
    if record.isolation not in LEVELS:
        raise UsageError(
            f"cannot {action} {record.isolation} environment {name!r}",
            "snapshots support basic, virtualenv and docker environments",
        )
    engine = session.engine_for(record.isolation)
    status = engine.status(record)
    if not status.healthy:
        raise EnvStateError(
            f"cannot {action} environment {name!r}: it is not healthy ({status.detail})",
            f"repair it first with `ptest-tui env repair {name}`",
        )
    return record, engine


def capture_lock(
    session: Session, record: EnvRecord, engine: IsolationEngine, cancel: CancelToken
) -> tuple[str, tuple[str, ...]]:
    """The env's lock text (hash-pinned) and pins; ("", ()) when it has no packages.

    The lock is compiled from the shared cache first (no index request when it is warm)
    and from the configured index when that fails.
    """
    from ptest_tui.engines.virtualenv import find_uv
    from ptest_tui.errors import PackageError
    from ptest_tui.packages.inventory import PIP_TOOLING
    from ptest_tui.packages.lock import compile_lock

    service = session.package_service
    try:
        target = engine.package_target(record)
    except EnvStateError:
        return "", ()  # a docker env made before docker envs held packages
    if target is None:
        return "", ()
    inventory = service.inventory(record, engine, target, cancel)
    pins = tuple(
        sorted(
            (f"{d.name}=={d.version}" for d in inventory.dists if d.key not in PIP_TOOLING),
            key=str.lower,
        )
    )
    if not pins:
        return "", ()
    uv = find_uv()
    if uv is None:
        raise PackageError("snapshots of envs with packages need uv", "pip install uv")
    python = inventory.markers.get("python_full_version", "")
    index = service.index
    try:
        offline = dataclasses.replace(index, offline=True)
        lock = compile_lock(uv, record.name, list(pins), python, offline, cancel)
    except CancelledError:
        raise
    except PtestError:
        lock = compile_lock(uv, record.name, list(pins), python, index, cancel)
    return lock.text, pins


def objects_used(session: Session, env: str) -> list[dict[str, Any]]:
    """Objects the env's commands see: those of suites run in it, and running ones."""
    from ptest_tui.objects.records import ObjectRecords

    names: dict[str, str] = {}
    for suite, table in session.config.suites.items():
        if env in (table.get("envs") or []):
            for name in table.get("objects") or []:
                names.setdefault(str(name), f"suite {suite}")
    records = {r.name: r for r in ObjectRecords(session.store).all()}
    for stored in records.values():
        if stored.state == "running":
            names.setdefault(stored.name, "running")
    found = []
    for name, why in sorted(names.items()):
        record = records.get(name)
        declared = session.config.declared_objects.get(name, {})
        kind = record.kind if record else str(declared.get("kind", ""))
        settings = dict(record.settings) if record else dict(declared)
        safe = {
            k: v for k, v in settings.items()
            if not any(word in k.lower() for word in SECRET_WORDS)
        }
        found.append({"name": name, "kind": kind, "why": why, "settings": safe})
    return found


def settings_of(session: Session, record: EnvRecord) -> dict[str, Any]:
    """Level, Python, image, limits, variables and objects of an env (JSON-ready)."""
    state = record.engine_state
    return {
        "spec": dict(record.spec),
        "python_version": str(state.get("python_version", "")),
        "image": str(state.get("image", "")),
        "image_id": str(state.get("image_id", "")),
        "limits": dict(state.get("limits") or {}),
        "workspace_mount": str(state.get("workspace_mount", "")),
        "reason": record.reason,
        "objects": objects_used(session, record.name),
        "working_folder": "/root" if record.isolation == "docker" else "home",
    }


def capture_files(
    service: SnapshotService, record: EnvRecord, engine: IsolationEngine, flt: PathFilter
) -> tuple[list[FileEntry], list[str]]:
    """The env's working folder (HOME) as entries, content in the blob store."""
    if record.isolation == "docker":
        from ptest_tui.snapshots.files_docker import as_docker, capture_home

        return capture_home(as_docker(engine), record, flt, service.blobs)
    from ptest_tui.snapshots.files_host import capture

    folder = service.session.workspace.state_dir / "envs" / record.name / "home"
    return capture(Path(folder), flt, service.blobs)


def take(
    service: SnapshotService,
    env: str,
    *,
    tag: str | None = None,
    message: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    container_fs: bool = False,
    origin: str = "created",
    cancel: CancelToken | None = None,
    held: bool = False,
) -> tuple[SnapshotRecord, Manifest]:
    """Take and store a snapshot of ``env``; everything is checked before anything is read.

    ``held``: the caller already holds the env (a migration), so no lease is taken here.
    """
    session = service.session
    cancel = cancel or CancelToken()
    started = time.monotonic()
    if tag:
        validate_name(tag, "tag")
    if message and "\n" in message:
        raise UsageError("the snapshot message must be one line", "drop the line breaks")
    flt = PathFilter.build(include, exclude)
    record, engine = usable_env(session, env, "snapshot")
    if container_fs and record.isolation != "docker":
        raise UsageError(
            f"{env} is a {record.isolation} environment; --container-fs is for docker envs",
            "leave out --container-fs",
        )
    hold: contextlib.AbstractContextManager[None] = (
        contextlib.nullcontext() if held else session.package_service.hold(env, "snapshot")
    )
    with service.blobs.using(), hold:
        record = session.store.get_env(env)
        lock_text, pins = capture_lock(session, record, engine, cancel)
        cancel.raise_if_cancelled("snapshot")
        files, skipped = capture_files(service, record, engine, flt)
        fs: list[FileEntry] | None = None
        if container_fs:
            from ptest_tui.snapshots.files_docker import as_docker, capture_fs

            fs = capture_fs(as_docker(engine), record, service.blobs)
        manifest = Manifest(
            env=env,
            isolation=record.isolation,
            created_at=round(time.time(), 6),
            settings=settings_of(session, record),
            lock_blob=service.blobs.put_bytes(lock_text.encode()) if lock_text else "",
            pins=pins,
            files=tuple(files),
            include=flt.include,
            exclude=flt.exclude,
            container_fs=None if fs is None else tuple(fs),
            skipped=tuple(skipped),
            tag=tag or "",
            message=message or "",
            ptest_version=__version__,
        )
        stored = service.store_manifest(manifest, origin)
    session.bus.publish(
        SnapshotCreated(stored.id, env, stored.files, stored.packages, time.monotonic() - started)
    )
    return stored, manifest
