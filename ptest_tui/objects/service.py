"""ObjectService: the workspace's test objects, behind ``Session.objects``.

Objects come from two places: ``[objects.NAME]`` tables in ptest.toml (declared) and
``obj add`` (stored). Every operation validates first, records transient states with their
owning process (so a killed ptest-tui is found by the next one), publishes events and never
prints. Front ends (CLI, TUI, batch, cases) all go through here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError, UsageError
from ptest_tui.events import (
    CleanupFailed,
    CleanupRemoved,
    ObjectAdded,
    ObjectFailed,
    ObjectRemoved,
    ObjectStarted,
    ObjectStarting,
    ObjectStopped,
)
from ptest_tui.objects.base import ConnectionInfo, ObjectContext, ObjectSpec, TestObject
from ptest_tui.objects.records import ObjectRecord, ObjectRecords
from ptest_tui.objects.registry import ObjectRegistry
from ptest_tui.outcomes import CleanupItem
from ptest_tui.ownership import owner_alive
from ptest_tui.validation import validate_name

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ptest_tui.session import Session

log = logging.getLogger(__name__)


class ObjectNotFoundError(UsageError):
    """No object of that name is declared or added."""


@dataclass(frozen=True)
class ObjectView:
    """One object as listings show it (URLs with passwords redacted)."""

    name: str
    kind: str
    runtime: str
    source: str
    state: str  # running, unhealthy, stopped, crashed, failed, starting, stopping
    port: int | None
    url: str
    pid: int | None
    detail: str
    error: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``obj list --json``)."""
        return dict(self.__dict__)


def redact_url(url: str, password: str) -> str:
    """``url`` with ``password`` replaced by ``***``."""
    return url.replace(f":{password}@", ":***@") if password else url


