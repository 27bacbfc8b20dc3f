"""``ptest-tui image build`` / ``image list`` through the installed command.

The full debootstrap build runs once in ``.ci/prepare.sh``; these tests use its result and
its cached rootfs, so none of them downloads anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.engines import image_sources
from ptest_tui.engines.docker_client import connect, resolve_target
from ptest_tui.engines.images import cache_dir
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
