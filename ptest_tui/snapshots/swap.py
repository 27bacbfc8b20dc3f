"""Switching a verified rebuild in, undoing a failed one, and recovering after a kill.

A rebuild (restore or migration) is journalled in ``env_rebuilds`` with its owner's pid
and start time, like the transient states of envs. It goes through three phases:

- ``building``: the target is built as a temporary env (its own record, folder or
  container); the source env is not touched. Undo = remove the temporary env (and, for a
  docker target, rename the source's container back if it was moved aside).
- ``swapping``: one store transaction points the env's record at the target and drops the
  temporary record; then folders are moved into place and the source is disposed of.
  Every step after the transaction is idempotent, so a start after a kill finishes it.
- done: the journal row is deleted.

:func:`recover` runs on every Session start: rebuilds whose process is gone are undone
(``building``) or finished (``swapping``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.errors import EnvStateError, PtestError, UsageError
from ptest_tui.events import MigrationStep
from ptest_tui.snapshots.records import Rebuild, RebuildJournal
from ptest_tui.store import EnvRecord, Store

if TYPE_CHECKING:
    from ptest_tui.session import Session

log = logging.getLogger(__name__)

HOST_LEVELS = ("basic", "virtualenv")


def envs_dir(session: Session) -> Path:
    """``.ptest/envs``."""
    return session.workspace.state_dir / "envs"


def moved(value: Any, old: str, new: str) -> Any:
    """``value`` with paths under ``old`` moved to ``new`` (strings, lists, dicts)."""
    if isinstance(value, str):
        if value == old or value.startswith(old + "/"):
            return new + value[len(old):]
        return value
    if isinstance(value, dict):
        return {k: moved(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [moved(v, old, new) for v in value]
    return value


def relocate(folder: Path, old: Path, new: Path) -> None:
    """Fix absolute paths a venv wrote (script shebangs, activate files) after a move."""
    pairs = [(f"{p}/".encode(), f"{new}/".encode()) for p in {str(old), str(old.resolve())}]
    candidates = [folder / "venv" / "pyvenv.cfg"]
    for sub in ("venv/bin", "site/bin"):
        if (folder / sub).is_dir():
            candidates += sorted((folder / sub).iterdir())
    for path in candidates:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 4 << 20:
            continue
        data = path.read_bytes()
        changed = data
        for before, after in pairs:
            changed = changed.replace(before, after)
        if changed != data:
            mode = path.stat().st_mode
            path.write_bytes(changed)
            path.chmod(mode & 0o7777)


def switch(session: Session, rebuild: Rebuild) -> list[str]:
    """The swap transaction: the env's record becomes the target; then :func:`finish`.

    Once the transaction is committed the switch has happened; a later step that fails
    (say, the Docker daemon went away before the old container was removed) is returned
    as a warning and finished by the next start.
    """
    d = rebuild.detail
    name, temp = rebuild.env, rebuild.temp
    folders = envs_dir(session)
    with session.store.transaction() as conn:
        row = conn.execute("SELECT * FROM environments WHERE name = ?", (temp,)).fetchone()
        if row is None:
            raise EnvStateError(f"the rebuilt environment {temp} vanished", "try again")
        built = Store._record(row)
        state = built.engine_state
        if d["level"] in HOST_LEVELS:
            state = moved(state, str(folders / temp), str(folders / name))
        spec = json.dumps({**d["spec"], "name": name}, sort_keys=True)
        values = (d["level"], spec, d["reason"], str(folders / name),
                  json.dumps(state, sort_keys=True), time.time())
        current = conn.execute(
            "SELECT status FROM environments WHERE name = ?", (name,)
        ).fetchone()
        now = time.time()
        if d.get("source"):
            if current is None:
                raise EnvStateError(f"environment {name!r} was deleted meanwhile", "")
            leases = conn.execute(
                "SELECT COUNT(*) FROM env_leases WHERE env = ?", (name,)
            ).fetchone()[0]
            if current["status"] not in ("busy", "broken") or leases > (
                1 if current["status"] == "busy" else 0
            ):
                raise EnvStateError(
                    f"commands started running in {name!r} meanwhile; nothing was changed",
                    "wait for them to finish and try again",
                )
            status = "ready" if current["status"] == "broken" else "busy"
            conn.execute(
                "UPDATE environments SET isolation = ?, spec = ?, reason = ?, location = ?,"
                " engine_state = ?, updated_at = ?, status = ?, error = '', owner_pid = NULL,"
                " owner_start = NULL WHERE name = ?",
                (*values, status, name),
            )
            conn.execute("DELETE FROM environments WHERE name = ?", (temp,))
            if d.get("keep_as"):
                _insert_kept(conn, session, d)
            Store._log_transition(conn, name, current["status"], status, d["note"], now)
        else:
            if current is not None:
                raise UsageError(f"environment {name!r} was created meanwhile", "")
            conn.execute(
                "UPDATE environments SET isolation = ?, spec = ?, reason = ?, location = ?,"
                " engine_state = ?, updated_at = ?, name = ? WHERE name = ?",
                (*values, name, temp),
            )
            Store._log_transition(conn, name, "", "ready", d["note"], now)
        RebuildJournal.set_phase(conn, rebuild.id, "swapping", d)
    try:
        finish(session, Rebuild(**{**rebuild.__dict__, "phase": "swapping"}))
    except (PtestError, OSError) as exc:
        message = exc.message if isinstance(exc, PtestError) else str(exc)
        log.warning("the %s of %s is switched; tidying up failed: %s", rebuild.kind, name, message)
        return [f"the old env is not fully removed yet ({message}); the next start finishes it"]
    return []


def _insert_kept(conn: Any, session: Session, d: dict[str, Any]) -> None:
    """The old env under its new name (``--keep-source`` of a host env)."""
    folders = envs_dir(session)
    source = d["source"]
    old, new = str(folders / source["name"]), str(folders / d["keep_as"])
    now = time.time()
    conn.execute(
        "INSERT INTO environments (name, isolation, status, spec, reason, location,"
        " engine_state, session, error, created_at, updated_at)"
        " VALUES (?,?,'ready',?,?,?,?,?,'',?,?)",
        (d["keep_as"], source["isolation"],
         json.dumps({**source["spec"], "name": d["keep_as"]}, sort_keys=True),
         source.get("reason", ""), new,
         json.dumps(moved(source.get("engine_state", {}), old, new), sort_keys=True),
         session.session_id, now, now),
    )
    Store._log_transition(conn, d["keep_as"], "", "ready", f"kept: was {source['name']}", now)


def finish(session: Session, rebuild: Rebuild) -> None:
    """After the swap transaction: move folders into place, dispose of the source.

    Every step checks what is already done, so running it again (after a kill) is safe.
    """
    d = rebuild.detail
    folders = envs_dir(session)
    final, temp = folders / rebuild.env, folders / rebuild.temp
    trash = Path(d["trash"])
    target_host = d["level"] in HOST_LEVELS
    keep = folders / d["keep_as"] if d.get("keep_as") else None
    _publish(session, rebuild, "switching", "the record points at the new env")
    if final.exists() and (not target_host or temp.exists()):
        # The old env's folder (or a docker env's stray one): kept, or to the trash.
        destination = keep if keep is not None else trash
        if destination.exists() and destination == trash:
            shutil.rmtree(trash)
        destination.parent.mkdir(parents=True, exist_ok=True)
        final.rename(destination)
    if keep is not None and keep.exists():
        relocate(keep, final, keep)
    if target_host and temp.exists():
        temp.rename(final)
    if target_host:
        relocate(final, temp, final)
    _publish(session, rebuild, "switching", "folders in place")
    if trash.exists():
        shutil.rmtree(trash, ignore_errors=True)
    _dispose_container(session, d)
    RebuildJournal(session.store).end(rebuild.id)


def _dispose_container(session: Session, d: dict[str, Any]) -> None:
    """Remove the source's container (docker sources), by id only."""
    source = d.get("source") or {}
    if source.get("isolation") != "docker":
        return
    engine = session.engines.get("docker")
    if d["level"] == "docker":
        from ptest_tui.engines.docker_client import remove_container

        # The target carries the same env label: remove the old container by its id alone.
        if d.get("source_container"):
            from ptest_tui.snapshots.files_docker import as_docker

            remove_container(as_docker(engine).api(), d["source_container"])
        return
    engine.delete(_source_record(source))


