"""Reports of a run: JSON for tools, JUnit XML for CI servers, one HTML page for people.

:func:`write_reports` is the entry point. Every text is redacted first (see
:mod:`ptest_tui.reports.redact`); docs/reports.md describes the formats.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ptest_tui.errors import PtestError, UsageError
from ptest_tui.reports.html_report import render_html
from ptest_tui.reports.json_report import render_json
from ptest_tui.reports.junit import render_junit
from ptest_tui.reports.plugin_formats import Reporter, render_plugin_format
from ptest_tui.reports.prepare import PreparedReport, prepare_report
from ptest_tui.reports.redact import find_secrets, redact_text
from ptest_tui.runs.model import CaseResult, RunRecord

__all__ = [
    "FILE_NAMES",
    "FORMATS",
    "ReportWriteError",
    "Reporter",
    "find_secrets",
    "redact_text",
    "render_report",
    "write_reports",
]

# Format -> file name in the output folder. Fixed names, so CI configuration can point at
# them ("junit.xml") without knowing the run id.
FILE_NAMES = {"json": "report.json", "junit": "junit.xml", "html": "report.html"}
FORMATS = tuple(FILE_NAMES)

_RENDERERS: dict[str, Callable[[PreparedReport], bytes]] = {
    "json": render_json,
    "junit": render_junit,
    "html": render_html,
}


class ReportWriteError(PtestError):
    """A report file could not be written (folder not writable, disk full)."""


def _check_formats(
    formats: Sequence[str], reporters: Mapping[str, Reporter] | None = None
) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]  # "html" is a sequence of one-letter formats otherwise
    plugin_formats = reporters or {}  # formats from plugins (ptest_register_reporters)
    unknown = [f for f in formats if f not in FILE_NAMES and f not in plugin_formats]
    if unknown:
        raise UsageError(
            f"unknown report format{'s' if len(unknown) > 1 else ''}: "
            + ", ".join(repr(f) for f in unknown),
            hint="valid formats: " + ", ".join((*FORMATS, *plugin_formats)),
        )
    return list(dict.fromkeys(formats))  # each format once, in the order asked


def render_report(
    run: RunRecord,
    results: Sequence[CaseResult],
    fmt: str,
    reporters: Mapping[str, Reporter] | None = None,
) -> bytes:
    """One report as bytes (what :func:`write_reports` writes), for callers that stream."""
    (checked,) = _check_formats([fmt], reporters)
    if checked not in _RENDERERS and reporters:
        data = render_plugin_format(reporters[checked], prepare_report(run, results))
        if data is None:
            raise ReportWriteError(f"report format {checked!r} failed", "see the warning above")
        return data
    return _RENDERERS[checked](prepare_report(run, results))


def _write_atomic(path: Path, data: bytes) -> None:
    # A reader (a CI step, a browser reloading) sees the old file or the new one, never
    # half of one; a failed write leaves no temp file behind.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes 0600; reports are meant to be shared
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_reports(
    run: RunRecord,
    results: Sequence[CaseResult],
    formats: Sequence[str],
    out_dir: Path,
    reporters: Mapping[str, Reporter] | None = None,
) -> list[Path]:
    """Write ``run``'s reports in ``formats`` ("json", "junit", "html") into ``out_dir``.

    Every format is checked (UsageError naming the valid ones) and every report rendered
    before the first file is written; each file is replaced atomically. ``out_dir`` is
    created if missing. Returns the written paths in the order of ``formats``.

    ``reporters`` adds plugin formats (``session.reporters``); one whose plugin raises is
    logged and left out, and the others are still written.
    """
    checked = _check_formats(formats, reporters)
    if not checked:
        return []
    report = prepare_report(run, results)
    rendered: list[tuple[Path, bytes]] = []
    for fmt in checked:
        if fmt in _RENDERERS:
            rendered.append((out_dir / FILE_NAMES[fmt], _RENDERERS[fmt](report)))
        elif reporters and (data := render_plugin_format(reporters[fmt], report)) is not None:
            rendered.append((out_dir / reporters[fmt].file_name, data))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path, data in rendered:
            _write_atomic(path, data)
    except OSError as exc:
        raise ReportWriteError(
            f"cannot write reports to {out_dir}: {exc.strerror or exc}",
            hint="choose a writable folder for the reports",
        ) from exc
    return [path for path, _ in rendered]
