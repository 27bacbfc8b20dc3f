"""The plugin system: path and entry-point plugins, hook order, isolation of a broken
plugin, plugin report formats and commands, and ``plugins list``."""

from __future__ import annotations

import json
import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cli.main import main
from ptest_tui.errors import ConfigError
from ptest_tui.events import EnvCreated, Event, PluginFailed
from ptest_tui.runs.runner import RunOptions
from ptest_tui.session import Session
from tests.integration.plugin_support import (
    install_plugin,
    plugin_workspace,
    recorder,
    write_plugin,
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for "installed" plugins, and a private entry-point cache."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The list recording plugins append to (module ``plugin_record``)."""
    module = types.ModuleType("plugin_record")
    module.RECORD = []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "plugin_record", module)
    yield module.RECORD  # type: ignore[attr-defined]


def unique(request: pytest.FixtureRequest, stem: str) -> str:
    """A module name no other test uses (imported modules stay in sys.modules)."""
    return f"{stem}_{abs(hash(request.node.nodeid)) % 10**8}"


ENGINE_AND_CASE_PLUGIN = '''
from ptest_tui.engines.basic import BasicEngine
from ptest_tui.plugins import hookimpl
from ptest_tui.reports.plugin_formats import Reporter
from ptest_tui.runs.cases.command_case import CommandCase

__version__ = "2.5"


class ScratchEngine(BasicEngine):
    name = "scratch2"


class EchoCase(CommandCase):
    kind = "echo2"


@hookimpl
def ptest_register_engines():
    return [ScratchEngine]


@hookimpl
def ptest_register_cases():
    return [EchoCase]


@hookimpl
def ptest_register_reporters():
    return [Reporter("counts", "counts.txt", lambda report: str(report.summary.total))]


@hookimpl
def ptest_register_commands(subparsers):
    hello = subparsers.add_parser("hello", help="say hello (plugin)")
    hello.set_defaults(handler=lambda args: print("hello from a plugin") or 0)


@hookimpl
def ptest_on_run_finished(session, event):
    (session.workspace.root / "finished.txt").write_text(event.run_id + " " + event.status)
'''


def test_a_path_plugin_registers_engines_cases_reports_commands_and_hooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "extras", ENGINE_AND_CASE_PLUGIN)
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    with Session.open(workspace=root, environ={}) as session:
        assert "scratch2" in session.engines.names()
        assert "echo2" in session.case_kinds.kinds()
        assert list(session.reporters) == ["counts"]
        outcome = session.run(["smoke"], options=RunOptions(
            report_formats=("json", "counts"), report_dir=tmp_path / "out"))
        info = session.plugins.infos["extras"]
    assert (info.source, info.version, info.state) == ("path", "2.5", "ok")
    assert info.file == str((root / "plugins" / "extras.py").resolve())
    assert (root / "finished.txt").read_text() == f"{outcome.run.id} failed"
    assert (tmp_path / "out" / "counts.txt").read_text() == "2"
    assert main(["-w", str(root), "hello"]) == 0
    assert capsys.readouterr().out == "hello from a plugin\n"


def test_an_installed_plugin_is_loaded_from_its_entry_point(
    tmp_path: Path, site: Path, workspace: Path, request: pytest.FixtureRequest
) -> None:
    name = unique(request, "installed_extras")
    install_plugin(site, name, ENGINE_AND_CASE_PLUGIN)
    with Session.open(workspace=workspace, environ={}) as session:
        info = session.plugins.infos[name]
        assert "scratch2" in session.engines.names()
    assert (info.source, info.version, info.distribution) == ("entry point", "1.0", name)
    assert info.origin == name


def test_a_package_folder_is_one_plugin_with_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "ws" / "tools" / "mypkg"
    write_plugin(package, "__init__", "from .hooks import ptest_register_cases\n")
    write_plugin(package, "hooks", '''
        from ptest_tui.plugins import hookimpl
        from ptest_tui.runs.cases.command_case import CommandCase


        class Shout(CommandCase):
            kind = "shout"


        @hookimpl
        def ptest_register_cases():
            return [Shout]
        ''')
    root = plugin_workspace(tmp_path / "ws", ["tools/mypkg"])
    with Session.open(workspace=root, environ={}) as session:
        assert "shout" in session.case_kinds.kinds()
        assert session.plugins.infos["mypkg"].state == "ok"


def test_a_missing_plugin_path_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    root = plugin_workspace(tmp_path / "ws", ["plugins/nope.py"])
    with pytest.raises(ConfigError) as info:
        Session.open(workspace=root, environ={})
    assert "plugins.paths" in info.value.message
    assert "'plugins/nope.py' does not exist" in info.value.message


def test_disabled_plugins_are_not_loaded(tmp_path: Path, record: list[str]) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "rec", recorder("rec"))
    root = plugin_workspace(tmp_path / "ws", ["plugins"], 'disabled = ["rec"]')
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("e1", isolation="basic")
        assert session.plugins.infos["rec"].state == "disabled"
    assert record == []


