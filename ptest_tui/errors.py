"""One error root for everything ptest-tui reports to people.

Every error carries a one-line ``message`` (what is wrong) and a ``hint`` (what to do).
Front ends print both without a traceback and exit with ``exit_code``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/cli.md."""

    OK = 0
    FAILURE = 1  # a command, check or test failed (doctor: something required is missing)
    USAGE = 2  # bad input or invalid configuration; nothing was changed
    INFRASTRUCTURE = 3  # an engine, daemon or external tool failed
    INTERRUPTED = 130


class PtestError(Exception):
    """Root of all errors meant for people: a message and a hint."""

    exit_code: ExitCode = ExitCode.INFRASTRUCTURE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """Message and hint on one line, as the CLI prints them."""
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class UsageError(PtestError):
    """Bad input from the command line or API: nothing was changed."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """An invalid or missing configuration file."""


class WorkspaceError(UsageError):
    """No workspace found, or the workspace is unusable."""


class EnvNotFoundError(UsageError):
    """The named environment does not exist."""


class EnvStateError(UsageError):
    """The environment is in a state that does not allow the action."""


class EngineError(PtestError):
    """An isolation engine failed while acting."""


class EngineUnavailableError(EngineError):
    """An isolation engine cannot run on this machine (daemon down, tool missing)."""


class ImageError(EngineError):
    """A container image is missing or could not be built."""


class PackageError(EngineError):
    """A package tool failed (index unreachable, install failed): infrastructure."""


class PackageUsageError(UsageError):
    """A package request that cannot be met as asked (unknown package, not installed)."""


class PackageConflictError(PackageUsageError):
    """The requested packages conflict with each other or with what the env has.

    ``details`` holds the resolver's full explanation (shown with ``--debug``).
    """

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message, hint)
        self.details = details


class StoreError(PtestError):
    """The state store is unreadable or from a newer ptest-tui."""


class PluginError(PtestError):
    """A plugin failed to load or registered something invalid."""


class CancelledError(PtestError):
    """An operation was cancelled by the user."""

    exit_code = ExitCode.INTERRUPTED
