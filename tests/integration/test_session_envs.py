"""Real basic and virtualenv environments through the Session API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ptest_tui.engines.pythons import current, find_interpreter
from ptest_tui.errors import EnvStateError, PtestError, UsageError
from ptest_tui.events import EnvCreated, EnvCreating, EnvStatusChanged, Event, OutputLine
from ptest_tui.session import Session
from tests.conftest import write_workspace


def output_of(session: Session, env: str, argv: list[str]) -> tuple[int, str]:
    lines: list[str] = []
    result = session.exec(env, argv, on_output=lambda _s, line: lines.append(line))
    return result.exit_code, "\n".join(lines)


def test_basic_env_has_its_own_home_tmp_and_clean_environment(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_FROM_CALLER", "leak")
    record = session.create_env("plain")
    assert record.isolation == "basic"
    assert record.status == "ready"
    folder = Path(record.location)
    code, out = output_of(
        session,
        "plain",
        ["sh", "-c", 'echo "$HOME|$TMPDIR|$PATH|${SECRET_FROM_CALLER:-none}|$PTEST_ENV"'],
    )
    assert code == 0
    home, tmp, path, secret, env_name = out.split("|")
    assert home == str(folder / "home")
    assert tmp == str(folder / "tmp")
    assert path.split(":")[0] == str(folder / "bin")
    assert secret == "none"
    assert env_name == "plain"


def test_exec_exit_code_and_both_streams(session: Session) -> None:
    session.create_env("plain", isolation="basic")
    seen: list[tuple[str, str]] = []
    result = session.exec(
        "plain",
        ["sh", "-c", "echo out; echo err >&2; exit 7"],
        on_output=lambda stream, line: seen.append((stream, line)),
    )
    assert result.exit_code == 7
    assert ("stdout", "out") in seen
    assert ("stderr", "err") in seen


def test_spec_env_vars_reach_commands(workspace: Path) -> None:
    write_workspace(workspace, '[envs.vars]\nenv = { GREETING = "hello" }\n')
    with Session.open(workspace=workspace, environ={}) as session:
        session.create_env("vars")
        assert output_of(session, "vars", ["sh", "-c", "echo $GREETING"]) == (0, "hello")


def test_virtualenv_env_runs_its_own_python(session: Session) -> None:
    record = session.create_env("venv", isolation="virtualenv")
    assert record.engine_state["created_with"] in ("uv", "virtualenv")
    code, prefix = output_of(session, "venv", ["python", "-c", "import sys; print(sys.prefix)"])
    assert code == 0
    assert prefix == record.engine_state["venv"]
    assert session.env_status("venv").healthy


def test_python_version_selects_virtualenv_with_that_interpreter(session: Session) -> None:
    others = []
    for version in ("3.12", "3.13", "3.11"):
        try:
            interpreter = find_interpreter(version)
        except UsageError:
            continue
        if interpreter.version[:2] != current().version[:2]:
            others.append(version)
    wanted = others[0] if others else f"{current().version[0]}.{current().version[1]}"
    record = session.create_env("pinned", python=wanted)
    assert record.isolation == "virtualenv"
    assert "python " + wanted in record.reason
    code, out = output_of(
        session, "pinned", ["python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    )
    assert (code, out) == (0, wanted)


def test_unknown_python_changes_nothing(session: Session) -> None:
    with pytest.raises(UsageError) as info:
        session.create_env("nope", python="3.99")
    assert "no Python 3.99" in info.value.message
    assert session.store.list_envs() == []
    assert not (session.workspace.state_dir / "envs" / "nope").exists()


def test_duplicate_name_changes_nothing(session: Session) -> None:
    first = session.create_env("dup", isolation="basic")
    with pytest.raises(UsageError) as info:
        session.create_env("dup", isolation="virtualenv")
    assert "already exists" in info.value.message
    assert session.get_env("dup").created_at == first.created_at
    assert session.get_env("dup").isolation == "basic"


def test_events_are_published(session: Session) -> None:
    events: list[Event] = []
    session.bus.subscribe(Event, events.append)
    session.create_env("ev", isolation="basic")
    session.exec("ev", ["echo", "hi"])
    kinds = [type(e) for e in events]
    assert kinds[:2] == [EnvCreating, EnvCreated]
    assert any(isinstance(e, OutputLine) and e.line == "hi" for e in events)
    changes = [(e.old, e.new) for e in events if isinstance(e, EnvStatusChanged)]
    assert changes == [("ready", "busy"), ("busy", "ready")]


def test_delete_removes_folder_and_record(session: Session) -> None:
    record = session.create_env("gone", isolation="virtualenv")
    session.delete_env("gone")
    assert not Path(record.location).exists()
    assert session.store.find_env("gone") is None
    assert [t.new for t in session.store.transitions("gone")][-2:] == ["deleting", ""]


def test_failed_create_rolls_back(session: Session, tmp_path: Path) -> None:
    missing = tmp_path / "missing-1.0-py3-none-any.whl"
    with pytest.raises(PtestError) as info:
        session.create_env("bad", packages=[f"missing @ file://{missing}"])
    assert "installing packages into bad failed" in info.value.message
    assert session.store.find_env("bad") is None
    assert not (session.workspace.state_dir / "envs" / "bad").exists()


def test_malformed_requirement_is_usage_error(session: Session) -> None:
    with pytest.raises(UsageError) as info:
        session.create_env("bad", packages=["not a requirement!!"])
    assert "malformed requirement" in info.value.message


def test_create_many_in_parallel(session: Session) -> None:
    outcomes = session.create_envs([f"p{i}" for i in range(12)], max_workers=6)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if o.error]
    assert sorted(r.name for r in session.store.list_envs()) == sorted(f"p{i}" for i in range(12))
    errors = session.delete_envs([f"p{i}" for i in range(12)])
    assert set(errors.values()) == {None}
    assert session.store.list_envs() == []


def test_exec_in_broken_env_is_refused(session: Session) -> None:
    session.create_env("b", isolation="basic")
    session.store.update_env("b", status="broken", error="simulated crash")
    with pytest.raises(EnvStateError) as info:
        session.exec("b", ["true"])
    assert "broken (simulated crash)" in info.value.message
    assert "env repair b" in info.value.hint


def test_repair_rebuilds_a_damaged_env(session: Session) -> None:
    record = session.create_env("fix", isolation="virtualenv")
    python = Path(record.engine_state["python"])
    python.unlink()
    assert not session.env_status("fix").healthy
    repaired = session.repair_env("fix")
    assert repaired.status == "ready"
    assert output_of(session, "fix", ["python", "-c", "print(1)"]) == (0, "1")
    with pytest.raises(EnvStateError):
        session.repair_env("fix")  # healthy now: nothing to repair


def test_cleanup_removes_orphan_folders_and_broken_envs(session: Session) -> None:
    orphan = session.workspace.state_dir / "envs" / "orphan"
    orphan.mkdir(parents=True)
    session.create_env("ok", isolation="basic")
    session.create_env("broke", isolation="basic")
    session.store.update_env("broke", status="broken", error="x")
    planned = session.cleanup(dry_run=True)
    assert {(i.kind, i.env) for i in planned} == {("env", "broke"), ("folder", "orphan")}
    assert orphan.exists()
    session.cleanup()
    assert not orphan.exists()
    assert [r.name for r in session.store.list_envs()] == ["ok"]


def _silent_server() -> tuple[socket.socket, int]:
    """A TCP server that accepts connections and never answers (a hung index)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server, server.getsockname()[1]


def test_killed_create_is_marked_broken_and_cleaned(workspace: Path) -> None:
    server, port = _silent_server()
    code = (
        "from ptest_tui.session import Session\n"
        f"s = Session.open(workspace={str(workspace)!r}, environ={{}})\n"
        f"s.create_env('stuck', packages=['x @ http://127.0.0.1:{port}/x-1.0-py3-none-any.whl'])\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        db = workspace / ".ptest" / "state.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            if db.exists():
                with Session.open(workspace=workspace, environ={}) as peek:
                    record = peek.store.find_env("stuck")
                    if record and record.status == "creating":
                        break
            time.sleep(0.05)
        else:
            pytest.fail("the child never reached creating")
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        server.close()
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    with Session.open(workspace=workspace, environ={}) as after:
        assert after.recovered == ["stuck"]
        record = after.get_env("stuck")
        assert record.status == "broken"
        assert "interrupted while creating" in record.error
        removed = after.cleanup()
        assert ("env", "stuck") in {(i.kind, i.env) for i in removed}
        assert after.store.list_envs() == []
        assert not (workspace / ".ptest" / "envs" / "stuck").exists()
