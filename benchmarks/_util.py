"""Shared helpers for the benchmark scripts: timing commands and watching peak RSS."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PTEST = str(BIN / "ptest-tui")


@dataclass(frozen=True)
class Timing:
    """Summary of repeated runs of one command."""

    label: str
    runs: int
    median: float
    minimum: float
    maximum: float

    def row(self) -> str:
        """A markdown table row."""
        return (
            f"| {self.label} | {self.runs} | {self.median:.3f} | {self.minimum:.3f} |"
            f" {self.maximum:.3f} |"
        )


def summarise(label: str, samples: Sequence[float]) -> Timing:
    """Median, min and max of ``samples``."""
    return Timing(label, len(samples), statistics.median(samples), min(samples), max(samples))


def time_command(
    label: str,
    make_argv: Callable[[int], Sequence[str]],
    runs: int,
    *,
    cwd: Path,
    before: Callable[[int], None] | None = None,
    after: Callable[[int], None] | None = None,
    env: dict[str, str] | None = None,
) -> Timing:
    """Run a command ``runs`` times (fresh arguments each run) and time each run."""
    samples = []
    for i in range(runs):
        if before:
            before(i)
        argv = list(make_argv(i))
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{label}: {argv} failed: {done.stderr.decode()[-500:]}")
        if after:
            after(i)
    return summarise(label, samples)


def run_with_peak_rss(argv: Sequence[str], cwd: Path) -> tuple[float, int, int, str]:
    """Run ``argv``; return (seconds, peak RSS of that process in bytes, exit code, stderr)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = 0
    watcher = psutil.Process(proc.pid)
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, watcher.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    _out, err = proc.communicate()
    stop.set()
    thread.join()
    return time.perf_counter() - start, peak, proc.returncode, err.decode()


def new_workspace(text: str = "[workspace]\n") -> Path:
    """A throwaway workspace folder."""
    root = Path(tempfile.mkdtemp(prefix="ptest-bench-"))
    (root / "ptest.toml").write_text(text)
    return root


def remove(path: Path) -> None:
    """Remove a benchmark folder."""
    shutil.rmtree(path, ignore_errors=True)


def docker_ready(image: str) -> bool:
    """True when the daemon answers and ``image`` exists locally."""
    done = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, check=False
    )
    return done.returncode == 0


def clean_env() -> dict[str, str]:
    """The environment for benchmark subprocesses, as on a user's machine.

    No PTEST_* overrides, and bytecode caching on (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which makes every Python start recompile its modules).
    """
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PTEST_") and k != "PYTHONDONTWRITEBYTECODE"
    }
