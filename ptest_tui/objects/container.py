"""Database servers in containers (``runtime = "docker"``): the same programs, in an image.

A server kind (postgres, mysql, redis) runs the very programs it runs on the host, from an
image that has them at the same Debian paths (``ptest-tui/objects:bookworm``, built by
``ptest-tui image build --packages postgresql,redis-server,mariadb-server``). Its
``initialize``, ``server_argv``, ``readiness`` and ``provision`` are reused as they are;
only paths change: the data folder is ``/data``, a labelled named volume that outlives the
container (restart keeps it, ``fresh`` and remove delete it).

One container per object, ``ptest-obj-<workspace key>-<name>``, started in two steps so
the server is the container's main process (its output is the container log) although it
is only known after initialisation: the container starts a tiny launcher (``sh``) that
waits for an argument file; tools run by exec meanwhile; then the argument file arrives
and the launcher ``exec``s the server. Stopping removes the container (the volume stays).

The container is on the default bridge only to publish ``127.0.0.1:<allocated port>`` for
host-side clients (an internal network cannot publish ports), and on the workspace's
objects network (:mod:`ptest_tui.objects.network`) with the object's name as alias, which
is how docker envs reach it (``db:5432``). The container log is mirrored into the
object's usual log file, so log readiness checks, ``obj logs`` and error messages work as
for host processes. Tools, small files and program lookup in the container live in
:mod:`ptest_tui.objects.container_tools`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import docker_labels as labels
from ptest_tui.errors import PtestError, UsageError
from ptest_tui.objects.base import ConnectionInfo, ObjectStatus
from ptest_tui.objects.container_tools import (
    DATA,
    DEFAULT_IMAGE,
    IMAGE_PACKAGES,
    ContainerTools,
    tar_files,
)
from ptest_tui.objects.readiness import ObjectStartError, Readiness, wait_until_ready

if TYPE_CHECKING:
    from ptest_tui.objects.leftovers import Leftover
    from ptest_tui.objects.server import ServerObject
    from ptest_tui.objects.service import ObjectService

__all__ = [
    "DATA", "DEFAULT_IMAGE", "IMAGE_PACKAGES", "ContainerRuntime", "container_name",
    "leftovers", "object_filter", "object_labels", "volume_name",
]

log = logging.getLogger(__name__)
MARKER = f"{DATA}/.ptest-initialized"  # in the volume: written after the first provision
LAUNCH = "/tmp/ptest-launch"  # noqa: S108 - inside the container, written by put_archive
# Waits for the argument file (one argument per line), then becomes the server, as the
# account named by $1 (setpriv, from util-linux). A fixed script: the account and the
# arguments arrive as data, never as shell text. The container itself runs as root: Docker
# gives a non-root container's execs no capabilities, not even root ones, and preparing
# /data needs chown.
LAUNCHER = (
    f'u=$1; while [ ! -e {LAUNCH}/go ]; do sleep 0.05; done; set --; '
    f'while IFS= read -r a; do set -- "$@" "$a"; done < {LAUNCH}/argv; '
    'if [ "$u" = root ]; then exec "$@"; fi; '
    'exec setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"'
)


def container_name(workspace_key: str, name: str) -> str:
    """``ptest-obj-<key>-<name>``; never an env's ``ptest-<key>-<env>`` (key is hex)."""
    return f"ptest-obj-{workspace_key}-{name}"


def volume_name(workspace_key: str, name: str) -> str:
    """The object's data volume."""
    return f"{container_name(workspace_key, name)}-data"


def object_labels(workspace_key: str, name: str) -> dict[str, str]:
    """Labels of an object's container and volume (found again by ``obj cleanup``)."""
    return {
        labels.LABEL_MANAGED: "1",
        labels.LABEL_WORKSPACE: workspace_key,
        labels.LABEL_OBJECT: name,
    }


