"""The webhook reporter against a real HTTP server on 127.0.0.1, loaded by path."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import Hook, write_workspace

from ptest_tui.events import Event, PluginFailed
from ptest_tui.runs.runner import RunOptions
from ptest_tui.session import Session


def open_session(root: Path) -> Session:
    return Session.open(workspace=root, environ={})


def test_a_finished_run_is_posted_as_json(tmp_path: Path, hook: Hook) -> None:
    root = write_workspace(tmp_path / "ws", f'url = "{hook.url}"')
    with open_session(root) as session:
        outcome = session.run(["smoke"])
    assert outcome.run.status == "failed"
    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert request["path"] == "/hooks/T0/SECRET"
    assert request["content_type"] == "application/json"
    payload = json.loads(request["body"])
    assert payload["schema"] == "ptest-webhook-reporter/run-summary"
    assert payload["workspace"] == "hooked"
    assert payload["run"]["id"] == outcome.run.id
    assert payload["run"]["status"] == "failed"
    assert payload["counts"] == {"passed": 1, "failed": 1}
    assert [f["case"] for f in payload["failures"]] == ["bad"]
    assert payload["text"].startswith(f"hooked: run {outcome.run.id} failed: 1 passed, 1 failed")


def test_secrets_in_results_are_redacted_in_the_payload(tmp_path: Path, hook: Hook) -> None:
    root = write_workspace(tmp_path / "ws", f'url = "{hook.url}"')
    with open_session(root) as session:
        session.run(["smoke"])
    assert "hunter2" not in hook.requests[0]["body"]


def test_only_failures_skips_passing_runs(tmp_path: Path, hook: Hook) -> None:
    root = write_workspace(tmp_path / "ws", f'url = "{hook.url}"\nonly_failures = true')
    with open_session(root) as session:
        assert session.run(["smoke/good"]).run.status == "passed"
        assert hook.requests == []
        session.run(["smoke/bad"])
    assert len(hook.requests) == 1


def test_the_url_can_come_from_the_environment(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTEST_WEBHOOK_URL", hook.url)
    root = write_workspace(tmp_path / "ws", "")
    with open_session(root) as session:
        session.run(["smoke/good"])
    assert hook.payloads()[0]["counts"] == {"passed": 1}


def test_an_unreachable_webhook_is_a_warning_not_a_failure(
    tmp_path: Path, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    hook.status = 503
    root = write_workspace(tmp_path / "ws", f'url = "{hook.url}"')
    failed: list[Event] = []
    with open_session(root) as session:
        session.events.subscribe(PluginFailed, failed.append)
        caplog.set_level(logging.WARNING)
        first = session.run(["smoke/good"])
        second = session.run(["smoke/good"])
        assert session.plugins.infos["ptest_webhook_reporter"].state == "ok"
    assert (first.run.status, second.run.status) == ("passed", "passed")
    assert len(hook.requests) == 2  # still enabled after the first 503
    assert "answered HTTP 503" in caplog.text
    assert "SECRET" not in caplog.text  # the token in the URL's path stays out of logs
    assert failed == []


def test_a_wrong_setting_disables_the_plugin_and_the_run_goes_on(
    tmp_path: Path, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_workspace(tmp_path / "ws", 'url = "ftp://example.invalid/x"')
    failed: list[PluginFailed] = []
    with open_session(root) as session:
        session.events.subscribe(PluginFailed, failed.append)
        outcome = session.run(["smoke/good"])
        info = session.plugins.infos["ptest_webhook_reporter"]
    assert outcome.run.status == "passed"
    assert [(f.plugin, f.hook) for f in failed] == [
        ("ptest_webhook_reporter", "ptest_on_run_finished")
    ]
    assert info.state == "failed" and "http:// or https://" in info.reason
    assert "plugin ptest_webhook_reporter failed in ptest_on_run_finished" in caplog.text


def test_the_report_format_writes_the_payload(tmp_path: Path, hook: Hook) -> None:
    root = write_workspace(tmp_path / "ws", "")
    with open_session(root) as session:
        assert "webhook-summary" in session.reporters
        outcome = session.run(
            ["smoke"], options=RunOptions(report_formats=("json", "webhook-summary"),
                                          report_dir=tmp_path / "out"),
        )
    assert [p.name for p in outcome.reports] == ["report.json", "webhook-summary.json"]
    written = json.loads((tmp_path / "out" / "webhook-summary.json").read_text())
    assert written["counts"] == {"passed": 1, "failed": 1}
    assert hook.requests == []  # no URL: the format writes, nothing is posted


def test_the_send_command_posts_a_past_run(tmp_path: Path, hook: Hook,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from ptest_tui.cli.main import main

    root = write_workspace(tmp_path / "ws", "on_run_finished = false")
    with open_session(root) as session:
        run_id = session.run(["smoke/good"]).run.id
    assert hook.requests == []
    argv = ["-w", str(root), "webhook", "send", run_id, "--url", hook.url]
    assert main(argv) == 0
    assert f"run {run_id} delivered to http://127.0.0.1:" in capsys.readouterr().out
    assert hook.payloads()[0]["run"]["id"] == run_id
    assert main(["-w", str(root), "webhook", "send", "--url", "file:///etc/passwd"]) == 2
