"""The numbers of a chart: sizes, percentages and durations in a few cells, round scales."""

from __future__ import annotations

import math

# Scale tops are a step times a power of ten (of 1024 for sizes): 600M, 1.2G, 250%.
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def short_size(value: float) -> str:
    """A size in at most five cells: ``730B``, ``9.5M``, ``600M``, ``1.2G``."""
    for suffix, size in (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}B"


def format_value(value: float, unit: str) -> str:
    """A value for titles: ``97%``, ``4.5%``, ``1.2G``, ``300K/s``."""
    if unit == "percent":
        return f"{value:.1f}%" if abs(value) < 10 else f"{value:.0f}%"
    return short_size(value) + ("/s" if unit == "rate" else "")


def scale_label(value: float, unit: str) -> str:
    """A value for the scale (the unit of rates is in the title)."""
    if unit == "percent":
        return f"{value:.0f}%"
    return "0" if value == 0 else short_size(value)


def short_duration(seconds: float) -> str:
    """``45s``, ``10m``, ``1.5h``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.3g}h"
    if seconds >= 60:
        return f"{seconds / 60:.3g}m"
    return f"{seconds:.3g}s"


def nice_ceiling(value: float, binary: bool = False) -> float:
    """The smallest round number at or above ``value`` (round in 1024s for sizes)."""
    if value <= 0:
        return 1.0
    base = 1.0
    if binary:
        while value >= base * 1024:
            base *= 1024
    scaled = value / base
    magnitude = 10.0 ** math.floor(math.log10(scaled))
    for step in NICE_STEPS:
        if step * magnitude >= scaled * (1 - 1e-9):
            return step * magnitude * base
    return 10 * magnitude * base  # pragma: no cover - NICE_STEPS ends at 10
