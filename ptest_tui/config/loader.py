"""Find the workspace, read its configuration and merge every layer.

Layers, lowest first: built-in defaults, ``ptest.toml`` (or ``[tool.ptest]`` in
pyproject.toml), ``PTEST_<SECTION>_<KEY>`` environment variables, then ``--set`` flags.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ptest_tui.config.model import Config
from ptest_tui.config.schema import SECTIONS, validate
from ptest_tui.errors import ConfigError, WorkspaceError

CONFIG_FILE = "ptest.toml"
PYPROJECT = "pyproject.toml"


def find_workspace(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` with a ptest.toml or ``[tool.ptest]``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_ptest(pyproject):
            return folder
    return None


def _has_tool_ptest(pyproject: Path) -> bool:
    try:
        tool = read_toml(pyproject).get("tool", {})
    except ConfigError:
        return False
    return isinstance(tool, dict) and "ptest" in tool


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the file, line and column."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid TOML: {exc}", "fix the syntax at the line and column shown"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid UTF-8 (byte {exc.start})", "save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", "check the file") from None


def config_file_for(root: Path) -> Path:
    """The file that holds the workspace configuration (ptest.toml or pyproject.toml)."""
    return root / CONFIG_FILE if (root / CONFIG_FILE).is_file() else root / PYPROJECT


def read_file_layer(root: Path) -> tuple[dict[str, Any], str]:
    """The raw data of the workspace's config file and a label for messages."""
    path = config_file_for(root)
    if path.name == PYPROJECT:
        label = f"{path} [tool.ptest]"
        data = read_toml(path).get("tool", {})
        data = data.get("ptest", {}) if isinstance(data, dict) else None
        if not isinstance(data, dict):
            raise ConfigError(f"{label}: expected a table", "write it as [tool.ptest]")
        return data, label
    return read_toml(path), str(path)


def env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``PTEST_<SECTION>_<KEY>`` variables for known sections, as raw data."""
    layer: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith("PTEST_"):
            continue
        rest = name[len("PTEST_") :].lower()
        section, _, key = rest.partition("_")
        if section in SECTIONS and key:
            layer.setdefault(section, {})[key] = value
    return layer


def flag_layer(assignments: Iterable[str]) -> dict[str, Any]:
    """``--set section.key=value`` flags (``envs.NAME.key`` too) as raw data."""
    layer: dict[str, Any] = {}
    for item in assignments:
        path, sep, value = item.partition("=")
        parts = [p for p in path.strip().split(".") if p]
        if not sep or len(parts) < 2:
            raise ConfigError(
                f"invalid --set {item!r}", "use --set section.key=value, e.g. docker.network=bridge"
            )
        node = layer
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return layer


def merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` over ``base`` (tables merge, other values replace)."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    root: Path,
    environ: Mapping[str, str] | None = None,
    overrides: Iterable[str] = (),
) -> Config:
    """Load and validate the configuration of the workspace at ``root``."""
    if not root.is_dir():
        raise WorkspaceError(f"workspace folder {root} does not exist", "check --workspace")
    data, label = read_file_layer(root)
    validate(data, label)  # the file alone must be valid, so its errors name the file
    sources = [label]
    merged = data
    env_data = env_layer(os.environ if environ is None else environ)
    if env_data:
        merged = merge(merged, env_data)
        validate(merged, "PTEST_* environment variables")
        sources.append("environment")
    flags = flag_layer(overrides)
    if flags:
        merged = merge(merged, flags)
        validate(merged, "--set flags")
        sources.append("flags")
    return Config.from_validated(root, validate(merged, label), tuple(sources))
