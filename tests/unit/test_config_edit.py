"""Saving one setting keeps the rest of ptest.toml as written, and refuses invalid results."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.config.edit import edited, set_setting
from ptest_tui.errors import ConfigError
from tests.conftest import write_workspace


def test_edits_keep_comments_and_order() -> None:
    text = '# my workspace\n[ui]\n# the look\ntheme = "ptest-dark"  # old\n\n[envs.a]\nx = 1\n'
    assert edited(text, "ui", "theme", "ptest-light") == (
        '# my workspace\n[ui]\n# the look\ntheme = "ptest-light"\n\n[envs.a]\nx = 1\n'
    )
    assert edited(text, "envs.a", "y", True).endswith("[envs.a]\ny = true\nx = 1\n")
    assert edited("", "ui", "theme", "t") == '[ui]\ntheme = "t"\n'
    assert edited("[envs.a]\n", "ui", "theme", "t") == '[envs.a]\n\n[ui]\ntheme = "t"\n'


def test_set_setting_validates_and_reverts(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", "# keep me\n[workspace]\n")
    set_setting(root, "ui", "theme", "ptest-light")
    assert (root / "ptest.toml").read_text() == (
        '# keep me\n[workspace]\n\n[ui]\ntheme = "ptest-light"\n'
    )
    before = (root / "ptest.toml").read_text()
    with pytest.raises(ConfigError):
        set_setting(root, "defaults", "isolation", 42)
    assert (root / "ptest.toml").read_text() == before


def test_pyproject_workspaces_edit_their_tool_table(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.ptest.ui]\ntheme = "a"\n')
    set_setting(root, "ui", "theme", "ptest-light")
    assert '[tool.ptest.ui]\ntheme = "ptest-light"' in (root / "pyproject.toml").read_text()
