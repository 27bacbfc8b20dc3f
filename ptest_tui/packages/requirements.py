"""Requirement strings and requirements files, validated before anything is installed.

Files follow the pip format as far as ptest-tui needs it: comments, blank lines, line
continuations, nested ``-r``/``-c`` (relative to the including file) and per-line options
such as ``--hash`` (kept, so hash-checking files still work). Errors name ``file:line``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ptest_tui.errors import UsageError

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_HASH_RE = re.compile(r"--hash[=\s]+(\S+)")
MAX_DEPTH = 20


@dataclass(frozen=True)
class RequirementLine:
    """One requirement: its text, parsed name, hashes and where it came from."""

    text: str
    name: str  # canonical (PEP 503) name
    hashes: tuple[str, ...] = ()
    origin: str = ""  # "file:line" or "" for the command line


def parse_requirement(text: str, origin: str = "") -> RequirementLine:
    """Validate one PEP 508 requirement; UsageError naming it (and ``origin``) if bad."""
    text = text.strip()
    where = f"{origin}: " if origin else ""
    if not text:
        raise UsageError(f"{where}empty requirement", "use a name with an optional version")
    if text.startswith("-"):
        raise UsageError(
            f"{where}unsupported option {text.split()[0]!r} in a requirement",
            "give requirement names (attrs>=23); use -r FILE for requirements files",
        )
    try:
        parsed = Requirement(text)
    except InvalidRequirement as exc:
        detail = str(exc).splitlines()[0]
        raise UsageError(
            f"{where}malformed requirement {text!r} ({detail})",
            "use a name with an optional version: attrs>=23",
        ) from None
    return RequirementLine(text, canonicalize_name(parsed.name), (), origin)


def _logical_lines(path: Path) -> Iterable[tuple[int, str]]:
    """Lines with continuations joined and comments removed, with their first number."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"requirements file {path} does not exist", "check the path given to -r"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read requirements file {path}: {exc}", "check the file") from None
    pending = ""
    start = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = _COMMENT_RE.sub("", pending + line).strip()
        pending = ""
        if text:
            yield start, text
    if pending.strip():
        yield start, _COMMENT_RE.sub("", pending).strip()


def read_requirements_file(
    path: str | Path, *, _depth: int = 0, _seen: frozenset[Path] = frozenset()
) -> list[RequirementLine]:
    """All requirements of a file and the files it includes, in order."""
    file = Path(path).expanduser()
    resolved = file.resolve()
    if resolved in _seen or _depth > MAX_DEPTH:
        raise UsageError(f"requirements file {file} includes itself", "remove the -r cycle")
    seen = _seen | {resolved}
    found: list[RequirementLine] = []
    for number, text in _logical_lines(file):
        origin = f"{file}:{number}"
        include = re.match(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)$", text)
        if include:
            if include.group(1) in ("-c", "--constraint"):
                raise UsageError(
                    f"{origin}: constraints files are not supported", "use -r or pin versions"
                )
            nested = file.parent / include.group(2)
            if not nested.exists():
                raise UsageError(
                    f"{origin}: requirements file {nested} does not exist",
                    "fix the -r line (paths are relative to the including file)",
                )
            found += read_requirements_file(nested, _depth=_depth + 1, _seen=seen)
            continue
        if text.startswith(("-i ", "--index-url", "--extra-index-url", "-f ", "--find-links")):
            raise UsageError(
                f"{origin}: index options in requirements files are not used",
                "set [packages] index_url / find_links in ptest.toml instead",
            )
        hashes = tuple(_HASH_RE.findall(text))
        requirement = _HASH_RE.sub("", text).strip()
        line = parse_requirement(requirement, origin)
        found.append(RequirementLine(line.text, line.name, hashes, origin))
    return found


def collect(requirements: Iterable[str], files: Iterable[str | Path]) -> list[RequirementLine]:
    """Command-line requirements plus those of every file; one UsageError for the first bad."""
    lines = [parse_requirement(text) for text in requirements]
    for file in files:
        lines += read_requirements_file(file)
    return lines


def as_file_text(lines: Iterable[RequirementLine]) -> str:
    """A requirements file holding ``lines`` (hashes kept), for handing to the tools."""
    out: list[str] = []
    for line in lines:
        out.append(line.text + "".join(f" --hash={h}" for h in line.hashes))
    return "\n".join(out) + "\n"
