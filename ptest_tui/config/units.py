"""Parsing the units of the ``[monitor]`` settings: durations, percents and sizes.

Each parser returns the normalised value or raises :class:`UsageError` whose message names
the value and, when the number carries a unit that does not fit, that unit, so a mistake
such as ``memory = "80 percent"`` or ``interval = "5 parsecs"`` says exactly what is wrong.
"""

from __future__ import annotations

import math
import re

from ptest_tui.errors import UsageError

_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z%]*)\s*$")
_SECONDS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0}
_SIZES = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
SIZE_UNITS = "b, k, m, g or t (also kb, MiB and the like)"


def _split(value: object, what: str, example: str) -> tuple[float, str, str]:
    """``(number, unit in lower case, unit as written)`` from a number or ``"1.5s"``."""
    if isinstance(value, bool):
        raise UsageError(f"invalid {what} {value!r}", f"use a value such as {example}")
    if isinstance(value, int | float):
        number, written = float(value), ""
    else:
        match = _NUMBER_UNIT.match(str(value))
        if not match:
            raise UsageError(f"invalid {what} {value!r}", f"use a value such as {example}")
        number, written = float(match.group(1)), match.group(2)
    if not math.isfinite(number) or number < 0:
        raise UsageError(f"invalid {what} {value!r}", f"use a value such as {example}")
    return number, written.lower(), written


def parse_seconds(value: object, *, minimum: float = 0.0, maximum: float = math.inf) -> float:
    """A duration in seconds: ``1``, ``0.5``, ``"500ms"``, ``"10m"`` or ``"1h"``."""
    number, unit, written = _split(value, "duration", '1, "500ms" or "10m"')
    if unit not in _SECONDS:
        raise UsageError(
            f"invalid duration {value!r}: unknown unit {written!r}",
            "use seconds (a number, or with s), ms, m (minutes) or h",
        )
    seconds = number * _SECONDS[unit]
    if seconds < minimum or seconds > maximum:
        raise UsageError(
            f"duration {value!r} is out of range",
            f"use between {minimum:g} and {maximum:g} seconds",
        )
    return seconds


def parse_size(value: object) -> int:
    """A size in bytes: ``1073741824``, ``"512m"``, ``"2g"``, ``"256MiB"``; never a percent."""
    number, unit, written = _split(value, "size", '"512m" or "2g"')
    if unit == "%":
        raise UsageError(
            f"invalid size {value!r}: a percent is not a size here", 'use a size such as "2g"'
        )
    key = unit[:-1] if unit.endswith("b") and len(unit) > 1 else unit
    key = key[:-1] if key.endswith("i") else key
    if key not in _SIZES:
        raise UsageError(
            f"invalid size {value!r}: unknown unit {written!r}", f"use {SIZE_UNITS}"
        )
    return int(number * _SIZES[key])


def parse_percent(value: object, *, maximum: float = math.inf) -> float:
    """A percent: ``90``, ``"90"`` or ``"90%"`` (0 turns a threshold off)."""
    number, unit, written = _split(value, "percent", '90 or "90%"')
    if unit not in ("", "%"):
        raise UsageError(
            f"invalid percent {value!r}: unit {written!r} is not a percent", 'use 90 or "90%"'
        )
    if number > maximum:
        raise UsageError(f"percent {value!r} is above {maximum:g}", f"use 0 to {maximum:g}")
    return number


def parse_memory_threshold(value: object) -> int | str:
    """A memory threshold: a size (bytes as an int) or a percent kept as ``"80%"``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        percent = parse_percent(value, maximum=100.0)
        return f"{percent:g}%"
    try:
        return parse_size(value)
    except UsageError as exc:
        raise UsageError(
            exc.message.replace("invalid size", "invalid memory threshold"),
            f'use a size such as "512m" ({SIZE_UNITS}), or a percent such as "80%"',
        ) from None
