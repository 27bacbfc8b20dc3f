"""Typed events and the thread-safe bus that carries them to front ends and plugins."""

from ptest_tui.events.bus import EventBus
from ptest_tui.events.types import (
    CleanupRemoved,
    EnvCreated,
    EnvCreating,
    EnvDeleted,
    EnvDeleting,
    EnvFailed,
    EnvStatusChanged,
    Event,
    ImageBuildStep,
    OutputLine,
    PackageInstallFailed,
    PackagePhase,
    PackagesInstalled,
)

__all__ = [
    "CleanupRemoved",
    "EnvCreated",
    "EnvCreating",
    "EnvDeleted",
    "EnvDeleting",
    "EnvFailed",
    "EnvStatusChanged",
    "Event",
    "EventBus",
    "ImageBuildStep",
    "OutputLine",
    "PackageInstallFailed",
    "PackagePhase",
    "PackagesInstalled",
]
