"""Labels, names and filters for the Docker resources ptest-tui creates.

Every container, network and volume carries ``ptest.workspace``, ``ptest.env`` and
``ptest.session`` labels (plus ``ptest.managed=1``), so cleanup finds leaks by asking the
daemon instead of guessing from names (the idea of testcontainers' ``core/labels.py``).
Everything here is pure: no daemon is contacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LABEL_MANAGED = "ptest.managed"
LABEL_WORKSPACE = "ptest.workspace"
LABEL_ENV = "ptest.env"
LABEL_SESSION = "ptest.session"

# Labels set on images built by ``ptest-tui image build``.
LABEL_IMAGE = "ptest.image"
LABEL_PYTHON = "ptest.python"  # X.Y
LABEL_PYTHON_VERSION = "ptest.python_version"  # X.Y.Z
LABEL_SUITE = "ptest.suite"
LABEL_PACKAGES = "ptest.packages"  # extra Debian packages (image build --packages)

# Test objects run as containers (ptest_tui/objects/container.py): their containers and
# volumes carry LABEL_OBJECT (the object's name) instead of LABEL_ENV, and the workspace's
# internal objects network carries LABEL_NETWORK; env cleanup leaves both to the objects.
LABEL_OBJECT = "ptest.object"
LABEL_NETWORK = "ptest.network"

RESOURCE_KINDS = ("container", "network", "volume")


def resource_labels(workspace_id: str, env: str, session_id: str) -> dict[str, str]:
    """The labels put on every resource that belongs to environment ``env``."""
    return {
        LABEL_MANAGED: "1",
        LABEL_WORKSPACE: workspace_id,
        LABEL_ENV: env,
        LABEL_SESSION: session_id,
    }


def container_name(workspace_id: str, env: str) -> str:
    """``ptest-<workspace id>-<env>``: unique per workspace, readable in ``docker ps``.

    Environment names are already restricted to ``[A-Za-z0-9][A-Za-z0-9._-]*``, which
    Docker accepts as-is in container names.
    """
    return f"ptest-{workspace_id}-{env}"


def workspace_filter(workspace_id: str) -> dict[str, list[str]]:
    """A Docker ``filters`` argument matching every resource of one workspace."""
    return {"label": [f"{LABEL_WORKSPACE}={workspace_id}"]}


def env_filter(workspace_id: str, env: str) -> dict[str, list[str]]:
    """A Docker ``filters`` argument matching the resources of one environment."""
    return {"label": [f"{LABEL_WORKSPACE}={workspace_id}", f"{LABEL_ENV}={env}"]}


@dataclass(frozen=True)
class LabelledResource:
    """A container, network or volume as listed by the daemon, reduced to what we need."""

    kind: str  # one of RESOURCE_KINDS
    id: str
    name: str
    labels: Mapping[str, str]

    @property
    def env(self) -> str:
        """The environment the resource belongs to ("" when the label is missing)."""
        return self.labels.get(LABEL_ENV, "")


def orphans(resources: Iterable[LabelledResource], known: set[str]) -> list[LabelledResource]:
    """Resources whose ``ptest.env`` label names no environment in ``known``."""
    return [r for r in resources if r.env not in known]


def orphan_reason(resource: LabelledResource) -> str:
    """Why cleanup removes ``resource`` (shown by ``env cleanup``)."""
    if not resource.env:
        return f"{resource.kind} has no {LABEL_ENV} label"
    return f"no environment {resource.env!r} owns this {resource.kind}"


def container_from_api(data: Mapping[str, object]) -> LabelledResource:
    """A resource from one entry of the low-level ``containers(all=True)`` listing."""
    names = data.get("Names") or []
    name = str(names[0]).lstrip("/") if isinstance(names, list) and names else ""
    return LabelledResource("container", str(data.get("Id", "")), name, _labels(data))


def network_from_api(data: Mapping[str, object]) -> LabelledResource:
    """A resource from one entry of the low-level ``networks()`` listing."""
    return LabelledResource(
        "network", str(data.get("Id", "")), str(data.get("Name", "")), _labels(data)
    )


def volume_from_api(data: Mapping[str, object]) -> LabelledResource:
    """A resource from one entry of the low-level ``volumes()['Volumes']`` listing."""
    name = str(data.get("Name", ""))
    return LabelledResource("volume", name, name, _labels(data))


def _labels(data: Mapping[str, object]) -> dict[str, str]:
    labels = data.get("Labels") or {}
    if not isinstance(labels, Mapping):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def python_matches(requested: str, actual: str) -> bool:
    """Whether a requested version (``3``, ``3.11``, ``3.11.4``) matches ``actual``.

    Only the components given are compared, so ``3.11`` matches ``3.11.2``.
    """
    want = [p for p in requested.strip().split(".") if p]
    have = [p for p in actual.strip().split(".") if p]
    return bool(want) and len(want) <= len(have) and want == have[: len(want)]


def split_tag(tag: str) -> tuple[str, str]:
    """``repo:tag`` into ``(repo, tag)``; a missing tag is ``latest``.

    A colon that belongs to a registry port (``host:5000/repo``) is not a tag separator.
    """
    slash = tag.rfind("/")
    colon = tag.rfind(":")
    if colon > slash:
        return tag[:colon], tag[colon + 1 :]
    return tag, "latest"
