"""The event bus and event serialisation."""

from __future__ import annotations

import threading

from ptest_tui.events import EnvCreated, EnvFailed, Event, EventBus, OutputLine


def test_subscribers_get_matching_events_only() -> None:
    bus = EventBus()
    created: list[EnvCreated] = []
    everything: list[Event] = []
    bus.subscribe(EnvCreated, created.append)
    bus.subscribe(Event, everything.append)
    bus.publish(EnvCreated("a", "basic", 0.1))
    bus.publish(OutputLine("a", "stdout", "hi"))
    assert [e.env for e in created] == ["a"]
    assert len(everything) == 2


def test_unsubscribe() -> None:
    bus = EventBus()
    got: list[Event] = []
    stop = bus.subscribe(Event, got.append)
    stop()
    bus.publish(EnvFailed("a", "boom"))
    assert got == []


def test_failing_subscriber_does_not_stop_others() -> None:
    bus = EventBus()
    got: list[Event] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("bad listener")

    bus.subscribe(Event, broken)
    bus.subscribe(Event, got.append)
    bus.publish(EnvFailed("a", "boom"))
    assert len(got) == 1


def test_to_dict_has_kind() -> None:
    data = OutputLine("a", "stderr", "x").to_dict()
    assert data["event"] == "output_line"
    assert data["line"] == "x"
    assert isinstance(data["at"], float)


def test_publish_from_many_threads() -> None:
    bus = EventBus()
    got: list[Event] = []
    lock = threading.Lock()

    def add(event: Event) -> None:
        with lock:
            got.append(event)

    bus.subscribe(Event, add)
    def burst() -> None:
        for _ in range(200):
            bus.publish(OutputLine("a", "stdout", "l"))

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 1600
