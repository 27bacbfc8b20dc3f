"""Filling the shared cache on the host before a container installs from it.

Containers have no network: their installers run offline against the host's cache,
mounted read-only (see docs/docker.md). So the host resolves and downloads first: uv
fills its cache (``populate_cache``), pip fills a wheelhouse (``fill_wheelhouse``).
A failed host-side resolution is explained like any install failure.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import IsolationEngine, PackageTarget
from ptest_tui.errors import PtestError
from ptest_tui.packages.errors import classify
from ptest_tui.packages.index import IndexConfig
from ptest_tui.packages.installers import Installer, PipInstaller
from ptest_tui.packages.inventory import PIP_TOOLING

if TYPE_CHECKING:
    from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)


def fill_host_cache(
    tool: Installer,
    engine: IsolationEngine,
    record: EnvRecord,
    target: PackageTarget,
    requested: Sequence[str],
    pins: Sequence[str],
    index: IndexConfig,
    cancel: CancelToken,
) -> None:
    """Containers install offline from the host cache: fill it on the host first.

    Engines whose package tools run where the network is not (docker) offer
    ``populate_cache(record, requirements, index_args=, cancel=)``; nothing is done for
    targets on the host.
    """
    if not target.in_container:
        return
    if isinstance(tool, PipInstaller) and hasattr(engine, "fill_wheelhouse"):
        # pip's own tooling is already in the env (ensurepip); the rest is fetched.
        kept = [p for p in pins if p.split("==")[0].lower() not in PIP_TOOLING]
        with explained("pip", record, requested, pins, index):
            engine.fill_wheelhouse(
                record, [*requested, *kept], index_args=index.pip_args(), cancel=cancel
            )
        return
    fill = getattr(engine, "populate_cache", None)
    if fill is None:
        log.warning("%s engine cannot fill the package cache", record.isolation)
        return
    with explained("uv", record, requested, pins, index):
        fill(record, [*requested, *pins], index_args=index.uv_args(), cancel=cancel)


@contextlib.contextmanager
def explained(
    tool: str,
    record: EnvRecord,
    requested: Sequence[str],
    pins: Sequence[str],
    index: IndexConfig,
) -> Iterator[None]:
    """A failed host-side resolution explained like any install: conflicts name who asked
    for what, missing packages are named. Errors without tool output pass unchanged."""
    try:
        yield
    except PtestError as exc:
        lines = getattr(exc, "lines", None)
        if not lines:
            raise
        raise classify(
            tool, lines, env=record.name, action="install", index=index,
            requested=requested, pins=pins,
        ) from None
