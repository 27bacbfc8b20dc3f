"""What each kind of step does: thin calls into the Session API, nothing reimplemented.

Each action takes a :class:`StepContext` and returns :class:`Done` (or raises a
PtestError, which the executor records as the step's error). What a step makes (envs,
started or added objects) is noted in :class:`BatchState`, so the cleanup policy removes
exactly that and nothing that existed before the plan.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ptest_tui.batch.model import CANCELLED, ERROR, FAILED, PASSED, SKIPPED, BatchPlan, Step
from ptest_tui.errors import EnvStateError, PtestError

if TYPE_CHECKING:
    from ptest_tui.cancel import CancelToken
    from ptest_tui.session import Session


@dataclass
class BatchState:
    """What the plan made so far (shared by the steps' threads; guarded by ``lock``)."""

    created_envs: list[str] = field(default_factory=list)
    started_objects: list[str] = field(default_factory=list)
    added_objects: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)  # run step id -> run id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: list[str], name: str) -> None:
        """Remember that the plan made ``name``."""
        with self.lock:
            if name not in what:
                what.append(name)

    def forget(self, what: list[str], name: str) -> None:
        """``name`` was removed already (by a cleanup step)."""
        with self.lock:
            if name in what:
                what.remove(name)


@dataclass(frozen=True)
class StepContext:
    """Everything a step action gets."""

    session: Session
    plan: BatchPlan
    step: Step
    cancel: CancelToken
    state: BatchState
    parallel: int
    keep: bool
    progress: Callable[[int, int, str], None]

    def report_dir(self, explicit: Path | None) -> Path | None:
        """A step's report folder: its own, else REPORT_DIR/STEP, else the default."""
        if explicit:
            return explicit
        base = self.plan.settings.report_dir
        return base / self.step.id if base else None


@dataclass(frozen=True)
class Done:
    """How an action ended (PASSED unless it says otherwise)."""

    status: str = PASSED
    message: str = ""
    run_id: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)
    reports: tuple[str, ...] = ()


# -- env and object nodes -------------------------------------------------------------------


@contextmanager
def _package_progress(ctx: StepContext, envs: Sequence[str]) -> Iterator[None]:
    """Forward PackagePhase events of ``envs`` as this step's progress."""
    from ptest_tui.events import PackagePhase

    def on_phase(event: PackagePhase) -> None:
        if event.env in envs:
            label = f"{event.env}: {event.phase}" if len(envs) > 1 else event.phase
            ctx.progress(event.done, event.total, label)

    unsubscribe = ctx.session.bus.subscribe(PackagePhase, on_phase)
    try:
        yield
    finally:
        unsubscribe()


def env_node(ctx: StepContext) -> Done:
    """Create the env if it does not exist (or ``recreate``); otherwise ensure its packages."""
    session, settings = ctx.session, ctx.step.settings
    name = settings["name"]
    record = session.store.find_env(name)
    if record is not None and settings["recreate"]:
        ctx.progress(0, 0, "deleting the old env")
        session.delete_env(name)
        record = None
    spec = session.spec_for(name, **settings["options"])
    with _package_progress(ctx, [name]):
        if record is None:
            ctx.progress(0, 0, "creating")
            record = session.create_env(spec, ctx.cancel)
            ctx.state.note(ctx.state.created_envs, name)
            return Done(message=f"created: {record.isolation} ({record.reason})")
        if record.status not in ("ready", "busy"):
            raise EnvStateError(
                f"environment {name!r} is {record.status}"
                + (f" ({record.error})" if record.error else ""),
                f"repair it (`ptest-tui env repair {name}`) or set recreate = true in the plan",
            )
        capable = "packages" in session.engines.capabilities().get(record.isolation, ())
        if spec.packages and capable:
            ctx.progress(0, 0, "installing")
            report = session.install(name, spec.packages, cancel=ctx.cancel)
            return Done(message=f"reused: {record.isolation}, {len(report.installed)} installed")
    return Done(message=f"reused: {record.isolation}")


def object_node(ctx: StepContext) -> Done:
    """Start the object (adding it first when the plan defines it); note what was started."""
    settings = ctx.step.settings
    name, kind = settings["name"], settings["kind"]
    objects = ctx.session.objects
    if kind and name not in objects.specs():
        objects.add(name, kind, settings["object_settings"])
        ctx.state.note(ctx.state.added_objects, name)
    running = objects.view(name).state == "running"
    ctx.progress(0, 0, "starting")
    info = objects.start(name, fresh=settings["fresh"], cancel=ctx.cancel)
    if running:
        return Done(message="already running")
    ctx.state.note(ctx.state.started_objects, name)
    return Done(message=f"ready on port {info.port}" if info.port else "ready")


# -- steps ----------------------------------------------------------------------------------


