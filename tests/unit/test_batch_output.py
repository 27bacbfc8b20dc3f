"""Batch output: the NDJSON schema (checked against the events themselves and real output),
plain timestamped lines, --quiet, and the rich progress and summary table."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

import ptest_tui.batch.events as batch_events
import ptest_tui.events.types as engine_events
from ptest_tui.batch.render import NdjsonRenderer, PlainRenderer, QuietRenderer, make_renderer
from ptest_tui.batch.render_rich import RichRenderer
from ptest_tui.batch.schema import EVENTS, QUIET_EVENTS, ndjson_schema
from ptest_tui.events import Event
from ptest_tui.session import Session
from tests.support.batch_plans import BRANCHES, write_plan, write_workspace

STAMP = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ")


def event_classes() -> dict[str, type[Event]]:
    found = {}
    for module in (engine_events, batch_events):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Event) and value is not Event:
                found[value.__name__] = value
    return {
        "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_"): cls
        for name, cls in found.items()
    }


def validator() -> jsonschema.Draft202012Validator:
    schema = ndjson_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_lines(text: str) -> list[dict[str, Any]]:
    """Every line is one JSON object valid against the schema."""
    checker = validator()
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        errors = sorted(checker.iter_errors(line), key=str)
        assert not errors, (line, [e.message for e in errors])
    return lines


def test_the_schema_matches_the_event_classes_field_for_field() -> None:
    classes = event_classes()
    for kind, (_doc, fields) in EVENTS.items():
        assert kind in classes, f"{kind} has no event class"
        names = {f.name for f in dataclasses.fields(classes[kind])} - {"at"}
        assert names == set(fields), f"{kind}: schema {sorted(fields)} vs class {sorted(names)}"
    assert set(EVENTS) >= QUIET_EVENTS


@pytest.fixture
def session(tmp_path: Path, find_links_dir: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Session]:
    monkeypatch.setenv("PTEST_CACHE_DIR", str(tmp_path / "cache"))
    root = write_workspace(tmp_path / "ws", f"""
        [packages]
        find_links = ["{find_links_dir}"]
        offline = true
    """)
    s = Session.open(workspace=root, environ={})
    yield s
    s.close()


def test_ndjson_of_a_plan_with_every_step_kind_validates(session: Session) -> None:
    out = io.StringIO()
    renderer = NdjsonRenderer(out)
    renderer.start(session)
    outcome = session.run_plan(write_plan(session.workspace.root, """
        [plan]
        name = "all"
        [envs.venv]
        isolation = "virtualenv"
        packages = ["alpha==1.0"]
        [objects.db]
        kind = "sqlite"
        [[steps]]
        id = "more"
        kind = "install"
        env = "venv"
        packages = ["tool"]
        [[steps]]
        id = "tests"
        kind = "run"
        suites = ["smoke", "broken"]
        envs = ["venv"]
        [[steps]]
        id = "snap"
        kind = "snapshot"
        env = "venv"
        needs = ["more"]
        [[steps]]
        id = "move"
        kind = "migrate"
        env = "venv"
        to = "basic"
        needs = ["snap", "tests"]
        when = "always"
    """))
    renderer.stop()
    lines = check_lines(out.getvalue())
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "plan_started" and kinds[-1] == "plan_finished"
    for expected in ("step_started", "step_progress", "step_finished", "env_created",
                     "packages_installed", "object_started", "run_started", "case_finished",
                     "run_finished", "snapshot_created", "migration_step", "env_deleted",
                     "object_removed"):
        assert expected in kinds, expected
    assert lines[-1]["exit_code"] == 1 == outcome.exit_code
    assert lines[-1]["runs"] == list(outcome.runs)
    finished = {line["step"]: line["status"] for line in lines if line["event"] == "step_finished"}
    assert finished == {r.id: r.status for r in outcome.steps}
    assert finished["tests"] == "failed" and finished["move"] == "passed"


def test_quiet_json_keeps_only_plan_and_step_lines(session: Session) -> None:
    out = io.StringIO()
    renderer = make_renderer(out, json_lines=True, quiet=True, terminal=False)
    renderer.start(session)
    session.run_plan(write_plan(session.workspace.root, BRANCHES))
    renderer.stop()
    assert {line["event"] for line in check_lines(out.getvalue())} == set(QUIET_EVENTS)


def render(session: Session, renderer: Any, text: str = BRANCHES) -> str:
    renderer.start(session)
    try:
        outcome = session.run_plan(write_plan(session.workspace.root, text))
    finally:
        renderer.stop()
    renderer.finish(outcome)
    return str(renderer.out.getvalue() if renderer.out else "")


def test_plain_lines_are_timestamped_and_end_with_the_summary(session: Session) -> None:
    text = render(session, PlainRenderer(io.StringIO()))
    lines = text.splitlines()
    live = lines[:lines.index("")]
    assert all(STAMP.match(line) for line in live), live
    assert live[0].endswith(" plan branches: 7 steps, up to 2 at once")
    assert any("FAILED  broken[unit] bad" in line for line in live)
    assert any("skipped after-broken 0.00 s: needs broken, which failed" in line
               for line in live)
    summary = lines[lines.index("") + 1:]
    assert any(line.startswith("failed    broken") for line in summary)
    assert any(line.startswith("report: ") and line.endswith("junit.xml") for line in summary)
    assert summary[-1].startswith("plan branches failed: ")
    assert summary[-1].endswith("exit code 1")


def test_quiet_prints_what_did_not_pass_and_the_summary(session: Session) -> None:
    lines = render(session, QuietRenderer(io.StringIO())).splitlines()
    assert re.fullmatch(r"failed    broken: run \d: 1 failed", lines[0]), lines
    assert lines[1] == "skipped   after-broken: needs broken, which failed"
    assert len(lines) == 3 and lines[2].startswith("plan branches failed: 6 passed, 1 failed,"
                                                   " 1 skipped in ")


def test_a_terminal_gets_progress_and_a_summary_table(session: Session) -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    text = render(session, RichRenderer(out, console))
    assert "plan branches" in text
    table = text[text.index("plan branches"):]
    for step in ("env:unit", "smoke", "broken", "after-smoke", "after-broken", "report",
                 "plan:cleanup"):
        assert step in table
    assert "FAILED broken[unit] bad" in text  # a failing case, printed as it happened
    assert "skipped" in table and "needs broken, which failed" in table
    assert text.rstrip().splitlines()[-1].startswith("plan branches failed:")
