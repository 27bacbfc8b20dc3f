"""The workspace's internal objects network: docker envs and container objects meet there.

One bridge network per workspace, ``ptest-<workspace key>-objects``, created on first use:

- ``internal``: Docker gives it no route out (no NAT, no published ports);
- ``com.docker.network.bridge.inhibit_ipv4``: the host gets no address on its bridge.
  Without it an internal network still reaches the host itself through the gateway
  address (every service the host runs on 0.0.0.0); with it, members reach each other
  and nothing else.

Docker envs with ``network = "none"`` run on it alone; container objects join it with their
name as network alias (``db:5432``). It is labelled like every other resource
(``ptest.managed``, ``ptest.workspace``) plus ``ptest.network=objects``, so cleanup finds
it, and env cleanup knows not to take it for an env's leftover while objects use it.

Creating it is idempotent and safe when processes race: a file lock serialises the
processes of this machine, the daemon's duplicate check covers the rest, and duplicates
that slip through anyway (other machines on a shared daemon) are removed again, keeping
the oldest. A process that finds the network removed under it (cleanup racing a create)
creates it again: :func:`on_network`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ptest_tui.engines import docker_labels as labels
from ptest_tui.errors import EngineError

log = logging.getLogger(__name__)

ROLE = "objects"  # the value of LABEL_NETWORK
INHIBIT_IPV4 = "com.docker.network.bridge.inhibit_ipv4"
T = TypeVar("T")


def network_name(workspace_key: str) -> str:
    """``ptest-<workspace key>-objects``."""
    return f"ptest-{workspace_key}-{ROLE}"


def network_labels(workspace_key: str) -> dict[str, str]:
    """The labels of a workspace's objects network."""
    return {
        labels.LABEL_MANAGED: "1",
        labels.LABEL_WORKSPACE: workspace_key,
        labels.LABEL_NETWORK: ROLE,
    }


def network_filter(workspace_key: str | None = None) -> dict[str, list[str]]:
    """Docker ``filters`` for objects networks: one workspace's, or every workspace's."""
    wanted = [f"{labels.LABEL_NETWORK}={ROLE}", f"{labels.LABEL_MANAGED}=1"]
    if workspace_key is not None:
        wanted.append(f"{labels.LABEL_WORKSPACE}={workspace_key}")
    return {"label": wanted}


def _found(api: Any, workspace_key: str) -> list[dict[str, Any]]:
    """This workspace's objects networks, oldest first (several only after a race)."""
    name = network_name(workspace_key)
    listed = api.networks(filters=network_filter(workspace_key)) or []
    exact = [n for n in listed if n.get("Name") == name]
    return sorted(exact, key=lambda n: (str(n.get("Created", "")), str(n.get("Id", ""))))


@contextlib.contextmanager
def _host_lock(name: str) -> Iterator[None]:
    """Serialise the processes of this machine that create ``name``."""
    from filelock import FileLock

    from ptest_tui.paths import user_cache_dir

    folder = user_cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / f"network-{name}.lock"), timeout=60):
        yield


def workspace_network(api: Any, workspace_key: str) -> str:
    """Ensure the workspace's objects network exists; returns its name.

    ``api`` is a connected low-level docker client. Idempotent; safe when several
    processes (or machines sharing a daemon) call it at once.
    """
    import docker.errors

    name = network_name(workspace_key)
    try:
        if not _found(api, workspace_key):
            with _host_lock(name):
                if not _found(api, workspace_key):
                    _create(api, name, workspace_key)
        found = _found(api, workspace_key)
    except docker.errors.APIError as exc:
        raise EngineError(
            f"cannot set up the objects network {name}: {exc.explanation or exc}",
            "check `docker info` and `docker network ls`",
        ) from None
    if not found:
        raise EngineError(
            f"the objects network {name} vanished right after it was created",
            "another process removed it (cleanup?); try again",
        )
    for extra in found[1:]:  # a duplicate from a race: drop it, keep the oldest
        with contextlib.suppress(docker.errors.APIError):
            api.remove_network(extra["Id"])
    return name


def _create(api: Any, name: str, workspace_key: str) -> None:
    import docker.errors

    try:
        api.create_network(
            name,
            driver="bridge",
            internal=True,
            options={INHIBIT_IPV4: "true"},
            labels=network_labels(workspace_key),
            check_duplicate=True,
        )
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: another process created it first
            raise


def network_containers(api: Any, network: str) -> dict[str, str]:
    """Containers attached to ``network`` (id -> name); empty when it does not exist."""
    import docker.errors

    try:
        info = api.inspect_network(network)
    except docker.errors.NotFound:
        return {}
    attached = info.get("Containers") or {}
    return {str(cid): str((data or {}).get("Name", "")) for cid, data in attached.items()}


def remove_workspace_network(api: Any, workspace_key: str) -> bool:
    """Remove the workspace's objects network unless containers still use it.

    Returns True when a network was removed; False when there was none or it is in use
    (a container attached, or one created on it but not started).
    """
    import docker.errors

    removed = False
    for network in _found(api, workspace_key):
        if network_containers(api, network["Id"]) or _members(api, network["Name"]):
            continue
        try:
            api.remove_network(network["Id"])
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            log.info("objects network %s stays: %s", network["Name"], exc.explanation or exc)
            continue
        removed = True
    return removed


def _members(api: Any, name: str) -> list[str]:
    """Containers configured for network ``name``, running or not (ids)."""
    found = api.containers(all=True, filters={"network": [name]}) or []
    return [str(c.get("Id", "")) for c in found]


def labelled_networks(api: Any, workspace_key: str | None = None) -> list[labels.LabelledResource]:
    """Objects networks (of one workspace, or all) as cleanup lists them."""
    listed = api.networks(filters=network_filter(workspace_key)) or []
    return [labels.network_from_api(n) for n in listed]


def unused_networks(
    api: Any, workspace_key: str | None = None, leaving: set[str] | None = None
) -> list[labels.LabelledResource]:
    """Objects networks nothing uses any more, except containers in ``leaving`` (ids).

    Cleanup passes the containers it is about to remove as ``leaving``: a network whose
    only members are leftovers is a leftover too.
    """
    going = leaving or set()
    unused = []
    for network in labelled_networks(api, workspace_key):
        members = set(network_containers(api, network.id)) | set(_members(api, network.name))
        if members <= going:
            unused.append(network)
    return unused


def on_network(api: Any, workspace_key: str, action: Callable[[str], T]) -> T:
    """``action(network name)``, once more on a new network if it vanished meanwhile.

    Cleanup may remove an unused network between :func:`workspace_network` and the
    container create that uses it; the daemon then answers 404 for the network.
    """
    import docker.errors

    name = workspace_network(api, workspace_key)
    try:
        return action(name)
    except docker.errors.NotFound as exc:
        if "network" not in str(exc.explanation or exc).lower():
            raise
        log.info("objects network %s vanished; creating it again", name)
    return action(workspace_network(api, workspace_key))
