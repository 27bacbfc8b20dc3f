"""Run a subprocess with streamed output, a timeout and prompt cancellation.

Stopping escalates the way nox's popen does: SIGINT, then SIGTERM, then SIGKILL, each
with a grace period, sent to the whole process group so children die too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult, OutputCallback
from ptest_tui.errors import CancelledError, EngineError, UsageError

log = logging.getLogger(__name__)

GRACE_SECONDS = (3.0, 3.0, 3.0)
POLL_SECONDS = 0.05


def _pump(stream: IO[bytes], name: str, on_output: OutputCallback) -> None:
    deliver = True
    for raw in iter(stream.readline, b""):
        if not deliver:
            continue  # keep draining, or the child blocks on a full pipe
        try:
            on_output(name, raw.decode("utf-8", "replace").rstrip("\r\n"))
        except Exception:
            # A consumer that fails (say, our stdout is a closed pipe) stops receiving,
            # but the child's output is still read to the end.
            log.debug("output consumer failed; discarding the rest", exc_info=True)
            deliver = False
    stream.close()


def _signal_group(proc: subprocess.Popen[bytes], sig: int, group: bool = True) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)


def stop_process(proc: subprocess.Popen[bytes], group: bool = True) -> None:
    """Interrupt, then terminate, then kill ``proc`` (its whole process group if ``group``)."""
    for sig, grace in zip(
        (signal.SIGINT, signal.SIGTERM, signal.SIGKILL), GRACE_SECONDS, strict=True
    ):
        _signal_group(proc, sig, group)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    on_output: OutputCallback,
    cancel: CancelToken,
    timeout: float | None = None,
    own_group: bool = True,
) -> ExecResult:
    """Run ``argv`` (a list, never a shell string) and stream its output line by line.

    With ``own_group`` (user commands) the command runs in its own session and process
    group: stopping it stops its whole tree, and anything it left running in that group
    (background jobs) is killed when it ends, so no process outlives the command. Without
    it (ptest-tui's own helper tools such as uv) the tool stays in our process group, so a
    signal to ptest-tui's group (a terminal's Ctrl+C, a supervisor's kill) reaches it too
    and it can never keep writing into an env after ptest-tui was killed.
    """
    if not cwd.is_dir():
        raise UsageError(f"working folder {cwd} does not exist", "check --cwd")
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=own_group,
        )
    except FileNotFoundError:
        raise EngineError(
            f"command not found: {argv[0]}", "check the command name and the env's PATH"
        ) from None
    except PermissionError:
        raise EngineError(f"command not executable: {argv[0]}", "check its permissions") from None
    except OSError as exc:
        raise EngineError(f"cannot start {argv[0]}: {exc.strerror}", "check the command") from None
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, "stdout", on_output), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, "stderr", on_output), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    cancelled = timed_out = False
    while True:
        try:
            # Popen.wait polls with short sleeps, so a quick command is noticed at once.
            proc.wait(timeout=POLL_SECONDS)
            break
        except subprocess.TimeoutExpired:
            pass
        if cancel.cancelled:
            cancelled = True
        elif timeout is not None and time.monotonic() - start > timeout:
            timed_out = True
        if cancelled or timed_out:
            stop_process(proc, own_group)
            break
    proc.wait()
    if own_group:
        _signal_group(proc, signal.SIGKILL)  # background children left in the group
    for pump in pumps:
        pump.join(timeout=5)
    return ExecResult(
        exit_code=proc.returncode,
        seconds=time.monotonic() - start,
        cancelled=cancelled,
        timed_out=timed_out,
    )


def run_checked(
    argv: Sequence[str],
    *,
    what: str,
    cancel: CancelToken,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> list[str]:
    """Run a helper command that must succeed; return its output lines.

    Cancellation stops it promptly (CancelledError); a non-zero exit raises EngineError
    naming ``what`` and the command's last output line.
    """
    lines: list[str] = []
    result = run_process(
        argv,
        cwd=cwd or Path.cwd(),
        env=dict(os.environ if env is None else env),
        on_output=lambda _stream, line: lines.append(line),
        cancel=cancel,
        timeout=timeout,
        own_group=False,
    )
    if result.cancelled:
        raise CancelledError(f"{what} cancelled", "")
    if result.timed_out:
        raise EngineError(f"{what} did not finish in {timeout:g} s", "try again")
    if result.exit_code != 0:
        last = next((line for line in reversed(lines) if line.strip()), "no output")
        raise EngineError(f"{what} failed: {last.strip()}", "run with --debug for details")
    return lines


def run_quiet(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> str:
    """Run a short helper command; return stdout or raise EngineError with its stderr."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise EngineError(f"command not found: {argv[0]}", "run `ptest-tui doctor`") from None
    except subprocess.TimeoutExpired:
        raise EngineError(f"{argv[0]} did not finish in {timeout:g} s", "try again") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise EngineError(f"{Path(argv[0]).name} failed: {last[0]}", "run with --debug for details")
    return done.stdout
