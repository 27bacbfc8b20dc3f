"""Pilot tests of the objects panel and its dialogs with a real web object.

The host app composes only the panel and forwards engine events to it the way the app
does (through the real EventBridge). The web object is ``python3 -m http.server``: a real
server on a real allocated port, checked with a real HTTP request.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from ptest_tui.session import Session
from ptest_tui.tui.bridge import EngineEvent, EventBridge, OutputReady
from ptest_tui.tui.screens.add_object import AddObjectScreen, parse_settings
from ptest_tui.tui.screens.object_log import ObjectLogScreen
from ptest_tui.tui.themes import DEFAULT_THEME, shipped_themes
from ptest_tui.tui.widgets.objects_panel import ObjectsPanel
from tests.conftest import write_workspace
from tests.tui.conftest import settle, wait_until

SIZE = (120, 40)
WEB = "python3 -m http.server {port} --bind 127.0.0.1"
pytestmark = pytest.mark.anyio


class Host(App[int]):
    """The panel alone, fed engine events like the app feeds its panes."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.bridge = EventBridge(self, session.bus)
        self.notices: list[tuple[str, str]] = []
        for theme in shipped_themes():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def compose(self) -> ComposeResult:
        # Polling far apart: refreshes in these tests come from events and actions.
        yield ObjectsPanel(self.session, poll_seconds=60, id="objects")

    @property
    def panel(self) -> ObjectsPanel:
        return self.query_one(ObjectsPanel)

    def on_mount(self) -> None:
        self.bridge.start()
        self.panel.table.focus()

    def on_unmount(self) -> None:
        self.bridge.stop()

    def on_engine_event(self, message: EngineEvent) -> None:
        self.panel.engine_event(message.event)

    def on_output_ready(self, message: OutputReady) -> None:
        self.bridge.drain()

    def notify(self, message: str, **kwargs: Any) -> None:
        self.notices.append((message, str(kwargs.get("severity", "information"))))
        super().notify(message, **kwargs)

    def noticed(self, text: str) -> bool:
        return any(text in message for message, _ in self.notices)


@pytest.fixture
def objects(session: Session) -> Iterator[Session]:
    """The session; every object still running afterwards is stopped."""
    yield session
    for view in session.objects.views():
        if view.state in ("running", "unhealthy"):
            session.objects.stop(view.name)


def row_text(app: Host, name: str) -> str:
    """The cells of one table row as text."""
    return " ".join(str(cell) for cell in app.panel.table.get_row(name))


async def test_add_a_web_object_start_it_and_stop_it_by_keys(objects: Session) -> None:
    app = Host(objects)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        assert await wait_until(pilot, lambda: panel.query_one("#objects-empty").display)
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, AddObjectScreen)
        assert await wait_until(pilot, lambda: dialog.kind == "web")
        assert "web: web app started by a command" in str(
            dialog.query_one("#obj-help").render())
        await pilot.press(*"site", "tab", "tab", "tab", "tab", *f"command={WEB}")
        assert dialog.request().settings() == {"command": WEB}
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: app.screen is not dialog)
        # The notice comes from the dialog's callback, the row from the next listing.
        assert await wait_until(pilot, lambda: "site" in panel.views
                                and app.noticed("added web object site"))
        assert panel.table.selected_name == "site"
        assert panel.views["site"].state == "stopped"
        assert "○ stopped" in row_text(app, "site")

        await pilot.press("o")
        # The state arrives with the listing; the notice and the cleared "starting…" come
        # from the action's worker a little later.
        assert await wait_until(pilot, lambda: panel.views["site"].state == "running"
                                and "site" not in panel.activity, 400)
        view = panel.views["site"]
        assert view.port is not None and view.url == f"http://127.0.0.1:{view.port}"
        assert f"● running {view.port} {view.url}" in row_text(app, "site")
        assert app.noticed(f"site ready: {view.url}")
        with urllib.request.urlopen(view.url, timeout=10) as answer:
            assert answer.status == 200

        await pilot.press("o")
        assert await wait_until(pilot, lambda: panel.views["site"].state == "stopped"
                                and "site" not in panel.activity, 400)
        assert panel.views["site"].port is None
        assert app.noticed("site stopped")
    assert objects.objects.view("site").state == "stopped"


