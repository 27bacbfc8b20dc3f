"""Registers the built-in case kinds through the same hook third-party plugins use."""

from __future__ import annotations

from ptest_tui.plugins.hookspecs import hookimpl
from ptest_tui.runs.cases.base import Case


@hookimpl
def ptest_register_cases() -> list[type[Case]]:
    """pytest, command, http and sql."""
    from ptest_tui.runs.cases.builtin import BUILTIN_CASES
    from ptest_tui.runs.cases.pytest_case import PytestCase

    return [PytestCase, *BUILTIN_CASES.values()]
