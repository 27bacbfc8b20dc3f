"""``ptest-tui image build`` / ``image list`` through the installed command.

The full debootstrap build runs once in ``.ci/prepare.sh``; these tests use its result and
its cached rootfs, so none of them downloads anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ptest_tui.engines import image_sources, images
from ptest_tui.engines.docker_client import connect, resolve_target
from ptest_tui.engines.rootfs import cache_dir, remove_stale_work
from ptest_tui.errors import ImageError
from tests.conftest import need, write_workspace

PTEST = Path(sys.executable).with_name("ptest-tui")
IMAGE = "ptest-tui/python:3.11"


def ptest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PTEST), *args], capture_output=True, text=True, cwd=cwd, timeout=300,
        env={**os.environ, "PTEST_DOCKER_IMAGE": IMAGE},
    )


@pytest.fixture
def api() -> Iterator[object]:
    """A connected docker client; the base image must exist."""
    from ptest_tui.errors import EngineUnavailableError

    try:
        client = connect(resolve_target("", os.environ))
    except EngineUnavailableError as exc:
        need("docker", exc.message)
        raise
    import docker.errors

    try:
        client.inspect_image(IMAGE)
    except docker.errors.ImageNotFound:
        need("docker", f"base image {IMAGE} missing (ptest-tui image build --python 3.11)")
    yield client
    client.close()


@pytest.mark.docker
def test_image_list_shows_the_base_image(api: object, tmp_path: Path) -> None:
    done = ptest("image", "list", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {row["tag"]: row for row in json.loads(done.stdout)}
    base = rows[IMAGE]
    assert (base["kind"], base["python"], base["suite"]) == ("base", "3.11", "bookworm")
    assert base["python_version"].startswith("3.11.")
    plain = ptest("image", "list", cwd=tmp_path)
    assert plain.returncode == 0 and IMAGE in plain.stdout


@pytest.mark.docker
def test_build_skips_an_existing_tag(api: object, tmp_path: Path) -> None:
    # Outside any workspace the configuration defaults apply (docker.image is the base).
    done = ptest("image", "build", "--python", "3.11", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{IMAGE}\n"
    assert "already exists" in done.stderr and "--force" in done.stderr


@pytest.mark.docker
def test_build_uses_the_workspace_config(api: object, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", f'[docker]\nimage = "{IMAGE}"\n')
    done = ptest("--workspace", str(root), "image", "build", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == IMAGE


@pytest.mark.docker
@pytest.mark.slow
def test_forced_rebuild_comes_from_the_cached_rootfs(api: object, tmp_path: Path) -> None:
    cached = cache_dir() / image_sources.cache_name("bookworm")
    if not cached.is_file():
        pytest.skip(f"no cached rootfs {cached}: rebuilding would download")
    tag = "ptest-tui/test-rebuild:3.11"
    try:
        done = ptest("image", "build", "--python", "3.11", "--tag", tag, "--force", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{tag}\n"
        assert "using cached" in done.stderr and "debootstrap" not in done.stderr
        info = api.inspect_image(tag)  # type: ignore[attr-defined]
        labels = info["Config"]["Labels"]
        assert labels["ptest.image"] == "base" and labels["ptest.python"] == "3.11"
        assert info["Config"]["Cmd"] == ["python3"]
        assert any(e.startswith("PATH=") for e in info["Config"]["Env"])
    finally:
        import docker.errors

        with contextlib.suppress(docker.errors.ImageNotFound):
            api.remove_image(tag, force=True)  # type: ignore[attr-defined]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, text in (
        (["--python", "3.12"], "3.9, 3.11, 3.13"),
        (["--python", "x"], "invalid Python version"),
        (["--tag", "Bad Tag"], "invalid image tag"),
        (["--suite", "../x"], "invalid Debian suite"),
    ):
        done = ptest("image", "build", *args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert text in done.stderr
        assert done.stderr.startswith("ptest-tui: error:") and "Traceback" not in done.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root")
def test_build_as_non_root_says_it_needs_root() -> None:
    # A real unprivileged process (setpriv to nobody), not a patched geteuid.
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         str(PTEST), "image", "build", "--python", "3.11", "--tag", "ptest-tui/never:1", "--force"],
        capture_output=True, text=True, cwd="/", timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"},
    )
    assert done.returncode == 2, done.stderr
    assert "needs root" in done.stderr and "Traceback" not in done.stderr


# -- leftovers of killed builds, bad tags, verify failures ------------------------------------


def test_bad_docker_image_setting_is_a_usage_error(tmp_path: Path) -> None:
    # Checked before the daemon is asked: it used to answer 400 and crash with APIError.
    done = subprocess.run(
        [str(PTEST), "--set", "docker.image=BAD/Img", "image", "build"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ptest-tui: error: docker.image: invalid image tag 'BAD/Img'")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_stale_work_folder_with_mounts_is_unmounted_and_removed(tmp_path: Path) -> None:
    # What a debootstrap killed mid-way leaves: proc and a tmpfs mounted inside the target.
    work = tmp_path / "rootfs-bookworm-k1lled_x"
    proc, run = work / "rootfs" / "proc", work / "rootfs" / "run"
    proc.mkdir(parents=True)
    run.mkdir()
    mounted: list[Path] = []
    try:
        for argv, point in ((["mount", "-t", "proc", "proc"], proc),
                            (["mount", "-t", "tmpfs", "tmpfs"], run)):
            subprocess.run([*argv, str(point)], check=True, timeout=30)
            mounted.append(point)
        (run / "busy").write_text("x")
        assert remove_stale_work(tmp_path, "bookworm") == [work]
        assert not work.exists()
        table = Path("/proc/self/mountinfo").read_text()
        assert str(work) not in table
    finally:
        for point in reversed(mounted):
            subprocess.run(["umount", "-l", str(point)], check=False, timeout=30)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def verify_containers(api: Any) -> list[dict[str, Any]]:
    return list(api.containers(all=True, filters={"label": [images.LABEL_VERIFY]}))


@pytest.mark.docker
def test_stale_verify_containers_are_removed_at_build_start(api: Any) -> None:
    host = socket.gethostname()
    made = []
    try:
        for owner in (f"{host}:{dead_pid()}", f"{host}:{os.getpid()}", f"{host}:{dead_pid()}"):
            made.append(api.create_container(
                IMAGE, ["sleep", "300"], labels={images.LABEL_VERIFY: owner},
                host_config=api.create_host_config(network_mode="none"),
            )["Id"])
        api.start(made[2])  # running: never touched, whoever owned it
        removed = images.remove_stale_build_leftovers(api)
        left = {c["Id"] for c in verify_containers(api)}
        assert made[0] not in left and len(removed) >= 1
        assert made[1] in left and made[2] in left
    finally:
        for container in made:
            with contextlib.suppress(Exception):
                api.remove_container(container, force=True)


@pytest.fixture
def slow_image(api: Any) -> Iterator[str]:
    """A copy of the base image whose every command sleeps (committed locally, no registry)."""
    tag = "ptest-tui/test-slow-verify:1"
    container = api.create_container(IMAGE, ["true"])["Id"]
    try:
        api.commit(container, repository=tag.split(":")[0], tag=tag.split(":")[1],
                   changes=['ENTRYPOINT ["/bin/sh", "-c", "sleep 60"]'])
    finally:
        api.remove_container(container, force=True)
    try:
        yield tag
    finally:
        import docker.errors

        with contextlib.suppress(docker.errors.ImageNotFound):
            api.remove_image(tag, force=True)


@pytest.mark.docker
def test_verify_timeout_is_an_image_error_and_removes_the_tag(
    api: Any, slow_image: str
) -> None:
    import docker.errors

    seen: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def verify() -> None:
        try:
            images.verify_or_remove(api, slow_image, timeout=2)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=verify)
    worker.start()
    # While it waits, its container carries the verify label (so cleanup can find it).
    while worker.is_alive() and not seen:
        seen = [c for c in verify_containers(api) if c["Image"] == slow_image]
        time.sleep(0.05)
    worker.join()
    assert seen, "the verify container was never labelled"
    [error] = errors
    assert isinstance(error, ImageError)
    assert "did not finish python3 -c 'import venv' within 2 s" in error.message
    with pytest.raises(docker.errors.ImageNotFound):
        api.inspect_image(slow_image)
    assert [c for c in verify_containers(api) if c["Id"] == seen[0]["Id"]] == []
