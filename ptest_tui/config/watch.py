"""Config hot reload: watch ptest.toml and apply valid changes live (themes: theme_watch).

A :class:`ConfigWatcher` runs watchfiles in a thread over the workspace folder (not the
file itself: editors save by writing a new file and renaming it over the old one, and a
deleted file must be noticed and its return picked up). Each change of a watched file
reloads the configuration through the normal loader:

- valid: the session switches to it (``Session.reload_config``), and a ``ConfigReloaded``
  event says which sections changed; envs, objects, suites, thresholds, the theme and the
  sampling interval all read the session's config, so they take effect at once;
- invalid (or the file deleted): the previous configuration stays, and a
  ``ConfigReloadFailed`` event carries the one-line problem with file and line.

From a save to the event is the debounce (50 ms) plus one config load (a few ms).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

CONFIG_FILES = ("ptest.toml", "pyproject.toml")
DEBOUNCE_MS = 50


class WatchThread:
    """Start/stop of a watcher running ``_run`` in a daemon thread (config and themes)."""

    THREAD_NAME = "ptest-watch"
    _stop: threading.Event
    _thread: threading.Thread | None

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        """Start watching (idempotent); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.THREAD_NAME,
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class ConfigWatcher(WatchThread):
    """Watches a workspace's config files in a thread (themes: ``theme_watch``)."""

    THREAD_NAME = "ptest-config-watch"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.root = session.workspace.root
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once the watcher is listening

    def _watched(self, path: str) -> bool:
        """Whether ``path`` is one of the workspace's config files."""
        changed = Path(path)
        return changed.parent == self.root and changed.name in CONFIG_FILES

    def _run(self) -> None:
        import watchfiles

        def interesting(_change: Any, path: str) -> bool:
            return self._watched(path)

        try:
            for changes in watchfiles.watch(
                self.root, watch_filter=interesting, debounce=DEBOUNCE_MS, step=10,
                stop_event=self._stop, recursive=False, yield_on_timeout=True,
                rust_timeout=200, raise_interrupt=False,
            ):
                self.ready.set()
                if changes:
                    self.session.reload_config()
        except Exception:  # the watcher must never take the app down
            log.exception("config watcher stopped")
        finally:
            self.ready.set()
