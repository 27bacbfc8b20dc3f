"""``ptest-tui config``, ``init``, ``--help`` and ``--version`` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from ptest_tui.config.loader import load_config
from ptest_tui.config.templates import TEMPLATE_NAMES
from tests.e2e.conftest import Cli, argv_paths, assert_usage_error, clean_environ

# -- init ----------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_init_writes_a_valid_commented_template(tmp_path: Path, template: str) -> None:
    cli = Cli(tmp_path)
    result = cli.ok("init", "--template", template)
    path = tmp_path / "ptest.toml"
    assert result.stdout.startswith(f"wrote ptest.toml (template {template})")
    text = path.read_text()
    assert text.startswith("#") and text.count("\n#") > 10  # commented for people

    config = load_config(tmp_path, environ={})  # what every command will read
    isolations = {table.get("isolation") for table in config.envs.values()}
    assert {"basic", "virtualenv", "docker"} <= isolations
    assert any("memory" in table for table in config.envs.values())
    assert cli.ok("config", "validate").stdout.endswith("valid (3 environments declared)\n")

    envs = cli.envs()
    assert set(envs) == set(config.envs)
    assert {e["status"] for e in envs.values()} == {"declared"}
    # The virtualenv env pins this machine's Python, so it can be created right away.
    (unit,) = [n for n, t in config.envs.items() if t.get("isolation") == "virtualenv"]
    cli.ok("env", "create", unit)
    assert cli.envs()[unit]["status"] == "ready"


def test_init_offers_exactly_the_shipped_templates() -> None:
    from ptest_tui.cli import init_cmd

    assert init_cmd.TEMPLATE_NAMES == TEMPLATE_NAMES


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "ptest.toml"
    path.write_text("# mine\n[workspace]\n")
    cli = Cli(tmp_path)
    assert_usage_error(cli.run("init", "--template", "web"), "already exists")
    assert path.read_text() == "# mine\n[workspace]\n"
    cli.ok("init", "--template", "web", "--force")
    assert "ptest.toml for a web application" in path.read_text()


def test_init_into_a_new_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    Cli(tmp_path).ok("init", str(target))
    assert tomllib.loads((target / "ptest.toml").read_text())["envs"]
    assert [p.name for p in target.iterdir()] == ["ptest.toml"]


def test_init_into_a_folder_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    # A file where a parent folder should be: unwritable even for root (who ignores modes).
    (tmp_path / "file").write_text("not a folder\n")
    target = tmp_path / "file" / "sub"
    result = Cli(tmp_path).run("init", str(target))
    assert_usage_error(result, f"cannot write {target / 'ptest.toml'}: Not a directory")
    assert "hint:" in result.stderr
    assert (tmp_path / "file").read_text() == "not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_init_into_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir(mode=0o555)
    try:
        assert_usage_error(Cli(tmp_path).run("init", str(target)), "Permission denied")
        assert list(target.iterdir()) == []
    finally:
        target.chmod(0o755)


def test_init_unknown_template_is_a_usage_error(tmp_path: Path) -> None:
    assert_usage_error(Cli(tmp_path).run("init", "--template", "huge"), "invalid choice")
    assert not (tmp_path / "ptest.toml").exists()


# -- config show / validate / path ---------------------------------------------------------


def test_config_show_names_each_source(cli_with: Callable[[str], Cli]) -> None:
    cli = cli_with('[defaults]\npython = "3.11"\n[envs.big]\nmemory = "1g"\n')
    env = {"PTEST_DEFAULTS_ISOLATION": "basic"}
    text = cli.ok("--set", "docker.network=bridge", "config", "show", env=env).stdout
    assert "# layers, lowest first: defaults < " in text and "< environment < flags" in text
    assert 'python = "3.11"  # ptest.toml' in text
    assert 'isolation = "basic"  # PTEST_DEFAULTS_ISOLATION' in text
    assert 'network = "bridge"  # --set docker.network' in text
    assert 'memory = "1g"  # ptest.toml' in text
    assert 'installer = "uv"\n' in text  # a default: no source comment
    assert tomllib.loads(text)["defaults"]["isolation"] == "basic"  # the output is TOML

    result = cli.run("--set", "docker.network=bridge", "config", "show", "--json", env=env)
    import json

    data = json.loads(result.stdout)
    assert data["sources"][1:] == ["environment", "flags"]
    assert data["defaults"]["isolation"] == "basic"
    assert data["origins"]["docker.network"] == "--set docker.network"
    assert data["envs"]["big"]["memory"] == 1024**3


def test_config_commands_do_not_create_state(cli: Cli) -> None:
    cli.ok("config", "show")
    cli.ok("config", "validate")
    assert cli.ok("config", "path").stdout == f"{cli.root.resolve() / 'ptest.toml'}\n"
    paths = cli.json("config", "path", "--json")
    assert paths["state_dir"] == str(cli.root.resolve() / ".ptest")
    assert not (cli.root / ".ptest").exists()


def test_config_path_finds_the_workspace_from_a_subfolder(cli: Cli) -> None:
    sub = cli.root / "src" / "pkg"
    sub.mkdir(parents=True)
    result = cli.run("config", "path", cwd=sub)
    assert result.stdout == f"{cli.root.resolve() / 'ptest.toml'}\n", str(result)


def test_config_validate_a_file_and_pyproject(tmp_path: Path) -> None:
    good = tmp_path / "other.toml"
    good.write_text('[envs.x]\nisolation = "basic"\n')
    assert Cli(tmp_path).ok("config", "validate", str(good)).stdout == (
        f"{good}: valid (1 environment declared)\n"
    )
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "p"\n[tool.ptest.envs.y]\npython = "3.11"\n')
    out = Cli(tmp_path).ok("config", "validate").stdout
    assert out == f"{pyproject} [tool.ptest]: valid (1 environment declared)\n"


BAD_CONFIGS = [
    ("[envs.x]\nisolation = 'basic'\n[suite.s]\n", "unknown section 'suite'"),
    ("[defaults]\nisolaton = 'basic'\n", "did you mean 'isolation'?"),
    ("[envs.x]\nmemory = 'lots'\n", "envs.x.memory: invalid memory size 'lots'"),
    ("[envs.x]\nisolation = 'chroot'\n", "envs.x: unknown isolation level 'chroot'"),
    ("[envs.x]\nisolation = 'basic'\nmemory = '1g'\n", "envs.x: basic environments cannot"),
    ("[defaults]\nisolation = 'vm'\n", "defaults.isolation: unknown isolation level 'vm'"),
    ("[envs.x\n", "invalid TOML"),
]


@pytest.mark.parametrize(("toml", "expected"), BAD_CONFIGS, ids=[e for _, e in BAD_CONFIGS])
def test_config_validate_reports_one_line_and_exits_2(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = tmp_path / "ptest.toml"
    path.write_text(toml)
    for args in (["config", "validate"], ["config", "validate", str(path)]):
        result = Cli(tmp_path).run(*args)
        assert_usage_error(result, expected)
        assert str(path) in result.stderr  # the message names the file


def test_missing_workspace_is_one_line_with_a_hint(tmp_path: Path) -> None:
    for args in (["env", "list"], ["config", "show"], ["config", "path"]):
        assert_usage_error(Cli(tmp_path).run(*args), "run `ptest-tui init`")


def test_bad_set_flag_is_a_usage_error(cli: Cli) -> None:
    assert_usage_error(cli.run("--set", "nodot", "config", "show"), "invalid --set 'nodot'")
    result = cli.run("--set", "docker.network=wide", "config", "show")
    assert_usage_error(result, "--set flags: docker.network: expected one of none, bridge")


# -- help and version ----------------------------------------------------------------------

HEAVY = ("textual", "rich", "docker")


def _imported_top_level(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def _command_paths() -> list[list[str]]:
    from ptest_tui.cli.main import build_parser

    return argv_paths(build_parser())


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "ptest-tui")
def test_help_works_without_importing_textual(path: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ptest_tui", *path, "--help"],
        capture_output=True,
        text=True,
        env=clean_environ(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage: ptest-tui")
    imported = _imported_top_level(result.stderr)
    assert "ptest_tui" in imported  # the import log was read correctly
    assert not imported & set(HEAVY), f"{' '.join(path)} --help imported {imported & set(HEAVY)}"


def test_top_level_help_says_no_command_opens_the_app(cli: Cli) -> None:
    assert "With no command, opens the full-screen app" in " ".join(cli.ok("--help").stdout.split())


def test_python_dash_m_version() -> None:
    from ptest_tui import __version__

    result = subprocess.run(
        [sys.executable, "-m", "ptest_tui", "--version"],
        capture_output=True,
        text=True,
        env=clean_environ(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == f"ptest-tui {__version__}\n"


def test_config_show_output_validates_as_a_file(
    cli_with: Callable[[str], Cli], tmp_path: Path
) -> None:
    # `config show > x.toml && config validate x.toml`: tables stay inline under their env.
    cli = cli_with(
        '[envs.a]\nenv = {A = "1"}\n'
        '[envs."web.v2"]\nenv = {B_2 = "x y", C = "say \\"hi\\""}\npackages = ["pip>=23"]\n'
        'memory = "512m"\n[envs.e]\nenv = {}\n'
    )
    text = cli.ok("config", "show").stdout
    assert 'env = { A = "1" }  # ptest.toml' in text
    shown = tmp_path / "x.toml"
    shown.write_text(text)
    result = cli.run("config", "validate", str(shown))
    assert result.returncode == 0, str(result)
    assert "valid (3 environments declared)" in result.stdout
    envs = tomllib.loads(text)["envs"]
    assert envs["a"]["env"] == {"A": "1"}
    assert envs["web.v2"] == {
        "env": {"B_2": "x y", "C": 'say "hi"'}, "packages": ["pip>=23"], "memory": "512m",
    }
    assert envs["e"] == {"env": {}}
    assert load_config(cli.root).envs == load_config(_workspace_of(shown)).envs


def _workspace_of(config_file: Path) -> Path:
    """A workspace folder whose ptest.toml is ``config_file``."""
    root = config_file.parent / "from-show"
    root.mkdir()
    (root / "ptest.toml").write_text(config_file.read_text())
    return root
