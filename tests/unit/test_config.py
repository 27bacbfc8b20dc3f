"""Configuration: layers, validation messages, pyproject support, workspace discovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.config.loader import find_workspace, flag_layer, load_config
from ptest_tui.errors import ConfigError
from tests.conftest import write_workspace


def test_defaults_when_file_is_minimal(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "proj")
    config = load_config(root, environ={})
    assert config.workspace_name == "proj"
    assert config.defaults.isolation == "auto"
    assert config.docker.network == "none"
    assert config.docker.workspace_mount == "ro"
    assert config.envs == {}


def test_layers_file_env_flags(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "p",
        """
        [docker]
        network = "bridge"
        image = "from-file:1"
        """,
    )
    config = load_config(root, environ={"PTEST_DOCKER_IMAGE": "from-env:1"})
    assert config.docker.network == "bridge"
    assert config.docker.image == "from-env:1"
    config = load_config(
        root, environ={"PTEST_DOCKER_IMAGE": "from-env:1"}, overrides=["docker.image=from-flag:1"]
    )
    assert config.docker.image == "from-flag:1"
    assert config.sources[1:] == ("environment", "flags")


def test_unrelated_ptest_variables_are_ignored(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "p")
    config = load_config(root, environ={"PTEST_REQUIRE": "docker", "PTEST_X": "1"})
    assert config.sources == (f"{root / 'ptest.toml'}",)


def test_env_tables_are_parsed(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "p",
        """
        [envs.limited]
        memory = "512m"
        cpus = 1
        env = { A = "1", B = 2 }
        packages = ["attrs"]
        """,
    )
    env = load_config(root, environ={}).envs["limited"]
    assert env["memory"] == 512 * 1024**2
    assert env["cpus"] == 1.0
    assert env["env"] == {"A": "1", "B": "2"}
    assert env["packages"] == ["attrs"]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[envs.x]\nmemory = "lots"\n', ["envs.x.memory", "invalid memory size 'lots'"]),
        ('[docker]\nnetwrok = "none"\n', ["unknown key docker.netwrok", "did you mean 'network'"]),
        ('[dokcer]\nnetwork = "none"\n', ["unknown section 'dokcer'", "did you mean 'docker'"]),
        ('[docker]\nnetwork = "wifi"\n', ["docker.network", "one of none, bridge"]),
        ("[defaults]\nmax_workers = -1\n", ["defaults.max_workers", ">= 0"]),
        ('[envs."a/b"]\n', ["envs.a/b", "invalid environment name"]),
        ("[envs.x\n", ["invalid TOML", "line 1"]),
    ],
)
def test_invalid_files_name_file_key_and_expectation(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    root = write_workspace(tmp_path / "p", text)
    with pytest.raises(ConfigError) as info:
        load_config(root, environ={})
    message = info.value.message
    assert str(root / "ptest.toml") in message
    for fragment in fragments:
        assert fragment in message + " " + info.value.hint


def test_bad_environment_variable_is_named(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "p")
    with pytest.raises(ConfigError) as info:
        load_config(root, environ={"PTEST_DOCKER_NETWORK": "wifi"})
    assert "PTEST_* environment variables" in info.value.message


def test_bad_flag_syntax() -> None:
    with pytest.raises(ConfigError):
        flag_layer(["docker"])
    assert flag_layer(["envs.a.memory=1g"]) == {"envs": {"a": {"memory": "1g"}}}


def test_pyproject_tool_ptest(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.ptest.docker]\nnetwork = "bridge"\n'
    )
    assert find_workspace(root) == root
    config = load_config(root, environ={})
    assert config.docker.network == "bridge"
    assert "[tool.ptest]" in config.sources[0]


def test_find_workspace_walks_upward(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "p")
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    assert find_workspace(deep) == root
    assert find_workspace(tmp_path) is None


def test_pyproject_without_tool_ptest_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_workspace(tmp_path) is None
