"""The detail panel: everything known about the selected environment.

The app loads an :class:`EnvDetail` value in a worker thread (the engine status check may
talk to Docker) and hands it to :class:`EnvDetailPanel`, which only renders. Paths are shown
relative to the workspace so the panel stays readable (and screenshots stay stable).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.containers import VerticalScroll
from textual.content import Content

from ptest_tui.session import EnvView, Session
from ptest_tui.store import Transition
from ptest_tui.tui.style import clock, stamp, status_look
from ptest_tui.tui.widgets.text_box import TextBox
from ptest_tui.validation import format_memory

MUTED = "$foreground-muted"
LABEL_WIDTH = 10


@dataclass(frozen=True)
class EnvDetail:
    """A snapshot of one environment for display."""

    name: str
    status: str
    isolation: str
    reason: str
    spec: Mapping[str, Any]
    engine_state: Mapping[str, Any]
    error: str = ""
    healthy: bool | None = None  # None: not created, or the status check failed
    engine_detail: str = ""
    created_at: float = 0.0
    history: tuple[Transition, ...] = ()
    package_count: int | None = None  # installed, as last seen (store)

    @property
    def declared_only(self) -> bool:
        """True for an env that is only declared in ptest.toml."""
        return self.status == "declared"


def _relative(text: str, root: Path) -> str:
    prefix = str(root).rstrip("/") + "/"
    return text.replace(prefix, "")


def load_detail(session: Session, view: EnvView) -> EnvDetail:
    """Gather the detail of ``view`` (blocking: call from a worker thread)."""
    root = session.workspace.root
    record = view.record
    if record is None:
        declared = session.config.envs.get(view.name, {})
        return EnvDetail(view.name, "declared", view.isolation, view.reason, declared, {})
    from ptest_tui.errors import PtestError

    healthy: bool | None
    try:
        status = session.env_status(view.name)
        healthy, detail = status.healthy, status.detail
    except PtestError as exc:
        healthy, detail = None, exc.one_line()
    record = session.store.find_env(view.name) or record
    return EnvDetail(
        name=record.name,
        status=record.status,
        isolation=record.isolation,
        reason=record.reason,
        spec=record.spec,
        engine_state=record.engine_state,
        error=record.error,
        healthy=healthy,
        engine_detail=_relative(detail, root),
        package_count=record.package_count,
        created_at=record.created_at,
        history=tuple(session.store.transitions(view.name)[-12:]),
    )


def _limits(spec: Mapping[str, Any]) -> str:
    parts = []
    if spec.get("memory"):
        parts.append(f"memory {format_memory(int(spec['memory']))}")
    if spec.get("cpus"):
        parts.append(f"cpus {float(spec['cpus']):g}")
    if spec.get("pids"):
        parts.append(f"pids {spec['pids']}")
    return " · ".join(parts)


def render_detail(detail: EnvDetail, width: int = 60) -> Content:
    """The panel's content for ``detail``, with values wrapped to ``width`` columns."""
    look = status_look(detail.status)
    lines: list[Content] = [
        Content.assemble(
            (detail.name, "bold"), "  ", (f"{look.icon} {detail.status}", f"${look.variable}")
        ),
        Content(""),
    ]

    room = max(12, width - LABEL_WIDTH)

    def row(label: str, value: str, style: str = "") -> None:
        # Wrapped lines hang under the value column, so labels stay easy to scan.
        parts = textwrap.wrap(value, room, break_on_hyphens=False) or ["—"]
        for index, part in enumerate(parts):
            lead = f"{label:<{LABEL_WIDTH}}" if index == 0 else " " * LABEL_WIDTH
            lines.append(Content.assemble((lead, MUTED), (part, style)))

    spec = detail.spec
    python = detail.engine_state.get("python_version") or spec.get("python") or ""
    requested = spec.get("isolation", "auto")
    row("Isolation", f"{detail.isolation}" + (" (auto)" if requested == "auto" else ""))
    row("Why", detail.reason)
    row("Python", str(python))
    packages = spec.get("packages") or []
    if detail.package_count is not None:
        row("Installed", f"{detail.package_count} distributions (2 lists them)")
    row("Requested", ", ".join(packages) if packages else "")
    row("Limits", _limits(spec))
    if spec.get("image"):
        row("Image", str(spec["image"]))
    if spec.get("network"):
        row("Network", str(spec["network"]))
    if spec.get("description"):
        row("About", str(spec["description"]))
    if detail.declared_only:
        lines.append(Content(""))
        note = "Declared in ptest.toml but not created yet: press c to create it."
        lines.extend(Content.styled(part, MUTED) for part in textwrap.wrap(note, width))
        return Content("\n").join(lines)
    if detail.healthy is None:
        row("Engine", detail.engine_detail or "checking…", "$warning")
    else:
        icon = "✔ " if detail.healthy else "✖ "
        row("Engine", icon + detail.engine_detail, "$success" if detail.healthy else "$error")
    if detail.error:
        row("Error", detail.error, "$error")
    if detail.created_at:
        row("Created", stamp(detail.created_at))
    if detail.history:
        lines.append(Content(""))
        lines.append(Content.styled("Status history", "bold"))
        for step in detail.history:
            change = f"{step.old or '·'} → {step.new or 'gone'}"
            lines.append(
                Content.assemble(
                    (f"  {clock(step.at)}  ", MUTED),
                    (f"{change:<22}", ""),
                    (step.note, MUTED),
                )
            )
    return Content("\n").join(lines)


EMPTY_HINT = Content.assemble(
    ("No environment selected.\n\n", "bold"),
    ("Press ", MUTED), ("c", "bold $accent"), (" to create one, ", MUTED),
    ("?", "bold $accent"), (" for every key.", MUTED),
)


class EnvDetailPanel(VerticalScroll):
    """A scrollable panel showing one :class:`EnvDetail`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.detail: EnvDetail | None = None
        self._body = TextBox(EMPTY_HINT, id="detail-body")

    def compose(self) -> Any:
        """The single text body."""
        yield self._body

    def show(self, detail: EnvDetail | None) -> None:
        """Render ``detail`` (None shows the empty hint)."""
        if detail == self.detail and detail is not None:
            return
        self.detail = detail
        self._body.show(self._content())

    def _content(self) -> Content:
        width = self.scrollable_content_region.width or 60
        return render_detail(self.detail, width) if self.detail else EMPTY_HINT

    def on_resize(self) -> None:
        """Re-wrap for the new width."""
        self._body.show(self._content())

    @property
    def text(self) -> str:
        """The plain text shown (for tests and screen readers)."""
        return self._content().plain
