"""Typed, frozen views of a validated configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DefaultsConfig:
    """The ``[defaults]`` section."""

    isolation: str = "auto"
    python: str = ""
    max_workers: int = 0
    installer: str = "uv"


@dataclass(frozen=True)
class DockerConfig:
    """The ``[docker]`` section."""

    image: str = "ptest-tui/python:3.11"
    host: str = ""
    network: str = "none"
    workspace_mount: str = "ro"
    mount_path: str = "/workspace"
    pids: int = 0


@dataclass(frozen=True)
class ImageConfig:
    """The ``[image]`` section (offline base-image builds)."""

    suite: str = ""
    mirror: str = ""


@dataclass(frozen=True)
class UiConfig:
    """The ``[ui]`` section."""

    theme: str = "ptest-dark"


@dataclass(frozen=True)
class Config:
    """The effective configuration: defaults < file < PTEST_* variables < flags."""

    root: Path
    workspace_name: str
    defaults: DefaultsConfig = field(default_factory=DefaultsConfig)
    docker: DockerConfig = field(default_factory=DockerConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    envs: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_validated(
        cls, root: Path, data: dict[str, Any], sources: tuple[str, ...]
    ) -> Config:
        """Build from the output of :func:`ptest_tui.config.schema.validate`."""
        return cls(
            root=root,
            workspace_name=data["workspace"]["name"] or root.name,
            defaults=DefaultsConfig(**data["defaults"]),
            docker=DockerConfig(**data["docker"]),
            image=ImageConfig(**data["image"]),
            ui=UiConfig(**data["ui"]),
            envs=data["envs"],
            sources=sources,
            raw=data,
        )

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration as plain data (``config show``)."""
        return {
            "workspace": {"root": str(self.root), "name": self.workspace_name},
            "sources": list(self.sources),
            **{k: v for k, v in self.raw.items() if k != "workspace"},
        }
