"""Change one setting in the workspace's config file, keeping everything else as written.

Used when a front end saves a choice (the app's theme). The file is edited as text, line by
line, so comments, order and formatting survive (a TOML writer would drop comments); the
result is validated before it replaces the file, and a change that would make the
configuration invalid is refused with the reason, leaving the file as it was.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ptest_tui.config.loader import PYPROJECT, config_file_for, load_config

HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def _assignment(key: str, value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value)  # a TOML basic string for ordinary text
    return f"{key} = {text}"


def edited(text: str, table: str, key: str, value: str | int | float | bool) -> str:
    """``text`` with ``table.key`` set to ``value`` (the table is added when missing)."""
    lines = text.splitlines()
    line = _assignment(key, value)
    headers = [(i, m.group(1).strip()) for i, ln in enumerate(lines) if (m := HEADER.match(ln))]
    start = next((i for i, name in headers if name == table), None)
    if start is None:
        body = text.rstrip("\n")
        return (body + "\n\n" if body else "") + f"[{table}]\n{line}\n"
    end = next((i for i in range(start + 1, len(lines)) if HEADER.match(lines[i])), len(lines))
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for index in range(start + 1, end):
        if pattern.match(lines[index]):
            lines[index] = line
            break
    else:
        lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"


def set_setting(root: Path, section: str, key: str, value: str | int | float | bool) -> Path:
    """Set ``section.key`` in the workspace's config file; returns the file.

    Raises ConfigError (the file unchanged) when the result would not be valid.
    """
    path = config_file_for(root)
    table = f"tool.ptest.{section}" if path.name == PYPROJECT else section
    original = path.read_text() if path.exists() else ""
    partial = path.with_name(path.name + ".ptest-edit")
    partial.write_text(edited(original, table, key, value))
    try:
        os.replace(partial, path)
        load_config(root, {}, ())  # still valid? (the file layer alone, as written)
    except Exception:
        path.write_text(original)
        raise
    finally:
        partial.unlink(missing_ok=True)
    return path
