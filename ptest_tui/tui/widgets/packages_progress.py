"""Live install progress: one line per phase (resolving, downloading, installing).

The installers report :class:`~ptest_tui.events.PackagePhase` events with counts of
distributions; :class:`ProgressState` folds them into a value and :class:`InstallProgress`
draws it. Text bars (no timers, no animation) keep the widget cheap and its screenshots
stable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.content import Content

from ptest_tui.events import PackagePhase
from ptest_tui.tui.widgets.text_box import TextBox

PHASES = ("resolving", "downloading", "installing")
BAR_WIDTH = 24
DETAIL_WIDTH = 90


@dataclass(frozen=True)
class PhaseState:
    """Where one phase is: counts of distributions, and whether it started or finished."""

    name: str
    done: int = 0
    total: int = 0
    started: bool = False
    finished: bool = False

    @property
    def fraction(self) -> float:
        """How far along the phase is, 0 to 1."""
        if self.finished:
            return 1.0
        if self.total:
            return min(1.0, self.done / self.total)
        return 0.0


def _fresh() -> tuple[PhaseState, ...]:
    return tuple(PhaseState(name) for name in PHASES)


@dataclass(frozen=True)
class ProgressState:
    """The progress of one package operation in one env."""

    env: str
    title: str
    phases: tuple[PhaseState, ...] = ()
    detail: str = ""

    @classmethod
    def begin(cls, env: str, title: str) -> ProgressState:
        """Nothing reported yet."""
        return cls(env, title, _fresh())

    def advance(self, event: PackagePhase) -> ProgressState:
        """The state after ``event`` (earlier phases count as finished once a later starts)."""
        if event.phase not in PHASES:
            return replace(self, detail=event.detail or self.detail)
        index = PHASES.index(event.phase)
        phases = list(self.phases or _fresh())
        for before in range(index):
            phases[before] = replace(phases[before], started=True, finished=True)
        finished = bool(event.total) and event.done >= event.total and (
            event.phase != "resolving" or event.done > 0
        )
        phases[index] = PhaseState(event.phase, event.done, event.total, True, finished)
        return replace(self, phases=tuple(phases), detail=event.detail or self.detail)

    @property
    def fraction(self) -> float:
        """Overall progress, 0 to 1, each phase weighing the same."""
        phases = self.phases or _fresh()
        return sum(phase.fraction for phase in phases) / len(phases)


def _bar(fraction: float, variable: str) -> Content:
    filled = round(fraction * BAR_WIDTH)
    return Content.assemble(("━" * filled, variable), ("─" * (BAR_WIDTH - filled),
                                                       "$foreground-muted"))


def render_progress(state: ProgressState) -> Content:
    """The title, a line per phase with a bar and counts, and the tool's latest line."""
    lines = [Content.assemble((state.title, "bold"), ("  ", ""),
                              (f"{round(state.fraction * 100)}%", "$accent"))]
    for phase in state.phases or _fresh():
        if phase.finished:
            icon, variable = "✔", "$success"
        elif phase.started:
            icon, variable = "◐", "$accent"
        else:
            icon, variable = "○", "$foreground-muted"
        count = f"{phase.done}/{phase.total}" if phase.total else ("…" if phase.started else "")
        lines.append(Content.assemble(
            (f"{icon} ", variable), (f"{phase.name:<12}", ""), _bar(phase.fraction, variable),
            ("  " + count, "$foreground-muted"),
        ))
    detail = " ".join(state.detail.split())
    if len(detail) > DETAIL_WIDTH:
        detail = detail[: DETAIL_WIDTH - 1] + "…"
    lines.append(Content.styled(detail, "$foreground-muted"))
    return Content("\n").join(lines)


class InstallProgress(TextBox):
    """The progress box of the Packages pane; hidden while nothing runs."""

    DEFAULT_CSS = """
    InstallProgress {
        display: none;
        height: auto;
        padding: 0 1;
        border-top: solid $foreground 20%;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.state: ProgressState | None = None

    def show_state(self, state: ProgressState | None) -> None:
        """Draw ``state``; None hides the box."""
        if state == self.state:
            return
        self.state = state
        self.display = state is not None
        if state is not None:
            self.show(render_progress(state))

    @property
    def text(self) -> str:
        """The plain text shown (tests)."""
        return render_progress(self.state).plain if self.state else ""
