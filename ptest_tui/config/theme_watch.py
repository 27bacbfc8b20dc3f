"""Watch theme folders: report ``*.toml`` files that change, appear or go away.

The same shape as :class:`~ptest_tui.config.watch.ConfigWatcher`: watchfiles in a daemon
thread, non-recursive, over folders rather than files (editors save by writing a new file
and renaming it over the old one). A folder that does not exist yet (a workspace's
``themes/`` before anyone made it) is watched through its parent; once it appears, its
files are reported and the folder itself is watched from then on.

The watcher only reports paths; the front end decides what a change means (the app
re-reads and re-applies the theme on its own thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ptest_tui.config.watch import WatchThread

log = logging.getLogger(__name__)

DEBOUNCE_MS = 50
SUFFIX = ".toml"


class ThemeWatcher(WatchThread):
    """Calls ``on_change(paths)`` from a thread when theme files in ``folders`` change."""

    THREAD_NAME = "ptest-theme-watch"

    def __init__(self, folders: Iterable[Path], on_change: Callable[[list[Path]], None]) -> None:
        self.folders = tuple(dict.fromkeys(Path(folder).absolute() for folder in folders))
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once the watcher is listening

    def _relevant(self, path: Path) -> bool:
        """A theme file in a watched folder, or a watched folder appearing or going away."""
        if path in self.folders:
            return True
        return path.parent in self.folders and path.suffix == SUFFIX

    def _targets(self) -> set[Path]:
        """What to hand watchfiles: each folder, or its parent while it does not exist."""
        targets: set[Path] = set()
        for folder in self.folders:
            if folder.is_dir():
                targets.add(folder)
            elif folder.parent.is_dir():
                targets.add(folder.parent)
        return targets

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                targets = self._targets()
                if not targets:
                    return
                self._watch(targets)
        except Exception:  # the watcher must never take the app down
            log.exception("theme watcher stopped")
        finally:
            self.ready.set()

    def _watch(self, targets: set[Path]) -> None:
        """Watch ``targets`` until stopped, or until the set of folders to watch changes."""
        import watchfiles

        def interesting(_change: Any, path: str) -> bool:
            return self._relevant(Path(path))

        for changes in watchfiles.watch(
            *targets, watch_filter=interesting, debounce=DEBOUNCE_MS, step=10,
            stop_event=self._stop, recursive=False, yield_on_timeout=True,
            rust_timeout=200, raise_interrupt=False,
        ):
            self.ready.set()
            if not changes:
                continue
            paths = sorted({Path(path) for _change, path in changes})
            reported: list[Path] = []
            for path in paths:
                if path in self.folders:
                    # A folder appeared (report what it holds) or went away.
                    reported.extend(sorted(path.glob(f"*{SUFFIX}")) if path.is_dir() else [])
                else:
                    reported.append(path)
            if reported:
                self.on_change(reported)
            if self._targets() != targets:
                return  # a folder appeared or went away: watch the new set
