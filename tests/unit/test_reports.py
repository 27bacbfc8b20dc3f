"""Reports of a run (ptest_tui.reports): real files written, parsed back and validated.

JSON against the shipped JSON Schema, JUnit against the Jenkins xunit plugin's XSD
(tests/data/junit.xsd), HTML parsed for structure and escaping.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ptest_tui.errors import PtestError, UsageError
from ptest_tui.reports import FILE_NAMES, ReportWriteError, redact_text, write_reports
from ptest_tui.reports.html_assets import SCRIPT
from ptest_tui.reports.json_report import SCHEMA_PATH
from ptest_tui.reports.junit import split_node_id
from ptest_tui.reports.redact import find_secrets
from ptest_tui.runs.model import OUTCOMES, CaseResult, RunRecord
from tests.support.report_checks import (
    KNOWN_KEYWORDS,
    check_json_schema,
    parse_page,
    schema_keywords,
    validate_junit,
)

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
SCHEMA = json.loads(SCHEMA_PATH.read_text())


def result(case: str, status: str = "passed", **kw: object) -> CaseResult:
    fields: dict[str, object] = {"suite": "unit", "env": "py311", "kind": "command",
                                 "duration": 0.1, "started_at": T0 + 1}
    fields.update(kw)
    return CaseResult(run_id="r1", case=case, status=status, **fields)  # type: ignore[arg-type]


def run_record(status: str = "failed", **kw: object) -> RunRecord:
    fields: dict[str, object] = {"id": "r1", "finished_at": T0 + 42.5,
                                 "envs": ("py311", "py312")}
    fields.update(kw)
    return RunRecord(started_at=T0, status=status, **fields)  # type: ignore[arg-type]


def node(name: str) -> str:
    return f"tests/unit/test_cart.py::TestCart::{name}"


PYTEST_FAILURE = """    def test_bad():
>       assert f() == 2
E       assert 1 == 2
E        +  where 1 = f()

