"""What the rules read: the window of recent runs, env records and their last use, and
(cached, since two rules need them) the installed packages of each env.

Everything comes from the workspace store through read-only queries; nothing here changes
state. Checks that cannot run (an engine down, an env not ready) are noted in ``skipped``
rather than raised, so one unreachable env does not hide the advice about the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ptest_tui.advise.model import AdviseSettings
from ptest_tui.errors import PtestError

if TYPE_CHECKING:
    from ptest_tui.packages.inventory import Inventory
    from ptest_tui.session import Session
    from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResultRow:
    """One stored result, without its output, with its run's number for ordering."""

    seq: int
    run_id: str
    suite: str
    env: str
    case: str
    parent: str
    kind: str
    status: str
    duration: float
    message: str
    attempts: int
    flaky: bool

    @property
    def configured(self) -> str:
        """The configured case it belongs to (the pytest case for one of its tests)."""
        return self.parent or self.case


@dataclass
class AdviseContext:
    """Shared input of every rule for one ``advise`` call."""

    session: Session
    env: str | None
    settings: AdviseSettings
    now: float = field(default_factory=time.time)
    skipped: list[str] = field(default_factory=list)
    _results: list[ResultRow] | None = None
    _inventories: dict[str, Inventory | None] = field(default_factory=dict)

    # -- environments -----------------------------------------------------------------

    def envs(self) -> list[EnvRecord]:
        """Stored environments (only the one asked about, when one was)."""
        records = self.session.store.list_envs()
        return [r for r in records if self.env is None or r.name == self.env]

    def last_use(self, record: EnvRecord) -> tuple[float, str]:
        """When the env was last used and how: the newest of its transitions (every
        exec, install or run makes it busy), live leases, results and its record."""
        best = (record.created_at, "created")
        if record.updated_at > best[0]:
            best = (record.updated_at, "record updated")
        transitions = self.session.store.transitions(record.name)
        if transitions:
            last = transitions[-1]
            if last.at >= best[0]:
                note = f" ({last.note})" if last.note else ""
                best = (last.at, f"{last.old or 'new'} -> {last.new or 'gone'}{note}")
        for _lease, _pid, _started, purpose in self.session.store.leases(record.name):
            best = (self.now, f"running {purpose}")  # a command runs in it right now
        with self.session.store.transaction() as conn:
            row = conn.execute(
                "SELECT MAX(started_at + duration) AS at, run_id FROM results WHERE env = ?",
                (record.name,),
            ).fetchone()
        if row is not None and row["at"] is not None and row["at"] > best[0]:
            best = (float(row["at"]), f"run {row['run_id']}")
        return best

    # -- run history --------------------------------------------------------------------

    def results(self) -> list[ResultRow]:
        """Results of the last ``settings.runs`` finished runs (of the env, if one was
        asked about), oldest run first."""
        if self._results is None:
            self._results = self._load_results()
        return self._results

    def _load_results(self) -> list[ResultRow]:
        params: tuple[str, ...]
        self.session.runs  # noqa: B018 - settles runs a killed process left "running"
        where, params = "", ()
        if self.env is not None:
            where, params = " AND r.id IN (SELECT run_id FROM results WHERE env = ?)", (self.env,)
        with self.session.store.transaction() as conn:
            window = conn.execute(
                "SELECT r.seq, r.id FROM runs r WHERE r.status != 'running'"  # noqa: S608
                f"{where} ORDER BY r.seq DESC LIMIT ?",
                (*params, self.settings.runs),
            ).fetchall()
            seqs = {row["id"]: int(row["seq"]) for row in window}
            if not seqs:
                return []
            marks = ",".join("?" for _ in seqs)
            env_clause = " AND env = ?" if self.env is not None else ""
            query = (
                "SELECT id, run_id, suite, env, case_name, parent, kind, status, duration,"  # noqa: S608 - placeholders only
                f" message, attempts, flaky FROM results WHERE run_id IN ({marks}){env_clause}"
            )
            rows = conn.execute(
                query,
                (*seqs, *((self.env,) if self.env is not None else ())),
            ).fetchall()
        ordered = sorted(rows, key=lambda row: (seqs[row["run_id"]], row["id"]))
        return [
            ResultRow(
                seq=seqs[row["run_id"]], run_id=row["run_id"], suite=row["suite"],
                env=row["env"], case=row["case_name"], parent=row["parent"], kind=row["kind"],
                status=row["status"], duration=float(row["duration"]),
                message=row["message"], attempts=int(row["attempts"]),
                flaky=bool(row["flaky"]),
            )
            for row in ordered
        ]

    def window_size(self) -> int:
        """How many runs the results come from."""
        return len({r.run_id for r in self.results()})

    # -- packages -----------------------------------------------------------------------

    def inventory(self, record: EnvRecord) -> Inventory | None:
        """The env's installed distributions, or None (noted in ``skipped``) when they
        cannot be listed: the env is not ready, holds no packages or its engine is down."""
        if record.name in self._inventories:
            return self._inventories[record.name]
        found: Inventory | None = None
        if record.status not in ("ready", "busy"):
            self.skipped.append(f"packages of {record.name}: the env is {record.status}")
        else:
            try:
                engine = self.session.engine_for(record.isolation)
                target = engine.package_target(record)
                if target is not None:
                    found = self.session.package_service.inventory(record, engine, target)
            except PtestError as exc:
                self.skipped.append(f"packages of {record.name}: {exc.message}")
        self._inventories[record.name] = found
        return found


def spec_memory(record: EnvRecord) -> int | None:
    """The env's memory limit in bytes, if it has one."""
    value = record.spec.get("memory")
    return int(value) if isinstance(value, int | float) and value else None
