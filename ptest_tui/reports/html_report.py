"""The HTML report: one self-contained page to read a run in a browser.

A summary, a suite x env matrix, an inline SVG chart of the slowest cases and every result
with its failure text and captured output (collapsed, capped). Every text from the run goes
through :func:`_esc`; run data is never placed inside the script or the stylesheet.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime

from ptest_tui.reports.html_assets import CONTENT_SECURITY_POLICY, CSS, SCRIPT
from ptest_tui.reports.prepare import (
    PreparedReport,
    cap_text,
    clean_text,
    headline,
    outcome_group,
)
from ptest_tui.runs.model import (
    ERROR,
    FAILED,
    FAILING,
    OUTCOMES,
    PASSED,
    XFAILED,
    XPASSED,
    CaseResult,
)

# Characters of one message or output shown; the JSON report keeps the full text.
TEXT_LIMIT = 20_000
CHART_BARS = 15
CHART_LABEL_CHARS = 60


def _esc(text: str) -> str:
    return html.escape(clean_text(text), quote=True)


def format_duration(seconds: float) -> str:
    """``seconds`` for people: ``850 ms``, ``12.3 s``, ``4 min 05 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _time(epoch: float | None) -> str:
    if not epoch:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _status_badge(status: str) -> str:
    return f'<span class="badge o-{_esc(status)}">{_esc(status)}</span>'


def _header(report: PreparedReport) -> str:
    run = report.run
    facts = [f"started {_time(run.started_at)}"]
    if run.finished_at:
        facts += [
            f"finished {_time(run.finished_at)}",
            f"duration {format_duration(report.summary.duration)}",
        ]
    else:
        facts.append("not finished")
    if run.envs:
        facts.append("envs " + ", ".join(run.envs))
    facts.append("selection " + (", ".join(run.selection) if run.selection else "all"))
    parts = [
        f"<header><h1>Run <code>{_esc(run.id)}</code> {_status_badge(run.status)}</h1>",
        '<p class="meta">' + " · ".join(_esc(f) for f in facts) + "</p>",
    ]
    if run.message:
        parts.append(f'<p class="run-message">{_esc(cap_text(run.message, TEXT_LIMIT))}</p>')
    parts.append("</header>")
    return "\n".join(parts)


def _summary(report: PreparedReport) -> str:
    summary = report.summary
    tiles = [(str(summary.total), "total", "")]
    tiles += [(str(summary.counts[o]), o, f"o-{o}") for o in OUTCOMES]
    tiles += [
        (str(summary.flaky), "flaky", ""),
        (format_duration(summary.duration) if report.run.finished_at else "—", "run time", ""),
        (format_duration(summary.case_duration), "time in cases", ""),
    ]
    items = "".join(
        f'<li class="tile {css}{" zero" if value == "0" else ""}">'
        f"<b>{_esc(value)}</b>{_esc(label)}</li>"
        for value, label, css in tiles
    )
    return f'<section id="summary"><h2>Summary</h2><ul class="tiles">{items}</ul></section>'


