"""Resolving and connecting to the Docker daemon when the settings are wrong.

No daemon is contacted: every case here fails before the first request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.doctor.docker_probe import DockerProbe
from ptest_tui.engines.docker import DockerEngine
from ptest_tui.engines.docker_client import DockerTarget, connect, resolve_target
from ptest_tui.errors import EngineUnavailableError
from ptest_tui.session import Session
from tests.conftest import write_workspace

BAD_TLS = {
    "DOCKER_HOST": "tcp://127.0.0.1:2376",
    "DOCKER_TLS_VERIFY": "1",
    "DOCKER_CERT_PATH": "/nonexistent/ptest-certs",
}


def test_bad_tls_settings_resolve_to_a_target_that_says_why() -> None:
    target = resolve_target("", BAD_TLS)
    assert target.url == "tcp://127.0.0.1:2376" and not target.is_local
    assert "DOCKER_CERT_PATH=/nonexistent/ptest-certs" in target.problem
    assert "ca.pem, cert.pem, key.pem" in target.problem
    assert target.describe() == "tcp://127.0.0.1:2376 (from DOCKER_HOST)"


def test_connect_turns_bad_tls_settings_into_unavailable() -> None:
    with pytest.raises(EngineUnavailableError) as info:
        connect(resolve_target("", BAD_TLS))
    assert "unusable Docker TLS settings" in info.value.message
    assert "DOCKER_TLS_VERIFY" in info.value.hint


def test_cert_path_without_tls_verify_is_checked_too(tmp_path: Path) -> None:
    # DOCKER_CERT_PATH alone turns TLS on in the SDK; an empty folder has no certificates.
    environ = {"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_CERT_PATH": str(tmp_path)}
    with pytest.raises(EngineUnavailableError) as info:
        connect(resolve_target("", environ))
    assert f"DOCKER_CERT_PATH={tmp_path} lacks" in info.value.message


def test_an_address_the_sdk_cannot_parse_is_unavailable_with_a_hint() -> None:
    with pytest.raises(EngineUnavailableError) as info:
        connect(DockerTarget("foo://nowhere", "docker.host"))
    assert "cannot use the Docker host foo://nowhere" in info.value.message
    assert "docker.host" in info.value.hint


def test_doctor_probe_reports_bad_tls_settings_as_a_reason() -> None:
    probe = DockerProbe("", BAD_TLS)
    api, reason = probe.connect()
    assert api is None
    assert "unusable Docker TLS settings" in reason
    assert probe.where() == "tcp://127.0.0.1:2376 (from DOCKER_HOST)"


def test_docker_engine_with_bad_tls_is_unavailable_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine reads the real process environment, as the docker CLI does.
    for key, value in BAD_TLS.items():
        monkeypatch.setenv(key, value)
    root = write_workspace(tmp_path / "ws")
    with Session.open(workspace=root, environ={}) as session:
        engine = session.engines.get("docker")
        assert isinstance(engine, DockerEngine)
        reason = engine.unavailable_reason()
        assert reason is not None and "unusable Docker TLS settings" in reason
        with pytest.raises(EngineUnavailableError) as info:
            session.create_env("x", isolation="docker")
        assert "unusable Docker TLS settings" in info.value.message
        assert session.store.list_envs() == []
