"""Schema checks seen from the command line: bad values stop a command before it acts."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.conftest import Cli, assert_usage_error, env_folders


def test_bad_mount_path_stops_a_docker_create_before_anything_is_stored(cli: Cli) -> None:
    for value, expected in (("rel", "an absolute path"), ("/", "a folder other than /"),
                            ("/a/../b", "a path without '..'")):
        result = cli.run("--set", f"docker.mount_path={value}",
                         "env", "create", "box", "--isolation", "docker")
        assert_usage_error(result, f"docker.mount_path: expected {expected}")
        assert cli.envs() == {}
        assert env_folders(cli.root) == set()


def test_bad_variable_name_in_an_env_table_is_one_line(
    cli_with: Callable[[str], Cli],
) -> None:
    cli = cli_with('[envs.a]\nisolation = "basic"\nenv = {"A=B" = "1"}\n')
    assert_usage_error(cli.run("config", "validate"),
                       "envs.a.env: invalid environment variable name 'A=B'")
    assert_usage_error(cli.run("env", "create", "a"), "invalid environment variable name")
    assert not (cli.root / ".ptest").exists() or env_folders(cli.root) == set()
