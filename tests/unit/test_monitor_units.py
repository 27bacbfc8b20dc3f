"""Monitor building blocks: [monitor] settings and their units, ring buffers, debounced
alerts, stats parsing, and the plugin hook's isolation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ptest_tui.config.loader import load_config
from ptest_tui.config.schema import validate
from ptest_tui.errors import ConfigError, UsageError
from ptest_tui.events import MonitorAlert, MonitorAlertCleared, MonitorSample
from ptest_tui.monitor import AlertTracker, Monitor, RingBuffer, Thresholds
from ptest_tui.monitor.containers import parse_reading
from ptest_tui.monitor.ring import MAX_CAPACITY, capacity_for
from ptest_tui.monitor.targets import parse_names, resolve
from ptest_tui.plugins import hookimpl
from ptest_tui.session import Session
from tests.conftest import write_workspace


def monitor_section(**values: object) -> dict[str, object]:
    return dict(validate({"monitor": values}, "ptest.toml")["monitor"])


def test_monitor_defaults_and_units() -> None:
    assert monitor_section() == {
        "interval": 1.0, "retention": 600.0, "cpu_percent": 0.0, "memory": 0, "disk_free": 0,
    }
    checked = monitor_section(
        interval="500ms", retention="10m", cpu_percent="90%", memory="512m", disk_free="2gb"
    )
    assert checked == {
        "interval": 0.5, "retention": 600.0, "cpu_percent": 90.0,
        "memory": 512 * 1024**2, "disk_free": 2 * 1024**3,
    }
    assert monitor_section(memory="80%")["memory"] == "80%"
    assert monitor_section(memory="1.5GiB")["memory"] == int(1.5 * 1024**3)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"memory": "80 percent"}, "monitor.memory: invalid memory threshold '80 percent':"
                                   " unknown unit 'percent'"),
        ({"memory": "512 parsecs"}, "unknown unit 'parsecs'"),
        ({"memory": "150%"}, "monitor.memory: percent '150%' is above 100"),
        ({"disk_free": "10%"}, "monitor.disk_free: invalid size '10%': a percent is not a size"),
        ({"disk_free": "2 furlongs"}, "monitor.disk_free: invalid size '2 furlongs':"
                                      " unknown unit 'furlongs'"),
        ({"cpu_percent": "90 MB"}, "monitor.cpu_percent: invalid percent '90 MB':"
                                   " unit 'MB' is not a percent"),
        ({"interval": "5 parsecs"}, "monitor.interval: invalid duration '5 parsecs':"
                                    " unknown unit 'parsecs'"),
        ({"interval": 0}, "monitor.interval: duration 0 is out of range"),
        ({"retention": "2d"}, "monitor.retention: invalid duration '2d': unknown unit 'd'"),
        ({"interval": True}, "monitor.interval: invalid duration True"),
        ({"treshold": 1}, "unknown key monitor.treshold"),
    ],
)
def test_wrong_units_are_config_errors_naming_the_key(
    values: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        validate({"monitor": values}, "ptest.toml")
    assert expected in caught.value.message
    assert caught.value.message.startswith("ptest.toml: ")
    assert caught.value.hint


def test_thresholds_load_from_the_file_and_the_environment(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[monitor]\nmemory = "80%"\ndisk_free = "1g"\n')
    config = load_config(root, {"PTEST_MONITOR_CPU_PERCENT": "75"})
    monitor = config.monitor
    assert (monitor.cpu_percent, monitor.memory_percent, monitor.memory_bytes) == (75.0, 80.0, 0)
    assert monitor.disk_free == 1024**3
    assert Thresholds.from_config(monitor) == Thresholds(75.0, 0, 80.0, 1024**3)
    bad = write_workspace(tmp_path / "bad", '[monitor]\nmemory = "lots"\n')
    with pytest.raises(ConfigError, match=r"ptest.toml: monitor.memory: invalid memory"):
        load_config(bad, {})


def test_ring_buffer_keeps_the_newest_items() -> None:
    ring: RingBuffer[int] = RingBuffer(3)
    assert ring.latest() is None and ring.items() == []
    for value in range(5):
        ring.append(value)
    assert ring.items() == [2, 3, 4] and ring.latest() == 4 and len(ring) == 3
    ring.resize(2)
    assert list(ring) == [3, 4] and ring.capacity == 2
    assert capacity_for(600, 1.0) == 600 and capacity_for(10, 0.25) == 40
    assert capacity_for(0.5, 1.0) == 1 and capacity_for(86_400, 0.1) == MAX_CAPACITY
    with pytest.raises(ValueError):
        RingBuffer(0)


def env_sample(cpu: float | None, memory: int | None = 0, state: str = "running") -> MonitorSample:
    return MonitorSample("unit", "env", state, cpu_percent=cpu, memory_bytes=memory)


def test_an_alert_fires_once_per_crossing_and_clears_when_back_under() -> None:
    tracker = AlertTracker(Thresholds(cpu_percent=90))
    seen = [tracker.update(env_sample(cpu)) for cpu in (10, 95, 97, None, 99, 20, 30, 96)]
    kinds = [[type(a).__name__ for a in changes] for changes in seen]
    assert kinds == [
        [], ["MonitorAlert"], [], [], [], ["MonitorAlertCleared"], [], ["MonitorAlert"],
    ]
    raised = seen[1][0]
    assert isinstance(raised, MonitorAlert)
    assert (raised.target, raised.target_kind, raised.metric) == ("unit", "env", "cpu_percent")
    assert (raised.value, raised.threshold) == (95, 90)
    assert raised.message == "env unit: CPU 95% of a core is above 90%"
    assert seen[5][0].message == "env unit: CPU 20% of a core is back under 90%"
    assert len(tracker.active()) == 1


def test_memory_thresholds_by_size_and_percent_and_disk_free_on_the_host() -> None:
    by_size = AlertTracker(Thresholds(memory_bytes=100 * 2**20))
    assert by_size.update(env_sample(None, 50 * 2**20)) == []
    (alert,) = by_size.update(env_sample(None, 300 * 2**20))
    assert alert.message == "env unit: memory 300.0M is above 100.0M"
    # A stopped target uses nothing: its alerts clear.
    (cleared,) = by_size.update(env_sample(None, None, state="stopped"))
    assert isinstance(cleared, MonitorAlertCleared) and cleared.metric == "memory"

    by_share = AlertTracker(Thresholds(memory_percent=50))
    container = MonitorSample("d", "env", "running", memory_bytes=600, memory_limit=1000)
    (alert,) = by_share.update(container, host_memory=10**9)
    assert alert.metric == "memory" and alert.value == pytest.approx(60.0)
    # Without a limit of its own, the share is of the host's memory.
    assert by_share.update(env_sample(None, 600), host_memory=10**9) == []

    host = MonitorSample("host", "host", "running", memory_bytes=1, memory_limit=2,
                         disk_free=5 * 2**30)
    on_host = AlertTracker(Thresholds(cpu_percent=1, memory_bytes=1, disk_free=10 * 2**30))
    (low,) = on_host.update(host)  # CPU and a size do not apply to the host; disk free does
    assert low.message == "host: disk free 5.0G is below 10.0G"


def test_docker_stats_documents_become_rates() -> None:
    def doc(cpu: int, system: int, read: int, rx: int) -> dict[str, object]:
        return {
            "read": "2026-01-01T00:00:00Z",
            "cpu_stats": {"cpu_usage": {"total_usage": cpu}, "system_cpu_usage": system,
                          "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": cpu - 500},
                             "system_cpu_usage": system - 1000},
            "memory_stats": {"usage": 300, "limit": 1000, "stats": {"total_inactive_file": 100}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"op": "Read", "value": read}, {"op": "Write", "value": 7}]},
            "networks": {"eth0": {"rx_bytes": rx, "tx_bytes": 0}},
            "pids_stats": {"current": 3},
        }

    first, raw = parse_reading(doc(1000, 5000, 100, 10), 10.0, None)
    assert first.running and first.cpu_percent == pytest.approx(100.0)  # half of 2 cpus
    assert (first.memory_bytes, first.memory_limit, first.processes) == (200, 1000, 3)
    assert first.read_bps is None  # rates need two readings
    second, _ = parse_reading(doc(2000, 6000, 300, 60), 12.0, raw)
    assert (second.read_bps, second.write_bps, second.rx_bps) == (100.0, 0.0, 25.0)
    stopped, _ = parse_reading({"read": "0001-01-01T00:00:00Z"}, 13.0, raw)
    assert not stopped.running and stopped.cpu_percent is None


class Recorder:
    """A plugin that records the alerts it gets."""

    def __init__(self) -> None:
        self.alerts: list[object] = []

    @hookimpl
    def ptest_alert(self, alert: object) -> None:
        self.alerts.append(alert)


class Broken:
    """A plugin whose alert hook always raises."""

    @hookimpl
    def ptest_alert(self, alert: object) -> None:
        raise RuntimeError("webhook down")


def test_a_plugin_raising_in_ptest_alert_is_logged_and_monitoring_goes_on(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    session.plugins.register(recorder, name="recorder")
    session.plugins.register(Broken(), name="broken-alerts")
    events: list[MonitorAlert] = []
    session.bus.subscribe(MonitorAlert, events.append)
    # No disk has a petabyte free: the host raises a disk_free alert on the first sample.
    limits = Thresholds(disk_free=2**50)
    with caplog.at_level(logging.WARNING), Monitor(
        session, ["host"], interval=0.1, thresholds=limits
    ) as monitor:
        ticks = list(monitor.run(count=3))
    assert len(ticks) == 3 and all(len(t.samples) == 1 for t in ticks)
    assert [len(t.alerts) for t in ticks] == [1, 0, 0]  # once per crossing
    assert len(events) == 1 and events[0].metric == "disk_free"
    assert recorder.alerts == events
    failures = [r.getMessage() for r in caplog.records if "ptest_alert" in r.getMessage()]
    assert failures == [
        "plugin broken-alerts failed in ptest_alert: webhook down; disabled for the rest of"
        " this session"
    ]
    assert len(monitor.history("host")) == 3


def test_unknown_names_fail_before_sampling(session: Session) -> None:
    session.create_env("unit", isolation="basic")
    with pytest.raises(UsageError, match=r"no environment or object named 'nope' \(known: unit\)"):
        Monitor(session, ["nope"])
    with pytest.raises(UsageError, match="no environment named 'gone'"):
        Monitor(session, ["env:gone"])
    with pytest.raises(UsageError, match=r"interval 0\.01 s is out of range"):
        Monitor(session, interval=0.01)
    monitor = session.monitor(["unit"], interval=0.1)
    with pytest.raises(UsageError, match="no monitored target 'unit'"):
        monitor.history("unit")  # nothing sampled yet
    monitor.refresh()
    assert monitor.history("unit") is monitor.history("env:unit")
    assert [t.key for t in monitor.targets()] == ["env:unit"]


def test_container_objects_are_watched_through_their_container(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[objects.cache]\nkind = "redis"\nruntime = "docker"\n'
                           '\n[objects.db]\nkind = "sqlite"\n')
    with Session.open(workspace=root, environ={}) as session:
        wanted = parse_names(session, ["cache", "obj:db"])
        assert wanted == [("object", "cache"), ("object", "db")]
        cache, db = resolve(session, wanted)  # nothing is started: no daemon needed
        assert (cache.via, cache.ref) == ("container", f"ptest-obj-{session.workspace.id}-cache")
        assert (db.via, db.detail) == ("none", "a sqlite object has no process")
