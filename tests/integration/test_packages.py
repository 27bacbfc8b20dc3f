"""Package management in real virtualenv and basic envs, from the local wheel corpus.

Every test uses a private cache (PTEST_CACHE_DIR) and a local index or find-links folder;
nothing reaches the internet.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.errors import (
    EnvStateError,
    PackageConflictError,
    PackageUsageError,
    UsageError,
)
from ptest_tui.events import Event, PackagePhase, PackagesInstalled
from ptest_tui.packages.errors import IndexUnreachableError
from ptest_tui.session import Session
from tests.conftest import write_workspace

pytestmark = pytest.mark.slow

BACKENDS = ("uv", "pip")
LEVELS = ("virtualenv", "basic")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTEST_CACHE_DIR", str(cache))
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    return cache


def open_session(root: Path, *overrides: str) -> Session:
    write_workspace(root)
    return Session.open(workspace=root, environ={}, overrides=list(overrides))


@pytest.fixture
def offline_session(tmp_path: Path, find_links_dir: Path) -> Iterator[Session]:
    s = open_session(
        tmp_path / "ws", f"packages.find_links={find_links_dir}", "packages.offline=true"
    )
    yield s
    s.close()


TOOLING = {"pip", "setuptools", "wheel"}  # seeded into virtualenvs for the pip backend


def assert_count_stored(session: Session, env: str) -> None:
    """The store's package count (what listings show) is what the env really has."""
    stored = session.store.get_env(env).package_count
    assert stored == len(session.packages(env)) and stored > 0


def names(session: Session, env: str) -> dict[str, str]:
    return {d.key: d.version for d in session.packages(env) if d.key not in TOOLING}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_install_list_check_lock_sync_uninstall(
    offline_session: Session, tmp_path: Path, level: str, backend: str
) -> None:
    s = offline_session
    s.create_env("e", isolation=level)
    events: list[Event] = []
    s.bus.subscribe(Event, events.append)

    assert s.store.get_env("e").package_count is None  # not looked at yet
    report = s.install("e", ["beta==1.0", "tool"], installer=backend)
    assert {"beta==1.0", "tool==1.0"} <= set(report.installed)
    assert_count_stored(s, "e")
    assert names(s, "e") == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}
    assert any(isinstance(e, PackagesInstalled) for e in events)
    assert any(isinstance(e, PackagePhase) and e.phase == "resolving" for e in events)
    assert s.check_packages("e").ok

    # The console script works inside the env.
    out: list[str] = []
    result = s.exec("e", ["tool-hello"], on_output=lambda _s, line: out.append(line))
    assert result.exit_code == 0 and out == ["hello"]

    lock_path = tmp_path / "e.lock"
    lock = s.lock("e", lock_path)
    text = lock_path.read_text()
    assert "alpha==2.0" in text and "--hash=sha256:" in text and "ptest-tui lock" in text
    assert set(lock.pins) >= {"alpha==2.0", "beta==1.0", "tool==1.0"}

    # Drift away from the lock, then sync back: exactly the locked set again.
    s.install("e", ["alpha==1.1"], installer=backend)
    s.install("e", ["gamma"], installer=backend)
    s.sync("e", lock_path, installer=backend)
    assert_count_stored(s, "e")
    after = names(s, "e")
    assert after == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}

    s.uninstall("e", ["tool"], installer=backend)
    assert_count_stored(s, "e")
    assert "tool" not in names(s, "e")
    with pytest.raises(PackageUsageError, match="not installed in e: tool"):
        s.uninstall("e", ["tool"], installer=backend)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_conflicts_change_nothing(offline_session: Session, level: str, backend: str) -> None:
    s = offline_session
    s.create_env("e", isolation=level)
    s.install("e", ["beta==1.0"], installer=backend)
    before = names(s, "e")
    # Two requested requirements that conflict through alpha.
    with pytest.raises(PackageConflictError) as caught:
        s.install("e", ["beta==1.0", "delta"], installer=backend)
    assert "delta" in caught.value.message and "alpha" in caught.value.message
    # A request that conflicts with what the env has (gamma pins beta<2).
    s.install("e", ["gamma"], installer=backend)
    before = names(s, "e")
    with pytest.raises(PackageConflictError) as caught:
        s.install("e", ["beta>=2"], installer=backend)
    assert "gamma" in caught.value.message and "beta" in caught.value.message
    assert names(s, "e") == before
    assert s.get_env("e").status == "ready"


