"""Server programs on the host: finding them, and running a tool (initdb, psql, ...).

A tool runs to completion with its output captured; a failure or a timeout becomes one
:class:`ToolError` line with the tool's last output and where the server log is.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ptest_tui.errors import PtestError
from ptest_tui.objects.account import Account


class ToolError(PtestError):
    """A server tool (initdb, psql, ...) failed."""


def find_program(names: Sequence[str], folders: Sequence[Path] = ()) -> str | None:
    """The first of ``names`` found in ``folders``, then on PATH and in /usr/sbin."""
    for folder in folders:
        for name in names:
            candidate = folder / name
            if candidate.is_file() and candidate.stat().st_mode & 0o111:
                return str(candidate)
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
        if found:
            return found
    return None


def run_host_tool(
    owner: str,
    argv: Sequence[str],
    *,
    account: Account | None,
    environment: Mapping[str, str],
    cwd: Path,
    timeout: float,
    what: str,
    log_file: Path,
) -> str:
    """Run ``argv`` (as ``account`` when given) with exactly ``environment``; its output.

    ``owner`` (the object's name) starts every error line; ``log_file`` is named in the
    hint, since the server's own log usually says more than the tool.
    """
    options: dict[str, Any] = account.popen_options() if account else {}
    label = what or Path(argv[0]).name
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False,
            env=dict(environment), cwd=cwd, **options,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{owner}: {label} did not finish in {timeout:g} s", "") from None
    except OSError as exc:
        raise ToolError(f"{owner}: cannot run {argv[0]}: {exc.strerror}", "") from None
    if done.returncode != 0:
        output = " | ".join(
            line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()
        )
        raise ToolError(f"{owner}: {label} failed: {output[-600:]}", f"see {log_file}")
    return str(done.stdout)
