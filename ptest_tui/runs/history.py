"""Run history in the workspace store: runs, their results, and durations per case.

Run ids are the run's number in this workspace ("1", "2", ...), so people can type them;
``last`` names the newest run. Results are inserted as they arrive; a run left ``running``
by a killed process is marked ``cancelled`` by the next one that opens the history.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from ptest_tui.errors import UsageError
from ptest_tui.runs.model import CaseResult, RunRecord, count_outcomes
from ptest_tui.store import Store

RESULT_COLUMNS = (
    "run_id, suite, env, case_name, parent, kind, status, duration, message, stdout, stderr,"
    " attempts, flaky, started_at"
)


class RunNotFoundError(UsageError):
    """No run with that id."""


class RunHistory:
    """The ``runs`` and ``results`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- runs -------------------------------------------------------------------------------

    def begin(
        self, selection: Sequence[str], envs: Sequence[str], owner: tuple[int, float]
    ) -> RunRecord:
        """Record a new run as ``running``; its id is its number."""
        now = time.time()
        with self.store.transaction() as conn:
            seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0])
            conn.execute(
                "INSERT INTO runs (seq, id, status, selection, envs, owner_pid, owner_start,"
                " started_at) VALUES (?,?,?,?,?,?,?,?)",
                (seq, str(seq), "running", json.dumps(list(selection)), json.dumps(list(envs)),
                 owner[0], owner[1], now),
            )
        return RunRecord(str(seq), now, None, "running", tuple(selection), tuple(envs))

    def finish(self, run: RunRecord, status: str, message: str = "") -> RunRecord:
        """Record the end of ``run`` with its counts."""
        results = self.results(run.id)
        counts = count_outcomes(results)
        counts["flaky"] = sum(1 for r in results if r.flaky)
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, message = ?, counts = ?, finished_at = ?,"
                " owner_pid = NULL, owner_start = NULL WHERE id = ?",
                (status, message, json.dumps(counts), now, run.id),
            )
        return replace(run, status=status, message=message, counts=counts, finished_at=now)

    @staticmethod
    def _run(row: sqlite3.Row) -> RunRecord:
        return RunRecord(
            id=row["id"], started_at=row["started_at"], finished_at=row["finished_at"],
            status=row["status"], selection=tuple(json.loads(row["selection"])),
            envs=tuple(json.loads(row["envs"])), message=row["message"],
            counts=json.loads(row["counts"]),
        )

    def get(self, run_id: str) -> RunRecord:
        """The run ``run_id`` (or ``last``); unknown ids are a usage error."""
        with self.store.transaction() as conn:
            if run_id in ("last", "latest"):
                row = conn.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
            else:
                row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            if run_id in ("last", "latest"):
                raise RunNotFoundError("there are no runs yet", "start one: ptest-tui run")
            raise RunNotFoundError(f"no run {run_id!r}", "list them: ptest-tui runs list")
        return self._run(row)

    def recent(self, limit: int = 20) -> list[RunRecord]:
        """The newest ``limit`` runs, newest first."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM runs ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [self._run(row) for row in rows]

    def settle_stale(self, owner_alive: Callable[[int | None, float | None], bool]) -> list[str]:
        """Mark runs whose process is gone as cancelled; return their ids."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner_pid, owner_start FROM runs WHERE status = 'running'"
            ).fetchall()
        stale = [
            row["id"] for row in rows if not owner_alive(row["owner_pid"], row["owner_start"])
        ]
        for run_id in stale:
            note = "the ptest-tui process running it was killed"
            self.finish(self.get(run_id), "cancelled", note)
        return stale

    # -- results ----------------------------------------------------------------------------

    def add(self, results: Iterable[CaseResult]) -> None:
        """Store results (one transaction)."""
        rows = [
            (r.run_id, r.suite, r.env, r.case, r.parent, r.kind, r.status, r.duration,
             r.message, r.stdout, r.stderr, r.attempts, int(r.flaky), r.started_at)
            for r in results
        ]
        if not rows:
            return
        with self.store.transaction() as conn:
            conn.executemany(
                f"INSERT INTO results ({RESULT_COLUMNS}) VALUES ({','.join('?' * 14)})",  # noqa: S608 - fixed columns
                rows,
            )

    def results(self, run_id: str, with_output: bool = True) -> list[CaseResult]:
        """Every result of a run, in the order they arrived."""
        columns = RESULT_COLUMNS if with_output else RESULT_COLUMNS.replace(
            "stdout, stderr", "'' AS stdout, '' AS stderr"
        )
        with self.store.transaction() as conn:
            rows = conn.execute(
                f"SELECT {columns} FROM results WHERE run_id = ? ORDER BY id",  # noqa: S608 - fixed columns
                (run_id,),
            ).fetchall()
        return [
            CaseResult(
                run_id=row["run_id"], suite=row["suite"], env=row["env"], case=row["case_name"],
                kind=row["kind"], status=row["status"], duration=row["duration"],
                message=row["message"], stdout=row["stdout"], stderr=row["stderr"],
                parent=row["parent"], attempts=row["attempts"], flaky=bool(row["flaky"]),
                started_at=row["started_at"],
            )
            for row in rows
        ]

    def durations(self, runs: int = 10) -> dict[tuple[str, str], float]:
        """Mean seconds per (suite, configured case) over the last ``runs`` runs."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT suite, CASE WHEN parent != '' THEN parent ELSE case_name END AS name,"
                " SUM(duration) / COUNT(DISTINCT run_id || '/' || env) AS seconds"
                " FROM results WHERE run_id IN (SELECT id FROM runs ORDER BY seq DESC LIMIT ?)"
                " GROUP BY suite, name",
                (runs,),
            ).fetchall()
        return {(row["suite"], row["name"]): float(row["seconds"]) for row in rows}
