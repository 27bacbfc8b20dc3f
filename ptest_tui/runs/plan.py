"""Turn "run these suites or cases in these envs" into a checked plan, before anything runs.

Everything a run needs is checked here: names (with near matches for typos), envs (stored,
or declared so the run creates them), objects, case kinds and their settings. A plan that
passes is executed by :mod:`ptest_tui.runs.runner`; one that fails changes nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ptest_tui.errors import UsageError
from ptest_tui.runs.cases.base import Case, CaseSpec
from ptest_tui.runs.config import SuiteSpec, parse_suite
from ptest_tui.runs.model import FAILING

if TYPE_CHECKING:
    from ptest_tui.runs.registry import CaseRegistry
    from ptest_tui.session import Session


@dataclass(frozen=True)
class Unit:
    """One suite in one env: setup, these cases, teardown."""

    suite: SuiteSpec
    env: str
    cases: tuple[Case, ...]

    @property
    def label(self) -> str:
        """``suite[env]``."""
        return f"{self.suite.name}[{self.env}]"


@dataclass(frozen=True)
class RunPlan:
    """What a run will do, checked."""

    units: tuple[Unit, ...]
    objects: tuple[str, ...]  # to start first (in parallel)
    envs_to_create: tuple[str, ...]  # declared in ptest.toml, not created yet
    selection: tuple[str, ...]

    @property
    def envs(self) -> tuple[str, ...]:
        """Every env the run uses, in plan order."""
        return tuple(dict.fromkeys(unit.env for unit in self.units))


def load_suites(session: Session) -> dict[str, SuiteSpec]:
    """The suites of the workspace's config."""
    where = session.config.sources[-1] if session.config.sources else "ptest.toml"
    return {
        name: parse_suite(name, table, where) for name, table in session.config.suites.items()
    }


def _near(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3)
    return ("did you mean " + ", ".join(repr(c) for c in close) + "?") if close else (
        "suites: " + ", ".join(sorted({c.split("/")[0] for c in candidates})) if candidates
        else "declare suites in ptest.toml ([suites.NAME])"
    )


def select(
    suites: dict[str, SuiteSpec], selection: Sequence[str]
) -> dict[str, tuple[CaseSpec, ...]]:
    """Suite name -> the selected cases, for names of suites, ``suite/case`` or cases."""
    if not suites:
        raise UsageError(
            "this workspace has no suites", "declare one in ptest.toml: [suites.NAME] with cases"
        )
    if not selection:
        return {name: suite.cases for name, suite in suites.items()}
    chosen: dict[str, dict[str, CaseSpec]] = {}
    candidates = [*suites, *(f"{s.name}/{c.name}" for s in suites.values() for c in s.cases)]
    for item in selection:
        if item in suites:
            chosen.setdefault(item, {}).update({c.name: c for c in suites[item].cases})
            continue
        suite_name, _, case_name = item.partition("/")
        matches = [
            (suite.name, case) for suite in suites.values() for case in suite.cases
            if (case_name and suite.name == suite_name and case.name == case_name)
            or (not case_name and case.name == item)
        ]
        if not matches:
            raise UsageError(f"no suite or case named {item!r}", _near(item, candidates))
        for suite_name, case in matches:
            chosen.setdefault(suite_name, {})[case.name] = case
    # Keep the configured order of cases within each suite.
    return {
        name: tuple(c for c in suites[name].cases if c.name in picked)
        for name, picked in chosen.items()
    }


def build_plan(
    session: Session,
    registry: CaseRegistry,
    selection: Sequence[str] = (),
    envs: Sequence[str] = (),
    rerun_failed: str | None = None,
) -> RunPlan:
    """Check everything and return the plan (UsageError or ConfigError otherwise)."""
    suites = load_suites(session)
    if rerun_failed is not None:
        pairs = _failed_pairs(session, suites, rerun_failed)
    else:
        picked = select(suites, selection)
        pairs = []
        for name, cases in picked.items():
            targets = tuple(envs) or suites[name].envs
            if not targets:
                raise UsageError(
                    f"suite {name} names no environments",
                    f"add envs = [...] to [suites.{name}] or pass --env NAME",
                )
            pairs += [(suites[name], env, cases) for env in targets]
    stored = {record.name: record for record in session.store.list_envs()}
    declared = set(session.config.envs)
    to_create: list[str] = []
    for _suite, env, _cases in pairs:
        if env in stored:
            if stored[env].status not in ("ready", "busy"):
                raise UsageError(
                    f"env {env} is {stored[env].status}",
                    f"repair it first: ptest-tui env repair {env}",
                )
        elif env in declared:
            if env not in to_create:
                to_create.append(env)
        else:
            known = sorted(set(stored) | declared)
            close = difflib.get_close_matches(env, known, n=1)
            raise UsageError(
                f"no environment named {env!r}",
                f"did you mean {close[0]!r}?" if close else "create it: ptest-tui env create NAME",
            )
    units = []
    for suite, env, cases in pairs:
        built = tuple(registry.build(case) for case in cases)
        units.append(Unit(suite, env, built))
    objects: list[str] = []
    for suite, _env, _cases in pairs:
        for name in suite.objects:
            session.objects.spec(name)  # unknown objects fail here
            if name not in objects:
                objects.append(name)
    for name in objects:
        session.objects.registry.check_settings(session.objects.spec(name), f"object {name}")
        session.objects.instance(name).validate()
    return RunPlan(tuple(units), tuple(objects), tuple(to_create), tuple(selection))


def _failed_pairs(
    session: Session, suites: dict[str, SuiteSpec], run_id: str
) -> list[tuple[SuiteSpec, str, tuple[CaseSpec, ...]]]:
    """What failed in ``run_id``: per suite and env, the failing cases (pytest: tests)."""
    from ptest_tui.runs.history import RunHistory

    history = RunHistory(session.store)
    run = history.get(run_id)
    failed = [r for r in history.results(run.id, with_output=False) if r.status in FAILING]
    if not failed:
        raise UsageError(f"run {run.id} has no failed cases", "nothing to rerun")
    grouped: dict[tuple[str, str], dict[str, list[str]]] = {}
    for result in failed:
        case_name = result.parent or result.case
        nodes = grouped.setdefault((result.suite, result.env), {}).setdefault(case_name, [])
        if result.parent:
            nodes.append(result.case)
    pairs = []
    for (suite_name, env), cases in grouped.items():
        suite = suites.get(suite_name)
        if suite is None:
            continue  # removed from the config since
        specs = []
        for case in suite.cases:
            if case.name in cases:
                nodes = cases[case.name]
                specs.append(
                    replace(case, settings={**case.settings, "target": nodes}) if nodes else case
                )
        if specs:
            pairs.append((suite, env, tuple(specs)))
    if not pairs:
        raise UsageError(
            f"the failed cases of run {run.id} are no longer in ptest.toml", "run the suites again"
        )
    return pairs
