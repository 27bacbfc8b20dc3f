"""The docker engine: one long-lived container per environment.

The container runs ``sleep infinity`` under Docker's init (so signals and zombies are
handled) and every command is an ``exec`` into it, which is far cheaper than a container
per command. Limits (memory with equal memswap, CPUs, pids), the network mode, the
workspace mount and no-new-privileges are fixed at create time. Every resource carries
the labels from :mod:`ptest_tui.engines.docker_labels`, so ``delete`` and ``cleanup`` find
what a killed process left behind.

The docker SDK is imported lazily; importing this module costs nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import docker_labels as labels
from ptest_tui.engines import docker_packages as pkgs
from ptest_tui.engines.base import (
    EngineContext,
    EngineStatus,
    ExecResult,
    IsolationEngine,
    Leftover,
    OutputCallback,
    PackageTarget,
)
from ptest_tui.engines.docker_client import (
    DockerTarget,
    connect,
    daemon_errors,
    list_labelled,
    remove_container,
    remove_resource,
    resolve_target,
    workspace_archive,
)
from ptest_tui.engines.docker_config import (
    HOME,
    container_environment,
    container_limits,
    host_config,
    mount_mode,
    venv_volume,
)
from ptest_tui.engines.docker_exec import run_exec
from ptest_tui.engines.image_sources import DEFAULT_REPOSITORY, SUITES, supported
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import EngineError, EngineUnavailableError, ImageError, UsageError
from ptest_tui.objects.network import (
    network_name,
    on_network,
    remove_workspace_network,
    unused_networks,
)

if TYPE_CHECKING:
    from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY = 10.0  # seconds before a failed ping is tried again (a daemon may start)


class ImageMissingError(ImageError):
    """The image of a docker env is not on the daemon; nothing was changed."""

    exit_code = UsageError.exit_code


def build_hint(python: str, tag: str) -> str:
    """The exact command that builds a missing base image offline."""
    return f"build it with `ptest-tui image build --python {python} --tag {tag}`"


class DockerEngine(IsolationEngine):
    """One container per environment, commands run by exec."""

    name = "docker"
    description = "Docker container per environment (limits, image, network isolation)"
    # Packages: a venv in the container, installed offline from the host's shared cache
    # (mounted read-only); see docker_packages. Needs a local daemon.
    capabilities = frozenset({"python", "packages", "limits", "image", "network"})

    def __init__(self, context: EngineContext) -> None:
        super().__init__(context)
        self._lock = threading.Lock()
        self._api: Any = None
        self._target: DockerTarget | None = None
        self._failure: tuple[float, EngineUnavailableError] | None = None

    # -- connection -------------------------------------------------------------------

    @property
    def target(self) -> DockerTarget:
        """The daemon this engine talks to (resolved once, never contacted here)."""
        if self._target is None:
            self._target = resolve_target(self.context.config.docker.host, os.environ)
        return self._target

    @property
    def shares_host_filesystem(self) -> bool:
        """True for a local unix-socket daemon; remote daemons get files via put_archive."""
        return self.target.is_local

    def api(self) -> Any:
        """The connected low-level client (one per engine, shared by threads)."""
        with self._lock:
            if self._api is not None:
                return self._api
            if self._failure and time.monotonic() - self._failure[0] < UNAVAILABLE_RETRY:
                raise self._failure[1]
            try:
                self._api = connect(self.target)
            except EngineUnavailableError as exc:
                self._failure = (time.monotonic(), exc)
                raise
            self._failure = None
            return self._api

    def unavailable_reason(self) -> str | None:
        """None when the daemon answers a ping; the answer is cached on this instance."""
        try:
            self.api()
        except EngineUnavailableError as exc:
            return exc.message
        return None

    # -- validation ---------------------------------------------------------------------

    def image_for(self, spec: EnvSpec) -> str:
        """The image ``spec`` runs: its own, else ``docker.image`` from the config."""
        return spec.image or self.context.config.docker.image

    def _python_for_hint(self, spec: EnvSpec, image: str) -> str:
        """A buildable Python version for the hint: the env's, the tag's, or the default."""
        tag = labels.split_tag(image)[1]
        for candidate in (spec.python, tag, self.context.config.defaults.python):
            short = ".".join((candidate or "").split(".")[:2])
            if short in SUITES:
                return short
        return "3.11"

    def inspect_image(self, spec: EnvSpec) -> dict[str, Any]:
        """The local image of ``spec``; ImageMissingError (never a pull) when absent."""
        import docker.errors

        image = self.image_for(spec)
        try:
            return dict(self.api().inspect_image(image))
        except docker.errors.ImageNotFound:
            raise ImageMissingError(
                f"docker image {image} is not available on the daemon",
                build_hint(self._python_for_hint(spec, image), image),
            ) from None
        except docker.errors.APIError as exc:
            raise ImageError(
                f"cannot inspect image {image}: {exc.explanation or exc}", "check `docker info`"
            ) from None

    def validate(self, spec: EnvSpec) -> None:
        """Image present locally, and its Python matches ``spec.python`` when both are known."""
        if spec.python and not all(p.isdigit() for p in spec.python.split(".")):
            raise UsageError(
                f"docker environments take a Python version such as 3.11, not {spec.python!r}",
                "pass --python X.Y, or leave it out to use the image's Python",
            )
        info = self.inspect_image(spec)
        image_labels = (info.get("Config") or {}).get("Labels") or {}
        have = image_labels.get(labels.LABEL_PYTHON_VERSION) or image_labels.get(
            labels.LABEL_PYTHON, ""
        )
        if spec.python and have and not labels.python_matches(spec.python, have):
            short = ".".join(spec.python.split(".")[:2])
            tag = f"{DEFAULT_REPOSITORY}:{short}"
            hint = (
                f"{build_hint(short, tag)} and pass --image {tag}"
                if short in SUITES
                else f"pass --image with an image that has Python {spec.python}"
                f" (image build supports {supported()})"
            )
            image = self.image_for(spec)
            raise UsageError(f"image {image} has Python {have}, not {spec.python}", hint)
        if spec.packages:
            support = self.package_support()
            if support.reason:
                raise UsageError(
                    f"cannot install packages into docker env {spec.name}: {support.reason}",
                    "create the env without packages, or use a virtualenv env",
                )

    def package_support(self) -> pkgs.HostSupport:
        """What this engine's containers get for packages (uv and the cache), or why not."""
        from ptest_tui.engines.virtualenv import find_uv

        return pkgs.host_support(self.shares_host_filesystem, find_uv)

    # -- create -------------------------------------------------------------------------

    def create(self, spec: EnvSpec, cancel: CancelToken) -> dict[str, Any]:
        """Create and start the env's container; ready once ``python3`` runs in it."""
        with daemon_errors(self.target, f"create the container of {spec.name}"):
            return self._create(spec, cancel)

    def _create(self, spec: EnvSpec, cancel: CancelToken) -> dict[str, Any]:
        import docker.errors

        api = self.api()
        info = self.inspect_image(spec)
        image = self.image_for(spec)
        mode = mount_mode(self.context, spec)
        limits = container_limits(self.context, spec)
        name = labels.container_name(self.context.workspace_id, spec.name)
        mount_path = self.context.config.docker.mount_path
        support = self.package_support()
        package_mounts = [] if support.reason else pkgs.prepare_host(support)
        if not support.reason:
            package_mounts.append(venv_volume(self.context, spec))
        network = limits["network"]
        kwargs = {
            "image": info["Id"],
            "command": ["sleep", "infinity"],
            "name": name,
            "labels": labels.resource_labels(
                self.context.workspace_id, spec.name, self.context.session_id
            ),
            "environment": container_environment(
                self.context, spec, mode != "none", info, venv=not support.reason
            ),
            "working_dir": mount_path if mode != "none" else HOME,
        }

        def create_on(objects_network: str) -> str:
            # "none" means the objects network alone (internal: the env's objects and
            # nothing else); "bridge" means the bridge plus the objects network.
            primary = objects_network if network == "none" else network
            kwargs["host_config"] = host_config(
                api, self.context, limits, mode, package_mounts, primary,
                mount_workspace=self.shares_host_filesystem,
            )
            try:
                created = str(api.create_container(**kwargs)["Id"])
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    if isinstance(exc, docker.errors.NotFound):
                        raise  # the objects network vanished: on_network creates it again
                    raise EngineError(
                        f"cannot create container {name}: {exc.explanation or exc}", ""
                    ) from None
                # A container of that name with no stored env: left by a killed process.
                log.warning("removing stale container %s before creating it again", name)
                remove_container(api, name)
                created = str(api.create_container(**kwargs)["Id"])
            if primary != objects_network:
                try:
                    api.connect_container_to_network(created, objects_network)
                except BaseException:
                    remove_container(api, created)
                    raise
            return created

        cancel.raise_if_cancelled("create")
        container = on_network(api, self.context.workspace_id, create_on)
        objects_network = network_name(self.context.workspace_id)
        try:
            if mode != "none" and not self.shares_host_filesystem:
                with workspace_archive(self.context.root, mount_path) as archive:
                    api.put_archive(container, "/", archive)
            cancel.raise_if_cancelled("create")
            api.start(container)
            setup = pkgs.setup_container(api, container, cancel, support)
        except BaseException:
            try:
                remove_container(api, container)
            except Exception:  # the caller's rollback deletes by label again
                log.warning("could not remove half-created container %s", name, exc_info=True)
            raise
        version = setup["python_version"]
        if spec.python and not labels.python_matches(spec.python, version):
            remove_container(api, container)
            raise UsageError(f"image {image} runs Python {version}, not {spec.python}", "")
        packages = pkgs.packages_state(support, setup)
        if spec.packages and not packages.supported:
            remove_container(api, container)
            raise EngineError(
                f"cannot install packages into docker env {spec.name}: {packages.reason}",
                "use an image built by `ptest-tui image build`",
            )
        state = {
            "container_id": container,
            "container_name": name,
            "image": image,
            "image_id": info["Id"],
            "python_version": version,
            "limits": limits,
            "objects_network": objects_network,
            "workspace_mount": mode,
            "mount_path": mount_path if mode != "none" else "",
            "docker_host": self.target.url,
            pkgs.STATE_KEY: packages.to_state(),
        }
        # Packages asked for at create time; the rollback removes the container on failure.
        if spec.packages:
            pkgs.install_at_create(self, spec, state, cancel)
        return state

    # -- exec, status -------------------------------------------------------------------

    @staticmethod
    def _ref(record: EnvRecord, workspace_id: str) -> str:
        return str(
            record.engine_state.get("container_id")
            or labels.container_name(workspace_id, record.name)
        )

    def exec(
        self,
        record: EnvRecord,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        cancel: CancelToken,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the env's container (cwd defaults to the workspace mount)."""
        with daemon_errors(self.target, f"run a command in {record.name}"):
            return run_exec(
                self.api(), self._ref(record, self.context.workspace_id), argv,
                environment=env or {}, workdir=cwd, on_output=on_output, cancel=cancel,
                timeout=timeout,
            )

    # -- packages (see docker_packages) -------------------------------------------------

    def container_ref(self, record: EnvRecord) -> str:
        """The env's container: its stored id, else its name."""
        return self._ref(record, self.context.workspace_id)

    def package_target(self, record: EnvRecord) -> PackageTarget | None:
        """The venv's interpreter inside the container (``/env/venv/bin/python``).

        EnvStateError when the env cannot hold packages (made before docker envs could,
        or on a remote daemon); the message says to recreate it.
        """
        return PackageTarget(python=pkgs.checked_state(record).python, in_container=True)

    def run_package_tool(
        self,
        record: EnvRecord,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        cancel: CancelToken,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run uv (the host's binary, mounted) or the venv's python in the container, offline.

        Only what :meth:`populate_cache` fetched is there: ``UV_OFFLINE=1`` always, and the
        container has no network by default. Find-links folders map to their mirror,
        requirement and lock files named in ``argv`` are copied in, credentials are
        removed from URLs; of ``env`` only the ``UV_*`` settings are kept.
        """
        with daemon_errors(self.target, f"run {argv[0] if argv else '?'} in {record.name}"):
            return pkgs.run_tool(self, record, argv, on_output=on_output, cancel=cancel,
                                 env=env, timeout=timeout)

    def wheelhouse(self, record: EnvRecord) -> str:
        """The folder of wheels pip installs from in this env (see docker_wheelhouse)."""
        from ptest_tui.engines.docker_wheelhouse import wheelhouse

        return wheelhouse(pkgs.checked_state(record).cache_root)

    def fill_wheelhouse(
        self,
        record: EnvRecord,
        requirements: Sequence[str],
        *,
        index_args: Sequence[str],
        cancel: CancelToken,
    ) -> None:
        """``pip download`` on the host what ``requirements`` need in this container."""
        from ptest_tui.engines.docker_wheelhouse import fill_wheelhouse

        packages = pkgs.checked_state(record)
        fill_wheelhouse(
            requirements, cache_root=packages.cache_root,
            python_version=packages.python_version, platform_tag=packages.platform,
            index_args=index_args, cancel=cancel,
        )

    def populate_cache(
        self,
        record: EnvRecord,
        requirements: Sequence[str],
        *,
        index_args: Sequence[str],
        cancel: CancelToken,
        requirement_files: Sequence[str] = (),
        on_output: OutputCallback | None = None,
    ) -> None:
        """Fetch on the host what ``requirements`` need in this env's container.

        :func:`ptest_tui.engines.docker_packages.populate_cache` for the env's Python
        version and platform. Call it before a uv command in the env, with the same
        requirements (plus the installed pins) and index arguments.
        """
        packages = pkgs.checked_state(record)
        pkgs.populate_cache(
            requirements, index_args=index_args, python_version=packages.python_version,
            platform_tag=packages.platform, cancel=cancel,
            requirement_files=requirement_files, on_output=on_output,
        )

    def status(self, record: EnvRecord) -> EngineStatus:
        """Healthy while the container exists and runs."""
        import docker.errors

        ref = self._ref(record, self.context.workspace_id)
        try:
            with daemon_errors(self.target, "inspect the container"):
                try:
                    info = self.api().inspect_container(ref)
                except docker.errors.NotFound:
                    return EngineStatus(False, f"container {ref[:12]} is missing")
        except EngineError as exc:
            return EngineStatus(False, exc.message)
        state = info.get("State") or {}
        name = str(info.get("Name", "")).lstrip("/")
        if state.get("Running"):
            image = record.engine_state.get("image", "")
            return EngineStatus(True, f"container {name} running (image {image})")
        status, code = state.get("Status", "?"), state.get("ExitCode")
        return EngineStatus(False, f"container {name} is {status} (exit code {code})")

    # -- delete and leftovers -----------------------------------------------------------

    def delete(self, record: EnvRecord) -> None:
        """Remove the container by stored id and everything labelled with this env."""
        with daemon_errors(self.target, f"delete the resources of {record.name}"):
            self._delete(record)

    def _delete(self, record: EnvRecord) -> None:
        api = self.api()
        stored = record.engine_state.get("container_id")
        if stored:
            remove_container(api, str(stored))
        # Containers first: a network or volume in use by one cannot be removed.
        filters = labels.env_filter(self.context.workspace_id, record.name)
        found = list_labelled(self.api(), filters)
        for resource in sorted(found, key=lambda r: labels.RESOURCE_KINDS.index(r.kind)):
            remove_resource(api, resource)
        # The shared objects network goes with its last user: each one holds a subnet of
        # the daemon's small address pool.
        remove_workspace_network(api, self.context.workspace_id)

    def _env_resources(self, api: Any) -> list[labels.LabelledResource]:
        """This workspace's labelled resources, minus the objects' own (see objects.network)."""
        found = list_labelled(api, labels.workspace_filter(self.context.workspace_id))
        theirs = {labels.LABEL_OBJECT, labels.LABEL_NETWORK}
        return [r for r in found if not theirs & set(r.labels)]

    def leftovers(self, known: set[str]) -> list[Leftover]:
        """Labelled resources of this workspace whose env is not stored.

        Containers and volumes of test objects are the objects' business (``obj cleanup``);
        the shared objects network is a leftover once only leftovers use it.
        """
        api = self.api()
        with daemon_errors(self.target, "list docker resources"):
            orphans = labels.orphans(self._env_resources(api), known)
            leaving = {r.id for r in orphans if r.kind == "container"}
            idle = unused_networks(api, self.context.workspace_id, leaving)
        found = [Leftover(r.kind, r.name, r.env, labels.orphan_reason(r)) for r in orphans]
        # After the containers: a network cannot be removed while one is attached.
        found += [
            Leftover("network", r.name, "", "no environment or object uses the objects network")
            for r in idle
        ]
        return found

    def remove_leftover(self, leftover: Leftover) -> None:
        """Remove one leftover, re-found by label so nothing unlabelled is ever touched."""
        api = self.api()
        with daemon_errors(self.target, f"remove {leftover.kind} {leftover.name}"):
            if leftover.kind == "network" and not leftover.env:
                for network in unused_networks(api, self.context.workspace_id):
                    if network.name == leftover.name:
                        remove_resource(api, network)
                return
            for resource in self._env_resources(api):
                if resource.kind == leftover.kind and resource.name == leftover.name:
                    remove_resource(api, resource)
