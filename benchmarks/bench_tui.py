"""TUI responsiveness (issue 9): the app is never frozen.

1. Key press to updated screen while 8 envs install packages in parallel. The real app
   (``PtestApp``) runs in this process under ``App.run_test`` with notifications on; 8
   virtualenv envs reinstall ``--packages`` (100) tiny wheels (built here, 1.0 and 2.0 in
   turn, so every round really uninstalls and installs) from a PEP 503 index on 127.0.0.1 run in a
   separate process, through the app's own install jobs (the Packages pane's worker
   threads, as the install dialog starts them), over and over. j/k go to the env table the
   way the terminal driver sends them (``driver.send_message``, what ``Pilot.press`` does);
   a hook on ``App._display`` stamps every frame the compositor produces (and renders it
   to the ANSI text a terminal would get, which headless runs skip) and the latency is the
   time to the first frame composed after the cursor reached the new row. The same
   presses with nothing installing give the baseline. Target: p95 <= 50 ms.
2. Idle CPU: ``ptest-tui`` (the installed entry point) in a pseudo-terminal, 20 virtualenv
   envs shown, ``[monitor] interval = 1``; after start-up settles, the app process's CPU
   time (psutil: user + system, every thread, reaped children) over ``--idle-seconds``.
   Target: <= 3 % of one core.
3. Start-up: ``ptest-tui`` in a pseudo-terminal against a store with 500 environments
   (basic envs created through the Session API); time from creating the process to the
   first frame reaching the terminal (the tab bar's text in the pty output), and to the
   table rows (the first env's name). Target: first frame <= 1.0 s.

Run: .venv/bin/python benchmarks/bench_tui.py [--runs 5] [--presses 200] [--packages 100]
     [--idle-seconds 30] [--only keys,idle,start] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _pty import PtyApp
from _util import PTEST, REPO, clean_env

sys.path.insert(0, str(REPO))
from ptest_tui.events import PackageInstallFailed, PackagesInstalled
from ptest_tui.session import Session
from tests.support.wheels import build_wheel

VERSIONS = ("1.0", "2.0")
LOAD_ENVS = 8
SIZE = (160, 50)
FROZEN = 5.0  # a frame that never comes counts as this many seconds
SERVE = (
    "import sys\nfrom pathlib import Path\n"
    "from tests.support.index_server import IndexServer\n"
    "server = IndexServer(Path(sys.argv[1])).start()\n"
    "print(server.url, flush=True)\nsys.stdin.read()\n"
)


def p95(samples: Sequence[float]) -> float:
    """The 95th percentile (inclusive method: never beyond the largest sample)."""
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def note(text: str) -> None:
    """A progress line on stderr (the tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def make_workspace(root: Path, extra: str = "") -> Path:
    ws = root / "ws"
    ws.mkdir(parents=True)
    (ws / "ptest.toml").write_text("[workspace]\n\n[monitor]\ninterval = 1\n" + extra)
    return ws


def create_envs(ws: Path, names: Sequence[str], isolation: str) -> None:
    with Session.open(workspace=ws, environ={}) as session:
        specs = [session.spec_for(n, isolation=isolation) for n in names]
        failed = [o for o in session.create_envs(specs) if o.error is not None]
    if failed:
        raise SystemExit(f"creating envs failed: {failed[0].error}")


@contextmanager
def index_process(folder: Path) -> Iterator[str]:
    """The wheels in ``folder`` on a local index in its own process (not this one's GIL)."""
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(folder)], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        url = proc.stdout.readline().strip()
        if not url:
            raise SystemExit("the local index did not start")
        yield url
    finally:
        proc.stdin.close()
        proc.wait(10)


# -- 1. keys under install load ---------------------------------------------------------


