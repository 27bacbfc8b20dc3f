"""Pilot tests of the Packages pane and the install dialog against real virtualenv envs.

Packages come from the local wheel corpus (find-links, offline) or the local index server
(for newer-version lookups); every test has a private installer cache. A tiny host app
composes only the pane and forwards engine events to it the way the real app does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ptest_tui.errors import UsageError
from ptest_tui.events import Event, PackagePhase
from ptest_tui.packages.check import CheckReport, Problem
from ptest_tui.packages.inventory import InstalledDist
from ptest_tui.packages.reports import InstallReport
from ptest_tui.session import Session
from ptest_tui.tui.bridge import EngineEvent, EventBridge, OutputReady
from ptest_tui.tui.screens.confirm import ConfirmScreen
from ptest_tui.tui.screens.install import InstallScreen, parse_requirements
from ptest_tui.tui.style import theme_color
from ptest_tui.tui.widgets.packages_model import build_rows, install_summary
from ptest_tui.tui.widgets.packages_pane import PackagesPane
from ptest_tui.tui.widgets.packages_progress import ProgressState, render_progress
from tests.conftest import write_workspace
from tests.support import isolated_env, uv_binary
from tests.support.index_server import IndexServer
from tests.support.wheels import Corpus
from tests.tui.conftest import Notices, settle, wait_until

SIZE = (120, 40)
pytestmark = pytest.mark.anyio


class PaneHost(App[int]):
    """Only the Packages pane (and a footer), fed with the session's engine events."""

    def __init__(self, session: Session, env: str | None = "e") -> None:
        super().__init__()
        self.session = session
        self.env = env
        self.bridge = EventBridge(self, session.bus)

    def compose(self) -> ComposeResult:
        yield PackagesPane(self.session, id="packages")
        yield Footer()

    @property
    def pane(self) -> PackagesPane:
        return self.query_one(PackagesPane)

    focus_table = True

    def on_mount(self) -> None:
        # Textual also runs this for subclasses (handlers are called along the MRO).
        self.bridge.start()
        self.pane.show_env(self.env)
        if self.focus_table:
            self.pane.table.focus()

    def on_unmount(self) -> None:
        self.bridge.stop()

    def on_engine_event(self, message: EngineEvent) -> None:
        self.pane.engine_event(message.event)

    def on_output_ready(self, message: OutputReady) -> None:
        self.bridge.drain()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTEST_CACHE_DIR", str(cache))
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    return cache


@pytest.fixture
def pkg_session(tmp_path: Path, find_links_dir: Path) -> Iterator[Session]:
    """A workspace installing from the corpus only, with a virtualenv env ``e``."""
    root = write_workspace(tmp_path / "ws", '[envs.later]\nisolation = "virtualenv"\n')
    overrides = [f"packages.find_links={find_links_dir}", "packages.offline=true"]
    with Session.open(workspace=root, environ={}, overrides=overrides) as session:
        session.create_env("e", isolation="virtualenv")
        yield session


def force_install(session: Session, corpus: Corpus, *pins: str) -> None:
    """Install wheels without their dependencies (the engine would refuse the conflict)."""
    python = session.get_env("e").engine_state["python"]
    subprocess.run(
        [str(uv_binary()), "pip", "install", "--python", python, "--no-deps", "--no-index",
         "--find-links", str(corpus.root), *pins],
        env=isolated_env(corpus.root.parent / "force-cache"), check=True, capture_output=True,
    )


def installed(session: Session) -> dict[str, str]:
    return {dist.key: dist.version for dist in session.packages("e")}


def notices(app: PaneHost) -> Notices:
    return Notices(cast(Any, app))


def color(app: PaneHost, variable: str) -> str:
    return theme_color(cast(Any, app), variable)


