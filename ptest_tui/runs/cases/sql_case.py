"""The sql case: run a query against a running database object, check its rows.

The object (sqlite, postgres, mysql or mariadb) is reached from the host with its
connection info; see :mod:`ptest_tui.runs.cases.sql_clients` for the clients. Cells are
compared as text after normalising: numbers by value (``1.50`` equals ``1.5``; ``3``
equals ``3.0``), NULL as the string ``"NULL"``, TOML ``true``/``false`` against ``t``,
``true``, ``1`` / ``f``, ``false``, ``0``. An SQL error fails the case with the server's
message.

Example::

    [[suites.db.cases]]
    name = "seeded users"
    kind = "sql"
    object = "db"
    query = "SELECT id, name FROM users ORDER BY id"
    expect = { rows = [[1, "ann"], [2, "bob"]], columns = ["id", "name"] }
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ptest_tui.errors import ConfigError, PtestError
from ptest_tui.runs.cases import assertions as check
from ptest_tui.runs.cases.base import Case, CaseContext, CaseSpec, capped
from ptest_tui.runs.cases.settings import Settings
from ptest_tui.runs.cases.sql_clients import (
    QueryResult,
    SqlCancelled,
    SqlError,
    SqlUnavailable,
    run_mysql,
    run_psql,
    run_sqlite,
)
from ptest_tui.runs.model import CANCELLED, ERROR, FAILED, PASSED, CaseResult

DEFAULT_TIMEOUT = 60.0  # seconds for the query, unless the case has a timeout
SUPPORTED = ("sqlite", "postgres", "mysql", "mariadb")

EXPECT_DOC = {
    "rows": "the result rows, a list of lists (in order)",
    "row_count": "how many rows the result has",
    "scalar": "the first column of the first row",
    "columns": "the result's column names, a list",
}


@dataclass(frozen=True)
class SqlSettings:
    """An sql case's checked settings."""

    object: str
    query: str | None = None
    file: str | None = None
    rows: list[list[Any]] | None = field(default=None, hash=False)
    row_count: int | None = None
    scalar: Any = None
    has_scalar: bool = False
    columns: tuple[str, ...] | None = None


class SqlCase(Case):
    """Runs one query on a database object from the host and checks the result."""

    kind = "sql"
    description = "run a query on a sqlite, postgres, mysql or mariadb object; check its rows"
    settings_doc = {
        "object": "name of the database object (sqlite, postgres, mysql or mariadb)",
        "query": "the SQL to run (one statement)",
        "file": "a file of SQL to run instead (relative to the workspace); the last statement's"
        " rows are checked",
        "expect": "table: " + ", ".join(EXPECT_DOC),
    }

    def validate(self) -> None:
        """Check the settings (ConfigError naming the key)."""
        _ = self.settings

    @cached_property
    def settings(self) -> SqlSettings:
        """The checked settings."""
        return parse_settings(self.spec)

    def run(self, ctx: CaseContext) -> Sequence[CaseResult]:
        """Run the query once and check its result."""
        settings = self.settings
        started_at = time.time()
        started = time.monotonic()

        def finish(status: str, message: str, stdout: str = "") -> list[CaseResult]:
            result = ctx.result(
                self.spec, status, message=message, stdout=capped(stdout),
                duration=time.monotonic() - started, started_at=started_at,
            )
            return [result]

        try:
            outcome = self._query(ctx, settings)
        except SqlCancelled:
            return finish(CANCELLED, "cancelled")
        except SqlError as exc:
            return finish(FAILED, f"sql error: {exc}")
        except (SqlUnavailable, PtestError) as exc:
            text = exc.one_line() if isinstance(exc, PtestError) else str(exc)
            return finish(ERROR, f"could not run the query on {settings.object}: {text}")
        checks = check_result(settings, outcome)
        return finish(PASSED if checks.passed else FAILED, checks.message, outcome.text())

    def _query(self, ctx: CaseContext, settings: SqlSettings) -> QueryResult:
        name = settings.object
        kind = ctx.object_kind(name)
        if kind not in SUPPORTED:
            raise SqlUnavailable(
                f"it is a {kind} object; sql cases work with {', '.join(SUPPORTED)} objects"
            )
        sql = settings.query if settings.query is not None else self._read_file(ctx, settings)
        info = ctx.object_info(name)
        timeout = ctx.timeout or DEFAULT_TIMEOUT
        if kind == "sqlite":
            return run_sqlite(info.extra.get("path", ""), sql, timeout, ctx.cancel)
        if not info.port:
            raise SqlUnavailable(
                f"the object is not running (start it: ptest-tui obj start {name})"
            )
        run = run_psql if kind == "postgres" else run_mysql
        return run(info.extra, info.host or "127.0.0.1", info.port, sql, timeout, ctx.cancel)

    @staticmethod
    def _read_file(ctx: CaseContext, settings: SqlSettings) -> str:
        path = Path(settings.file or "")
        if not path.is_absolute() and ctx.workspace:
            path = Path(ctx.workspace) / path
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SqlUnavailable(f"cannot read the SQL file {settings.file}: {exc}") from None


