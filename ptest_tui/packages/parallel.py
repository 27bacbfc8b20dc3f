"""Installing one request into many environments in parallel (``pkg install --envs``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PackageError, PtestError, UsageError
from ptest_tui.packages.index import redact
from ptest_tui.packages.reports import InstallOutcome
from ptest_tui.packages.requirements import collect

if TYPE_CHECKING:
    from ptest_tui.packages.service import PackageService

log = logging.getLogger(__name__)


def install_many(
    service: PackageService,
    envs: Sequence[str],
    requirements: Sequence[str] = (),
    *,
    requirement_files: Sequence[str | Path] = (),
    upgrade: bool = False,
    installer: str | None = None,
    max_workers: int | None = None,
    cancel: CancelToken | None = None,
    on_done: Callable[[InstallOutcome], None] | None = None,
) -> list[InstallOutcome]:
    """Install into many envs in parallel; one failing env does not stop the others.

    The request itself (requirements, files, env names) is validated once, up front; a
    bad request fails before any env changes. Env state problems are per-env outcomes.
    """
    if not envs:
        raise UsageError("no environments given", "name envs with --envs A,B or use --all")
    duplicates = sorted({e for e in envs if list(envs).count(e) > 1})
    if duplicates:
        raise UsageError(f"environments given twice: {', '.join(duplicates)}", "")
    for env in envs:
        service.session.store.get_env(env)  # all must exist
    service.installer_name(installer)
    if not collect(requirements, requirement_files):
        raise UsageError("no packages given", "name packages or give -r FILE")
    token = cancel or CancelToken()

    def one(env: str) -> InstallOutcome:
        started = time.monotonic()
        try:
            token.raise_if_cancelled("install")
            report = service.install(
                env,
                requirements,
                requirement_files=requirement_files,
                upgrade=upgrade,
                installer=installer,
                cancel=token,
            )
            outcome = InstallOutcome(env, report, None, time.monotonic() - started)
        except PtestError as exc:
            outcome = InstallOutcome(env, None, exc, time.monotonic() - started)
        except Exception as exc:  # a bug in one env must not sink the others
            log.exception("installing into %s failed", env)
            error = PackageError(f"{env}: {redact(str(exc))}", "run with --debug")
            outcome = InstallOutcome(env, None, error, time.monotonic() - started)
        if on_done:
            on_done(outcome)
        return outcome

    workers = max(1, min(max_workers or service.session.max_workers(), len(envs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, envs))
