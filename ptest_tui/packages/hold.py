"""Holding an environment while its packages change: a file lock plus a lease.

The file lock keeps two processes from changing one env's packages at once; the lease
marks the env busy (listings show it, delete and repair refuse) and names what runs.
Snapshots and rebuilds hold envs the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ptest_tui.errors import EnvStateError, UsageError
from ptest_tui.events import EnvStatusChanged
from ptest_tui.lifecycle import state_error
from ptest_tui.packages.index import redact

if TYPE_CHECKING:
    from ptest_tui.session import Session


@contextlib.contextmanager
def env_file_lock(session: Session, name: str, changing: str = "") -> Iterator[None]:
    """The per-env file lock alone (a broken env being rebuilt takes no lease).

    ``changing`` names what is changed in the refusal ("the packages of").
    """
    from filelock import FileLock, Timeout

    locks = session.workspace.state_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(locks / f"{name}.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise EnvStateError(
            f"another process is changing {changing + ' ' if changing else ''}{name!r}",
            "wait for it to finish and try again",
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def hold_env(session: Session, name: str, purpose: str) -> Iterator[None]:
    """The per-env file lock and a lease (env busy) for the duration of a change."""
    with env_file_lock(session, name, "the packages of"):
        was = session.store.get_env(name).status
        try:
            lease = session.store.acquire_lease(name, *session.owner(), redact(purpose))
        except UsageError:
            raise state_error(session.store.get_env(name), "change") from None
        if was == "ready":
            session.bus.publish(EnvStatusChanged(name, "ready", "busy", redact(purpose)))
        try:
            yield
        finally:
            if session.store.release_lease(lease):
                session.bus.publish(EnvStatusChanged(name, "busy", "ready", "packages done"))
