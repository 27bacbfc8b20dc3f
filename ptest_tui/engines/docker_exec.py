"""Run one command in a container with streamed output, a timeout and cancellation.

``exec_start(stream=True, demux=True)`` yields ``(stdout, stderr)`` chunks; a reader thread
splits them into lines while the calling thread watches the cancel token and the clock.

Stopping must reach the process *inside* the container: the PID from ``exec_inspect`` is a
host PID, meaningless for a remote daemon. Every exec therefore carries a unique marker
variable; to stop it, a second exec signals every process whose environment holds that
marker (children inherit it, so the whole tree stops), escalating SIGINT, SIGTERM, SIGKILL.
"""

from __future__ import annotations

import codecs
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult, OutputCallback
from ptest_tui.engines.process import GRACE_SECONDS, POLL_SECONDS
from ptest_tui.errors import EngineError

MARKER_VAR = "PTEST_EXEC_ID"
# Signals every process whose environment has MARKER_VAR=$2. /proc is always there, and
# grep -z reads environ's NUL-separated entries; the arguments are data, not code.
KILL_SCRIPT = (
    'm="' + MARKER_VAR + '=$2"; for d in /proc/[0-9]*; do '
    'if grep -qzxF "$m" "$d/environ" 2>/dev/null; then kill -s "$1" "${d#/proc/}" 2>/dev/null; fi; '
    "done; exit 0"
)


class LineSplitter:
    """Turns byte chunks of one stream into complete decoded lines."""

    def __init__(self, stream: str, on_output: OutputCallback) -> None:
        self.stream = stream
        self.on_output = on_output
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    def feed(self, chunk: bytes) -> None:
        """Add a chunk; emit every line it completes."""
        self._pending += self._decoder.decode(chunk)
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.on_output(self.stream, line.rstrip("\r"))

    def flush(self) -> None:
        """Emit a last line that had no newline."""
        self._pending += self._decoder.decode(b"", final=True)
        if self._pending:
            self.on_output(self.stream, self._pending.rstrip("\r"))
            self._pending = ""


def _pump(chunks: Iterable[tuple[bytes | None, bytes | None]], on_output: OutputCallback,
          errors: list[BaseException]) -> None:
    out, err = LineSplitter("stdout", on_output), LineSplitter("stderr", on_output)
    try:
        for stdout, stderr in chunks:
            if stdout:
                out.feed(stdout)
            if stderr:
                err.feed(stderr)
    except Exception as exc:  # a closed stream after cancel ends the read; keep the rest
        errors.append(exc)
    finally:
        out.flush()
        err.flush()


def signal_marked(api: Any, container: str, marker: str, signal_name: str) -> None:
    """Send ``signal_name`` (INT, TERM, KILL) to every process carrying ``marker``."""
    exec_id = api.exec_create(
        container, ["sh", "-c", KILL_SCRIPT, "ptest-kill", signal_name, marker],
        stdout=True, stderr=True, user="0",
    )["Id"]
    api.exec_start(exec_id)


def _exit_code(api: Any, exec_id: str, wait: float = 5.0) -> int | None:
    deadline = time.monotonic() + wait
    while True:
        info = api.exec_inspect(exec_id)
        if not info.get("Running") or time.monotonic() > deadline:
            code = info.get("ExitCode")
            return None if code is None else int(code)
        time.sleep(0.02)


def run_exec(
    api: Any,
    container: str,
    argv: Sequence[str],
    *,
    environment: Mapping[str, str],
    workdir: str | None,
    on_output: OutputCallback,
    cancel: CancelToken,
    timeout: float | None,
    user: str = "",
) -> ExecResult:
    """Run ``argv`` (a list, never a shell string) in ``container`` and stream its lines.

    ``user`` runs it as another user than the container's (``root``, ``postgres``).
    """
    import docker.errors

    start = time.monotonic()
    marker = uuid.uuid4().hex
    variables = [f"{k}={v}" for k, v in environment.items()] + [f"{MARKER_VAR}={marker}"]
    try:
        exec_id = api.exec_create(
            container, list(argv), stdout=True, stderr=True, stdin=False, tty=False,
            environment=variables, workdir=workdir or None, user=user,
        )["Id"]
        stream = api.exec_start(exec_id, stream=True, demux=True)
    except docker.errors.NotFound:
        raise EngineError(
            f"container {container} no longer exists", "repair the env with `ptest-tui env repair`"
        ) from None
    except docker.errors.APIError as exc:
        raise EngineError(
            f"cannot run a command in container {container}: {exc.explanation or exc}",
            "check `ptest-tui env status`; repair the env with `ptest-tui env repair`",
        ) from None
    errors: list[BaseException] = []
    reader = threading.Thread(target=_pump, args=(stream, on_output, errors), daemon=True)
    reader.start()
    cancelled = timed_out = False
    while reader.is_alive():
        if cancel.wait(POLL_SECONDS):
            cancelled = True
        elif timeout is not None and time.monotonic() - start > timeout:
            timed_out = True
        if cancelled or timed_out:
            _stop(api, container, marker, reader)
            break
    reader.join(timeout=5)
    if reader.is_alive():
        stream.close()  # something still holds the output open; stop waiting for it
        reader.join(timeout=5)
    code = _exit_code(api, exec_id)
    return ExecResult(
        exit_code=-1 if code is None else code,
        seconds=time.monotonic() - start,
        cancelled=cancelled,
        timed_out=timed_out,
    )


def _stop(api: Any, container: str, marker: str, reader: threading.Thread) -> None:
    import docker.errors

    try:
        for signal_name, grace in zip(("INT", "TERM", "KILL"), GRACE_SECONDS, strict=True):
            signal_marked(api, container, marker, signal_name)
            reader.join(grace)
            if not reader.is_alive():
                break
        # The main process may be gone while children that ignore SIGINT (background
        # jobs of a shell do) live on: nothing of a stopped command may survive.
        signal_marked(api, container, marker, "KILL")
    except docker.errors.APIError:
        return  # the container itself is gone, and the process with it
