"""The monitor against real processes, containers and servers.

Commands run through ``Session.exec`` in a background thread, exactly as users run them;
the monitor must find them by their env's variables and measure them. Values are checked
against what the processes were made to use (a busy loop, 200 MB of touched memory), with
room for a shared machine; nothing asserts wall-clock times.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.events import MonitorAlert, MonitorAlertCleared, MonitorSample
from ptest_tui.monitor import Monitor, Thresholds, Tick
from ptest_tui.plugins import hookimpl
from ptest_tui.session import Session
from tests.conftest import write_workspace

MIB = 2**20
BURN = "import os\nprint('ready', os.getpid(), flush=True)\nwhile True: pass\n"
HZ = os.sysconf("SC_CLK_TCK")
HOLD = (
    "import time\nblock = b'x' * ({mb} * 2**20)\nprint('ready', flush=True)\n"
    "time.sleep({seconds})\n"
)


@contextlib.contextmanager
def running(session: Session, env: str, argv: list[str]) -> Iterator[list[str]]:
    """Run ``argv`` in ``env`` in a thread until the block ends, once it printed "ready";
    yields what followed "ready" on that line (a pid, say)."""
    ready = threading.Event()
    token = CancelToken()
    said: list[str] = []

    def on_output(_stream: str, line: str) -> None:
        if line.split()[:1] == ["ready"]:
            said.extend(line.split()[1:])
            ready.set()

    worker = threading.Thread(
        target=session.exec, args=(env, argv), kwargs={"on_output": on_output, "cancel": token},
        daemon=True,
    )
    worker.start()
    try:
        assert ready.wait(60), f"{argv} never printed ready"
        yield said
    finally:
        token.cancel()
        worker.join(30)


def samples_of(ticks: list[Tick], target: str) -> list[MonitorSample]:
    return [s for tick in ticks for s in tick.samples if s.target == target]


def cpu_seconds(pid: int) -> float:
    """What the kernel charged ``pid`` and its reaped children so far (the truth)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:15]) / HZ


def measured(ticks: list[Tick], target: str, interval: float) -> tuple[list[float], float]:
    """The target's CPU percents and the CPU seconds they add up to."""
    cpu = [s.cpu_percent or 0.0 for s in samples_of(ticks, target)]
    return cpu, sum(cpu) / 100 * interval


def test_a_busy_process_in_a_basic_env_shows_most_of_a_core(session: Session) -> None:
    session.create_env("busy", isolation="basic")
    with running(session, "busy", ["python3", "-c", BURN]) as said, \
            Monitor(session, ["busy"], interval=0.5) as monitor:
        before, started = cpu_seconds(int(said[0])), time.monotonic()
        ticks = list(monitor.run(count=4))
        used, elapsed = cpu_seconds(int(said[0])) - before, time.monotonic() - started
    samples = samples_of(ticks, "busy")
    assert [s.state for s in samples] == ["running"] * 4
    assert all(s.processes == 1 for s in samples)
    cpu, total = measured(ticks, "busy", 0.5)
    assert all(c <= 110.0 for c in cpu), cpu  # one thread cannot use two cores
    # What the monitor saw is what the kernel charged (to a tick or two)...
    assert abs(total - used) <= 0.05 + 0.1 * used, (cpu, used)
    # ...and a busy loop gets most of a core, unless this machine is overloaded right now.
    if used / elapsed >= 0.9:
        assert max(cpu) >= 80.0, cpu
    assert all(c <= 100.0 * 1.1 for c in cpu), cpu  # one thread cannot use two cores


def test_memory_held_by_a_process_shows_in_its_samples(session: Session) -> None:
    session.create_env("mem", isolation="basic")
    hold = HOLD.format(mb=200, seconds=60)
    with running(session, "mem", ["python3", "-c", hold]), \
            Monitor(session, ["mem"], interval=0.2) as monitor:
        ticks = list(monitor.run(count=2))
    memory = [s.memory_bytes or 0 for s in samples_of(ticks, "mem")]
    # 200 MiB of bytes plus the interpreter; resident, so counted by RSS.
    assert all(200 * MIB <= m <= 320 * MIB for m in memory), [m / MIB for m in memory]
    assert monitor.history("mem").latest() == samples_of(ticks, "mem")[-1]


