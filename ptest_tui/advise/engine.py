"""Run every rule over one context and collect the advice, most severe first."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ptest_tui.advise.context import AdviseContext
from ptest_tui.advise.model import Advice, AdviceReport, AdviseSettings, sort_key
from ptest_tui.advise.rules_envs import idle_envs, memory_limits
from ptest_tui.advise.rules_packages import package_conflicts, pip_backend
from ptest_tui.advise.rules_runs import flaky_cases, slowest_cases
from ptest_tui.errors import EnvNotFoundError, PtestError, UsageError

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

Rule = Callable[[AdviseContext], list[Advice]]

# name -> rule, in the order they run (the report is sorted afterwards).
RULES: dict[str, Rule] = {
    "slowest-cases": slowest_cases,
    "flaky-cases": flaky_cases,
    "idle-envs": idle_envs,
    "memory-limits": memory_limits,
    "pip-backend": pip_backend,
    "package-conflicts": package_conflicts,
}


def _check_env(session: Session, env: str) -> None:
    """An env to advise about must be stored, declared, or have results in history."""
    if session.store.find_env(env) is not None or env in session.config.envs:
        return
    with session.store.transaction() as conn:
        seen = conn.execute("SELECT 1 FROM results WHERE env = ? LIMIT 1", (env,)).fetchone()
    if seen is None:
        raise EnvNotFoundError(
            f"environment {env!r} does not exist and has no run history",
            "see `ptest-tui env list`",
        )


def settings_for(session: Session, **overrides: Any) -> AdviseSettings:
    """The ``[advise]`` settings of the workspace with ``overrides`` (None ignored)."""
    settings = AdviseSettings.from_config(session.config.raw)
    changes = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(changes) - set(AdviseSettings.__dataclass_fields__)
    if unknown:
        raise UsageError(
            f"unknown advise option {sorted(unknown)[0]!r}",
            "use: " + ", ".join(AdviseSettings.__dataclass_fields__),
        )
    for key, value in changes.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise UsageError(f"advise option {key} must be a number >= 0, got {value!r}", "")
    return replace(settings, **changes)


def advise(
    session: Session,
    env: str | None = None,
    *,
    now: float | None = None,
    rules: Sequence[str] | None = None,
    **overrides: Any,
) -> AdviceReport:
    """Every rule's advice for the workspace (or one env), most severe first.

    ``overrides`` change thresholds for this call (idle_days=30, runs=20, ...); ``now``
    is the time idleness is measured at; ``rules`` runs only the named rules. A rule
    that fails is noted in ``skipped`` and the others still run.
    """
    if env is not None:
        _check_env(session, env)
    names = list(rules) if rules is not None else list(RULES)
    for name in names:
        if name not in RULES:
            raise UsageError(f"unknown advise rule {name!r}", "use: " + ", ".join(RULES))
    settings = settings_for(session, **overrides)
    ctx = AdviseContext(session, env, settings, now if now is not None else time.time())
    found: list[Advice] = []
    for name in names:
        started = time.monotonic()
        try:
            found += RULES[name](ctx)
        except PtestError as exc:
            ctx.skipped.append(f"{name}: {exc.one_line()}")
        except Exception as exc:  # a rule's bug must not hide the other rules' advice
            log.exception("advise rule %s failed", name)
            ctx.skipped.append(f"{name}: internal error: {type(exc).__name__}: {exc}")
        log.debug("advise rule %s took %.3f s", name, time.monotonic() - started)
    if env is not None:
        found = [a for a in found if a.env in ("", env)]
    found.sort(key=sort_key)
    return AdviceReport(tuple(found), tuple(ctx.skipped), env or "", settings)
