"""A pytest plugin that streams one JSON line per finished test, and its launcher.

This file is also the program the pytest case runs in the environment: its whole text is
passed as ``python -c TEXT TOKEN CWD *PYTEST_ARGS`` (an argument list: no shell, no file
to copy, the same for every engine). The environment does not have ptest-tui installed, so this
module imports only the standard library (pytest itself once it runs), and its code must
work on any Python that a supported pytest runs on (3.8 and later: annotations are never
evaluated, and no newer syntax is used).

Protocol: every record is one line ``ptest-record:TOKEN:`` + JSON, written to a duplicate
of the process's stderr taken before pytest starts, so pytest's output capturing (which
redirects file descriptors 1 and 2 while tests run) never swallows it, and pytest's own
terminal output on stdout stays exactly as pytest printed it (records on stdout would cut
into its half-written progress lines). TOKEN is new for every run, so nothing a test
prints can pass for a record; the prefix is printable ASCII, so no line splitter (not
even ``str.splitlines``, which breaks at control characters such as ``\x1e``) cuts a
record apart, and JSON escapes every newline inside one. Records:

* ``hello``: the launcher runs (pytest and Python versions);
* ``fatal``: pytest could not start (``reason``: ``no-pytest`` or ``cwd``);
* ``begin``: a test has been running for a while (``nodeid``, ``at``: when it started);
  sent only for tests still running at a flush, so a test that hangs is named while fast
  tests cost no record;
* ``test``: a finished test: ``nodeid``, ``outcome`` (passed, failed, skipped, xfailed,
  xpassed, error, or another category a plugin reports), ``when``, ``duration``,
  ``message``, ``stdout``, ``stderr``, and ``extra`` (a second outcome of the same test:
  an error at teardown after the call's outcome, a subtest's outcome) with its ``label``;
* ``summary``: at the end: pytest's exit status, the count of each category, collected
  and deselected numbers, and the interruption or internal error text if any.

Outcomes are pytest's own categories: each report goes through the
``pytest_report_teststatus`` hook exactly as the terminal reporter does it, collection
reports count as errors (failed) or skips, and reports that do not count towards the
summary are left out, so the records add up to the same numbers as pytest's final line.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

PREFIX = "ptest-record:"
PROTOCOL = 1
# Kept per text field (failure text, captured stdout, captured stderr); must equal
# ptest_tui.runs.cases.base.OUTPUT_CAP (a unit test checks it).
TEXT_CAP = 256 * 1024
# Exit status of the launcher when pytest could not start (pytest's own usage-error code).
EXIT_FATAL = 4


def cap_text(text: str, cap: int = TEXT_CAP) -> str:
    """``text`` cut to ``cap`` characters with the marker ptest-tui uses everywhere."""
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n[... {len(text) - cap} more characters truncated by ptest-tui]"


def record_prefix(token: str) -> str:
    """What starts every record line of the run that has ``token``."""
    return f"{PREFIX}{token}:"


class Channel:
    """Writes records as single lines to one file descriptor, a batch at a time.

    A write to a pipe costs a system call and wakes the reader; one per record made a
    2,000-test suite ~12% slower. Records are buffered and written together when
    BATCH of them are waiting, every FLUSH_SECONDS (a background thread, so the record of
    a test that hangs still arrives) and at once for the important ones (``urgent``).
    """

    BATCH = 64
    FLUSH_SECONDS = 0.1

    def __init__(self, fd: int, token: str) -> None:
        import threading

        self.fd = fd
        self.prefix = record_prefix(token)
        self.buffer: list[str] = []
        self.lock = threading.Lock()
        self.current = ""  # the test running now, its start, and whether "begin" went out
        self.current_at = 0.0
        self.current_sent = False
        self.flusher = threading.Thread(target=self._flush_regularly, daemon=True)
        self.flusher.start()

    def send(self, kind: str, urgent: bool = False, **fields: Any) -> None:
        """Queue one record (written now when ``urgent``)."""
        fields["type"] = kind
        line = self.prefix + json.dumps(fields, separators=(",", ":")) + "\n"
        with self.lock:
            self.buffer.append(line)
            if urgent or len(self.buffer) >= self.BATCH:
                self._write_locked()

    def flush(self) -> None:
        """Write everything queued."""
        with self.lock:
            self._write_locked()

    def test_started(self, nodeid: str) -> None:
        """Remember the running test (its "begin" goes out only if it is still running at
        the next regular flush)."""
        import time

        with self.lock:
            self.current, self.current_at, self.current_sent = nodeid, time.time(), False

    def test_finished(self) -> None:
        """The running test is over (called before its records are queued, under the same
        lock as the flusher's check, so a "begin" never follows its test's records)."""
        with self.lock:
            self.current = ""

    def _flush_regularly(self) -> None:
        import time

        while True:
            time.sleep(self.FLUSH_SECONDS)
            with self.lock:
                if self.current and not self.current_sent:
                    fields = {"nodeid": self.current, "at": self.current_at, "type": "begin"}
                    self.buffer.append(
                        self.prefix + json.dumps(fields, separators=(",", ":")) + "\n"
                    )
                    self.current_sent = True
                self._write_locked()

    def _write_locked(self) -> None:
        """Write the buffer; a closed or broken descriptor is ignored (pytest goes on)."""
        if not self.buffer:
            return
        data = "".join(self.buffer).encode("ascii")
        self.buffer = []
        try:
            while data:  # a pipe may take a long batch in several writes
                written = os.write(self.fd, data)
                data = data[written:]
        except OSError:
            pass


def _skip_reason(report: Any, base: str) -> str:
    """What pytest's short summary says about a skip or an expected failure."""
    if hasattr(report, "wasxfail"):
        reason = str(report.wasxfail)
        return reason[len("reason: "):] if reason.startswith("reason: ") else reason
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, lineno, reason = str(longrepr[0]), longrepr[1], str(longrepr[2])
        if reason.startswith("Skipped: "):
            reason = reason[len("Skipped: "):]
        if base and os.path.isabs(path):  # shown relative, as pytest shows it
            relative = os.path.relpath(path, base)
            path = path if relative.startswith("..") else relative
        where = f"{path}:{lineno + 1}" if isinstance(lineno, int) else path
        return f"{where}: {reason}"
    return _long_text(report)


