"""``ptest-tui obj`` as a user runs it: add, start, list, show, logs, stop, remove, cleanup."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from tests.e2e.conftest import Cli, assert_one_line_error, assert_usage_error, make_workspace

WEB = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1"


def test_a_web_object_through_its_whole_lifecycle(cli: Cli) -> None:
    cli.ok("obj", "add", "site", "--kind", "web", "--command", WEB)
    listed = cli.json("obj", "list", "--json")
    assert [(o["name"], o["kind"], o["state"]) for o in listed] == [("site", "web", "stopped")]
    started = cli.ok("obj", "start", "site")
    assert started.stdout.startswith("site ready: http://127.0.0.1:")
    (view,) = cli.json("obj", "status", "site", "--json")
    assert view["state"] == "running" and view["pid"] and view["port"]
    shown = cli.json("obj", "show", "site", "--json")
    assert shown["environment"]["PTEST_OBJ_SITE_PORT"] == str(view["port"])
    logs = cli.ok("obj", "logs", "site")
    assert "\"GET / HTTP/1.1\" 200" in logs.stdout  # the readiness probes
    cli.ok("obj", "stop", "site")
    assert cli.json("obj", "list", "--json")[0]["state"] == "stopped"
    cli.ok("obj", "remove", "site")
    assert cli.json("obj", "list", "--json") == []
    assert not (cli.root / ".ptest" / "objects" / "site").exists()


def test_declared_objects_with_unknown_settings_are_refused_when_used(tmp_path: Path) -> None:
    cli = Cli(make_workspace(tmp_path / "ws", """
        [objects.db]
        kind = "sqlite"

        [objects.api]
        kind = "service"
        command = "true"
        password = "s3cret"
        """))
    result = cli.run("obj", "start", "api")
    assert_usage_error(result, "unknown setting 'password' for a service")
    cli.ok("obj", "start", "db")
    shown = cli.json("obj", "show", "db", "--json")
    assert shown["url"].startswith("sqlite:///") and shown["state"] == "running"


def test_passwords_are_redacted_unless_revealed(tmp_path: Path) -> None:
    cli = Cli(make_workspace(tmp_path / "ws", """
        [objects.pg]
        kind = "postgres"
        password = "s3cret-pw"
        """))
    reason = cli.run("doctor", "--json")  # the doctor names the missing server, if any
    if "s3cret" in reason.stdout:
        raise AssertionError("doctor output must not carry object passwords")
    from ptest_tui.objects.postgres import PG_ROOT
    from tests.conftest import need

    need("db", None if any(PG_ROOT.glob("*/bin/postgres")) else "PostgreSQL is not installed")
    try:
        started = cli.ok("obj", "start", "pg")
        assert "s3cret-pw" not in started.stdout and ":***@" in started.stdout
        listed = cli.ok("obj", "list").stdout + cli.ok("obj", "list", "--json").stdout
        assert "s3cret-pw" not in listed
        shown = cli.json("obj", "show", "pg", "--json")
        assert "s3cret-pw" not in str(shown)
        assert shown["environment"]["PTEST_OBJ_PG_PASSWORD"] == "***"
        revealed = cli.json("obj", "show", "pg", "--json", "--reveal")
        assert revealed["environment"]["PTEST_OBJ_PG_PASSWORD"] == "s3cret-pw"
        assert revealed["url"].startswith("postgresql://ptest:s3cret-pw@127.0.0.1:")
        assert "s3cret-pw" not in cli.ok("obj", "logs", "pg").stdout
    finally:
        cli.run("obj", "remove", "pg")


def test_bad_input_is_one_line_and_changes_nothing(cli: Cli) -> None:
    assert_usage_error(cli.run("obj", "add", "x", "--kind", "postgress"), "did you mean 'postgres'")
    assert_usage_error(
        cli.run("obj", "add", "x", "--kind", "web", "--command", WEB, "--set", "bogus=1"),
        "unknown setting 'bogus'",
    )
    assert_usage_error(cli.run("obj", "add", "bad name", "--kind", "web"), "")
    assert_usage_error(cli.run("obj", "start", "nothing"), "no object named 'nothing'")
    assert_usage_error(cli.run("obj", "start"), "name at least one object")
    assert_usage_error(
        cli.run("obj", "add", "x", "--kind", "web", "--command", WEB, "--port", "eighty"), "port"
    )
    assert cli.json("obj", "list", "--json") == []


def test_a_pinned_port_taken_by_another_program(cli: Cli) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        cli.ok("obj", "add", "site", "--kind", "web", "--command", WEB, "--port", str(port))
        assert_usage_error(cli.run("obj", "start", "site"), f"port {port} is in use")
    (view,) = cli.json("obj", "list", "--json")
    assert view["state"] == "failed" and view["pid"] is None


def test_invalid_object_tables_in_the_config(tmp_path: Path) -> None:
    cli = Cli(make_workspace(tmp_path / "ws", "[objects.db]\nuser = 'x'\n"))
    assert_usage_error(cli.run("obj", "list"), "objects.db: missing kind")
    cli = Cli(make_workspace(tmp_path / "ws2", "[objects.db]\nkind = 'sqlite'\nx = {a = 1}\n"))
    assert_usage_error(cli.run("obj", "list"), "objects.db.x: expected a string")


def test_a_failing_start_exits_3_with_the_last_output(cli: Cli) -> None:
    command = f"{sys.executable} -c \"print('missing settings file'); raise SystemExit(2)\""
    cli.ok("obj", "add", "svc", "--kind", "service", "--command", command)
    result = cli.run("obj", "start", "svc")
    assert_one_line_error(result, 3, "missing settings file")


def test_cleanup_reports_nothing_on_a_clean_workspace(cli: Cli) -> None:
    # The first pass may remove shared data folders that other, deleted workspaces on this
    # machine left behind (they belong to nobody); after it there is nothing left.
    cli.ok("obj", "cleanup")
    assert cli.ok("obj", "cleanup").stdout.strip() == "nothing to clean up"
    assert cli.json("obj", "cleanup", "--json") == []
