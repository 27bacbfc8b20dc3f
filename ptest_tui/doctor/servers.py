"""Doctor checks for the database servers that host-process objects run.

Each check finds the server program the way its object kind does (PostgreSQL's versioned
folders under /usr/lib/postgresql on Debian, else PATH and the sbin folders). They are
optional unless the workspace declares an object of that kind or ``PTEST_REQUIRE`` names
``db`` (all three) or the kind itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ptest_tui.doctor.checks import DoctorContext
from ptest_tui.doctor.fix import os_package_fix
from ptest_tui.doctor.report import CheckResult

PG_ROOT = Path("/usr/lib/postgresql")


def _result(
    ctx: DoctorContext, name: str, found: str, component: str, needed_by: str,
    features: frozenset[str],
) -> CheckResult:
    if found:
        return CheckResult(name, True, found, needed_by, features=features)
    fix = os_package_fix(component, ctx.package_manager)
    return CheckResult(
        name, False, f"{component} server programs not found", needed_by, fix,
        features=features,
        manual_fix="" if fix else f"install the {component} server from your OS packages",
    )


def check_postgres(ctx: DoctorContext) -> CheckResult:
    """initdb and postgres (any installed version)."""
    versions = sorted(p.parent.parent.name for p in PG_ROOT.glob("*/bin/postgres"))
    found = ""
    if versions:
        found = f"PostgreSQL {', '.join(versions)} in {PG_ROOT}"
    elif ctx.program("postgres") and ctx.program("initdb"):
        found = ctx.program("postgres")
    return _result(ctx, "postgres", found, "postgres", "postgres objects",
                   frozenset({"db", "postgres"}))


def check_mariadb(ctx: DoctorContext) -> CheckResult:
    """mariadbd (or mysqld) and mariadb-install-db (or mysql_install_db)."""
    server = ctx.program("mariadbd") or ctx.program("mysqld")
    installer = ctx.program("mariadb-install-db") or ctx.program("mysql_install_db")
    return _result(ctx, "mariadb", server if server and installer else "", "mariadb",
                   "mysql and mariadb objects", frozenset({"db", "mysql", "mariadb"}))


def check_redis(ctx: DoctorContext) -> CheckResult:
    """redis-server."""
    return _result(ctx, "redis", ctx.program("redis-server"), "redis", "redis objects",
                   frozenset({"db", "redis"}))


SERVER_CHECKS: tuple[Callable[[DoctorContext], CheckResult], ...] = (
    check_postgres, check_mariadb, check_redis,
)
