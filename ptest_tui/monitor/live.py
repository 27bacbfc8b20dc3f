"""What long-running front ends (the app, batch mode) keep running beside their work.

- the config watcher: valid edits of ptest.toml apply live, invalid ones are reported
  (``ConfigReloaded`` / ``ConfigReloadFailed`` events);
- a background :class:`~ptest_tui.monitor.Monitor` whenever ``[monitor]`` sets a threshold,
  so crossings raise ``MonitorAlert`` events (and the ``ptest_alert`` hook) while the
  front end works; set by a reload, it starts then, and stops when the thresholds go.

Front ends subscribe to those events and show them their way (a notification, a warning
line). Samples are not published: a front end that draws graphs runs its own Monitor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ptest_tui.errors import PtestError

if TYPE_CHECKING:
    from ptest_tui.config.watch import ConfigWatcher
    from ptest_tui.events import ConfigReloaded
    from ptest_tui.monitor.monitor import Monitor
    from ptest_tui.session import Session

log = logging.getLogger(__name__)


class LiveWatch:
    """Config hot reload and threshold alerts for the lifetime of a front end."""

    def __init__(self, session: Session, *, watch_config: bool = True) -> None:
        self.session = session
        self.watch_config = watch_config
        self.watcher: ConfigWatcher | None = None
        self.monitor: Monitor | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> LiveWatch:
        """Start watching; never raises (a broken piece is logged, the rest runs)."""
        from ptest_tui.events import ConfigReloaded

        if self.watch_config:
            try:
                self.watcher = self.session.watch_config()
            except Exception as exc:  # watchfiles missing or the folder unwatchable
                log.warning("cannot watch the configuration: %s", exc)
        self._unsubscribe = self.session.bus.subscribe(ConfigReloaded, self._reloaded)
        self._sync_monitor()
        return self

    def _reloaded(self, event: ConfigReloaded) -> None:
        if "monitor" in event.changed:
            self._sync_monitor()

    def _sync_monitor(self) -> None:
        from ptest_tui.monitor.alerts import Thresholds

        wanted = Thresholds.from_config(self.session.config.monitor).any
        if wanted and self.monitor is None:
            try:
                self.monitor = self.session.monitor(publish=False).start()
            except PtestError as exc:
                log.warning("cannot start the monitor: %s", exc.one_line())
        elif not wanted and self.monitor is not None:
            self.monitor.stop()
            self.monitor = None

    def stop(self) -> None:
        """Stop everything started."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def __enter__(self) -> LiveWatch:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
