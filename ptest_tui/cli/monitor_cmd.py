"""``ptest-tui monitor``: live CPU, memory, disk and network of the host, envs and objects.

On a terminal it draws a live table (rich); piped, it prints one tab-separated line per
sample; ``--json`` prints one JSON object per sample (and per alert), as NDJSON. Alerts
from the ``[monitor]`` thresholds print a warning line (on stderr when piped). Ctrl+C
stops it cleanly with exit code 130; ``--count N`` stops after N rounds (for scripts).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ptest_tui.cli import signals
from ptest_tui.cli.common import open_session
from ptest_tui.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ptest_tui.events import MonitorAlert, MonitorAlertCleared, MonitorSample
    from ptest_tui.monitor import Monitor, Tick

COLUMNS = ("target", "kind", "state", "cpu", "memory", "read", "write", "rx", "tx", "procs")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``monitor``."""
    parser = subparsers.add_parser(
        "monitor",
        help="live CPU, memory, disk and network of the host, envs and objects",
        description="Sample the host, environments and objects live; see docs/monitoring.md."
        " With no names: the host, every env and every running object.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="ENV|OBJ",
        help="what to watch (env:NAME or obj:NAME when a name is both; host for the machine)",
    )
    parser.add_argument("--interval", metavar="SECONDS",
                        help="seconds between samples (default: monitor.interval, 1)")
    parser.add_argument("--count", type=int, metavar="N", help="stop after N samples of each")
    parser.add_argument("--json", action="store_true", help="NDJSON: one object per sample")
    parser.set_defaults(handler=_monitor)


def _monitor(args: argparse.Namespace) -> int:
    from ptest_tui.config.units import parse_seconds
    from ptest_tui.monitor import Monitor

    if args.count is not None and args.count < 1:
        raise UsageError(f"--count must be at least 1, got {args.count}", "for example --count 3")
    interval = None
    if args.interval is not None:
        try:
            interval = parse_seconds(args.interval, minimum=0.1, maximum=3600.0)
        except UsageError as exc:
            raise UsageError(f"--interval: {exc.message}", exc.hint) from None
    with open_session(args) as session, Monitor(session, args.names, interval=interval) as monitor:
        ticks = monitor.run(count=args.count)
        try:
            if args.json:
                _print_json(ticks)
            elif sys.stdout.isatty():
                _live(monitor, ticks)
            else:
                _print_plain(ticks)
        except KeyboardInterrupt:
            ticks.close()
            return signals.interrupted_exit_code()
    return int(ExitCode.OK)


def _cells(sample: MonitorSample) -> list[str]:
    from ptest_tui.monitor.fmt import human_bytes, human_percent, human_rate

    memory = human_bytes(sample.memory_bytes)
    if sample.memory_limit and sample.memory_bytes is not None:
        memory += f"/{human_bytes(sample.memory_limit)}"
    return [
        sample.target, sample.target_kind, sample.state, human_percent(sample.cpu_percent),
        memory, human_rate(sample.read_bps), human_rate(sample.write_bps),
        human_rate(sample.rx_bps), human_rate(sample.tx_bps),
        "-" if sample.processes is None else str(sample.processes),
    ]


def _alert_line(alert: MonitorAlert | MonitorAlertCleared) -> str:
    from ptest_tui.events import MonitorAlertCleared

    word = "cleared" if isinstance(alert, MonitorAlertCleared) else "warning"
    return f"ptest-tui: {word}: {alert.message}"


def _print_json(ticks: Iterator[Tick]) -> None:
    for tick in ticks:
        records: list[Any] = [*tick.samples, *tick.alerts]
        for record in records:
            sys.stdout.write(json.dumps(record.to_dict(), default=str) + "\n")
        sys.stdout.flush()


def _print_plain(ticks: Iterator[Tick]) -> None:
    print("\t".join(("time", *COLUMNS)).upper(), flush=True)
    for tick in ticks:
        stamp = time.strftime("%H:%M:%S", time.localtime(tick.at))
        for sample in tick.samples:
            print("\t".join((stamp, *_cells(sample))))
        sys.stdout.flush()
        for alert in tick.alerts:
            print(_alert_line(alert), file=sys.stderr, flush=True)


def _live(monitor: Monitor, ticks: Iterator[Tick]) -> None:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    console = Console()

    def table(tick: Tick | None) -> Table:
        title = f"ptest-tui monitor · every {monitor.interval:g} s · Ctrl+C to stop"
        grid = Table(title=title, header_style="bold", expand=False)
        for column in COLUMNS:
            grid.add_column(
                column.upper(), justify="left" if column in COLUMNS[:3] else "right",
                no_wrap=True, overflow="ellipsis",
            )
        active = {(a.target_kind, a.target) for a in monitor.active_alerts()}
        for sample in tick.samples if tick else ():
            style = "yellow" if (sample.target_kind, sample.target) in active else None
            grid.add_row(*_cells(sample), style=style)
        if tick is None:
            grid.caption = "taking the first sample..."
        return grid

    with Live(table(None), console=console, auto_refresh=False, transient=False) as live:
        for tick in ticks:
            for alert in tick.alerts:
                live.console.print(_alert_line(alert), style="yellow", markup=False)
            live.update(table(tick), refresh=True)
