"""pluggy hook specifications: the extension points of ptest-tui.

Built-in engines register through these same hooks, so a third-party engine is a peer of
the built-ins, not a special case (as tox's ``tox_register_tox_env`` works).

Two families (docs/plugins.md has signatures, order and examples):

- ``ptest_register_*``: what a plugin adds (engines, object kinds, case kinds, report
  formats, CLI subcommands); collected in registration order, built-ins first.
- ``ptest_on_*``: lifecycle hooks, called by one bridge from the session's event bus
  (ptest_tui/plugins/bridge.py), in pluggy's order: the last registered plugin first,
  ``tryfirst``/``trylast`` respected. Engine code only publishes events.

A plugin that raises in any hook is logged by name, announced as a ``PluginFailed`` event
and disabled for the rest of the session; everything else keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import argparse

    from ptest_tui.engines.base import IsolationEngine
    from ptest_tui.events.types import (
        CaseFinished,
        CaseStarted,
        EnvCreated,
        EnvDeleted,
        Event,
        MigrationStep,
        MonitorAlert,
        MonitorAlertCleared,
        ObjectStarted,
        ObjectStopped,
        PackagesInstalled,
        RunFinished,
    )
    from ptest_tui.objects.base import TestObject
    from ptest_tui.reports.plugin_formats import Reporter
    from ptest_tui.runs.cases.base import Case
    from ptest_tui.session import Session

PROJECT = "ptest_tui"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ptest_register_engines() -> list[type[IsolationEngine]]:  # type: ignore[empty-body]
    """Return isolation engine classes to register (each with a unique ``name``)."""


@hookspec
def ptest_register_objects() -> list[type[TestObject]]:  # type: ignore[empty-body]
    """Return test object classes to register (each with a unique ``kind``)."""


@hookspec
def ptest_register_cases() -> list[type[Case]]:  # type: ignore[empty-body]
    """Return case kind classes to register (each with a unique ``kind``)."""


@hookspec
def ptest_register_reporters() -> list[Reporter]:  # type: ignore[empty-body]
    """Return report formats (:class:`~ptest_tui.reports.plugin_formats.Reporter`), each
    usable as ``run --report NAME`` and ``report --format NAME``."""


@hookspec
def ptest_register_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add CLI subcommands: ``subparsers.add_parser(...)`` and ``set_defaults(handler=fn)``,
    ``fn(args) -> int``. Called for every command line, so keep imports inside handlers."""


# -- lifecycle hooks: called by the bridge from events; results are ignored ----------------


@hookspec
def ptest_on_event(session: Session, event: Event) -> None:
    """Every event the session publishes (after the specific hook below, if any)."""


@hookspec
def ptest_on_env_created(session: Session, event: EnvCreated) -> None:
    """An environment is ready (created or repaired)."""


@hookspec
def ptest_on_env_deleted(session: Session, event: EnvDeleted) -> None:
    """An environment is gone."""


@hookspec
def ptest_on_packages_installed(session: Session, event: PackagesInstalled) -> None:
    """A package operation (install, uninstall, sync) finished in one env."""


@hookspec
def ptest_on_object_started(session: Session, event: ObjectStarted) -> None:
    """A test object is ready."""


@hookspec
def ptest_on_object_stopped(session: Session, event: ObjectStopped) -> None:
    """A test object was stopped."""


@hookspec
def ptest_on_case_started(session: Session, event: CaseStarted) -> None:
    """A case began in one env (once per attempt)."""


@hookspec
def ptest_on_case_finished(session: Session, event: CaseFinished) -> None:
    """One result arrived (a pytest case sends one per test)."""


@hookspec
def ptest_on_run_finished(session: Session, event: RunFinished) -> None:
    """A run ended; its results are stored (``session.runs.results(event.run_id)``)."""


@hookspec
def ptest_on_migration_done(session: Session, event: MigrationStep) -> None:
    """A restore or migration finished and was switched in (``event.step == "done"``)."""


@hookspec
def ptest_alert(alert: MonitorAlert | MonitorAlertCleared) -> None:
    """A monitor threshold was crossed (MonitorAlert) or is back within (MonitorAlertCleared).

    Called once per crossing, from the monitor's thread; an implementation that raises is
    logged with the plugin's name and monitoring goes on.
    """
