"""The start-up hook: finish or undo restores and migrations a killed process left.

Kept apart from :mod:`ptest_tui.snapshots.swap` so a start with nothing to recover costs
one query and no further imports.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ptest_tui.ownership import owner_alive
from ptest_tui.snapshots.records import RebuildJournal

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)


def recover_rebuilds(session: Session) -> list[str]:
    """Undo or finish rebuilds whose owner is gone; never raises (start must go on)."""
    try:
        if not RebuildJournal(session.store).stale(owner_alive):
            return []
        from ptest_tui.snapshots.swap import recover

        return recover(session)
    except Exception:
        log.warning("could not check for interrupted restores and migrations", exc_info=True)
        return []
