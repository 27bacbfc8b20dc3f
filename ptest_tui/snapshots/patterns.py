"""Include and exclude patterns for the files of a snapshot.

Patterns are globs on paths relative to the working folder, with ``/`` separators: ``*``
and ``?`` stay within one path part, ``**`` crosses folders, and ``NAME/**`` also matches
the folder ``NAME`` itself. A path is kept when an include pattern matches it and no
exclude pattern does; an excluded folder is not walked at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ptest_tui.errors import UsageError

DEFAULT_INCLUDE = ("**",)
# Caches and bytecode are rebuilt on demand; keeping them would only bloat snapshots.
DEFAULT_EXCLUDE = (".cache/**", "**/__pycache__/**", "**/*.pyc")


def _regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regex matching what ``pattern`` matches (UsageError for a bad pattern)."""
    text = pattern.strip().strip("/") if pattern.strip() not in ("/", "") else ""
    if not text or "\x00" in text or text.startswith("../") or "/../" in f"/{text}/":
        raise UsageError(
            f"invalid file pattern {pattern!r}",
            "use globs relative to the working folder, such as 'notes/**' or '*.txt'",
        )
    regex = _regex(text)
    if text.endswith("/**"):
        regex = f"{_regex(text[:-3])}(?:/.*)?"
    return re.compile(regex)


@dataclass(frozen=True)
class PathFilter:
    """Include and exclude patterns, compiled once."""

    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE

    @classmethod
    def build(cls, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> PathFilter:
        """Defaults unless patterns are given; user excludes add to the default ones."""
        result = cls(tuple(include) or DEFAULT_INCLUDE, (*DEFAULT_EXCLUDE, *exclude))
        _ = result.compiled  # raise for bad patterns now, before anything is read
        return result

    @cached_property
    def compiled(self) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
        """(include regexes, exclude regexes)."""
        return (
            tuple(compile_pattern(p) for p in self.include),
            tuple(compile_pattern(p) for p in self.exclude),
        )

    def excluded(self, path: str) -> bool:
        """Whether an exclude pattern matches ``path``."""
        return any(r.fullmatch(path) for r in self.compiled[1])

    def keeps(self, path: str) -> bool:
        """Whether the file or link at ``path`` belongs to the snapshot."""
        includes, _ = self.compiled
        return not self.excluded(path) and any(r.fullmatch(path) for r in includes)
