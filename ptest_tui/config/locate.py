"""Find the line of a key in a TOML file, so config errors can say where to look.

Best effort and small on purpose: it follows ``[table]`` headers and ``key =`` lines (also
dotted keys and quoted names), which covers how ptest.toml is written; when it cannot
tell, messages simply go without a line number.
"""

from __future__ import annotations

import re

HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")
KEY_PATH = re.compile(r"\b([A-Za-z_][\w\-]*(?:\.[A-Za-z_\"'][\w\-\"' ]*)+)")


def _parts(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in dotted.split(".") if part.strip()]


def find_line(text: str, dotted: str) -> int | None:
    """The 1-based line where ``dotted`` (``objects.db.kind``) is set or its table starts."""
    want = _parts(re.sub(r"\[\d+\]", "", dotted))
    if not want:
        return None
    table: list[str] = []
    table_line: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = HEADER.match(line)
        if header:
            table = _parts(header.group(1))
            table_line.setdefault(tuple(table), number)
            if table == want:
                return number
            continue
        assign = ASSIGN.match(line)
        if assign and table + _parts(assign.group(1)) == want:
            return number
    # The key itself is not written (a missing key): point at its table.
    for size in range(len(want) - 1, 0, -1):
        if tuple(want[:size]) in table_line:
            return table_line[tuple(want[:size])]
    return None


def with_line(message: str, text: str) -> str:
    """``message`` plus `` (line N)`` for the first key path in it that is in ``text``."""
    if re.search(r"\bline \d+", message):
        return message  # TOML syntax errors already say where
    for match in KEY_PATH.finditer(message):
        number = find_line(text, match.group(1))
        if number is not None:
            return f"{message} (line {number})"
    return message
