"""The snapshot dialog: take a snapshot of an env, or restore one of its snapshots.

Top: tag and message fields; Enter in either takes a snapshot in a worker. Below: the
env's snapshots (newest first); Enter on one asks, then restores it in a worker with each
step shown live, exactly like the migrate dialog. A restore is atomic in the engine: the
env is replaced only once the rebuilt one is verified, so a failure leaves it as it was,
and the dialog says what the store holds afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import DescendantFocus
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static

from ptest_tui.errors import PtestError
from ptest_tui.events import Event, MigrationStep, SnapshotCreated
from ptest_tui.session import Session
from ptest_tui.snapshots.rebuild import RebuildOutcome
from ptest_tui.snapshots.records import SnapshotRecord
from ptest_tui.tui.screens.rebuild_flow import (
    FlowFinished,
    FlowScreen,
    render_error,
    render_failure,
    visible_text,
)
from ptest_tui.tui.widgets.rebuild_progress import RebuildProgress, expected_steps

MUTED = "$foreground-muted"
COLUMNS = (("id", "ID"), ("tag", "Tag"), ("level", "Level"), ("packages", "Pkgs"),
           ("files", "Files"), ("size", "Size"), ("taken", "Taken"), ("origin", "Origin"),
           ("message", "Message"))


@dataclass(frozen=True)
class SnapshotsResult:
    """What happened while the dialog was open: snapshots taken, and a finished restore."""

    created: tuple[str, ...] = ()
    restored: RebuildOutcome | None = None


class SnapshotsLoaded(Message, bubble=False):
    """The env's snapshots, newest first."""

    def __init__(self, records: tuple[SnapshotRecord, ...], error: PtestError | None) -> None:
        super().__init__()
        self.records = records
        self.error = error