def test_a_process_tree_counts_children_and_cpu_of_children_that_exit(session: Session) -> None:
    session.create_env("tree", isolation="basic")
    # Short busy children, each done well within one interval: their CPU reaches the
    # shell's counters when it reaps them, and must still be counted (not twice).
    script = (
        "echo ready $$; sleep 60 & "
        f"while true; do {sys.executable} -c 'import time\nt=time.time()\n"
        "while time.time()-t<0.1: pass'; done"
    )
    with running(session, "tree", ["sh", "-c", script]) as said, \
            Monitor(session, ["tree"], interval=1.0) as monitor:
        before, started = cpu_seconds(int(said[0])), time.monotonic()
        ticks = list(monitor.run(count=3))
        used, elapsed = cpu_seconds(int(said[0])) - before, time.monotonic() - started
    samples = samples_of(ticks, "tree")
    assert all(s.processes is not None and s.processes >= 2 for s in samples)  # sh + sleep
    cpu, total = measured(ticks, "tree", 1.0)
    assert max(cpu) <= 130.0, cpu  # one busy child at a time: counted once
    # The shell's counters (itself + reaped children) are the truth; a child still running
    # at either end of the window is counted by the monitor but not yet by the shell.
    assert abs(total - used) <= 0.35 + 0.1 * used, (cpu, used)
    if used / elapsed >= 0.8:
        assert max(cpu) >= 60.0, cpu


def test_a_virtualenv_env_is_sampled_and_idle_envs_read_zero(session: Session) -> None:
    session.create_env("venv", isolation="virtualenv")
    session.create_env("quiet", isolation="basic")
    hold = HOLD.format(mb=20, seconds=60)
    with running(session, "venv", ["python", "-c", hold]), session.monitor(interval=0.2) as m:
        ticks = list(m.run(count=2))
        keys = [t.key for t in m.targets()]
    assert keys == ["host", "env:quiet", "env:venv"]
    venv, quiet = samples_of(ticks, "venv")[-1], samples_of(ticks, "quiet")[-1]
    assert venv.state == "running" and venv.processes == 1
    assert (venv.memory_bytes or 0) >= 20 * MIB
    assert (quiet.state, quiet.processes, quiet.memory_bytes, quiet.cpu_percent) == (
        "idle", 0, 0, 0.0
    )
    host = samples_of(ticks, "host")[-1]
    assert host.target_kind == "host" and (host.memory_limit or 0) > (host.memory_bytes or 0) > 0
    assert host.disk_free is not None and host.cpu_percent is not None


class AlertLog:
    """A plugin keeping the alerts it is given."""

    def __init__(self) -> None:
        self.alerts: list[MonitorAlert | MonitorAlertCleared] = []

    @hookimpl
    def ptest_alert(self, alert: MonitorAlert | MonitorAlertCleared) -> None:
        self.alerts.append(alert)


def test_an_alert_is_raised_once_when_crossing_and_cleared_after(session: Session) -> None:
    session.create_env("spike", isolation="basic")
    plugin = AlertLog()
    session.plugins.register(plugin, name="alert-log")
    published: list[object] = []
    session.bus.subscribe(MonitorAlert, published.append)
    session.bus.subscribe(MonitorAlertCleared, published.append)
    limits = Thresholds(memory_bytes=50 * MIB)
    with Monitor(session, ["spike"], interval=0.2, thresholds=limits) as monitor:
        ticks = monitor.run()
        # 100 MB until the alert comes, then the process is stopped: over, then back under.
        with running(session, "spike", ["python3", "-c", HOLD.format(mb=100, seconds=60)]):
            for tick in ticks:
                if any(isinstance(a, MonitorAlert) for a in tick.alerts):
                    break
        for tick in ticks:
            if tick.alerts or len(monitor.history("spike")) > 200:
                break
        ticks.close()
    assert [type(a).__name__ for a in published] == ["MonitorAlert", "MonitorAlertCleared"]
    raised, cleared = published
    assert isinstance(raised, MonitorAlert) and isinstance(cleared, MonitorAlertCleared)
    assert (raised.target, raised.metric, raised.threshold) == ("spike", "memory", 50 * MIB)
    assert raised.value >= 100 * MIB and cleared.value < 50 * MIB
    assert raised.message.startswith("env spike: memory ") and "is above 50.0M" in raised.message
    assert plugin.alerts == published
    assert monitor.active_alerts() == []


