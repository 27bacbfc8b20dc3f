"""What the monitor samples: the host, envs and objects, and how each one is measured.

- basic and virtualenv envs (any engine with a ``base_environment``): their processes,
  found by the ``/proc`` scan (``procs``);
- docker envs and objects with ``runtime = "docker"``: their container's stats
  (``container``);
- other host objects: their server processes (``procs``; the pid file's session too);
- anything else (a sqlite file, a plugin engine without processes): ``none``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ptest_tui.errors import PtestError, UsageError

if TYPE_CHECKING:
    from ptest_tui.objects.base import TestObject
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

KINDS = ("host", "env", "object")
PREFIXES = {"env": "env", "obj": "object", "object": "object"}


@dataclass(frozen=True)
class Target:
    """One monitored thing and how it is measured."""

    kind: str  # host, env, object
    name: str
    via: str  # host, procs, container, none
    ref: str = ""  # the container (id or name) for via == "container"
    session_id: int | None = None  # a host server's session (its pid-file pid)
    detail: str = ""

    @property
    def key(self) -> str:
        """``host``, ``env:NAME`` or ``object:NAME``: the key of its history."""
        return "host" if self.kind == "host" else f"{self.kind}:{self.name}"


HOST = Target("host", "host", "host")


def env_target(session: Session, name: str) -> Target:
    """How env ``name`` is measured now (``missing`` when it does not exist)."""
    record = session.store.find_env(name)
    if record is None:
        return Target("env", name, "none", detail="no such environment")
    if record.isolation not in session.engines.names():
        return Target("env", name, "none", detail=f"engine {record.isolation} not installed")
    engine = session.engines.get(record.isolation)
    container_ref = getattr(engine, "container_ref", None)
    if record.isolation == "docker" and container_ref is not None:
        return Target("env", name, "container", ref=str(container_ref(record)))
    if hasattr(engine, "base_environment"):
        return Target("env", name, "procs")
    return Target("env", name, "none", detail=f"{record.isolation} envs are not monitored")


def object_target(session: Session, name: str) -> Target:
    """How object ``name`` is measured now."""
    from ptest_tui.objects.base import TestObject
    from ptest_tui.objects.container import container_name

    service = session.objects
    try:
        obj: TestObject = service.instance(name)
    except PtestError as exc:
        return Target("object", name, "none", detail=exc.message)
    if obj.runtime == "docker":
        return Target("object", name, "container", ref=container_name(session.workspace.id, name))
    if type(obj).pid is TestObject.pid:
        return Target("object", name, "none", detail=f"a {obj.kind} object has no process")
    try:
        pid = obj.pid()
    except PtestError:
        pid = None
    return Target("object", name, "procs", session_id=pid)


def _running_objects(session: Session) -> list[str]:
    from ptest_tui.objects.records import ObjectRecords

    return [r.name for r in ObjectRecords(session.store).all() if r.state == "running"]


def default_targets(session: Session) -> list[Target]:
    """The host, every stored env and every running object."""
    targets = [HOST]
    targets += [env_target(session, record.name) for record in session.store.list_envs()]
    for name in _running_objects(session):
        try:
            targets.append(object_target(session, name))
        except PtestError as exc:  # forgotten since (removed from the config)
            log.debug("not monitoring object %s: %s", name, exc.message)
    return targets


def parse_names(session: Session, names: Sequence[str]) -> list[tuple[str, str]]:
    """``(kind, name)`` of each name given; unknown or ambiguous names are a UsageError.

    A name may carry its kind (``env:unit``, ``obj:db``); ``host`` is the machine.
    """
    parsed: list[tuple[str, str]] = []
    envs = {record.name for record in session.store.list_envs()}
    objects: set[str] | None = None
    for given in names:
        prefix, sep, rest = given.partition(":")
        if sep and prefix in PREFIXES:
            kind, name = PREFIXES[prefix], rest
        elif given == "host":
            kind, name = "host", "host"
        else:
            if objects is None:
                objects = set(session.objects.specs())
            is_env, is_object = given in envs, given in objects
            if is_env and is_object:
                raise UsageError(
                    f"{given!r} is both an environment and an object",
                    f"say which: env:{given} or obj:{given}",
                )
            if not (is_env or is_object):
                known = ", ".join(sorted(envs | objects)) or "none yet"
                raise UsageError(
                    f"no environment or object named {given!r} (known: {known})",
                    "create it first, or see `ptest-tui env list` and `ptest-tui obj list`",
                )
            kind, name = ("env" if is_env else "object"), given
        if kind == "env" and name not in envs:
            raise UsageError(f"no environment named {name!r}", "see `ptest-tui env list`")
        if kind == "object":
            session.objects.spec(name)  # raises ObjectNotFoundError naming the known ones
        if (kind, name) not in parsed:
            parsed.append((kind, name))
    return parsed


def resolve(session: Session, wanted: Sequence[tuple[str, str]] | None) -> list[Target]:
    """The targets now: ``wanted`` (from :func:`parse_names`), or the defaults when None."""
    if wanted is None:
        return default_targets(session)
    targets: list[Target] = []
    for kind, name in wanted:
        if kind == "host":
            targets.append(HOST)
        elif kind == "env":
            targets.append(env_target(session, name))
        else:
            targets.append(object_target(session, name))
    return targets
