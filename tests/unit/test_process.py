"""Subprocess execution: streaming, exit codes, timeouts and cancellation of process trees."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import psutil

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.process import run_process


def run(code: str, tmp_path: Path, **kwargs: object) -> tuple[int, list[tuple[str, str]], object]:
    lines: list[tuple[str, str]] = []
    result = run_process(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        on_output=lambda stream, line: lines.append((stream, line)),
        cancel=kwargs.pop("cancel", CancelToken()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return result.exit_code, lines, result


def test_streams_both_streams_and_exit_code(tmp_path: Path) -> None:
    code, lines, _ = run(
        "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)", tmp_path
    )
    assert code == 3
    assert ("stdout", "out") in lines
    assert ("stderr", "err") in lines


def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    child_pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(child_pid_file)!r}, 'w').write(str(p.pid));"
        "time.sleep(60)"
    )
    _, _, result = run(code, tmp_path, timeout=1.0)
    assert result.timed_out  # type: ignore[attr-defined]
    child = int(child_pid_file.read_text())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        try:
            if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_cancel_stops_promptly(tmp_path: Path) -> None:
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    _, _, result = run("import time; time.sleep(60)", tmp_path, cancel=token)
    assert result.cancelled  # type: ignore[attr-defined]
    assert result.exit_code != 0  # type: ignore[attr-defined]
