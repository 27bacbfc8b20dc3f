"""``ptest-tui doctor`` as a user runs it: the installed command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import REPO, write_workspace
from tests.e2e.conftest import Result, assert_usage_error, clean_environ, cli_command

JSON_KEYS = {"name", "ok", "required", "detail", "needed_by", "fix_command"}
CHECK_NAMES = [
    "workspace", "python", "venv", "uv", "virtualenv", "docker-sdk", "docker-cli",
    "docker-daemon", "docker-socket", "base-image", "debootstrap", "disk-workspace",
    "disk-cache",
    "postgres",
    "mariadb",
    "redis",
]


def doctor(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command(), "doctor", *args], cwd=cwd, env=clean_environ(env), input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_doctor_json_lists_every_check(tmp_path: Path) -> None:
    done = doctor(tmp_path, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert [c["name"] for c in data] == CHECK_NAMES
    for check in data:
        assert set(check) >= JSON_KEYS
        assert isinstance(check["ok"], bool) and isinstance(check["required"], bool)
        assert check["fix_command"] is None or isinstance(check["fix_command"], str)
    python = next(c for c in data if c["name"] == "python")
    assert python["ok"] and python["required"]


def test_doctor_exits_1_when_something_required_is_missing(tmp_path: Path) -> None:
    done = doctor(tmp_path, "--json", PTEST_REQUIRE="docker",
                  DOCKER_HOST="unix:///nonexistent/ptest-doctor.sock")
    assert done.returncode == 1
    daemon = next(c for c in json.loads(done.stdout) if c["name"] == "docker-daemon")
    assert daemon["required"] and not daemon["ok"]
    assert daemon["fix_command"]  # start it, or install it with the package manager


def test_docker_env_in_the_workspace_makes_docker_required(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[envs.limited]\ncpus = 1\n')
    done = doctor(root, DOCKER_HOST="tcp://127.0.0.1:1")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(line.startswith("missing  docker-daemon") for line in lines)
    assert "limited" in done.stdout
    assert lines[-1].startswith("doctor: ") and "docker-daemon" in lines[-1]


def test_fix_dry_run_prints_commands_and_runs_none(tmp_path: Path) -> None:
    # The daemon cannot answer, so the image cannot be built even if something ran.
    done = doctor(tmp_path, "--fix", "--dry-run", PTEST_REQUIRE="image",
                  DOCKER_HOST="tcp://127.0.0.1:1")
    assert done.returncode == 1
    assert "ptest-tui image build --python 3.11" in done.stdout
    assert "dry run: nothing was run" in done.stdout
    assert "$ " not in done.stdout  # no command was started


def test_fix_answered_no_changes_nothing(tmp_path: Path) -> None:
    done = doctor(tmp_path, "--fix", stdin="n\n", PTEST_REQUIRE="image",
                  DOCKER_HOST="tcp://127.0.0.1:1")
    assert done.returncode == 1
    if os.geteuid() == 0:
        assert "[y/N] nothing was changed" in done.stdout
    else:
        assert "need root" in done.stdout
    assert "$ " not in done.stdout


def test_fix_json_keeps_stdout_valid(tmp_path: Path) -> None:
    done = doctor(tmp_path, "--fix", "--dry-run", "--json", PTEST_REQUIRE="image",
                  DOCKER_HOST="tcp://127.0.0.1:1")
    assert done.returncode == 1
    assert isinstance(json.loads(done.stdout), list)
    assert "would run:" in done.stderr


def test_yes_without_fix_is_a_usage_error(tmp_path: Path) -> None:
    done = doctor(tmp_path, "--yes")
    assert_usage_error(Result(["doctor", "--yes"], done.returncode, done.stdout, done.stderr),
                       "--yes only applies to --fix")


def test_doctor_does_not_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from ptest_tui.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['doctor'])\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", code], cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    # Piped output: neither the TUI nor rich is loaded.
    assert done.stdout.strip() == ""
