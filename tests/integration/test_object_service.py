"""The object service over real processes: web and service objects, crashes, recovery, cleanup.

These use servers every machine has (python3 -m http.server, a tiny socket server), so
they run everywhere; the database kinds have their own tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.errors import PtestError, UsageError
from ptest_tui.events import ObjectFailed, ObjectStarted, ObjectStopped
from ptest_tui.objects.process import marked_processes
from ptest_tui.objects.readiness import ObjectStartError
from ptest_tui.session import Session
from tests.conftest import write_workspace

WEB = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1"
LOG_SERVICE = (
    f"{sys.executable} -u -c \"import socket,sys,time; s=socket.socket();"
    f" s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('serving now'); time.sleep(600)\""
    " {port}"
)


@pytest.fixture
def osession(tmp_path: Path) -> Iterator[Session]:
    """A session on a workspace declaring a web app and a log-ready service."""
    root = write_workspace(
        tmp_path / "ws",
        f"""
        [objects.site]
        kind = "web"
        command = "{WEB}"

        [objects.svc]
        kind = "service"
        command = '''{LOG_SERVICE}'''
        ready = "log"
        ready_log = "serving now"
        """,
    )
    session = Session.open(workspace=root, environ={})
    yield session
    for name in session.objects.specs():
        with contextlib.suppress(PtestError):
            session.objects.stop(name)
    session.close()
    assert marked_processes(session.workspace.id + "/") == []


def test_declared_objects_start_answer_and_stop(osession: Session) -> None:
    events: list[object] = []
    osession.bus.subscribe(ObjectStarted, events.append)
    osession.bus.subscribe(ObjectStopped, events.append)
    info = osession.objects.start("site")
    assert info.port is not None and info.url == f"http://127.0.0.1:{info.port}"
    with urllib.request.urlopen(info.url, timeout=5) as response:
        assert response.status == 200
    view = osession.objects.view("site")
    assert (view.state, view.port, view.source) == ("running", info.port, "config")
    # Allocated once: the ledger holds the port while it runs.
    assert osession.objects.connection("site").port == info.port
    osession.objects.stop("site")
    assert osession.objects.view("site").state == "stopped"
    assert osession.objects.connection("site").port is None  # released on stop
    assert [type(e).__name__ for e in events] == ["ObjectStarted", "ObjectStopped"]


def test_log_readiness_and_a_second_start_reuses_the_running_server(osession: Session) -> None:
    first = osession.objects.start("svc")
    pid = osession.objects.view("svc").pid
    again = osession.objects.start("svc")
    assert again.port == first.port
    assert osession.objects.view("svc").pid == pid


def test_connection_info_reaches_commands_in_envs(osession: Session) -> None:
    info = osession.objects.start("site")
    osession.create_env("e", isolation="basic")
    lines: list[str] = []
    result = osession.exec(
        "e", ["sh", "-c", "echo $PTEST_OBJ_SITE_URL $PTEST_OBJ_SITE_PORT"],
        on_output=lambda _s, line: lines.append(line),
    )
    assert result.exit_code == 0
    assert lines == [f"{info.url} {info.port}"]


def test_a_killed_server_is_reported_crashed_and_start_recovers(osession: Session) -> None:
    osession.objects.start("svc")
    pid = osession.objects.view("svc").pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while osession.objects.view("svc").state != "crashed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert osession.objects.view("svc").state == "crashed"
    osession.objects.start("svc")
    assert osession.objects.view("svc").state == "running"


def test_a_start_interrupted_by_a_killed_ptest_is_settled_by_the_next_session(
    osession: Session,
) -> None:
    osession.objects.start("svc")
    # What a ptest-tui killed mid-start leaves: the record says "starting", owned by a
    # process that no longer exists, and the server it launched still runs.
    dead = subprocess.Popen(["true"])
    dead.wait()
    osession.objects.records.set_state("svc", "starting", owner=(dead.pid, 1.0))
    failures: list[ObjectFailed] = []
    fresh = Session.open(workspace=osession.workspace.root, environ={})
    try:
        fresh.bus.subscribe(ObjectFailed, failures.append)
        assert fresh.objects.recovered == ["svc"]
        view = fresh.objects.view("svc")
        assert view.state == "failed" and "killed" in view.error
        assert marked_processes(fresh.workspace.id + "/svc") == []
    finally:
        fresh.close()


def test_cleanup_stops_an_untracked_server_and_removes_orphan_folders(
    osession: Session,
) -> None:
    osession.objects.start("svc")
    folder = osession.objects.context.folder("svc")
    (folder / "server.pid").unlink()  # as if ptest-tui died before writing it
    orphan = osession.objects.context.objects_dir / "gone"
    orphan.mkdir()
    dry = osession.objects.cleanup(dry_run=True)
    # ("data" items may come too: shared data folders other workspaces on this machine
    # left orphaned.)
    assert {item.kind for item in dry} >= {"process", "folder"}
    assert marked_processes(osession.workspace.id + "/svc"), "dry run must not stop anything"
    done = osession.objects.cleanup()
    assert {item.kind for item in done} >= {"process", "folder"}
    assert all(not item.error for item in done)
    assert marked_processes(osession.workspace.id + "/svc") == []
    assert not orphan.exists()
    assert osession.objects.cleanup(dry_run=True) == []


def test_added_objects_are_validated_before_they_are_stored(osession: Session) -> None:
    with pytest.raises(UsageError, match=r"unknown object kind 'redsi'.*"):
        osession.objects.add("x", "redsi", {})
    with pytest.raises(UsageError, match=r"unknown setting 'comand'"):
        osession.objects.add("x", "web", {"comand": "true"})
    with pytest.raises(UsageError, match=r"declared in ptest.toml"):
        osession.objects.add("site", "web", {"command": WEB})
    with pytest.raises(UsageError, match=r"ready must be one of"):
        osession.objects.add("x", "service", {"command": "true", "ready": "magic"})
    assert "x" not in osession.objects.specs()
    osession.objects.add("x", "web", {"command": WEB})
    with pytest.raises(UsageError, match=r"already exists"):
        osession.objects.add("x", "web", {"command": WEB})
    osession.objects.remove("x")
    assert "x" not in osession.objects.specs()


def test_a_pinned_port_in_use_fails_cleanly_and_auto_moves_on(osession: Session) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        osession.objects.add("pinned", "web", {"command": WEB, "port": taken})
        with pytest.raises(UsageError, match=f"port {taken} is in use"):
            osession.objects.start("pinned")
        view = osession.objects.view("pinned")
        assert view.state == "failed" and view.pid is None
        osession.objects.add("auto", "web", {"command": WEB})
        assert osession.objects.start("auto").port != taken


def test_a_service_that_exits_fails_at_once_with_its_last_output(osession: Session) -> None:
    osession.objects.add(
        "dies", "service",
        {"command": f"{sys.executable} -c \"print('config is broken'); raise SystemExit(3)\""},
    )
    with pytest.raises(ObjectStartError, match=r"exited before .*config is broken"):
        osession.objects.start("dies")
    assert osession.objects.view("dies").state == "failed"
    assert osession.objects.connection("dies").port is None


def test_a_start_timeout_names_the_wait_and_kills_the_server(osession: Session) -> None:
    osession.objects.add(
        "slow", "service",
        {"command": f"{sys.executable} -u -c \"print('booting'); import time; time.sleep(60)\"",
         "ready": "log", "ready_log": "never printed", "startup_timeout": 0.5},
    )
    with pytest.raises(ObjectStartError, match=r"not ready after 0.5 s.*booting"):
        osession.objects.start("slow")
    assert marked_processes(osession.workspace.id + "/slow") == []
