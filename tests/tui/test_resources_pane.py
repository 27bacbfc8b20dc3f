"""Pilot tests of the Resources pane against the real monitor and real envs.

A tiny host app composes only the pane over a real Session and forwards engine events to
it the way the main app does (through the EventBridge). CPU load comes from a busy loop
run by ``Session.exec`` in a thread, the same path as ``env exec``, so the monitor finds
it by its env markers. Nothing asserts wall-clock times.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from ptest_tui.cancel import CancelToken
from ptest_tui.monitor import Tick
from ptest_tui.monitor.live import LiveWatch
from ptest_tui.session import Session
from ptest_tui.tui.bridge import EngineEvent, EventBridge, OutputReady
from ptest_tui.tui.widgets.chart import GraphSpec, Series, plan_graph, render_graph
from ptest_tui.tui.widgets.graph import Graph
from ptest_tui.tui.widgets.resources_pane import MAX_REDRAWS, NO_SELECTION, ResourcesPane
from tests.conftest import write_workspace
from tests.tui.conftest import wait_until

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
HZ = os.sysconf("SC_CLK_TCK")
BURN = "import os\nprint('ready', os.getpid(), flush=True)\nwhile True: pass\n"
CONFIG = """\
[monitor]
interval = 0.2
cpu_percent = 90
memory = "512m"
disk_free = "1g"

[envs.gamma]
isolation = "basic"

[objects.db]
kind = "sqlite"
"""


class PaneHost(App[int]):
    """Only the pane, fed with engine events like the main app feeds it."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.bridge = EventBridge(self, session.bus)

    def compose(self) -> Any:
        yield ResourcesPane(self.session, id="resources")

    @property
    def pane(self) -> ResourcesPane:
        return self.query_one(ResourcesPane)

    def on_mount(self) -> None:
        self.bridge.start()

    def on_unmount(self) -> None:
        self.bridge.stop()

    def on_engine_event(self, message: EngineEvent) -> None:
        if self.query(ResourcesPane):
            self.pane.engine_event(message.event)

    def on_output_ready(self, _message: OutputReady) -> None:
        self.bridge.drain()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A workspace sampled every 0.2 s, with thresholds, a declared env and a sqlite object."""
    root = write_workspace(tmp_path / "ws", CONFIG)
    with Session.open(workspace=root, environ={}) as opened:
        yield opened


@contextlib.contextmanager
def burning(session: Session, env: str) -> Iterator[int]:
    """A busy loop in ``env`` until the block ends; yields its pid."""
    ready = threading.Event()
    pid: list[int] = []
    token = CancelToken()

    def on_output(_stream: str, line: str) -> None:
        if line.startswith("ready "):
            pid.append(int(line.split()[1]))
            ready.set()

    worker = threading.Thread(
        target=session.exec, args=(env, [sys.executable, "-c", BURN]),
        kwargs={"on_output": on_output, "cancel": token}, daemon=True,
    )
    worker.start()
    try:
        assert ready.wait(60), "the busy loop never started"
        yield pid[0]
    finally:
        token.cancel()
        worker.join(30)


def cpu_seconds(pid: int) -> float:
    """What the kernel charged ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:13]) / HZ


def graph(pane: ResourcesPane, column: str, index: int) -> Graph:
    view = pane.target_view if column == "target" else pane.host_view
    return view.graphs[index]


def latest(pane: ResourcesPane, column: str, index: int) -> float:
    spec = graph(pane, column, index).spec
    value = spec.series[0].points[-1][1] if spec is not None and spec.series[0].points else None
    return -1.0 if value is None else value


def charted(pane: ResourcesPane, column: str) -> bool:
    view = pane.target_view if column == "target" else pane.host_view
    shown = not view.has_class("-message") and latest(pane, column, 0) >= 0
    return shown and all(graph.text for graph in view.graphs)  # laid out at their size


def monitor_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "ptest-monitor" and t.is_alive())


async def ticks(pilot: Pilot[int], pane: ResourcesPane, count: int) -> list[Tick]:
    """Wait for ``count`` more monitor ticks."""
    seen: list[Tick] = []
    assert pane.monitor is not None
    unsubscribe = pane.monitor.subscribe(seen.append)
    try:
        assert await wait_until(pilot, lambda: len(seen) >= count, rounds=400)
    finally:
        unsubscribe()
    return seen


