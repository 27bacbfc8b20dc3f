"""Run the real ``ptest-tui`` app in a pseudo-terminal and watch what it writes.

The app gets a pty as stdin/stdout/stderr (a controlling terminal, a fixed window size,
``TERM=xterm-256color``), exactly as in a terminal emulator. A reader thread drains the
master side as fast as the app writes and stamps each chunk, so a benchmark can tell when a
given text first reached the terminal (the first frame, the table rows) and read the app
process's CPU time with psutil while it sits idle.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psutil


def _make_controlling_tty() -> None:
    # Runs in the child after setsid(): the pty (fd 0) becomes its controlling terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyApp:
    """The app (``argv``) running in a pty of ``size`` (columns, rows)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: dict[str, str],
        size: tuple[int, int] = (160, 50),
    ) -> None:
        master, slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.started = time.perf_counter()  # just before the process is created
        self.proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env | {"TERM": "xterm-256color"},
            stdin=slave, stdout=slave, stderr=slave, close_fds=True,
            start_new_session=True, preexec_fn=_make_controlling_tty,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the app closed the terminal
                chunk = b""
            with self._arrived:
                if chunk:
                    self._buffer += chunk
                self._arrived.notify_all()
            if not chunk:
                return

    def wait_for(self, text: bytes, timeout: float = 60.0) -> float:
        """Seconds from process creation until ``text`` first reached the terminal.

        The time is taken when the chunk holding the end of ``text`` is read, which is
        within a read call of when the app wrote it.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while text not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    tail = bytes(self._buffer[-400:])
                    raise SystemExit(f"the app never showed {text!r}; it wrote ...{tail!r}")
                self._arrived.wait(min(left, 0.5))
            return time.perf_counter() - self.started

    def cpu_seconds(self) -> float:
        """User + system CPU time of the app process and its reaped children so far."""
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def quit(self, key: bytes = b"q", timeout: float = 15.0) -> int:
        """Press ``key`` (quit) and wait; terminate, then kill, if the app does not leave."""
        with contextlib.suppress(OSError):
            os.write(self._master, key)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        self._reader.join(5)
        os.close(self._master)
        return code
