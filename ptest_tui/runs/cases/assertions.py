"""Assertions shared by the command, http and sql case kinds.

Every check returns None when it holds, or one message naming the assertion and saying
what was expected and what came: ``status: expected 200, got 503``. A case runs all its
checks and reports every failure (:class:`Checks`), not just the first. Long actual values
are cut in messages (the full output is in the result's stdout/stderr).

Also here: the minimal JSON path the http kind uses (``$``, ``.key``, ``[N]``,
``["odd key"]``; nothing more), strict JSON value comparison (``true`` is not ``1``) and
the SQL cell normalisation (numbers compared by value, NULL as ``NULL``).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

PREVIEW_CHARS = 200  # of an actual value quoted in a message
NULL = "NULL"


class Checks:
    """Collects failure messages of one case run."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def add(self, failure: str | None) -> None:
        """Record ``failure`` (None: the check held)."""
        if failure:
            self.failures.append(failure)

    @property
    def passed(self) -> bool:
        """True while nothing failed."""
        return not self.failures

    @property
    def message(self) -> str:
        """Every failure, one per line."""
        return "\n".join(self.failures)


# -- showing values ------------------------------------------------------------------------


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """``text`` quoted, cut to ``limit`` characters with a "(truncated)" note."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}(truncated, {len(text)} characters)"


def show(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """A JSON-like rendering (strings quoted, so ``"3"`` and ``3`` differ), cut if long."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=json_default)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...(truncated, {len(text)} characters)"


