"""The JSON summary of a run that the plugin posts (and writes as a report format).

Built from ptest-tui's *prepared* report, so every text is already redacted the way the
built-in reports are: a password in a failure message never leaves the machine.
"""

from __future__ import annotations

from typing import Any

from ptest_tui.reports.prepare import PreparedReport, headline

SCHEMA = "ptest-webhook-reporter/run-summary"
VERSION = 1
FAILING = ("failed", "error")


def summary(report: PreparedReport, workspace: str = "", limit: int = 20) -> dict[str, Any]:
    """The payload: the run, its counts, up to ``limit`` failures, and a one-line ``text``
    (chat services such as Slack and Mattermost show ``text`` as the message)."""
    run = report.run
    counts = {k: v for k, v in report.summary.counts.items() if v}
    failures = [r for r in report.results if r.status in FAILING]
    parts = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no results"
    where = f"{workspace}: " if workspace else ""
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "workspace": workspace,
        "run": {
            "id": run.id,
            "status": run.status,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "duration": round(report.summary.duration, 3),
            "message": run.message,
            "selection": list(run.selection),
            "envs": list(run.envs),
        },
        "counts": counts,
        "total": report.summary.total,
        "flaky": report.summary.flaky,
        "failures": [
            {
                "suite": r.suite,
                "env": r.env,
                "case": r.case,
                "status": r.status,
                "message": headline(r.message),
            }
            for r in failures[:limit]
        ],
        "more_failures": max(0, len(failures) - limit),
        "text": f"{where}run {run.id} {run.status}: {parts}"
        f" in {report.summary.duration:.2f} s",
    }