@pytest.mark.parametrize("backend", BACKENDS)
def test_plan_resolves_without_installing(offline_session: Session, backend: str) -> None:
    s = offline_session
    s.create_env("p", isolation="virtualenv")
    before = names(s, "p")
    plan = s.plan_install("p", ["beta==1.0"], installer=backend)
    assert {item.split("==")[0] for item in plan.installed} == {"alpha", "beta"}
    assert names(s, "p") == before
    with pytest.raises(PackageConflictError):
        s.plan_install("p", ["beta==1.0", "delta"], installer=backend)
    assert names(s, "p") == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_is_one_line_and_changes_nothing(
    offline_session: Session, tmp_path: Path, backend: str
) -> None:
    s = offline_session
    s.create_env("e", isolation="virtualenv")
    with pytest.raises(PackageUsageError, match="'nosuch' was not found"):
        s.install("e", ["nosuch"], installer=backend)
    with pytest.raises(UsageError, match="malformed requirement"):
        s.install("e", ["bad req!!"], installer=backend)
    with pytest.raises(UsageError, match=r"missing\.txt does not exist"):
        s.install("e", [], requirement_files=[tmp_path / "missing.txt"], installer=backend)
    assert names(s, "e") == {}
    s.store.update_env("e", status="broken", error="test")
    with pytest.raises(EnvStateError, match="broken"):
        s.install("e", ["alpha"], installer=backend)


def test_requirements_file_install(offline_session: Session, tmp_path: Path) -> None:
    s = offline_session
    s.create_env("e", isolation="virtualenv")
    (tmp_path / "base.txt").write_text("alpha==1.1  # pinned\n")
    (tmp_path / "req.txt").write_text("-r base.txt\n\nbeta==1.0\n")
    s.install("e", requirement_files=[tmp_path / "req.txt"])
    assert names(s, "e") == {"alpha": "1.1", "beta": "1.0"}


def test_env_create_with_packages_uses_the_installer(offline_session: Session) -> None:
    record = offline_session.create_env("e", packages=["gamma"])
    assert record.isolation == "virtualenv"
    assert names(offline_session, "e") == {"alpha": "2.0", "beta": "1.0", "gamma": "1.0"}


def test_unreachable_index_names_it(tmp_path: Path, dead_index_url: str) -> None:
    s = open_session(tmp_path / "ws", f"packages.index_url={dead_index_url}")
    s.create_env("e", isolation="virtualenv")
    with pytest.raises(IndexUnreachableError) as caught:
        s.install("e", ["alpha"])
    assert dead_index_url.split("//")[1].split("/")[0] in caught.value.message
    assert "offline" in caught.value.hint
    assert names(s, "e") == {}


def test_second_install_comes_from_the_cache(tmp_path: Path, local_index: object) -> None:
    index = local_index
    s = open_session(tmp_path / "ws", f"packages.index_url={index.url}")  # type: ignore[attr-defined]
    s.create_env("one", isolation="virtualenv")
    s.create_env("two", isolation="virtualenv")
    first = s.install("one", ["gamma", "tool"])
    assert first.downloads > 0
    assert index.file_requests()  # type: ignore[attr-defined]
    index.clear_log()  # type: ignore[attr-defined]
    second = s.install("two", ["gamma", "tool"])
    assert second.cache_hits == len(second.installed) == 4 and second.downloads == 0
    assert index.file_requests() == []  # type: ignore[attr-defined]
    assert s.cache_info().hit_rate == 1.0
    # Cache first: not even an index page was asked for.
    assert index.requests == []  # type: ignore[attr-defined]


def test_prefer_cache_off_asks_the_index_but_downloads_nothing(
    tmp_path: Path, local_index: object
) -> None:
    index = local_index
    s = open_session(
        tmp_path / "ws", f"packages.index_url={index.url}",  # type: ignore[attr-defined]
        "packages.prefer_cache=false",
    )
    s.create_env("one", isolation="virtualenv")
    s.create_env("two", isolation="virtualenv")
    s.install("one", ["beta==1.0"])
    index.clear_log()  # type: ignore[attr-defined]
    s.install("two", ["beta==1.0"])
    assert index.file_requests() == []  # type: ignore[attr-defined]


def test_cache_first_falls_back_to_the_index_for_what_is_missing(
    tmp_path: Path, local_index: object
) -> None:
    index = local_index
    s = open_session(tmp_path / "ws", f"packages.index_url={index.url}")  # type: ignore[attr-defined]
    s.create_env("one", isolation="virtualenv")
    s.install("one", ["alpha==1.0"])
    report = s.install("one", ["tool"])  # tool is not cached yet: asks the index
    assert "tool==1.0" in report.installed
    assert "tool-1.0-py3-none-any.whl" in index.downloaded()  # type: ignore[attr-defined]


def test_credentials_are_never_printed_or_stored(
    tmp_path: Path, auth_index: object, private_cache: Path
) -> None:
    url = auth_index.url_with_credentials  # type: ignore[attr-defined]
    password = auth_index.credentials.password  # type: ignore[attr-defined]
    root = write_workspace(tmp_path / "ws")
    cli = [str(Path(__file__).resolve().parents[2] / ".venv/bin/ptest-tui"), "-w", str(root),
           "--set", f"packages.index_url={url}"]
    env = {"PATH": "/usr/bin:/bin", "PTEST_CACHE_DIR": str(private_cache), "HOME": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, env=env, check=False)

    outputs = [run("env", "create", "e", "--isolation", "virtualenv")]
    outputs.append(run("--debug", "pkg", "install", "e", "beta"))
    assert outputs[-1].returncode == 0, outputs[-1].stderr
    outputs.append(run("pkg", "install", "e", "nosuch"))
    assert outputs[-1].returncode == 2
    outputs.append(run("pkg", "lock", "e", "-o", str(tmp_path / "e.lock")))
    outputs.append(run("config", "show"))
    for done in outputs:
        assert password not in done.stdout + done.stderr
    assert password not in (tmp_path / "e.lock").read_text()
    state = root / ".ptest" / "state.db"
    conn = sqlite3.connect(state)
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert password not in dump


