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
class PackagesConfig:
    """The ``[packages]`` section: installer backend and index configuration."""

    installer: str = ""
    index_url: str = ""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    offline: bool = False
    prefer_cache: bool = True


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
class ObjectsConfig:
    """The ``[objects]`` section (test objects and their ports)."""

    port_range: str = "20000-29999"
    run_as: str = ""

    @property
    def ports(self) -> tuple[int, int]:
        """The range as (first, last)."""
        first, _, last = self.port_range.partition("-")
        return int(first), int(last)


@dataclass(frozen=True)
class UiConfig:
    """The ``[ui]`` section."""

    theme: str = "ptest-dark"
    keymap: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitorConfig:
    """The ``[monitor]`` section: sampling and alert thresholds (0 turns one off)."""

    interval: float = 1.0
    retention: float = 600.0
    cpu_percent: float = 0.0
    memory: int | str = 0  # bytes, or a percent such as "80%"
    disk_free: int = 0

    @property
    def memory_bytes(self) -> int:
        """The memory threshold as a size (0 when off or given as a percent)."""
        return self.memory if isinstance(self.memory, int) else 0

    @property
    def memory_percent(self) -> float:
        """The memory threshold as a percent (0 when off or given as a size)."""
        return float(self.memory.rstrip("%")) if isinstance(self.memory, str) else 0.0


@dataclass(frozen=True)
class PluginsConfig:
    """The ``[plugins]`` section: extra plugin paths, plugins not to load, and each
    plugin's own ``[plugins.NAME]`` settings (see docs/plugins.md)."""

    paths: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_plugin(self, name: str) -> dict[str, Any]:
        """The ``[plugins.NAME]`` table of one plugin (empty when there is none)."""
        return dict(self.settings.get(name, {}))


@dataclass(frozen=True)
class Config:
    """The effective configuration: defaults < file < PTEST_* variables < flags."""

    root: Path
    workspace_name: str
    defaults: DefaultsConfig = field(default_factory=DefaultsConfig)
    docker: DockerConfig = field(default_factory=DockerConfig)
    packages: PackagesConfig = field(default_factory=PackagesConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    objects: ObjectsConfig = field(default_factory=ObjectsConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    envs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # [objects.NAME] tables: declared test objects (kind and settings, checked by kinds).
    declared_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # [suites.NAME] tables as validated plain data; Session.suites() parses them.
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)
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
            packages=PackagesConfig(
                installer=data["packages"]["installer"],
                index_url=data["packages"]["index_url"],
                extra_index_urls=tuple(data["packages"]["extra_index_urls"]),
                find_links=tuple(data["packages"]["find_links"]),
                offline=data["packages"]["offline"],
                prefer_cache=data["packages"]["prefer_cache"],
            ),
            image=ImageConfig(**data["image"]),
            objects=ObjectsConfig(
                **{k: v for k, v in data["objects"].items() if not isinstance(v, dict)}
            ),
            declared_objects={
                k: v for k, v in data["objects"].items() if isinstance(v, dict)
            },
            ui=UiConfig(**data["ui"]),
            monitor=MonitorConfig(**data.get("monitor", {})),
            plugins=PluginsConfig(
                paths=tuple(data.get("plugins", {}).get("paths", ())),
                disabled=tuple(data.get("plugins", {}).get("disabled", ())),
                settings={
                    k: v for k, v in data.get("plugins", {}).items() if isinstance(v, dict)
                },
            ),
            envs=data["envs"],
            suites=data.get("suites", {}),
            sources=sources,
            raw=data,
        )

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration as plain data (``config show``)."""
        from ptest_tui.packages.index import redact

        data = {
            "workspace": {"root": str(self.root), "name": self.workspace_name},
            "sources": list(self.sources),
            **{k: v for k, v in self.raw.items() if k != "workspace"},
        }
        if isinstance(data.get("packages"), dict):
            # Index URLs may carry credentials; they are never printed.
            packages = dict(data["packages"])
            for key in ("index_url", "extra_index_urls", "find_links"):
                value = packages.get(key)
                if isinstance(value, str):
                    packages[key] = redact(value)
                elif isinstance(value, list):
                    packages[key] = [redact(str(item)) for item in value]
            data["packages"] = packages
        return data
