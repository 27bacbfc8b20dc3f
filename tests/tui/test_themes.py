"""The shipped theme files load, validate, and are packaged (pyproject lists every package)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ptest_tui.errors import ConfigError
from ptest_tui.tui.themes import DEFAULT_THEME, parse_theme, shipped_themes
from tests.conftest import REPO

SHIPPED = {"ptest-dark", "ptest-light", "ptest-high-contrast"}


def test_every_shipped_theme_loads_with_its_colors() -> None:
    themes = {theme.name: theme for theme in shipped_themes()}
    assert set(themes) == SHIPPED
    assert DEFAULT_THEME in themes
    assert themes["ptest-light"].dark is False
    for theme in themes.values():
        for color in ("primary", "secondary", "accent", "background", "surface", "panel",
                      "error", "warning", "success"):
            assert getattr(theme, color), f"{theme.name} has no {color}"


def test_theme_files_in_the_repo_are_the_ones_loaded() -> None:
    on_disk = {tomllib.loads(p.read_text())["name"] for p in (REPO / "themes").glob("*.toml")}
    assert on_disk == SHIPPED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "primary": "#123456", "primry": "#000000"}, "unknown theme key 'primry'"),
        ({"name": "x"}, "primary is missing"),
        ({"name": "x", "primary": "blue-ish"}, "'blue-ish' is not a color"),
        ({"name": "x", "primary": "#123456", "dark": "yes"}, "dark: expected true or false"),
    ],
)
def test_bad_theme_files_name_the_file_and_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=r"mine\.toml") as caught:
        parse_theme(data, "mine.toml")
    assert message in caught.value.message


def test_pyproject_lists_every_package_folder() -> None:
    # Packages are listed explicitly (so themes/ can be mapped in); a new folder under
    # ptest_tui/ that is missing from the list would silently be left out of the wheel.
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(folder.relative_to(REPO).parts)
        for folder in (REPO / "ptest_tui").rglob("*")
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.iterdir())
    } | {"ptest_tui"}
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert config["package-dir"]["ptest_tui.themes"] == "themes"
    assert Path(REPO / "themes" / "__init__.py").is_file()
