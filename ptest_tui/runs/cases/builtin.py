"""The case kinds ptest-tui ships besides pytest: command, http and sql."""

from __future__ import annotations

from collections.abc import Mapping

from ptest_tui.runs.cases.base import Case
from ptest_tui.runs.cases.command_case import CommandCase
from ptest_tui.runs.cases.http_case import HttpCase
from ptest_tui.runs.cases.sql_case import SqlCase

BUILTIN_CASES: Mapping[str, type[Case]] = {
    "command": CommandCase,
    "http": HttpCase,
    "sql": SqlCase,
}
