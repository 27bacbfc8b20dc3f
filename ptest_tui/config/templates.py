"""Starter ``ptest.toml`` files written by ``ptest-tui init``.

The templates ship as package data (``ptest_tui/config/templates/*.toml``) and are read
with :mod:`importlib.resources`, so they work from a wheel, a zip or a source checkout.
Each one is commented TOML that validates against the current schema; features that are
not in the schema yet appear only in comments, because unknown sections are rejected.
"""

from __future__ import annotations

import sys
from importlib import resources

from ptest_tui.errors import UsageError

#: Template names, in the order ``init --help`` lists them; the first is the default.
TEMPLATE_NAMES = ("minimal", "web", "database")
DEFAULT_TEMPLATE = TEMPLATE_NAMES[0]

# Replaced by the running interpreter's ``major.minor`` so that a virtualenv env with a
# pinned Python works on the machine that ran ``init``.
PYTHON_PLACEHOLDER = "@PYTHON@"


def current_python() -> str:
    """The ``major.minor`` version of the interpreter running ptest-tui."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def template_text(name: str, python: str | None = None) -> str:
    """The text of template ``name`` with ``@PYTHON@`` replaced by ``python``.

    ``python`` defaults to the running interpreter's version. An unknown name raises
    :class:`UsageError` listing the valid ones.
    """
    if name not in TEMPLATE_NAMES:
        raise UsageError(f"unknown template {name!r}", "use one of: " + ", ".join(TEMPLATE_NAMES))
    folder = resources.files("ptest_tui.config").joinpath("templates")
    resource = folder.joinpath(f"{name}.toml")
    text = resource.read_text(encoding="utf-8")
    return text.replace(PYTHON_PLACEHOLDER, python or current_python())