class FrameWatch:
    """Stamps the frames the app composes; tells when one shows the cursor on a given row."""

    def __init__(self, app: Any) -> None:
        self.frames = 0
        self.toasts: list[int] = []  # notifications on screen at each key press
        self._app = app
        self._want: tuple[int, asyncio.Future[float]] | None = None
        original = app._display
        table = app.table

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            # Headless runs skip turning the update into terminal text; a terminal gets it.
            if hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)
            now = time.perf_counter()
            self.frames += 1
            want = self._want
            if want is not None and table.cursor_row == want[0] and not want[1].done():
                want[1].set_result(now)

        app._display = display

    def expect(self, row: int) -> asyncio.Future[float]:
        """A future resolved with the time of the first frame after the cursor is on ``row``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.toasts.append(len(self._app._notifications))
        self._want = (row, future)
        return future


async def press_series(app: Any, watch: FrameWatch, presses: int) -> list[float]:
    """j/k up and down the table, ``presses`` times; seconds from key to frame, each."""
    from textual import events

    table = app.table
    samples = []
    step = 1
    for _ in range(presses):
        row = table.cursor_row
        if not 0 <= row + step < table.row_count:
            step = -step
        frame = watch.expect(row + step)
        start = time.perf_counter()
        app._driver.send_message(events.Key("j" if step > 0 else "k", "j" if step > 0 else "k"))
        try:
            at = await asyncio.wait_for(frame, FROZEN)
        except TimeoutError:
            at = start + FROZEN
        samples.append(at - start)
        await asyncio.sleep(random.uniform(0.03, 0.12))  # a person's pace, not a flood
    return samples


class InstallLoad:
    """Keeps every env installing through the Packages pane's own jobs until stopped."""

    def __init__(self, app: Any, envs: Sequence[str], packages: Sequence[str]) -> None:
        from ptest_tui.tui.screens.install import InstallRequest

        self.app = app
        self.envs = envs
        self.packages = packages
        self.started = 0
        self.installed = 0
        self.failed: list[str] = []
        self._request = InstallRequest
        app.session.bus.subscribe(PackagesInstalled, self._done)
        app.session.bus.subscribe(PackageInstallFailed, self._failed)
        self._task: asyncio.Task[None] | None = None

    def _done(self, _event: PackagesInstalled) -> None:
        self.installed += 1

    def _failed(self, event: PackageInstallFailed) -> None:
        self.failed.append(str(event))

    def running(self) -> int:
        pane = self.app.query_one("#packages")
        return sum(pane.job_running(env, "change") for env in self.envs)

    async def _keep_going(self) -> None:
        pane = self.app.query_one("#packages")
        while True:
            for env in self.envs:
                if not pane.job_running(env, "change"):
                    version = VERSIONS[self.started % 2]
                    pane.start_install(self._request(env, tuple(f"{p}=={version}"
                                                                for p in self.packages)))
                    self.started += 1
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep_going())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        while self.running():
            await asyncio.sleep(0.1)