async def test_install_by_keys_shows_progress_then_the_row(pkg_session: Session) -> None:
    app = PaneHost(pkg_session)
    seen = notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.pane
        assert "no packages installed yet" in pane.detail_text
        assert pane.table.visible_names == []
        shown: list[str] = []
        forward = pane.engine_event

        def recording(event: Event) -> None:
            # What the progress box holds after each event (the install may finish before
            # a redraw, so the drawn frames themselves are not a reliable record).
            forward(event)
            state = pane.progress.get("e")
            if state is not None:
                shown.append(render_progress(state).plain)

        pane.engine_event = recording  # type: ignore[method-assign]
        await pilot.press("i")
        assert isinstance(app.screen, InstallScreen)
        await pilot.press(*"beta==1.0", "enter")
        assert await wait_until(pilot, lambda: seen.has("e: installed"))
        await settle(pilot)
        assert not isinstance(app.screen, InstallScreen)
        assert await wait_until(pilot, lambda: "beta" in pane.table.visible_names)
        assert pane.table.visible_names == ["alpha", "beta"]
        assert installed(pkg_session) == {"alpha": "2.0", "beta": "1.0"}
        message = next(m for m in seen.messages if "e: installed" in m)
        assert "beta==1.0" in message and "alpha==2.0" in message
        # The progress box was drawn from the engine's phase events, and is gone now.
        assert shown and all(text.startswith("Installing beta==1.0 in e") for text in shown)
        assert "✔ resolving" in shown[-1] and "2/2" in shown[-1]
        assert pane.progress_text == ""
        assert "2 installed" in pane.title_text and "✔ no conflicts" in pane.title_text
        assert "offline: latest not looked up" in pane.title_text


async def test_uninstall_asks_first_and_removes_the_row(pkg_session: Session) -> None:
    pkg_session.install("e", ["beta==1.0", "tool"])
    app = PaneHost(pkg_session)
    seen = notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.pane
        assert pane.table.visible_names == ["alpha", "beta", "tool"]
        await pilot.press("u")  # the cursor is on alpha, which beta needs
        assert isinstance(app.screen, ConfirmScreen)
        assert "Required by beta" in str(app.screen.query_one("#confirm-body").render())
        await pilot.press("n")
        await settle(pilot)
        assert "alpha" in installed(pkg_session)
        await pilot.press("j", "j")
        assert pane.table.selected_row is not None
        assert pane.table.selected_row.name == "tool"
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert await wait_until(pilot, lambda: seen.has("e: removed tool==1.0"))
        assert await wait_until(pilot, lambda: pane.table.visible_names == ["alpha", "beta"])
        assert "tool" not in installed(pkg_session)


async def test_conflicts_are_highlighted_with_the_reason(
    pkg_session: Session, wheel_corpus: Corpus
) -> None:
    # beta 1.0 requires alpha>=1.1; alpha 1.0 is forced in next to it.
    force_install(pkg_session, wheel_corpus, "beta==1.0", "alpha==1.0", "tool==1.0")
    app = PaneHost(pkg_session)
    seen = notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.pane
        assert "✖ 1 problem" in pane.title_text
        rows = {row.name: row for row in pane.table.rows_all}
        assert rows["beta"].problems == (
            "beta 1.0 requires alpha>=1.1, but alpha 1.0 is installed",)
        assert rows["alpha"].problems == rows["beta"].problems
        assert rows["tool"].problems == ()
        error = color(app, "error")
        for name, index in (("alpha", 0), ("beta", 1)):
            assert pane.table.get_row_at(index)[0].style == f"bold {error}", name
        assert pane.table.get_row_at(2)[0].style == "bold"
        await pilot.press("j")  # beta
        assert "✖ beta 1.0 requires alpha>=1.1, but alpha 1.0 is installed" in pane.detail_text
        await pilot.press("j")  # tool: no problem of its own
        assert "1 problem: the rows in red" in pane.detail_text
        await pilot.press("K")
        assert await wait_until(pilot, lambda: seen.has("e: 1 problem"))
        assert seen.severities[-1] == "error"
        assert seen.has("requires alpha>=1.1, but alpha 1.0 is installed")


async def test_a_bad_requirement_is_refused_inline(pkg_session: Session) -> None:
    app = PaneHost(pkg_session)
    seen = notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, InstallScreen)
        await pilot.press("enter")  # nothing typed yet
        assert "no packages given" in screen.error_text
        await pilot.press(*"tool alpha>=")
        assert "malformed requirement 'alpha>='" in screen.error_text
        await pilot.press("enter")
        still_open = app.screen is screen
        assert still_open  # nothing runs
        await pilot.press("backspace", "backspace", "space", "tab", "space")  # upgrade on
        assert "✔ 2 requirements" in screen.error_text
        assert screen.request().upgrade
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, InstallScreen)
        assert app.pane.tokens == {}
    assert installed(pkg_session) == {}
    assert seen.messages == []


