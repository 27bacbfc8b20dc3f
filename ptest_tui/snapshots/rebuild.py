"""Rebuilding an env from a manifest: the shared core of restore and migration.

Check everything first (engine available, image and interpreter present, the snapshot's
content intact), then build the target as a temporary env beside the source, install
the lock, write the files, verify (same lock, same file hashes, the smoke command), and
only then switch the name over (:mod:`ptest_tui.snapshots.swap`). Any failure before the
switch removes the temporary env; the source is never touched until then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import EnvStateError, PtestError
from ptest_tui.events import MigrationFailed, MigrationStep
from ptest_tui.packages.hold import env_file_lock
from ptest_tui.snapshots.blobs import space_error
from ptest_tui.snapshots.manifest import Manifest
from ptest_tui.snapshots.records import Rebuild, RebuildJournal
from ptest_tui.snapshots.swap import HOST_LEVELS, switch, undo_build
from ptest_tui.store import EnvRecord

if TYPE_CHECKING:
    from ptest_tui.engines.base import IsolationEngine
    from ptest_tui.session import Session
    from ptest_tui.snapshots.service import SnapshotService


@dataclass(frozen=True)
class Plan:
    """What to build: the final name, level and spec, from which snapshot."""

    kind: str  # "restore" or "migrate"
    name: str
    level: str
    spec: EnvSpec  # as stored afterwards (name = ``name``)
    manifest: Manifest
    snapshot_id: str
    install_packages: bool = True
    container_fs: bool = False
    smoke: tuple[str, ...] = ()
    keep_as: str = ""  # migrate --keep-source of a host env: the old env's new name
    kept: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RebuildOutcome:
    """A finished restore or migration."""

    kind: str
    env: str
    level: str
    snapshot_id: str
    seconds: float
    replaced: str = ""  # the level of the env that was replaced ("" when none)
    kept_source: str = ""
    kept: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    verified: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data = dataclasses.asdict(self)
        for key in ("kept", "dropped", "verified", "warnings"):
            data[key] = list(data[key])
        return data


def steps_of(plan: Plan) -> list[str]:
    """The progress steps of a plan, in order."""
    steps = ["checking", "building"]
    if plan.install_packages and plan.manifest.pins:
        steps.append("packages")
    steps.append("files")
    if plan.container_fs:
        steps.append("container-fs")
    return [*steps, "verifying", "switching", "done"]


def hold_source(session: Session, record: EnvRecord | None, purpose: str) -> Any:
    """Keep the env being replaced from changing: file lock, plus a lease unless broken."""
    if record is None:
        return contextlib.nullcontext()
    if record.status == "broken":
        return env_file_lock(session, record.name)
    return session.package_service.hold(record.name, purpose)


class Rebuilder:
    """Runs one plan: build, verify, switch (see the module docstring)."""

    def __init__(self, service: SnapshotService, plan: Plan, cancel: CancelToken) -> None:
        self.service = service
        self.session: Session = service.session
        self.plan = plan
        self.cancel = cancel
        self.steps = steps_of(plan)
        self.rebuild_id = uuid.uuid4().hex[:12]
        self.temp = f"{plan.name}.{plan.kind}-{self.rebuild_id[:6]}"
        self.engine: IsolationEngine = self.session.engine_for(plan.level)

    def step(self, name: str, detail: str = "") -> None:
        """Publish one progress step."""
        index = self.steps.index(name) + 1 if name in self.steps else 0
        self.session.bus.publish(
            MigrationStep(self.plan.name, self.plan.kind, name, index, len(self.steps), detail)
        )

    def build_spec(self) -> EnvSpec:
        """The spec the engine builds: packages come from the lock, not the spec."""
        host = self.plan.level in HOST_LEVELS
        name = self.temp if host else self.plan.name
        return dataclasses.replace(self.plan.spec, name=name, packages=())

    def check(self, source: EnvRecord | None, held: bool = False) -> None:
        """Everything that can fail before anything is built (``held``: by the caller)."""
        self.engine.validate(self.build_spec())
        with self.service.blobs.using():
            for sha in sorted(self.plan.manifest.blobs()):
                self.service.blobs.verify(sha)
        allowed = ("ready", "broken", "busy") if held else ("ready", "broken")
        if source is not None and source.status not in allowed:
            raise EnvStateError(
                f"environment {source.name!r} is {source.status}; cannot replace it now",
                "wait for its commands or operations to finish and try again",
            )

    def journal(self, source: EnvRecord | None) -> Rebuild:
        """The journal row, written before anything is built."""
        plan = self.plan
        detail: dict[str, Any] = {
            "level": plan.level,
            "spec": plan.spec.to_dict(),
            "reason": plan.manifest.settings.get("reason", "")
            if plan.kind == "restore"
            else f"migrated from {plan.manifest.isolation}",
            "note": f"{plan.kind}d from snapshot {plan.snapshot_id} ({plan.level})"
            if plan.kind == "restore"
            else f"migrated to {plan.level} (snapshot {plan.snapshot_id})",
            "snapshot": plan.snapshot_id,
            "source": None,
            "source_container": "",
            "docker_name": "",
            "aside_name": "",
            "keep_as": plan.keep_as,
            "trash": str(self.service.root / "trash" / self.rebuild_id),
        }
        if source is not None:
            detail["source"] = {**source.to_dict(), "engine_state": source.engine_state}
            detail["source_container"] = str(source.engine_state.get("container_id", ""))
        if plan.level == "docker":
            from ptest_tui.engines.docker_labels import container_name

            ws = self.session.workspace.id
            detail["docker_name"] = container_name(ws, plan.name)
            if source is not None and source.isolation == "docker":
                detail["aside_name"] = f"{container_name(ws, plan.name)}-was-{self.rebuild_id[:6]}"
                if not detail["source_container"]:
                    # A broken env may not know its container: find it by name now, so an
                    # undo can never mistake it for the one being built.
                    detail["source_container"] = self.container_id(detail["docker_name"])
        owner = self.session.owner()
        return Rebuild(self.rebuild_id, plan.kind, plan.name, self.temp, "building", detail,
                       owner[0], owner[1])

    def run(self, source: EnvRecord | None, held: bool = False) -> RebuildOutcome:
        """Build, verify and switch; the source (if any) is held throughout unless ``held``."""
        started = time.monotonic()
        self.step("checking")
        self.check(source, held)
        rebuild = self.journal(source)
        journal = RebuildJournal(self.session.store)
        purpose = f"{self.plan.kind} from snapshot {self.plan.snapshot_id}"
        with contextlib.ExitStack() as stack:
            if not held:
                stack.enter_context(hold_source(self.session, source, purpose))
            stack.enter_context(self.service.blobs.using())
            journal.begin(rebuild)
            try:
                record = self.build(rebuild)
                verified = self.verify(record)
                self.step("switching")
                # Raises only when the swap transaction did not commit (then nothing
                # switched); trouble after the commit comes back as warnings.
                warnings = switch(self.session, rebuild)
            except BaseException as exc:
                # Undone while the source is still held: a full disk has room again
                # before the lease is released.
                self.fail(rebuild, exc)
                raise
        self.step("done")
        return RebuildOutcome(
            self.plan.kind, self.plan.name, self.plan.level, self.plan.snapshot_id,
            time.monotonic() - started,
            replaced=source.isolation if source is not None else "",
            kept_source=self.plan.keep_as, kept=self.plan.kept, dropped=self.plan.dropped,
            verified=tuple(verified), warnings=(*self.plan.warnings, *warnings),
        )

    def fail(self, rebuild: Rebuild, exc: BaseException) -> None:
        """Undo the build and turn the error into one line that says the env is unchanged."""
        try:
            if any(r.id == rebuild.id for r in RebuildJournal(self.session.store).all()):
                undo_build(self.session, rebuild)
        except Exception as undo:  # the next start retries the undo from the journal
            import logging

            logging.getLogger(__name__).warning("could not undo %s: %s", self.temp, undo)
        what = f"{self.plan.kind} of {self.plan.name} failed"
        unchanged = (
            f"; {self.plan.name} is unchanged"
            if rebuild.detail.get("source") else "; nothing was created"
        )
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
            exc = OSError(errno.ENOSPC, "database or disk is full")
        if isinstance(exc, OSError):
            error = space_error(exc, what)
            error.message += unchanged
            error.args = (error.message,)
            self.session.bus.publish(MigrationFailed(self.plan.name, self.plan.kind, error.message))
            raise error from None
        if isinstance(exc, PtestError):
            exc.message = f"{what}: {exc.message}{unchanged}"
            exc.args = (exc.message,)
            self.session.bus.publish(MigrationFailed(self.plan.name, self.plan.kind, exc.message))

    # -- building ---------------------------------------------------------------------

    def build(self, rebuild: Rebuild) -> EnvRecord:
        """Create the temporary env, then packages, files and container changes."""
        session, plan = self.session, self.plan
        self.step("building", f"{plan.level} environment {self.temp}")
        folder = session.workspace.state_dir / "envs" / self.temp
        owner = session.owner()
        session.store.insert_env(
            EnvRecord(
                name=self.temp, isolation=plan.level, status="creating",
                spec=dataclasses.replace(plan.spec, name=self.temp).to_dict(),
                reason=f"{plan.kind} of {plan.name}", location=str(folder),
                owner_pid=owner[0], owner_start=owner[1], session=session.session_id,
            )
        )
        if rebuild.detail["aside_name"]:
            self.move_aside(rebuild)
        self.cancel.raise_if_cancelled(plan.kind)
        state = self.engine.create(self.build_spec(), self.cancel)
        record = session.store.update_env(
            self.temp, status="ready", expect=("creating",), note=f"built for {plan.kind}",
            engine_state=state, owner_pid=None, owner_start=None,
        )
        if "packages" in self.steps:
            self.step("packages", f"{len(plan.manifest.pins)} from the lock")
            self.install_lock()
        self.step("files", f"{len(plan.manifest.files)} entries")
        self.write_files(record)
        if plan.container_fs:
            self.step("container-fs", f"{len(plan.manifest.container_fs or ())} changes")
            from ptest_tui.snapshots.files_docker import as_docker, write_fs

            write_fs(as_docker(self.engine), record, plan.manifest.container_fs or (),
                     self.service.blobs)
        return session.store.get_env(self.temp)

    def container_id(self, name: str) -> str:
        """The id of the container called ``name`` ("" when there is none)."""
        import docker.errors

        from ptest_tui.snapshots.files_docker import as_docker

        try:
            return str(as_docker(self.engine).api().inspect_container(name)["Id"])
        except docker.errors.NotFound:
            return ""

    def move_aside(self, rebuild: Rebuild) -> None:
        """Rename the source's container so the target can take the env's container name."""
        import docker.errors

        from ptest_tui.snapshots.files_docker import as_docker

        api = as_docker(self.engine).api()
        with contextlib.suppress(docker.errors.NotFound):  # a broken env's may be gone
            api.rename(rebuild.detail["source_container"] or rebuild.detail["docker_name"],
                       rebuild.detail["aside_name"])

    def install_lock(self) -> None:
        """``pkg sync`` the temporary env to the snapshot's lock (hashes checked).

        Docker targets get the lock's exact versions by ``pkg install`` instead: uv cannot
        check hashes against the container's read-only view of the shared cache (it wants
        to lock a cache bucket). The versions are verified afterwards either way.
        """
        if self.plan.level == "docker":
            service = self.session.package_service
            service.install(self.temp, list(self.plan.manifest.pins), cancel=self.cancel)
            return
        text = self.service.blobs.read_bytes(self.plan.manifest.lock_blob)
        fd, name = tempfile.mkstemp(prefix="ptest-lock-", suffix=".txt")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text)
            self.session.package_service.sync(self.temp, name, cancel=self.cancel)
        finally:
            Path(name).unlink(missing_ok=True)

    def write_files(self, record: EnvRecord) -> None:
        """The working folder's entries into the temporary env's HOME."""
        files = self.plan.manifest.files
        if self.plan.level == "docker":
            from ptest_tui.snapshots.files_docker import as_docker, write_home

            write_home(as_docker(self.engine), record, files, self.service.blobs)
            return
        from ptest_tui.snapshots.files_host import write

        write(self.session.workspace.state_dir / "envs" / self.temp / "home", files,
              self.service.blobs)

    def verify(self, record: EnvRecord) -> list[str]:
        """Same lock, same file hashes, the smoke command passes; VerificationError if not."""
        from ptest_tui.snapshots.verify import verify

        self.step("verifying")
        return verify(self, record)
