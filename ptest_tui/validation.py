"""Validation of user-supplied values: names, memory sizes, CPU counts.

Each function either returns the normalised value or raises :class:`UsageError` with a
message that names the bad value and says what is accepted.
"""

from __future__ import annotations

import os
import re

from ptest_tui.errors import UsageError

NAME_MAX_LENGTH = 64
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MIN_MEMORY_BYTES = 6 * 1024**2  # Docker refuses limits below 6 MiB


def validate_name(name: str, what: str = "environment") -> str:
    """Return ``name`` if it is a valid environment or object name."""
    if not name:
        raise UsageError(f"{what} name is empty", "use letters, digits, '.', '_' or '-'")
    if len(name) > NAME_MAX_LENGTH:
        raise UsageError(
            f"{what} name {name[:20]!r}... is {len(name)} characters long",
            f"use at most {NAME_MAX_LENGTH} characters",
        )
    if not _NAME_RE.match(name):
        raise UsageError(
            f"invalid {what} name {name!r}",
            "start with a letter or digit, then use only letters, digits, '.', '_' or '-'"
            " (no path separators or spaces)",
        )
    return name


def parse_memory(value: str | int) -> int:
    """Parse a memory size such as ``512m``, ``1g``, ``256MiB`` or a byte count."""
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    else:
        match = _MEMORY_RE.match(str(value))
        if not match:
            raise UsageError(
                f"invalid memory size {value!r}",
                "use a number with an optional unit: 512m, 1g, 256MiB or bytes",
            )
        number, unit = float(match.group(1)), match.group(2).lower()
        amount = int(number * _UNITS[unit])
    if amount < MIN_MEMORY_BYTES:
        raise UsageError(f"memory size {value!r} is too small", "use at least 6m")
    return amount


def format_memory(amount: int) -> str:
    """Format a byte count the way ``parse_memory`` reads it back (``512m``)."""
    for unit, size in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if amount % size == 0:
            return f"{amount // size}{unit}"
    return str(amount)


def parse_cpus(value: str | float) -> float:
    """Parse a CPU count such as ``1.5``; it must be positive and fit this machine."""
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"invalid CPU count {value!r}", "use a number such as 1 or 1.5") from None
    available = os.cpu_count() or 1
    if not 0.01 <= cpus <= available:
        raise UsageError(
            f"CPU count {value!r} is out of range",
            f"use a number between 0.01 and {available} (the CPUs of this machine)",
        )
    return cpus


def parse_pids(value: str | int) -> int:
    """Parse a process-count limit (a positive integer)."""
    try:
        pids = int(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"invalid pids limit {value!r}", "use a whole number such as 256"
        ) from None
    if pids < 1:
        raise UsageError(f"pids limit {value!r} must be positive", "use a number such as 256")
    return pids


def validate_requirement(text: str) -> str:
    """Return ``text`` if it is a valid PEP 508 requirement."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement:
        raise UsageError(
            f"malformed requirement {text!r}", "use a name with an optional version: attrs>=23"
        ) from None
    return text


def parse_port_range(value: str) -> tuple[int, int]:
    """Parse ``20000-29999`` into (first, last); both within 1024-65535, first <= last."""
    text = str(value).strip()
    first, sep, last = text.partition("-")
    if not sep or not first.strip().isdigit() or not last.strip().isdigit():
        raise UsageError(
            f"invalid port range {value!r}", "write it as FIRST-LAST, e.g. 20000-29999"
        )
    low, high = int(first), int(last)
    if not 1024 <= low <= high <= 65535:
        raise UsageError(
            f"port range {value!r} is out of bounds",
            "use ports between 1024 and 65535, the first not above the last",
        )
    return low, high
