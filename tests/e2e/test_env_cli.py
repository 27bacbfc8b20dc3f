"""``ptest-tui env ...`` end to end: the installed CLI on real basic and virtualenv envs."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    Cli,
    assert_one_line_error,
    assert_usage_error,
    current_python,
    env_folders,
    make_workspace,
    mark_broken,
)

# -- create --------------------------------------------------------------------------------


def test_create_basic_env_then_list_and_show(cli: Cli) -> None:
    result = cli.ok("env", "create", "smoke", "--isolation", "basic")
    assert result.stdout.startswith("created smoke (basic, "), result.stdout
    envs = cli.envs()
    assert envs["smoke"]["status"] == "ready"
    assert envs["smoke"]["isolation"] == "basic"
    assert (cli.root / ".ptest" / "envs" / "smoke" / "home").is_dir()

    shown = cli.json("env", "show", "smoke", "--json")
    assert shown["engine_status"]["healthy"] is True
    history = [(h["old"], h["new"]) for h in shown["history"]]
    assert history == [("", "creating"), ("creating", "ready")]
    text = cli.ok("env", "show", "smoke").stdout
    assert "requested isolation basic" in text
    assert "healthy" in text and "creating -> ready" in text


def test_create_virtualenv_json_gives_records(cli: Cli) -> None:
    items = cli.json("env", "create", "unit", "--isolation", "virtualenv", "--json")
    assert [item["name"] for item in items] == ["unit"]
    (item,) = items
    assert item["ok"] is True and item["error"] is None
    record = item["record"]
    assert record["status"] == "ready" and record["isolation"] == "virtualenv"
    assert Path(record["engine_state"]["python"]).is_file()


def test_auto_picks_virtualenv_for_a_python_version_and_says_why(cli: Cli) -> None:
    result = cli.ok("env", "create", "py", "--python", current_python())
    assert "created py (virtualenv, " in result.stdout
    assert "needs a Python environment" in result.stdout
    shown = cli.json("env", "show", "py", "--json")
    assert shown["reason"].startswith("needs a Python environment")
    assert shown["engine_state"]["python_version"].startswith(current_python())


def test_declared_env_settings_are_used(cli_with: Callable[[str], Cli]) -> None:
    cli = cli_with(
        """
        [envs.unit]
        isolation = "virtualenv"
        env = { GREETING = "hello from ptest.toml" }
        description = "declared"
        """
    )
    assert cli.envs()["unit"]["status"] == "declared"
    cli.ok("env", "create", "unit")
    record = cli.envs()["unit"]
    assert record["status"] == "ready" and record["isolation"] == "virtualenv"
    out = cli.ok("env", "exec", "unit", "--", "sh", "-c", "echo $GREETING").stdout
    assert out == "hello from ptest.toml\n"


def test_count_and_parallel_create_numbered_envs(cli: Cli) -> None:
    result = cli.ok("env", "create", "w", "--count", "3", "--parallel", "2", "--isolation", "basic")
    lines = result.stdout.splitlines()
    assert sorted(line.split()[1] for line in lines[:3]) == ["w-1", "w-2", "w-3"]
    assert lines[-1].startswith("created 3 of 3 environments in ")
    assert {n for n, e in cli.envs().items() if e["status"] == "ready"} == {"w-1", "w-2", "w-3"}


def test_one_failure_keeps_the_others_and_exits_1(cli: Cli) -> None:
    # A plain file where f-2's folder should go makes that one create fail for real.
    envs_dir = cli.root / ".ptest" / "envs"
    envs_dir.mkdir(parents=True)
    (envs_dir / "f-2").write_text("in the way\n")
    result = cli.run("env", "create", "f", "--count", "3", "--isolation", "basic")
    assert result.returncode == 1, str(result)
    assert "failed f-2:" in result.stderr
    assert "created 2 of 3 environments" in result.stdout and "1 failed" in result.stdout
    assert set(cli.envs()) == {"f-1", "f-3"}


def test_interrupted_bulk_create_stops_and_rolls_back(cli: Cli) -> None:
    proc = cli.popen(
        "env",
        "create",
        "i",
        "--count",
        "40",
        "--parallel",
        "1",
        "--isolation",
        "virtualenv",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("created i-"), first
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130
    envs = cli.envs()
    assert 1 <= len(envs) < 40
    assert {e["status"] for e in envs.values()} == {"ready"}
    assert env_folders(cli.root) == set(envs)


def test_terminal_gets_progress_and_the_same_lines(cli: Cli) -> None:
    import pty

    master, slave = pty.openpty()
    proc = cli.popen(
        "env", "create", "t", "--count", "3", "--isolation", "basic", stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(60) == 0
    screen = b"".join(chunks).decode(errors="replace")
    for name in ("t-1", "t-2", "t-3"):
        assert f"created {name} (basic, " in screen
    assert "created 3 of 3 environments" in screen
    assert {n for n, e in cli.envs().items() if e["status"] == "ready"} == {"t-1", "t-2", "t-3"}


# -- list ----------------------------------------------------------------------------------


def test_list_shows_declared_ready_and_broken(cli_with: Callable[[str], Cli]) -> None:
    cli = cli_with(
        f"""
        [envs.later]
        python = "{current_python()}"
        """
    )
    cli.ok("env", "create", "now", "sick", "--isolation", "basic")
    mark_broken(cli.root, "sick", "disk on fire")
    lines = cli.ok("env", "list").stdout.splitlines()
    assert lines[0].split("\t") == ["NAME", "ISOLATION", "STATUS", "PYTHON", "DETAIL"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows["later"][1:4] == ["virtualenv", "declared", current_python()]
    assert rows["now"][1:3] == ["basic", "ready"]
    assert rows["sick"][2:] == ["broken", "-", "disk on fire"]
    envs = cli.envs()
    assert envs["sick"]["error"] == "disk on fire"
    assert envs["later"]["status"] == "declared"


def test_show_declared_only_env(cli_with: Callable[[str], Cli]) -> None:
    cli = cli_with('[envs.later]\nisolation = "basic"\n')
    shown = cli.json("env", "show", "later", "--json")
    assert shown["status"] == "declared" and shown["isolation"] == "basic"
    assert "env create later" in cli.ok("env", "show", "later").stdout
    assert not (cli.root / ".ptest" / "envs").exists()


# -- exec ----------------------------------------------------------------------------------


@pytest.fixture
def venv_cli(cli: Cli) -> Cli:
    """A workspace with a ready virtualenv env named ``py``."""
    cli.ok("env", "create", "py", "--isolation", "virtualenv")
    return cli


def test_exec_streams_both_streams_and_returns_the_exit_code(venv_cli: Cli) -> None:
    script = "import sys; print('to out'); print('to err', file=sys.stderr); sys.exit(3)"
    result = venv_cli.run("env", "exec", "py", "--", "python", "-c", script)
    assert result.returncode == 3, str(result)
    assert result.stdout == "to out\n"
    assert result.stderr == "to err\n"


def test_exec_runs_the_envs_python_with_cwd_and_env(venv_cli: Cli, tmp_path: Path) -> None:
    script = "import os, sys; print(sys.prefix); print(os.getcwd()); print(os.environ['X'])"
    out = venv_cli.ok(
        "env", "exec", "py", "--cwd", str(tmp_path), "--env", "X=1", "--", "python", "-c", script
    ).stdout.splitlines()
    assert out == [str(venv_cli.root / ".ptest" / "envs" / "py" / "venv"), str(tmp_path), "1"]
    # Options may also come after NAME, before `--`; a `--` inside the command is kept.
    out2 = venv_cli.ok("env", "exec", "py", "--env", "X=2", "--", "sh", "-c", "echo $X $0", "--")
    assert out2.stdout == "2 --\n"


def test_exec_timeout_exits_124(venv_cli: Cli) -> None:
    result = venv_cli.run("env", "exec", "py", "--timeout", "0.5", "--", "sleep", "30")
    assert result.returncode == 124, str(result)
    assert "timed out after 0.5 s" in result.stderr


def test_exec_output_is_live_and_ctrl_c_cancels(venv_cli: Cli) -> None:
    script = "import time; print('started', flush=True); time.sleep(60)"
    proc = venv_cli.popen(
        "env",
        "exec",
        "py",
        "--",
        "python",
        "-c",
        script,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"  # arrives while the command still runs
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130
    assert time.monotonic() - began < 30
    assert "interrupted" in proc.stderr.read()  # type: ignore[union-attr]


# -- delete, cleanup, repair ---------------------------------------------------------------


def test_delete_several(cli: Cli) -> None:
    cli.ok("env", "create", "a", "b", "c", "--isolation", "basic")
    result = cli.ok("env", "delete", "a", "b", "--yes")
    assert result.stdout.splitlines() == ["deleted a", "deleted b"]
    assert set(cli.envs()) == {"c"}
    assert env_folders(cli.root) == {"c"}


def test_delete_force_removes_an_env_stuck_in_creating(cli: Cli) -> None:
    from ptest_tui.session import Session

    cli.ok("env", "create", "stuck", "--isolation", "basic")
    with Session.open(workspace=cli.root, environ={}) as session:
        # Owned by this (live) test process, so no later start treats it as abandoned.
        session.store.update_env(
            "stuck", status="creating", owner_pid=os.getpid(), owner_start=None
        )
    assert_usage_error(cli.run("env", "delete", "stuck"), "is creating")
    cli.ok("env", "delete", "stuck", "--force")
    assert cli.envs() == {}


def test_cleanup_dry_run_orphans_only_and_full(cli: Cli) -> None:
    cli.ok("env", "create", "good", "sick", "--isolation", "basic")
    mark_broken(cli.root, "sick", "disk on fire")
    (cli.root / ".ptest" / "envs" / "stray").mkdir()
    before = cli.envs()

    planned = cli.json("env", "cleanup", "--dry-run", "--json")
    assert {(i["kind"], i["env"]) for i in planned} == {("env", "sick"), ("folder", "stray")}
    assert cli.envs() == before and "stray" in env_folders(cli.root)

    text = cli.ok("env", "cleanup", "--orphans-only").stdout
    assert text.startswith("removed folder ") and "stray" in text
    assert env_folders(cli.root) == {"good", "sick"}
    assert cli.envs()["sick"]["status"] == "broken"

    assert cli.ok("env", "cleanup").stdout.startswith("removed env sick: disk on fire")
    assert set(cli.envs()) == {"good"} and env_folders(cli.root) == {"good"}
    assert cli.ok("env", "cleanup").stdout == "nothing to clean up\n"


def test_repair_rebuilds_a_broken_env(venv_cli: Cli) -> None:
    import shutil

    shutil.rmtree(venv_cli.root / ".ptest" / "envs" / "py" / "venv")
    mark_broken(venv_cli.root, "py", "venv deleted")
    result = venv_cli.ok("env", "repair", "py")
    assert result.stdout.startswith("repaired py (virtualenv, ")
    shown = venv_cli.json("env", "show", "py", "--json")
    assert shown["status"] == "ready" and shown["engine_status"]["healthy"] is True
    assert venv_cli.ok("env", "exec", "py", "--", "python", "-c", "print(1)").stdout == "1\n"


# -- bad input: one line, exit 2, nothing changed -------------------------------------------


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """One workspace shared by the bad-input cases (they must not change it)."""
    cli = Cli(make_workspace(tmp_path_factory.mktemp("bad") / "ws"))
    cli.ok("env", "create", "taken", "sick", "--isolation", "basic")
    mark_broken(cli.root, "sick", "disk on fire")
    yield cli


BAD_INPUTS = [
    (["env", "create", "taken"], "environment 'taken' already exists"),
    (["env", "create", "a/b"], "invalid environment name 'a/b'"),
    (["env", "create", "../escape"], "invalid environment name"),
    (["env", "create", ""], "environment name is empty"),
    (["env", "create", "x" * 65], "65 characters long"),
    (["env", "create", "q", "--isolation", "chroot"], "unknown isolation level 'chroot'"),
    (["env", "create", "q", "--python", "3.99"], "no Python 3.99 interpreter found"),
    (["env", "create", "q", "--memory", "lots"], "invalid memory size 'lots'"),
    (["env", "create", "q", "--isolation", "basic", "--memory", "1g"], "cannot honour"),
    (["env", "create", "ok1", "ok2", "bad/name"], "invalid environment name 'bad/name'"),
    (["env", "create", "ok1", "taken"], "'taken' already exists"),
    (["env", "create", "q", "q"], "names given twice: q"),
    (["env", "create", "q", "--env", "NOEQUALS"], "invalid --env 'NOEQUALS'"),
    (["env", "create", "q", "--package", "not a requirement!"], "malformed requirement"),
    (["env", "create", "q", "--isolation", "basic", "--package", "attrs"], "cannot honour"),
    (["env", "create", "q", "--count", "0"], "--count"),
    (["env", "create", "q", "--network", "wide"], "--network"),
    (["env", "delete", "ghost"], "environment 'ghost' does not exist"),
    (["env", "delete", "taken", "ghost"], "environment 'ghost' does not exist"),
    (["env", "exec", "sick", "--", "true"], "environment 'sick' is broken (disk on fire)"),
    (["env", "exec", "ghost", "--", "true"], "environment 'ghost' does not exist"),
    (["env", "exec", "taken"], "no command given"),
    (["env", "show", "ghost"], "environment 'ghost' does not exist"),
    (["env", "repair", "taken"], "nothing to repair"),
    (["env", "frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize(
    ("argv", "expected"), BAD_INPUTS, ids=[" ".join(a)[:40] for a, _ in BAD_INPUTS]
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    populated: Cli, argv: list[str], expected: str
) -> None:
    before = populated.ok("env", "list", "--json").stdout
    folders = env_folders(populated.root)
    assert_usage_error(populated.run(*argv), expected)
    assert populated.ok("env", "list", "--json").stdout == before
    assert env_folders(populated.root) == folders


def test_docker_daemon_down_is_one_line_exit_3(populated: Cli) -> None:
    before = populated.ok("env", "list", "--json").stdout
    # Nothing listens on port 1: the engine reports the daemon down before anything changes.
    down = ("--set", "docker.host=tcp://127.0.0.1:1")
    for argv in (["env", "create", "d", "--memory", "512m"], ["env", "create", "d1", "d2"]):
        extra = [] if "--memory" in argv else ["--isolation", "docker"]
        result = populated.run(*down, *argv, *extra)
        assert_one_line_error(result, 3, "the docker engine is unavailable")
        assert "ptest-tui doctor" in result.stderr
    assert populated.ok("env", "list", "--json").stdout == before


# -- a killed process ------------------------------------------------------------------------


def _kill_during_bulk_create(cli: Cli) -> None:
    proc = cli.popen(
        "env",
        "create",
        "k",
        "--count",
        "30",
        "--parallel",
        "2",
        "--isolation",
        "virtualenv",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    envs_dir = cli.root / ".ptest" / "envs"
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if envs_dir.is_dir() and any(envs_dir.iterdir()):
                break
            time.sleep(0.002)
    finally:
        # The whole process group, as `kill -9` of a terminal's job would: uv children too.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_sigkill_mid_create_leaves_broken_envs_that_repair_and_cleanup_fix(
    tmp_path: Path,
) -> None:
    for attempt in range(5):  # the kill must land while an env is being created
        cli = Cli(make_workspace(tmp_path / f"ws{attempt}"))
        _kill_during_bulk_create(cli)
        envs = cli.envs()
        broken = sorted(n for n, e in envs.items() if e["status"] == "broken")
        if broken:
            break
    else:
        pytest.fail("the kill never landed while an env was being created")

    assert {e["status"] for e in envs.values()} <= {"ready", "broken"}  # none left "creating"
    assert all("interrupted while creating" in envs[n]["error"] for n in broken)
    assert env_folders(cli.root) <= set(envs)  # every folder belongs to a stored env

    cli.ok("env", "repair", broken[0])
    assert cli.envs()[broken[0]]["status"] == "ready"
    cli.ok("env", "exec", broken[0], "--", "python", "-c", "print('repaired')")

    cli.ok("env", "cleanup")
    after = cli.envs()
    assert {e["status"] for e in after.values()} == {"ready"}
    assert set(after) == set(envs) - set(broken[1:])
    assert env_folders(cli.root) == set(after)
