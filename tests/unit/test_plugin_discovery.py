"""Entry-point discovery, its cache, and plugins that fail to load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ptest_tui.plugins.discovery import discover, scan


def make_dist(site: Path, name: str, group: str, value: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{name} = {value}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_discover_finds_and_caches(site: Path) -> None:
    make_dist(site, "first", "ptest_tui_t1", "json")
    assert [r.name for r in discover("ptest_tui_t1")] == ["first"]
    # Editing metadata in place does not change the folder: the cached answer stands.
    (site / "first-1.0.dist-info" / "entry_points.txt").write_text("")
    assert [r.name for r in discover("ptest_tui_t1")] == ["first"]
    assert scan("ptest_tui_t1") == []


def test_installing_something_invalidates_the_cache(site: Path) -> None:
    make_dist(site, "first", "ptest_tui_t2", "json")
    assert [r.name for r in discover("ptest_tui_t2")] == ["first"]
    time.sleep(0.01)  # distinct folder mtime on coarse filesystems
    make_dist(site, "second", "ptest_tui_t2", "json")
    assert [r.name for r in discover("ptest_tui_t2")] == ["first", "second"]


def test_entry_point_ref_loads_attributes(site: Path) -> None:
    make_dist(site, "third", "ptest_tui_t3", "os.path:join")
    (ref,) = discover("ptest_tui_t3")
    assert ref.load() is __import__("os").path.join


def test_broken_plugin_is_skipped_with_a_warning(
    site: Path, workspace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_dist(site, "broken", "ptest_tui", "ptest_tui_no_such_module_xyz")
    from ptest_tui.session import Session

    with Session.open(workspace=workspace, environ={}) as session:
        assert session.engines.names() == ["basic", "virtualenv", "docker"]
    assert "plugin 'broken'" in caplog.text


PLUGIN = '''
from ptest_tui.engines.basic import BasicEngine
from ptest_tui.plugins import hookimpl


class ScratchEngine(BasicEngine):
    name = "scratch"
    description = "a third-party level built on basic"


@hookimpl
def ptest_register_engines():
    return [ScratchEngine]
'''


def test_third_party_engine_registers_through_the_hook(site: Path, workspace: Path) -> None:
    (site / "ptest_scratch_plugin.py").write_text(PLUGIN)
    make_dist(site, "scratch", "ptest_tui", "ptest_scratch_plugin")
    from ptest_tui.session import Session

    with Session.open(workspace=workspace, environ={}) as session:
        assert "scratch" in session.engines.names()
        record = session.create_env("x", isolation="scratch")
        assert record.isolation == "scratch"
        lines: list[str] = []
        session.exec("x", ["sh", "-c", "echo $PTEST_ENV"], on_output=lambda _s, t: lines.append(t))
        assert lines == ["x"]
