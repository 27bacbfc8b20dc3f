"""Schema checks for values that used to pass and fail later: env names, mount_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.config.loader import load_config
from ptest_tui.config.schema import ENV_FIELDS, SECTIONS, check_value
from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.session import Session
from tests.conftest import write_workspace


@pytest.mark.parametrize("name", ["A=B", "1X", "A B", "", "A-B", "Ä", "A\0"])
def test_env_table_refuses_names_exec_cannot_use(tmp_path: Path, name: str) -> None:
    escaped = name.replace("\0", "\\u0000")
    root = write_workspace(tmp_path / "ws", f'[envs.a]\nenv = {{"{escaped}" = "1"}}\n')
    with pytest.raises(ConfigError) as info:
        load_config(root, environ={})
    assert "envs.a.env: invalid environment variable name" in info.value.message
    assert "ptest.toml" in info.value.message and info.value.hint


def test_env_table_refuses_nul_in_values(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[envs.a]\nenv = {A = "x\\u0000y"}\n')
    with pytest.raises(ConfigError) as info:
        load_config(root, environ={})
    assert "envs.a.env: the value of A contains a NUL byte" in info.value.message


def test_env_table_keeps_good_names_and_stringifies_values() -> None:
    field = ENV_FIELDS["env"]
    given = {"A": "1", "_x9": 2, "PATH_EXTRA": 1.5, "B": ""}
    assert check_value(field, given, "t", "envs.a.env") == {
        "A": "1", "_x9": "2", "PATH_EXTRA": "1.5", "B": "",
    }


def test_env_option_from_the_cli_is_checked_too(tmp_path: Path) -> None:
    # `env create --env 1X=y` reaches the schema through Session.spec_for.
    root = write_workspace(tmp_path / "ws")
    with Session.open(workspace=root, environ={}) as session:
        with pytest.raises(UsageError) as info:
            session.spec_for("a", env={"1X": "y"})
        assert info.value.message == "invalid environment variable name '1X'"
        with pytest.raises(UsageError):
            session.create_env("a", env={"A": "nul\0"})
        assert session.store.list_envs() == []
        assert session.spec_for("a", env={"GOOD_1": "y"}).environment == {"GOOD_1": "y"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rel", "an absolute path"),
        ("./x", "an absolute path"),
        ("", "an absolute path"),
        ("/", "other than /"),
        ("//", "other than /"),
        ("/a/../b", "without '..'"),
        ("/..", "without '..'"),
        ("/a\0b", "without NUL"),
        (3, "a string"),
    ],
)
def test_mount_path_must_be_a_usable_container_folder(value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_value(SECTIONS["docker"]["mount_path"], value, "ptest.toml", "docker.mount_path")
    assert "docker.mount_path: expected" in info.value.message
    assert expected in info.value.message


def test_mount_path_from_file_flag_and_variable(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[docker]\nmount_path = "/"\n')
    with pytest.raises(ConfigError) as info:
        load_config(root, environ={})
    assert "ptest.toml: docker.mount_path: expected a folder other than /" in info.value.message
    ok = write_workspace(tmp_path / "ok")
    with pytest.raises(ConfigError):
        load_config(ok, environ={}, overrides=["docker.mount_path=rel"])
    with pytest.raises(ConfigError):
        load_config(ok, environ={"PTEST_DOCKER_MOUNT_PATH": "/x/../y"})
    assert load_config(ok, environ={}).docker.mount_path == "/workspace"
    assert load_config(ok, environ={}, overrides=["docker.mount_path=/src/"]).docker.mount_path \
        == "/src/"