def json_default(value: Any) -> Any:
    """JSON text for values json cannot encode (TOML dates and times, decimals)."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


# -- generic checks ------------------------------------------------------------------------


def expect_equal(name: str, expected: Any, got: Any) -> str | None:
    """``got`` equals ``expected`` (strictly: booleans are not numbers)."""
    if values_equal(expected, got):
        return None
    return f"{name}: expected {show(expected)}, got {show(got)}"


def expect_one_of(name: str, allowed: Sequence[Any], got: Any) -> str | None:
    """``got`` is one of ``allowed`` (a single value reads "expected 200")."""
    if any(values_equal(item, got) for item in allowed):
        return None
    if len(allowed) == 1:
        return expect_equal(name, allowed[0], got)
    wanted = ", ".join(show(item) for item in allowed)
    return f"{name}: expected one of {wanted}, got {show(got)}"


def expect_contains(name: str, needle: str, text: str, seen_elsewhere: bool = False) -> str | None:
    """``needle`` occurs in ``text`` (or was seen in output that was not kept)."""
    if seen_elsewhere or needle in text:
        return None
    return f"{name}: expected to contain {needle!r}, got {preview(text)}"


def expect_regex(name: str, pattern: str, text: str, seen_elsewhere: bool = False) -> str | None:
    """``pattern`` matches somewhere in ``text`` (``^``/``$`` match at line ends)."""
    if seen_elsewhere or re.search(pattern, text, re.MULTILINE):
        return None
    return f"{name}: expected to match {pattern!r}, got {preview(text)}"


def expect_text(name: str, expected: str, text: str) -> str | None:
    """``text`` equals ``expected``, ignoring trailing newlines on both."""
    if text.rstrip("\r\n") == expected.rstrip("\r\n"):
        return None
    return f"{name}: expected {preview(expected)}, got {preview(text)}"


def expect_at_most_seconds(limit: float, seconds: float, name: str = "duration") -> str | None:
    """It took no longer than ``limit`` seconds."""
    if seconds <= limit:
        return None
    return f"{name}: expected at most {limit:g} s, got {seconds:.3g} s"


def expect_at_most_ms(limit_ms: float, seconds: float, name: str = "duration") -> str | None:
    """It took no longer than ``limit_ms`` milliseconds."""
    elapsed = seconds * 1000
    if elapsed <= limit_ms:
        return None
    return f"{name}: expected at most {limit_ms:g} ms, got {elapsed:.0f} ms"


def values_equal(expected: Any, got: Any) -> bool:
    """Equality of TOML/JSON values where ``true`` is not ``1`` and ``1`` equals ``1.0``."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return expected == got
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        return len(expected) == len(got) and all(
            values_equal(e, g) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(
            values_equal(expected[k], got[k]) for k in expected
        )
    if isinstance(expected, datetime.date | datetime.time) and isinstance(got, str):
        return expected.isoformat() == got  # TOML dates against JSON strings
    return type(expected) is type(got) and bool(expected == got)


# -- JSON path -----------------------------------------------------------------------------

_STEP = re.compile(
    r"""\.(?P<key>[^.\[\]]+)          # .key
      | \[(?P<index>-?\d+)\]          # [0], [-1]
      | \[(?P<q>["'])(?P<quoted>.*?)(?P=q)\]  # ["odd.key"]
    """,
    re.VERBOSE,
)


class JsonPathError(ValueError):
    """A JSON path this minimal syntax does not read."""


def parse_json_path(path: str) -> tuple[str | int, ...]:
    """``$.items[0].id`` as its steps: ``("items", 0, "id")``."""
    if not path.startswith("$"):
        raise JsonPathError(f"JSON path {path!r} must start with $ (like $.items[0].id)")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise JsonPathError(
                f"JSON path {path!r}: cannot read {path[position:]!r}"
                " (use .key, [index] or [\"key\"])"
            )
        if match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(match.group("key") or match.group("quoted"))
        position = match.end()
    return tuple(steps)


def format_json_path(steps: Sequence[str | int]) -> str:
    """The path text of ``steps`` (the inverse of :func:`parse_json_path`)."""
    parts = ["$"]
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif re.fullmatch(r"[^.\[\]]+", step):
            parts.append(f".{step}")
        else:
            parts.append(f"[{json.dumps(step)}]")
    return "".join(parts)


def resolve_json_path(document: Any, steps: Sequence[str | int]) -> tuple[bool, Any, str]:
    """``(found, value, why)``: the value at ``steps``, or why there is none."""
    value = document
    for depth, step in enumerate(steps):
        here = format_json_path(steps[:depth])
        if isinstance(step, int):
            if not isinstance(value, list):
                return False, None, f"{here} is {_json_type(value)}, not an array"
            if not -len(value) <= step < len(value):
                count = len(value)
                return False, None, f"{here} has {count} item{'s' if count != 1 else ''}"
            value = value[step]
        else:
            if not isinstance(value, dict):
                return False, None, f"{here} is {_json_type(value)}, not an object"
            if step not in value:
                return False, None, f"{here} has no key {step!r}"
            value = value[step]
    return True, value, ""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def expect_json(path: str, expected: Any, document: Any) -> str | None:
    """The value at JSON path ``path`` of ``document`` equals ``expected``."""
    found, value, why = resolve_json_path(document, parse_json_path(path))
    if not found:
        return f"json {path}: expected {show(expected)}, got nothing ({why})"
    return expect_equal(f"json {path}", expected, value)


# -- SQL cells -----------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE, _FALSE = frozenset({"true", "t", "1"}), frozenset({"false", "f", "0"})


def normalise_cell(value: Any) -> str:
    """A cell as comparable text: NULL as ``NULL``, numbers by value (``1.50`` -> ``1.5``)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    text = str(value)
    if isinstance(value, int | float | Decimal) or _NUMBER.fullmatch(text):
        return _canonical_number(text)
    return text


def _canonical_number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text  # nan, inf: compare as written
    if not number.is_finite():
        return text
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def cells_equal(expected: Any, got: Any) -> bool:
    """A configured cell matches a result cell (``true`` matches t, true and 1)."""
    if isinstance(expected, bool):
        return normalise_cell(got).lower() in (_TRUE if expected else _FALSE)
    return normalise_cell(expected) == normalise_cell(got)


def show_rows(rows: Sequence[Sequence[Any]], limit: int = PREVIEW_CHARS) -> str:
    """Rows as ``[[1, "a"], [2, NULL]]`` (normalised cells), cut if long."""
    text = "[" + ", ".join(
        "[" + ", ".join(_show_cell(cell) for cell in row) + "]" for row in rows
    ) + "]"
    return text if len(text) <= limit else text[:limit] + f"...(truncated, {len(rows)} rows)"


def _show_cell(cell: Any) -> str:
    # Bare for NULL, booleans and numbers (however they came: psql gives text), quoted
    # otherwise, so a stray space or an empty string shows.
    text = normalise_cell(cell)
    if cell is None or isinstance(cell, bool) or _NUMBER.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def expect_rows(expected: Sequence[Sequence[Any]], got: Sequence[Sequence[Any]]) -> str | None:
    """The result rows equal ``expected``, cell by cell, in order."""
    same = len(expected) == len(got) and all(
        len(e) == len(g) and all(cells_equal(x, y) for x, y in zip(e, g, strict=True))
        for e, g in zip(expected, got, strict=True)
    )
    if same:
        return None
    return f"rows: expected {show_rows(expected)}, got {show_rows(got)}"


def expect_scalar(expected: Any, rows: Sequence[Sequence[Any]]) -> str | None:
    """The first column of the first row equals ``expected``."""
    if not rows or not rows[0]:
        return f"scalar: expected {_show_cell(expected)}, got no rows"
    if cells_equal(expected, rows[0][0]):
        return None
    return f"scalar: expected {_show_cell(expected)}, got {_show_cell(rows[0][0])}"
