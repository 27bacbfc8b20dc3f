"""The JSON report: the run, a summary and every result, as documented in docs/reports.md.

The format is described by ``run-report.schema.json`` beside this module (JSON Schema
2020-12). ``version`` changes only when a field is removed or changes meaning; new fields
may appear in the same version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ptest_tui.reports.prepare import PreparedReport

SCHEMA_NAME = "ptest-tui/run-report"
SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("run-report.schema.json")


def report_data(report: PreparedReport) -> dict[str, Any]:
    """The JSON report as plain data."""
    return {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "run": report.run.to_dict(),
        "summary": report.summary.to_dict(),
        "results": [result.to_dict() for result in report.results],
    }


def render_json(report: PreparedReport) -> bytes:
    """The JSON report, UTF-8 encoded.

    Texts are kept whole (no capping, ANSI sequences kept): this is the report for tools,
    and the one the HTML report points to for output it shows cut.
    """
    # ensure_ascii=False keeps names and output readable; prepare_report already replaced
    # lone surrogates, so every string encodes. Control characters are escaped by json.
    text = json.dumps(report_data(report), ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")
