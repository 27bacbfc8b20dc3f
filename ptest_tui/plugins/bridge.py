"""The one bridge from the session's event bus to the plugins' lifecycle hooks.

Engine code only publishes typed events; this subscriber turns each event into the
matching ``ptest_on_*`` hook (if any), then ``ptest_on_event``. Hooks run in the
publishing thread, one plugin at a time (see :mod:`ptest_tui.plugins.manager` for the
order and for what happens to a plugin that raises).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ptest_tui.events.types import (
    CaseFinished,
    CaseStarted,
    EnvCreated,
    EnvDeleted,
    Event,
    MigrationStep,
    ObjectStarted,
    ObjectStopped,
    PackagesInstalled,
    PluginFailed,
    RunFinished,
)

if TYPE_CHECKING:
    from ptest_tui.session import Session

# Event class -> the lifecycle hook it triggers (exact classes: a subclass is another event).
LIFECYCLE_HOOKS: dict[type[Event], str] = {
    EnvCreated: "ptest_on_env_created",
    EnvDeleted: "ptest_on_env_deleted",
    PackagesInstalled: "ptest_on_packages_installed",
    ObjectStarted: "ptest_on_object_started",
    ObjectStopped: "ptest_on_object_stopped",
    CaseStarted: "ptest_on_case_started",
    CaseFinished: "ptest_on_case_finished",
    RunFinished: "ptest_on_run_finished",
}
MIGRATION_DONE = "ptest_on_migration_done"


def hook_for(event: Event) -> str | None:
    """The specific lifecycle hook ``event`` triggers, or None."""
    if isinstance(event, MigrationStep):
        # Restores and migrations publish progress steps; "done" is the switched-in end.
        return MIGRATION_DONE if event.step == "done" else None
    return LIFECYCLE_HOOKS.get(type(event))


def attach_bridge(session: Session) -> Callable[[], None]:
    """Deliver ``session``'s events to its plugins; returns a function that detaches.

    Failures of plugins are published on the same bus as PluginFailed events, including
    those that happened while loading (before there was a bus to tell).
    """
    manager = session.plugins
    bus = session.bus

    def deliver(event: Event) -> None:
        hook = hook_for(event)
        if hook is not None:
            manager.notify(hook, session=session, event=event)
        manager.notify("ptest_on_event", session=session, event=event)

    unsubscribe = bus.subscribe(Event, deliver)
    remove_listener = manager.on_failure(bus.publish)
    for info in manager.failures():
        bus.publish(PluginFailed(info.name, info.hook, info.reason))

    def detach() -> None:
        unsubscribe()
        remove_listener()

    return detach
