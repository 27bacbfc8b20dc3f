"""Seeding history for advise tests through the real store APIs (RunHistory, Store,
BenchmarkHistory): the rules then read exactly what real runs would have written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ptest_tui.benchmark import BenchmarkHistory, BenchmarkResult
from ptest_tui.runs.model import CaseResult
from ptest_tui.session import Session
from ptest_tui.store import EnvRecord

Row = tuple[str, str, str, str, float]  # suite, env, case, status, seconds


def seed_run(
    session: Session,
    rows: Sequence[Row],
    *,
    parent: str = "",
    kind: str = "command",
    flaky: Sequence[str] = (),
    messages: dict[str, str] | None = None,
) -> str:
    """One finished run holding ``rows``; returns its id. Cases named in ``flaky``
    passed on their second attempt."""
    history = session.runs
    run = history.begin([], sorted({r[1] for r in rows}), session.owner())
    history.add(
        CaseResult(
            run_id=run.id, suite=suite, env=env, case=case, kind=kind, status=status,
            duration=seconds, parent=parent, attempts=2 if case in flaky else 1,
            flaky=case in flaky, message=(messages or {}).get(case, ""),
        )
        for suite, env, case, status, seconds in rows
    )
    failed = any(r[3] in ("failed", "error") for r in rows)
    history.finish(run, "failed" if failed else "passed")
    return run.id


def stored_env(
    session: Session, name: str, isolation: str = "virtualenv", **spec: object
) -> EnvRecord:
    """An env record made through the store, as a finished create leaves it (ready)."""
    session.store.insert_env(EnvRecord(
        name=name, isolation=isolation, status="creating",
        spec={"name": name, "isolation": isolation, **spec}, session=session.session_id,
    ))
    return session.store.update_env(name, status="ready", expect=("creating",), note="created")


def seed_install_benchmark(session: Session, engine: str, uv: float, pip: float) -> str:
    """A finished benchmark batch with install results of ``engine``; returns its id."""
    history = BenchmarkHistory(session.store)
    report = history.begin([engine], ["install"], 3, session.owner(), session.session_id, {})
    history.add(report.batch, BenchmarkResult(engine, "install", "uv", "ok", (uv,) * 3))
    history.add(report.batch, BenchmarkResult(engine, "install", "pip", "ok", (pip,) * 3))
    history.finish(report.batch, "done")
    return report.batch


def add_dist(
    site: Path, name: str, version: str, requires: Sequence[str] = (), installer: str = "pip"
) -> None:
    """An installed distribution's metadata, as pip leaves it in site-packages."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {req}" for req in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n\n")
    (info / "INSTALLER").write_text(installer + "\n")
