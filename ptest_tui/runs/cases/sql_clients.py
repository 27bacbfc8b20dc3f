"""Running one SQL text against a database object from the host, for the sql case.

sqlite goes through the standard library on the object's file. postgres goes through
``psql`` (found the way the postgres object finds it) with unit/record separators and a
NULL marker no value contains, so values with newlines, empty strings and NULL survive;
the password travels in ``PGPASSWORD``. mysql and mariadb go through the ``mariadb`` (or
``mysql``) client with ``--xml`` output, which keeps column names, NULL (``xsi:nil``) and
newlines intact where ``-B -N`` would escape them and print NULL and 'NULL' alike; the
password travels in ``MYSQL_PWD`` and the SQL on standard input (no argument-size limit).

A text with several statements runs them all; the checks see the last statement's rows.
Errors come back as :class:`SqlError` (the server refused the SQL: the case fails) or
:class:`SqlUnavailable` (nothing ran: client missing, server unreachable: the case errs).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from ptest_tui.cancel import CancelToken
from ptest_tui.objects.host_tools import find_program
from ptest_tui.objects.postgres import PG_ROOT

UNIT, RECORD = "\x1f", "\x1e"  # ASCII unit and record separators: never in normal text
NULL_MARK = "\x1aNULL\x1a"
PSQL_ARG_LIMIT = 120 * 1024  # Linux refuses one argument above 128 KiB (MAX_ARG_STRLEN)
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
MYSQL_ERROR = re.compile(
    r"ERROR (?P<code>\d+) \((?P<state>[0-9A-Z]+)\)(?: at line \d+)?: (?P<msg>.*)"
)
CLIENT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class SqlError(Exception):
    """The server ran the SQL and refused it (its message)."""


class SqlUnavailable(Exception):
    """The SQL could not be run at all."""


class SqlCancelled(Exception):
    """The run was cancelled while the SQL ran."""


@dataclass(frozen=True)
class QueryResult:
    """The last statement's result: column names (None if unknown or no result) and rows."""

    columns: tuple[str, ...] | None
    rows: list[tuple[Any, ...]] = field(default_factory=list, hash=False)

    def text(self) -> str:
        """The result as text: a header line, then one ``a | b`` line per row."""
        lines = [" | ".join(self.columns)] if self.columns else []
        lines += [" | ".join("NULL" if v is None else str(v) for v in row) for row in self.rows]
        return "\n".join(lines)


def run_sqlite(path: str, sql: str, timeout: float, cancel: CancelToken) -> QueryResult:
    """Run ``sql`` on the database file ``path`` (which must exist)."""
    if not path or not Path(path).is_file():
        raise SqlUnavailable(f"the database file {path or '(none)'} does not exist")
    deadline = time.monotonic() + timeout
    try:
        # mode=rw: never create an empty database where the object's file should be.
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=min(timeout, 10))
    except sqlite3.Error as exc:
        raise SqlUnavailable(f"cannot open {path}: {exc}") from None
    conn.isolation_level = None  # each statement commits, as in the other clients
    # Polled by sqlite every few thousand instructions; non-zero aborts the statement.
    conn.set_progress_handler(
        lambda: int(cancel.cancelled or time.monotonic() > deadline), 10_000
    )
    result = QueryResult(None)
    try:
        for statement in split_sqlite(sql):
            cursor = conn.execute(statement)
            columns = tuple(d[0] for d in cursor.description) if cursor.description else None
            result = QueryResult(columns, [tuple(row) for row in cursor.fetchall()])
    except sqlite3.Error as exc:
        if cancel.cancelled:
            raise SqlCancelled() from None
        if time.monotonic() > deadline:
            raise SqlError(f"the query did not finish in {timeout:g} s") from None
        raise SqlError(str(exc)) from None
    finally:
        conn.close()
    return result


def split_sqlite(sql: str) -> list[str]:
    """Complete statements of ``sql`` (a trailing statement may lack its ``;``)."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    if current.strip():
        statements.append(current)
    return statements


def find_psql() -> str | None:
    """psql of the newest installed PostgreSQL (as the postgres object finds it), or PATH's."""
    folders = sorted(
        (p.parent for p in PG_ROOT.glob("*/bin/psql")),
        key=lambda folder: tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)),
        reverse=True,
    )
    return find_program(["psql"], folders[:1])