def _source_record(source: dict[str, Any]) -> EnvRecord:
    return EnvRecord(
        name=source["name"], isolation=source["isolation"], status="deleting",
        spec=source.get("spec", {}), engine_state=source.get("engine_state", {}),
    )


def undo_build(session: Session, rebuild: Rebuild) -> None:
    """Remove a half-built or failed target; the source env is left as it was."""
    d = rebuild.detail
    record = session.store.find_env(rebuild.temp)
    engine = session.engines.get(d["level"])
    if record is not None and (record.engine_state or d["level"] in HOST_LEVELS):
        engine.delete(record)
    if d.get("docker_name"):
        _undo_container(session, d)
    shutil.rmtree(envs_dir(session) / rebuild.temp, ignore_errors=True)
    if record is not None:
        session.store.delete_env(rebuild.temp, note=f"{rebuild.kind} of {rebuild.env} undone")
    RebuildJournal(session.store).end(rebuild.id)


def _undo_container(session: Session, d: dict[str, Any]) -> None:
    """Remove a new container named like the source's; give the source its name back."""
    import docker.errors

    from ptest_tui.engines.docker_client import remove_container
    from ptest_tui.snapshots.files_docker import as_docker

    api = as_docker(session.engines.get("docker")).api()
    name, aside, source_id = d["docker_name"], d.get("aside_name", ""), d.get("source_container")
    with contextlib.suppress(docker.errors.NotFound):
        found = api.inspect_container(name)["Id"]
        if found != source_id:
            remove_container(api, found)
    if aside:
        with contextlib.suppress(docker.errors.NotFound):
            api.rename(aside, name)


def _publish(session: Session, rebuild: Rebuild, step: str, detail: str) -> None:
    session.bus.publish(MigrationStep(rebuild.env, rebuild.kind, step, 0, 0, detail))


def recover(session: Session) -> list[str]:
    """Undo or finish rebuilds whose process died; returns what was done, one line each."""
    from ptest_tui.ownership import owner_alive

    done: list[str] = []
    for rebuild in RebuildJournal(session.store).stale(owner_alive):
        try:
            if rebuild.phase == "building":
                undo_build(session, rebuild)
                line = f"removed {rebuild.temp}, left half-built by a killed {rebuild.kind}"
            else:
                finish(session, rebuild)
                line = f"finished the interrupted {rebuild.kind} of {rebuild.env}"
        except (PtestError, OSError, ImportError) as exc:
            log.warning("cannot recover the %s of %s yet: %s", rebuild.kind, rebuild.env, exc)
            continue
        log.warning("%s", line)
        _publish(session, rebuild, "recovered", line)
        done.append(line)
    return done
