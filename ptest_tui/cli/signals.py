"""Turn SIGTERM and SIGHUP into the same clean stop as Ctrl+C.

Commands already handle KeyboardInterrupt by cancelling their work (stopping process
trees, rolling back half-made envs). Raising a KeyboardInterrupt subclass from the signal
handler gives SIGTERM and SIGHUP that path too, and the exit code then says which signal
stopped us (143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl+C).
"""

from __future__ import annotations

import signal
from types import FrameType

_last_signal = signal.SIGINT


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM or SIGHUP arrives."""


def _handle(signum: int, _frame: FrameType | None) -> None:
    global _last_signal
    _last_signal = signal.Signals(signum)
    raise Terminated(signum)


def install() -> None:
    """Handle SIGTERM and SIGHUP like Ctrl+C (main thread only)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _handle)


def interrupted_exit_code() -> int:
    """128 + the number of the signal that stopped us (130 for Ctrl+C)."""
    return 128 + int(_last_signal)
