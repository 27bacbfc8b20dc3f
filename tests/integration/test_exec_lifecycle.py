"""Commands in envs: busy while running, no stray processes, clean stops on signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import EnvStateError, UsageError
from ptest_tui.session import Session

PTEST = Path(sys.executable).with_name("ptest-tui")


def wait_for(predicate, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.05)


def test_env_is_busy_while_commands_run_and_cannot_be_deleted(session: Session) -> None:
    session.create_env("b", isolation="basic")
    token = CancelToken()
    worker = threading.Thread(
        target=session.exec, args=("b", ["sleep", "30"]), kwargs={"cancel": token}
    )
    worker.start()
    try:
        wait_for(lambda: session.get_env("b").status == "busy")
        # A second command may run beside the first.
        assert session.exec("b", ["true"]).exit_code == 0
        assert session.get_env("b").status == "busy"
        with pytest.raises(EnvStateError) as info:
            session.delete_env("b")
        assert "busy" in info.value.message
        with pytest.raises(EnvStateError):
            session.repair_env("b")
    finally:
        token.cancel()
        worker.join(30)
    assert session.get_env("b").status == "ready"
    session.delete_env("b")


def test_background_children_do_not_outlive_the_command(session: Session, tmp_path: Path) -> None:
    session.create_env("b", isolation="basic")
    pid_file = tmp_path / "bg.pid"
    result = session.exec("b", ["sh", "-c", f"sleep 300 & echo $! > {pid_file}"])
    assert result.exit_code == 0
    pid = int(pid_file.read_text())
    wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie")


def test_relative_cwd_is_inside_the_workspace_and_missing_cwd_is_usage_error(
    session: Session,
) -> None:
    session.create_env("b", isolation="basic")
    (session.workspace.root / "sub").mkdir()
    lines: list[str] = []
    session.exec("b", ["pwd"], cwd="sub", on_output=lambda _s, line: lines.append(line))
    assert lines == [str(session.workspace.root / "sub")]
    with pytest.raises(UsageError) as info:
        session.exec("b", ["pwd"], cwd="missing")
    assert "does not exist" in info.value.message
    assert session.get_env("b").status == "ready"


def test_killed_exec_leaves_busy_env_that_the_next_start_frees(workspace: Path) -> None:
    with Session.open(workspace=workspace, environ={}) as session:
        session.create_env("b", isolation="basic")
    code = (
        "from ptest_tui.session import Session\n"
        f"s = Session.open(workspace={str(workspace)!r}, environ={{}})\n"
        "s.exec('b', ['sleep', '60'])\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        with Session.open(workspace=workspace, environ={}) as peek:
            wait_for(lambda: peek.get_env("b").status == "busy")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    with Session.open(workspace=workspace, environ={}) as after:
        assert after.get_env("b").status == "ready"
        assert after.store.leases("b") == []
        after.delete_env("b")


def run_cli(workspace: Path, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTEST_")}
    return subprocess.Popen(
        [str(PTEST), *args],
        cwd=workspace,
        env=env,
        stdout=kwargs.pop("stdout", subprocess.PIPE),  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_stops_the_command_tree_and_exits_143(workspace: Path, tmp_path: Path) -> None:
    with Session.open(workspace=workspace, environ={}) as session:
        session.create_env("b", isolation="basic")
    pid_file = tmp_path / "child.pid"
    script = f"echo $$ > {pid_file}; sleep 120"
    proc = run_cli(workspace, "env", "exec", "b", "--", "sh", "-c", script)
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    wait_for(lambda: not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie")
    with Session.open(workspace=workspace, environ={}) as session:
        assert session.get_env("b").status == "ready"


def test_output_into_a_closed_pipe_does_not_hang(workspace: Path) -> None:
    with Session.open(workspace=workspace, environ={}) as session:
        session.create_env("b", isolation="basic")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTEST_")}
    done = subprocess.run(
        ["sh", "-c", f"{PTEST} env exec b -- seq 1 200000 | head -1"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "1\n"
    assert "Traceback" not in done.stderr
