"""The migrate dialog: choose the target level, confirm, then watch each step live.

Opening it loads the env's record, its package count and which engines can run here in a
worker (Docker may need a round trip). The levels are listed with what the move keeps
and drops (computed by the engine's own :func:`target_spec`, so the dialog never promises
what the engine will not do); an engine that cannot run here is listed disabled with the
reason. After the confirmation ``session.migrate`` runs in a worker and every
``MigrationStep`` shows up as a line (lock, check, create, install, copy files, verify,
switch, done). Success says so and closing dismisses with the :class:`RebuildOutcome`; a
failure shows the reason and what the store says the source is now (unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ptest_tui.errors import PtestError
from ptest_tui.events import Event, MigrationStep, SnapshotCreated
from ptest_tui.session import Session
from ptest_tui.snapshots.rebuild import RebuildOutcome
from ptest_tui.store import EnvRecord
from ptest_tui.tui.screens.rebuild_flow import (
    FlowFinished,
    FlowScreen,
    render_failure,
    visible_text,
)
from ptest_tui.tui.widgets.rebuild_progress import RebuildProgress, expected_steps

MUTED = "$foreground-muted"
LEVEL_NOTES = {
    "basic": "a folder on the host; the host's python3, no packages",
    "virtualenv": "a virtualenv on the host; Python and packages from the lock",
    "docker": "a container; Python, packages, image and limits",
}


@dataclass(frozen=True)
class MigrateFacts:
    """What the dialog needs to know before offering levels (loaded in a worker)."""

    record: EnvRecord | None
    packages: int | None  # None: could not be listed
    unavailable: Mapping[str, str | None] = field(default_factory=dict)
    error: str = ""


class FactsLoaded(Message, bubble=False):
    """The env's facts, ready to show."""

    def __init__(self, facts: MigrateFacts) -> None:
        super().__init__()
        self.facts = facts


def load_facts(
    session: Session, env: str, unavailable: Mapping[str, str | None] | None
) -> MigrateFacts:
    """The record, package count and engine availability (blocking: call from a worker)."""
    try:
        record = session.store.get_env(env)
    except PtestError as exc:
        return MigrateFacts(None, None, {}, exc.one_line())
    try:
        packages: int | None = len(session.packages(env))
    except PtestError:
        packages = None  # a broken env: the migration itself will say why it refuses
    known = dict(unavailable) if unavailable is not None else {}
    for level in session.engines.names():
        if level == record.isolation or (unavailable is not None and level in known):
            continue
        try:
            known[level] = session.engines.get(level).unavailable_reason()
        except Exception as exc:  # a broken plugin engine must not break the dialog
            known[level] = str(exc)
    return MigrateFacts(record, packages, known)


def keeps_and_drops(record: EnvRecord, level: str, packages: int | None) -> tuple[
    list[str], list[str]
]:
    """What migrating ``record`` to ``level`` keeps and drops, as the engine plans it."""
    from ptest_tui.snapshots.migrate import target_spec

    # An unknown count is planned as "some packages" so the packages line still shows.
    _spec, kept, dropped = target_spec(record, level, 1 if packages is None else packages)
    if packages is None:
        kept = [line.replace("packages: 1,", "packages:") for line in kept]
        dropped = [line.replace("packages: 1 ", "packages ") for line in dropped]
    kept.append("a snapshot of the env as it is now (restore it to go back)")
    return kept, dropped


def render_plan(kept: list[str], dropped: list[str]) -> Content:
    """Two short lists: kept, not kept."""
    parts: list[str | tuple[str, str]] = [("Keeps\n", "bold $success")]
    for line in kept:
        parts += [("  ✔ ", "$success"), line, "\n"]
    parts.append(("Does not keep\n", "bold $warning"))
    for line in dropped or ["nothing"]:
        parts += [("  ✖ ", "$warning") if dropped else ("  ", ""), line, "\n"]
    return Content.assemble(*parts).rstrip("\n")


