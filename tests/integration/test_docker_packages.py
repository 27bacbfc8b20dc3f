"""Docker envs install packages offline from the shared host cache.

The engine layer on its own: ``populate_cache`` fills the cache on the host from the local
index (127.0.0.1), then ``run_package_tool`` runs uv inside a container that has no network.
Every test uses a private cache folder (PTEST_CACHE_DIR), so nothing is warm by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import docker_packages as pkgs
from ptest_tui.engines.base import ExecResult
from ptest_tui.engines.docker_cachefill import CacheFillError, summarize_uv_error
from ptest_tui.engines.docker_pkgargs import STAGING, files_to_stage, rewrite_args
from ptest_tui.errors import EnvStateError, PackageConflictError, PackageUsageError, UsageError
from ptest_tui.session import Session
from ptest_tui.store import EnvRecord
from tests.conftest import write_workspace
from tests.integration.docker_support import engine_of
from tests.integration.test_docker_engine import _Proxy, proxy, url_of  # noqa: F401 - fixture
from tests.support.index_server import IndexServer
from tests.support.wheels import Corpus

PYTHON = pkgs.PYTHON


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh shared cache folder for this test (what ~/.cache/ptest-tui is for users)."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("PTEST_CACHE_DIR", str(folder))
    return folder


def tool(session: Session, env: str, argv: Sequence[str]) -> tuple[ExecResult, list[str]]:
    """Run a package tool in ``env``; its result and every output line."""
    lines: list[str] = []
    result = engine_of(session).run_package_tool(
        session.get_env(env), list(argv), on_output=lambda _s, line: lines.append(line),
        cancel=CancelToken(),
    )
    return result, lines


def run(session: Session, env: str, argv: Sequence[str]) -> tuple[int, list[str]]:
    """Exit code and stdout lines of an ordinary command in ``env``."""
    lines: list[str] = []
    result = session.exec(
        env, list(argv), on_output=lambda s, line: lines.append(line) if s == "stdout" else None
    )
    return result.exit_code, lines


def fill(
    session: Session, env: str, requirements: Sequence[str], index_args: Sequence[str]
) -> None:
    """Fetch ``requirements`` on the host for ``env``'s container."""
    engine_of(session).populate_cache(
        session.get_env(env), requirements, index_args=index_args, cancel=CancelToken()
    )


def install(session: Session, env: str, index_args: Sequence[str], *reqs: str) -> list[str]:
    """Fetch on the host, then install offline in the container; the install's output."""
    fill(session, env, reqs, index_args)
    result, lines = tool(
        session, env, ["uv", "pip", "install", "--python", PYTHON, *index_args, "--", *reqs]
    )
    assert result.exit_code == 0, lines
    return lines


INTERFACES = "ls /sys/class/net"
# lo, and eth0 on the workspace's internal objects network: no route out of it
# (test_objects_docker checks that), so the index is out of reach in the container.
NO_NETWORK = (0, ["eth0", "lo"])


@pytest.mark.docker
def test_offline_install_from_the_host_cache(
    dsession: Session, local_index: IndexServer, private_cache: Path
) -> None:
    record = dsession.create_env("p", isolation="docker")
    state = record.engine_state["packages"]
    assert state["reason"] == "" and state["python"] == PYTHON
    assert state["platform"] == "x86_64-manylinux_2_36"  # Debian bookworm: glibc 2.36
    assert state["python_version"] == record.engine_state["python_version"]
    target = engine_of(dsession).package_target(record)
    assert target is not None and target.in_container and target.python == PYTHON
    assert run(dsession, "p", ["sh", "-c", INTERFACES]) == NO_NETWORK

    index = ["--index-url", local_index.url]
    lines = install(dsession, "p", index, "beta==1.0")
    assert any("+ beta==1.0" in line for line in lines)
    assert any("+ alpha==2.0" in line for line in lines)
    assert local_index.downloaded() == {"alpha-2.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"}

    # python3 on the env's PATH is the venv's, so installed packages simply import.
    check = "import alpha, beta, sys; print(beta.__version__, alpha.__version__, sys.prefix)"
    assert run(dsession, "p", ["python3", "-c", check]) == (0, ["1.0 2.0 /env/venv"])
    assert run(dsession, "p", ["sh", "-c", INTERFACES]) == NO_NETWORK  # still no network
    # The shared cache is read-only in the container: tests cannot poison other envs.
    cache = f"{private_cache}/uv"
    code, _ = run(dsession, "p", ["sh", "-c", f"touch {cache}/x || exit 9"])
    assert code == 9 and not (private_cache / "uv" / "x").exists()


