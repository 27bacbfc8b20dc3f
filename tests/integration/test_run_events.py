"""Each run's events stored as NDJSON, read back through the API and ``runs events``."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from ptest_tui.cli.main import main
from ptest_tui.events import CaseFinished, Event, EventBus, OutputLine, RunFinished
from ptest_tui.runs.event_log import (
    events_path,
    follow_events,
    read_events,
    record_run_events,
    to_event,
)
from ptest_tui.session import Session
from tests.conftest import write_workspace
from tests.integration.plugin_support import SUITE


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", SUITE)


def test_a_run_stores_its_events_and_they_read_back(root: Path) -> None:
    published: list[Event] = []
    with Session.open(workspace=root, environ={}) as session:
        session.events.subscribe(Event, published.append)
        outcome = session.run(["smoke"])
        run_id = outcome.run.id
        stored = session.run_events(run_id)
        assert session.run_events() == stored  # "last"
    path = events_path(root / ".ptest", run_id)
    assert path.is_file()
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == stored
    kinds = [e["event"] for e in stored]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    # Everything published between RunStarted and RunFinished is there (cases run in
    # parallel threads, so two subscribers may see events of two threads in either order).
    first = next(i for i, e in enumerate(published) if e.kind == "run_started")
    last = next(i for i, e in enumerate(published) if e.kind == "run_finished")
    assert Counter(kinds) == Counter(e.kind for e in published[first:last + 1])
    assert {"env_creating", "env_created", "case_started", "case_finished", "case_done",
            "output_line"} <= set(kinds)
    finished = [e for e in stored if e["event"] == "case_finished"]
    assert {(e["case"], e["status"]) for e in finished} == {("good", "passed"),
                                                             ("bad", "failed")}
    assert stored[-1]["counts"]["failed"] == 1 and stored[-1]["run_id"] == run_id
    assert any(e["event"] == "output_line" and e["line"] == "hello from good" for e in stored)
    assert read_events(root / ".ptest", run_id, kinds=("case_done",)) == [
        e for e in stored if e["event"] == "case_done"
    ]


def test_stored_events_become_typed_events_again(root: Path) -> None:
    with Session.open(workspace=root, environ={}) as session:
        stored = session.run_events(session.run(["smoke"]).run.id)
    replayed = [to_event(e) for e in stored]
    assert all(isinstance(e, Event) for e in replayed)
    assert [json.loads(json.dumps(e.to_dict())) for e in replayed if e is not None] == stored
    started = next(e for e in replayed if e is not None and e.kind == "run_started")
    assert isinstance(started.units, tuple)  # type: ignore[attr-defined]
    assert to_event({"event": "no_such_event"}) is None


def test_each_run_has_its_own_log(root: Path) -> None:
    with Session.open(workspace=root, environ={}) as session:
        first = session.run(["smoke/good"]).run.id
        second = session.run(["smoke/bad"]).run.id
        assert {e["case"] for e in session.run_events(first) if "case" in e} == {"good"}
        assert {e["case"] for e in session.run_events(second) if "case" in e} == {"bad"}


def test_the_log_stops_at_the_runs_end_and_ignores_other_runs(tmp_path: Path) -> None:
    bus = EventBus()
    path = tmp_path / "runs" / "7" / "events.ndjson"
    from ptest_tui.runs.event_log import RunEventLog

    log = RunEventLog(bus, path, "7")
    bus.publish(CaseFinished("8", "s", "e", "other run", "passed", 0.1))
    bus.publish(OutputLine("e", "stdout", "bad \udcff byte"))
    bus.publish(RunFinished("7", "passed", 1.0))
    bus.publish(OutputLine("e", "stdout", "after the end"))
    assert log.closed
    events = read_events(tmp_path, "7")
    assert [e["event"] for e in events] == ["output_line", "run_finished"]
    assert events[0]["line"] == "bad \udcff byte"


def test_an_unwritable_folder_does_not_break_the_run(root: Path) -> None:
    (root / ".ptest").mkdir(exist_ok=True)
    (root / ".ptest" / "runs").write_text("a file where the folder should be")
    with Session.open(workspace=root, environ={}) as session:
        outcome = session.run(["smoke/good"])
        assert outcome.run.status == "passed"
        assert session.run_events(outcome.run.id) == []


def test_follow_reads_new_events_until_the_run_finishes(tmp_path: Path) -> None:
    bus = EventBus()
    path = tmp_path / "runs" / "3" / "events.ndjson"
    session = type("S", (), {"bus": bus, "workspace": type("W", (), {
        "state_dir": tmp_path})()})()
    record_run_events(session, "3")  # type: ignore[arg-type]
    got: list[str] = []
    done = threading.Event()

    def reader() -> None:
        for event in follow_events(path, lambda: True, poll=0.02):
            got.append(event["event"])
        done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    bus.publish(OutputLine("e", "stdout", "one"))
    bus.publish(OutputLine("e", "stdout", "two"))
    bus.publish(RunFinished("3", "passed", 0.5))
    assert done.wait(10)
    thread.join()
    assert got == ["output_line", "output_line", "run_finished"]


def test_runs_events_command(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-w", str(root), "run", "smoke", "-q"]) == 1
    capsys.readouterr()
    assert main(["-w", str(root), "runs", "events", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in lines]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert main(["-w", str(root), "runs", "events", "1", "--kind", "case_done"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert len(text) == 2 and all(" case_done run_id=1 suite=smoke" in t for t in text)
    assert any("case=bad status=failed" in t for t in text)
    # A finished run with --follow prints what is stored and returns.
    assert main(["-w", str(root), "runs", "events", "--follow", "--kind", "run_finished"]) == 0
    assert "run_finished run_id=1 status=failed" in capsys.readouterr().out
    assert main(["-w", str(root), "runs", "events", "99"]) == 2


def test_engine_actions_without_an_event_before_now_publish_one(root: Path) -> None:
    from ptest_tui.events import EnvStatusChanged, ObjectAdded

    got: list[Event] = []
    with Session.open(workspace=root, environ={}) as session:
        session.events.subscribe(ObjectAdded, got.append)
        session.events.subscribe(EnvStatusChanged, got.append)
        session.objects.add("site", "web", {"command": "python3 -m http.server {port}"})
        session.create_env("fixme", isolation="basic")
        session.store.update_env("fixme", status="broken", error="test")
        session.repair_env("fixme")
    assert [e.to_dict() | {"at": 0} for e in got] == [
        {"event": "object_added", "at": 0, "object": "site", "object_kind": "web"},
        {"event": "env_status_changed", "at": 0, "env": "fixme", "old": "broken",
         "new": "creating", "note": "repair"},
    ]