def size_text(count: int) -> str:
    """Bytes as B, kB, MB or GB (decimal, as the CLI prints them)."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"


def describe(record: SnapshotRecord) -> str:
    """``3fa2c1d9e0b4 [tag]``."""
    return record.id + (f" [{record.tag}]" if record.tag else "")


class SnapshotScreen(FlowScreen[SnapshotsResult]):
    """Snapshots of ``env``: take one (fields), restore one (Enter in the list)."""

    DEFAULT_CSS: ClassVar[str] = """
    SnapshotScreen .flow-dialog {
        width: 110;
    }
    SnapshotScreen .snap-field {
        height: 1;
        margin-bottom: 1;
    }
    SnapshotScreen .snap-label {
        width: 10;
        color: $foreground-muted;
    }
    SnapshotScreen Input {
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    SnapshotScreen Input:focus {
        background: $primary 25%;
    }
    #snap-list {
        height: auto;
        max-height: 10;
        overflow-x: hidden;  /* a long message is cut rather than adding a scrollbar */
        background: $panel;
    }
    #snap-list-title {
        text-style: bold;
        margin-top: 1;
        height: 1;
    }
    #snap-run {
        height: auto;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back / close",
                tooltip="Close; while restoring: stop (the env stays as it is)"),
        Binding("y", "confirm", "Restore", tooltip="Confirm the restore"),
        Binding("n", "back", "No", show=False, tooltip="Do not restore"),
        Binding("j", "cursor(1)", "Down", show=False, tooltip="Next snapshot"),
        Binding("k", "cursor(-1)", "Up", show=False, tooltip="Previous snapshot"),
    ]

    def __init__(self, session: Session, env: str) -> None:
        super().__init__(session, env)
        self.records: tuple[SnapshotRecord, ...] = ()
        self.stage = "idle"  # idle, snapshotting, confirm, restoring
        self.chosen: SnapshotRecord | None = None
        self.created: list[str] = []
        self.restored: RebuildOutcome | None = None
        self._select_after_load = ""

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Fields, list, progress, message and keys."""
        with Vertical(classes="flow-dialog", id="snap-dialog") as dialog:
            dialog.border_title = f"Snapshots of {self.env}"
            with Horizontal(classes="snap-field"):
                yield Label("Tag", classes="snap-label")
                yield Input(placeholder="optional, e.g. known-good", id="snap-tag",
                            compact=True)
            with Horizontal(classes="snap-field"):
                yield Label("Message", classes="snap-label")
                yield Input(placeholder="optional, e.g. before the upgrade",
                            id="snap-message", compact=True)
            yield Static("Snapshots", id="snap-list-title")
            yield DataTable(id="snap-list", cursor_type="row", zebra_stripes=True)
            with Vertical(id="snap-run", classes="flow-hidden"):
                yield Static(id="snap-heading")
                yield RebuildProgress(id="snap-progress")
            yield Static(id="snap-status", classes="flow-message")
            yield Label(id="snap-keys", classes="flow-keys")

    @property
    def table(self) -> DataTable[Text | str]:
        """The snapshot list."""
        return self.query_one("#snap-list", DataTable)

    @property
    def progress(self) -> RebuildProgress:
        """The restore steps."""
        return self.query_one(RebuildProgress)

    def on_mount(self) -> None:
        """Columns, the first load, focus on the tag field."""
        for key, label in COLUMNS:
            self.table.add_column(label, key=key)
        self.query_one("#snap-tag", Input).focus()
        self.load()
        self._show_keys()

    def load(self, select: str = "") -> None:
        """Re-read the env's snapshots in a worker (then highlight ``select``)."""
        self._select_after_load = select
        session, env = self.session, self.env

        def work() -> None:
            try:
                records = tuple(reversed(session.snapshots.all(env)))
            except PtestError as exc:
                self.post_message(SnapshotsLoaded((), exc))
                return
            self.post_message(SnapshotsLoaded(records, None))

        self.run_worker(work, name=f"snapshots:{env}", group="snapshots-list",
                        thread=True, exclusive=True, exit_on_error=False)

    def on_snapshots_loaded(self, message: SnapshotsLoaded) -> None:
        """Show the list (newest first)."""
        if message.error is not None:
            self._status(Content.styled(f"✖ {message.error.one_line()}", "$error"))
            return
        self.records = message.records
        table = self.table
        keep = self._select_after_load or self.selected_id
        table.clear()
        for record in self.records:
            table.add_row(
                Text(record.id, style="bold"), record.tag, record.isolation,
                str(record.packages), str(record.files), size_text(record.bytes),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at)),
                record.origin, record.message, key=record.id,
            )
        ids = [record.id for record in self.records]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        count = len(self.records)
        title = "Snapshots" if count else "Snapshots: none yet"
        self.query_one("#snap-list-title", Static).update(
            Content.assemble((title, "bold"), (f" ({count})" if count else "", MUTED)))

    @property
    def selected_id(self) -> str:
        """The highlighted snapshot's id ("" when the list is empty)."""
        table = self.table
        if not table.row_count:
            return ""
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # the cursor can briefly point past a shrunk table
            return ""
        return str(key.value or "")

    # -- taking a snapshot ------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the tag or message field: take a snapshot."""
        event.stop()
        if self.stage not in ("idle", "confirm"):
            self.app.bell()
            return
        tag = self.query_one("#snap-tag", Input).value.strip() or None
        text = self.query_one("#snap-message", Input).value.strip() or None
        session, env = self.session, self.env
        self.stage = "snapshotting"
        self.query_one("#snap-run").add_class("flow-hidden")
        self._status(Content.assemble(
            ("◐ ", "$accent"), f"taking a snapshot of {env}: its lock, HOME files and settings…"))
        self._show_keys()
        self.run_flow("snapshot", lambda token: session.snapshot(env, tag, text, cancel=token))

    # -- restoring --------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Moving in the list withdraws an open question."""
        event.stop()
        if self.stage == "confirm" and self.chosen and self.selected_id != self.chosen.id:
            self.stage = "idle"
            self._status("")
            self._show_keys()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a snapshot: ask; Enter again (or y) restores."""
        event.stop()
        if self.stage == "confirm":
            self.action_confirm()
            return
        if self.stage != "idle":
            self.app.bell()
            return
        chosen = next((r for r in self.records if r.id == self.selected_id), None)
        if chosen is None:
            return
        self.chosen = chosen
        self.stage = "confirm"
        taken = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(chosen.created_at))
        self._status(Content.assemble(
            ("Restore ", "bold"), (self.env, "bold $accent"), (" to snapshot ", "bold"),
            (describe(chosen), "bold $accent"), ("?", "bold"), "\n",
            (f"Taken {taken} of a {chosen.isolation} env: {chosen.packages} packages,"
             f" {chosen.files} files. ", MUTED),
            (f"{self.env} is replaced only once the rebuilt env is verified; until then it is"
             " untouched.", MUTED),
        ))
        self._show_keys()

    def action_confirm(self) -> None:
        """y (or Enter again): restore the chosen snapshot in a worker."""
        chosen = self.chosen
        if self.stage != "confirm" or chosen is None:
            return
        session, snapshot_id = self.session, chosen.id
        self.stage = "restoring"
        self.query_one("#snap-heading", Static).update(Content.assemble(
            ("Restoring ", "bold"), (self.env, "bold $accent"),
            (f" from snapshot {describe(chosen)} ({chosen.isolation})", "bold"),
        ))
        self.progress.reset(expected_steps("restore", chosen.isolation, chosen.packages > 0))
        self.query_one("#snap-run").remove_class("flow-hidden")
        self._status("")
        self._show_keys()
        self.run_flow("restore", lambda token: session.restore(snapshot_id, cancel=token))

    # -- engine events and results ----------------------------------------------------

    def flow_event(self, event: Event) -> None:
        """Restore steps, and the snapshot being stored."""
        if self.stage == "restoring" and isinstance(event, MigrationStep):
            if event.action == "restore":
                self.progress.advance(event.step, event.detail)
        elif self.stage == "snapshotting" and isinstance(event, SnapshotCreated):
            self._status(Content.assemble(("◐ ", "$accent"),
                                          f"snapshot {event.snapshot_id} stored; finishing…"))

    def flow_finished(self, message: FlowFinished) -> None:
        """Show how the snapshot or restore went, and re-read the list."""
        self.stage = "idle"
        error = message.error
        if message.action == "snapshot":
            if error is not None:
                self._status(render_error(error))
            elif isinstance(message.result, SnapshotRecord):
                record = message.result
                self.created.append(record.id)
                self._status(Content.assemble(
                    ("✔ ", "$success"), ("snapshot ", "bold"), (describe(record), "bold $accent"),
                    f" of {record.env}: {record.packages} packages, {record.files} files"
                    f" ({size_text(record.bytes)})",
                ))
                for field in ("#snap-tag", "#snap-message"):
                    self.query_one(field, Input).value = ""
                self.load(select=record.id)
        elif error is not None:
            self.progress.fail()
            self._status(render_failure(self.env, error, message.before, message.after))
        elif isinstance(message.result, RebuildOutcome):
            outcome = self.restored = message.result
            self.progress.finish()
            verified = "; ".join(outcome.verified) or "nothing to check"
            warnings = "; ".join(outcome.warnings)
            self._status(Content.assemble(
                ("✔ ", "$success"), (outcome.env, "bold"),
                (f" restored from snapshot {outcome.snapshot_id} ({outcome.level})",
                 "bold $success"), "\n", ("Verified: ", "bold"), verified,
                ("\nWarnings: " if warnings else "", "bold $warning"), warnings,
            ))
            self.load()
        self.chosen = None
        self._show_keys()

    # -- keys -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """y only answers the question; j/k only move the list."""
        if action == "confirm":
            return self.stage == "confirm"
        if action == "cursor":
            return self.table.has_focus
        return True

    def action_cursor(self, delta: int) -> None:
        """j/k in the list."""
        if delta > 0:
            self.table.action_cursor_down()
        else:
            self.table.action_cursor_up()

    def action_back(self) -> None:
        """Esc/n: withdraw the question, stop a running operation, or close."""
        if self.stage == "confirm":
            self.stage = "idle"
            self.chosen = None
            self._status("")
            self._show_keys()
        elif self.stage in ("snapshotting", "restoring"):
            if self.cancel_running():
                self._status(Content.styled(f"Stopping… {self.env} stays as it is.", "$warning"))
        else:
            self.dismiss(SnapshotsResult(tuple(self.created), self.restored))

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        """The key line follows the focus (fields take, the list restores)."""
        self._show_keys()

    def _status(self, content: Content | str) -> None:
        self.query_one("#snap-status", Static).update(content)

    def _show_keys(self) -> None:
        keys: tuple[tuple[str, str], ...]
        if self.stage == "confirm":
            keys = (("y/Enter", "restore"), ("n/Esc", "back"))
        elif self.stage in ("snapshotting", "restoring"):
            keys = (("Esc", f"stop ({self.env} stays as it is)"),)
        elif self.table.has_focus:
            keys = (("Enter", "restore the highlighted snapshot"), ("j/k", "move"),
                    ("Tab", "fields"), ("Esc", "close"))
        else:
            keys = (("Enter", "take a snapshot"), ("Tab", "next field / the list"),
                    ("Esc", "close"))
        parts: list[str | tuple[str, str]] = []
        for key, text in keys:
            parts += [(key, "bold $accent"), f" {text}   "]
        self.query_one("#snap-keys", Label).update(Content.assemble(*parts).rstrip())

    @property
    def text(self) -> str:
        """The dialog's visible text (tests, screen readers)."""
        return visible_text(self)