def object_filter(workspace_key: str, name: str | None = None) -> dict[str, list[str]]:
    """Docker ``filters`` for the objects of a workspace (or one of them)."""
    wanted = [f"{labels.LABEL_WORKSPACE}={workspace_key}", labels.LABEL_OBJECT]
    if name is not None:
        wanted[1] = f"{labels.LABEL_OBJECT}={name}"
    return {"label": wanted}


@dataclass(frozen=True)
class Mirrored:
    """A readiness strategy checked after copying the container log to the log file."""

    inner: Readiness
    sync: Callable[[], None]

    def check(self) -> bool:
        """Mirror the log, then probe."""
        self.sync()
        return self.inner.check()

    def describe(self) -> str:
        """The inner strategy's description."""
        return self.inner.describe()


class ContainerRuntime(ContainerTools):
    """Runs one ServerObject in a container; ServerObject delegates to it for docker."""

    def __init__(self, obj: ServerObject) -> None:
        super().__init__(obj, container_name(obj.context.workspace_key, obj.name))
        self.key = obj.context.workspace_key
        self.volume = volume_name(self.key, obj.name)

    def validate(self) -> None:
        """The daemon answers and the image is there (never pulled)."""
        import docker.errors

        from ptest_tui.objects.server import ObjectUnavailableError

        try:
            self.api().inspect_image(self.image)
        except docker.errors.ImageNotFound:
            built = self.image == DEFAULT_IMAGE
            raise ObjectUnavailableError(
                f"{self.obj.name}: docker image {self.image} is not available on the daemon",
                f"build it: ptest-tui image build --packages {IMAGE_PACKAGES}"
                + ("" if built else f" --tag {self.image}"),
            ) from None
        except PtestError as exc:
            raise ObjectUnavailableError(f"{self.obj.name}: {exc.message}", exc.hint) from None

    def unavailable_reason(self) -> str | None:
        """Why the container runtime cannot run this object here, or None."""
        try:
            self.validate()
        except PtestError as exc:
            return exc.message
        return None

    def container_port(self, host_port: int) -> int:
        """The port the server listens on inside: the kind's usual one, else the host's."""
        return self.obj.container_port or host_port

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, cancel: CancelToken, fresh: bool) -> ConnectionInfo:
        """Start the container (or find it answering) and wait until the server is ready."""
        with self.docker_errors("start its container", ObjectStartError):
            port = self.obj.context.held_port(self.obj.name)
            if not fresh and port is not None and self._running() and self._ready(port).check():
                return self.obj.connection()
            self._remove_container()
            cancel.raise_if_cancelled(f"starting {self.obj.name}")
            port = self.obj.claim_port()
            try:
                return self._start(port, cancel, fresh)
            except BaseException:
                self.obj.context.release_port(self.obj.name)
                raise

    def _start(self, port: int, cancel: CancelToken, fresh: bool) -> ConnectionInfo:
        from ptest_tui.objects.network import on_network

        api = self.api()
        if fresh:
            self._remove_volume()
        # Until the volume's marker says otherwise, a volume that was there holds data.
        first = not self._volume_exists()
        try:
            api.create_volume(self.volume, labels=object_labels(self.key, self.obj.name))
            inner = self.container_port(port)
            on_network(api, self.key, lambda network: self._create(network, port, inner))
            api.start(self.container)
            self._rotate_log()
            first = self._prepare_data()
            programs = self.obj.container_programs()
            data = Path(DATA)
            if first:
                self.obj.initialize(data, programs, cancel)
            self._launch(self.obj.server_argv(data, inner, programs))
            wait_until_ready(
                self.obj.name, self._ready(port), timeout=self.obj.startup_timeout(),
                interval=0.05, cancel=cancel, alive=self._running,
                log_file=self.obj.process.log_file,
            )
            if first:
                self.obj.provision(inner, programs, cancel)
                self.write_file(MARKER, self.obj.kind)
        except BaseException:
            self._undo_start(first)
            raise
        return self.obj.connection()

    def _undo_start(self, first: bool) -> None:
        """After a failed start: no container, and no half-initialised volume (best effort:
        the start's own error is the one to report)."""
        from ptest_tui.objects.network import remove_workspace_network

        steps: list[Callable[[], object]] = [self.sync_logs, self._remove_container]
        if first:
            steps.append(self._remove_volume)
        steps.append(lambda: remove_workspace_network(self.api(), self.key))
        for step in steps:
            try:
                step()
            except Exception as exc:  # logged; keep undoing the rest
                log.warning("%s: cleaning up a failed start: %s", self.obj.name, exc)

    def _prepare_data(self) -> bool:
        """As root: give /data to the server's account, private (a new volume belongs to
        root); without the marker, empty it first (a half-initialised volume starts over).

        Returns True when the data must be initialised (no marker).
        """
        script = ('if [ -e "$3" ]; then echo kept; else find "$2" -mindepth 1 -delete; fi; '
                  'chown "$1": "$2" && chmod 700 "$2"')
        code, out, err = self.exec(
            ["sh", "-c", script, "ptest-prepare", self.user, DATA, MARKER], user="root", cwd="/"
        )
        if code != 0:
            raise self._tool_error(f"cannot prepare {DATA} in the container: {err.strip()}")
        return out.strip() != "kept"

    def _volume_exists(self) -> bool:
        import docker.errors

        try:
            self.api().inspect_volume(self.volume)
        except docker.errors.NotFound:
            return False
        return True

    def _create(self, network: str, port: int, inner: int) -> None:
        api = self.api()
        host_config = api.create_host_config(
            init=True,
            security_opt=["no-new-privileges"],
            network_mode="bridge",  # publishing needs it; the objects network cannot
            port_bindings={inner: ("127.0.0.1", port)},
            binds={self.volume: {"bind": DATA, "mode": "rw"}},
        )
        api.create_container(
            self.image, ["sh", "-c", LAUNCHER, "ptest-launch", self.user], name=self.container,
            labels=object_labels(self.key, self.obj.name), ports=[inner],
            environment=self.obj.base_environment(), host_config=host_config,
            stop_signal=signal.Signals(self.obj.stop_signal).name,
        )
        try:
            api.connect_container_to_network(self.container, network, aliases=[self.obj.name])
        except BaseException:
            self._remove_container()
            raise

    def _launch(self, argv: Sequence[str]) -> None:
        """Hand the server's arguments to the waiting launcher, which then runs them."""
        if any("\n" in arg or "\0" in arg for arg in argv):
            raise UsageError(f"{self.obj.name}: a server argument contains a line break", "")
        text = "".join(f"{arg}\n" for arg in argv).encode()
        # Extracted in order: the argument file is complete before "go" exists.
        archive = tar_files([(f"{Path(LAUNCH).name}/argv", text, 0o644),
                        (f"{Path(LAUNCH).name}/go", b"", 0o644)])
        self.api().put_archive(self.container, str(Path(LAUNCH).parent), archive)

    def stop(self) -> None:
        """Stop and remove the container (the data volume stays); release the port.

        The objects network goes too when nothing else uses it.
        """
        from ptest_tui.objects.network import remove_workspace_network

        with self.docker_errors("stop its container"):
            self._remove_container(graceful=True)
            self.obj.context.release_port(self.obj.name)
            remove_workspace_network(self.api(), self.key)

    def remove(self) -> None:
        """Remove the container and the data volume."""
        self.stop()
        with self.docker_errors("remove its data volume"):
            self._remove_volume()

    def _remove_container(self, graceful: bool = False) -> None:
        import docker.errors

        from ptest_tui.engines.docker_client import remove_container

        api = self.api()
        if graceful:
            try:
                api.stop(self.container, timeout=30)  # the kind's stop signal, then KILL
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                pass  # removed by force below
            self.sync_logs()  # with the shutdown lines
        remove_container(api, self.container)

    def _remove_volume(self) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.api().remove_volume(self.volume, force=True)

    # -- inspection ---------------------------------------------------------------------

    def _inspect(self) -> dict[str, Any] | None:
        import docker.errors

        try:
            return dict(self.api().inspect_container(self.container))
        except docker.errors.NotFound:
            return None

    def _running(self) -> bool:
        info = self._inspect()
        return bool(info and (info.get("State") or {}).get("Running"))

    def _ready(self, port: int) -> Readiness:
        return Mirrored(self.obj.readiness(port), self.sync_logs)

    def status(self) -> ObjectStatus:
        """Running while the container runs; healthy when the server answers."""
        try:
            with self.docker_errors("inspect the container"):
                info = self._inspect()
        except PtestError as exc:  # listings go on when the daemon is away
            return ObjectStatus(False, False, f"unknown: {exc.message}")
        if info is None:
            return ObjectStatus(False, False, "stopped")
        state = info.get("State") or {}
        if not state.get("Running"):
            code = state.get("ExitCode")
            return ObjectStatus(False, False, f"crashed: its container exited with code {code}")
        port = self.obj.context.held_port(self.obj.name)
        healthy = port is not None and self._ready(port).check()
        where = f"container {self.container}"
        return ObjectStatus(True, healthy, f"{where}, port {port}" if healthy
                            else f"{where}, not answering")

    def pid(self) -> int | None:
        """The host pid of the container's init while it runs."""
        try:
            with self.docker_errors("inspect the container"):
                info = self._inspect()
        except PtestError:
            return None
        state = (info or {}).get("State") or {}
        return int(state["Pid"]) if state.get("Running") and state.get("Pid") else None

    def network_extra(self, host_port: int) -> dict[str, str]:
        """How docker envs reach it: ``docker_host``, ``docker_port``, ``docker_url``."""
        inner = self.container_port(host_port)
        return {
            "docker_host": self.obj.name,
            "docker_port": str(inner),
            "docker_url": self.obj.url_at(self.obj.name, inner),
        }

    # -- logs -------------------------------------------------------------------------------

    def _rotate_log(self) -> None:
        log_file = self.obj.process.log_file
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if log_file.exists() and log_file.stat().st_size:
            log_file.replace(log_file.with_suffix(".log.1"))
        log_file.write_bytes(b"")

    def sync_logs(self) -> None:
        """Copy the container's log into the object's log file (when it grew)."""
        import docker.errors

        try:
            data = bytes(self.api().logs(self.container, stdout=True, stderr=True))
        except (docker.errors.APIError, PtestError):
            return  # no container (yet, or any more), no daemon: keep what the file has
        log_file = self.obj.process.log_file
        try:
            if log_file.stat().st_size == len(data):
                return
        except OSError:
            log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_bytes(data)

