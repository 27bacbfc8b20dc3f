"""Load the Textual themes shipped in ``themes/*.toml`` (the ``ptest_tui.themes`` package).

A theme file is flat TOML: ``name``, ``dark`` and colors (``primary``, ``secondary``,
``accent``, ``foreground``, ``background``, ``surface``, ``panel``, ``error``, ``warning``,
``success``), plus an optional ``[variables]`` table of extra CSS variables. Files are
validated so a typo names the file and the key instead of failing deep inside Textual.

A workspace may add its own theme files, in the same format, in a ``themes/`` folder next
to its ptest.toml (:func:`workspace_theme_dir`); ``theme_reload.py`` loads and watches both.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from ptest_tui.errors import ConfigError

DEFAULT_THEME = "ptest-dark"
COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "error",
    "warning",
    "success",
)
REQUIRED_KEYS = ("name", "primary")
WORKSPACE_THEMES = "themes"  # the folder next to ptest.toml that holds a workspace's themes


def theme_files() -> list[Traversable]:
    """The shipped ``*.toml`` theme files, sorted by name."""
    folder = resources.files("ptest_tui.themes")
    return sorted(
        (item for item in folder.iterdir() if item.name.endswith(".toml")),
        key=lambda item: item.name,
    )


def parse_theme(data: dict[str, Any], where: str) -> Theme:
    """Build a Theme from parsed TOML; ConfigError names ``where`` and the bad key."""
    allowed = {"name", "dark", "variables", *COLOR_KEYS}
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown theme key {key!r}", "valid keys: " + ", ".join(sorted(allowed))
            )
    for key in REQUIRED_KEYS:
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(f"{where}: {key} is missing or not a string", f"set {key} = \"...\"")
    colors: dict[str, str] = {}
    for key in COLOR_KEYS:
        if key not in data:
            continue
        value = data[key]
        try:
            Color.parse(value)
        except (ColorParseError, TypeError):
            raise ConfigError(
                f"{where}: {key}: {value!r} is not a color", "use #RRGGBB, e.g. \"#4C9AFF\""
            ) from None
        colors[key] = value
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ConfigError(f"{where}: dark: expected true or false, got {dark!r}", "")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ConfigError(f"{where}: variables: expected a table of strings", "")
    return Theme(
        name=data["name"],
        dark=dark,
        variables=dict(variables),
        primary=colors["primary"],
        secondary=colors.get("secondary"),
        accent=colors.get("accent"),
        foreground=colors.get("foreground"),
        background=colors.get("background"),
        surface=colors.get("surface"),
        panel=colors.get("panel"),
        error=colors.get("error"),
        warning=colors.get("warning"),
        success=colors.get("success"),
    )


def load_theme(source: Traversable, where: str = "") -> Theme:
    """Read and validate one theme file; errors name ``where`` (default: the file name)."""
    where = where or source.name
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}", "fix the theme file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}", "check the file") from None
    return parse_theme(data, where)


def shipped_theme_dir() -> Path | None:
    """The folder of the shipped theme files on disk (None when installed as a zip)."""
    folder = resources.files("ptest_tui.themes")
    return folder if isinstance(folder, Path) else None


def workspace_theme_dir(root: Path) -> Path:
    """Where a workspace keeps its own theme files: ``themes/`` next to ptest.toml."""
    return root / WORKSPACE_THEMES


def shipped_themes() -> list[Theme]:
    """Every theme shipped with ptest-tui, in file-name order."""
    return [load_theme(item) for item in theme_files()]


def theme_names(themes: Iterable[Theme]) -> list[str]:
    """Names of ``themes`` in order."""
    return [theme.name for theme in themes]
