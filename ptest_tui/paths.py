"""Per-user folders of ptest-tui (the shared cache)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "ptest-tui"


def user_cache_dir() -> Path:
    """The user cache folder shared by all workspaces (``PTEST_CACHE_DIR`` overrides it).

    On Linux this is the XDG rule computed directly, because importing platformdirs costs
    about 10 ms of every command's start; elsewhere platformdirs answers.
    """
    override = os.environ.get("PTEST_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "").strip()
        root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
        return root / APP
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))
