"""Short human renderings of sizes, rates and percents (tables, alerts, plain lines)."""

from __future__ import annotations

_STEPS = (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024))


def human_bytes(amount: float | None) -> str:
    """``512.0M``, ``1.5G``, ``730B``; ``-`` when unknown."""
    if amount is None:
        return "-"
    for suffix, size in _STEPS:
        if abs(amount) >= size:
            return f"{amount / size:.1f}{suffix}"
    return f"{amount:.0f}B"


def human_rate(amount: float | None) -> str:
    """Bytes per second: ``1.2M/s``; ``-`` when unknown."""
    return "-" if amount is None else f"{human_bytes(amount)}/s"


def human_percent(value: float | None) -> str:
    """``97.5%``; ``-`` when unknown."""
    return "-" if value is None else f"{value:.1f}%"
