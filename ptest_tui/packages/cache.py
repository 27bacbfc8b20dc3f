"""The shared download and wheel cache (uv's and pip's) in the user cache folder.

Every env of every workspace installs through it. The tally of the last install (hits and
downloads) is kept in ``last-install.json`` beside it, for ``pkg cache info``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ptest_tui.paths import user_cache_dir

LAST_INSTALL = "last-install.json"


@dataclass(frozen=True)
class CacheInfo:
    """Size and contents of the shared cache, and how the last install used it."""

    location: str
    size_bytes: int
    entries: int
    last_install: dict[str, Any]

    @property
    def hit_rate(self) -> float | None:
        """Share of the last install's distributions served from the cache."""
        hits = int(self.last_install.get("cache_hits", 0))
        total = hits + int(self.last_install.get("downloads", 0))
        return hits / total if total else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {**asdict(self), "hit_rate": self.hit_rate}


def cache_root() -> Path:
    """The folder holding uv/ and pip/."""
    return user_cache_dir()


def _walk(folder: Path) -> tuple[int, int]:
    size = entries = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                size += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                continue
            entries += 1
    return size, entries


def cache_info() -> CacheInfo:
    """Walk the shared cache (uv and pip parts)."""
    root = cache_root()
    size = entries = 0
    for part in ("uv", "pip"):
        part_size, part_entries = _walk(root / part)
        size += part_size
        entries += part_entries
    last: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        last = json.loads((root / LAST_INSTALL).read_text())
    return CacheInfo(str(root), size, entries, last)


def record_install(env: str, installer: str, cache_hits: int, downloads: int) -> None:
    """Remember how the latest install used the cache (best effort)."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        data = {
            "env": env,
            "installer": installer,
            "cache_hits": cache_hits,
            "downloads": downloads,
            "at": time.time(),
        }
        tmp = root / f".{LAST_INSTALL}.{os.getpid()}"
        tmp.write_text(json.dumps(data))
        tmp.replace(root / LAST_INSTALL)
    except OSError:
        pass


def clean_cache(uv: str | None) -> int:
    """Empty the shared cache; returns the bytes freed. ``uv cache clean`` when possible."""
    before = cache_info().size_bytes
    root = cache_root()
    if uv and (root / "uv").exists():
        from ptest_tui.cancel import CancelToken
        from ptest_tui.engines.process import run_checked
        from ptest_tui.packages.index import IndexConfig

        env = IndexConfig().tool_environment()
        run_checked([uv, "cache", "clean"], what="uv cache clean", env=env, cancel=CancelToken())
    for part in ("uv", "pip"):
        shutil.rmtree(root / part, ignore_errors=True)
    (root / LAST_INSTALL).unlink(missing_ok=True)
    return before