def _long_text(report: Any) -> str:
    try:
        return str(report.longreprtext)
    except Exception:  # a plugin's odd longrepr must not break the stream
        return str(report.longrepr)


def _message(report: Any, outcome: str, base: str) -> str:
    if outcome in ("skipped", "xfailed", "xpassed"):
        return _skip_reason(report, base)
    if outcome in ("passed",) or not report.longrepr:
        return ""
    return _long_text(report)


def _outputs(report: Any) -> tuple[str, str]:
    """Captured stdout and stderr (captured log lines go with stderr)."""
    stdout = "".join(c for title, c in report.sections if title.startswith("Captured stdout"))
    stderr = "".join(c for title, c in report.sections if title.startswith("Captured stderr"))
    log = "\n".join(c for title, c in report.sections if title.startswith("Captured log"))
    if log:
        stderr += ("\n" if stderr and not stderr.endswith("\n") else "") + log
    return stdout, stderr


def _is_subtest(report: Any) -> bool:
    return type(report).__name__ in ("SubtestReport", "SubTestReport")


def _label(report: Any) -> str:
    """How a second outcome of one test is told apart: `` (teardown)``, a subtest's id."""
    if _is_subtest(report):
        describe = getattr(report, "_sub_test_description", None)
        try:
            text = str(describe()).strip() if callable(describe) else ""
        except Exception:  # private API of pytest's subtests
            text = ""
        return f" {text}" if text else " (subtest)"
    return f" ({report.when})"


