"""The pip backend for docker envs: a wheelhouse filled on the host.

pip cannot read uv's cache, and the container has no network. So for ``installer = pip``
the host runs ``pip download`` for the container's Python and platform into
``<user cache>/wheelhouse`` (visible in the container at the same path, read-only, through
the cache mount), and pip inside installs from there with ``--no-index``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.process import run_process
from ptest_tui.errors import CancelledError, PackageError

WHEELHOUSE = "wheelhouse"
OLDEST_MANYLINUX_MINOR = 17


def wheelhouse(cache_root: str) -> str:
    """Where the wheels for docker envs' pip live (same path on host and in containers)."""
    return str(Path(cache_root) / WHEELHOUSE)


def platform_args(platform_tag: str) -> list[str]:
    """pip ``--platform`` options accepting every manylinux the container's glibc runs.

    ``x86_64-manylinux_2_36`` gives manylinux_2_36_x86_64 down to manylinux_2_17 (and the
    manylinux2014 alias); pure-Python wheels match in any case.
    """
    match = re.fullmatch(r"(\w+)-manylinux_2_(\d+)", platform_tag)
    if not match:
        return []
    arch, newest = match.group(1), int(match.group(2))
    minors = range(newest, OLDEST_MANYLINUX_MINOR - 1, -1)
    tags = [f"manylinux_2_{minor}_{arch}" for minor in minors]
    tags.append(f"manylinux2014_{arch}")
    args: list[str] = []
    for tag in tags:
        args += ["--platform", tag]
    return args


def fill_wheelhouse(
    requirements: Sequence[str],
    *,
    cache_root: str,
    python_version: str,
    platform_tag: str,
    index_args: Sequence[str],
    cancel: CancelToken,
) -> list[str]:
    """``pip download`` on the host into the wheelhouse; returns pip's output lines.

    Raises PackageError carrying ``lines`` when pip fails (the caller classifies it).
    """
    major, minor = python_version.split(".")[:2]
    target = wheelhouse(cache_root)
    Path(target).mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
        "--progress-bar", "off", "--only-binary=:all:", "--dest", target,
        "--python-version", f"{major}.{minor}", "--implementation", "cp",
        "--abi", f"cp{major}{minor}", *platform_args(platform_tag), *index_args,
        "--", *requirements,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_CACHE_DIR=str(Path(cache_root) / "pip"))
    lines: list[str] = []
    result = run_process(
        argv, cwd=Path(target), env=env, on_output=lambda _s, line: lines.append(line),
        cancel=cancel, own_group=False,
    )
    if result.cancelled:
        raise CancelledError("fetching wheels cancelled", "")
    if result.exit_code != 0:
        error = PackageError("pip download failed", "run with --debug for pip's output")
        error.lines = tuple(lines)  # type: ignore[attr-defined]
        raise error
    return lines
