"""What an environment should be: the validated request every engine receives."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class EnvSpec:
    """A validated environment request.

    ``isolation`` is what was asked for (``auto`` allowed); the chosen level is stored
    beside it with the reason. Sizes are already parsed (bytes, CPUs, process count).
    """

    name: str
    isolation: str = "auto"
    python: str = ""
    image: str = ""
    memory: int | None = None
    cpus: float | None = None
    pids: int | None = None
    network: str = ""
    workspace_mount: str = ""
    packages: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=())
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, as stored."""
        data = asdict(self)
        data["packages"] = list(self.packages)
        data["env"] = dict(self.env)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnvSpec:
        """Inverse of :meth:`to_dict` (unknown keys are ignored for forward compatibility)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["packages"] = tuple(known.get("packages") or ())
        known["env"] = tuple(sorted((known.get("env") or {}).items()))
        for key in ("python", "image", "network", "workspace_mount", "description"):
            known[key] = known.get(key) or ""
        return cls(**known)

    @property
    def environment(self) -> dict[str, str]:
        """Extra environment variables as a dict."""
        return dict(self.env)