tests/unit/test_cart.py:9: AssertionError"""
MIXED = [
    result(node("test_ok"), kind="pytest", parent="unit-tests", duration=0.5),
    result(node("test_bad"), "failed", kind="pytest", parent="unit-tests", duration=1.5,
           message=PYTEST_FAILURE, stdout="printed\n", stderr="warned\n"),
    result(node("test_skip"), "skipped", kind="pytest", parent="unit-tests",
           message="needs redis"),
    result(node("test_xf"), "xfailed", kind="pytest", parent="unit-tests", message="bug #1"),
    result(node("test_xp"), "xpassed", kind="pytest", parent="unit-tests"),
    result(node("test_flaky"), kind="pytest", parent="unit-tests", attempts=2, flaky=True,
           message="timeout on attempt 1"),
    result("migrations", env="py312", duration=3.0),
    result("migrations", "error", suite="db", env="py312", duration=0.2,
           message="could not connect"),
    result("GET /health", suite="api", env="py312", kind="http", duration=0.05),
    result("slow import", "cancelled", suite="api", env="py312", message="cancelled by user"),
]


CANCELLED_RUN = RunRecord(id="c1", started_at=T0, status="cancelled", envs=("py311",),
                          message="cancelled by the user (Ctrl+C)")  # never finished
CANCELLED_RESULTS = [result("a", duration=0.3), result("b", "cancelled", message="")]
WEIRD = "naïve ✓ 測試 🐍 \x00nul \x07bell \x1b[31mred\x1b[0m \ufffd \x7f ]]> <&>'\" \udcff"
WEIRD_RESULTS = [result(f"case {WEIRD}", "failed", suite="s\x01uite", message=WEIRD,
                        stdout=WEIRD, stderr="\x1b]0;title\x07" + WEIRD)]


def write_all(tmp_path: Path, run: RunRecord, results: list[CaseResult]) -> dict[str, Path]:
    paths = write_reports(run, results, ["json", "junit", "html"], tmp_path / "out")
    return dict(zip(["json", "junit", "html"], paths, strict=True))


# -- write_reports --------------------------------------------------------------------


def test_writes_every_format_with_fixed_names_and_no_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    paths = write_reports(run_record(), MIXED, ["html", "json", "junit", "json"], out)
    assert [p.name for p in paths] == ["report.html", "report.json", "junit.xml"]
    assert sorted(p.name for p in out.iterdir()) == sorted(FILE_NAMES.values())
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in paths)
    # A second run replaces the files in place.
    write_reports(run_record(id="r2"), [], ["json"], out)
    assert json.loads((out / "report.json").read_text())["run"]["id"] == "r2"
    assert sorted(p.name for p in out.iterdir()) == sorted(FILE_NAMES.values())


def test_unknown_formats_are_a_usage_error_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        write_reports(run_record(), MIXED, ["json", "pdf", "xml"], tmp_path / "out")
    assert "'pdf'" in caught.value.message and "'xml'" in caught.value.message
    assert caught.value.hint == "valid formats: json, junit, html"
    assert not (tmp_path / "out").exists()


def test_a_single_format_string_and_no_formats(tmp_path: Path) -> None:
    assert [p.name for p in write_reports(run_record(), [], "html", tmp_path)] == ["report.html"]
    assert write_reports(run_record(), [], [], tmp_path / "none") == []
    assert not (tmp_path / "none").exists()


def test_unwritable_folder_is_a_ptest_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ReportWriteError) as caught:
        write_reports(run_record(), MIXED, ["json"], blocker / "out")
    assert isinstance(caught.value, PtestError) and str(blocker) in caught.value.message


# -- JSON -----------------------------------------------------------------------------


def test_json_report_matches_its_schema_and_counts(tmp_path: Path) -> None:
    data = json.loads(write_all(tmp_path, run_record(), MIXED)["json"].read_text())
    assert check_json_schema(data, SCHEMA) == []
    assert (data["schema"], data["version"]) == ("ptest-tui/run-report", 1)
    assert data["run"] == run_record().to_dict()
    summary = data["summary"]
    assert summary["counts"] == {"passed": 4, "failed": 1, "skipped": 1, "xfailed": 1,
                                 "xpassed": 1, "error": 1, "cancelled": 1}
    assert (summary["total"], summary["flaky"], summary["duration"]) == (10, 1, 42.5)
    assert summary["case_duration"] == pytest.approx(sum(r.duration for r in MIXED))
    assert data["results"] == [r.to_dict() for r in MIXED]


def test_schema_describes_every_model_field_with_known_keywords() -> None:
    defs = SCHEMA["$defs"]
    fields = {f.name for f in dataclasses.fields(CaseResult)}
    assert set(defs["result"]["properties"]) == fields == set(defs["result"]["required"])
    assert set(defs["run"]["properties"]) == set(run_record().to_dict())
    assert defs["outcome"]["enum"] == list(OUTCOMES)
    assert schema_keywords(SCHEMA) <= KNOWN_KEYWORDS


def test_schema_check_rejects_broken_reports(tmp_path: Path) -> None:
    data = json.loads(write_all(tmp_path, run_record(), MIXED[:2])["json"].read_text())
    data["results"][0]["status"] = "exploded"
    data["results"][1]["attempts"] = "2"
    data["summary"]["counts"].pop("xfailed")
    data["extra"] = True
    errors = check_json_schema(data, SCHEMA)
    assert len(errors) == 4, errors


# -- JUnit ----------------------------------------------------------------------------


def test_junit_validates_against_the_jenkins_xsd(tmp_path: Path) -> None:
    # One test for all reports, failing (not skipping) without xmlschema or lxml: CI must
    # not silently stop validating.
    cases = {
        "mixed": (run_record(), MIXED),
        "empty": (run_record("passed"), []),
        "cancelled": (CANCELLED_RUN, CANCELLED_RESULTS),
        "control-characters": (run_record(message=WEIRD), WEIRD_RESULTS),
    }
    for name, (run, results) in cases.items():
        validate_junit(write_reports(run, results, ["junit"], tmp_path / name)[0])
    broken = tmp_path / "broken.xml"  # the check can fail: a testsuite needs a name
    broken.write_text('<testsuites><testsuite tests="0" failures="0" errors="0"/></testsuites>')
    with pytest.raises(Exception, match="name"):
        validate_junit(broken)


def test_junit_counts_names_and_outcomes(tmp_path: Path) -> None:
    path = write_all(tmp_path, run_record(), MIXED)["junit"]
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("10", "1", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["unit[py311]", "unit[py312]", "db[py312]", "api[py312]"]
    counts = {name: tuple(s.get(k) for k in ("tests", "failures", "errors", "skipped"))
              for name, s in suites.items()}
    assert counts == {"unit[py311]": ("6", "1", "0", "2"), "unit[py312]": ("1", "0", "0", "0"),
                      "db[py312]": ("1", "0", "1", "0"), "api[py312]": ("2", "0", "0", "1")}
    for suite in suites.values():
        assert int(suite.get("tests", "")) == len(suite.findall("testcase"))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    bad = cases["test_bad"]
    assert bad.get("classname") == "unit[py311].tests.unit.test_cart.TestCart"
    assert bad.get("time") == "1.500"
    failure = bad.find("failure")
    assert failure is not None and failure.get("message") == "assert 1 == 2"
    assert failure.text == PYTEST_FAILURE
    assert (bad.findtext("system-out"), bad.findtext("system-err")) == ("printed\n", "warned\n")
    kinds = {name: [(c.tag, c.get("type")) for c in cases[name]] for name in
             ("test_ok", "test_skip", "test_xf", "test_xp", "test_flaky", "slow import")}
    assert kinds == {"test_ok": [], "test_xp": [], "test_skip": [("skipped", "pytest.skip")],
                     "test_xf": [("skipped", "pytest.xfail")],
                     "test_flaky": [("flakyFailure", "flaky")],
                     "slow import": [("skipped", "cancelled")]}
    error = root.find("testsuite[@name='db[py312]']/testcase[@name='migrations']/error")
    assert error is not None and error.get("message") == "could not connect"
    assert root.find("testsuite[@name='unit[py312]']/testcase[@name='migrations']/*") is None
    assert cases["GET /health"].get("classname") == "api[py312]"


@pytest.mark.parametrize(
    ("node_id", "expected"),
    [
        ("tests/a/test_x.py::test_y", ("tests.a.test_x", "test_y")),
        ("tests/test_x.py::TestA::TestB::test_y", ("tests.test_x.TestA.TestB", "test_y")),
        ("test_x.py::test_y[a::b/c.d]", ("test_x", "test_y[a::b/c.d]")),
        ("tests/test_x.py", ("tests.test_x", "tests/test_x.py")),
    ],
)
def test_pytest_node_ids_split_like_pytest_junitxml(
    node_id: str, expected: tuple[str, str]
) -> None:
    assert split_node_id(node_id) == expected


def test_empty_run_gives_valid_empty_reports(tmp_path: Path) -> None:
    paths = write_all(tmp_path, run_record("passed"), [])
    data = json.loads(paths["json"].read_text())
    assert check_json_schema(data, SCHEMA) == []
    assert data["results"] == [] and data["summary"]["total"] == 0
    assert set(data["summary"]["counts"].values()) == {0}
    root = ET.parse(paths["junit"]).getroot()
    assert root.get("tests") == "0" and root.findall("testsuite") == []
    page = parse_page(paths["html"].read_text())
    assert "No results." in "".join(page.text)
    assert page.find("table", class_="results") == [] and page.find("svg") == []


def test_cancelled_run(tmp_path: Path) -> None:
    paths = write_all(tmp_path, CANCELLED_RUN, CANCELLED_RESULTS)
    data = json.loads(paths["json"].read_text())
    assert check_json_schema(data, SCHEMA) == []
    assert data["run"]["finished_at"] is None and data["summary"]["duration"] == 0
    assert data["summary"]["counts"]["cancelled"] == 1
    root = ET.parse(paths["junit"]).getroot()
    skipped = root.find("testsuite/testcase[@name='b']/skipped")
    assert skipped is not None and skipped.get("message") == "cancelled"
    assert root.find("testsuite").get("skipped") == "1"  # type: ignore[union-attr]
    status = root.find("testsuite/properties/property[@name='ptest.run.status']")
    assert status is not None and status.get("value") == "cancelled"
    page = parse_page(paths["html"].read_text())
    assert page.find("span", class_="o-cancelled")
    assert "not finished" in "".join(page.text)


def test_unicode_and_control_characters_survive_every_format(tmp_path: Path) -> None:
    paths = write_all(tmp_path, run_record(message=WEIRD), WEIRD_RESULTS)
    for path in paths.values():
        raw = path.read_bytes()
        raw.decode("utf-8")  # strictly valid UTF-8 everywhere (the surrogate was replaced)
        if path.suffix != ".json":
            assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", raw), path.name
    data = json.loads(paths["json"].read_text())
    # JSON keeps the text whole (json escapes controls); only the lone surrogate changed.
    assert data["results"][0]["stdout"] == WEIRD.replace("\udcff", "\ufffd")
    case = ET.parse(paths["junit"]).getroot().find("testsuite/testcase")
    assert case is not None
    expected = "naïve ✓ 測試 🐍 nul bell red \ufffd  ]]> <&>'\" \ufffd"
    assert case.findtext("system-out") == expected
    assert case.get("name") == f"case {expected}"
    assert case.findtext("system-err") == expected  # the OSC title sequence went too
    text = "".join(parse_page(paths["html"].read_text()).text)
    assert expected in text and f"case {expected}" in text


# -- HTML -----------------------------------------------------------------------------


def test_html_escapes_everything_from_the_run(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    results = [
        result(evil, "failed", suite='x" onmouseover="alert(2)', env="<b>env</b>",
               message=f"</pre>{evil}<img src=x onerror=alert(3)>", stdout="</details>" + evil),
    ]
    path = write_all(tmp_path, run_record(message=evil, id=evil), results)["html"]
    page = parse_page(path.read_text())
    assert [tag for tag, _ in page.elements].count("script") == 1
    assert page.scripts == [SCRIPT]
    assert page.find("img") == []
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)]
    text = "".join(page.text)
    assert evil in text and 'x" onmouseover="alert(2)' in text and "<b>env</b>" in text
    row = page.find("tbody", class_="result")
    assert len(row) == 1 and row[0]["data-status"] == "failed"


def test_html_is_self_contained_and_only_its_own_script_may_run(tmp_path: Path) -> None:
    data = write_all(tmp_path, run_record(), MIXED)["html"].read_text()
    page = parse_page(data)
    assert page.doctype.lower() == "doctype html"
    assert page.find("link") == [] and page.find("img") == [] and page.find("iframe") == []
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            if name in ("src", "href", "action", "srcset", "poster"):
                pytest.fail(f"<{tag} {name}={value!r}> loads something")
    assert not re.search(r"url\(|@import", "".join(page.styles))
    (policy,) = page.find("meta", http_equiv="Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy["content"]
    assert "default-src 'none'" in policy["content"]


def test_html_summary_matrix_filters_details_and_chart(tmp_path: Path) -> None:
    data = write_all(tmp_path, run_record(), MIXED)["html"].read_text()
    page = parse_page(data)
    text = "".join(page.text)
    assert len(page.find("header")) == 1
    assert page.find("span", class_="o-failed")[0] == {"class": "badge o-failed"}
    assert "duration 42.5 s" in text and "selection all" in text
    tiles = re.findall(r'<li class="tile[^"]*"><b>([^<]*)</b>([^<]*)</li>', data)
    assert tiles[:3] == [("10", "total"), ("4", "passed"), ("1", "failed")]
    assert ("1", "flaky") in tiles
    # Matrix: suites as rows, envs as columns; cell = passed (xpassed too) / total.
    matrix = re.search(r'<table class="matrix">(.*?)</table>', data, re.S)
    assert matrix is not None
    header = re.findall(r"<th>([^<]*)</th>", matrix.group(1))
    assert header == ["suite \\ env", "py311", "py312", "unit", "db", "api"]
    cells = re.findall(r'<td class="cell-(\w+)"(?: title="([^"]*)")?>([^<]*)</td>',
                       matrix.group(1))
    assert [(css, value) for css, _, value in cells] == [
        ("fail", "3/6"), ("ok", "1/1"),  # unit
        ("none", "—"), ("fail", "0/1"),  # db
        ("none", "—"), ("warn", "1/2"),  # api: one cancelled
    ]
    assert cells[0][1] == "2 passed, 1 failed, 1 skipped, 1 xfailed, 1 xpassed"
    # Filter buttons for the outcomes present, plus all and flaky.
    filters = [b["data-filter"] for b in page.find("button")]
    assert filters == ["all", "passed", "failed", "skipped", "xfailed", "xpassed", "error",
                       "cancelled", "flaky"]
    assert page.find("div", class_="filters")[0].get("hidden") == ""
    rows = page.find("tbody", class_="result")
    assert len(rows) == len(MIXED)
    assert [r["data-status"] for r in rows[:2]] == ["failed", "error"]  # failures first
    assert sum(r["data-flaky"] == "1" for r in rows) == 1
    # Failure details are collapsible and hold message and captured output.
    assert len(page.find("details")) == 6 and page.find("details", open="") == []
    assert PYTEST_FAILURE in text and "printed\n" in text
    assert "<summary>assert 1 == 2</summary>" in data  # pytest's E line, not the source
    # Duration chart: one bar per result that took time, slowest first.
    bars = page.find("rect")
    widths = [float(b["width"]) for b in bars]
    assert len(bars) == sum(r.duration > 0 for r in MIXED)
    assert widths == sorted(widths, reverse=True) and bars[0]["class"] == "o-passed"


def test_html_caps_large_output_and_json_keeps_it(tmp_path: Path) -> None:
    big = "".join(f"line {i}\n" for i in range(200_000))  # about 2.2 MB
    paths = write_all(tmp_path, run_record(), [result("noisy", "failed", stdout=big)])
    assert paths["html"].stat().st_size < 60_000
    page = parse_page(paths["html"].read_text())
    text = "".join(page.text)
    assert "characters omitted" in text and "line 199999\n" in text and "line 0\n" in text
    assert json.loads(paths["json"].read_text())["results"][0]["stdout"] == big


# -- redaction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pip install -i https://me:tok3n@pypi.example/simple x",
         "pip install -i https://***@pypi.example/simple x"),
        ("DB_PASSWORD=hunter22 rest", "DB_PASSWORD=*** rest"),
        ("export GITHUB_TOKEN='ghp abc' done", "export GITHUB_TOKEN='***' done"),
        ('APP_SECRET="s3cr3t"', 'APP_SECRET="***"'),
        ("pgpassword=x TOKEN=y", "pgpassword=*** TOKEN=***"),
        ("--password=pw1", "--password=***"),
        ("DB_PASSWORD_FILE=/run/pw MYTOKENS=3 PASSWORD= x", "DB_PASSWORD_FILE=/run/pw "
         "MYTOKENS=3 PASSWORD= x"),
        ("", ""),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_known_secrets_are_masked_everywhere_but_short_ones_only_in_place() -> None:
    secrets = find_secrets(["env: API_TOKEN=abcdef123 X_SECRET=no", "nothing"])
    assert secrets == {"abcdef123", "no"}
    assert redact_text("got abcdef123 and no", secrets) == "got *** and no"


def test_reports_hold_no_secret(tmp_path: Path) -> None:
    results = [
        result("connect postgresql://app:pa55word@db/x", "failed",
               message="login failed for pa55word-and-more? no: S3CRETVALUE was wrong",
               stdout="DB_PASSWORD=S3CRETVALUE\n", stderr="retrying with S3CRETVALUE"),
        result("ok", stdout="CI_TOKEN=\"abc def ghi\"", parent="uses https://u:p4ss@x/y"),
    ]
    paths = write_all(tmp_path, run_record(message="https://bot:t0ken@git/x"), results)
    for path in paths.values():
        raw = path.read_text()
        for secret in ("pa55word", "S3CRETVALUE", "abc def ghi", "p4ss", "t0ken"):
            assert secret not in raw, (path.name, secret)
        assert "DB_PASSWORD=***" in raw


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "report.json").mkdir()  # os.replace onto a folder fails
    with pytest.raises(ReportWriteError):
        write_reports(run_record(), MIXED, ["json"], tmp_path)
    assert os.listdir(tmp_path) == ["report.json"]


def test_nothing_is_written_when_rendering_fails(tmp_path: Path) -> None:
    bad = result("x", duration=0.1)
    object.__setattr__(bad, "suite", None)  # a broken value: rendering raises
    with pytest.raises((TypeError, AttributeError)):
        write_reports(run_record(), [bad], ["json", "html"], tmp_path)
    assert os.listdir(tmp_path) == []
