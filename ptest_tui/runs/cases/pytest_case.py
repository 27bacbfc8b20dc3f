"""The pytest case: run a pytest target in the environment, one result per test, live.

pytest runs in the env's own interpreter (``python3`` by default) as
``python3 -c LAUNCHER TOKEN CWD ARGS...``, where LAUNCHER is the text of
:mod:`ptest_tui.runs.pytest_plugin`: nothing is installed or copied into the env, and the
same argument list works in basic, virtualenv and docker envs. The plugin writes one line
per finished test (see its protocol); each becomes a :class:`CaseResult` (``case`` is the
node id, ``parent`` the configured case) published at once with ``ctx.emit``. Outcomes
are pytest's own categories, so the results add up to exactly what running pytest in that
env prints. A test with a second counted outcome (an error at teardown after it passed, a
subtest) gives a second result named ``NODEID (teardown)`` or after the subtest.

Beyond the tests, one result named after the case explains a run that did not go as
pytest runs go, so that the case fails exactly when pytest would exit non-zero:

* exit code 5 (no test ran): ``error``. pytest itself exits non-zero for it, and a
  configured target that selects nothing is almost always a mistake (a typo in ``target``
  or ``k``); modules skipped as a whole while collecting are still reported as skips;
* exit code 1 with no failing test reported (a plugin failed the session): ``error``;
* 2 (interrupted), unless collection errors (already reported) caused it; 3 (internal
  error); 4 (usage error: bad option, missing target, broken conftest): ``error`` with
  pytest's output as the message;
* pytest missing from the env, or the interpreter missing: ``error`` with a hint;
* timeout or cancel: the process tree is killed, finished tests are kept, and the test
  that was running (else the case) gets ``error`` (timed out) or ``cancelled``; a crash
  (killed, segfault) is put on the running test the same way.

Example::

    [[suites.unit.cases]]
    name = "unit"
    kind = "pytest"
    target = ["tests/unit", "tests/test_api.py::test_login"]
    k = "not slow"
    args = ["-x", "-p", "no:cacheprovider"]
"""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import PurePosixPath, PureWindowsPath

from ptest_tui.errors import CancelledError, ConfigError, PtestError
from ptest_tui.runs.cases.base import Case, CaseContext, CaseSpec
from ptest_tui.runs.cases.pytest_stream import PytestStream
from ptest_tui.runs.cases.settings import Settings
from ptest_tui.runs.model import CANCELLED, ERROR, FAILING, CaseResult

DEFAULT_PYTHON = "python3"
# pytest's exit codes (pytest.ExitCode), named here: pytest is not imported by ptest-tui.
OK, TESTS_FAILED, INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR, NO_TESTS = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class PytestSettings:
    """A pytest case's checked settings."""

    targets: tuple[str, ...] = ()
    k: str | None = None
    m: str | None = None
    args: tuple[str, ...] = ()
    python: str = DEFAULT_PYTHON
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict, hash=False)


@cache
def launcher_source() -> str:
    """The program passed to ``python -c``: the plugin module's text."""
    return resources.files("ptest_tui.runs").joinpath("pytest_plugin.py").read_text("utf-8")


def build_argv(settings: PytestSettings, token: str) -> list[str]:
    """The argument list that runs pytest with the reporter in the env.

    ``token`` marks this run's records (see :mod:`ptest_tui.runs.pytest_plugin`).
    """
    argv = [settings.python, "-c", launcher_source(), token, settings.cwd, *settings.args]
    if settings.k is not None:
        argv += ["-k", settings.k]
    if settings.m is not None:
        argv += ["-m", settings.m]
    return argv + list(settings.targets)


