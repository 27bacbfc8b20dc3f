"""The doctor's real checks on this machine, compared with what the docker SDK sees."""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ptest_tui.doctor import run_checks, wait_for_docker
from ptest_tui.doctor.fix import detect_package_manager
from tests.conftest import need, write_workspace


def docker_client() -> tuple[Any, str | None]:
    """A docker SDK client, or the reason there is none (checked without the doctor)."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        return None, str(exc)[:200]
    return client, None


@pytest.fixture
def client() -> Iterator[Any]:
    found, reason = docker_client()
    need("docker", reason)
    yield found
    found.close()


@pytest.fixture
def tiny_image(client: Any) -> Iterator[str]:
    """A real one-file image imported under a unique name, removed afterwards."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"ptest doctor\n"
        info = tarfile.TarInfo("marker")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    repository = f"ptest-doctor-{uuid.uuid4().hex[:8]}/python"
    client.api.import_image_from_data(buf.getvalue(), repository=repository, tag="3.11")
    tag = f"{repository}:3.11"
    yield tag
    import docker.errors

    # The test may have removed it itself.
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(tag, force=True)


@pytest.mark.docker
def test_real_checks_on_this_machine(client: Any, tmp_path: Path) -> None:
    # PTEST_REQUIRE (CI) would make the base image required; this test is about core.
    environ = {k: v for k, v in os.environ.items() if k != "PTEST_REQUIRE"}
    report = run_checks(start=tmp_path, environ=environ)
    checks = {c.name: c for c in report.checks}
    for name in ("python", "uv", "virtualenv", "docker-sdk", "docker-daemon", "docker-socket"):
        assert checks[name].ok, f"{name}: {checks[name].detail}"
    assert client.version()["Version"] in checks["docker-daemon"].detail
    assert report.package_manager == detect_package_manager()
    # The image check agrees with the daemon.
    image = checks["base-image"]
    try:
        client.images.get("ptest-tui/python:3.11")
        present = True
    except Exception:
        present = False
    assert image.ok == present
    assert image.ok or image.fix_command == "ptest-tui image build --python 3.11"
    # No workspace: only core is required, and core is here.
    assert report.workspace == ""
    assert report.exit_code == 0, report.summary()


@pytest.mark.docker
def test_configured_image_present_makes_a_docker_workspace_pass(
    client: Any, tiny_image: str, tmp_path: Path
) -> None:
    root = write_workspace(
        tmp_path / "ws",
        f'[docker]\nimage = "{tiny_image}"\n[envs.box]\nisolation = "docker"\n',
    )
    environ = {k: v for k, v in os.environ.items() if k != "PTEST_REQUIRE"}
    report = run_checks(root, environ=environ)
    image = report.get("base-image")
    assert image.required and image.ok, image.detail
    assert tiny_image in image.detail
    assert report.get("docker-daemon").required
    assert report.exit_code == 0, report.summary()

    client.images.remove(tiny_image, force=True)
    after = run_checks(root, environ=environ)
    missing = after.get("base-image")
    assert missing.required and not missing.ok
    assert missing.fix_command is not None
    assert f"--tag {tiny_image}" in missing.fix_command
    assert after.exit_code == 1


@pytest.mark.docker
def test_wait_for_docker_sees_the_running_daemon(client: Any) -> None:
    assert wait_for_docker(5.0)
    assert not wait_for_docker(0.0, "unix:///nonexistent/ptest-doctor.sock")