async def test_the_add_dialog_shows_errors_inline_and_stores_nothing(objects: Session) -> None:
    app = Host(objects)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, AddObjectScreen)
        assert await wait_until(pilot, lambda: dialog.kind == "web")
        await pilot.press(*"site", "enter")  # Enter in the name field adds
        assert await wait_until(pilot, lambda: "no command given" in dialog.error_text)
        assert "hint: set command" in dialog.error_text
        await pilot.press("tab", "tab", "tab", "tab", *"comand=x", "ctrl+s")
        assert await wait_until(pilot, lambda: "unknown setting 'comand'" in dialog.error_text)
        assert "did you mean 'command'?" in dialog.error_text
        await pilot.press("shift+tab", *"lots", "ctrl+s")  # the port field
        assert "port must be auto or a number" in dialog.error_text
        assert app.screen is dialog
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is not dialog)
    assert objects.objects.specs() == {}


async def test_engine_events_refresh_the_panel_and_L_shows_the_log(objects: Session) -> None:
    objects.objects.add("site", "web", {"command": WEB})
    app = Host(objects)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        assert await wait_until(pilot, lambda: "site" in panel.views)
        # Started elsewhere (the CLI, a batch run): the ObjectStarted event refreshes.
        info = await asyncio.to_thread(objects.objects.start, "site")
        assert await wait_until(pilot, lambda: panel.views["site"].state == "running")
        assert panel.views["site"].port == info.port
        with urllib.request.urlopen(f"http://127.0.0.1:{info.port}/", timeout=10):
            pass
        await pilot.press("L")
        log = app.screen
        assert isinstance(log, ObjectLogScreen)
        assert await wait_until(pilot, lambda: any('"GET / HTTP' in line for line in log.lines))
        with urllib.request.urlopen(f"http://127.0.0.1:{info.port}/ptest.toml", timeout=10):
            pass
        assert await wait_until(pilot, lambda: any("GET /ptest.toml" in line for line in log.lines))
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is not log)


def test_settings_lines_parse_like_obj_add_set() -> None:
    text = "# a comment\ncommand=run --port {port}\n\nready=http\ninit=a.sql\ninit=b.sql\n"
    assert parse_settings(text + "durable=true\nstartup_timeout=60\n") == {
        "command": "run --port {port}", "ready": "http", "init": ["a.sql", "b.sql"],
        "durable": True, "startup_timeout": 60,
    }


def test_objects_panel_and_add_dialog_120x40(tmp_path: Path, snap_compare: Any) -> None:
    root = write_workspace(tmp_path / "demo", '[objects.db]\nkind = "sqlite"\n')
    with Session.open(workspace=root, environ={}) as session:
        session.objects.add("site", "web", {"command": WEB})

        async def adding(pilot: Any) -> None:
            app = pilot.app
            await wait_until(pilot, lambda: len(app.panel.views) == 2)
            await pilot.press("a")
            await wait_until(pilot, lambda: getattr(app.screen, "kind", "") == "web")
            await pilot.press(*"api", "enter")  # no command: the error shows inline
            await wait_until(pilot, lambda: "no command" in app.screen.error_text)
            await settle(pilot)

        assert snap_compare(Host(session), terminal_size=SIZE, run_before=adding)


def test_long_urls_keep_their_end() -> None:
    from ptest_tui.tui.widgets.objects_panel import URL_SHOWN, short_url

    assert short_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    long = "sqlite:////tmp/a/very/long/workspace/path/.ptest/objects/notes/db.sqlite"
    shown = short_url(long)
    assert len(shown) == URL_SHOWN and shown.startswith("…") and shown.endswith("/db.sqlite")
