"""Background CPU priority for the app's maintenance jobs: the screen's thread comes first.

On a busy machine (eight installs on two cores) the kernel shares the CPU evenly between
the UI thread, the job threads and the installers they start, and a key press waits its
turn. Linux gives each thread its own nice value, inherited by the processes it starts,
so a job run on a thread at nice 10 runs its installer at nice 10 too.

Pooled worker threads are reused and an unprivileged thread cannot raise its priority
back, so the job gets a fresh thread of its own that ends with it: the lowered priority
never reaches later work on the pool, such as a test run or a database server started
from the app. Other systems have no per-thread nice value; there the job runs as is.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

BACKGROUND_NICE = 10
T = TypeVar("T")
log = logging.getLogger(__name__)


def _lower_this_thread() -> None:
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICE)
    except OSError as exc:  # a sandbox may forbid it; priority is a nicety, not a need
        log.debug("cannot lower the priority of a job thread: %s", exc)


def in_background(job: Callable[[], T]) -> T:
    """Run ``job`` on a new thread at :data:`BACKGROUND_NICE` and return what it returns.

    Blocks the calling (worker) thread until the job ends; an exception raised by the job
    is raised here. The job sees the caller's context variables (Textual's current worker
    and app), so it behaves as if it ran on the calling thread.
    """
    if sys.platform != "linux":
        return job()
    context = contextvars.copy_context()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        _lower_this_thread()
        try:
            outcome.append(context.run(job))
        except BaseException as exc:  # handed to the caller, whatever it is
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"{threading.current_thread().name}-bg",
                              daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