async def test_a_failed_install_notifies_and_changes_nothing(pkg_session: Session) -> None:
    pkg_session.install("e", ["tool"])
    app = PaneHost(pkg_session)
    seen = notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i", *"nosuchpackage", "enter")
        assert await wait_until(pilot, lambda: seen.has("e is unchanged"))
        assert seen.severities[-1] == "error"
        assert "nosuchpackage" in seen.messages[-1]
        await settle(pilot)
        assert app.pane.progress_text == ""
        assert app.pane.table.visible_names == ["tool"]
        # The dialog remembers the last request for a retry.
        await pilot.press("i")
        assert isinstance(app.screen, InstallScreen)
        assert app.screen.request().requirements == ("nosuchpackage",)
        await pilot.press("escape")
    assert installed(pkg_session) == {"tool": "1.0"}


async def test_lock_filter_and_messages(pkg_session: Session) -> None:
    pkg_session.install("e", ["beta==1.0", "tool"])
    app = PaneHost(pkg_session)
    seen = notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.pane
        await pilot.press("l")
        lock = pkg_session.workspace.root / "e.lock"
        assert await wait_until(pilot, lambda: seen.has(f"e: locked 3 packages to {lock}"))
        assert "beta==1.0" in lock.read_text() and "--hash=sha256:" in lock.read_text()
        await pilot.press("slash", *"TO")
        assert pane.table.visible_names == ["tool"]
        await pilot.press("escape")
        assert pane.table.visible_names == ["alpha", "beta", "tool"]
        assert pane.table.has_focus
        # A declared env that is not created yet, and no selection at all.
        pane.show_env("later")
        await settle(pilot)
        assert "later is not created yet" in pane.detail_text
        await pilot.press("i")
        assert not isinstance(app.screen, InstallScreen)
        assert seen.has("cannot install packages: later is not created yet")
        pane.show_env(None)
        await settle(pilot)
        assert "no environment selected" in pane.title_text