async def test_a_busy_env_shows_high_cpu_beside_the_host(session: Session) -> None:
    session.create_env("busy", isolation="basic")
    app = PaneHost(session)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_env("busy")
        assert pane.target_key == "env:busy"
        with burning(session, "busy") as pid:
            assert await wait_until(pilot, lambda: latest(pane, "target", 0) > 0, rounds=400)
            before, started = cpu_seconds(pid), time.monotonic()
            await ticks(pilot, pane, 6)
            share = (cpu_seconds(pid) - before) / (time.monotonic() - started)
            await pilot.pause(0.3)  # the last tick's redraw
            spec = graph(pane, "target", 0).spec
            assert spec is not None
            shown = [value for at, value in spec.series[0].points
                     if at >= started and value is not None]
            # The kernel decides how much of a core the loop gets: the chart must read
            # high when it got most of one, and follow it when a loaded machine gave less.
            assert shown and max(shown) >= min(50.0, 50.0 * share), (shown, share)
            cpu = graph(pane, "target", 0).text
            assert cpu.startswith("CPU ") and "of a core" in cpu and "▲ peak" in cpu
            assert any("⠀" < char <= "⣿" for char in cpu)  # braille dots were drawn
            assert "env busy  running · 1 process" in pane.target_view.text
        # The host column charts the machine: CPU over all its cores, memory, disk.
        assert charted(pane, "host")
        host = pane.host_view.text
        assert "host  running" in host and "cores)" in host
        assert "Memory " in host and "Disk I/O read" in host and "Disk free" in host


async def test_the_config_thresholds_are_drawn(session: Session) -> None:
    session.create_env("alpha", isolation="basic")
    app = PaneHost(session)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_env("alpha")
        assert await wait_until(pilot, lambda: charted(pane, "target") and charted(pane, "host"))
        cpu = graph(pane, "target", 0).text
        assert "┄ alert above 90%" in cpu
        # The threshold's row: its value on the scale, the dashed line in the plot.
        assert any(line.lstrip().startswith("90%┤┄┄┄") for line in cpu.splitlines()), cpu
        assert "┄ alert above 512M" in graph(pane, "target", 1).text
        assert "┄ alert below 1.0G" in graph(pane, "host", 3).text
        assert "Disk I/O" in graph(pane, "target", 2).text
        # Drawn in the theme's warning color.
        assert graph(pane, "target", 0).spec is not None
        content = graph(pane, "target", 0).content
        assert any(span.style == "$warning" for span in content.spans)


async def test_switching_the_selection_switches_the_target(session: Session) -> None:
    session.create_env("alpha", isolation="basic")
    session.create_env("beta", isolation="basic")
    app = PaneHost(session)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        assert NO_SELECTION in pane.target_view.text
        pane.show_env("alpha")
        assert await wait_until(pilot, lambda: charted(pane, "target"))
        assert pane.target_view.text.startswith("env alpha")
        pane.show_env("beta")
        assert pane.target_key == "env:beta"
        assert await wait_until(pilot, lambda: pane.target_view.text.startswith("env beta")
                                and charted(pane, "target"))
        spec = graph(pane, "target", 0).spec
        assert spec is not None and spec.source == "env:beta"
        # Declared but not created: nothing to measure, and the pane says so.
        pane.show_env("gamma")
        assert await wait_until(pilot, lambda: "declared in ptest.toml but not created"
                                in pane.target_view.text)
        assert pane.target_view.has_class("-message")
        # A sqlite object has no process.
        pane.show_object("db")
        assert pane.target_key == "object:db"
        assert await wait_until(pilot, lambda: "a sqlite object has no process"
                                in pane.target_view.text)
        pane.show_env(None)
        await pilot.pause()
        assert pane.target_key is None and NO_SELECTION in pane.target_view.text
        assert charted(pane, "host")  # the host stays charted throughout


async def test_unmounting_stops_the_monitor_thread(session: Session) -> None:
    app = PaneHost(session)
    before = monitor_threads()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        await ticks(pilot, pane, 1)
        assert monitor_threads() == before + 1
        await pane.remove()
        assert monitor_threads() == before
        assert not app.query(ResourcesPane)


async def test_redraws_are_coalesced_and_stop_while_hidden(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "fast", "[monitor]\ninterval = 0.1\n")
    with Session.open(workspace=root, environ={}) as session:
        app = PaneHost(session)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.pane
            await ticks(pilot, pane, 1)
            drawn, started = pane.draws, time.monotonic()
            await ticks(pilot, pane, 20)  # 10 a second: more than the pane may draw
            # At most MAX_REDRAWS a second however fast the samples come (the first at
            # once); a slow machine only draws fewer.
            elapsed = time.monotonic() - started
            assert pane.draws - drawn <= MAX_REDRAWS * elapsed + 1
            pane.display = False
            assert await wait_until(pilot, lambda: not pane.is_shown)
            hidden = pane.draws
            await ticks(pilot, pane, 5)
            assert pane.draws == hidden  # nothing drawn while hidden
            pane.display = True
            assert await wait_until(pilot, lambda: pane.draws > hidden)


async def test_zoom_keys_change_the_window(session: Session) -> None:
    app = PaneHost(session)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.focus()
        await pilot.pause()
        assert pane.window == 600.0 and pane.text.startswith("Last 10m")
        await pilot.press("plus")
        assert pane.window == 300.0 and pane.text.startswith("Last 5m")
        await pilot.press("plus", "plus", "plus")
        assert pane.window == 60.0  # the shortest step
        await pilot.press("minus", "minus", "minus", "minus", "minus")
        assert pane.window == 600.0  # the longest: the retention


