"""Environment lifecycle: create, repair, delete, and run commands in environments.

Each operation is a small state machine over the store (``creating``, ``ready``,
``busy``, ``deleting``, ``broken``), the env's engine and the event bus. Validation comes
first and changes nothing; a failure halfway removes what was made, and a state left by a
killed process names its owner so the next start can settle it. The Session exposes these
as ``create_env``, ``exec``, ``delete_env`` and so on; front ends call those.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import ExecResult, IsolationEngine
from ptest_tui.engines.selection import Selection
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import EnvStateError, PtestError, UsageError
from ptest_tui.events import (
    EnvCreated,
    EnvCreating,
    EnvDeleted,
    EnvDeleting,
    EnvFailed,
    EnvStatusChanged,
    OutputLine,
)
from ptest_tui.outcomes import CreateOutcome
from ptest_tui.store import EnvRecord
from ptest_tui.validation import validate_name

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)


def state_error(record: EnvRecord, action: str) -> EnvStateError:
    """Why ``action`` cannot be done to the env in its current state, with what to do."""
    if record.status == "broken":
        detail = f" ({record.error})" if record.error else ""
        return EnvStateError(
            f"environment {record.name!r} is broken{detail}",
            f"repair it with `ptest-tui env repair {record.name}` or delete it",
        )
    return EnvStateError(
        f"environment {record.name!r} is {record.status}; cannot {action} it now",
        "wait for the other operation to finish, or see `ptest-tui env list`",
    )


class EnvLifecycle:
    """The environment operations of one Session (which delegates to it)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.store, self.engines, self.bus = session.store, session.engines, session.bus
        self.workspace = session.workspace

    def create(
        self, name_or_spec: str | EnvSpec, cancel: CancelToken | None = None, **options: Any
    ) -> EnvRecord:
        """Create one environment and return its record once it is ready.

        Validation (name, options, level, engine availability, interpreter, image) runs
        first; a failure then changes nothing. A failure while creating removes what was
        made; only a killed process can leave an env behind, and the next start marks it
        broken.
        """
        spec = (
            name_or_spec
            if isinstance(name_or_spec, EnvSpec)
            else self.session.spec_for(name_or_spec, **options)
        )
        selection, engine = self.check_create(spec)
        return self.build(spec, selection, engine, cancel or CancelToken(), claim=True)

    def check_create(self, spec: EnvSpec) -> tuple[Selection, IsolationEngine]:
        """Every check :meth:`create` makes before it changes anything.

        Raises the first problem (name, duplicate, level, engine availability,
        interpreter, image). Front ends call it for each env of a bulk request, so one bad
        entry fails the whole request before any env is created.
        """
        validate_name(spec.name)
        if self.store.find_env(spec.name) is not None:
            raise UsageError(
                f"environment {spec.name!r} already exists",
                "pick another name, or delete it first with `ptest-tui env delete`",
            )
        selection = self.session.select(spec)
        if spec.packages and "packages" not in self.engines.capabilities()[selection.level]:
            raise UsageError(
                f"{selection.level} environments cannot install packages yet",
                "create the env without packages and install them with `env exec`",
            )
        engine = self.session.engine_for(selection.level)
        engine.validate(spec)
        return selection, engine

    def build(
        self,
        spec: EnvSpec,
        selection: Selection,
        engine: IsolationEngine,
        cancel: CancelToken,
        claim: bool,
    ) -> EnvRecord:
        """Make the env with ``engine`` and mark it ready; on any failure undo it.

        ``claim`` inserts the env as ``creating`` (a new env); a repair has already moved
        its record to ``creating`` and keeps it, broken, if the rebuild fails.
        """
        start = time.monotonic()
        location = str(self.workspace.state_dir / "envs" / spec.name)
        if claim:
            pid, started = self.session.owner()
            self.store.insert_env(
                EnvRecord(
                    name=spec.name,
                    isolation=selection.level,
                    status="creating",
                    spec=spec.to_dict(),
                    reason=selection.reason,
                    location=location,
                    owner_pid=pid,
                    owner_start=started,
                    session=self.session.session_id,
                )
            )
        self.bus.publish(EnvCreating(spec.name, selection.level, selection.reason))
        try:
            cancel.raise_if_cancelled("create")
            state = engine.create(spec, cancel)
        except BaseException as exc:
            self._rollback(spec.name, engine, exc, keep_record=not claim)
            raise
        record = self.store.update_env(
            spec.name,
            status="ready",
            expect=("creating",),
            note="created",
            engine_state=state,
            owner_pid=None,
            owner_start=None,
            error="",
        )
        self.bus.publish(EnvCreated(spec.name, selection.level, time.monotonic() - start))
        return record

    def _rollback(
        self, name: str, engine: IsolationEngine, exc: BaseException, keep_record: bool
    ) -> None:
        """Undo a failed build: remove what was made; a repaired env stays, marked broken."""
        message = exc.message if isinstance(exc, PtestError) else str(exc) or type(exc).__name__
        hint = exc.hint if isinstance(exc, PtestError) else ""
        self.bus.publish(EnvFailed(name, message, hint))
        record = self.store.find_env(name)
        try:
            if record is not None:
                engine.delete(record)
            shutil.rmtree(self.workspace.state_dir / "envs" / name, ignore_errors=True)
            if keep_record:
                self.store.update_env(
                    name, status="broken", note="repair failed", error=message, owner_pid=None
                )
            else:
                self.store.delete_env(name, note=f"create failed: {message}")
        except Exception:
            log.exception("could not roll back environment %s", name)
            self.store.update_env(name, status="broken", error=message, owner_pid=None)

    def create_many(
        self,
        specs: Sequence[EnvSpec | str],
        *,
        max_workers: int | None = None,
        cancel: CancelToken | None = None,
        on_done: Callable[[CreateOutcome], None] | None = None,
    ) -> list[CreateOutcome]:
        """Create many environments in parallel; one failure does not stop the others."""
        cancel = cancel or CancelToken()
        names = [s.name if isinstance(s, EnvSpec) else s for s in specs]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise UsageError(
                f"environment names given twice: {', '.join(sorted(duplicates))}",
                "name each environment once",
            )

        def one(item: EnvSpec | str) -> CreateOutcome:
            name = item.name if isinstance(item, EnvSpec) else item
            started = time.monotonic()
            try:
                record = self.create(item, cancel)
                outcome = CreateOutcome(name, record, None, time.monotonic() - started)
            except PtestError as exc:
                outcome = CreateOutcome(name, None, exc, time.monotonic() - started)
            except Exception as exc:  # an engine bug must not sink the other creates
                log.exception("creating %s failed", name)
                error = PtestError(f"{name}: {exc}", "run with --debug for the traceback")
                outcome = CreateOutcome(name, None, error, time.monotonic() - started)
            if on_done:
                on_done(outcome)
            return outcome

        workers = max_workers or self.session.max_workers()
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(specs) or 1))) as pool:
            return list(pool.map(one, specs))

    def exec(
        self,
        name: str,
        argv: Sequence[str],
        *,
        on_output: Callable[[str, str], None] | None = None,
        cancel: CancelToken | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the environment, streaming each line as an OutputLine event.

        While it runs the env is ``busy`` (several commands may run at once), so it cannot
        be deleted or repaired under them without ``force``.
        """
        if not argv:
            raise UsageError("no command given", "put the command after --: env exec NAME -- CMD")
        record = self.store.get_env(name)
        if record.status not in ("ready", "busy"):
            raise state_error(record, "run commands in")
        engine = self.session.engine_for(record.isolation)

        def emit(stream: str, line: str) -> None:
            self.bus.publish(OutputLine(name, stream, line))
            if on_output:
                on_output(stream, line)

        try:
            lease = self.store.acquire_lease(
                name, *self.session.owner(), shlex.join(argv)
            )
        except UsageError:
            raise state_error(self.store.get_env(name), "run commands in") from None
        if record.status == "ready":
            self.bus.publish(EnvStatusChanged(name, "ready", "busy", "running a command"))
        try:
            return engine.exec(
                record,
                argv,
                on_output=emit,
                cancel=cancel or CancelToken(),
                cwd=cwd,
                env={**self.session.object_environment(record.isolation == "docker"),
                     **(env or {})},
                timeout=timeout,
            )
        finally:
            if self.store.release_lease(lease):
                self.bus.publish(
                    EnvStatusChanged(name, "busy", "ready", "commands finished"))

    def delete(self, name: str, force: bool = False) -> None:
        """Delete an environment and everything its engine made."""
        record = self.store.get_env(name)
        allowed = ("ready", "broken", "busy", "creating", "deleting") if force else (
            "ready",
            "broken",
        )
        if record.status not in allowed:
            raise state_error(record, "delete")
        if record.isolation not in self.engines.names():
            if not force:
                raise UsageError(
                    f"environment {name!r} uses isolation level {record.isolation!r}, which no"
                    " installed plugin provides",
                    "reinstall that plugin, or `env delete --force` to forget the env",
                )
            # Its engine is gone, so nothing can remove what it made; forget the env.
            log.warning("forgetting %s: no engine %r is installed", name, record.isolation)
            shutil.rmtree(self.workspace.state_dir / "envs" / name, ignore_errors=True)
            self.store.delete_env(name, note=f"forgotten: engine {record.isolation} missing")
            self.bus.publish(EnvDeleted(name))
            return
        # A down daemon fails here, before anything changed.
        engine = self.session.engine_for(record.isolation)
        pid, started = self.session.owner()
        record = self.store.update_env(
            name,
            status="deleting",
            expect=allowed,
            note="delete requested",
            owner_pid=pid,
            owner_start=started,
        )
        self.bus.publish(EnvDeleting(name))
        try:
            engine.delete(record)
            shutil.rmtree(self.workspace.state_dir / "envs" / name, ignore_errors=True)
        except PtestError as exc:
            self.store.update_env(
                name, status="broken", note="delete failed", error=exc.message, owner_pid=None
            )
            raise
        self.store.delete_env(name)
        self.bus.publish(EnvDeleted(name))

    def delete_many(
        self, names: Sequence[str], *, max_workers: int | None = None
    ) -> dict[str, PtestError | None]:
        """Delete several environments in parallel; returns each name's error or None."""
        for name in names:
            self.store.get_env(name)  # all must exist before anything is deleted

        def one(name: str) -> tuple[str, PtestError | None]:
            try:
                self.delete(name)
                return name, None
            except PtestError as exc:
                return name, exc

        workers = max(1, min(max_workers or self.session.max_workers(), len(names) or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return dict(pool.map(one, names))

    def repair(self, name: str, cancel: CancelToken | None = None) -> EnvRecord:
        """Rebuild a broken environment from its stored spec (leftovers are removed first)."""
        record = self.store.get_env(name)
        engine = self.engines.get(record.isolation)
        if record.status == "ready":
            status = engine.status(record)
            if status.healthy:
                raise EnvStateError(
                    f"environment {name!r} is ready and healthy; nothing to repair",
                    "use `ptest-tui env delete` and `env create` to rebuild it anyway",
                )
        elif record.status != "broken":
            raise state_error(record, "repair")
        spec = EnvSpec.from_dict(record.spec)
        engine = self.session.engine_for(record.isolation)
        engine.validate(spec)
        pid, started = self.session.owner()
        self.store.update_env(
            name,
            status="creating",
            expect=("ready", "broken"),
            note="repair",
            owner_pid=pid,
            owner_start=started,
        )
        self.bus.publish(EnvStatusChanged(name, record.status, "creating", "repair"))
        try:
            engine.delete(record)
            shutil.rmtree(self.workspace.state_dir / "envs" / name, ignore_errors=True)
        except PtestError as exc:
            self.store.update_env(name, status="broken", error=exc.message, owner_pid=None)
            raise
        selection = Selection(record.isolation, record.reason)
        return self.build(spec, selection, engine, cancel or CancelToken(), claim=False)
