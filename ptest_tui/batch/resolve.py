"""Check a parsed plan against the workspace and complete its graph, before anything runs.

Checked: env options (as ``env create`` checks them), objects (declared, added, or defined
inline with a kind), suites and cases of run steps (with their case settings), every env
and object a step names, migration targets, report formats and report sources. Completed:
an implicit ``env:NAME`` node for an env ptest.toml declares but nobody created yet, and
the automatic needs (a step using an env or object needs its node; a report step needs its
run step; a cleanup step waits for the steps using what it removes). Every problem is one
ConfigError line (exit code 2).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from ptest_tui.batch.graph import order
from ptest_tui.batch.model import BatchPlan, Step
from ptest_tui.errors import ConfigError, PtestError

if TYPE_CHECKING:
    from ptest_tui.runs.config import SuiteSpec
    from ptest_tui.session import Session

T = TypeVar("T")
REPORT_FORMATS = ("html", "json", "junit")


def resolve(session: Session, plan: BatchPlan) -> BatchPlan:
    """The plan checked against ``session``'s workspace, its graph complete and ordered."""
    if plan.resolved:
        return plan
    return _Checker(session, plan).resolve()


class _Checker:
    def __init__(self, session: Session, plan: BatchPlan) -> None:
        self.session = session
        self.plan = plan
        self.where = plan.label
        self.stored = {r.name for r in session.store.list_envs()}
        self.declared = set(session.config.envs)
        self.plan_envs = {s.settings["name"] for s in plan.steps if s.kind == "env"}
        self.plan_objects = {s.settings["name"] for s in plan.steps if s.kind == "object"}
        self.implicit: dict[str, Step] = {}

    def wrap(self, label: str, call: Callable[[], T]) -> T:
        """Run a check from the engine core, its error re-raised naming the plan and step."""
        try:
            return call()
        except ConfigError:
            raise
        except PtestError as exc:
            raise ConfigError(f"{self.where}: {label}: {exc.message}", exc.hint) from None

    @cached_property
    def suites(self) -> dict[str, SuiteSpec]:
        from ptest_tui.runs.plan import load_suites

        return load_suites(self.session)

    @cached_property
    def known_objects(self) -> set[str]:
        return set(self.session.objects.specs()) | self.plan_objects

    # -- the whole plan -------------------------------------------------------------------

    def resolve(self) -> BatchPlan:
        steps: list[Step] = []
        for step in self.plan.steps:
            checker = getattr(self, f"_check_{step.kind}")
            steps.append(checker(step))
        for step in steps:
            for env in step.envs:
                self._env_known(env, step)
        steps += self.implicit.values()
        steps = [self._auto_needs(step, steps) for step in steps]
        return replace(self.plan, steps=order(steps, self.where), resolved=True)

    def _env_known(self, env: str, step: Step) -> None:
        if env in self.plan_envs or env in self.stored:
            return
        if env in self.declared:
            if env not in self.implicit:
                self.implicit[env] = Step(
                    f"env:{env}", "env", {"name": env, "options": {}, "recreate": False},
                    implicit=True,
                )
            return
        known = sorted(self.plan_envs | self.stored | self.declared)
        close = difflib.get_close_matches(env, known, n=1)
        raise ConfigError(
            f"{self.where}: {step.where}: no environment named {env!r}",
            f"did you mean {close[0]!r}?" if close
            else f"declare it in the plan: [envs.{env}] (or in ptest.toml)",
        )

    def _object_known(self, name: str, step: Step) -> None:
        if name not in self.known_objects:
            close = difflib.get_close_matches(name, sorted(self.known_objects), n=1)
            raise ConfigError(
                f"{self.where}: {step.where}: no object named {name!r}",
                f"did you mean {close[0]!r}?" if close
                else f'declare it in the plan: [objects.{name}] with kind = "..."',
            )

    def _auto_needs(self, step: Step, steps: Sequence[Step]) -> Step:
        ids = {s.id for s in steps}
        needs = list(step.needs)
        wanted = [f"env:{e}" for e in step.envs]
        wanted += [f"object:{o}" for o in step.settings.get("objects", ())]
        if step.kind == "report" and step.settings["run"] in ids:
            wanted.append(step.settings["run"])
        if step.kind == "cleanup":
            wanted += [other.id for other in steps if _touches(other, step)]
        for need in wanted:
            if need in ids and need not in needs and need != step.id:
                needs.append(need)
        return replace(step, needs=tuple(needs))

    # -- per kind -------------------------------------------------------------------------

    def _check_env(self, step: Step) -> Step:
        name, options = step.settings["name"], step.settings["options"]
        spec = self.wrap(step.where, lambda: self.session.spec_for(name, **options))
        self.wrap(step.where, lambda: self.session.select(spec))
        return step

    def _check_object(self, step: Step) -> Step:
        from ptest_tui.objects.base import ObjectSpec

        name, kind = step.settings["name"], step.settings["kind"]
        settings: dict[str, Any] = dict(step.settings["object_settings"])
        objects = self.session.objects
        specs = objects.specs()
        if not kind:
            if settings:
                raise ConfigError(
                    f"{self.where}: {step.where}: settings without kind",
                    f'add kind = "..." to define the object here, or set them in ptest.toml'
                    f" ([objects.{name}])",
                )
            if name not in specs:
                close = difflib.get_close_matches(name, sorted(specs), n=1)
                raise ConfigError(
                    f"{self.where}: {step.where}: no object named {name!r} in the workspace",
                    f"did you mean {close[0]!r}?" if close
                    else 'define it here with kind = "..." (sqlite, postgres, redis, ...)',
                )
            return step
        if name in self.session.config.declared_objects:
            raise ConfigError(
                f"{self.where}: {step.where}: object {name!r} is declared in ptest.toml",
                f"leave kind and settings out of [objects.{name}] to start that one",
            )
        spec = ObjectSpec(name, kind, settings)
        self.wrap(step.where, lambda: objects.registry.check_settings(spec, f"objects.{name}"))
        self.wrap(step.where, lambda: objects.instance(spec).validate())
        return step

    def _check_run(self, step: Step) -> Step:
        from ptest_tui.runs.plan import select

        selection = step.settings.get("suites", ())
        override = step.settings.get("envs", ())
        picked = self.wrap(step.where, lambda: select(self.suites, selection))
        envs: list[str] = []
        objects: list[str] = []
        kinds = self.session.case_kinds
        for name, cases in picked.items():
            suite = self.suites[name]
            targets = override or suite.envs
            if not targets:
                raise ConfigError(
                    f"{self.where}: {step.where}: suite {name} names no environments",
                    f"add envs = [...] to the step or to [suites.{name}]",
                )
            envs += [e for e in targets if e not in envs]
            objects += [o for o in suite.objects if o not in objects]
            for case in cases:
                kinds.build(case)
        for obj in objects:
            self._object_known(obj, step)
        self._formats(step, "report")
        return replace(step, settings={
            **step.settings, "run_envs": tuple(override), "envs": tuple(envs),
            "objects": tuple(objects),
        })

    def _check_install(self, step: Step) -> Step:
        for key in ("requirements",):
            for path in step.settings.get(key, ()):
                self._file(step, key, path)
        if "lock" in step.settings:
            self._file(step, "lock", step.settings["lock"])
        return step

    def _check_exec(self, step: Step) -> Step:
        return step

    def _check_snapshot(self, step: Step) -> Step:
        return step

    def _check_migrate(self, step: Step) -> Step:
        levels = self.session.engines.names()
        target = step.settings["to"]
        if target not in levels:
            close = difflib.get_close_matches(target, levels, n=1)
            raise ConfigError(
                f"{self.where}: {step.where}.to: unknown isolation level {target!r}",
                f"did you mean {close[0]!r}?" if close else "levels: " + ", ".join(levels),
            )
        return step

    def _check_report(self, step: Step) -> Step:
        source = step.settings["run"]
        runs = {s.id: s for s in self.plan.steps}
        if source in runs:
            if runs[source].kind != "run":
                raise ConfigError(
                    f"{self.where}: {step.where}.run: step {source!r} is a"
                    f" {runs[source].kind} step, not a run step",
                    "name a run step, or a run id from the history",
                )
        else:
            run_steps = [s.id for s in self.plan.steps if s.kind == "run"]
            try:
                self.session.runs.get(source)
            except PtestError:
                close = difflib.get_close_matches(source, run_steps, n=1)
                raise ConfigError(
                    f"{self.where}: {step.where}.run: no run step or run {source!r}",
                    f"did you mean {close[0]!r}?" if close
                    else "name a run step of the plan, or a run id (see `ptest-tui runs list`)",
                ) from None
        self._formats(step, "formats")
        return step

    def _check_cleanup(self, step: Step) -> Step:
        for name in step.settings.get("objects", ()):
            self._object_known(name, step)
        return step

    # -- helpers --------------------------------------------------------------------------

    def _formats(self, step: Step, key: str) -> None:
        for fmt in step.settings.get(key, ()):
            if fmt not in REPORT_FORMATS:
                close = difflib.get_close_matches(fmt, REPORT_FORMATS, n=1)
                raise ConfigError(
                    f"{self.where}: {step.where}.{key}: unknown report format {fmt!r}",
                    f"did you mean {close[0]!r}?" if close else "use html, json or junit",
                )

    def _file(self, step: Step, key: str, path: Any) -> None:
        if not path.is_file():
            raise ConfigError(f"{self.where}: {step.where}.{key}: no file {path}",
                              "paths are relative to the plan file's folder")


def _touches(other: Step, cleanup: Step) -> bool:
    """Whether ``other`` uses an env or object the cleanup step removes."""
    if other.id == cleanup.id or other.kind == "cleanup":
        return False
    objects = set(cleanup.settings.get("objects", ()))
    used = set(other.settings.get("objects", ()))
    if other.kind == "object":
        used.add(other.settings["name"])
    return bool(set(other.envs) & set(cleanup.envs) or used & objects)