def test_background_monitoring_with_subscribers_and_history(session: Session) -> None:
    session.create_env("bg", isolation="basic")
    got: list[Tick] = []
    enough = threading.Event()
    on_bus: list[MonitorSample] = []
    session.bus.subscribe(MonitorSample, on_bus.append)

    def on_tick(tick: Tick) -> None:
        got.append(tick)
        if len(got) >= 3:
            enough.set()

    monitor = session.monitor(interval=0.1, retention=0.2)
    unsubscribe = monitor.subscribe(on_tick)
    monitor.start()
    try:
        assert enough.wait(30)
    finally:
        monitor.stop()
    count = len(got)
    assert {s.target for s in on_bus} == {"host", "bg"}
    assert len(monitor.history("env:bg")) == 2  # retention / interval
    assert monitor.history("bg").items()[-1] == got[-1].samples[1]
    assert len(got) == count  # stopped: no more ticks arrive
    unsubscribe()
    assert len(list(monitor.run(count=1))) == 1  # a stopped monitor can run again


def test_a_web_object_server_is_sampled_until_stopped(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", f"""
        [objects.site]
        kind = "web"
        command = "{sys.executable} -m http.server {{port}} --bind 127.0.0.1"
        """)
    with Session.open(workspace=root, environ={}) as session:
        session.objects.start("site")
        try:
            with session.monitor(interval=0.2) as monitor:
                ticks = list(monitor.run(count=2))
                assert [t.key for t in monitor.targets()] == ["host", "object:site"]
                session.objects.stop("site")
                monitor.refresh()
                after = monitor.tick()
        finally:
            session.objects.stop("site")
    site = samples_of(ticks, "site")[-1]
    assert (site.target_kind, site.state, site.processes) == ("object", "running", 1)
    assert (site.memory_bytes or 0) >= 5 * MIB and site.cpu_percent is not None
    # Stopped objects drop out of the default targets.
    assert [s.target for s in after.samples] == ["host"]


@pytest.mark.docker
def test_docker_env_stats_come_from_its_container(dsession: Session) -> None:
    dsession.create_env("box", isolation="docker")
    burn_and_hold = "block = b'x' * (64 * 2**20)\n" + BURN
    with running(dsession, "box", ["python3", "-c", burn_and_hold]), \
            Monitor(dsession, ["box", "host"], interval=0.5) as monitor:
        ticks = list(monitor.run(count=6))
    samples = [s for s in samples_of(ticks, "box") if s.state == "running"]
    assert samples, [s.state for s in samples_of(ticks, "box")]
    last = samples[-1]
    assert last.detail.startswith("container ")
    assert (last.memory_bytes or 0) >= 64 * MIB and (last.memory_limit or 0) > 64 * MIB
    assert last.processes is not None and last.processes >= 2  # the keeper and python
    cpu = [s.cpu_percent for s in samples if s.cpu_percent is not None]
    assert cpu and all(c <= 110.0 for c in cpu), cpu
    host = samples_of(ticks, "host")
    cores = int(host[0].detail.split()[0])
    busiest = max(s.cpu_percent or 0.0 for s in host)
    if busiest <= (cores - 0.5) * 100:  # the busy loop could have a core of its own
        assert max(cpu) >= 50.0, (cpu, busiest)