def run_step(ctx: StepContext) -> Done:
    """One run of the history (``session.run``): suites x envs, with reports if asked."""
    from ptest_tui.events import CaseDone, RunStarted
    from ptest_tui.runs.runner import RunOptions

    s = ctx.step.settings
    options = RunOptions(
        parallel=s.get("parallel") or ctx.parallel,
        fail_fast=s.get("fail_fast", False),
        keep_objects=s.get("keep_objects", False) or ctx.keep,
        timeout=s.get("timeout"),
        report_formats=tuple(s.get("report", ())),
        report_dir=ctx.report_dir(s.get("report_dir")),
    )
    me = threading.get_ident()
    seen: dict[str, int | str] = {}
    lock = threading.Lock()

    def started(event: RunStarted) -> None:
        # RunStarted is published in the thread that called session.run: this one.
        if threading.get_ident() == me and "run" not in seen:
            seen.update(run=event.run_id, total=event.cases, done=0)
            ctx.progress(0, event.cases, f"run {event.run_id}")

    def case_done(event: CaseDone) -> None:
        if event.run_id != seen.get("run"):
            return
        with lock:
            seen["done"] = int(seen["done"]) + 1
            done = int(seen["done"])
        ctx.progress(done, int(seen["total"]), f"{event.suite}[{event.env}] {event.case}")

    unsubscribe = [ctx.session.bus.subscribe(RunStarted, started),
                   ctx.session.bus.subscribe(CaseDone, case_done)]
    try:
        outcome = ctx.session.run(
            s.get("suites", ()), envs=s.get("run_envs", ()), options=options, cancel=ctx.cancel
        )
    finally:
        for stop in unsubscribe:
            stop()
    run = outcome.run
    with ctx.state.lock:
        ctx.state.runs[ctx.step.id] = run.id
    counts = {k: v for k, v in run.counts.items() if v and k != "total"}
    status = {"passed": PASSED, "failed": FAILED, "cancelled": CANCELLED}.get(run.status, ERROR)
    summary = ", ".join(f"{v} {k}" for k, v in counts.items()) or "no results"
    message = f"run {run.id}: {summary}" + (f" ({run.message})" if run.message else "")
    return Done(status, message, run.id, counts, tuple(str(p) for p in outcome.reports))


def install_step(ctx: StepContext) -> Done:
    """Install packages or requirement files into envs, or sync them to a lock file."""
    s, session = ctx.step.settings, ctx.session
    envs = list(ctx.step.envs)
    with _package_progress(ctx, envs):
        if s.get("lock"):
            installed = 0
            for env in envs:
                installed += len(session.sync(env, s["lock"], cancel=ctx.cancel).installed)
            return Done(message=f"synced {', '.join(envs)} to {Path(s['lock']).name}"
                        f" ({installed} installed)")
        outcomes = session.install_many(
            envs, s.get("packages", ()), requirement_files=s.get("requirements", ()),
            upgrade=s.get("upgrade", False), max_workers=ctx.parallel, cancel=ctx.cancel,
        )
    errors = [f"{o.env}: {o.error.one_line()}" for o in outcomes if o.error is not None]
    if errors:
        return Done(CANCELLED if ctx.cancel.cancelled else ERROR, "; ".join(errors))
    installed = sum(len(o.report.installed) for o in outcomes if o.report)
    return Done(message=f"{installed} installed in {', '.join(envs)}")


def _each(ctx: StepContext, action: Callable[[str], str]) -> Done:
    """``action(env)`` for every env of the step (in parallel); errors name their env."""
    envs = list(ctx.step.envs)

    def one(env: str) -> tuple[str, str, PtestError | None]:
        try:
            return env, action(env), None
        except PtestError as exc:
            return env, "", exc

    with ThreadPoolExecutor(max_workers=max(1, min(len(envs), ctx.parallel))) as pool:
        results = list(pool.map(one, envs))
    errors = [(env, exc) for env, _m, exc in results if exc is not None]
    if errors:
        text = "; ".join(f"{env}: {exc.one_line()}" for env, exc in errors)
        cancelled = ctx.cancel.cancelled or all(e.exit_code == 130 for _env, e in errors)
        return Done(CANCELLED if cancelled else ERROR, text)
    return Done(message="; ".join(m for _env, m, _e in results if m))


def exec_step(ctx: StepContext) -> Done:
    """Run a command in each env; a non-zero exit fails the step with the last lines."""
    s = ctx.step.settings

    def one(env: str) -> str:
        from ptest_tui.errors import CancelledError, EngineError

        tail: deque[str] = deque(maxlen=5)
        result = ctx.session.exec(
            env, s["command"], cwd=s.get("cwd"), env=dict(s.get("environment", {})),
            timeout=s.get("timeout"), cancel=ctx.cancel,
            on_output=lambda _stream, line: tail.append(line),
        )
        if result.cancelled:
            raise CancelledError("the command was cancelled", "")
        if result.timed_out:
            raise EngineError(f"the command timed out after {s['timeout']:g} s", "")
        if result.exit_code != 0:
            last = " | ".join(tail)
            raise EngineError(f"exit code {result.exit_code}" + (f": {last}" if last else ""),
                              "")
        return f"{env}: exit 0 in {result.seconds:.2f} s"

    return _each(ctx, one)


