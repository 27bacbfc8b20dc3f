"""Fill the shared uv cache on the host with what a docker env's container will install.

The container has no network. :func:`populate_cache` runs uv **here** with the container's
Python version and platform (``uv pip install --target <tmp> --python-version X.Y.Z
--python-platform x86_64-manylinux_2_36``), so uv downloads, unpacks and caches exactly
the wheels the container's resolver will pick; the throwaway target folder is deleted,
nothing is installed on the host.

``--find-links`` folders are rewritten to their mirror (see docker_pkgargs) on both sides.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import OutputCallback
from ptest_tui.engines.docker_pkgargs import redact_userinfo, rewrite_args
from ptest_tui.errors import CancelledError, PackageError, PackageUsageError
from ptest_tui.paths import user_cache_dir

log = logging.getLogger(__name__)

_USER_MISTAKE = re.compile(
    r"was not found in|no versions? of|No solution found|unsatisfiable|Failed to parse",
    re.IGNORECASE,
)


UV_NETWORK_SETTINGS = frozenset({
    "UV_HTTP_TIMEOUT", "UV_HTTP_RETRIES", "UV_NATIVE_TLS", "UV_INSECURE_HOST",
    "UV_CONCURRENT_DOWNLOADS", "UV_KEYRING_PROVIDER",
})


def cache_root() -> Path:
    """The user cache folder (symlinks resolved): uv's cache is its ``uv`` folder."""
    return Path(os.path.realpath(user_cache_dir()))


class CacheFillError(PackageError):
    """uv on the host could not fetch what a docker env needs; ``lines`` has its output."""

    def __init__(self, message: str, hint: str = "", lines: Sequence[str] = ()) -> None:
        super().__init__(message, hint)
        self.lines = tuple(lines)


class CacheFillUsageError(PackageUsageError):
    """A requirement that cannot be found or resolved (bad input); ``lines`` as above."""

    def __init__(self, message: str, hint: str = "", lines: Sequence[str] = ()) -> None:
        super().__init__(message, hint)
        self.lines = tuple(lines)


def summarize_uv_error(lines: Sequence[str]) -> str:
    """uv's error as one line: the ``error:`` line and its causes, credentials removed."""
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    if start is None:
        last = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
        return redact_userinfo(last)
    text = " ".join(
        line.strip() for line in lines[start:] if line.strip() and not line.startswith("hint:")
    )
    text = re.sub(r"^error:\s*", "", text)
    text = re.sub(r"\s*\bcause:\s*", ": ", text)
    return redact_userinfo(re.sub(r"\s+", " ", text).strip())


def _run_host_uv(argv: list[str], env: dict[str, str], on_output: OutputCallback,
                 cancel: CancelToken, timeout: float | None) -> tuple[int, list[str]]:
    from ptest_tui.engines.process import run_process

    lines: list[str] = []

    def collect(stream: str, line: str) -> None:
        lines.append(line)
        on_output(stream, redact_userinfo(line))

    result = run_process(argv, cwd=Path(tempfile.gettempdir()), env=env, on_output=collect,
                         cancel=cancel, timeout=timeout)
    if result.cancelled:
        raise CancelledError("fetching packages for the docker env cancelled", "")
    if result.timed_out:
        raise CacheFillError(f"fetching packages did not finish in {timeout:g} s", "try again")
    return result.exit_code, lines


def populate_cache(
    requirements: Sequence[str],
    *,
    index_args: Sequence[str],
    python_version: str,
    platform_tag: str,
    cancel: CancelToken,
    requirement_files: Sequence[str] = (),
    on_output: OutputCallback | None = None,
    uv: str | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Fill the shared uv cache with what ``requirements`` need in a container.

    Runs ``uv pip install --target <tmp>`` on the host for ``python_version`` (X.Y.Z) and
    ``platform_tag`` (see :func:`platform_tag`), with ``index_args`` (find-links folders
    are mirrored where containers see them), then deletes the folder: nothing is
    installed on the host. Pass the same ``index_args`` and requirements (plus the env's
    installed pins) that the container's install gets, so both resolve the same set.
    With ``--offline`` in ``index_args`` it only checks that the cache has everything.

    Raises CacheFillUsageError (a requirement not found or unsatisfiable) or
    CacheFillError (index unreachable, anything else), one redacted line each.
    """
    from ptest_tui.engines.virtualenv import find_uv

    if not requirements and not requirement_files:
        return
    uv = uv or find_uv()
    if uv is None:
        raise CacheFillError("no uv binary found on this host", "pip install uv")
    root = cache_root()
    # uv settings from outside could change what is resolved (another index), so only
    # network tuning passes; the container gets none of them either.
    env = {k: v for k, v in (os.environ if environ is None else environ).items()
           if not k.startswith(("UV_", "PIP_")) or k in UV_NETWORK_SETTINGS}
    env.update(UV_CACHE_DIR=str(root / "uv"), UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never",
               UV_NO_PROGRESS="1")
    (root / "uv").mkdir(parents=True, exist_ok=True)
    # A folder beside the cache, so the throwaway install hard-links instead of copying.
    work = Path(tempfile.mkdtemp(prefix=".docker-fill-", dir=root))
    try:
        argv = [uv, "pip", "install", "--color", "never", "--target", str(work / "target"),
                "--python", sys.executable, "--python-version", python_version,
                "--python-platform", platform_tag,
                *rewrite_args(index_args, root, keep_credentials=True)]
        for path in requirement_files:
            argv += ["-r", path]
        argv += ["--", *requirements] if requirements else []
        code, lines = _run_host_uv(argv, env, on_output or (lambda _s, _l: None), cancel,
                                   timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if code != 0:
        summary = summarize_uv_error(lines)
        log.debug("uv (cache fill) failed:\n%s", "\n".join(redact_userinfo(x) for x in lines))
        if _USER_MISTAKE.search(summary):
            raise CacheFillUsageError(
                f"cannot fetch packages for the docker env: {summary}",
                "check the requirement names and versions; nothing was installed",
                lines=[redact_userinfo(x) for x in lines],
            )
        raise CacheFillError(
            f"cannot fetch packages for the docker env: {summary}",
            "check the package index and your network (the container itself stays offline)",
            lines=[redact_userinfo(x) for x in lines],
        )


