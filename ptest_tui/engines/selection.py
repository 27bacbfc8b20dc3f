"""The isolation manager: pick a level from what an environment needs, and say why."""

from __future__ import annotations

from dataclasses import dataclass

from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import UsageError
from ptest_tui.validation import format_memory

# What each built-in level can honour; plugin engines declare their own.
NEEDS_DOCKER = ("memory", "cpus", "pids", "image", "network", "workspace_mount")


@dataclass(frozen=True)
class Selection:
    """The chosen isolation level and the reason shown by ``env show``."""

    level: str
    reason: str


def _docker_needs(spec: EnvSpec) -> list[str]:
    needs = []
    if spec.memory is not None:
        needs.append(f"memory limit {format_memory(spec.memory)}")
    if spec.cpus is not None:
        needs.append(f"cpu limit {spec.cpus:g}")
    if spec.pids is not None:
        needs.append(f"pids limit {spec.pids}")
    if spec.image:
        needs.append(f"image {spec.image}")
    if spec.network:
        needs.append(f"network {spec.network}")
    if spec.workspace_mount:
        needs.append(f"workspace mount {spec.workspace_mount}")
    return needs


def select_isolation(spec: EnvSpec, supported: dict[str, frozenset[str]]) -> Selection:
    """Choose the level for ``spec``.

    ``supported`` maps each registered engine to the needs it can honour ("limits",
    "image", "network", "python", "packages"). Rules for auto, first match wins:
    resource limits, then a custom image or network isolation select docker; a Python
    version or packages select virtualenv; otherwise basic.
    """
    docker_needs = _docker_needs(spec)
    python_needs = []
    if spec.python:
        python_needs.append(f"python {spec.python}")
    if spec.packages:
        python_needs.append(f"{len(spec.packages)} package(s)")

    if spec.isolation != "auto":
        level = spec.isolation
        if level not in supported:
            raise UsageError(
                f"unknown isolation level {level!r}",
                "use one of: auto, " + ", ".join(sorted(supported)),
            )
        caps = supported[level]
        if docker_needs and not {"limits", "image", "network", "mount"} & caps:
            raise UsageError(
                f"{level} environments cannot honour {', '.join(docker_needs)}",
                "use --isolation docker or auto",
            )
        if python_needs and "python" not in caps:
            raise UsageError(
                f"{level} environments cannot honour {', '.join(python_needs)}",
                "use --isolation virtualenv, docker or auto",
            )
        return Selection(level, f"requested isolation {level}")

    if spec.memory is not None or spec.cpus is not None or spec.pids is not None:
        return Selection("docker", "resource limits need docker: " + ", ".join(docker_needs))
    if docker_needs:
        return Selection("docker", "needs docker: " + ", ".join(docker_needs))
    if python_needs:
        return Selection("virtualenv", "needs a Python environment: " + ", ".join(python_needs))
    return Selection("basic", "no Python version, packages, limits or image requested")
