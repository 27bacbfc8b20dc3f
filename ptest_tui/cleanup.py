"""Find and remove leftovers: broken envs, orphaned env folders, labelled engine resources."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ptest_tui.errors import PtestError
from ptest_tui.events import CleanupFailed, CleanupRemoved
from ptest_tui.outcomes import CleanupItem

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)


def orphan_folders(state_dir: Path, known: set[str]) -> list[Path]:
    """Env folders under ``.ptest/envs`` that no stored environment owns."""
    root = state_dir / "envs"
    if not root.is_dir():
        return []
    return [p for p in sorted(root.iterdir()) if p.is_dir() and p.name not in known]


def cleanup(session: Session, *, dry_run: bool, include_broken: bool) -> list[CleanupItem]:
    """Remove (or with ``dry_run`` only list) every leftover of the session's workspace."""
    items: list[CleanupItem] = []

    def act(item: CleanupItem, remove: Callable[[], object], orphan: bool = True) -> None:
        if dry_run:
            items.append(item)
            return
        if orphan and session.store.find_env(item.env) is not None:
            return  # an env of that name was created since we looked: not a leftover
        try:
            remove()
        except OSError as exc:
            items.append(CleanupItem(item.kind, item.name, item.env, item.reason, str(exc)))
            session.bus.publish(CleanupFailed(item.kind, item.name, str(exc)))
            return
        except PtestError as exc:
            log.warning("could not remove %s %s: %s", item.kind, item.name, exc.one_line())
            items.append(CleanupItem(item.kind, item.name, item.env, item.reason, exc.message))
            session.bus.publish(CleanupFailed(item.kind, item.name, exc.message))
            return
        items.append(item)
        session.bus.publish(CleanupRemoved(item.kind, item.name, item.reason))

    if include_broken:
        for record in session.store.list_envs():
            if record.status == "broken":
                item = CleanupItem("env", record.name, record.name, record.error or "broken")
                act(item, partial(session.delete_env, record.name), orphan=False)
    from ptest_tui.benchmark.cleanup import leftover_items

    for item, remove in leftover_items(session):  # temporary envs of a killed benchmark
        if all(listed.name != item.name for listed in items):
            act(item, remove, orphan=False)
    known = {r.name for r in session.store.list_envs()}
    for folder in orphan_folders(session.workspace.state_dir, known):
        item = CleanupItem("folder", str(folder), folder.name, "no environment owns this folder")
        act(item, partial(shutil.rmtree, folder))
    for level in session.engines.names():
        engine = session.engines.get(level)
        if engine.unavailable_reason():
            continue
        for leftover in engine.leftovers(known):
            item = CleanupItem(leftover.kind, leftover.name, leftover.env, leftover.reason)
            act(item, partial(engine.remove_leftover, leftover))
    return items