@pytest.mark.docker
def test_a_second_env_installs_with_no_file_requests(
    dsession: Session, local_index: IndexServer
) -> None:
    index = ["--index-url", local_index.url]
    dsession.create_env("one", isolation="docker")
    dsession.create_env("two", isolation="docker")
    install(dsession, "one", index, "beta==1.0", "tool==1.0")
    assert local_index.file_requests()
    local_index.clear_log()
    lines = install(dsession, "two", index, "beta==1.0", "tool==1.0")
    assert local_index.file_requests() == []
    assert any("+ tool==1.0" in line for line in lines)
    assert run(dsession, "two", ["tool-hello"]) == (0, ["hello"])  # its console script


@pytest.mark.docker
def test_what_is_not_cached_or_not_there_fails_in_one_line(
    dsession: Session, local_index: IndexServer
) -> None:
    dsession.create_env("m", isolation="docker")
    index = ["--index-url", local_index.url]
    with pytest.raises(PackageUsageError) as info:
        fill(dsession, "m", ["no-such-package"], index)
    assert "no-such-package" in info.value.message and "\n" not in info.value.one_line()
    # Never fetched on the host: the offline install in the container names it.
    result, lines = tool(dsession, "m", ["uv", "pip", "install", "--python", PYTHON, *index,
                                         "--", "gamma"])
    summary = summarize_uv_error(lines)
    assert result.exit_code != 0
    assert "gamma" in summary and "cache" in summary and "\n" not in summary
    assert run(dsession, "m", ["python3", "-c", "import gamma"])[0] != 0


@pytest.mark.docker
def test_find_links_folders_work_offline(dsession: Session, find_links_dir: Path) -> None:
    dsession.create_env("fl", isolation="docker")
    links = ["--no-index", "--find-links", str(find_links_dir)]
    install(dsession, "fl", links, "gamma==1.0")
    assert run(dsession, "fl", ["python3", "-c", "import alpha, beta, gamma"])[0] == 0


@pytest.mark.docker
def test_pip_installs_offline_from_find_links(dsession: Session, find_links_dir: Path) -> None:
    # pip cannot read uv's cache, but the mirrored find-links folder is visible to it.
    dsession.create_env("pip", isolation="docker")
    result, lines = tool(dsession, "pip", ["python", "-m", "ensurepip", "--default-pip"])
    assert result.exit_code == 0, lines
    result, lines = tool(dsession, "pip", ["python", "-m", "pip", "install", "--find-links",
                                           str(find_links_dir), "beta==1.0"])
    assert result.exit_code == 0, lines
    assert run(dsession, "pip", ["python3", "-c", "import alpha, beta"])[0] == 0


@pytest.mark.docker
def test_credentials_stay_on_the_host_and_files_are_copied_in(
    dsession: Session, auth_index: IndexServer, tmp_path: Path
) -> None:
    dsession.create_env("a", isolation="docker")
    index = ["--index-url", auth_index.url_with_credentials]
    password = auth_index.credentials.password if auth_index.credentials else "?"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("beta==1.0\n")
    engine_of(dsession).populate_cache(
        dsession.get_env("a"), [], index_args=index, requirement_files=[str(requirements)],
        cancel=CancelToken(),
    )
    result, lines = tool(
        dsession, "a", ["uv", "pip", "install", "--python", PYTHON, *index, "-r",
                        str(requirements)],
    )
    assert result.exit_code == 0, lines
    assert not any(password in line for line in lines)
    # What the container's process gets: the URL without credentials, the staged file.
    result, lines = tool(dsession, "a", ["python", "-c", "import sys; print(sys.argv[1:])",
                                         *index, "-r", str(requirements)])
    assert result.exit_code == 0 and password not in lines[0]
    assert auth_index.url in lines[0] and STAGING in lines[0]


@pytest.mark.docker
def test_create_with_packages_installs_them(
    dsession: Session, local_index: IndexServer, workspace: Path
) -> None:
    write_workspace(workspace, f'[packages]\nindex_url = "{local_index.url}"\n')
    with Session.open(workspace=workspace, environ={}) as configured:
        configured.create_env("c", isolation="docker", packages=["beta==1.0"])
        assert run(configured, "c", ["python3", "-c", "import beta"])[0] == 0
        with pytest.raises(UsageError):
            configured.create_env("bad", isolation="docker", packages=["no-such-package"])
        assert configured.store.find_env("bad") is None


@pytest.mark.docker
def test_conflicts_in_docker_envs_name_who_asked(
    dsession: Session, local_index: IndexServer, workspace: Path
) -> None:
    write_workspace(workspace, f'[packages]\nindex_url = "{local_index.url}"\n')
    with Session.open(workspace=workspace, environ={}) as configured:
        configured.create_env("k", isolation="docker")
        with pytest.raises(PackageConflictError) as info:
            configured.install("k", ["beta==1.0", "delta"])
        assert "delta" in info.value.message and "alpha" in info.value.message
        with pytest.raises(PackageUsageError) as missing:
            configured.install("k", ["no-such-package"])
        assert "no-such-package" in missing.value.message
        assert configured.packages("k") == []


