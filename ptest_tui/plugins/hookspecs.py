"""pluggy hook specifications: the extension points of ptest-tui.

Built-in engines register through these same hooks, so a third-party engine is a peer of
the built-ins, not a special case (as tox's ``tox_register_tox_env`` works).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ptest_tui.engines.base import IsolationEngine
    from ptest_tui.objects.base import TestObject
    from ptest_tui.runs.cases.base import Case

PROJECT = "ptest_tui"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ptest_register_engines() -> list[type[IsolationEngine]]:  # type: ignore[empty-body]
    """Return isolation engine classes to register (each with a unique ``name``)."""


@hookspec
def ptest_register_objects() -> list[type[TestObject]]:  # type: ignore[empty-body]
    """Return test object classes to register (each with a unique ``kind``)."""


@hookspec
def ptest_register_cases() -> list[type[Case]]:  # type: ignore[empty-body]
    """Return case kind classes to register (each with a unique ``kind``)."""
