"""Config hot reload through watchfiles: valid edits apply, invalid ones are reported."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.config.locate import find_line, with_line
from ptest_tui.events import ConfigReloaded, ConfigReloadFailed, Event
from ptest_tui.session import Session
from tests.conftest import write_workspace

BASE = '[envs.unit]\nisolation = "basic"\n'


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Session, queue.Queue[Event]]]:
    root = write_workspace(tmp_path / "ws", BASE)
    session = Session.open(workspace=root, environ={})
    events: queue.Queue[Event] = queue.Queue()
    session.bus.subscribe(ConfigReloaded, events.put)
    session.bus.subscribe(ConfigReloadFailed, events.put)
    watcher = session.watch_config()
    assert watcher.ready.wait(10)
    yield session, events
    watcher.stop()
    session.close()


def next_event(events: queue.Queue[Event]) -> Event:
    return events.get(timeout=15)


def save(path: Path, text: str) -> None:
    """Save the way editors do: a new file renamed over the old one."""
    partial = path.with_name(path.name + ".swp-save")
    partial.write_text(text)
    os.replace(partial, path)


def test_a_valid_edit_applies_live(watched: tuple[Session, queue.Queue[Event]]) -> None:
    session, events = watched
    toml = session.workspace.root / "ptest.toml"
    save(toml, BASE + '[envs.more]\nisolation = "basic"\n[objects.db]\nkind = "sqlite"\n'
         '[monitor]\ninterval = 2.5\n')
    event = next_event(events)
    assert isinstance(event, ConfigReloaded)
    assert set(event.changed) == {"envs", "objects", "monitor"}
    assert "more" in session.config.envs
    assert "db" in session.objects.specs()
    assert session.config.monitor.interval == 2.5
    # Engines serve the new configuration too.
    assert session.engines.context.config is session.config


def test_an_invalid_edit_keeps_the_previous_config(
    watched: tuple[Session, queue.Queue[Event]],
) -> None:
    session, events = watched
    toml = session.workspace.root / "ptest.toml"
    before = session.config
    toml.write_text(BASE + "[envs.bad\n")
    event = next_event(events)
    assert isinstance(event, ConfigReloadFailed)
    assert "invalid TOML" in event.message and "line 3" in event.message
    assert session.config is before
    toml.write_text(BASE + '[envs.x]\nisolation = "basic"\nmemroy = "1g"\n')
    event = next_event(events)
    assert isinstance(event, ConfigReloadFailed)
    assert "unknown key envs.x.memroy" in event.message and "(line 5)" in event.message
    assert event.hint == "did you mean 'memory'?"
    assert session.config is before


def test_a_deleted_file_is_reported_and_its_return_picked_up(
    watched: tuple[Session, queue.Queue[Event]],
) -> None:
    session, events = watched
    toml = session.workspace.root / "ptest.toml"
    toml.unlink()
    event = next_event(events)
    assert isinstance(event, ConfigReloadFailed) and "is gone" in event.message
    assert "unit" in session.config.envs
    time.sleep(0.2)
    toml.write_text(BASE + '[envs.back]\nisolation = "basic"\n')
    event = next_event(events)
    assert isinstance(event, ConfigReloaded)
    assert "back" in session.config.envs


def test_monitor_thresholds_follow_a_reload(
    watched: tuple[Session, queue.Queue[Event]],
) -> None:
    session, events = watched
    monitor = session.monitor(publish=False)
    ticks = monitor.run(count=3)
    next(ticks)
    save(session.workspace.root / "ptest.toml",
         BASE + '[monitor]\ninterval = 0.5\ncpu_percent = 150\n')
    assert isinstance(next_event(events), ConfigReloaded)
    next(ticks)
    assert monitor.interval == 0.5
    assert monitor.thresholds.cpu_percent == 150
    ticks.close()


def test_find_line_follows_tables_and_dotted_keys() -> None:
    text = '[envs.unit]\nisolation = "basic"\n\n[objects.db]\nkind = "sqlite"\nschema.x = 1\n'
    assert find_line(text, "envs.unit.isolation") == 2
    assert find_line(text, "objects.db") == 4
    assert find_line(text, "objects.db.schema.x") == 6
    assert find_line(text, "objects.db.missing") == 4  # not written: its table
    assert find_line(text, "suites.s") is None
    assert with_line("ptest.toml: objects.db.kind: expected x", text).endswith("(line 5)")
