"""Odd files and broken plugins give one-line errors, never tracebacks or lost state."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.config.loader import find_workspace, load_config
from ptest_tui.engines.selection import select_isolation
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import ConfigError, StoreError, UsageError
from ptest_tui.session import Session
from ptest_tui.store import Store
from tests.conftest import write_workspace
from tests.unit.test_plugin_discovery import make_dist


def test_invalid_utf8_config(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "ptest.toml").write_bytes(b"[workspace]\nname = \"\xff\xfe\"\n")
    with pytest.raises(ConfigError) as info:
        load_config(root, environ={})
    assert "not valid UTF-8" in info.value.message


@pytest.mark.parametrize("text", ["[tool]\nptest = 1\n", "tool = 1\n"])
def test_odd_pyproject_tables(tmp_path: Path, text: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(text)
    if text.startswith("tool"):
        assert find_workspace(root) is None  # not a workspace, and no crash walking past it
    else:
        assert find_workspace(root) == root
        with pytest.raises(ConfigError) as info:
            load_config(root, environ={})
        assert "expected a table" in info.value.message


def test_mount_setting_selects_docker() -> None:
    caps = {"basic": frozenset(), "docker": frozenset({"limits", "image", "network"})}
    selection = select_isolation(EnvSpec(name="m", workspace_mount="none"), caps)
    assert selection.level == "docker"
    with pytest.raises(UsageError):
        select_isolation(EnvSpec(name="m", isolation="basic", workspace_mount="none"), caps)


def test_state_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / ".ptest").write_text("not a folder")
    with pytest.raises(StoreError) as info:
        Store(tmp_path / ".ptest" / "state.db")
    assert "not a file" in info.value.hint


RAISING_PLUGIN = '''
from ptest_tui.plugins import hookimpl


@hookimpl
def ptest_register_engines():
    raise RuntimeError("plugin bug")
'''

WRONG_TYPE_PLUGIN = '''
from ptest_tui.plugins import hookimpl


@hookimpl
def ptest_register_engines():
    return "not a list"
'''


@pytest.mark.parametrize("source", [RAISING_PLUGIN, WRONG_TYPE_PLUGIN])
def test_plugin_hook_failures_are_isolated(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    source: str,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(site))
    name = "bad_hook_plugin_" + str(abs(hash(source)))[:6]
    (site / f"{name}.py").write_text(source)
    make_dist(site, name, "ptest_tui", name)
    root = write_workspace(tmp_path / "ws")
    with Session.open(workspace=root, environ={}) as session:
        assert session.engines.names() == ["basic", "virtualenv", "docker"]
        session.create_env("still-works", isolation="basic")
    assert f"plugin {name} failed to register engines" in caplog.text


def test_env_of_an_uninstalled_engine_can_be_forgotten_with_force(session: Session) -> None:
    session.create_env("orphaned", isolation="basic")
    session.store.update_env("orphaned", isolation="plug")
    with pytest.raises(UsageError) as info:
        session.delete_env("orphaned")
    assert "--force" in info.value.hint
    session.delete_env("orphaned", force=True)
    assert session.store.find_env("orphaned") is None
    assert not (session.workspace.state_dir / "envs" / "orphaned").exists()
