"""Locks: the exact versions of an env with the sha256 of each file, and syncing to them.

``pkg lock`` compiles ``name==version`` of everything installed with
``uv pip compile --generate-hashes`` (same index settings), under a header naming the env,
its Python, the date and the ptest-tui version. The result is a plain requirements file
(``--hash=sha256:`` lines), so ``pip install --require-hashes -r`` reads it too.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ptest_tui import __version__
from ptest_tui.cancel import CancelToken
from ptest_tui.engines.process import run_process
from ptest_tui.errors import CancelledError, PackageError, UsageError
from ptest_tui.packages.errors import classify
from ptest_tui.packages.index import IndexConfig, redact
from ptest_tui.packages.requirements import read_requirements_file

_PIN_RE = re.compile(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)(\s*;.*)?")


@dataclass(frozen=True)
class LockFile:
    """A lock's text and what it pins."""

    env: str
    text: str
    pins: tuple[str, ...]  # name==version
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the text is redacted already)."""
        return {"env": self.env, "path": self.path, "pins": list(self.pins)}


def compile_lock(
    uv: str,
    env: str,
    pins: Sequence[str],
    python_version: str,
    index: IndexConfig,
    cancel: CancelToken,
) -> LockFile:
    """Hash-pinned lock text for ``pins`` (resolved for ``python_version``)."""
    lines: list[str] = []
    errors: list[str] = []
    with tempfile.NamedTemporaryFile("w", suffix=".in", delete=False) as handle:
        handle.write("\n".join(pins) + "\n")
        source = handle.name
    argv = [
        uv, "pip", "compile", source, "--generate-hashes", "--no-header", "--no-annotate",
        "--quiet", *index.uv_args(),
    ]
    if python_version:
        argv += ["--python-version", python_version]
    try:
        result = run_process(
            argv,
            cwd=Path(source).parent,
            env=index.tool_environment(),
            on_output=lambda stream, line: (lines if stream == "stdout" else errors).append(line),
            cancel=cancel,
        )
    finally:
        Path(source).unlink(missing_ok=True)
    if result.cancelled:
        raise CancelledError(f"lock of {env} cancelled", "")
    if result.exit_code != 0:
        raise classify("uv", errors, env=env, action="lock the packages", index=index)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    header = [
        f"# ptest-tui lock of environment {env}",
        f"# python {python_version or 'unknown'}; {now}; ptest-tui {__version__}",
        f"# index: {index.describe()}",
        "# reproduce with: ptest-tui pkg sync ENV --lock THIS_FILE",
    ]
    body = [redact(line) for line in lines if not line.startswith("#")]
    text = "\n".join(header + body).rstrip() + "\n"
    return LockFile(env, text, tuple(sorted(pins, key=str.lower)))


def read_lock(path: str | Path) -> list[tuple[str, str]]:
    """(canonical name, version) of every pin in a lock; UsageError if it is not a lock."""
    lines = read_requirements_file(path)
    pins: list[tuple[str, str]] = []
    for line in lines:
        match = _PIN_RE.fullmatch(line.text)
        if not match:
            raise UsageError(
                f"{line.origin}: {line.text!r} is not an exact pin (name==version)",
                "give a file written by `ptest-tui pkg lock`",
            )
        if not line.hashes:
            raise UsageError(
                f"{line.origin}: {line.text} has no --hash", "locks carry a hash for every pin"
            )
        pins.append((canonicalize_name(match.group(1)), match.group(2)))
    if not pins:
        raise UsageError(f"lock file {path} pins nothing", "give a file written by `pkg lock`")
    return pins


def verify(expected: Sequence[tuple[str, str]], installed: dict[str, str], env: str) -> None:
    """Raise PackageError unless ``installed`` (key -> version) is exactly ``expected``."""
    want = dict(expected)
    wrong = sorted(
        f"{name} {installed.get(name, 'missing')} (lock: {version})"
        for name, version in want.items()
        if installed.get(name) != version
    )
    extra = sorted(name for name in installed if name not in want)
    if wrong or extra:
        parts = ([f"differs: {', '.join(wrong)}"] if wrong else []) + (
            [f"not in the lock: {', '.join(extra)}"] if extra else []
        )
        raise PackageError(f"{env} does not match the lock after sync: {'; '.join(parts)}", "")