def run_psql(
    extra: Mapping[str, str], host: str, port: int, sql: str, timeout: float, cancel: CancelToken
) -> QueryResult:
    """Run ``sql`` with psql as the object's user in its database."""
    psql = find_psql()
    if psql is None:
        raise SqlUnavailable("the PostgreSQL client psql was not found (install postgresql-client)")
    if len(sql.encode()) > PSQL_ARG_LIMIT:
        raise SqlUnavailable(
            f"the SQL is {len(sql.encode())} bytes; psql takes at most {PSQL_ARG_LIMIT}"
            " (load large data with the object's init scripts)"
        )
    argv = [
        psql, "-X", "-q", "-A", "-F", UNIT, "-R", RECORD, "-P", "footer=off",
        "-P", f"null={NULL_MARK}", "-v", "ON_ERROR_STOP=1", "-v", "SHOW_ALL_RESULTS=off",
        "-h", host, "-p", str(port), "-U", extra.get("user", "postgres"),
        "-d", extra.get("database", "postgres"), "-c", sql,
    ]
    env = {**CLIENT_ENV, "PGPASSWORD": extra.get("password", ""), "PGCONNECT_TIMEOUT": "10",
           "PGAPPNAME": "ptest-tui", "PGCLIENTENCODING": "UTF8"}
    code, out, err = run_client(argv, env, None, timeout, cancel)
    if code != 0:
        messages = [
            " ".join(line.split()) for line in err.splitlines()
            if line.startswith(("ERROR:", "DETAIL:", "HINT:", "FATAL:"))
        ]
        if code == 1 and messages and messages[0].startswith("ERROR:"):
            raise SqlError(" ".join(messages))
        raise SqlUnavailable(_one_line(err) or f"psql exited with {code}")
    return parse_psql(out)


def parse_psql(out: str) -> QueryResult:
    """psql's unaligned output (header record, then rows) as a result."""
    if out.endswith("\n"):
        out = out[:-1]  # psql ends the last record with a newline, not the separator
    if not out:
        return QueryResult(None)  # the last statement returned no rows at all (an INSERT)
    records = out.split(RECORD)
    columns = tuple(records[0].split(UNIT))
    rows = [
        tuple(None if value == NULL_MARK else value for value in record.split(UNIT))
        for record in records[1:]
    ]
    return QueryResult(columns, rows)


def run_mysql(
    extra: Mapping[str, str], host: str, port: int, sql: str, timeout: float, cancel: CancelToken
) -> QueryResult:
    """Run ``sql`` with the mariadb (or mysql) client as the object's user."""
    client = find_program(["mariadb", "mysql"])
    if client is None:
        raise SqlUnavailable("the MariaDB client mariadb (or mysql) was not found"
                             " (install mariadb-client)")
    argv = [
        client, "--no-defaults", "--protocol=TCP", "-h", host, "-P", str(port),
        "-u", extra.get("user", "root"), "--connect-timeout=10", "--xml",
    ]
    if extra.get("database"):
        argv.append(f"--database={extra['database']}")
    env = {**CLIENT_ENV, "MYSQL_PWD": extra.get("password", "")}
    code, out, err = run_client(argv, env, sql, timeout, cancel)
    if code != 0:
        match = MYSQL_ERROR.search(err)
        if match is None:
            raise SqlUnavailable(_one_line(err) or f"{Path(client).name} exited with {code}")
        message = f"ERROR {match['code']} ({match['state']}): {match['msg'].strip()}"
        # Codes from 2000 are the client's own (cannot connect, lost connection).
        if int(match["code"]) >= 2000:
            raise SqlUnavailable(message)
        raise SqlError(message)
    return parse_mysql_xml(out)


def parse_mysql_xml(out: str) -> QueryResult:
    """The last ``<resultset>`` of the client's ``--xml`` output (one document per result)."""
    documents = [doc for doc in out.split('<?xml version="1.0"?>') if "<resultset" in doc]
    if not documents:
        return QueryResult(None)
    try:
        # Our own local server's output through its own client, not untrusted input.
        root = ElementTree.fromstring(documents[-1].strip())  # noqa: S314
    except ElementTree.ParseError as exc:
        raise SqlUnavailable(f"cannot read the client's XML output ({exc})") from None
    rows, columns = [], None
    for row in root.iter("row"):
        fields = row.findall("field")
        if columns is None:
            columns = tuple(str(f.get("name", "")) for f in fields)
        rows.append(tuple(None if f.get(XSI_NIL) == "true" else (f.text or "") for f in fields))
    # An empty result carries no field names: the columns are unknown then.
    return QueryResult(columns, rows)


def run_client(
    argv: Sequence[str], env: Mapping[str, str], stdin: str | None, timeout: float,
    cancel: CancelToken,
) -> tuple[int, str, str]:
    """Run a client to the end (killed on timeout or cancel): exit code, stdout, stderr."""
    try:
        proc = subprocess.Popen(
            list(argv), env=dict(env), text=True, encoding="utf-8", errors="replace",
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise SqlUnavailable(f"cannot run {argv[0]}: {exc.strerror}") from None
    deadline = time.monotonic() + timeout
    pending = stdin
    while True:
        try:
            out, err = proc.communicate(pending, timeout=0.05)
            return proc.returncode, out, err
        except subprocess.TimeoutExpired:
            pending = None  # already handed over; a retry loses nothing
        if cancel.cancelled or time.monotonic() > deadline:
            _kill(proc)
            if cancel.cancelled:
                raise SqlCancelled()
            raise SqlError(f"the query did not finish in {timeout:g} s")


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[-600:]
