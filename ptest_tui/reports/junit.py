"""The JUnit XML report, in the form Jenkins, GitLab, GitHub Actions and Azure read.

One ``<testsuites>`` holds one ``<testsuite name="suite[env]">`` per suite and env, in the
order the results came. The output validates against the Jenkins xunit plugin's
junit-10.xsd (a copy is tests/data/junit.xsd). Outcomes map to JUnit as pytest's own
junitxml does: failed -> ``<failure>``, error -> ``<error>``, skipped, xfailed and
cancelled -> ``<skipped>`` (told apart by ``type``), passed and xpassed -> no child; a
flaky result (failed, then passed on a retry) carries Surefire's ``<flakyFailure>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from ptest_tui.reports.prepare import (
    PreparedReport,
    cap_text,
    clean_text,
    headline,
    outcome_group,
)
from ptest_tui.runs.model import (
    CANCELLED,
    ERROR,
    FAILED,
    SKIPPED,
    XFAILED,
    CaseResult,
)

# Longest message or captured output kept per element: CI servers store these in
# databases and render them in pages; the JSON report keeps the full text.
TEXT_LIMIT = 200_000
MESSAGE_ATTRIBUTE_LIMIT = 500


def _text(value: str) -> str:
    return clean_text(cap_text(value, TEXT_LIMIT))


def _seconds(value: float) -> str:
    # junit-10.xsd's SUREFIRE_TIME: digits with an optional fraction, no exponent.
    return f"{max(value, 0.0):.3f}"


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def split_node_id(node_id: str) -> tuple[str, str]:
    """``(dotted class path, test name)`` of a pytest node id, as pytest's junitxml names.

    ``tests/unit/test_a.py::TestX::test_y[1.5::z]`` -> ``("tests.unit.test_a.TestX",
    "test_y[1.5::z]")``; parameters may hold any character, so they are split off first.
    """
    base, bracket, params = node_id.partition("[")
    parts = base.split("::")
    path = parts[0]
    if path.endswith(".py"):
        path = path[: -len(".py")]
    dotted = path.replace("\\", "/").strip("/").replace("/", ".")
    if len(parts) == 1:
        return dotted, node_id  # a whole file (a collection error)
    return ".".join([dotted, *parts[1:-1]]), parts[-1] + bracket + params


def case_names(result: CaseResult) -> tuple[str, str]:
    """``(classname, name)`` of ``result``'s ``<testcase>``.

    The classname starts with ``suite[env]``: Jenkins groups tests by classname alone, and
    the same test run in two envs must show as two tests, not as one run twice.
    """
    group = f"{result.suite}[{result.env}]"
    if result.kind == "pytest" and "::" in result.case:
        dotted, name = split_node_id(result.case)
        return f"{group}.{dotted}", name
    return group, result.case


def _labelled(label: str, summary: str) -> str:
    return f"{label}: {summary}" if summary else label


def _outcome_child(result: CaseResult) -> ET.Element | None:
    message = result.message
    summary = headline(message, MESSAGE_ATTRIBUTE_LIMIT)
    if result.status == FAILED:
        tag, kind, summary = "failure", "failure", summary or "failed"
    elif result.status == ERROR or outcome_group(result.status) == ERROR:
        tag, kind, summary = "error", "error", summary or result.status
    elif result.status == SKIPPED:
        tag, kind, summary = "skipped", "pytest.skip", summary or "skipped"
    elif result.status == XFAILED:
        tag, kind, summary = "skipped", "pytest.xfail", _labelled("xfail", summary)
    elif result.status == CANCELLED:
        tag, kind, summary = "skipped", "cancelled", _labelled("cancelled", summary)
    else:
        return None
    element = ET.Element(tag, {"message": clean_text(summary), "type": kind})
    if message:
        element.text = _text(message)
    return element


def _testcase(result: CaseResult) -> ET.Element:
    classname, name = case_names(result)
    element = ET.Element(
        "testcase",
        {"classname": clean_text(classname), "name": clean_text(name),
         "time": _seconds(result.duration)},
    )
    child = _outcome_child(result)
    if child is not None:
        element.append(child)
    elif result.flaky:
        note = f"failed, then passed on attempt {result.attempts}"
        flaky = ET.SubElement(element, "flakyFailure", {"message": note, "type": "flaky"})
        if result.message:
            flaky.text = _text(result.message)
    for tag, value in (("system-out", result.stdout), ("system-err", result.stderr)):
        if value:
            ET.SubElement(element, tag).text = _text(value)
    return element


def _testsuite(
    report: PreparedReport, index: int, suite: str, env: str, results: list[CaseResult]
) -> ET.Element:
    groups = [outcome_group(r.status) for r in results]
    started = [r.started_at for r in results if r.started_at > 0]
    element = ET.Element(
        "testsuite",
        {
            "name": clean_text(f"{suite}[{env}]"),
            "tests": str(len(results)),
            "failures": str(groups.count(FAILED)),
            "errors": str(groups.count(ERROR)),
            "skipped": str(groups.count(SKIPPED)),
            "time": _seconds(sum(r.duration for r in results)),
            "timestamp": _timestamp(min(started) if started else report.run.started_at),
            "id": str(index),
        },
    )
    properties = ET.SubElement(element, "properties")
    run = report.run
    for name, value in (
        ("ptest.run", run.id), ("ptest.run.status", run.status),
        ("ptest.run.message", run.message), ("ptest.suite", suite), ("ptest.env", env),
    ):
        if value:
            ET.SubElement(properties, "property", {"name": name, "value": clean_text(value)})
    element.extend(_testcase(result) for result in results)
    return element


def render_junit(report: PreparedReport) -> bytes:
    """The JUnit XML report, UTF-8 encoded."""
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for result in report.results:
        groups.setdefault((result.suite, result.env), []).append(result)
    outcome_groups = [outcome_group(r.status) for r in report.results]
    duration = report.summary.duration or report.summary.case_duration
    root = ET.Element(
        "testsuites",
        {
            "name": clean_text(f"ptest-tui run {report.run.id}"),
            "tests": str(len(report.results)),
            "failures": str(outcome_groups.count(FAILED)),
            "errors": str(outcome_groups.count(ERROR)),
            "time": _seconds(duration),
        },
    )
    root.extend(
        _testsuite(report, index, suite, env, results)
        for index, ((suite, env), results) in enumerate(groups.items())
    )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
