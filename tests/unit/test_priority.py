"""Maintenance jobs of the app run on their own thread at background priority."""

from __future__ import annotations

import contextvars
import os
import subprocess
import sys
import threading

import pytest

from ptest_tui.tui.priority import BACKGROUND_NICE, in_background

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice is Linux's")

WHO = contextvars.ContextVar("who", default="nobody")


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_job_and_what_it_starts_run_niced_and_the_caller_stays_as_it_was() -> None:
    before = own_nice()

    def job() -> tuple[int, int, str]:
        child = subprocess.run(["sh", "-c", "cut -d' ' -f19 /proc/self/stat"],
                               capture_output=True, text=True, check=True)
        return own_nice(), int(child.stdout), WHO.get()

    WHO.set("caller")
    assert in_background(job) == (BACKGROUND_NICE, BACKGROUND_NICE, "caller")
    assert own_nice() == before  # nothing stuck to the calling (pooled) thread


def test_the_jobs_exception_reaches_the_caller() -> None:
    def job() -> None:
        raise ValueError("broken job")

    with pytest.raises(ValueError, match="broken job"):
        in_background(job)