async def test_threshold_alerts_show_in_the_column_title(tmp_path: Path) -> None:
    # No disk has a petabyte free: the host crosses disk_free on its first sample. The
    # app's LiveWatch monitor raises the alert; the pane only shows it.
    root = write_workspace(tmp_path / "alerts", '[monitor]\ninterval = 0.2\ndisk_free = "1024t"\n')
    with Session.open(workspace=root, environ={}) as session:
        live = LiveWatch(session, watch_config=False)
        app = PaneHost(session)
        try:
            async with app.run_test(size=SIZE) as pilot:
                live.start()
                pane = app.pane
                assert await wait_until(pilot, lambda: "⚠ disk free" in pane.host_view.text,
                                        rounds=400)
                # The title changes with the alert; the chart draws once it has its size.
                free = graph(pane, "host", 3)
                assert await wait_until(pilot, lambda: bool(free.text))
                assert "alert below 1024T ↑ off the chart" in free.text
        finally:
            live.stop()


async def test_a_running_object_is_charted_and_a_stopped_one_explained(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "objects", f"""
        [monitor]
        interval = 0.2

        [objects.site]
        kind = "web"
        command = "{sys.executable} -m http.server {{port}} --bind 127.0.0.1"
        """)
    with Session.open(workspace=root, environ={}) as session:
        app = PaneHost(session)
        try:
            async with app.run_test(size=SIZE) as pilot:
                pane = app.pane
                pane.show_object("site")
                assert await wait_until(pilot, lambda: "object site is stopped: start it"
                                        in pane.target_view.text)
                await asyncio.to_thread(session.objects.start, "site")
                # ObjectStarted reaches the pane; the monitor picks the server up at its
                # next look at the targets (every few seconds).
                assert await wait_until(pilot, lambda: charted(pane, "target"), rounds=400)
                assert "object site  running · 1 process" in pane.target_view.text
                await asyncio.to_thread(session.objects.stop, "site")
                assert await wait_until(pilot, lambda: "object site is stopped"
                                        in pane.target_view.text, rounds=400)
        finally:
            session.objects.stop("site")


def test_a_plan_is_equal_when_nothing_visible_changed() -> None:
    # A new sample in the same column at the same level draws the same picture: the
    # widget compares plans and neither builds text nor repaints for it.
    base = 1_000_000.0
    points = tuple((base + i, 5.0) for i in range(10))
    one = GraphSpec("CPU", (Series("", points),), base + 9, 600.0, 1.0, floor=100.0)
    more = (*points, (base + 9.5, 5.01))
    two = GraphSpec("CPU", (Series("", more),), base + 9.5, 600.0, 1.0, floor=100.0)
    assert plan_graph(one, 60, 10) == plan_graph(two, 60, 10)
    # A value at another level is another picture.
    three = GraphSpec("CPU", (Series("", (*more, (base + 9.8, 50.0))),), base + 9.8, 600.0,
                      1.0, floor=100.0)
    assert plan_graph(three, 60, 10) != plan_graph(two, 60, 10)


def test_a_chart_draws_its_scale_threshold_peak_and_time_axis() -> None:
    # A deterministic picture: a minute of CPU samples, a 95% burst, a 50% threshold.
    base = 1_000_020.0  # a multiple of the column width: columns start on whole seconds
    values = [10.0] * 20 + [95.0] * 5 + [40.0] * 35 + [20.0]
    points = tuple((base - 60 + i, value) for i, value in enumerate(values))
    spec = GraphSpec("CPU", (Series("", points),), base, 60.0, 1.0, floor=100.0,
                     threshold=50.0, threshold_label="alert above 50%", note="of a core")
    content = render_graph(spec, 50, 8)
    assert content.plain.splitlines() == [
        "CPU 20% of a core  ┄ alert above 50%  ▲ peak 95%",
        " 100%┤             ⢰⠒⠒⠒⢢                          ",
        "     │             ⢸   ⢸                          ",
        "  50%┤┄┄┄┄┄┄┄┄┄┄┄┄┄⢸┄┄┄⢸┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄",
        "     │             ⢸   ⠸⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⡀",
        "     │             ⢸                             ⠧",
        "   0%┤⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠊                              ",
        "     └-1m──────────────▲───────────────────────now",
    ]
    styled = {(content.plain[s.start:s.end], str(s.style)) for s in content.spans}
    assert ("⢢", "bold $accent") in styled  # the peak's cell
    assert ("  50%", "$warning") in styled  # the threshold's scale label and line
    assert ("┄┄┄┄┄┄┄┄┄┄┄┄┄", "$warning") in styled
    # Too small for a plot: the title alone.
    assert render_graph(spec, 7, 8).plain == "CPU 20%"


def test_the_peak_marker_replaces_a_time_label_it_falls_on() -> None:
    from ptest_tui.tui.widgets.chart import _clear_label_under

    axis = "-1m" + "─" * 10 + "now"
    assert _clear_label_under(axis, 14) == "-1m" + "─" * 13  # on "now": no "no▲"
    assert _clear_label_under(axis, 1) == "─" * 13 + "now"
    assert _clear_label_under(axis, 6) == axis  # between the labels: both stay
