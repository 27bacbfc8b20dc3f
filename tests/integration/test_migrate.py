"""Migration between isolation levels: every direction, verification, bad input, and a
SIGKILL in the middle (the source stays intact; the next start cleans or finishes up)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.errors import EngineUnavailableError, EnvStateError, UsageError
from ptest_tui.events import Event, MigrationStep
from ptest_tui.session import Session
from ptest_tui.snapshots.errors import VerificationError
from tests.conftest import write_workspace
from tests.integration.snapshot_support import (
    fill_home,
    home,
    home_state,
    open_ws,
    output,
    overrides,
    packages,
    run_killed,
    workspace_toml,
)

pytestmark = pytest.mark.slow
EXPECTED = {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTEST_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def workspace(tmp_path: Path, find_links_dir: Path) -> Path:
    """The workspace ``dsession`` opens: packages from the local wheel corpus only."""
    return write_workspace(tmp_path / "dws", workspace_toml(find_links_dir))


@pytest.fixture
def s(tmp_path: Path, find_links_dir: Path) -> Iterator[Session]:
    session = open_ws(tmp_path / "ws", find_links_dir)
    yield session
    session.close()


def source_env(s: Session, level: str = "virtualenv", name: str = "m") -> dict[str, object]:
    s.create_env(name, isolation=level, env={"GREETING": "hi"})
    s.install(name, ["beta==1.0", "tool"])
    fill_home(home(s, name))
    return {k: v for k, v in home_state(home(s, name)).items() if not k.startswith(".cache")}


def test_virtualenv_to_basic_says_what_is_not_kept(s: Session) -> None:
    files = source_env(s)
    events: list[Event] = []
    s.bus.subscribe(MigrationStep, events.append)
    outcome = s.migrate("m", "basic")
    record = s.get_env("m")
    assert record.isolation == "basic" and record.status == "ready"
    assert any("packages: 3" in line and "no Python of its own" in line
               for line in outcome.dropped)
    assert any("Python 3." in line for line in outcome.dropped)
    assert "environment variables: GREETING" in outcome.kept
    assert home_state(home(s, "m")) == files
    assert output(s, "m", ["sh", "-c", "echo $GREETING; cat $HOME/notes/a.txt"]) == (
        0, ["hi", "alpha"])
    assert not (s.workspace.state_dir / "envs" / "m" / "venv").exists()
    # The snapshot taken before migrating brings the virtualenv back.
    s.restore(outcome.snapshot_id)
    assert s.get_env("m").isolation == "virtualenv" and packages(s, "m") == EXPECTED
    steps = [e.step for e in events if e.index]
    assert steps[:3] == ["checking", "building", "files"] and steps[-1] == "done"


def test_basic_to_virtualenv_installs_the_lock(s: Session) -> None:
    files = source_env(s, "basic")
    outcome = s.migrate("m", "virtualenv")
    assert s.get_env("m").isolation == "virtualenv"
    assert packages(s, "m") == EXPECTED and "packages: 3 match the lock" in outcome.verified
    assert home_state(home(s, "m")) == files
    assert output(s, "m", ["tool-hello"]) == (0, ["hello"])
    assert not (s.workspace.state_dir / "envs" / "m" / "site").exists()


def test_keep_source_keeps_the_old_env_under_a_new_name(s: Session) -> None:
    files = source_env(s)
    outcome = s.migrate("m", "basic", keep_source=True)
    assert outcome.kept_source == "m-virtualenv"
    kept = s.get_env("m-virtualenv")
    assert kept.isolation == "virtualenv" and kept.status == "ready"
    assert s.env_status("m-virtualenv").healthy
    assert home_state(home(s, "m-virtualenv")) == {
        **files, ".cache": ("dir", ""), ".cache/pip": ("dir", ""),
        ".cache/pip/junk": ("file", "cache|644")}  # the folder itself, moved
    # Moved, its console scripts still run its own interpreter.
    assert output(s, "m-virtualenv", ["tool-hello"]) == (0, ["hello"])
    assert s.get_env("m").isolation == "basic"
    s.create_env("m-basic", isolation="basic")
    with pytest.raises(UsageError, match="'m-basic', which already exists"):
        s.migrate("m", "virtualenv", keep_source=True)


def test_failed_smoke_leaves_the_source_untouched(tmp_path: Path, find_links_dir: Path) -> None:
    s = open_ws(tmp_path / "w2", find_links_dir,
                '[envs.m]\nsmoke = ["python3", "-c", "import tool"]\n')
    source_env(s)
    before = s.get_env("m")
    with pytest.raises(VerificationError, match="smoke command") as info:
        s.migrate("m", "basic")  # a basic env has no packages: import tool fails
    assert "m is unchanged" in info.value.message
    after = s.get_env("m")
    assert (after.isolation, after.engine_state, after.status) == (
        before.isolation, before.engine_state, "ready")
    assert [r.name for r in s.store.list_envs()] == ["m"]
    assert s.snapshots.all() == []  # the snapshot taken for the migration is gone too
    assert output(s, "m", ["tool-hello"]) == (0, ["hello"])
    outcome = s.migrate("m", "basic", smoke=["true"])  # an explicit smoke overrides it
    assert "smoke command passed: true" in outcome.verified
    s.close()


def test_bad_requests_change_nothing(s: Session) -> None:
    source_env(s)
    with pytest.raises(UsageError, match="already a virtualenv"):
        s.migrate("m", "virtualenv")
    with pytest.raises(UsageError, match="unknown isolation level"):
        s.migrate("m", "podman")
    with pytest.raises(UsageError, match="does not exist"):
        s.migrate("nope", "basic")
    s.store.update_env("m", status="broken", error="boom")
    with pytest.raises(EnvStateError, match="broken"):
        s.migrate("m", "basic")
    assert s.snapshots.all() == [] and s.get_env("m").isolation == "virtualenv"


def test_docker_unavailable_is_a_clear_error(tmp_path: Path, find_links_dir: Path) -> None:
    from tests.support.index_server import dead_port

    s = Session.open(
        workspace=open_ws(tmp_path / "w3", find_links_dir).workspace.root, environ={},
        overrides=[*overrides(find_links_dir), f"docker.host=tcp://127.0.0.1:{dead_port()}"],
    )
    source_env(s)
    before = s.get_env("m")
    with pytest.raises(EngineUnavailableError, match="docker engine is unavailable") as info:
        s.migrate("m", "docker")
    assert "doctor" in info.value.hint
    assert s.get_env("m") == before and s.snapshots.all() == []
    s.close()


@pytest.mark.parametrize(
    ("step", "detail"), [("packages", ""), ("files", ""), ("verifying", "")]
)
def test_sigkill_while_building_leaves_the_source_and_the_next_start_cleans(
    tmp_path: Path, find_links_dir: Path, step: str, detail: str
) -> None:
    s = open_ws(tmp_path / "k", find_links_dir)
    files = source_env(s, "basic")
    before = s.get_env("m")
    s.close()
    done = run_killed(s.workspace.root, find_links_dir, "migrate", "m", "virtualenv", step,
                      detail)
    assert done.returncode == -signal.SIGKILL, done.stderr
    envs = s.workspace.state_dir / "envs"
    assert [p.name for p in envs.iterdir() if p.name.startswith("m.migrate-")]  # half-built
    again = Session.open(workspace=s.workspace.root, environ={},
                         overrides=overrides(find_links_dir))
    assert [r.name for r in again.store.list_envs()] == ["m"]
    assert sorted(p.name for p in envs.iterdir()) == ["m"]
    record = again.get_env("m")
    assert (record.isolation, record.engine_state, record.status) == (
        "basic", before.engine_state, "ready")
    assert home_state(home(again, "m")) == {**files, ".cache": ("dir", ""),
                                             ".cache/pip": ("dir", ""),
                                             ".cache/pip/junk": ("file", "cache|644")}
    assert output(again, "m", ["tool-hello"]) == (0, ["hello"])
    assert again.snapshots.journal.all() == []
    again.migrate("m", "virtualenv")  # and it can be migrated now
    again.close()


def test_sigkill_after_the_switch_is_finished_by_the_next_start(
    tmp_path: Path, find_links_dir: Path
) -> None:
    s = open_ws(tmp_path / "k2", find_links_dir)
    files = source_env(s, "basic")
    s.close()
    done = run_killed(s.workspace.root, find_links_dir, "migrate", "m", "virtualenv",
                      "switching", "the record points")
    assert done.returncode == -signal.SIGKILL, done.stderr
    again = Session.open(workspace=s.workspace.root, environ={},
                         overrides=overrides(find_links_dir))
    record = again.get_env("m")
    assert record.isolation == "virtualenv" and record.status == "ready"
    envs = again.workspace.state_dir / "envs"
    assert sorted(p.name for p in envs.iterdir()) == ["m"]
    assert again.env_status("m").healthy
    assert home_state(home(again, "m")) == files
    assert output(again, "m", ["tool-hello"]) == (0, ["hello"])
    assert not any((again.snapshots.root / "trash").glob("*"))
    assert again.snapshots.journal.all() == []
    again.close()


# -- docker ---------------------------------------------------------------------------


def containers(session: Session, env: str) -> list[str]:
    api = session.engines.get("docker").api()  # type: ignore[attr-defined]
    found = api.containers(all=True, filters={
        "label": [f"ptest.workspace={session.workspace.id}", f"ptest.env={env}"]})
    return sorted(c["Names"][0].lstrip("/") for c in found)


@pytest.mark.docker
def test_virtualenv_to_docker_and_back(dsession: Session) -> None:
    source_env(dsession)
    outcome = dsession.migrate("m", "docker")
    record = dsession.get_env("m")
    assert record.isolation == "docker" and record.spec["python"].startswith("3.")
    assert "packages: 3 match the lock" in outcome.verified
    assert not (dsession.workspace.state_dir / "envs" / "m").exists()
    code, lines = output(dsession, "m", ["sh", "-c", "cat /root/notes/a.txt; echo $GREETING;"
                                   " tool-hello; readlink /root/link"])
    assert (code, lines) == (0, ["alpha", "hi", "hello", "notes/a.txt"])
    assert containers(dsession, "m") == [f"ptest-{dsession.workspace.id}-m"]
    back = dsession.migrate("m", "virtualenv", keep_source=True)
    assert back.kept_source == "m-docker"
    assert any("outside HOME" in line for line in back.dropped)
    assert dsession.get_env("m").isolation == "virtualenv" and packages(dsession, "m") == EXPECTED
    assert output(dsession, "m", ["tool-hello"]) == (0, ["hello"])
    assert containers(dsession, "m") == []  # the old container went with the switch
    # The kept docker env is a rebuild with its own name, labels and container.
    assert containers(dsession, "m-docker") == [f"ptest-{dsession.workspace.id}-m-docker"]
    assert output(dsession, "m-docker", ["cat", "/root/notes/a.txt"]) == (0, ["alpha"])


@pytest.mark.docker
def test_docker_to_basic_and_basic_to_docker(dsession: Session) -> None:
    dsession.create_env("d", isolation="docker", memory="256m")
    dsession.exec("d", ["sh", "-c", "echo data > /root/file.txt"])
    outcome = dsession.migrate("d", "basic")
    assert any(line.startswith("memory limit") for line in outcome.dropped)
    assert (home(dsession, "d") / "file.txt").read_text() == "data\n"
    assert containers(dsession, "d") == []
    dsession.migrate("d", "docker")
    assert output(dsession, "d", ["cat", "/root/file.txt"]) == (0, ["data"])


@pytest.mark.docker
def test_sigkill_during_a_migration_to_docker(dsession: Session, find_links_dir: Path) -> None:
    source_env(dsession)
    before = dsession.get_env("m")
    done = run_killed(dsession.workspace.root, find_links_dir, "migrate", "m", "docker", "files")
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert containers(dsession, "m")  # the half-built container carries the env's label
    again = Session.open(workspace=dsession.workspace.root, environ={},
                         overrides=overrides(find_links_dir))
    assert containers(again, "m") == []
    assert [r.name for r in again.store.list_envs()] == ["m"]
    assert again.get_env("m").engine_state == before.engine_state
    assert output(again, "m", ["tool-hello"]) == (0, ["hello"])
    again.close()


@pytest.mark.docker
def test_sigkill_during_a_docker_restore_gives_the_old_container_its_name_back(
    dsession: Session, find_links_dir: Path
) -> None:
    dsession.create_env("d", isolation="docker")
    dsession.exec("d", ["sh", "-c", "echo old > /root/f"])
    record = dsession.snapshot("d")
    old = dsession.get_env("d").engine_state["container_id"]
    done = run_killed(dsession.workspace.root, find_links_dir, "restore", "d", record.id, "files")
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert len(containers(dsession, "d")) == 2  # the old one moved aside, the new one half-built
    again = Session.open(workspace=dsession.workspace.root, environ={},
                         overrides=overrides(find_links_dir))
    assert containers(again, "d") == [f"ptest-{again.workspace.id}-d"]
    assert again.get_env("d").engine_state["container_id"] == old
    assert output(again, "d", ["cat", "/root/f"]) == (0, ["old"])
    again.restore(record.id)  # and a restore works afterwards
    assert output(again, "d", ["cat", "/root/f"]) == (0, ["old"])
    again.close()
