"""Commands that talk to Docker, run with Docker settings that cannot work.

``DOCKER_TLS_VERIFY`` with a ``DOCKER_CERT_PATH`` lacking the certificates used to crash
every docker-touching command with a TLSParameterError traceback.
"""

from __future__ import annotations

from tests.e2e.conftest import Cli, assert_one_line_error

BAD_TLS = {
    "DOCKER_HOST": "tcp://127.0.0.1:2376",
    "DOCKER_TLS_VERIFY": "1",
    "DOCKER_CERT_PATH": "/nonexistent/ptest-certs",
}


def test_env_create_with_bad_tls_settings_is_one_line(cli: Cli) -> None:
    result = cli.run("env", "create", "x", "--isolation", "docker", env=BAD_TLS)
    assert_one_line_error(result, 3, "unusable Docker TLS settings")
    assert cli.envs() == {}


def test_env_cleanup_with_bad_tls_settings_does_not_crash(cli: Cli) -> None:
    result = cli.run("env", "cleanup", env=BAD_TLS)
    assert result.returncode == 0, str(result)
    assert "Traceback" not in result.stderr


def test_doctor_with_bad_tls_settings_reports_a_failed_check(cli: Cli) -> None:
    import json

    result = cli.run("doctor", "--json", env=BAD_TLS)
    assert "Traceback" not in result.stderr, str(result)
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    daemon = checks["docker-daemon"]
    assert not daemon["ok"]
    assert "unusable Docker TLS settings" in daemon["detail"]