def leftovers(service: ObjectService, known: set[str]) -> list[Leftover]:
    """Labelled containers and volumes of objects not in ``known``, and an idle network.

    Empty when Docker is not configured or does not answer (nothing to clean there).
    """
    from functools import partial

    from ptest_tui.engines.docker_client import list_labelled, remove_resource
    from ptest_tui.objects.leftovers import Leftover
    from ptest_tui.objects.network import remove_workspace_network, unused_networks
    from ptest_tui.outcomes import CleanupItem

    context = service.context
    if context.docker is None:
        return []
    try:
        api = context.docker()
        found = list_labelled(api, object_filter(context.workspace_key))
    except Exception:  # no daemon: nothing of ours to find there
        return []
    # Containers first: a volume or network in use cannot be removed.
    found = [r for r in found if r.labels.get(labels.LABEL_OBJECT, "") not in known]
    found.sort(key=lambda r: labels.RESOURCE_KINDS.index(r.kind))
    leaving = {r.id for r in found if r.kind == "container"}
    found += unused_networks(api, context.workspace_key, leaving)
    items = []
    for resource in found:
        owner = resource.labels.get(labels.LABEL_OBJECT, "")
        reason = (f"no object {owner!r} owns this {resource.kind}" if owner
                  else "nothing uses the objects network any more")
        # The network is checked again when removed: an env may have joined it since.
        remove = (partial(remove_resource, api, resource) if owner
                  else partial(remove_workspace_network, api, context.workspace_key))
        items.append(Leftover(CleanupItem(resource.kind, resource.name, owner, reason), remove))
    return items