# -- hook order ---------------------------------------------------------------------------


def test_lifecycle_hooks_run_last_loaded_first_with_tryfirst_and_trylast(
    tmp_path: Path, site: Path, record: list[str], request: pytest.FixtureRequest
) -> None:
    # Load order: entry points by name (ep_a, ep_b), then path plugins in config order
    # (p_first, p_second). pluggy calls the last loaded first; tryfirst/trylast override.
    ep_a, ep_b = unique(request, "ep_a"), unique(request, "ep_b")
    install_plugin(site, ep_a, recorder("ep_a", "(tryfirst=True)"))
    install_plugin(site, ep_b, recorder("ep_b"))
    plugins = tmp_path / "ws" / "plugins"
    write_plugin(plugins, "p_first", recorder("p_first", "(trylast=True)"))
    write_plugin(plugins, "p_second", recorder("p_second"))
    root = plugin_workspace(tmp_path / "ws", ["plugins/p_first.py", "plugins/p_second.py"])
    with Session.open(workspace=root, environ={}) as session:
        assert list(session.plugins.infos)[-4:] == [ep_a, ep_b, "p_first", "p_second"]
        session.create_env("ordered", isolation="basic")
    called = [r.split(":")[0] for r in record if ":env_created:" in r]
    assert called == ["ep_a", "p_second", "ep_b", "p_first"]
    # The specific hook first, then ptest_on_event, each in the same plugin order.
    assert record == [f"{p}:env_created:ordered" for p in called] + [
        f"{p}:event:env_created" for p in called
    ]


def test_registrations_are_collected_built_ins_first(tmp_path: Path) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "thief", '''
        from ptest_tui.engines.basic import BasicEngine
        from ptest_tui.plugins import hookimpl


        class Impostor(BasicEngine):
            name = "basic"


        @hookimpl
        def ptest_register_engines():
            return [Impostor]
        ''')
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    with Session.open(workspace=root, environ={}) as session:
        assert type(session.engines.get("basic")).__name__ == "BasicEngine"
        info = session.plugins.infos["thief"]
    assert info.state == "failed" and info.hook == "ptest_register_engines"


# -- a broken plugin ----------------------------------------------------------------------

BROKEN = '''
import plugin_record
from ptest_tui.plugins import hookimpl


@hookimpl
def ptest_on_env_created(session, event):
    plugin_record.RECORD.append("broken:" + event.env)
    raise RuntimeError("webhook down")


@hookimpl
def ptest_on_run_finished(session, event):
    plugin_record.RECORD.append("broken:run")
'''


def test_a_plugin_raising_in_a_hook_is_reported_disabled_and_isolated(
    tmp_path: Path, record: list[str], caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plugins = tmp_path / "ws" / "plugins"
    write_plugin(plugins, "broken", BROKEN)
    write_plugin(plugins, "healthy", recorder("healthy"))
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    failed: list[PluginFailed] = []
    created: list[EnvCreated] = []
    caplog.set_level(logging.WARNING)
    with Session.open(workspace=root, environ={}) as session:
        session.events.subscribe(PluginFailed, failed.append)
        session.events.subscribe(EnvCreated, created.append)
        session.create_env("one", isolation="basic")
        session.create_env("two", isolation="basic")
        outcome = session.run(["smoke/good"])
        assert session.plugins.infos["broken"].state == "failed"
        assert session.plugins.get_plugin("broken") is None
    assert outcome.run.status == "passed"
    assert [e.env for e in created] == ["one", "two", "scratch"]
    # Called once, then disabled: not for "two", not for the run.
    assert [r for r in record if r.startswith("broken")] == ["broken:one"]
    assert [r for r in record if r.startswith("healthy:env_created")] == [
        "healthy:env_created:one", "healthy:env_created:two", "healthy:env_created:scratch"
    ]
    assert [(f.plugin, f.hook, f.message) for f in failed] == [
        ("broken", "ptest_on_env_created", "webhook down")
    ]
    assert ("plugin broken failed in ptest_on_env_created: webhook down; disabled for the rest"
            " of this session") in caplog.text
    assert main(["-w", str(root), "plugins", "list", "--json", "--no-builtins"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    # A new session loads it again (a fix may have been installed since).
    assert listed["broken"]["state"] == "ok"


def test_a_bad_entry_point_is_reported_and_not_fatal(
    tmp_path: Path, site: Path, workspace: Path, capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    from tests.unit.test_plugin_discovery import make_dist

    name = unique(request, "ghost")
    make_dist(site, name, "ptest_tui", "ptest_tui_no_such_module_for_plugins")
    failed: list[Event] = []
    from ptest_tui.events import EventBus

    bus = EventBus()
    bus.subscribe(PluginFailed, failed.append)
    with Session.open(workspace=workspace, environ={}, bus=bus) as session:
        session.create_env("fine", isolation="basic")
    assert [(e.plugin, e.hook) for e in failed] == [(name, "load")]  # type: ignore[attr-defined]
    assert main(["-w", str(workspace), "plugins", "list", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == name)
    assert row["state"] == "failed" and row["hook"] == "load"
    assert "No module named 'ptest_tui_no_such_module_for_plugins'" in row["reason"]
    assert row["version"] == "1.0" and row["source"] == "entry point"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("from ptest_tui.plugins import hookimpl\n\n@hookimpl\n"
         "def ptest_on_run_finish(session, event):\n    pass\n",
         "unknown hook ptest_on_run_finish"),
        ("raise ImportError('needs requests')\n", "ImportError: needs requests"),
        ("from ptest_tui.plugins import hookimpl\n\n@hookimpl\n"
         "def ptest_on_run_finished(session, event, extra):\n    pass\n",
         "extra"),
    ],
)
def test_plugins_that_cannot_load_are_failed_by_name(
    tmp_path: Path, source: str, reason: str
) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "typo", source)
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    with Session.open(workspace=root, environ={}) as session:
        info = session.plugins.infos["typo"]
        session.create_env("still", isolation="basic")
    assert info.state == "failed" and info.hook == "load"
    assert reason in info.reason


def test_a_report_format_that_raises_leaves_the_other_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "badreport", '''
        from ptest_tui.plugins import hookimpl
        from ptest_tui.reports.plugin_formats import Reporter


        def render(report):
            raise ValueError("cannot render")


        @hookimpl
        def ptest_register_reporters():
            return [Reporter("bad", "bad.txt", render)]
        ''')
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    with Session.open(workspace=root, environ={}) as session:
        outcome = session.run(["smoke/good"], options=RunOptions(
            report_formats=("bad", "junit"), report_dir=tmp_path / "out"))
        assert session.plugins.infos["badreport"].state == "failed"
    assert [p.name for p in outcome.reports] == ["junit.xml"]
    assert "plugin badreport failed in report bad: ValueError: cannot render" in caplog.text


def test_plugin_commands_cannot_replace_built_in_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "runner", '''
        from ptest_tui.plugins import hookimpl


        @hookimpl
        def ptest_register_commands(subparsers):
            subparsers.add_parser("run")
        ''')
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    assert main(["-w", str(root), "run", "smoke/good", "-q"]) == 0
    assert "passed" in capsys.readouterr().out