class PytestCase(Case):
    """Runs pytest on a target in the env; one result per test, published live."""

    kind = "pytest"
    description = "run pytest on a target in the environment; one result per test"
    settings_doc = {
        "target": "test path or node id, or a list of them (default: pytest's own choice)",
        "k": "pytest -k expression (select tests by name)",
        "m": "pytest -m expression (select tests by marker)",
        "args": "list of extra pytest arguments",
        "python": f"interpreter in the env that has pytest (default {DEFAULT_PYTHON})",
        "cwd": "folder to run in, relative to the workspace (default: the workspace)",
        "env": "table of extra environment variables",
    }

    def validate(self) -> None:
        """Check the settings (ConfigError naming the key)."""
        _ = self.settings

    @cached_property
    def settings(self) -> PytestSettings:
        """The checked settings."""
        return parse_settings(self.spec)

    def run(self, ctx: CaseContext) -> Sequence[CaseResult]:
        """Run pytest once in ``ctx``'s env; emit and return a result per test."""
        settings = self.settings
        token = secrets.token_hex(8)
        stream = PytestStream(ctx, self.spec, token)
        started_at, started = time.time(), time.monotonic()

        def ending(status: str, message: str, case: str = "") -> CaseResult:
            result = stream.case_result(
                status, message, case=case, started_at=started_at,
                duration=time.monotonic() - started,
            )
            ctx.emit(result)
            return result

        try:
            done = ctx.exec(
                build_argv(settings, token), on_output=stream.on_output,
                env=dict(settings.env) or None, timeout=ctx.timeout,
            )
        except CancelledError as exc:
            return [*stream.results, ending(CANCELLED, exc.message)]
        except PtestError as exc:
            # Nothing ran (the interpreter is missing), or the env failed under the run.
            hint = (f"set python = \"...\" in {self.spec.where or 'the case'} to an interpreter"
                    " of the env that has pytest") if "not found" in exc.message else ""
            return [*stream.results, ending(ERROR, _join(
                f"could not run pytest with {settings.python!r}: {exc.one_line()}", hint))]
        if done.cancelled or done.timed_out:
            return stream.results + self._stopped(ctx, stream, done.cancelled)
        extra = self._explain(ctx, stream, done.exit_code)
        return [*stream.results, *(ending(ERROR, text, case) for case, text in extra)]

    def _stopped(self, ctx: CaseContext, stream: PytestStream, cancelled: bool) -> list[CaseResult]:
        """Results for a run stopped by cancel or timeout: the running tests, else the case."""
        count = len(stream.results)
        finished = f"{count} result{'' if count == 1 else 's'} had come in"
        if cancelled:
            status, why = CANCELLED, "cancelled"
        else:
            status, why = ERROR, f"timed out: the case's {ctx.timeout or 0:g} s ran out"
        running = stream.running()
        if running:
            texts = [(nodeid, f"{why} while this test ran; the process tree was stopped "
                      f"({finished})") for nodeid in running]
        else:
            texts = [("", f"{why}; the process tree was stopped ({finished}; no test was"
                      " running)")]
        out = []
        for case, text in texts:
            result = stream.case_result(status, text, case=case)
            ctx.emit(result)
            out.append(result)
        return out

    def _explain(
        self, ctx: CaseContext, stream: PytestStream, code: int
    ) -> list[tuple[str, str]]:
        """(case, message) of the extra error results a finished process calls for."""
        fatal = stream.fatal
        if fatal is not None:
            if fatal.get("reason") == "no-pytest":
                return [("", _join(
                    f"pytest is not installed in environment {ctx.env!r} for "
                    f"{self.settings.python!r} ({fatal.get('message', '')})",
                    f"add pytest to the env's packages: ptest-tui pkg install {ctx.env} pytest",
                ))]
            return [("", _join(str(fatal.get("message", "pytest could not start")),
                               f"check cwd in {self.spec.where or 'the case'}"))]
        output = stream.tail_text()
        if stream.hello is None:
            return [("", _join(
                f"could not start pytest with {self.settings.python!r} "
                f"({_describe_exit(code)})",
                f"set python in {self.spec.where or 'the case'} to an interpreter of the env",
                output,
            ))]
        summary = stream.summary or {}
        results = stream.results
        if code == OK:
            return []
        if code == TESTS_FAILED:
            if any(r.status in FAILING for r in results):
                return []
            return [("", _join("pytest exited with code 1 but reported no failure", "", output))]
        if code == NO_TESTS:
            return [("", _join(
                "no tests collected (pytest exit code 5)",
                "check target, k and m of the case: they select no test", output))]
        if code == INTERRUPTED:
            if stream.collect_errors and summary.get("interrupted", "").endswith(
                "during collection"
            ):
                return []  # pytest stops after collection errors; they are the results
            return [("", _join(
                f"pytest was interrupted: {summary.get('interrupted') or 'exit code 2'}",
                "", output))]
        if code == INTERNAL_ERROR:
            return [("", _join(
                "pytest stopped with an internal error", "",
                summary.get("internal_error") or output))]
        if code == USAGE_ERROR:
            return [("", _join("pytest usage error (exit code 4)",
                               "check target, args, k and m, and the suite's conftest.py",
                               output))]
        why = f"the pytest process ended abnormally ({_describe_exit(code)})"
        running = stream.running()
        if running:
            return [(nodeid, _join(f"{why} while this test ran", "", output))
                    for nodeid in running]
        return [("", _join(why, "", output))]


def _describe_exit(code: int) -> str:
    if code == -1:
        return "exit code unknown"  # a container exec whose end was not seen
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    if code > 128:  # a shell's or container's way of saying "killed by signal code-128"
        try:
            return f"exit code {code}: killed by {signal.Signals(code - 128).name}?"
        except ValueError:
            pass
    return f"exit code {code}"


def _join(message: str, hint: str = "", output: str = "") -> str:
    parts = [message]
    if hint:
        parts.append(f"hint: {hint}")
    if output:
        parts.append(output)
    return "\n".join(parts)


def parse_settings(spec: CaseSpec) -> PytestSettings:
    """Check a pytest case's settings and build its :class:`PytestSettings`."""
    reader = Settings(spec)
    table = spec.settings
    reader.check_keys(table, PytestCase.settings_doc)
    targets = reader.strings(table, "target", "target")
    if any(not target.strip() for target in targets):
        raise reader.fail("target", "non-empty paths or node ids", table.get("target"))
    args = table.get("args")
    if args is not None and not (
        isinstance(args, list) and all(isinstance(a, str) for a in args)
    ):
        raise reader.fail("args", "a list of strings", args)
    python = reader.string(table, "python", "python")
    if python is not None and not python.strip():
        raise reader.fail("python", "an interpreter name or path", python)
    cwd = reader.string(table, "cwd", "cwd") or ""
    if PurePosixPath(cwd).is_absolute() or PureWindowsPath(cwd).is_absolute():
        raise ConfigError(
            f"{reader.where}: cwd: expected a folder relative to the workspace, got {cwd!r}",
            "write the path relative to the workspace (docker envs see it elsewhere)",
        )
    return PytestSettings(
        targets=targets,
        k=reader.string(table, "k", "k"),
        m=reader.string(table, "m", "m"),
        args=tuple(args or ()),
        python=python or DEFAULT_PYTHON,
        cwd=cwd,
        env=reader.string_table(table, "env", "env"),
    )
