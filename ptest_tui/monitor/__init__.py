"""Live resource monitoring: samplers, ring buffers and threshold alerts.

See docs/monitoring.md. :class:`Monitor` is the entry point; samples are
:class:`~ptest_tui.events.MonitorSample` events, alerts are
:class:`~ptest_tui.events.MonitorAlert` and :class:`~ptest_tui.events.MonitorAlertCleared`.
"""

from ptest_tui.events.types import MonitorAlert, MonitorAlertCleared, MonitorSample
from ptest_tui.monitor.alerts import AlertTracker, Thresholds
from ptest_tui.monitor.monitor import Monitor, Tick
from ptest_tui.monitor.ring import RingBuffer
from ptest_tui.monitor.targets import Target

__all__ = [
    "AlertTracker",
    "Monitor",
    "MonitorAlert",
    "MonitorAlertCleared",
    "MonitorSample",
    "RingBuffer",
    "Target",
    "Thresholds",
    "Tick",
]
