"""Advice on seeded history: runs, results, env records and benchmarks written through the
real store APIs, then each rule's advice and evidence checked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ptest_tui.advise import RULES, Advice, advise
from ptest_tui.errors import EnvNotFoundError, UsageError
from ptest_tui.packages.inventory import venv_site_dirs
from ptest_tui.session import Session
from tests.conftest import write_workspace
from tests.integration.advise_support import (
    add_dist,
    seed_install_benchmark,
    seed_run,
    stored_env,
)

DAY = 86400.0


def of_kind(items: list[Advice], kind: str) -> list[Advice]:
    return [item for item in items if item.kind == kind]


def facts(item: Advice) -> str:
    return "\n".join(item.evidence)


# -- slowest cases -----------------------------------------------------------------------


def test_slowest_cases_with_durations_and_share(session: Session) -> None:
    for _ in range(5):
        seed_run(session, [
            ("unit", "e", "slow", "passed", 40.0),
            ("unit", "e", "quick", "passed", 5.0),
            ("unit", "e", "tiny", "passed", 0.5),
        ])
    advice = of_kind(session.advise(rules=["slowest-cases"]), "slow-case")
    assert [a.target for a in advice] == ["unit/slow", "unit/quick"]
    slow = advice[0]
    assert (slow.target_kind, slow.env, slow.severity) == ("case", "e", "medium")
    assert "mean 40.0 s over the last 5 runs (min 40.0 s, max 40.0 s)" in slow.evidence
    # 200 s of 227.5 s of test time in the window.
    assert "88% of the test time of the last 5 runs (200.0 s of 227.5 s)" in slow.evidence
    assert "split" in slow.message
    # 0.5 s per run is under both thresholds; a tighter share drops "quick" (11%).
    more = session.advise(rules=["slowest-cases"], slow_share=20)
    assert [a.target for a in more] == ["unit/slow"]
    assert session.advise(rules=["slowest-cases"], slowest=0) == []


def test_a_pytest_case_names_its_slowest_tests(session: Session) -> None:
    for _ in range(3):
        seed_run(session, [
            ("s", "e", "tests/test_a.py::test_one", "passed", 12.0),
            ("s", "e", "tests/test_a.py::test_two", "passed", 3.0),
            ("s", "e", "tests/test_a.py::test_three", "passed", 1.0),
        ], parent="unit", kind="pytest")
    (item,) = session.advise(rules=["slowest-cases"])
    assert item.target == "s/unit"
    assert "mean 16.0 s over the last 3 runs (min 16.0 s, max 16.0 s)" in item.evidence
    assert ("3 tests; the slowest (mean): tests/test_a.py::test_one 12.0 s,"
            " tests/test_a.py::test_two 3.00 s, tests/test_a.py::test_three 1.00 s"
            ) in item.evidence
    assert "pytest -n" in item.message


def test_only_the_last_runs_count(session: Session) -> None:
    seed_run(session, [("s", "e", "old", "passed", 100.0), ("s", "e", "new", "passed", 1.0)])
    for _ in range(3):
        seed_run(session, [("s", "e", "new", "passed", 2.0)])
    advice = session.advise(rules=["slowest-cases"], runs=3)
    assert [a.target for a in advice] == ["s/new"]
    assert "100% of the test time of the last 3 runs (6.00 s of 6.00 s)" in advice[0].evidence


# -- flaky cases ---------------------------------------------------------------------------


def test_flaky_cases_from_flips_and_retries(session: Session) -> None:
    outcomes = ["passed", "failed", "passed", "failed", "passed", "passed", "passed", "failed"]
    for number, status in enumerate(outcomes):
        seed_run(
            session,
            [
                ("api", "e", "login", status, 1.0),
                ("api", "e", "stable", "passed", 1.0),
                # One change from pass to fail is a regression, not flakiness.
                ("api", "e", "broke", "passed" if number < 4 else "failed", 1.0),
                ("api", "e", "retried", "passed", 1.0),
            ],
            flaky=["retried"] if number in (2, 5) else [],
            messages={"login": "expected 200, got 503"},
        )
    advice = of_kind(session.advise(rules=["flaky-cases"]), "flaky-case")
    assert [a.target for a in advice] == ["api/login", "api/retried"]
    login, retried = advice
    assert login.env == "e" and login.severity == "medium"
    assert "flipped pass/fail 5 times in 8 runs (oldest first: P F P F P P P F)" in login.evidence
    assert "failed 3 of 8 times" in login.evidence
    assert "last failure: expected 200, got 503" in login.evidence
    assert "passed only on a retry in 2 of 8 runs (up to 2 attempts)" in retried.evidence
    assert "flipped" not in facts(retried)
    assert session.advise(rules=["flaky-cases"], flaky_flips=6) == [retried]


def test_flips_are_counted_per_env(session: Session) -> None:
    # Passing in one env and failing in another is a difference between envs: not flaky.
    for _ in range(4):
        seed_run(session, [("s", "a", "c", "passed", 1.0), ("s", "b", "c", "failed", 1.0)])
    assert session.advise(rules=["flaky-cases"]) == []


# -- idle envs -------------------------------------------------------------------------------


def test_idle_envs_from_the_last_use(session: Session) -> None:
    stored_env(session, "old")
    lease = session.store.acquire_lease("old", 1, None, "python -V")
    session.store.release_lease(lease)
    last = session.store.transitions("old")[-1].at
    assert session.advise(rules=["idle-envs"], now=last + 13 * DAY) == []
    (item,) = session.advise(rules=["idle-envs"], now=last + 20 * DAY)
    assert (item.kind, item.target, item.env, item.severity) == ("idle-env", "old", "old", "low")
    assert "has not been used for 20 days" in item.message
    assert item.evidence[0].endswith("20.0 days ago (busy -> ready (commands finished))")
    assert "the idle threshold is 14 days (advise.idle_days)" in item.evidence
    assert session.advise(rules=["idle-envs"], now=last + 20 * DAY, idle_days=30) == []


def test_a_run_in_the_env_counts_as_use(session: Session) -> None:
    stored_env(session, "e")
    created = session.get_env("e").created_at
    run = seed_run(session, [("s", "e", "c", "passed", 1.0)])
    with session.store.transaction() as conn:  # the run happened 10 days after creation
        conn.execute("UPDATE results SET started_at = ? WHERE run_id = ?",
                     (created + 10 * DAY, run))
    assert session.advise(rules=["idle-envs"], now=created + 20 * DAY) == []
    (item,) = session.advise(rules=["idle-envs"], now=created + 25 * DAY)
    assert f"(run {run})" in item.evidence[0]


def test_idle_days_from_ptest_toml(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", "[advise]\nidle_days = 3\n")
    with Session.open(workspace=root, environ={}) as session:
        stored_env(session, "e")
        now = time.time() + 5 * DAY
        (item,) = session.advise(rules=["idle-envs"], now=now)
        assert "the idle threshold is 3 days (advise.idle_days)" in item.evidence


# -- memory limits ---------------------------------------------------------------------------


def test_exit_137_under_a_memory_limit_means_too_tight(session: Session) -> None:
    stored_env(session, "small", "docker", memory=64 * 1024**2)
    stored_env(session, "free", "docker")  # no limit: nothing to say
    for _ in range(2):
        seed_run(session, [
            ("s", "small", "load", "failed", 3.0),
            ("s", "small", "hang", "failed", 9.0),
            ("s", "free", "load", "failed", 1.0),
        ], messages={
            "load": "exit code: expected 0, got 137",
            "hang": "timeout: the command was stopped after 9 s; exit code 137",
        })
    report = advise(session, rules=["memory-limits"])
    (item,) = report.advice
    assert (item.kind, item.target, item.severity) == ("memory-too-tight", "small", "high")
    assert 'memory = "128m"' in item.message
    assert "memory limit 64m (64 MiB)" in item.evidence
    assert ("2 result(s) in run(s) 1, 2 ended with exit code 137 (SIGKILL, what the OOM"
            " killer sends): s/load") in item.evidence
    # The container was never made: its own counters are noted as not checked.
    assert any(note.startswith("memory of small:") for note in report.skipped)


# -- installers and conflicts ------------------------------------------------------------------


@pytest.fixture
def venv_env(session: Session) -> Path:
    """A real virtualenv env "v" holding a package pip installed whose requirement is
    missing; returns its site-packages folder."""
    record = session.create_env("v", isolation="virtualenv")
    site = venv_site_dirs(Path(record.location) / "venv")[0]
    add_dist(site, "needy", "1.0", ["alpha>=2"])
    add_dist(site, "tool", "1.0", [])
    return site


def test_conflicts_in_created_envs(session: Session, venv_env: Path) -> None:
    (item,) = session.advise(rules=["package-conflicts"])
    assert (item.kind, item.target, item.severity) == ("package-conflicts", "v", "high")
    assert item.evidence == (
        "1 problem(s) among 2 installed packages",
        "needy 1.0 requires alpha>=2, which is not installed",
    )
    add_dist(venv_env, "alpha", "2.5")
    assert session.advise(rules=["package-conflicts"]) == []


def test_pip_backend_with_benchmark_evidence(session: Session, venv_env: Path) -> None:
    (item,) = session.advise(rules=["pip-backend"])
    assert (item.kind, item.target, item.severity) == ("pip-backend", "v", "low")
    assert "2 of 2 installed packages were installed by pip (their INSTALLER file)" \
        in item.evidence
    assert any("not measured on this machine yet" in fact for fact in item.evidence)
    batch = seed_install_benchmark(session, "virtualenv", uv=0.1, pip=0.8)
    (item,) = session.advise(rules=["pip-backend"])
    assert item.severity == "medium"
    assert (f"benchmark {batch}: installing a wheel into a virtualenv env took 0.80 s with pip"
            " vs 0.10 s with uv (median of 3 and 3 runs, 8.0x)") in item.evidence
    # A newer benchmark where uv was no faster withdraws the advice, and says why.
    later = seed_install_benchmark(session, "virtualenv", uv=0.5, pip=0.4)
    report = advise(session, rules=["pip-backend"])
    assert report.advice == ()
    assert any(f"benchmark {later} found uv no faster" in note for note in report.skipped)


def test_pip_as_the_configured_installer(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[packages]\ninstaller = "pip"\n')
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("v", isolation="virtualenv")
        (item,) = session.advise(rules=["pip-backend"])
        assert "packages.installer is pip (the installer of every env here)" in item.evidence
        assert 'installer = "uv"' in item.message


def test_uv_installed_envs_get_no_installer_advice(session: Session) -> None:
    record = session.create_env("u", isolation="virtualenv")
    add_dist(venv_site_dirs(Path(record.location) / "venv")[0], "tool", "1.0", installer="uv")
    assert session.advise(rules=["pip-backend"]) == []


# -- the whole report ------------------------------------------------------------------------


def test_one_env_and_unknown_envs(session: Session, venv_env: Path) -> None:
    stored_env(session, "other")
    for _ in range(3):
        seed_run(session, [("s", "v", "slow", "passed", 30.0),
                           ("s", "other", "slower", "passed", 60.0)])
    everything = session.advise(now=time.time() + 30 * DAY)
    assert {a.env for a in everything} == {"v", "other"}
    only = session.advise("v", now=time.time() + 30 * DAY)
    assert only and {a.env for a in only} == {"v"}
    assert {a.kind for a in only} == {
        "package-conflicts", "slow-case", "pip-backend", "idle-env"
    }
    # Most severe first.
    assert [a.severity for a in only] == sorted(
        (a.severity for a in only), key=["high", "medium", "low"].index
    )
    with pytest.raises(EnvNotFoundError, match="'nope' does not exist"):
        session.advise("nope")
    # An env that is gone but has history still gets its run advice.
    seed_run(session, [("s", "gone", "c", "passed", 5.0)])
    assert [a.target for a in session.advise("gone")] == ["s/c"]


def test_a_failing_rule_is_noted_and_the_others_still_run(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_ctx: object) -> list[Advice]:
        raise RuntimeError("rule bug")

    monkeypatch.setitem(RULES, "flaky-cases", broken)
    for _ in range(2):
        seed_run(session, [("s", "e", "c", "passed", 5.0)])
    report = advise(session)
    assert [a.kind for a in report.advice] == ["slow-case"]
    assert "flaky-cases: internal error: RuntimeError: rule bug" in report.skipped


def test_bad_options(session: Session) -> None:
    with pytest.raises(UsageError, match="unknown advise option 'idle'"):
        session.advise(idle=3)
    with pytest.raises(UsageError, match="unknown advise rule"):
        session.advise(rules=["nope"])
    with pytest.raises(UsageError, match="must be a number"):
        session.advise(runs="ten")
