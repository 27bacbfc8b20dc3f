"""Readiness strategies against real processes: a web server, a log file, commands."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import CancelledError
from ptest_tui.objects.readiness import (
    CommandSucceeds,
    HttpOk,
    LogLine,
    ObjectStartError,
    PortOpen,
    wait_until_ready,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        yield proc, port, log
    finally:
        proc.kill()
        proc.wait(10)


def test_port_http_and_log_strategies_on_a_real_server(
    web_server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, log = web_server
    alive = lambda: proc.poll() is None  # noqa: E731
    wait_until_ready("web", PortOpen(port), timeout=30, alive=alive)
    wait_until_ready("web", HttpOk(f"http://127.0.0.1:{port}/"), timeout=30, alive=alive)
    wait_until_ready("web", LogLine(log, r"Serving HTTP"), timeout=30, alive=alive)
    assert not HttpOk(f"http://127.0.0.1:{port}/missing").check()  # 404 is not ready


def test_timeout_names_what_was_awaited_and_shows_log_lines(tmp_path: Path) -> None:
    log = tmp_path / "db.log"
    log.write_text("starting\nFATAL: data directory is corrupt\n")
    with pytest.raises(ObjectStartError) as info:
        wait_until_ready("db", PortOpen(free_port()), timeout=0.3, interval=0.05, log_file=log)
    message = info.value.message
    assert "not ready after 0.3 s (waiting for port 127.0.0.1:" in message
    assert "FATAL: data directory is corrupt" in message


def test_a_dead_process_fails_at_once(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait(10)
    with pytest.raises(ObjectStartError) as info:
        wait_until_ready("svc", PortOpen(free_port()), timeout=60, alive=lambda: False)
    assert "exited before port" in info.value.message


def test_command_strategy() -> None:
    assert CommandSucceeds(("true",)).check()
    assert not CommandSucceeds(("false",)).check()
    assert not CommandSucceeds(("/no/such/binary",)).check()


def test_cancel_stops_waiting() -> None:
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    with pytest.raises(CancelledError):
        wait_until_ready("svc", PortOpen(free_port()), timeout=60, cancel=token)
