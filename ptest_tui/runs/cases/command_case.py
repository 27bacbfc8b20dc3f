"""The command case: run a program in the environment, check its exit code and output.

The command runs through ``ctx.exec``, so it sees the env's interpreter and packages in
basic, virtualenv and docker envs alike, with the process tree killed on timeout or
cancel. Output is kept up to a cap per stream (:class:`OutputBuffer`); lines beyond the
cap are still matched against ``*_contains`` and ``*_regex`` one by one before they are
dropped, so a command printing a gigabyte keeps memory flat and is still checked.

Example::

    [[suites.smoke.cases]]
    name = "cli version"
    kind = "command"
    command = "python -m mytool --version"
    expect = { exit_code = 0, stdout_regex = '^mytool \\d+\\.\\d+', max_seconds = 5 }
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ptest_tui.errors import CancelledError, ConfigError, PtestError
from ptest_tui.runs.cases import assertions as check
from ptest_tui.runs.cases.base import Case, CaseContext, CaseSpec, OutputBuffer
from ptest_tui.runs.cases.settings import Settings
from ptest_tui.runs.model import CANCELLED, ERROR, FAILED, PASSED, CaseResult

EXPECT_DOC = {
    "exit_code": "expected exit code (default 0)",
    "stdout_contains": "text (or list of texts) stdout must contain",
    "stderr_contains": "text (or list of texts) stderr must contain",
    "stdout_regex": "regular expression (or list) matching somewhere in stdout",
    "stderr_regex": "regular expression (or list) matching somewhere in stderr",
    "stdout_equals": "the whole of stdout (trailing newlines ignored)",
    "stderr_equals": "the whole of stderr (trailing newlines ignored)",
    "max_seconds": "longest the command may take",
}

# What container runtimes print when the program to exec does not exist.
NOT_FOUND_MARKERS = ("executable file not found", "OCI runtime exec failed")


@dataclass(frozen=True)
class StreamExpect:
    """What one output stream must hold."""

    contains: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    equals: str | None = None


@dataclass(frozen=True)
class CommandSettings:
    """A command case's checked settings."""

    argv: tuple[str, ...]
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict, hash=False)
    exit_code: int = 0
    stdout: StreamExpect = StreamExpect()
    stderr: StreamExpect = StreamExpect()
    max_seconds: float | None = None


class _Stream:
    """One stream's kept output, plus what was matched in lines past the cap."""

    def __init__(self, expect: StreamExpect) -> None:
        self.buffer = OutputBuffer()
        self.pending_needles = set(expect.contains)
        self.pending_patterns = {p: re.compile(p) for p in expect.regex}
        self.seen: set[str] = set()

    def add(self, line: str) -> None:
        dropped = self.buffer.dropped
        self.buffer.add(line)
        if self.buffer.dropped == dropped:
            return  # kept: the final check sees it
        for needle in list(self.pending_needles):
            if needle in line:
                self.seen.add(needle)
                self.pending_needles.discard(needle)
        for text, pattern in list(self.pending_patterns.items()):
            if pattern.search(line):
                self.seen.add(text)
                del self.pending_patterns[text]


