"""Live progress of a migration or restore: one line per step, and a progress bar.

The engine publishes a ``MigrationStep`` per step (checking, building, packages, files,
container-fs, verifying, switching, done); a migration first takes a snapshot of the
source, announced by ``SnapshotCreated``. :class:`StepTracker` turns those into step
states (pure logic, no widgets); :class:`RebuildProgress` draws them. Steps are named as
the user thinks of them: lock, check, create, install, copy files, verify, switch, done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from textual.containers import Vertical
from textual.content import Content
from textual.widgets import ProgressBar, Static

# Engine step name -> what the screen calls it, in the order the engine runs them.
STEP_LABELS: dict[str, str] = {
    "snapshot": "lock",
    "checking": "check",
    "building": "create",
    "packages": "install",
    "files": "copy files",
    "container-fs": "copy container changes",
    "verifying": "verify",
    "switching": "switch",
    "done": "done",
}
ORDER = tuple(STEP_LABELS)
LABEL_WIDTH = 12  # "copy container changes" overflows it; the others line up

LOOKS: dict[str, tuple[str, str]] = {
    "pending": ("○", "$foreground-muted"),
    "active": ("◐", "$accent"),
    "done": ("✔", "$success"),
    "failed": ("✖", "$error"),
}


def expected_steps(action: str, level: str, packages: bool = True) -> list[str]:
    """The steps a ``migrate`` to ``level`` (or a ``restore`` of one) is expected to take.

    A migration installs packages everywhere but on basic (it has no Python of its own); a
    restore installs what the snapshot recorded. The tracker drops a step the engine
    skips and inserts one it did not expect, so this only has to be a good first guess.
    """
    steps = ["snapshot"] if action == "migrate" else []
    steps += ["checking", "building"]
    if packages and (action == "restore" or level != "basic"):
        steps.append("packages")
    return [*steps, "files", "verifying", "switching", "done"]


@dataclass(frozen=True)
class StepState:
    """One step as shown: its engine name, state and the engine's detail."""

    name: str
    state: str = "pending"  # pending, active, done, failed
    detail: str = ""

    @property
    def label(self) -> str:
        """The step's name on screen."""
        return STEP_LABELS.get(self.name, self.name)


class StepTracker:
    """Step states from engine events, in order (call from one thread)."""

    def __init__(self, expected: Iterable[str]) -> None:
        self.steps: list[StepState] = [StepState(name) for name in expected]

    def _index(self, name: str) -> int:
        for index, step in enumerate(self.steps):
            if step.name == name:
                return index
        # A step the plan did not expect (container-fs): insert it in engine order.
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        position = len(self.steps)
        for index, step in enumerate(self.steps):
            if (ORDER.index(step.name) if step.name in ORDER else len(ORDER)) > rank:
                position = index
                break
        self.steps.insert(position, StepState(name))
        return position

    def advance(self, name: str, detail: str = "") -> None:
        """The engine reached step ``name``: earlier steps are done (or did not apply)."""
        index = self._index(name)
        current = self.steps[index]
        if current.state == "active":
            # Sub-steps (the switch reports each part) only update the detail.
            if detail:
                self.steps[index] = replace(current, detail=detail)
            return
        before = [replace(s, state="done") if s.state == "active" else s
                  for s in self.steps[:index] if s.state != "pending"]
        state = "done" if name == "done" else "active"
        new = replace(current, state=state, detail=detail or current.detail)
        # Pending steps before this one were skipped by the engine (no packages to install).
        self.steps = [*before, new, *self.steps[index + 1:]]

    def fail(self) -> None:
        """The operation failed: the running step is marked failed; the rest never ran."""
        for index, step in enumerate(self.steps):
            if step.state == "active":
                self.steps[index] = replace(step, state="failed")
                return
        # Failed before any step began (checked up front): the first step failed.
        for index, step in enumerate(self.steps):
            if step.state == "pending":
                self.steps[index] = replace(step, state="failed")
                return

    def finish(self) -> None:
        """Everything finished: every step that ran is done."""
        self.steps = [replace(s, state="done") for s in self.steps if s.state != "pending"]

    @property
    def done_count(self) -> int:
        """Steps completed."""
        return sum(step.state == "done" for step in self.steps)

    @property
    def active(self) -> StepState | None:
        """The step running now."""
        return next((s for s in self.steps if s.state == "active"), None)


def render_steps(steps: Sequence[StepState]) -> Content:
    """One line per step: icon, label, detail."""
    lines = []
    for step in steps:
        icon, style = LOOKS.get(step.state, LOOKS["pending"])
        label_style = "bold" if step.state == "active" else (
            "$foreground-muted" if step.state == "pending" else "")
        lines.append(Content.assemble(
            (f"{icon} ", style), (f"{step.label:<{LABEL_WIDTH}} ", label_style),
            (step.detail, "$foreground-muted"),
        ))
    return Content("\n").join(lines)


class RebuildProgress(Vertical):
    """The step list and a bar of steps done (no ETA: steps differ too much in length)."""

    DEFAULT_CSS = """
    RebuildProgress {
        height: auto;
    }
    RebuildProgress > .steps {
        height: auto;
    }
    RebuildProgress > ProgressBar {
        margin-top: 1;
    }
    """

    def __init__(self, expected: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tracker = StepTracker(expected)
        self._lines = Static(classes="steps")
        self._bar = ProgressBar(total=max(1, len(self.tracker.steps)), show_eta=False)

    def compose(self) -> Any:
        """The steps and the bar."""
        yield self._lines
        yield self._bar

    def on_mount(self) -> None:
        """Draw the expected steps."""
        self._draw()

    def reset(self, expected: Iterable[str]) -> None:
        """Start over with a new plan of steps."""
        self.tracker = StepTracker(expected)
        self._draw()

    def advance(self, name: str, detail: str = "") -> None:
        """Show that the engine reached ``name``."""
        self.tracker.advance(name, detail)
        self._draw()

    def fail(self) -> None:
        """Show the running step as failed."""
        self.tracker.fail()
        self._draw()

    def finish(self) -> None:
        """Show every step done."""
        self.tracker.finish()
        self._draw()

    def _draw(self) -> None:
        steps = self.tracker.steps
        self._lines.update(render_steps(steps))
        self._bar.update(total=max(1, len(steps)), progress=self.tracker.done_count)

    @property
    def text(self) -> str:
        """The step lines as plain text (tests, screen readers)."""
        return render_steps(self.tracker.steps).plain
