"""What an env's container is created with: limits, environment, mounts, host config.

Memory is a hard limit (swap equal to memory), CPUs and pids are capped, the network is
``none`` unless asked, no-new-privileges is always set, and the workspace is bind-mounted
read-only by default with ``.ptest`` hidden under a tmpfs. The docker SDK is imported
inside the functions that need it.
"""

from __future__ import annotations

from typing import Any

from ptest_tui.engines import docker_labels as labels
from ptest_tui.engines import docker_packages as pkgs
from ptest_tui.engines.base import EngineContext
from ptest_tui.engines.spec import EnvSpec

HOME = "/root"


def mount_mode(context: EngineContext, spec: EnvSpec) -> str:
    """How the workspace is mounted: ``ro`` (default), ``rw`` or ``none``."""
    return spec.workspace_mount or context.config.docker.workspace_mount or "ro"


def container_limits(context: EngineContext, spec: EnvSpec) -> dict[str, Any]:
    """Memory, CPUs, pids and network: the env's own, else the [docker] defaults."""
    cfg = context.config.docker
    pids = spec.pids if spec.pids is not None else (cfg.pids or None)
    return {
        "memory": spec.memory,
        "cpus": spec.cpus,
        "pids": pids,
        "network": spec.network or cfg.network or "none",
    }


def container_environment(
    context: EngineContext, spec: EnvSpec, mounted: bool, info: dict[str, Any], *, venv: bool
) -> dict[str, str]:
    """The container's variables: PTEST_ENV, HOME, the workspace path, the venv's, the env's."""
    env = {"PTEST_ENV": spec.name, "HOME": HOME, "LANG": "C.UTF-8"}
    if mounted:
        env["PTEST_WORKSPACE"] = context.config.docker.mount_path
    if venv:
        env.update(pkgs.venv_environment(info))
    env.update(spec.environment)
    return env


def host_config(
    api: Any,
    context: EngineContext,
    limits: dict[str, Any],
    mode: str,
    extra: list[Any],
    network_mode: str,
    *,
    mount_workspace: bool,
) -> Any:
    """The host config: init, limits, no-new-privileges, the workspace and ``extra`` mounts.

    ``mount_workspace`` is false when the daemon cannot see this machine's files (the
    workspace is then copied in after create).
    """
    from docker.types import Mount

    mount_path = context.config.docker.mount_path
    mounts = list(extra)
    if mode != "none" and mount_workspace:
        mounts.append(Mount(mount_path, str(context.root), type="bind", read_only=mode == "ro"))
        if context.state_dir.is_dir():
            # Hide .ptest (the state store, other envs' folders) from the container.
            state = f"{mount_path.rstrip('/')}/{context.state_dir.name}"
            mounts.append(Mount(state, None, type="tmpfs"))
    memory = limits["memory"]
    return api.create_host_config(
        init=True,
        network_mode=network_mode,
        security_opt=["no-new-privileges"],
        mounts=mounts,
        mem_limit=memory,
        memswap_limit=memory,  # equal to memory: no swap, so the limit is real
        nano_cpus=int(limits["cpus"] * 1e9) if limits["cpus"] else None,
        pids_limit=limits["pids"],
    )


def venv_volume(context: EngineContext, spec: EnvSpec) -> Any:
    """An anonymous, labelled volume for the env's venv.

    Package installs copy thousands of files (hard links cannot cross the read-only
    cache mount); written to a volume they cost a third of what the container's overlay
    filesystem charges. Anonymous, so removing the container removes it too.
    """
    from docker.types import Mount

    return Mount(
        pkgs.VENV,
        None,
        type="volume",
        labels=labels.resource_labels(context.workspace_id, spec.name, context.session_id),
    )
