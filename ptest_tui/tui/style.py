"""Status icons and theme colors shared by the widgets.

Rich renderables (DataTable cells, RichLog lines) need concrete colors, so theme variables
are resolved here; widgets re-render when the theme changes. Textual ``Content`` (the
detail panel) uses ``$variables`` directly and follows theme changes by itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual.app import App
from textual.color import Color


@dataclass(frozen=True)
class StatusLook:
    """How one environment status is drawn: an icon and a theme color variable."""

    icon: str
    variable: str


STATUS_LOOKS: dict[str, StatusLook] = {
    "ready": StatusLook("●", "success"),
    "creating": StatusLook("◐", "warning"),
    "busy": StatusLook("◑", "accent"),
    "broken": StatusLook("✖", "error"),
    "deleting": StatusLook("◌", "warning"),
    "declared": StatusLook("○", "foreground-muted"),
}
UNKNOWN_LOOK = StatusLook("?", "foreground-muted")


def status_look(status: str) -> StatusLook:
    """The icon and color variable for ``status``."""
    return STATUS_LOOKS.get(status, UNKNOWN_LOOK)


def theme_color(app: App[object], variable: str) -> str:
    """A theme variable as an opaque ``#RRGGBB`` (translucent colors blended on the background)."""
    variables = app.theme_variables
    value = variables.get(variable) or variables.get("foreground", "#FFFFFF")
    color = Color.parse(value)
    if color.a < 1:
        color = Color.parse(variables.get("background", "#000000")) + color
    return color.hex6


def clock(at: float) -> str:
    """A Unix time as local ``HH:MM:SS`` for log lines."""
    return time.strftime("%H:%M:%S", time.localtime(at))


def stamp(at: float) -> str:
    """A Unix time as local ``YYYY-MM-DD HH:MM:SS`` for the detail panel."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
