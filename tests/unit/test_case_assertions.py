"""Assertions of the command, http and sql cases, the JSON path and settings checks."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ptest_tui.errors import ConfigError
from ptest_tui.runs.cases import assertions as a
from ptest_tui.runs.cases.base import CaseSpec
from ptest_tui.runs.cases.builtin import BUILTIN_CASES
from ptest_tui.runs.cases.command_case import CommandCase
from ptest_tui.runs.cases.http_case import HttpCase, substitute
from ptest_tui.runs.cases.sql_case import SqlCase

# -- generic checks ------------------------------------------------------------------------


def test_equal_passes_and_names_the_assertion_when_it_fails() -> None:
    assert a.expect_equal("status", 200, 200) is None
    assert a.expect_equal("status", 200, 503) == "status: expected 200, got 503"
    assert a.expect_equal("json $.id", "3", 3) == 'json $.id: expected "3", got 3'


def test_equality_is_strict_about_booleans_but_not_about_int_and_float() -> None:
    assert a.values_equal(1, 1.0)
    assert not a.values_equal(True, 1)
    assert not a.values_equal(0, False)
    assert a.values_equal([1, {"a": True}], [1.0, {"a": True}])
    assert not a.values_equal({"a": 1}, {"a": 1, "b": 2})
    assert not a.values_equal([1, 2], [1])
    assert a.values_equal(datetime.date(2024, 5, 1), "2024-05-01")
    assert not a.values_equal("1", 1)
    assert a.values_equal(None, None)


def test_one_of() -> None:
    assert a.expect_one_of("status", (200, 201), 201) is None
    assert a.expect_one_of("status", (200, 201), 500) == (
        "status: expected one of 200, 201, got 500"
    )
    assert a.expect_one_of("status", (204,), 200) == "status: expected 204, got 200"


def test_contains_regex_and_equals() -> None:
    assert a.expect_contains("stdout contains", "ok", "all ok\n") is None
    assert a.expect_contains("stdout contains", "ok", "nope") == (
        "stdout contains: expected to contain 'ok', got 'nope'"
    )
    assert a.expect_contains("stdout contains", "ok", "", seen_elsewhere=True) is None
    assert a.expect_regex("stdout regex", r"^v\d+$", "x\nv12\ny") is None  # per line
    assert a.expect_regex("stdout regex", r"^v\d+$", "v1.2") == (
        "stdout regex: expected to match '^v\\\\d+$', got 'v1.2'"
    )
    assert a.expect_text("stdout equals", "hello\n", "hello") is None
    assert a.expect_text("stdout equals", "hello", "hello world") == (
        "stdout equals: expected 'hello', got 'hello world'"
    )


def test_long_actual_values_are_cut_with_a_truncation_note() -> None:
    message = a.expect_contains("stdout contains", "ok", "x" * 5000)
    assert message is not None
    assert message.startswith("stdout contains: expected to contain 'ok', got 'xxx")
    assert message.endswith("'(truncated, 5000 characters)")
    assert len(message) < 300
    assert a.show(list(range(1000))).endswith("characters)")


def test_durations() -> None:
    assert a.expect_at_most_seconds(2, 1.5) is None
    assert a.expect_at_most_seconds(2, 3.4) == "duration: expected at most 2 s, got 3.4 s"
    assert a.expect_at_most_ms(200, 0.1) is None
    assert a.expect_at_most_ms(200, 0.3404) == "duration: expected at most 200 ms, got 340 ms"


def test_checks_collect_every_failure() -> None:
    checks = a.Checks()
    checks.add(None)
    assert checks.passed and checks.message == ""
    checks.add("status: expected 200, got 503")
    checks.add(None)
    checks.add("duration: expected at most 2 s, got 3.4 s")
    assert not checks.passed
    assert checks.message.splitlines() == [
        "status: expected 200, got 503", "duration: expected at most 2 s, got 3.4 s",
    ]


# -- JSON path -----------------------------------------------------------------------------

DOC: dict[str, Any] = {
    "items": [{"id": 3, "tags": ["a", "b"]}, {"id": 4, "tags": []}],
    "meta": {"total": 2, "next": None, "a.b": "dotted", "ok": True},
    "count": 0,
}


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$", ()),
        ("$.items", ("items",)),
        ("$.items[0].id", ("items", 0, "id")),
        ("$.items[-1].tags[1]", ("items", -1, "tags", 1)),
        ('$.meta["a.b"]', ("meta", "a.b")),
        ("$.meta['a.b']", ("meta", "a.b")),
        ("$[0][1]", (0, 1)),
    ],
)
def test_json_paths_parse(path: str, steps: tuple[str | int, ...]) -> None:
    assert a.parse_json_path(path) == steps


@pytest.mark.parametrize("path", ["items", "$items", "$.items[", "$.items[x]", "$..id", "$.a[0"])
def test_bad_json_paths_are_refused(path: str) -> None:
    with pytest.raises(a.JsonPathError):
        a.parse_json_path(path)


def test_format_json_path_round_trips() -> None:
    for path in ("$", "$.items[0].id", '$.meta["a.b"]', "$[2]"):
        assert a.format_json_path(a.parse_json_path(path)) == path


def test_json_values_found_and_compared() -> None:
    assert a.expect_json("$.items[0].id", 3, DOC) is None
    assert a.expect_json("$.items[1].id", 3, DOC) == "json $.items[1].id: expected 3, got 4"
    assert a.expect_json("$.items[-1].id", 4, DOC) is None
    assert a.expect_json('$.meta["a.b"]', "dotted", DOC) is None
    assert a.expect_json("$.meta.total", 2.0, DOC) is None
    assert a.expect_json("$.meta.ok", 1, DOC) == "json $.meta.ok: expected 1, got true"
    assert a.expect_json("$.count", False, DOC) == "json $.count: expected false, got 0"
    assert a.expect_json("$.items[0].tags", ["a", "b"], DOC) is None
    assert a.expect_json("$", DOC, DOC) is None


def test_missing_json_values_say_why() -> None:
    assert a.expect_json("$.items[5].id", 3, DOC) == (
        "json $.items[5].id: expected 3, got nothing ($.items has 2 items)"
    )
    assert a.expect_json("$.meta.missing", 1, DOC) == (
        "json $.meta.missing: expected 1, got nothing ($.meta has no key 'missing')"
    )
    assert a.expect_json("$.count.x", 1, DOC) == (
        "json $.count.x: expected 1, got nothing ($.count is a number, not an object)"
    )
    assert a.expect_json("$.meta[0]", 1, DOC) == (
        "json $.meta[0]: expected 1, got nothing ($.meta is an object, not an array)"
    )
    # null is a value, not a missing key.
    assert a.expect_json("$.meta.next", "x", DOC) == 'json $.meta.next: expected "x", got null'
    assert a.expect_json("$.meta.next.x", 1, DOC) == (
        "json $.meta.next.x: expected 1, got nothing ($.meta.next is null, not an object)"
    )
    assert a.expect_json("$.items[1].tags[0]", "a", DOC) == (
        "json $.items[1].tags[0]: expected \"a\", got nothing ($.items[1].tags has 0 items)"
    )


# -- SQL cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"), (1, "1"), ("1.50", "1.5"), (1.5, "1.5"), ("3.0", "3"), (3.0, "3"),
        ("-0", "0"), ("1e3", "1000"), ("007", "7"), ("abc", "abc"), ("", ""), (True, "true"),
        (b"raw", "raw"), ("nan", "nan"), ("1.2.3", "1.2.3"),
        (datetime.date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_cells_are_normalised(value: Any, text: str) -> None:
    assert a.normalise_cell(value) == text


def test_cells_compare_by_value() -> None:
    assert a.cells_equal(1.5, "1.50")
    assert a.cells_equal("2", 2)
    assert a.cells_equal("NULL", None)
    assert a.cells_equal(True, "t") and a.cells_equal(True, 1) and a.cells_equal(True, "true")
    assert a.cells_equal(False, "f") and a.cells_equal(False, 0)
    assert not a.cells_equal(True, "f")
    assert not a.cells_equal("a", "a ")


def test_rows_and_scalar() -> None:
    got = [("1", "ann"), ("2", None)]
    assert a.expect_rows([[1, "ann"], [2, "NULL"]], got) is None
    assert a.expect_rows([[1, "ann"]], got) == (
        'rows: expected [[1, "ann"]], got [[1, "ann"], [2, NULL]]'
    )
    assert a.expect_rows([[1, "ann"], [2]], got) is not None  # a short row differs
    assert a.expect_scalar(1, got) is None
    assert a.expect_scalar(2, got) == "scalar: expected 2, got 1"
    assert a.expect_scalar("x", []) == 'scalar: expected "x", got no rows'


# -- settings ------------------------------------------------------------------------------


def spec(kind: str, **settings: Any) -> CaseSpec:
    return CaseSpec("c", kind, settings, where="suites.s.cases[0]")


def config_error(kind: str, **settings: Any) -> ConfigError:
    case = BUILTIN_CASES[kind](spec(kind, **settings))
    with pytest.raises(ConfigError) as caught:
        case.validate()
    assert caught.value.message.startswith("suites.s.cases[0]: ")
    return caught.value


def test_the_builtin_kinds_are_registered() -> None:
    assert dict(BUILTIN_CASES) == {"command": CommandCase, "http": HttpCase, "sql": SqlCase}
    assert all(cls.kind == kind for kind, cls in BUILTIN_CASES.items())


def test_unknown_keys_are_refused_with_a_suggestion() -> None:
    error = config_error("command", command="true", expct={})
    assert "unknown setting 'expct'" in error.message and error.hint == "did you mean 'expect'?"
    error = config_error("command", command="true", expect={"exitcode": 1})
    assert "'expect.exitcode'" in error.message and "'exit_code'" in error.hint
    error = config_error("http", url="http://x", expect={"staus": 200})
    assert "'expect.staus'" in error.message and "'status'" in error.hint
    error = config_error("sql", object="db", query="SELECT 1", expect={"row": []})
    assert "'expect.row'" in error.message


def test_wrong_types_name_the_expected_type() -> None:
    error = config_error("command", command=42)
    assert error.message.endswith("command: expected a string or a list of strings, got 42")
    error = config_error("command", command="true", expect={"exit_code": "0"})
    assert "expect.exit_code: expected an integer, got '0'" in error.message
    error = config_error("command", command="true", expect={"exit_code": True})
    assert "expected an integer" in error.message
    error = config_error("command", command="true", expect={"max_seconds": -1})
    assert "expect.max_seconds: expected a positive number" in error.message
    error = config_error("command", command="true", env={"A": [1]})
    assert "env.A: expected a string" in error.message
    error = config_error("http", url="http://x", expect={"status": "200"})
    assert "expect.status: expected an integer or a list of integers" in error.message
    error = config_error("http", url="http://x", expect={"status": [200, 999]})
    assert "HTTP status codes" in error.message
    error = config_error("sql", object="db", query="SELECT 1", expect={"rows": [1, 2]})
    assert "expect.rows: expected a list of lists" in error.message
    error = config_error("sql", object="db", query="SELECT 1", expect={"columns": "id"})
    assert "expect.columns: expected a list of column names" in error.message


def test_each_kind_checks_its_own_rules() -> None:
    assert "command is required" in config_error("command").message
    assert "command is empty" in config_error("command", command="  ").message
    assert "cannot split" in config_error("command", command="echo 'open").message
    assert "not a valid regular expression" in config_error(
        "command", command="true", expect={"stdout_regex": "("}
    ).message
    assert "url is required" in config_error("http").message
    assert "expected an http:// or https:// URL" in config_error("http", url="ftp://x").message
    assert "set body or json" in config_error("http", url="http://x", body="a", json={}).message
    assert "method" in config_error("http", url="http://x", method="get me").message
    error = config_error("http", url="http://x", expect={"json": {"items[0]": 1}})
    assert "must start with $" in error.message
    assert "exactly one of query and file" in config_error("sql", object="db").message
    assert "exactly one of query and file" in config_error(
        "sql", object="db", query="SELECT 1", file="x.sql"
    ).message
    assert "object is required" in config_error("sql", query="SELECT 1").message


def test_good_settings_pass_and_common_keys_are_tolerated() -> None:
    CommandCase(spec("command", command=["echo", "hi"], timeout=5, retries=1)).validate()
    CommandCase(spec("command", command="echo hi", cwd="sub", env={"A": 1, "B": True},
                     expect={"exit_code": 3, "stdout_contains": ["a", "b"],
                             "stderr_regex": "x+", "stdout_equals": "hi", "max_seconds": 2.5}
                     )).validate()
    HttpCase(spec("http", url="${PTEST_OBJ_API_URL}/x", method="post", json={"a": [1]},
                  headers={"X-A": "1"}, expect={"status": [200, 201],
                  "json": {"$.a[0]": 1}, "headers": {"content-type": "json"},
                  "body_contains": "a", "max_ms": 100})).validate()
    SqlCase(spec("sql", object="db", file="q.sql",
                 expect={"rows": [[1, "a", True, 1.5]], "row_count": 1, "scalar": 1,
                         "columns": ["id"]})).validate()
    settings = CommandCase(spec("command", command="python -c 'print(1)'")).settings
    assert settings.argv == ("python", "-c", "print(1)") and settings.exit_code == 0


def test_variables_are_substituted_and_unknown_ones_named() -> None:
    variables = {"PTEST_OBJ_API_URL": "http://127.0.0.1:8080", "TOKEN": "t0k"}
    assert substitute("${PTEST_OBJ_API_URL}/x?t=${TOKEN}", variables, "url") == (
        "http://127.0.0.1:8080/x?t=t0k"
    )
    assert substitute("cost: $5, literal $${TOKEN}", variables, "body") == (
        "cost: $5, literal ${TOKEN}"
    )
    with pytest.raises(ValueError, match=r"url: unknown variable \$\{NOPE\}.*PTEST_OBJ_API_URL"):
        substitute("${NOPE}/x", variables, "url")
