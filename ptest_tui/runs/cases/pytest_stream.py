"""Turns the pytest case's output into results as it streams (see ``runs.pytest_plugin``).

Lines carrying the run's record prefix are records: each finished test becomes a
:class:`CaseResult` at once and is published with ``ctx.emit``; everything else is
pytest's own output, kept up to the output cap (plus the last lines, for error messages).
The prefix is looked for anywhere in a line: a test that wrote half a line to stderr with
capturing off (``-s``) leaves its text in front of the record.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from ptest_tui.runs.cases.base import OUTPUT_CAP, CaseContext, CaseSpec, OutputBuffer, capped
from ptest_tui.runs.model import CANCELLED, ERROR, OUTCOMES, CaseResult
from ptest_tui.runs.pytest_plugin import record_prefix

# Outcomes a test record may carry; anything else is a plugin's own category (rerun,
# "subtests passed") that pytest lists in its summary but that is no result of its own.
TEST_OUTCOMES = frozenset(OUTCOMES) - {CANCELLED}
TAIL_LINES = 60  # lines of pytest's output quoted in an error result
# The plugin caps each text at OUTPUT_CAP and adds its marker; capping again here only
# guards against a record that did not (the marker must not be cut off and replaced).
RECORD_CAP = OUTPUT_CAP + 100


class PytestStream:
    """Collects one pytest run's records and output; thread-safe (two pump threads)."""

    def __init__(self, ctx: CaseContext, spec: CaseSpec, token: str) -> None:
        self.ctx = ctx
        self.spec = spec
        self.prefix = record_prefix(token)
        self.results: list[CaseResult] = []
        self.hello: dict[str, Any] | None = None
        self.fatal: dict[str, Any] | None = None
        self.summary: dict[str, Any] | None = None
        self.other: dict[str, int] = {}  # plugin categories, counted only
        self.collect_errors = 0
        self.stdout = OutputBuffer()
        self.stderr = OutputBuffer()
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._running: dict[str, float] = {}  # nodeid -> when its begin record came
        self._names: set[str] = set()
        self._lock = threading.Lock()

    # -- input --------------------------------------------------------------------------

    def on_output(self, stream: str, line: str) -> None:
        """The ``on_output`` callback of ``ctx.exec``."""
        at = line.find(self.prefix)
        if at < 0:
            self._text(stream, line)
            return
        if at:
            self._text(stream, line[:at])
        try:
            record = json.loads(line[at + len(self.prefix):])
        except ValueError:
            record = None
        if not isinstance(record, dict):
            self._text(stream, line[at:])
            return
        result = self._record(record)
        if result is not None:
            self.ctx.emit(result)

    def _text(self, stream: str, line: str) -> None:
        with self._lock:
            (self.stderr if stream == "stderr" else self.stdout).add(line)
            self._tail.append(line if len(line) <= 2000 else line[:2000] + " [...]")

    def _record(self, record: dict[str, Any]) -> CaseResult | None:
        kind = record.get("type")
        with self._lock:
            if kind == "hello":
                self.hello = record
            elif kind == "fatal":
                self.fatal = record
            elif kind == "summary":
                self.summary = record
            elif kind == "begin":
                self._running[str(record.get("nodeid", ""))] = _number(record.get("at")) or (
                    time.time()
                )
            elif kind == "test":
                return self._test(record)
        return None

    def _test(self, record: dict[str, Any]) -> CaseResult | None:
        nodeid = str(record.get("nodeid", ""))
        outcome = str(record.get("outcome", ""))
        began = self._running.pop(nodeid, None)
        if outcome not in TEST_OUTCOMES:
            self.other[outcome] = self.other.get(outcome, 0) + 1
            return None
        if record.get("collect") and outcome == ERROR:
            self.collect_errors += 1
        name = nodeid or self.spec.name
        if record.get("extra"):
            name += str(record.get("label") or f" ({record.get('when', 'extra')})")
        name = self._unique(name)
        duration = _number(record.get("duration"))
        result = self._result(
            outcome, name, duration=duration,
            message=capped(str(record.get("message") or ""), RECORD_CAP),
            stdout=capped(str(record.get("stdout") or ""), RECORD_CAP),
            stderr=capped(str(record.get("stderr") or ""), RECORD_CAP),
            started_at=began if began is not None else time.time() - duration,
        )
        self.results.append(result)
        return result

    def _unique(self, name: str) -> str:
        candidate, number = name, 1
        while candidate in self._names:
            number += 1
            candidate = f"{name} #{number}"
        self._names.add(candidate)
        return candidate

    # -- after the run ------------------------------------------------------------------

    def running(self) -> list[str]:
        """Node ids of tests that began and did not finish (in the order they began)."""
        with self._lock:
            return [nodeid for nodeid in self._running if nodeid]

    def tail_text(self) -> str:
        """The last lines of pytest's own output (both streams), for error messages."""
        with self._lock:
            return "\n".join(self._tail).strip("\n")

    def case_result(
        self, status: str, message: str, *, case: str = "", started_at: float = 0.0,
        duration: float = 0.0,
    ) -> CaseResult:
        """A result about the run itself (``case``: a node id, default the case's name).

        Not added to :attr:`results`, which holds the tests' own results.
        """
        with self._lock:
            name = self._unique(case or self.spec.name)
            began = self._running.get(case)
            result = self._result(
                status, name, message=capped(message),
                stdout=self.stdout.text(), stderr=self.stderr.text(),
                duration=time.time() - began if began is not None else duration,
                started_at=began if began is not None else started_at,
            )
            return result


    def _result(self, status: str, name: str, **values: Any) -> CaseResult:
        # ctx.result() takes the case's name from the spec; a test is named by its node id.
        ctx = self.ctx
        return CaseResult(
            run_id=ctx.run_id, suite=ctx.suite, env=ctx.env, case=name, kind=self.spec.kind,
            status=status, parent=self.spec.name, **values,
        )


def _number(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0
