"""Doctor checks for database servers: found on PATH or missing with the OS package to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.doctor import run_checks, servers
from ptest_tui.doctor.servers import check_mariadb, check_postgres, check_redis
from tests.conftest import write_workspace
from tests.unit.test_doctor import context, executable


@pytest.fixture(autouse=True)
def no_debian_postgres(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide /usr/lib/postgresql so only the PATH given to each context counts."""
    monkeypatch.setattr(servers, "PG_ROOT", tmp_path / "no-postgresql")


def test_missing_servers_name_the_os_packages(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    results = {r.name: r for r in (check_postgres(ctx), check_mariadb(ctx), check_redis(ctx))}
    assert not any(r.ok for r in results.values())
    assert results["postgres"].fix_command == "apt-get install -y postgresql"
    assert results["mariadb"].fix_command == "apt-get install -y mariadb-server"
    assert results["redis"].fix_command == "apt-get install -y redis-server"
    dnf = context(tmp_path, package_manager="dnf")
    assert check_postgres(dnf).fix_command == "dnf install -y postgresql-server"


def test_servers_found_on_path_and_in_versioned_folders(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("postgres", "initdb", "mariadbd", "mariadb-install-db", "redis-server"):
        executable(bin_dir, name)
    ctx = context(tmp_path, environ={"PATH": str(bin_dir)})
    assert all(check(ctx).ok for check in (check_postgres, check_mariadb, check_redis))
    servers.PG_ROOT = tmp_path / "lib" / "postgresql"
    executable(servers.PG_ROOT / "16" / "bin", "postgres")
    found = check_postgres(context(tmp_path))
    assert found.ok and "PostgreSQL 16" in found.detail


def test_declared_objects_and_ptest_require_make_them_required(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", '[objects.cache]\nkind = "redis"\n')
    empty = tmp_path / "empty"
    empty.mkdir()
    report = run_checks(root, environ={"PATH": str(empty)}, extra_dirs=())
    by_name = {c.name: c for c in report.checks}
    assert by_name["redis"].required and not by_name["redis"].ok
    assert not by_name["postgres"].required
    report = run_checks(root, environ={"PATH": str(empty), "PTEST_REQUIRE": "db"}, extra_dirs=())
    assert all({c.name: c for c in report.checks}[n].required
               for n in ("postgres", "mariadb", "redis"))