async def drive_keys(
    session: Session, presses: int, packages: Sequence[str], profile: str = ""
) -> dict[str, Any]:
    import cProfile

    from ptest_tui.tui.app import PtestApp

    app = PtestApp(session)
    async with app.run_test(size=SIZE, notifications=True):
        while app.table.row_count < LOAD_ENVS:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        assert app.focused is app.table, app.focused
        watch = FrameWatch(app)
        idle = await press_series(app, watch, max(20, presses // 2))
        load = InstallLoad(app, sorted(app.views), packages)
        load.start()
        while load.installed < LOAD_ENVS:  # every env has finished one round
            await asyncio.sleep(0.1)
        before, frames0, wall0 = load.installed, watch.frames, time.perf_counter()
        profiler = cProfile.Profile() if profile else None
        if profiler:  # the app's own thread (the event loop) only
            profiler.enable()
        busy = await press_series(app, watch, presses)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        wall = time.perf_counter() - wall0
        rounds, frames = load.installed - before, watch.frames - frames0
        running = load.running()
        note("presses done; waiting for the installs to finish")
        await load.stop()
        await asyncio.sleep(1.0)  # the last events and listings reach the app first
        app.exit()
    note("app closed")
    if load.failed:
        raise SystemExit(f"installs failed: {load.failed[0]}")
    return {"idle": idle, "busy": busy, "rounds": rounds, "wall": wall, "frames": frames,
            "running_at_end": running, "toasts": watch.toasts}


def bench_keys(root: Path, presses: int, count: int, profile: str = "") -> list[str]:
    wheels = root / "wheels"
    packages = [f"tui-bench-{i}" for i in range(1, count + 1)]
    for name in packages:
        for version in VERSIONS:
            build_wheel(wheels, name, version)
    with index_process(wheels) as url:
        ws = make_workspace(root, f'\n[packages]\nindex_url = "{url}"\nprefer_cache = false\n')
        create_envs(ws, [f"load-{i}" for i in range(LOAD_ENVS)], "virtualenv")
        note(f"{LOAD_ENVS} envs created; starting the app")
        with Session.open(workspace=ws, environ={}) as session:
            figures = asyncio.run(drive_keys(session, presses, packages, profile))
    rows = []
    for label, key in (("nothing else running", "idle"),
                       (f"{LOAD_ENVS} envs installing in parallel", "busy")):
        samples = [s * 1000 for s in figures[key]]
        frozen = sum(s >= FROZEN * 1000 for s in samples)
        rows.append(f"| {label} | {len(samples)} | {statistics.median(samples):.1f} |"
                    f" {p95(samples):.1f} | {max(samples):.1f} | {frozen} |")
    rounds, wall = figures["rounds"], figures["wall"]
    toasts = figures["toasts"]
    print(f"<!-- under load: {rounds} installs of {count} packages finished in {wall:.1f} s"
          f" (about {wall * LOAD_ENVS / max(rounds, 1):.1f} s each),"
          f" {figures['frames'] / wall:.0f} frames/s, notifications shown: median"
          f" {statistics.median(toasts):.0f}, max {max(toasts)};"
          f" {figures['running_at_end']} installs still running at the end -->",
          file=sys.stderr)
    return rows


# -- 2. idle CPU ------------------------------------------------------------------------


def bench_idle(root: Path, seconds: float, env: dict[str, str]) -> list[str]:
    ws = make_workspace(root)
    names = [f"idle-{i:02d}" for i in range(20)]
    create_envs(ws, names, "virtualenv")
    app = PtyApp([PTEST], cwd=ws, env=env, size=SIZE)
    try:
        app.wait_for(names[0].encode())
        time.sleep(5.0)  # start-up work (first reads, engine checks, monitor warm-up)
        window = 3.0
        windows = []
        cpu0, wall0 = app.cpu_seconds(), time.perf_counter()
        while time.perf_counter() - wall0 < seconds:
            cpu, wall = app.cpu_seconds(), time.perf_counter()
            time.sleep(window)
            windows.append((app.cpu_seconds() - cpu) / (time.perf_counter() - wall) * 100)
        total = (app.cpu_seconds() - cpu0) / (time.perf_counter() - wall0) * 100
    finally:
        app.quit()
    return [f"| 20 virtualenv envs, [monitor] interval = 1, {seconds:g} s | {total:.2f} |"
            f" {statistics.median(windows):.2f} | {p95(windows):.2f} | {max(windows):.2f} |"]


# -- 3. start-up ------------------------------------------------------------------------


def start_once(ws: Path, env: dict[str, str], first_row: bytes | None) -> tuple[float, float]:
    app = PtyApp([PTEST], cwd=ws, env=env, size=SIZE)
    try:
        first = app.wait_for(b"Environments")
        rows = app.wait_for(first_row) if first_row else float("nan")
    finally:
        app.quit()
    return first, rows


def bench_start(root: Path, runs: int, env: dict[str, str]) -> list[str]:
    rows = []
    for count in (0, 500):
        ws = make_workspace(root / f"start-{count}")
        names = [f"s{i:03d}" for i in range(count)]
        if names:
            create_envs(ws, names, "basic")
        start_once(ws, env, None)  # warm the page cache and bytecode
        samples = [start_once(ws, env, names[0].encode() if names else None)
                   for _ in range(runs)]
        first = [s[0] for s in samples]
        table = [s[1] for s in samples]
        shown = (f"{statistics.median(table):.3f} | {p95(table):.3f}" if names
                 else "— | —")
        rows.append(f"| {count} envs | {runs} | {statistics.median(first):.3f} |"
                    f" {p95(first):.3f} | {max(first):.3f} | {shown} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="start-up runs")
    parser.add_argument("--presses", type=int, default=200, help="key presses under load")
    parser.add_argument("--packages", type=int, default=100,
                        help="tiny wheels per install under load")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--only", default="keys,idle,start")
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="cProfile the app's thread during the presses under load")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    root = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    env = clean_env() | {"PTEST_CACHE_DIR": str(root / "cache")}
    os.environ["PTEST_CACHE_DIR"] = env["PTEST_CACHE_DIR"]  # the in-process app (keys)
    print(f"{os.cpu_count()} cores, terminal {SIZE[0]}x{SIZE[1]}")
    steps: list[tuple[str, str, Callable[[], list[str]]]] = [
        ("keys", "| key press to frame | presses | median ms | p95 ms | max ms | frozen |\n"
         "| --- | --- | --- | --- | --- | --- |",
         lambda: bench_keys(root / "keys", args.presses, args.packages, args.profile)),
        ("idle", "| idle app | % of one core | median of 3 s windows | p95 | max |\n"
         "| --- | --- | --- | --- | --- |",
         lambda: bench_idle(root / "idle", args.idle_seconds, env)),
        ("start", "| store | runs | first frame median s | p95 s | max s |"
         " rows shown median s | p95 s |\n| --- | --- | --- | --- | --- | --- | --- |",
         lambda: bench_start(root / "start", args.runs, env)),
    ]
    try:
        for name, header, step in steps:
            if name in parts:
                print(f"\n{header}", flush=True)
                for row in step():
                    print(row, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
