"""Drive a full-screen program in a detached tmux session and read its screen as text.

Each :class:`Tmux` runs its own tmux server on a private socket (``tmux -L``) with a config
file of its own, so neither the user's ``~/.tmux.conf`` nor another test's sessions can
interfere, and killing the server cannot touch anyone else's. ``remain-on-exit`` keeps the
pane after the program ends, so a crash leaves its last screen (a traceback) to report.

The program runs under ``sh``, which writes its exit status to a file. tmux's own record
(``pane_dead_status``) is not reliable: built with libutempter, tmux sets SIGCHLD to the
default while the utmp helper runs when a pane closes, so the program's SIGCHLD can be
lost and the program stays an unreaped zombie with no status.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import psutil

POLL = 0.2  # seconds between screen reads while waiting

# escape-time 0: an Esc is delivered at once instead of waiting to see if it starts Alt+key.
CONFIG = "set -g remain-on-exit on\nset -g escape-time 0\nset -g status off\n"

Check = Callable[[str], bool]


def tmux_reason() -> str | None:
    """Why tmux sessions cannot run here, or None."""
    return None if shutil.which("tmux") else "the tmux command is not installed"


class TmuxError(AssertionError):
    """A wait timed out or the program ended early; the message holds the last screen."""


class Tmux:
    """One program in one detached tmux session of ``width`` x ``height`` cells."""

    def __init__(self, folder: Path, width: int = 120, height: int = 40) -> None:
        self.width, self.height = width, height
        self.socket = f"ptest-e2e-{uuid.uuid4().hex[:12]}"
        self.session = "app"
        self.config = folder / "tmux.conf"
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(CONFIG)
        self.status_file = folder / "exit-status"
        self.socket_path = ""
        self.last_screen = ""

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Tmux:
        """Start ``argv`` in a new detached session with exactly ``env``.

        The server is new, so it (and the program) inherit ``env`` from this call. ``sh``
        runs the program in the foreground and records its exit status (``$0`` is the file).
        """
        self.status_file.unlink(missing_ok=True)
        wrapper = ["sh", "-c", '"$@"; echo $? > "$0"', str(self.status_file), *argv]
        self._tmux(["new-session", "-d", "-s", self.session, "-x", str(self.width),
                    "-y", str(self.height), "-c", str(cwd), "--", *wrapper],
                   env={k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")})
        self.socket_path = self._tmux(["display-message", "-p", "#{socket_path}"]).stdout.strip()
        return self

    def program_pid(self) -> int:
        """The program's process id (the child of the pane's ``sh``), 0 if not found."""
        shell = int(self.pane("pane_pid") or 0)
        try:
            children = psutil.Process(shell).children() if shell else []
        except psutil.Error:
            return 0
        return children[0].pid if children else 0

    def kill(self) -> None:
        """Kill the session (and the private server); then check nothing of it is left."""
        self._tmux(["kill-server"], check=False)
        if self.alive_session():
            raise TmuxError(f"tmux session {self.socket}:{self.session} survived kill-server")
        if self.socket_path:  # the server leaves its socket file behind
            Path(self.socket_path).unlink(missing_ok=True)

    def __enter__(self) -> Tmux:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()

    # -- keys and screen -----------------------------------------------------------------

    def keys(self, *names: str) -> None:
        """Press keys by tmux name, one after the other (``Tab``, ``Down``, ``Enter``, ``c``)."""
        for name in names:
            self._tmux(["send-keys", "-t", self.session, name])

    def type(self, text: str) -> None:
        """Type ``text`` literally."""
        self._tmux(["send-keys", "-t", self.session, "-l", text])

    def screen(self) -> str:
        """The visible screen as plain text, one line per row (trailing blanks kept)."""
        done = self._tmux(["capture-pane", "-p", "-t", self.session], check=False)
        if done.returncode == 0:
            self.last_screen = done.stdout
        return self.last_screen

    def pane(self, field: str) -> str:
        """A tmux pane format variable (``pane_dead``, ``pane_pid``...), '' if none."""
        done = self._tmux(["display-message", "-p", "-t", self.session, f"#{{{field}}}"],
                          check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    def exited(self) -> int | None:
        """The program's exit status once it has ended (128+N: killed by signal N), else None.

        If the wrapping ``sh`` itself died (killed), the pane is dead with no status: -1.
        """
        try:
            text = self.status_file.read_text().strip()
        except FileNotFoundError:
            text = ""
        if text.isdigit():
            return int(text)
        return -1 if self.pane("pane_dead") == "1" and not self._status_soon() else None

    def _status_soon(self) -> bool:
        # sh writes the file just before it ends; give it a moment before calling it lost.
        time.sleep(0.5)
        return self.status_file.exists()

    def alive_session(self) -> bool:
        """Whether the tmux session still exists."""
        return self._tmux(["has-session", "-t", self.session], check=False).returncode == 0

    # -- waiting -------------------------------------------------------------------------

    def wait_for(self, what: str | Check, step: str, timeout: float = 60) -> str:
        """Poll the screen until it shows ``what`` (text, or a check of the screen).

        Returns that screen. Fails with ``step``, what was awaited and the last screen when
        ``timeout`` passes or the program ends first.
        """
        check: Check = (lambda text: what in text) if isinstance(what, str) else what
        wanted = repr(what) if isinstance(what, str) else getattr(what, "__doc__", None) or "check"
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if check(text):
                return text
            status = self.exited()
            if status is not None:
                self.fail(step, f"ptest-tui exited (status {status}) while waiting for {wanted}")
            if time.monotonic() >= deadline:
                self.fail(step, f"timed out after {timeout:g} s waiting for {wanted}")
            time.sleep(POLL)

    def wait_exit(self, step: str, timeout: float = 30) -> int:
        """Wait for the program to end; its exit status."""
        deadline = time.monotonic() + timeout
        while (status := self.exited()) is None:
            if time.monotonic() >= deadline:
                self.screen()
                self.fail(step, f"still running after {timeout:g} s")
            time.sleep(POLL)
        return status

    def fail(self, step: str, problem: str) -> None:
        """Raise a TmuxError naming the step, the problem and the last screen."""
        raise TmuxError(f"step {step!r}: {problem}\n--- last screen\n{self.last_screen}---")

    # -- plumbing ------------------------------------------------------------------------

    def _tmux(
        self, args: Sequence[str], *, env: Mapping[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = ["tmux", "-L", self.socket, "-f", str(self.config), *args]
        done = subprocess.run(argv, env=dict(env) if env is not None else None,
                              capture_output=True, text=True, timeout=30, check=False)
        if check and done.returncode != 0:
            raise TmuxError(f"$ {' '.join(argv)} -> exit {done.returncode}: {done.stderr.strip()}")
        return done


def left_pane(screen: str) -> list[str]:
    """The text of the left column of each screen row (between the first two ``│``)."""
    rows = []
    for line in screen.splitlines():
        parts = line.split("│")
        rows.append(parts[1] if len(parts) > 2 else "")
    return rows


def table_row(screen: str, first_cell: str) -> list[str] | None:
    """The cells (split on blanks) of the left-column row starting with ``first_cell``."""
    for text in left_pane(screen):
        cells = text.split()
        if cells and cells[0] == first_cell:
            return cells
    return None