class ObjectService:
    """Test objects of one workspace."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.records = ObjectRecords(session.store)
        self.registry = ObjectRegistry()
        from ptest_tui.plugins.registrations import register_each

        # A plugin that raises is logged by name and disabled; the others still register.
        register_each(
            session.plugins, "ptest_register_objects", lambda r: self.registry.register_all([r])
        )
        root = str(session.workspace.root)
        ports = session.ports
        self.context = ObjectContext(
            workspace=session.workspace.root,
            objects_dir=session.workspace.state_dir / "objects",
            workspace_key=session.workspace.id,
            allocate_port=lambda name, pinned: ports.allocate(root, name, pinned),
            release_port=lambda name: ports.release(root, name),
            held_port=lambda name: next(
                (a.port for a in ports.allocations(root) if a.owner == name), None
            ),
            env_environment=self._env_environment,
            docker=self._docker,
            run_as=session.config.objects.run_as,
        )
        self.recovered = self._recover()

    # -- lookup ---------------------------------------------------------------------------

    def specs(self) -> dict[str, ObjectSpec]:
        """Every object by name: declared ones first take their settings from the config."""
        found: dict[str, ObjectSpec] = {}
        for record in self.records.all():
            if record.source == "cli":
                found[record.name] = ObjectSpec(record.name, record.kind, record.settings)
        for name, table in self.session.config.declared_objects.items():
            settings = {k: v for k, v in table.items() if k != "kind"}
            found[name] = ObjectSpec(name, str(table["kind"]), settings)
        return dict(sorted(found.items()))

    def spec(self, name: str) -> ObjectSpec:
        """The spec of ``name``; unknown names are a usage error."""
        specs = self.specs()
        if name not in specs:
            known = ", ".join(specs) or "none yet"
            raise ObjectNotFoundError(
                f"no object named {name!r} (objects: {known})",
                "add one with `ptest-tui obj add NAME --kind KIND` or in ptest.toml",
            )
        return specs[name]

    def instance(self, name_or_spec: str | ObjectSpec) -> TestObject:
        """The TestObject managing ``name``."""
        spec = self.spec(name_or_spec) if isinstance(name_or_spec, str) else name_or_spec
        cls = self.registry.get(spec.kind)
        return cls(spec, self.context)

    def _record(self, spec: ObjectSpec) -> ObjectRecord:
        record = self.records.find(spec.name)
        if record is None or record.source == "config":
            return self.records.ensure(spec.name, spec.kind, spec.settings)
        return record

    # -- add and remove -------------------------------------------------------------------

    def add(self, name: str, kind: str, settings: Mapping[str, Any]) -> ObjectSpec:
        """Store a new object after checking name, kind, settings and prerequisites."""
        validate_name(name)
        if name in self.session.config.declared_objects:
            raise UsageError(
                f"object {name!r} is declared in ptest.toml",
                "change it there, or pick another name",
            )
        clean = {k: v for k, v in settings.items() if v not in (None, "", [])}
        spec = ObjectSpec(name, kind, clean)
        self.registry.check_settings(spec, f"object {name}")
        self.instance(spec).validate()
        self.records.add(name, kind, clean, "cli")
        self.session.bus.publish(ObjectAdded(name, kind))
        return spec

    def remove(self, name: str) -> None:
        """Stop the object, delete its data, forget it (a declared one stays declared)."""
        spec = self.spec(name)
        self.instance(spec).remove()
        self.records.delete(name)
        self.session.bus.publish(ObjectRemoved(name))

    # -- lifecycle ------------------------------------------------------------------------

    def start(
        self, name: str, *, fresh: bool = False, cancel: CancelToken | None = None
    ) -> ConnectionInfo:
        """Start ``name`` (or find it running) and wait until it is ready."""
        spec = self.spec(name)
        self.registry.check_settings(spec, f"object {name}")
        obj = self.instance(spec)
        obj.validate()  # before anything is recorded or started
        self._record(spec)
        self.records.set_state(name, "starting", owner=self.session.owner())
        self.session.bus.publish(ObjectStarting(name, spec.kind, obj.runtime))
        began = time.monotonic()
        try:
            info = obj.start(cancel or CancelToken(), fresh=fresh)
        except BaseException as exc:
            message = exc.message if isinstance(exc, PtestError) else repr(exc)
            self.records.set_state(name, "failed", error=message)
            self.session.bus.publish(ObjectFailed(name, message))
            raise
        self.records.set_state(name, "running")
        password = info.extra.get("password", "")
        self.session.bus.publish(
            ObjectStarted(
                name, spec.kind, time.monotonic() - began, info.port,
                redact_url(info.url, password),
            )
        )
        return info

    def start_many(
        self, names: Sequence[str], *, fresh: bool = False, cancel: CancelToken | None = None
    ) -> dict[str, ConnectionInfo | PtestError]:
        """Start several objects in parallel; each gets its info or its error."""
        for name in names:
            self.spec(name)  # unknown names fail before anything starts
        token = cancel or CancelToken()

        def one(name: str) -> ConnectionInfo | PtestError:
            try:
                return self.start(name, fresh=fresh, cancel=token)
            except PtestError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=max(1, min(len(names), 8))) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    def stop(self, name: str) -> None:
        """Stop ``name``; its data is kept and its port released."""
        spec = self.spec(name)
        obj = self.instance(spec)
        self._record(spec)
        self.records.set_state(name, "stopping", owner=self.session.owner())
        try:
            obj.stop()
        finally:
            self.records.set_state(name, "stopped")
        self.session.bus.publish(ObjectStopped(name))

    def restart(self, name: str, *, cancel: CancelToken | None = None) -> ConnectionInfo:
        """Stop, then start with the same data."""
        self.stop(name)
        return self.start(name, cancel=cancel)

    # -- inspection -----------------------------------------------------------------------

    def view(self, name: str) -> ObjectView:
        """What ``name`` looks like now."""
        return self._view(self.spec(name), self.records.find(name))

    def views(self) -> list[ObjectView]:
        """Every object, by name."""
        records = {r.name: r for r in self.records.all()}
        return [self._view(spec, records.get(name)) for name, spec in self.specs().items()]

    def _view(self, spec: ObjectSpec, record: ObjectRecord | None) -> ObjectView:
        obj = self.instance(spec)
        stored = record.state if record else "stopped"
        state, detail, pid, port, url = stored, "", None, None, ""
        if stored in ("starting", "stopping"):
            detail = "in progress"
        else:
            status = obj.status()
            detail = status.detail
            if status.running:
                state = "running" if status.healthy else "unhealthy"
                info = obj.connection()
                port = info.port
                url = redact_url(info.url, info.extra.get("password", ""))
                pid = obj.pid()
            elif stored == "running":
                state = "crashed"
            elif stored != "failed":
                state = "stopped"
        return ObjectView(
            name=spec.name, kind=spec.kind, runtime=obj.runtime,
            source=record.source if record else ("config" if spec.name in
                                                 self.session.config.declared_objects else "cli"),
            state=state, port=port, url=url, pid=pid, detail=detail,
            error=record.error if record and state == "failed" else "",
            description=str(spec.settings.get("description", "")),
        )

    def connection(self, name: str) -> ConnectionInfo:
        """How to reach a running object (empty when it is not running)."""
        return self.instance(name).connection()

    def environment(
        self, names: Sequence[str] | None = None, inside_docker: bool = False
    ) -> dict[str, str]:
        """``PTEST_OBJ_<NAME>_*`` variables of the running objects (all, or ``names``).

        ``inside_docker``: for a command in a docker env, only container objects count,
        reached by their alias on the workspace network (the ``docker_*`` extras).
        """
        wanted = set(names) if names is not None else None
        variables: dict[str, str] = {}
        for record in self.records.all():
            if record.state != "running" or (wanted is not None and record.name not in wanted):
                continue
            try:
                info = self.connection(record.name)
            except UsageError:
                continue  # forgotten since (declared object removed from the config)
            if inside_docker:
                if "docker_host" not in info.extra:
                    continue  # a host process on 127.0.0.1: not reachable from a container
                info = info.inside_docker()
            if info.url or info.port is not None:
                variables.update(info.environment(record.name))
        return variables

    def log_file(self, name: str) -> Path | None:
        """The object's log file, if it has one."""
        return self.instance(name).log_file()

    def follow_log(
        self, name: str, cancel: CancelToken, interval: float = 0.2
    ) -> Iterator[str]:
        """Lines of the log as they are written (from the current end) until cancelled."""
        path = self.log_file(name)
        if path is None:
            raise UsageError(f"{name} has no log", "only server objects write logs")
        position = path.stat().st_size if path.exists() else 0
        while not cancel.cancelled:
            try:
                size = path.stat().st_size
            except OSError:
                size = 0
            if size < position:
                position = 0  # rotated by a restart: read the new file from the start
            if size > position:
                with open(path, "rb") as handle:
                    handle.seek(position)
                    chunk = handle.read()
                position += len(chunk)
                yield from chunk.decode("utf-8", "replace").splitlines()
            cancel.wait(interval)

    # -- recovery and cleanup -------------------------------------------------------------

    def _recover(self) -> list[str]:
        """Settle objects left starting or stopping by a killed process."""
        recovered = []
        for record in self.records.stale(owner_alive):
            try:
                obj = self.instance(record.name)
                obj.stop()  # a half-started server must not keep running
            except PtestError as exc:
                log.warning("could not stop %s: %s", record.name, exc.one_line())
            if record.state == "starting":
                note = "interrupted: the ptest-tui process starting it was killed"
                self.records.set_state(record.name, "failed", error=note)
                self.session.bus.publish(ObjectFailed(record.name, note))
            else:
                self.records.set_state(record.name, "stopped")
            recovered.append(record.name)
        return recovered

    def cleanup(self, dry_run: bool = False) -> list[CleanupItem]:
        """Stop servers and delete data that no object owns; with ``dry_run`` only list."""
        from ptest_tui.objects.leftovers import find_leftovers

        leftovers = find_leftovers(self)
        if dry_run:
            return [leftover.item for leftover in leftovers]
        done = []
        for leftover in leftovers:
            item = leftover.item
            try:
                leftover.remove()
            except (OSError, PtestError) as exc:
                message = exc.message if isinstance(exc, PtestError) else str(exc)
                done.append(CleanupItem(item.kind, item.name, item.env, item.reason, message))
                self.session.bus.publish(CleanupFailed(item.kind, item.name, message))
                continue
            done.append(item)
            self.session.bus.publish(CleanupRemoved(item.kind, item.name, item.reason))
        return done

    # -- context helpers ------------------------------------------------------------------

    def _env_environment(self, env: str) -> tuple[Path, Mapping[str, str]]:
        record = self.session.store.get_env(env)
        engine = self.session.engine_for(record.isolation)
        base = getattr(engine, "base_environment", None)
        if base is None:
            raise UsageError(
                f"objects cannot run inside the {record.isolation} env {env}",
                "run them in a basic or virtualenv env, or as a container (runtime docker)",
            )
        return self.session.workspace.root, base(record)

    def _docker(self) -> Any:
        import os

        from ptest_tui.engines.docker_client import connect, resolve_target

        return connect(resolve_target(self.session.config.docker.host, os.environ))
