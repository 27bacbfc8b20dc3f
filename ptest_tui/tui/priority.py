"""CPU priority for the app's background threads: the screen's thread comes first.

On a busy machine (eight installs on two cores) the kernel shares the CPU evenly between
the UI thread, the job threads and the installers they start, and a key press waits its
turn. Linux gives each thread its own nice value, inherited by the processes it starts,
so a job thread that lowers its own priority lowers its installer's too. Other systems
have no per-thread nice value: there, nothing changes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

BACKGROUND_NICE = 10
log = logging.getLogger(__name__)


def lower_this_thread() -> None:
    """Give the calling thread (and what it starts from now on) the background priority.

    Only ever lowers: a thread already as nice or nicer is left alone, and raising it back
    would need privileges. Call it from worker threads, never from the app's own thread.
    """
    if sys.platform != "linux" or threading.current_thread() is threading.main_thread():
        return
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICE)
    except OSError as exc:  # a sandbox may forbid it; priority is a nicety, not a need
        log.debug("cannot lower the priority of a job thread: %s", exc)