def snapshot_step(ctx: StepContext) -> Done:
    """``session.snapshot`` of each env."""
    s = ctx.step.settings

    def one(env: str) -> str:
        record = ctx.session.snapshot(env, tag=s.get("tag"), message=s.get("message"),
                                      cancel=ctx.cancel)
        return f"{env}: snapshot {record.id[:12]}"

    return _each(ctx, one)


def migrate_step(ctx: StepContext) -> Done:
    """``session.migrate`` of the env to another isolation level."""
    s = ctx.step.settings
    (env,) = ctx.step.envs
    ctx.progress(0, 0, f"migrating to {s['to']}")
    outcome = ctx.session.migrate(env, s["to"], keep_source=s.get("keep_source", False),
                                  cancel=ctx.cancel)
    kept = f", the old one kept as {outcome.kept_source}" if outcome.kept_source else ""
    return Done(message=f"{env} is now {outcome.level}{kept}")


def report_step(ctx: StepContext) -> Done:
    """Write reports of a run step's run (or of a run from the history)."""
    from ptest_tui.reports import FORMATS, write_reports

    source = ctx.step.settings["run"]
    step_ids = {s.id for s in ctx.plan.steps}
    if source in step_ids:
        with ctx.state.lock:
            run_id = ctx.state.runs.get(source)
        if run_id is None:
            return Done(SKIPPED, f"step {source} recorded no run")
    else:
        run_id = source
    history = ctx.session.runs
    run = history.get(run_id)
    folder = ctx.report_dir(ctx.step.settings.get("dir")) or (
        ctx.session.workspace.state_dir / "reports" / run.id
    )
    formats = ctx.step.settings.get("formats") or FORMATS
    paths = write_reports(run, history.results(run.id), formats, folder)
    return Done(message=f"run {run.id}: " + ", ".join(p.name for p in paths),
                run_id="", reports=tuple(str(p) for p in paths))


def cleanup_step(ctx: StepContext) -> Done:
    """Stop objects and delete envs now (skipped with --keep)."""
    if ctx.keep:
        return Done(SKIPPED, "kept (--keep)")
    session, state = ctx.session, ctx.state
    done: list[str] = []
    for name in ctx.step.settings.get("objects", ()):
        session.objects.stop(name)
        state.forget(state.started_objects, name)
        done.append(f"object {name} stopped")
    stored = {r.name for r in session.store.list_envs()}
    envs = [e for e in ctx.step.envs if e in stored]
    errors = session.delete_envs(envs) if envs else {}
    failed = [f"{env}: {exc.one_line()}" for env, exc in errors.items() if exc is not None]
    for env in envs:
        if errors.get(env) is None:
            state.forget(state.created_envs, env)
            done.append(f"env {env} deleted")
    if failed:
        return Done(ERROR, "; ".join(failed))
    return Done(message=", ".join(done) or "nothing to remove")


ACTIONS: dict[str, Callable[[StepContext], Done]] = {
    "env": env_node,
    "object": object_node,
    "run": run_step,
    "install": install_step,
    "exec": exec_step,
    "snapshot": snapshot_step,
    "migrate": migrate_step,
    "report": report_step,
    "cleanup": cleanup_step,
}


def cleanup_made(session: Session, state: BatchState) -> tuple[list[str], list[str]]:
    """Remove what the plan made: stop started objects, remove added ones, delete created
    envs. Returns (what was removed, errors); one failure does not stop the rest."""
    removed: list[str] = []
    errors: list[str] = []
    with state.lock:
        started = list(reversed(state.started_objects))
        added = list(reversed(state.added_objects))
        envs = list(state.created_envs)
    for name in started:
        if name in added:
            continue  # removed below, which stops it too
        try:
            session.objects.stop(name)
            removed.append(f"object {name} stopped")
        except PtestError as exc:
            errors.append(f"object {name}: {exc.one_line()}")
    for name in added:
        try:
            session.objects.remove(name)
            removed.append(f"object {name} removed")
        except PtestError as exc:
            errors.append(f"object {name}: {exc.one_line()}")
    stored = {r.name for r in session.store.list_envs()}
    present = [e for e in envs if e in stored]
    if present:
        for env, problem in session.delete_envs(present).items():
            if problem is None:
                removed.append(f"env {env} deleted")
            else:
                errors.append(f"env {env}: {problem.one_line()}")
    return removed, errors


def made(state: BatchState) -> list[str]:
    """What the plan made, as ``env NAME`` / ``object NAME`` (for --keep and the policy)."""
    with state.lock:
        return ([f"env {e}" for e in state.created_envs]
                + [f"object {o}" for o in dict.fromkeys(
                    [*state.started_objects, *state.added_objects])])


__all__ = ["ACTIONS", "BatchState", "Done", "StepContext", "cleanup_made", "made"]