async def test_engine_events_refresh_the_shown_env(pkg_session: Session) -> None:
    app = PaneHost(pkg_session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Installed behind the pane's back (the CLI, another tab): the events reload it.
        await anyio.to_thread.run_sync(lambda: pkg_session.install("e", ["tool"]))
        assert await wait_until(pilot, lambda: app.pane.table.visible_names == ["tool"])


async def test_latest_versions_come_from_the_index(
    tmp_path: Path, local_index: IndexServer
) -> None:
    root = write_workspace(tmp_path / "online")
    overrides = [f"packages.index_url={local_index.url}"]
    with Session.open(workspace=root, environ={}, overrides=overrides) as session:
        session.create_env("e", isolation="virtualenv")
        session.install("e", ["alpha==1.0", "tool"])
        app = PaneHost(session)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.pane
            assert await wait_until(pilot, lambda: "↑ 1 newer" in pane.title_text)
            cells = {str(pane.table.get_row_at(i)[0]): str(pane.table.get_row_at(i)[2])
                     for i in range(pane.table.row_count)}
            assert cells == {"alpha": "↑ 2.0", "tool": "1.0"}


def test_snapshot_with_a_conflict_120x40(
    pkg_session: Session, wheel_corpus: Corpus, snap_compare: Any
) -> None:
    """The pane at 120x40: three packages, two of them in conflict, the cursor on beta.

    Nothing machine-specific is drawn: no paths, times or ports (the workspace is offline,
    so the Latest column shows dashes).
    """
    force_install(pkg_session, wheel_corpus, "beta==1.0", "alpha==1.0", "tool==1.0")

    async def on_beta(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(PaneHost(pkg_session), terminal_size=SIZE, run_before=on_beta)



class TabbedHost(PaneHost):
    """The pane on the second tab, as the app mounts it."""

    AUTO_FOCUS = "Tabs"  # not the first focusable widget: that would open the packages tab
    focus_table = False

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="other"):
            with TabPane("Environments", id="other"):
                yield Static("the environments")
            with TabPane("Packages", id="pkgs"):
                yield PackagesPane(self.session, id="packages")
        yield Footer()


async def test_a_hidden_pane_reads_nothing_until_shown(pkg_session: Session) -> None:
    pkg_session.install("e", ["tool"])
    app = TabbedHost(pkg_session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.pane
        assert pane.view is None and "loading" in pane.title_text
        app.query_one(TabbedContent).active = "pkgs"
        assert await wait_until(pilot, lambda: pane.table.visible_names == ["tool"])
        # Hidden again: engine events only mark it stale; showing it re-reads.
        app.query_one(TabbedContent).active = "other"
        await settle(pilot)
        await anyio.to_thread.run_sync(lambda: pkg_session.install("e", ["alpha==1.0"]))
        await settle(pilot)
        assert pane.table.visible_names == ["tool"]
        app.query_one(TabbedContent).active = "pkgs"
        assert await wait_until(pilot, lambda: pane.table.visible_names == ["alpha", "tool"])
        # Cell colors follow a theme switch.
        app.theme = "textual-light"
        await settle(pilot)
        assert pane.table.get_row_at(0)[1].style == ""
        assert pane.table.get_row_at(0)[2].style == color(app, "foreground-muted")


# -- values behind the pane (no app needed) ----------------------------------------------


def test_progress_follows_uv_phases() -> None:
    state = ProgressState.begin("e", "Installing beta in e")
    assert state.fraction == 0
    for phase, done, total in (("resolving", 0, 1), ("resolving", 2, 2), ("downloading", 0, 2)):
        state = state.advance(PackagePhase("e", phase, done, total, ""))
    assert [(p.name, p.finished) for p in state.phases] == [
        ("resolving", True), ("downloading", False), ("installing", False)]
    # Nothing to download (all cached): installing finishes the earlier phases too.
    state = state.advance(PackagePhase("e", "installing", 2, 2, "Installed 2 packages in 3ms"))
    assert state.fraction == 1
    text = render_progress(state).plain
    assert text.splitlines()[0] == "Installing beta in e  100%"
    assert "✔ downloading" in text and "✔ installing" in text
    assert text.splitlines()[-1] == "Installed 2 packages in 3ms"


def test_progress_of_pip_counts_collected_packages() -> None:
    state = ProgressState.begin("e", "Installing")
    state = state.advance(PackagePhase("e", "resolving", 1, 0, "Collecting beta"))
    state = state.advance(PackagePhase("e", "resolving", 2, 0, "Collecting alpha"))
    resolving = state.phases[0]
    assert resolving.started and not resolving.finished and resolving.fraction == 0
    assert "◐ resolving" in render_progress(state).plain
    assert "…" in render_progress(state).plain.splitlines()[1]


def test_requirements_are_split_like_a_shell_and_validated() -> None:
    assert parse_requirements("attrs>=23 'requests[socks] >= 2'") == (
        "attrs>=23", "requests[socks] >= 2")
    for line, error in (("", "no packages given"), ("'attrs", "No closing quotation"),
                        ("attrs>=", "malformed requirement 'attrs>='")):
        with pytest.raises(UsageError, match=error):
            parse_requirements(line)


def test_rows_carry_dependents_and_problems() -> None:
    dists = [
        InstalledDist("Beta", "1.0", ("alpha>=1.1", "ghost; python_version >= '3'",
                                      "extra-thing; extra == 'x'")),
        InstalledDist("alpha", "1.0"),
        InstalledDist("extra-thing", "1.0"),
    ]
    report = CheckReport("e", 3, (
        Problem("conflict", "Beta", "1.0", "alpha>=1.1", "1.0"),
        Problem("missing", "Beta", "1.0", "ghost"),
    ))
    rows = {row.name: row for row in build_rows(dists, report)}
    assert list(rows) == ["alpha", "Beta", "extra-thing"]
    assert rows["alpha"].required_by == ("Beta",)
    assert rows["extra-thing"].required_by == ()  # only through an extra
    assert rows["Beta"].short == "requires alpha>=1.1; requires ghost (missing)"
    assert rows["alpha"].short == "Beta needs >=1.1"
    assert len(rows["Beta"].problems) == 2 and len(rows["alpha"].problems) == 1
    assert rows["alpha"].matches("NEEDS") and not rows["extra-thing"].matches("alp")


def test_install_summaries() -> None:
    report = InstallReport("e", "uv", ("alpha==2.0",), ("alpha==1.0",), 0.25)
    assert install_summary(report) == "e: installed alpha==2.0 (0.2 s)"
    many = InstallReport("e", "uv", tuple(f"bulk-{i}==1.0" for i in range(6)), (), 1.0)
    assert install_summary(many).endswith("bulk-3==1.0 and 2 more (1.0 s)")
    assert "nothing changed" in install_summary(InstallReport("e", "uv"))
    removed = InstallReport("e", "uv", (), ("tool==1.0",), 0.1)
    assert install_summary(removed) == "e: removed tool==1.0 (0.1 s)"


def test_snapshot_with_a_conflict_80x24(
    pkg_session: Session, wheel_corpus: Corpus, snap_compare: Any
) -> None:
    """The same at 80x24: the Check column shrinks instead of scrolling sideways."""
    force_install(pkg_session, wheel_corpus, "beta==1.0", "alpha==1.0", "tool==1.0")

    async def on_beta(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(PaneHost(pkg_session), terminal_size=(80, 24), run_before=on_beta)
