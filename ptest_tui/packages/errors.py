"""Turn a failed uv or pip run into one clear, redacted error.

The tools' own words are kept in ``details`` (``--debug`` shows them); the message is one
line naming what went wrong: the package that does not exist, the conflicting
requirements and who asked for them, or the index that could not be reached.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ptest_tui.errors import (
    PackageConflictError,
    PackageError,
    PackageUsageError,
    PtestError,
)
from ptest_tui.packages.index import IndexConfig, redact

_NETWORK = re.compile(
    r"Failed to fetch|error sending request|Connection refused|tcp connect error|dns error"
    r"|Failed to establish a new connection|Max retries exceeded|Name or service not known"
    r"|Temporary failure in name resolution|Network is unreachable|timed out",
    re.IGNORECASE,
)
_UV_NOT_FOUND = re.compile(
    r"Because (\S+?)(?:\[[^\]]*\])? was not found in the (?:provided package locations|package"
    r" registry|cache)"
)
_UV_NO_VERSION = re.compile(r"Because there (?:is|are) no versions? of (\S+)")
_PIP_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")
_OFFLINE = re.compile(r"network connectivity is disabled|--offline", re.IGNORECASE)
_AUTH = re.compile(r"401 Unauthorized|403 Forbidden|status code 401|status code 403", re.I)


class IndexUnreachableError(PackageError):
    """The package index could not be reached (exit code 3)."""


def _cause_text(lines: Sequence[str]) -> str:
    """The explanation uv gives after ``error:``, as one whitespace-collapsed string."""
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), 0)
    text = " ".join(line.strip() for line in lines[start:])
    text = re.sub(r"^error:\s*No solution found when resolving dependencies:?\s*", "", text)
    text = re.sub(r"\bcause:\s*", "", text)
    return re.sub(r"\s+", " ", text).strip()


def conflict_summary(lines: Sequence[str], pins: Sequence[str] = ()) -> str:
    """The first reason of a resolver failure, trimmed to one line."""
    text = _cause_text(lines)
    first = re.split(r",? we can conclude that", text, maxsplit=1)[0]
    first = re.sub(r"^Because\s+", "", first).strip()
    mentioned = [pin for pin in pins if pin in text]
    summary = first or "the requirements cannot be satisfied together"
    if mentioned:
        summary += f" (the env has {', '.join(mentioned)} installed)"
    return summary


def classify(
    tool: str,
    lines: Sequence[str],
    *,
    env: str,
    action: str,
    index: IndexConfig,
    requested: Sequence[str] = (),
    pins: Sequence[str] = (),
) -> PtestError:
    """The error a failed tool run stands for; ``lines`` are its (redacted) output."""
    lines = [redact(line) for line in lines]
    details = "\n".join(lines)
    where = index.describe()
    if tool == "uv":
        missing = _UV_NOT_FOUND.search(details) or _UV_NO_VERSION.search(details)
    else:
        missing = _PIP_NOT_FOUND.search(details)
    network = _NETWORK.search(details)
    if network and not (tool == "uv" and missing):
        return IndexUnreachableError(
            f"cannot reach the package index ({where}) to {action} in {env}",
            "check the URL and your network, or work offline: set packages.offline = true"
            " with packages.find_links pointing at a folder of wheels",
        )
    if _AUTH.search(details):
        return PackageError(
            f"the package index refused access ({where})",
            "check the credentials in packages.index_url",
        )
    if missing:
        name = missing.group(1).rstrip(",.")
        offline = " (offline: only the cache and find-links are searched)" if index.offline else ""
        return PackageUsageError(
            f"package {name!r} was not found in {where}{offline}",
            "check the name and version; `pkg list` shows what is installed",
        )
    if "No solution found" in details or "ResolutionImpossible" in details or (
        "conflicting dependencies" in details
    ):
        if tool == "uv":
            summary = conflict_summary(lines, pins)
        else:
            caused = [
                line.strip() for line in lines if re.match(r"^\s+\S+ \S+ depends on ", line)
            ]
            summary = "; ".join(caused) or "the requirements conflict"
        asked = f" (you asked for {', '.join(requested)})" if requested else ""
        error = PackageConflictError(
            f"cannot {action} in {env}: {summary}{asked}",
            "change the requested versions, or pass --upgrade to let installed packages move;"
            " nothing was installed",
            details=details,
        )
        return error
    last = next(
        (line.strip() for line in reversed(lines) if line.strip().lower().startswith("error")),
        next((line.strip() for line in reversed(lines) if line.strip()), "no output"),
    )
    return PackageError(
        f"{tool} failed to {action} in {env}: {last}", "run with --debug for the tool's output"
    )
