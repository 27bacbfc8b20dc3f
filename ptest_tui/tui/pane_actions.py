"""The app's pane actions: 1-4, and the row keys that act through a pane or a flow.

``i``, ``u`` and ``r`` act on the selected environment through the Packages and Results
panes (their dialogs and jobs live there); ``m`` and ``s`` open the migration and
snapshot flows. The command palette reaches pane actions through :meth:`_in_pane`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.css.query import NoMatches
from textual.widgets import Input, TabbedContent

from ptest_tui.tui.actions import EnvActions


class PaneActions(EnvActions):
    """Base of the app holding the pane actions (on top of the environment actions)."""

    PANES: ClassVar[dict[str, str]] = {
        "envs": "#envs", "packages": "#packages", "resources": "#resources",
        "results": "#results",
    }

    def _panes(self) -> list[Any]:
        """The panes that follow the selection and the engine events."""
        # query_one by id is cached by Textual until the DOM changes; query() would walk
        # every widget, once per engine event (dozens a second while installs run).
        found: list[Any] = []
        for selector in ("#objects", "#packages", "#resources", "#results"):
            try:
                found.append(self.query_one(selector))
            except NoMatches:  # hosts without that pane (tests, a narrow layout)
                continue
        return found

    def action_pane(self, name: str) -> None:
        """1-4: show a pane and put the focus in it."""
        self.query_one(TabbedContent).active = f"tab-{name}"
        target = self.query_one(self.PANES[name])
        focusable = [w for w in target.query("*") if w.focusable]
        # Not a pane's filter field: the next key (m, q, 1...) must act, not filter (/ does).
        keys_act = [w for w in focusable if not isinstance(w, Input)]
        self.set_focus((keys_act or focusable or [target])[0])

    def action_install(self) -> None:
        """i: install packages into the selected env (the packages pane's dialog)."""
        if self._need_selection("install into") is None:
            return
        from ptest_tui.tui.widgets.packages_pane import PackagesPane

        self.action_pane("packages")
        self.query_one("#packages", PackagesPane).action_install()

    def action_run(self) -> None:
        """r: the run dialog, with the selected env first; the run shows in Results."""
        self._in_pane("results", "action_run")

    def action_uninstall(self) -> None:
        """u: the selected env's packages, focused, to pick the one to uninstall (u again)."""
        if self._need_selection("uninstall from") is None:
            return
        self.action_pane("packages")
        self.notify("pick a package, then press u to uninstall it", markup=False, timeout=4)

    def action_objects(self) -> None:
        """o: the objects table under the environments."""
        self.query_one(TabbedContent).active = "tab-envs"
        focusable = [w for w in self.query_one("#objects").query("*") if w.focusable]
        if focusable:
            self.set_focus(focusable[0])

    def _in_pane(self, pane: str, action: str) -> None:
        """Show ``pane`` and run one of its actions (for the command palette)."""
        if pane == "objects":
            self.action_objects()
        else:
            self.action_pane(pane)
        getattr(self.query_one(f"#{pane}"), action)()

    def action_migrate(self) -> None:
        """m: migrate the selected env (choose the level, watch each step)."""
        from ptest_tui.tui.screens.migrate import MigrateScreen

        view = self._need_selection("migrate")
        if view is not None:
            self.push_screen(MigrateScreen(self.session, view.name, unavailable=self.unavailable),
                             lambda _result: self.request_refresh())

    def action_snapshot(self) -> None:
        """s: snapshot the selected env, or restore one of its snapshots."""
        from ptest_tui.tui.screens.snapshots import SnapshotScreen

        view = self._need_selection("snapshot")
        if view is not None:
            self.push_screen(SnapshotScreen(self.session, view.name),
                             lambda _result: self.request_refresh())