class MigrateScreen(FlowScreen[RebuildOutcome | None]):
    """Move ``env`` to another isolation level; dismisses with the outcome (or None)."""

    DEFAULT_CSS: ClassVar[str] = """
    #migrate-levels {
        height: auto;
        max-height: 8;
        margin: 1 0;
        background: $panel;
        border: none;
    }
    #migrate-levels:focus {
        border: none;
        background-tint: $primary 10%;
    }
    #migrate-preview, #migrate-intro, #migrate-heading {
        height: auto;
    }
    #migrate-heading {
        margin-bottom: 1;
    }
    #migrate-run {
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back / cancel",
                tooltip="Close; while migrating: stop (the source stays as it is)"),
        Binding("y", "confirm", "Migrate", tooltip="Confirm the migration"),
        Binding("n", "back", "No", show=False, tooltip="Back to the level list"),
        Binding("enter", "close", "Close", show=False, tooltip="Close when finished"),
        Binding("j", "move(1)", "Down", show=False, tooltip="Next level"),
        Binding("k", "move(-1)", "Up", show=False, tooltip="Previous level"),
    ]

    def __init__(
        self,
        session: Session,
        env: str,
        *,
        unavailable: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(session, env)
        self.unavailable = unavailable
        self.facts: MigrateFacts | None = None
        self.stage = "loading"  # loading, choose, confirm, running, done, failed
        self.target = ""
        self.outcome: RebuildOutcome | None = None
        self.error: PtestError | None = None

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Level list and plan, then (once confirmed) the steps."""
        with Vertical(classes="flow-dialog", id="migrate-dialog") as dialog:
            dialog.border_title = f"Migrate {self.env}"
            yield Static(Content.styled("Reading the environment…", MUTED), id="migrate-intro")
            yield OptionList(id="migrate-levels", compact=True)
            yield Static(id="migrate-preview")
            with Vertical(id="migrate-run", classes="flow-hidden"):
                yield Static(id="migrate-heading")
                yield RebuildProgress(id="migrate-progress")
            yield Static(id="migrate-message", classes="flow-message")
            yield Label(id="migrate-keys", classes="flow-keys")

    def on_mount(self) -> None:
        """Load the facts in the background."""
        self._show_keys()
        session, env, unavailable = self.session, self.env, self.unavailable

        def work() -> None:
            self.post_message(FactsLoaded(load_facts(session, env, unavailable)))

        self.run_worker(work, name=f"migrate-facts:{env}", group="migrate-facts",
                        thread=True, exit_on_error=False)

    @property
    def levels(self) -> OptionList:
        """The level list."""
        return self.query_one("#migrate-levels", OptionList)

    @property
    def progress(self) -> RebuildProgress:
        """The step list."""
        return self.query_one(RebuildProgress)

    def on_facts_loaded(self, message: FactsLoaded) -> None:
        """Offer the other levels (unavailable ones disabled, with the reason)."""
        facts = self.facts = message.facts
        record = facts.record
        intro = self.query_one("#migrate-intro", Static)
        if record is None:
            intro.update(Content.styled(f"✖ {facts.error}", "$error"))
            self.stage = "failed"
            self._show_keys()
            return
        python = record.engine_state.get("python_version") or ""
        details = [record.isolation, record.status]
        if python:
            details.append(f"Python {python}")
        if facts.packages is not None:
            details.append(f"{facts.packages} packages")
        intro.update(Content.assemble(
            (self.env, "bold"), f" is a {record.isolation} environment ",
            (f"({', '.join(details[1:])})", MUTED), ". Move it to:",
        ))
        options = []
        for level in self.session.engines.names():
            if level == record.isolation:
                continue
            reason = facts.unavailable.get(level)
            note = f"unavailable: {reason}" if reason else LEVEL_NOTES.get(level, "")
            prompt = Content.assemble((f"{level:<12}", "bold" if not reason else ""),
                                      (note, "$warning" if reason else MUTED))
            options.append(Option(prompt, id=level, disabled=bool(reason)))
        levels = self.levels
        levels.set_options(options)
        self.stage = "choose"
        enabled = [i for i, option in enumerate(options) if not option.disabled]
        if enabled:
            levels.highlighted = enabled[0]
        else:
            self._message(Content.styled("No other isolation level can run here.", "$warning"))
        levels.focus()
        self._update_preview()
        self._show_keys()

    # -- choosing ---------------------------------------------------------------------

    def _highlighted_level(self) -> str:
        option = self.levels.highlighted_option
        return str(option.id) if option is not None and not option.disabled else ""

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Show what the highlighted level keeps and drops."""
        event.stop()
        if self.stage in ("choose", "confirm"):
            self.stage = "choose"
            self._update_preview()
            self._show_keys()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter: ask to confirm; Enter again (or y) migrates."""
        event.stop()
        if self.stage == "confirm":
            self.action_confirm()
        elif self.stage == "choose" and self._highlighted_level():
            self.target = self._highlighted_level()
            self.stage = "confirm"
            self._update_preview()
            self._show_keys()

    def _update_preview(self) -> None:
        preview = self.query_one("#migrate-preview", Static)
        level = self._highlighted_level()
        facts = self.facts
        if not level or facts is None or facts.record is None:
            preview.update("")
            return
        kept, dropped = keeps_and_drops(facts.record, level, facts.packages)
        plan = render_plan(kept, dropped)
        if self.stage == "confirm":
            question = Content.assemble(
                "\n\n", ("Migrate ", "bold"), (self.env, "bold $accent"),
                (f" from {facts.record.isolation} to {level}?", "bold"), "\n",
                (f"{self.env} is switched over only once the rebuilt env is verified; until"
                 " then it is untouched.", MUTED),
            )
            preview.update(Content.assemble(plan, question))
        else:
            preview.update(plan)

    def action_move(self, delta: int) -> None:
        """j/k: move through the levels like the arrow keys."""
        if delta > 0:
            self.levels.action_cursor_down()
        else:
            self.levels.action_cursor_up()

    # -- running ----------------------------------------------------------------------

    def action_confirm(self) -> None:
        """y (or Enter on the confirmation): migrate in a worker."""
        if self.stage != "confirm" or not self.target or self.facts is None:
            return
        record = self.facts.record
        assert record is not None
        target, env, session = self.target, self.env, self.session
        self.stage = "running"
        self.query_one("#migrate-intro").add_class("flow-hidden")
        self.query_one("#migrate-levels").add_class("flow-hidden")
        self.query_one("#migrate-preview").add_class("flow-hidden")
        self.query_one("#migrate-run").remove_class("flow-hidden")
        self.query_one("#migrate-heading", Static).update(Content.assemble(
            ("Migrating ", "bold"), (env, "bold $accent"),
            (f": {record.isolation} → {target}", "bold"),
        ))
        self.progress.reset(expected_steps("migrate", target, bool(self.facts.packages)))
        self.progress.advance("snapshot", "snapshot of the source: its lock and HOME")
        self._message("")
        self.set_focus(None)  # the hidden list must not keep Enter; the screen's keys act
        self._show_keys()
        self.run_flow("migrate", lambda token: session.migrate(env, target, cancel=token))

    def flow_event(self, event: Event) -> None:
        """A step of this env's migration."""
        if self.stage != "running":
            return
        if isinstance(event, MigrationStep) and event.action == "migrate":
            self.progress.advance(event.step, event.detail)
        elif isinstance(event, SnapshotCreated):
            self.progress.advance("snapshot", f"snapshot {event.snapshot_id}:"
                                  f" {plural(event.packages, 'package')},"
                                  f" {plural(event.files, 'file')}")

    def flow_finished(self, message: FlowFinished) -> None:
        """Say how it went: the result, or the reason and the state of the source."""
        if message.error is None and isinstance(message.result, RebuildOutcome):
            self.outcome = outcome = message.result
            self.stage = "done"
            self.progress.finish()
            self._message(render_outcome(outcome))
        else:
            self.error = error = message.error or PtestError("the migration returned nothing")
            self.stage = "failed"
            self.progress.fail()
            self._message(render_failure(self.env, error, message.before, message.after))
        self._show_keys()

    # -- keys -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys follow the stage: y only when asked, Enter closes only when finished."""
        if action == "confirm":
            return self.stage == "confirm"
        if action == "close":
            return self.stage in ("done", "failed")
        if action == "move":
            return self.stage in ("choose", "confirm")
        return True

    def action_back(self) -> None:
        """Esc/n: back from the question, stop a running migration, or close."""
        if self.stage == "confirm":
            self.stage = "choose"
            self._update_preview()
            self._show_keys()
        elif self.stage == "running":
            if self.cancel_running():
                self._message(Content.styled(
                    "Stopping… the source stays as it is.", "$warning"))
        else:
            self.action_close()

    def action_close(self) -> None:
        """Close, handing back the outcome (None unless the migration succeeded)."""
        if self.stage != "running":
            self.dismiss(self.outcome)

    def _message(self, content: Content | str) -> None:
        self.query_one("#migrate-message", Static).update(content)

    def _show_keys(self) -> None:
        keys = {
            "loading": (("Esc", "cancel"),),
            "choose": (("↑/↓", "level"), ("Enter", "choose"), ("Esc", "cancel")),
            "confirm": (("y/Enter", "migrate"), ("n/Esc", "back")),
            "running": (("Esc", "stop (the source stays as it is)"),),
            "done": (("Enter/Esc", "close"),),
            "failed": (("Enter/Esc", "close"),),
        }[self.stage]
        parts: list[str | tuple[str, str]] = []
        for key, text in keys:
            parts += [(key, "bold $accent"), f" {text}   "]
        self.query_one("#migrate-keys", Label).update(Content.assemble(*parts).rstrip())

    @property
    def text(self) -> str:
        """The dialog's visible text (tests, screen readers)."""
        return visible_text(self)


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def render_outcome(outcome: RebuildOutcome) -> Content:
    """The success message: the new level, what was verified, kept and not kept."""
    parts: list[str | tuple[str, str]] = [
        ("✔ ", "$success"), (outcome.env, "bold"),
        (f" is now a {outcome.level} environment", "bold $success"),
        (f" (was {outcome.replaced})" if outcome.replaced else "", MUTED), "\n",
    ]
    for title, lines, style in (("Verified", outcome.verified, "$success"),
                                ("Kept", outcome.kept, ""),
                                ("Not kept", outcome.dropped, "$warning"),
                                ("Warnings", outcome.warnings, "$warning")):
        if lines:
            parts += [(f"{title}: ", "bold " + style if style else "bold"),
                      "; ".join(lines), "\n"]
    return Content.assemble(*parts).rstrip("\n")
