"""What every report format starts from: redacted results, a summary and text helpers.

:func:`prepare_report` redacts every text of a run and its results once, so each writer
works on values that are safe to show; writers then only escape and shape them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ptest_tui.reports.redact import find_secrets, redact_text
from ptest_tui.runs.model import (
    CANCELLED,
    ERROR,
    FAILED,
    OUTCOMES,
    PASSED,
    SKIPPED,
    XFAILED,
    XPASSED,
    CaseResult,
    RunRecord,
)

# Text fields of a result that came from the case (or from names people chose): the ones
# redaction and cleaning apply to.
RESULT_TEXT_FIELDS = ("suite", "env", "case", "parent", "message", "stdout", "stderr")

# ANSI escape sequences (colours, cursor moves) from tools that colour their output: in a
# file they are noise, and removing only their ESC byte would leave "[31m" behind.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Everything XML 1.0 forbids (NUL and the other C0 controls, lone surrogates, U+FFFE/F)
# plus DEL and the C1 controls, which HTML treats as parse errors and CI tools choke on.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_FORBIDDEN_RE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def scrub_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (from ``surrogateescape`` decoding) as U+FFFD.

    They cannot be encoded as UTF-8, so a report holding one could not be written at all.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub("\ufffd", text)
    return text


def clean_text(text: str) -> str:
    """``text`` fit for XML and HTML: ANSI sequences and forbidden characters removed."""
    if not text:
        return text
    if "\x1b" in text:
        text = _ANSI_RE.sub("", text)
    return _FORBIDDEN_RE.sub("", text)


def cap_text(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and (mostly) its end.

    The end matters most in captured output: tracebacks and assertion messages come last.
    """
    if limit <= 0 or len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    omitted = len(text) - head - tail
    return (
        f"{text[:head]}\n… [{omitted} characters omitted; the JSON report has the full text]"
        f" …\n{text[-tail:]}"
    )


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


_PYTEST_ERROR_LINE_RE = re.compile(r"^E\s+(\S.*)$", re.MULTILINE)


def headline(message: str, limit: int = 200) -> str:
    """The line of a failure ``message`` that says what went wrong.

    pytest's failure text starts with the test's source and marks the explanation with
    ``E``; its first such line ("AssertionError: assert 2 == 3") is the headline then.
    """
    match = _PYTEST_ERROR_LINE_RE.search(message)
    return first_line(match.group(1), limit) if match else first_line(message, limit)


@dataclass(frozen=True)
class Summary:
    """Counts and times of a set of results."""

    counts: dict[str, int]  # every outcome of OUTCOMES, zeros included
    total: int
    duration: float  # the run's wall-clock seconds (0 while it runs)
    case_duration: float  # sum of the results' durations
    flaky: int

    @property
    def failing(self) -> int:
        """Results that make a run fail (failed and error)."""
        return self.counts[FAILED] + self.counts[ERROR]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the ``summary`` object of the JSON report)."""
        return {
            "counts": dict(self.counts),
            "total": self.total,
            "duration": self.duration,
            "case_duration": self.case_duration,
            "flaky": self.flaky,
        }


def summarize(run: RunRecord, results: Sequence[CaseResult]) -> Summary:
    """The :class:`Summary` of ``results`` (counts come from the results, not run.counts)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        # An outcome this version does not know still counts in the total; writers show
        # it as an error (see outcome_group), so it cannot pass unnoticed.
        counts[result.status if result.status in counts else ERROR] += 1
    return Summary(
        counts=counts,
        total=len(results),
        duration=max(run.duration, 0.0),
        case_duration=sum(max(r.duration, 0.0) for r in results),
        flaky=sum(1 for r in results if r.flaky),
    )


def outcome_group(status: str) -> str:
    """How a report format shows ``status``: passed, failed, error or skipped."""
    if status in (PASSED, XPASSED):
        return PASSED  # an xpass that should fail is reported as failed by pytest itself
    if status in (SKIPPED, XFAILED, CANCELLED):
        return SKIPPED
    if status == FAILED:
        return FAILED
    return ERROR


@dataclass(frozen=True)
class PreparedReport:
    """A run and its results with every text redacted: what the writers render."""

    run: RunRecord
    results: tuple[CaseResult, ...]
    summary: Summary


def _seconds(value: float) -> float:
    # A NaN or negative time (a clock step) would make invalid JSON or a negative bar.
    return value if math.isfinite(value) and value >= 0 else 0.0


def _texts(run: RunRecord, results: Sequence[CaseResult]) -> list[str]:
    texts = [run.message, *run.selection, *run.envs]
    for result in results:
        texts.extend(getattr(result, name) for name in RESULT_TEXT_FIELDS)
    return texts


def prepare_report(run: RunRecord, results: Sequence[CaseResult]) -> PreparedReport:
    """Redact (and make encodable) every text of ``run`` and ``results``."""
    secrets = find_secrets(_texts(run, results))

    def safe(text: str) -> str:
        return redact_text(scrub_surrogates(text), secrets)

    safe_run = replace(
        run,
        message=safe(run.message),
        selection=tuple(safe(s) for s in run.selection),
        envs=tuple(safe(e) for e in run.envs),
    )
    safe_results = tuple(
        replace(
            r,
            suite=safe(r.suite),
            env=safe(r.env),
            case=safe(r.case),
            parent=safe(r.parent),
            message=safe(r.message),
            stdout=safe(r.stdout),
            stderr=safe(r.stderr),
            duration=_seconds(r.duration),
            started_at=_seconds(r.started_at),
        )
        for r in results
    )
    return PreparedReport(safe_run, safe_results, summarize(safe_run, safe_results))