@pytest.mark.docker
def test_old_envs_say_recreate(dsession: Session) -> None:
    record = dsession.create_env("old", isolation="docker")
    state = {k: v for k, v in record.engine_state.items() if k != pkgs.STATE_KEY}
    old = EnvRecord(record.name, record.isolation, record.status, record.spec,
                    engine_state=state)
    with pytest.raises(EnvStateError) as info:
        engine_of(dsession).package_target(old)
    assert "recreate" in info.value.hint


@pytest.mark.docker
def test_remote_daemons_say_packages_need_a_local_daemon(
    dsession: Session, workspace: Path, proxy: _Proxy  # noqa: F811 - the imported fixture
) -> None:
    overrides = [f"docker.host={url_of(proxy)}"]
    with Session.open(workspace=workspace, environ={}, overrides=overrides) as remote:
        with pytest.raises(UsageError) as info:
            remote.create_env("withpkgs", isolation="docker", packages=["beta==1.0"])
        assert "local Docker daemon" in info.value.message
        assert remote.store.find_env("withpkgs") is None
        record = remote.create_env("far", isolation="docker")  # fine without packages
        assert "local Docker daemon" in record.engine_state["packages"]["reason"]
        with pytest.raises(EnvStateError) as state_info:
            engine_of(remote).package_target(record)
        assert "local Docker daemon" in state_info.value.message
        remote.delete_env("far")


# -- pure pieces (no daemon) ------------------------------------------------------------------


def test_remote_daemons_cannot_hold_packages_yet() -> None:
    support = pkgs.host_support(False, lambda: "/usr/bin/uv")
    assert "local Docker daemon" in support.reason
    record = EnvRecord("r", "docker", "ready", {}, engine_state={
        pkgs.STATE_KEY: pkgs.ContainerPackages(reason=support.reason).to_state()})
    problem = pkgs.state_problem(record.engine_state, "r")
    assert problem is not None and "local Docker daemon" in problem[0]


@pytest.mark.parametrize(
    ("machine", "libc", "tag"),
    [
        ("x86_64", "glibc 2.36", "x86_64-manylinux_2_36"),
        ("aarch64", "glibc 2.31", "aarch64-manylinux_2_31"),
        ("x86_64", "glibc 2.41", "x86_64-manylinux_2_40"),  # newest uv knows
        ("x86_64", "", "x86_64-unknown-linux-musl"),
    ],
)
def test_platform_tags(machine: str, libc: str, tag: str) -> None:
    assert pkgs.platform_tag(machine, libc) == tag


def test_arguments_rewritten_for_the_container(tmp_path: Path, wheel_corpus: Corpus) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text("alpha==1.0\n")
    args = ["--python", "/usr/bin/python3", "-r", str(lock), f"--constraint={lock}",
            "--index-url", "https://user:pw@example.org/simple", "--", str(lock), "beta"]
    staged = files_to_stage(args, [])
    assert [(i, prefix) for i, prefix, _ in staged] == [(3, ""), (4, "--constraint="), (8, "")]
    rewritten = rewrite_args(["-f", str(wheel_corpus.root), "--index-url",
                              "https://user:pw@example.org/simple"], tmp_path,
                             keep_credentials=False)
    assert rewritten[1].startswith(str(tmp_path / "docker-find-links"))
    assert sorted(p.name for p in Path(rewritten[1]).iterdir()) == sorted(
        p.name for p in wheel_corpus.files
    )
    assert rewritten[3] == "https://example.org/simple"


def test_an_unreachable_index_is_named_without_its_credentials(
    dead_index_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")  # network tuning reaches the host's uv
    url = dead_index_url.replace("http://", "http://someone:hunter2@")
    with pytest.raises(CacheFillError) as info:
        pkgs.populate_cache(
            ["beta==1.0"], index_args=["--index-url", url], python_version="3.11.2",
            platform_tag="x86_64-manylinux_2_36", cancel=CancelToken(),
        )
    line = info.value.one_line()
    assert not isinstance(info.value, UsageError)  # infrastructure (exit code 3), not bad input
    assert "127.0.0.1" in line and "hunter2" not in line and "\n" not in line
    assert not any("hunter2" in x for x in info.value.lines)


@pytest.mark.docker
def test_venv_lives_on_a_labelled_volume_removed_with_the_env(dsession: Session) -> None:
    dsession.create_env("vol", isolation="docker")
    api = engine_of(dsession).api()
    filters = {"label": ["ptest.env=vol", f"ptest.workspace={dsession.workspace.id}"]}
    volumes = (api.volumes(filters=filters) or {}).get("Volumes") or []
    assert len(volumes) == 1
    container = api.inspect_container(dsession.get_env("vol").engine_state["container_id"])
    venv_mounts = [m for m in container["Mounts"] if m["Destination"] == "/env/venv"]
    assert venv_mounts and venv_mounts[0]["Type"] == "volume"
    dsession.delete_env("vol")
    assert not (api.volumes(filters=filters) or {}).get("Volumes")