def check_result(settings: SqlSettings, result: QueryResult) -> check.Checks:
    """Every expectation of ``settings`` against ``result``."""
    checks = check.Checks()
    if settings.columns is not None:
        if result.columns is None:
            got = "no rows" if result.rows == [] else "no column names"
            checks.add(f"columns: expected {check.show(list(settings.columns))}, got {got}"
                       " (the client reports no column names for this result)")
        else:
            checks.add(check.expect_equal(
                "columns", list(settings.columns), list(result.columns)
            ))
    if settings.row_count is not None:
        checks.add(check.expect_equal("row count", settings.row_count, len(result.rows)))
    if settings.rows is not None:
        checks.add(check.expect_rows(settings.rows, result.rows))
    if settings.has_scalar:
        checks.add(check.expect_scalar(settings.scalar, result.rows))
    return checks


def parse_settings(spec: CaseSpec) -> SqlSettings:
    """Check an sql case's settings and build its :class:`SqlSettings`."""
    reader = Settings(spec)
    table = spec.settings
    reader.check_keys(table, SqlCase.settings_doc)
    name = reader.string(table, "object", "object", required=True) or ""
    query = reader.string(table, "query", "query")
    file = reader.string(table, "file", "file")
    if (query is None) == (file is None):
        raise ConfigError(
            f"{reader.where}: set exactly one of query and file",
            'query = "SELECT ..." runs one statement; file = "checks/x.sql" runs a file',
        )
    if query is not None and not query.strip():
        raise reader.fail("query", "SQL text", query)
    expect = reader.table(table, "expect", "expect")
    reader.check_keys(expect, EXPECT_DOC, "expect.")
    rows = expect.get("rows")
    if rows is not None and not (
        isinstance(rows, list)
        and all(isinstance(row, list) and all(_is_cell(c) for c in row) for row in rows)
    ):
        raise reader.fail("expect.rows", "a list of lists of values, like [[1, \"a\"]]", rows)
    row_count = reader.integer(expect, "row_count", "expect.row_count")
    if row_count is not None and row_count < 0:
        raise reader.fail("expect.row_count", "a number of rows (0 or more)", row_count)
    if "scalar" in expect and not _is_cell(expect["scalar"]):
        raise reader.fail("expect.scalar", "a string, number or boolean", expect["scalar"])
    columns = expect.get("columns")
    if columns is not None and not (
        isinstance(columns, list) and all(isinstance(c, str) for c in columns)
    ):
        raise reader.fail("expect.columns", "a list of column names", columns)
    return SqlSettings(
        object=name, query=query, file=file, rows=rows, row_count=row_count,
        scalar=expect.get("scalar"), has_scalar="scalar" in expect,
        columns=tuple(columns) if columns is not None else None,
    )


def _is_cell(value: Any) -> bool:
    return not isinstance(value, list | dict)
