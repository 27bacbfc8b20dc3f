"""Leftovers of benchmarks: temporary envs (and their snapshots) a killed benchmark left.

A benchmark env is named ``ptbench-<batch>-<engine>-<what>``. It is a leftover only when
all of these hold, so a user's env that happens to share the prefix is never touched:
the batch is stored, the env record was made by the batch's session, and the batch is
not running in a live process. Removal reuses the env cleanup path (``delete_env`` with
force, a CleanupItem per env, a CleanupRemoved event), and ``env cleanup`` lists them too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from ptest_tui.benchmark.model import PREFIX
from ptest_tui.benchmark.records import BenchmarkHistory
from ptest_tui.errors import PtestError
from ptest_tui.events import CleanupRemoved
from ptest_tui.outcomes import CleanupItem
from ptest_tui.ownership import owner_alive

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)


def batch_of(name: str) -> str:
    """The batch number in a benchmark env's name ("" when it is not one)."""
    if not name.startswith(PREFIX):
        return ""
    batch = name[len(PREFIX):].partition("-")[0]
    return batch if batch.isdigit() else ""


def env_name(batch: str, engine: str, what: str) -> str:
    """The name of a benchmark env: ``ptbench-3-virtualenv-c1``."""
    return f"{PREFIX}{batch}-{engine}-{what}"[:64]


def _dead_batch(history: BenchmarkHistory, batch: str, session_id: str) -> bool:
    """True when ``batch`` is stored, was run by ``session_id`` and is not running."""
    owner = history.owner(batch)
    if owner is None:
        return False  # not a batch we know: not ours to remove
    status, pid, started, session = owner
    if session != session_id:
        return False  # the env was made by another session than the batch's
    return not (status == "running" and owner_alive(pid, started))


def leftover_items(session: Session) -> list[tuple[CleanupItem, Callable[[], object]]]:
    """Each leftover benchmark env with the call that removes it (and its snapshots)."""
    history = BenchmarkHistory(session.store)
    found: list[tuple[CleanupItem, Callable[[], object]]] = []
    for record in session.store.list_envs():
        batch = batch_of(record.name)
        if not batch:
            continue
        if not _dead_batch(history, batch, record.session):
            continue
        item = CleanupItem(
            "env", record.name, record.name, f"temporary env of benchmark {batch}, which ended"
        )
        found.append((item, partial(remove_env, session, record.name)))
    return found


def remove_env(session: Session, name: str) -> None:
    """Delete a benchmark env, whatever its state, and the snapshots taken of it."""
    if session.store.find_env(name) is not None:
        session.delete_env(name, force=True)
    remove_snapshots(session, name)


def remove_snapshots(session: Session, env: str) -> None:
    """Forget the snapshots of a benchmark env (there are none without the snapshots
    feature)."""
    try:
        records = session.snapshots.all(env)
    except (ImportError, AttributeError):
        return
    for record in records:
        with contextlib.suppress(PtestError):
            session.snapshots.delete(record.id)


def settle_stale(session: Session) -> None:
    """Mark batches left ``running`` by a killed process as cancelled."""
    with session.store.transaction() as conn:
        rows = conn.execute(
            "SELECT id, owner_pid, owner_start FROM benchmark_batches WHERE status = 'running'"
        ).fetchall()
    history = BenchmarkHistory(session.store)
    for row in rows:
        if not owner_alive(row["owner_pid"], row["owner_start"]):
            history.finish(str(row["id"]), "cancelled")


def remove_leftovers(session: Session) -> list[CleanupItem]:
    """Remove every leftover benchmark env now; each failure is reported on its item."""
    removed: list[CleanupItem] = []
    for item, remove in leftover_items(session):
        try:
            remove()
        except PtestError as exc:
            log.warning("could not remove benchmark env %s: %s", item.name, exc.one_line())
            removed.append(CleanupItem(item.kind, item.name, item.env, item.reason,
                                       exc.message))
            continue
        removed.append(item)
        session.bus.publish(CleanupRemoved(item.kind, item.name, item.reason))
    settle_stale(session)
    return removed
