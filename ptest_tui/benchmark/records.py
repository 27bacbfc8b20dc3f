"""Benchmark history in the workspace store: the ``benchmark_batches`` and
``benchmark_results`` tables (see ptest_tui/store.py).

A batch is one ``benchmark`` invocation, numbered like runs ("1", "2", ...). It records its
owner (pid and start time) while it runs, so a later benchmark can tell the envs of a
killed one (leftovers) from those of one still running in another process.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from ptest_tui.benchmark.model import BenchmarkReport, BenchmarkResult
from ptest_tui.errors import UsageError
from ptest_tui.store import Store


class BenchmarkNotFoundError(UsageError):
    """No benchmark with that number."""


class BenchmarkHistory:
    """Stored benchmark batches and their results."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- batches ----------------------------------------------------------------------------

    def begin(
        self,
        engines: Sequence[str],
        scenarios: Sequence[str],
        runs: int,
        owner: tuple[int, float],
        session: str,
        machine: dict[str, Any],
    ) -> BenchmarkReport:
        """Record a new batch as ``running``; its id is its number."""
        now = time.time()
        settings = {"engines": list(engines), "scenarios": list(scenarios), "runs": runs,
                    "machine": machine}
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO benchmark_batches (status, settings, session, owner_pid,"
                " owner_start, started_at) VALUES ('running', ?, ?, ?, ?, ?)",
                (json.dumps(settings), session, owner[0], owner[1], now),
            )
            batch = str(cursor.lastrowid)
        return BenchmarkReport(batch, "running", tuple(engines), tuple(scenarios), runs, now,
                               machine=machine)

    def finish(self, batch: str, status: str) -> None:
        """Record the end of a batch (done, cancelled or failed)."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE benchmark_batches SET status = ?, finished_at = ?, owner_pid = NULL,"
                " owner_start = NULL WHERE id = ?",
                (status, time.time(), int(batch)),
            )

    def owner(self, batch: str) -> tuple[str, int | None, float | None, str] | None:
        """(status, owner pid, owner start, session) of a batch, or None if unknown."""
        if not batch.isdigit():
            return None
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT status, owner_pid, owner_start, session FROM benchmark_batches"
                " WHERE id = ?",
                (int(batch),),
            ).fetchone()
        if row is None:
            return None
        return row["status"], row["owner_pid"], row["owner_start"], row["session"]

    def _report(self, row: sqlite3.Row) -> BenchmarkReport:
        settings = json.loads(row["settings"])
        return BenchmarkReport(
            batch=str(row["id"]), status=row["status"],
            engines=tuple(settings.get("engines", ())),
            scenarios=tuple(settings.get("scenarios", ())), runs=int(settings.get("runs", 0)),
            started_at=row["started_at"], finished_at=row["finished_at"],
            results=tuple(self.results(str(row["id"]))), machine=settings.get("machine", {}),
        )

    def get(self, batch: str) -> BenchmarkReport:
        """One batch with its results (``last`` for the newest)."""
        with self.store.transaction() as conn:
            if batch in ("last", "latest"):
                row = conn.execute(
                    "SELECT * FROM benchmark_batches ORDER BY id DESC LIMIT 1"
                ).fetchone()
            elif batch.isdigit():
                row = conn.execute(
                    "SELECT * FROM benchmark_batches WHERE id = ?", (int(batch),)
                ).fetchone()
            else:
                row = None
        if row is None:
            raise BenchmarkNotFoundError(
                f"no benchmark {batch!r}", "run one: ptest-tui benchmark"
            )
        return self._report(row)

    def recent(self, limit: int = 20) -> list[BenchmarkReport]:
        """The newest ``limit`` batches, newest first."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM benchmark_batches ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [self._report(row) for row in rows]

    # -- results ----------------------------------------------------------------------------

    def add(self, batch: str, result: BenchmarkResult) -> BenchmarkResult:
        """Store one result of ``batch`` (as soon as it is measured)."""
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO benchmark_results (batch, engine, scenario, variant, status,"
                " samples, reason, at) VALUES (?,?,?,?,?,?,?,?)",
                (int(batch), result.engine, result.scenario, result.variant, result.status,
                 json.dumps(list(result.samples)), result.reason, now),
            )
        return BenchmarkResult(result.engine, result.scenario, result.variant, result.status,
                               result.samples, result.reason, batch, now)

    @staticmethod
    def _result(row: sqlite3.Row) -> BenchmarkResult:
        return BenchmarkResult(
            engine=row["engine"], scenario=row["scenario"], variant=row["variant"],
            status=row["status"], samples=tuple(float(s) for s in json.loads(row["samples"])),
            reason=row["reason"], batch=str(row["batch"]), at=row["at"],
        )

    def results(self, batch: str) -> list[BenchmarkResult]:
        """Every result of a batch, in the order they were measured."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM benchmark_results WHERE batch = ? ORDER BY id", (int(batch),)
            ).fetchall()
        return [self._result(row) for row in rows]

    def latest(self, engine: str, scenario: str, variant: str = "") -> BenchmarkResult | None:
        """The newest measured (ok) result of ``engine`` on ``scenario`` (``variant``)."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM benchmark_results WHERE engine = ? AND scenario = ? AND"
                " variant = ? AND status = 'ok' ORDER BY id DESC LIMIT 1",
                (engine, scenario, variant),
            ).fetchone()
        return self._result(row) if row is not None else None

    def install_pair(self, engine: str) -> tuple[BenchmarkResult, BenchmarkResult] | None:
        """(uv, pip) install results of ``engine`` from the newest batch that measured both."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM benchmark_results WHERE engine = ? AND scenario = 'install'"
                " AND status = 'ok' AND variant IN ('uv', 'pip') ORDER BY batch DESC, id DESC",
                (engine,),
            ).fetchall()
        by_batch: dict[str, dict[str, BenchmarkResult]] = {}
        for row in rows:
            result = self._result(row)
            by_batch.setdefault(result.batch, {}).setdefault(result.variant, result)
        for pair in by_batch.values():  # newest batch first (dicts keep insertion order)
            if "uv" in pair and "pip" in pair:
                return pair["uv"], pair["pip"]
        return None