class CommandCase(Case):
    """Runs ``command`` in the env and checks its exit code, output and duration."""

    kind = "command"
    description = "run a command in the environment; check exit code, output and duration"
    settings_doc = {
        "command": "the command: a string (split like a shell does, no shell runs) or a list",
        "cwd": "working folder (relative: to the workspace, or the container's workdir)",
        "env": "table of extra environment variables",
        "expect": "table: " + ", ".join(EXPECT_DOC),
    }

    def validate(self) -> None:
        """Check the settings (ConfigError naming the key)."""
        _ = self.settings

    @cached_property
    def settings(self) -> CommandSettings:
        """The checked settings."""
        return parse_settings(self.spec)

    def run(self, ctx: CaseContext) -> Sequence[CaseResult]:
        """Run the command once in ``ctx``'s env and check it."""
        settings = self.settings
        out, err = _Stream(settings.stdout), _Stream(settings.stderr)

        def on_output(stream: str, line: str) -> None:
            (err if stream == "stderr" else out).add(line)

        started_at = time.time()
        started = time.monotonic()
        try:
            done = ctx.exec(
                list(settings.argv), on_output=on_output, cwd=settings.cwd,
                env=dict(settings.env) or None, timeout=ctx.timeout,
            )
        except CancelledError as exc:
            return self._result(ctx, CANCELLED, exc.message, started, started_at, out, err)
        except PtestError as exc:
            # Nothing ran: command not found, a missing working folder, an env gone bad.
            return self._result(
                ctx, ERROR, f"could not run {shlex.join(settings.argv)}: {exc.one_line()}",
                started, started_at, out, err,
            )
        stdout, stderr = out.buffer.text(), err.buffer.text()
        if done.cancelled:
            return self._result(ctx, CANCELLED, "cancelled", started, started_at, out, err)
        if _not_started(done.exit_code, settings.exit_code, stdout + stderr):
            return self._result(
                ctx, ERROR, f"could not run {shlex.join(settings.argv)}: command not found"
                f" (exit {done.exit_code}: {_first_line(stdout + stderr)})",
                started, started_at, out, err, seconds=done.seconds,
            )
        checks = check.Checks()
        if done.timed_out:
            checks.add(f"timeout: the command was stopped after {ctx.timeout or 0:g} s")
        else:
            checks.add(check.expect_equal("exit code", settings.exit_code, done.exit_code))
        for name, stream, text, expect in (
            ("stdout", out, stdout, settings.stdout), ("stderr", err, stderr, settings.stderr)
        ):
            for needle in expect.contains:
                checks.add(check.expect_contains(
                    f"{name} contains", needle, text, needle in stream.seen
                ))
            for pattern in expect.regex:
                checks.add(check.expect_regex(
                    f"{name} regex", pattern, text, pattern in stream.seen
                ))
            if expect.equals is not None:
                checks.add(check.expect_text(f"{name} equals", expect.equals, text))
        if settings.max_seconds is not None:
            checks.add(check.expect_at_most_seconds(settings.max_seconds, done.seconds))
        status = PASSED if checks.passed else FAILED
        return self._result(
            ctx, status, checks.message, started, started_at, out, err, seconds=done.seconds
        )

    def _result(
        self,
        ctx: CaseContext,
        status: str,
        message: str,
        started: float,
        started_at: float,
        out: _Stream,
        err: _Stream,
        seconds: float | None = None,
    ) -> list[CaseResult]:
        result = ctx.result(
            self.spec, status, message=message,
            duration=seconds if seconds is not None else time.monotonic() - started,
            stdout=out.buffer.text(), stderr=err.buffer.text(), started_at=started_at,
        )
        return [result]


def _not_started(code: int, expected: int, output: str) -> bool:
    """Whether a docker exec reports that the program does not exist (the basic and
    virtualenv engines raise instead): exit 126/127 with the runtime's own message."""
    return code in (126, 127) and code != expected and any(
        marker in output for marker in NOT_FOUND_MARKERS
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no output"


def parse_settings(spec: CaseSpec) -> CommandSettings:
    """Check a command case's settings and build its :class:`CommandSettings`."""
    reader = Settings(spec)
    table = spec.settings
    reader.check_keys(table, CommandCase.settings_doc)
    argv = _argv(reader, table.get("command"))
    expect = reader.table(table, "expect", "expect")
    reader.check_keys(expect, EXPECT_DOC, "expect.")
    streams = {}
    for name in ("stdout", "stderr"):
        regex = reader.strings(expect, f"{name}_regex", f"expect.{name}_regex")
        for pattern in regex:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"{reader.where}: expect.{name}_regex: {pattern!r} is not a valid regular"
                    f" expression ({exc})",
                    "TOML literal strings ('...') keep backslashes as they are",
                ) from None
        streams[name] = StreamExpect(
            contains=reader.strings(expect, f"{name}_contains", f"expect.{name}_contains"),
            regex=regex,
            equals=reader.string(expect, f"{name}_equals", f"expect.{name}_equals"),
        )
    exit_code = reader.integer(expect, "exit_code", "expect.exit_code")
    return CommandSettings(
        argv=argv,
        cwd=reader.string(table, "cwd", "cwd"),
        env=reader.string_table(table, "env", "env"),
        exit_code=0 if exit_code is None else exit_code,
        stdout=streams["stdout"],
        stderr=streams["stderr"],
        max_seconds=reader.positive_number(expect, "max_seconds", "expect.max_seconds"),
    )


def _argv(reader: Settings, value: Any) -> tuple[str, ...]:
    if value is None:
        raise reader.missing("command")
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ConfigError(
                f"{reader.where}: command: cannot split {value!r} ({exc})",
                "balance the quotes, or give the command as a list",
            ) from None
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        argv = list(value)
    else:
        raise reader.fail("command", "a string or a list of strings", value)
    if not argv:
        raise ConfigError(f"{reader.where}: command is empty", "give the program to run")
    return tuple(argv)
