"""Starter ``ptest.toml`` files written by ``ptest-tui init``.

The templates ship as package data (``ptest_tui/config/templates/*.toml``) and are read
with :mod:`importlib.resources`, so they work from a wheel, a zip or a source checkout.
Each one is commented TOML that validates against the current schema; features that are
not in the schema yet appear only in comments, because unknown sections are rejected.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path

from ptest_tui.errors import UsageError, WorkspaceError

CONFIG_FILE = "ptest.toml"

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


def write_template(folder: Path, name: str = DEFAULT_TEMPLATE, *, force: bool = False) -> Path:
    """Write template ``name`` as ``folder/ptest.toml`` (``ptest-tui init`` and the app).

    The text is validated first (as ``load_config`` will read it back), an existing file
    is kept unless ``force``, and the file is written aside and renamed into place, so a
    half-written ptest.toml never exists. Returns the path written.
    """
    import tomllib

    from ptest_tui.config.schema import validate

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", "pass a folder to initialise")
    path = folder / CONFIG_FILE
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists", "pass --force to overwrite it, or edit it by hand"
        )
    text = template_text(name)
    validate(tomllib.loads(text), f"template {name}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, text)
    except OSError as exc:
        # Read-only folder, a file where a parent folder should be, a full disk...
        reason = exc.strerror or type(exc).__name__
        raise WorkspaceError(
            f"cannot write {path}: {reason}",
            "pick a folder you can write to (every part of the path must be a folder)",
        ) from None
    return path


def _write_atomically(path: Path, text: str) -> None:
    # A half-written ptest.toml would break every later command; write aside, then rename.
    # open(..., "x") keeps the usual umask permissions (mkstemp would make it 0600).
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("x", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
