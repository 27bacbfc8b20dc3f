"""Every engine event the log shows reads as words, never as a raw event kind."""

from __future__ import annotations

from dataclasses import dataclass

from ptest_tui.events import (
    Event,
    MonitorAlertCleared,
    ObjectAdded,
    ObjectRemoved,
    ObjectStarting,
)
from ptest_tui.tui.widgets.log_pane import describe_event


def line(event: Event) -> str:
    described = describe_event(event)
    assert described is not None
    return described[0]


def test_object_and_alert_events_read_as_words() -> None:
    assert line(ObjectStarting("db", "postgres", "process")) == (
        "object db: starting (postgres, process)")
    assert line(ObjectAdded("db", "postgres")) == "object db added (postgres)"
    assert line(ObjectRemoved("db")) == "object db removed"
    cleared = MonitorAlertCleared("unit", "env", "cpu", 10.0, 50.0, "env unit: CPU 10% is below")
    assert line(cleared) == "env unit: CPU 10% is below"


@dataclass(frozen=True)
class PluginThing(Event):
    """An event a plugin publishes: unknown to the log pane."""

    env: str
    message: str


def test_an_unknown_event_shows_its_kind_in_words_and_its_main_fields() -> None:
    text = line(PluginThing("unit", "did a thing"))
    assert "_" not in text.split(":")[0]
    assert text.endswith("unit, did a thing")
