"""The pytest case without an env: settings, the argument list, the record stream."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import ConfigError
from ptest_tui.runs import pytest_plugin
from ptest_tui.runs.cases.base import OUTPUT_CAP, CaseContext, CaseSpec, capped
from ptest_tui.runs.cases.pytest_case import (
    PytestCase,
    PytestSettings,
    build_argv,
    launcher_source,
)
from ptest_tui.runs.cases.pytest_stream import PytestStream
from ptest_tui.runs.model import CaseResult

WHERE = "suites.api.cases[1]"


def case(settings: dict[str, Any]) -> PytestCase:
    return PytestCase(CaseSpec("unit", "pytest", settings, where=WHERE))


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"target": 3}, "target"),
        ({"target": ["tests", 1]}, "target"),
        ({"target": [" "]}, "target"),
        ({"k": 1}, "k"),
        ({"m": ["slow"]}, "m"),
        ({"args": "-x"}, "args"),
        ({"args": ["-x", 2]}, "args"),
        ({"python": ""}, "python"),
        ({"python": 3}, "python"),
        ({"cwd": "/abs/path"}, "cwd"),
        ({"cwd": 1}, "cwd"),
        ({"env": {"A": [1]}}, "env.A"),
        ({"env": "A=1"}, "env"),
    ],
)
def test_bad_settings_name_the_case_and_key(settings: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        case(settings).validate()
    assert caught.value.message.startswith(f"{WHERE}: {key}:")
    assert caught.value.hint


def test_unknown_setting_suggests_the_near_one() -> None:
    with pytest.raises(ConfigError) as caught:
        case({"tagret": "tests"}).validate()
    assert "'tagret'" in caught.value.message and "'target'" in caught.value.hint


def test_settings_and_argument_list() -> None:
    checked = case({
        "target": ["tests/unit", "tests/test_a.py::test_x"], "k": "not slow", "m": "db",
        "args": ["-x", "-p", "no:cacheprovider"], "python": "python3.11", "cwd": "sub",
        "env": {"FLAG": True, "N": 2}, "timeout": 10, "description": "common keys pass",
    }).settings
    assert checked.env == {"FLAG": "true", "N": "2"}
    assert build_argv(checked, "t0k") == [
        "python3.11", "-c", launcher_source(), "t0k", "sub", "-x", "-p", "no:cacheprovider",
        "-k", "not slow", "-m", "db", "tests/unit", "tests/test_a.py::test_x",
    ]
    assert build_argv(PytestSettings(), "t") == ["python3", "-c", launcher_source(), "t", ""]


def test_launcher_is_the_plugin_and_runs_on_old_pythons() -> None:
    source = launcher_source()
    assert source == Path(pytest_plugin.__file__).read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 8))  # the env's Python may be older than ours
    assert "import ptest_tui" not in source and "from ptest_tui" not in source


def test_plugin_caps_text_like_the_case() -> None:
    assert pytest_plugin.TEXT_CAP == OUTPUT_CAP
    text = "x" * (OUTPUT_CAP + 10)
    assert pytest_plugin.cap_text(text) == capped(text)


def stream_for() -> tuple[PytestStream, list[CaseResult]]:
    emitted: list[CaseResult] = []
    ctx = CaseContext(
        run_id="r", suite="s", env="e", isolation="basic", cancel=CancelToken(), timeout=None,
        variables={}, exec=lambda *a, **k: None, emit=emitted.append,
        object_info=lambda n: None, object_kind=lambda n: "",
    )
    return PytestStream(ctx, CaseSpec("unit", "pytest", {}), TOKEN), emitted


TOKEN = "5eed"
PREFIX = pytest_plugin.record_prefix(TOKEN)


def record(**fields: Any) -> str:
    return PREFIX + json.dumps(fields)


def test_stream_turns_records_into_results_and_keeps_the_rest() -> None:
    stream, emitted = stream_for()
    stream.on_output("stdout", "============ test session starts ============")
    stream.on_output("stderr", record(type="hello", pytest="9.0", protocol=1))
    stream.on_output("stderr", record(type="begin", nodeid="t.py::a"))
    assert stream.running() == ["t.py::a"]
    # A test that wrote half a line to stderr with capturing off: the record follows it.
    stream.on_output("stderr", "half a line" + record(
        type="test", nodeid="t.py::a", outcome="passed", duration=0.5, stdout="out\n",
        extra=False,
    ))
    stream.on_output("stderr", record(
        type="test", nodeid="t.py::a", outcome="error", when="teardown", extra=True,
        label=" (teardown)", message="boom",
    ))
    stream.on_output("stderr", record(type="test", nodeid="t.py::b", outcome="rerun"))
    stream.on_output("stderr", PREFIX + "{not json")
    # A record of another run (a test printing one) is only text.
    stream.on_output("stderr", pytest_plugin.record_prefix("other") + '{"type": "hello"}')
    stream.on_output("stderr", record(type="summary", exitstatus=1, counts={"passed": 1}))
    assert [(r.case, r.status, r.parent) for r in emitted] == [
        ("t.py::a", "passed", "unit"), ("t.py::a (teardown)", "error", "unit"),
    ]
    assert stream.results == emitted and stream.running() == []
    assert emitted[0].stdout == "out\n" and emitted[0].duration == 0.5
    assert emitted[1].message == "boom"
    assert stream.other == {"rerun": 1}
    assert stream.hello == {"type": "hello", "pytest": "9.0", "protocol": 1}
    assert stream.summary is not None
    assert stream.stdout.text() == "============ test session starts ============"
    other = pytest_plugin.record_prefix("other") + '{"type": "hello"}'
    assert stream.stderr.text().split("\n") == ["half a line", PREFIX + "{not json", other]


def test_stream_keeps_names_unique() -> None:
    stream, emitted = stream_for()
    for _ in range(3):
        stream.on_output("stderr", record(type="test", nodeid="t.py::a", outcome="passed"))
    assert [r.case for r in emitted] == ["t.py::a", "t.py::a #2", "t.py::a #3"]
    ending = stream.case_result("error", "stopped")
    assert (ending.case, ending.parent) == ("unit", "unit")