class PtestReporter:
    """Streams each finished test (and collection errors and skips) as a record."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.config: Any = None
        self.base = ""  # the folder pytest was started in: paths in messages are relative
        # nodeid -> [(category, report)] until pytest_runtest_logfinish
        self.pending: dict[str, list[Any]] = {}
        self.terminal: Any = None
        self.counts: dict[str, int] = {}
        self.deselected = 0
        self.interrupted = ""
        self.internal_error = ""

    def _count(self, category: str, report: Any) -> None:
        if category and getattr(report, "count_towards_summary", True):
            self.counts[category] = self.counts.get(category, 0) + 1

    def pytest_configure(self, config: Any) -> None:
        self.config = config
        # The terminal reporter already asks pytest_report_teststatus about every report and
        # files it under its category; reading that back (see _category) costs nothing,
        # where asking the hook again would double pytest's own reporting cost.
        self.terminal = config.pluginmanager.get_plugin("terminalreporter")
        params = getattr(config, "invocation_params", None)  # pytest 5.1 and later
        self.base = str(params.dir) if params is not None else os.getcwd()

    def pytest_deselected(self, items: Sequence[Any]) -> None:
        self.deselected += len(items)

    def pytest_collectreport(self, report: Any) -> None:
        # The terminal reporter counts a failed collection as an error, a skipped one
        # (pytest.skip at module level) as a skip.
        if report.failed:
            outcome = "error"
        elif report.skipped:
            outcome = "skipped"
        else:
            return
        self._count(outcome, report)
        stdout, stderr = _outputs(report)
        self.channel.send(
            "test", nodeid=report.nodeid, outcome=outcome, when="collect", duration=0.0,
            message=cap_text(_message(report, outcome, self.base)), stdout=cap_text(stdout),
            stderr=cap_text(stderr), extra=False, label="", collect=True,
        )

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.pending.setdefault(nodeid, [])
        self.channel.test_started(nodeid)

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.pending.setdefault(report.nodeid, []).append(report)

    def _category(self, report: Any) -> str:
        """pytest's category of ``report``: as the terminal reporter filed it, else asked."""
        stats = getattr(self.terminal, "stats", None)
        if isinstance(stats, dict):
            # Filed moments ago, so among the last few of its category's list. The usual
            # categories first: "" (a passed setup or teardown) and the report's outcome.
            likely = ("", report.outcome)
            for category in (*likely, *(c for c in stats if c not in likely)):
                if any(filed is report for filed in stats.get(category, ())[-4:]):
                    return str(category)
        status = self.config.hook.pytest_report_teststatus(report=report, config=self.config)
        return str(status[0]) if status else str(report.outcome)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.channel.test_finished()
        self._flush(nodeid)

    def _flush(self, nodeid: str) -> None:
        filed = self.pending.pop(nodeid, [])
        if not filed:
            return
        reports = [(self._category(report), report) for report in filed]
        for category, report in reports:
            self._count(category, report)
        counted = [
            (category, report) for category, report in reports
            if category and getattr(report, "count_towards_summary", True)
        ]
        # The test's outcome: its first counted report that is not a subtest's (the setup's
        # error or skip, else the call's); every other counted report is an extra.
        main = next(
            (i for i, (_c, report) in enumerate(counted) if not _is_subtest(report)), 0
        )
        last = reports[-1][1]  # its sections hold the output of every phase
        stdout, stderr = _outputs(last)
        total = sum(float(getattr(report, "duration", 0.0) or 0.0) for _c, report in reports)
        for index, (category, report) in enumerate(counted):
            extra = index != main
            fields: dict[str, Any] = {
                "nodeid": nodeid, "outcome": category, "when": report.when,
                "duration": float(report.duration or 0.0) if extra else total,
            }
            # Empty texts and false flags are left out: most records are a plain pass, and
            # every byte is encoded here and parsed again by ptest-tui.
            message = _message(report, category, self.base)
            if message:
                fields["message"] = cap_text(message)
            if not extra and stdout:
                fields["stdout"] = cap_text(stdout)
            if not extra and stderr:
                fields["stderr"] = cap_text(stderr)
            if extra:
                fields.update(extra=True, label=_label(report))
            self.channel.send("test", **fields)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        try:
            self.interrupted = str(excinfo.exconly())
        except Exception:
            self.interrupted = "interrupted"

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        self.internal_error = cap_text(str(excrepr))

    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> None:
        for nodeid in list(self.pending):
            self._flush(nodeid)
        self.channel.send(
            "summary", urgent=True, exitstatus=int(exitstatus), counts=self.counts,
            collected=int(getattr(session, "testscollected", 0) or 0),
            deselected=self.deselected, interrupted=self.interrupted,
            internal_error=self.internal_error,
        )


def launch(argv: Sequence[str]) -> int:
    """Run pytest the way ``python -m pytest ARGS`` does, with the reporter plugged in.

    ``argv`` is ``sys.argv``: ``["-c", TOKEN, CWD, *ARGS]``; CWD (may be empty) is relative
    to the folder the command starts in (the workspace).
    """
    token = argv[1] if len(argv) > 1 else "0"
    channel = Channel(os.dup(2), token)
    cwd = argv[2] if len(argv) > 2 else ""
    args = list(argv[3:])
    if cwd:
        try:
            os.chdir(cwd)
        except OSError as exc:
            message = f"cannot change to folder {cwd}: {exc.strerror}"
            channel.send("fatal", urgent=True, reason="cwd", message=message)
            return EXIT_FATAL
    # python -c puts "" (the current folder, looked up at each import) first on sys.path;
    # python -m pytest puts the folder's absolute path there. Match the latter, so a test
    # that changes folder imports the same modules either way.
    if sys.path and sys.path[0] == "":
        sys.path[0] = os.getcwd()
    sys.argv = [sys.argv[0], *args]
    try:
        import pytest
    except ImportError as exc:
        channel.send(
            "fatal", urgent=True, reason="no-pytest", message=str(exc), python=sys.executable
        )
        return EXIT_FATAL
    channel.send(
        "hello", urgent=True, protocol=PROTOCOL, pytest=pytest.__version__,
        python=sys.version.split()[0], executable=sys.executable, cwd=os.getcwd(),
    )
    _flush_on_sigterm(channel)
    try:
        return int(pytest.main(args, plugins=[PtestReporter(channel)]))
    finally:
        channel.flush()


def _flush_on_sigterm(channel: Channel) -> None:
    """SIGTERM (a stop that SIGINT did not achieve) still writes the queued records first."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        channel.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    import contextlib

    with contextlib.suppress(ValueError, OSError):  # not the main thread, or unsupported
        signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(launch(sys.argv))