def test_unknown_report_format_lists_plugin_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "extras", ENGINE_AND_CASE_PLUGIN)
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    assert main(["-w", str(root), "run", "smoke/good", "--report", "pdf"]) == 2
    assert "use html, json, junit, counts" in capsys.readouterr().err
    assert main(["-w", str(root), "report", "--format", "counts", "-o",
                 str(tmp_path / "r")]) == 2  # no runs yet
    assert main(["-w", str(root), "run", "smoke/good", "-q"]) == 0
    assert main(["-w", str(root), "report", "--format", "counts", "-o",
                 str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "counts.txt").read_text() == "1"


# -- plugins list -------------------------------------------------------------------------


def test_plugins_list_json_shows_each_plugin_and_what_it_registers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: list[str]
) -> None:
    write_plugin(tmp_path / "ws" / "plugins", "extras", ENGINE_AND_CASE_PLUGIN)
    write_plugin(tmp_path / "ws" / "plugins", "broken", BROKEN)
    root = plugin_workspace(tmp_path / "ws", ["plugins"])
    assert main(["-w", str(root), "plugins", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["builtin_engines"]["registers"]["engines"] == ["basic", "virtualenv", "docker"]
    assert rows["builtin_cases"]["source"] == "builtin"
    extras = rows["extras"]
    assert (extras["source"], extras["version"], extras["state"]) == ("path", "2.5", "ok")
    assert extras["registers"] == {
        "engines": ["scratch2"],
        "object_kinds": [],
        "case_kinds": ["echo2"],
        "reporters": ["counts"],
        "commands": ["hello"],
        "hooks": ["ptest_on_run_finished"],
    }
    assert rows["broken"]["registers"]["hooks"] == [
        "ptest_on_env_created", "ptest_on_run_finished"
    ]
    assert main(["-w", str(root), "plugins", "list", "--no-builtins"]) == 0
    text = capsys.readouterr().out
    assert "extras\t2.5\tpath\t" in text
    assert "engines: scratch2; cases: echo2; reports: counts; commands: hello" in text
    assert "builtin_engines" not in text


def test_session_events_is_the_bus() -> None:
    from tests.conftest import write_workspace

    root = write_workspace(Path(__import__("tempfile").mkdtemp()) / "ws")
    with Session.open(workspace=root, environ={}) as session:
        assert session.events is session.bus
        got: list[Event] = []
        unsubscribe = session.events.subscribe(EnvCreated, got.append)
        session.create_env("a", isolation="basic")
        unsubscribe()
        session.create_env("b", isolation="basic")
    assert [e.env for e in got] == ["a"]  # type: ignore[attr-defined]