def _ordered(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _cell(results: list[CaseResult]) -> str:
    if not results:
        return '<td class="cell-none">—</td>'
    statuses = [r.status for r in results]
    passed = sum(1 for s in statuses if s in (PASSED, XPASSED))
    if any(outcome_group(s) in (FAILED, ERROR) for s in statuses):
        css = "cell-fail"
    elif all(s in (PASSED, XPASSED, XFAILED) for s in statuses):
        css = "cell-ok"
    else:
        css = "cell-warn"  # skipped or cancelled cases, nothing failing
    detail = ", ".join(f"{statuses.count(o)} {o}" for o in OUTCOMES if o in statuses)
    return f'<td class="{css}" title="{_esc(detail)}">{passed}/{len(results)}</td>'


def _matrix(report: PreparedReport) -> str:
    results = report.results
    envs = _ordered([*report.run.envs, *(r.env for r in results)])
    suites = _ordered(r.suite for r in results)
    if not suites:
        return ""
    cells: dict[tuple[str, str], list[CaseResult]] = {}
    for result in results:
        cells.setdefault((result.suite, result.env), []).append(result)
    head = "".join(f"<th>{_esc(env)}</th>" for env in envs)
    rows = "".join(
        f"<tr><th>{_esc(suite)}</th>"
        + "".join(_cell(cells.get((suite, env), [])) for env in envs)
        + "</tr>"
        for suite in suites
    )
    return (
        '<section id="matrix"><h2>Suites by environment</h2>'
        '<p class="meta">Each cell: passed (xpassed included) of all results of the suite'
        " in that env; red when any failed or errored.</p>"
        f'<table class="matrix"><thead><tr><th>suite \\ env</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _label(result: CaseResult) -> str:
    return f"{result.suite}[{result.env}] {result.case}"


def _chart(report: PreparedReport) -> str:
    slowest = sorted(
        (r for r in report.results if r.duration > 0), key=lambda r: r.duration, reverse=True
    )[:CHART_BARS]
    if not slowest:
        return ""
    label_width, bar_width, row, width = 430, 330, 22, 860
    longest = slowest[0].duration
    bars = []
    for index, result in enumerate(slowest):
        y = index * row
        label = _label(result)
        short = label if len(label) <= CHART_LABEL_CHARS else label[: CHART_LABEL_CHARS - 1] + "…"
        length = max(1.0, bar_width * result.duration / longest)
        bars.append(
            f'<g><title>{_esc(label)}: {_esc(format_duration(result.duration))}'
            f" ({_esc(result.status)})</title>"
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{_esc(short)}</text>'
            f'<rect class="o-{_esc(result.status)}" x="{label_width}" y="{y + 3}"'
            f' width="{length:.1f}" height="{row - 6}" rx="2"></rect>'
            f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + 15}">'
            f"{_esc(format_duration(result.duration))}</text></g>"
        )
    height = row * len(slowest)
    return (
        f'<section id="durations"><h2>Slowest cases</h2>'
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img"'
        f' aria-label="the {len(slowest)} slowest results" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}">{"".join(bars)}</svg></section>'
    )


def _pre(title: str, text: str) -> str:
    if not text:
        return ""
    return f"<h4>{_esc(title)}</h4><pre>{_esc(cap_text(text, TEXT_LIMIT))}</pre>"


def _details(result: CaseResult) -> str:
    blocks = "".join(
        _pre(title, text)
        for title, text in (
            ("message", result.message), ("stdout", result.stdout), ("stderr", result.stderr),
        )
    )
    if not blocks:
        return ""
    title = headline(result.message) or "captured output"
    return (
        '<tr class="detail"><td colspan="6"><details>'
        f"<summary>{_esc(title)}</summary>{blocks}</details></td></tr>"
    )


def _result_rows(report: PreparedReport) -> str:
    # Failures first (the reason to open a report), otherwise in the order the run had.
    ordered = sorted(report.results, key=lambda r: r.status not in FAILING)
    rows = []
    for index, result in enumerate(ordered):
        parent = (
            f'<div class="parent">in {_esc(result.parent)}</div>'
            if result.parent and result.parent != result.case
            else ""
        )
        flaky = ' <span class="badge">flaky</span>' if result.flaky else ""
        rows.append(
            f'<tbody class="result" id="r{index}" data-status="{_esc(result.status)}"'
            f' data-flaky="{1 if result.flaky else 0}"><tr>'
            f"<td>{_status_badge(result.status)}{flaky}</td>"
            f"<td>{_esc(result.suite)}</td><td>{_esc(result.env)}</td>"
            f'<td class="case"><code>{_esc(result.case)}</code>{parent}</td>'
            f'<td class="num">{_esc(format_duration(result.duration))}</td>'
            f'<td class="num">{result.attempts}</td></tr>'
            f"{_details(result)}</tbody>"
        )
    return "".join(rows)


def _filters(report: PreparedReport) -> str:
    counts = report.summary.counts
    choices = [("all", report.summary.total)]
    choices += [(o, counts[o]) for o in OUTCOMES if counts[o]]
    if report.summary.flaky:
        choices.append(("flaky", report.summary.flaky))
    buttons = "".join(
        f'<button type="button" data-filter="{_esc(name)}" aria-pressed="false">'
        f"{_esc(name)} ({count})</button>"
        for name, count in choices
    )
    return (
        f'<div class="filters" role="toolbar" aria-label="filter by status" hidden>'
        f'{buttons}<span class="shown"></span></div>'
    )


def _results(report: PreparedReport) -> str:
    if not report.results:
        return '<section id="results"><h2>Results</h2><p class="meta">No results.</p></section>'
    return (
        f'<section id="results"><h2>Results</h2>{_filters(report)}'
        '<table class="results"><thead><tr><th>status</th><th>suite</th><th>env</th>'
        '<th>case</th><th class="num">time</th><th class="num">attempts</th></tr></thead>'
        f"{_result_rows(report)}</table></section>"
    )


def render_html(report: PreparedReport) -> bytes:
    """The HTML report, UTF-8 encoded."""
    run = report.run
    body = "\n".join(
        part
        for part in (
            _header(report), _summary(report), _matrix(report), _chart(report), _results(report)
        )
        if part
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_esc(CONTENT_SECURITY_POLICY)}">
<title>ptest-tui run {_esc(run.id)}: {_esc(run.status)}</title>
<style>{CSS}</style>
</head>
<body>
{body}
<footer>Written by ptest-tui. Messages and output longer than {TEXT_LIMIT:,} characters are
shown cut; the JSON report of the same run has them whole. Times are UTC.</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""
    return page.encode("utf-8")