def test_batch_install_into_20_envs_one_failing(offline_session: Session) -> None:
    s = offline_session
    envs = [f"e{i:02d}" for i in range(20)]
    outcomes_create = s.create_envs([s.spec_for(n, isolation="virtualenv") for n in envs])
    assert all(o.ok for o in outcomes_create)
    s.store.update_env("e07", status="broken", error="deliberately broken")
    outcomes = s.install_many(envs, ["beta==1.0"], max_workers=4)
    by_env = {o.env: o for o in outcomes}
    assert [o.env for o in outcomes] == envs
    assert not by_env["e07"].ok and isinstance(by_env["e07"].error, EnvStateError)
    assert all(by_env[n].ok for n in envs if n != "e07")
    assert names(s, "e03") == {"alpha": "2.0", "beta": "1.0"}


def test_outdated_lists_newer_versions(tmp_path: Path, find_links_dir: Path) -> None:
    s = open_session(tmp_path / "ws", f"packages.find_links={find_links_dir}",
                     "packages.index_url=" + find_links_dir.as_uri())
    s.create_env("e", isolation="virtualenv")
    s.install("e", ["alpha==1.0"])
    outdated = s.packages("e", outdated=True)
    assert [(d.name, d.version, d.latest) for d in outdated] == [("alpha", "1.0", "2.0")]


@pytest.mark.docker
@pytest.mark.parametrize("backend", BACKENDS)
def test_docker_env_install_list_check_lock_sync_uninstall(
    offline_session: Session, tmp_path: Path, backend: str
) -> None:
    from tests.conftest import need
    from tests.integration.docker_support import docker_reason, engine_of, remove_everything

    s = offline_session
    need("docker", docker_reason(engine_of(s)))
    try:
        s.create_env("d", isolation="docker")
        report = s.install("d", ["beta==1.0", "tool"], installer=backend)
        assert {"beta==1.0", "tool==1.0"} <= set(report.installed)
        assert_count_stored(s, "d")
        assert names(s, "d") == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}
        assert s.check_packages("d").ok
        out: list[str] = []
        s.exec("d", ["tool-hello"], on_output=lambda _s, line: out.append(line))
        assert out == ["hello"]
        lock_path = tmp_path / "d.lock"
        s.lock("d", lock_path)
        s.install("d", ["gamma"], installer=backend)
        s.sync("d", lock_path, installer=backend)
        assert names(s, "d") == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}
        s.uninstall("d", ["tool"], installer=backend)
        assert_count_stored(s, "d")
        assert "tool" not in names(s, "d")
        with pytest.raises(PackageConflictError):
            s.install("d", ["beta==1.0", "delta"], installer=backend)
        assert names(s, "d") == {"alpha": "2.0", "beta": "1.0"}
    finally:
        remove_everything(s)


@pytest.mark.docker
def test_pip_in_docker_installs_from_an_http_index(
    tmp_path: Path, local_index: object
) -> None:
    from tests.conftest import need
    from tests.integration.docker_support import docker_reason, engine_of, remove_everything

    s = open_session(
        tmp_path / "ws", f"packages.index_url={local_index.url}",  # type: ignore[attr-defined]
        "packages.installer=pip",
    )
    need("docker", docker_reason(engine_of(s)))
    try:
        s.create_env("d", isolation="docker")
        s.install("d", ["beta==1.0"])
        assert names(s, "d") == {"alpha": "2.0", "beta": "1.0"}
        with pytest.raises(PackageUsageError) as info:
            s.install("d", ["no-such-package"])
        assert "no-such-package" in info.value.message
    finally:
        remove_everything(s)


def test_env_create_reads_requirement_files(
    tmp_path: Path, find_links_dir: Path, private_cache: Path
) -> None:
    root = write_workspace(
        tmp_path / "ws", f'[packages]\nfind_links = ["{find_links_dir}"]\noffline = true\n'
    )
    (root / "reqs.txt").write_text("# test deps\nbeta==1.0\n")
    cli = [str(Path(sys.executable).with_name("ptest-tui")), "-w", str(root)]
    env = {"PATH": "/usr/bin:/bin", "PTEST_CACHE_DIR": str(private_cache), "HOME": str(tmp_path)}
    done = subprocess.run(
        [*cli, "env", "create", "r", "-r", str(root / "reqs.txt"), "--package", "tool"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    with Session.open(workspace=root, environ={}) as s:
        assert names(s, "r") == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}
    missing = subprocess.run(
        [*cli, "env", "create", "r2", "-r", str(root / "nope.txt")],
        capture_output=True, text=True, env=env, check=False,
    )
    assert missing.returncode == 2
    assert "nope.txt" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
