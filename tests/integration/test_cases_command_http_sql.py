"""The command, http and sql case kinds against real envs, a real HTTP server and databases.

Command cases run through Session.exec in a basic and a virtualenv env; http cases talk to
a ThreadingHTTPServer in this process; sql cases query a sqlite object, and a postgres and
a mariadb object started through the object service (skipped unless installed, or failing
when PTEST_REQUIRE names db).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError
from ptest_tui.objects.service import ObjectService
from ptest_tui.runs.cases.base import OUTPUT_CAP, Case, CaseContext, CaseSpec
from ptest_tui.runs.cases.builtin import BUILTIN_CASES
from ptest_tui.runs.model import CANCELLED, ERROR, FAILED, PASSED, CaseResult
from ptest_tui.session import Session
from tests.conftest import need, write_workspace


def make_context(
    session: Session,
    env: str = "",
    *,
    objects: ObjectService | None = None,
    timeout: float | None = 30.0,
    cancel: CancelToken | None = None,
    variables: Mapping[str, str] | None = None,
) -> CaseContext:
    """A CaseContext like the runner's: exec runs in ``env`` through the session."""
    token = cancel or CancelToken()
    service = objects or session.objects

    def run_in_env(argv: list[str], **options: Any) -> Any:
        return session.exec(env, argv, cancel=token, **options)

    def no_emit(result: CaseResult) -> None:
        raise AssertionError("single-result kinds return their result; the runner publishes")

    return CaseContext(
        run_id="r1", suite="s", env=env or "host", isolation="basic", cancel=token,
        timeout=timeout, variables=dict(variables or {}), exec=run_in_env, emit=no_emit,
        object_info=service.connection, object_kind=lambda name: service.spec(name).kind,
        workspace=str(session.workspace.root),
    )


def run_case(kind: str, ctx: CaseContext, **settings: Any) -> CaseResult:
    """Validate and run one case; it must give exactly one result."""
    case: Case = BUILTIN_CASES[kind](CaseSpec("c", kind, settings, where="suites.s.cases[0]"))
    case.validate()
    results = case.run(ctx)
    assert len(results) == 1
    result = results[0]
    assert (result.run_id, result.suite, result.case, result.kind) == ("r1", "s", "c", kind)
    assert result.duration > 0 and result.started_at > 0
    return result


# -- command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session with a basic env ``b`` and a virtualenv env ``v``."""
    root = write_workspace(tmp_path_factory.mktemp("cmd") / "ws")
    (root / "sub").mkdir()
    session = Session.open(workspace=root, environ={})
    session.create_env("b", isolation="basic")
    session.create_env("v", isolation="virtualenv")
    yield session
    session.close()


def test_a_passing_command_captures_both_streams(envs: Session) -> None:
    result = run_case(
        "command", make_context(envs, "b"),
        command="sh -c 'echo hello world; echo warn >&2'",
        expect={"stdout_contains": ["hello", "world"], "stdout_regex": "^hello",
                "stdout_equals": "hello world", "stderr_contains": "warn",
                "stderr_regex": "w.rn$", "max_seconds": 60},
    )
    assert (result.status, result.message) == (PASSED, "")
    assert (result.stdout, result.stderr) == ("hello world", "warn")


def test_every_failed_assertion_is_reported(envs: Session) -> None:
    result = run_case(
        "command", make_context(envs, "b"),
        command=["sh", "-c", "echo got this; echo oops >&2; sleep 0.05; exit 3"],
        expect={"stdout_contains": ["got", "missing"], "stderr_regex": "^fine$",
                "stdout_equals": "other", "max_seconds": 0.001},
    )
    assert result.status == FAILED
    assert result.message.splitlines() == [
        "exit code: expected 0, got 3",
        "stdout contains: expected to contain 'missing', got 'got this'",
        "stdout equals: expected 'other', got 'got this'",
        "stderr regex: expected to match '^fine$', got 'oops'",
        result.message.splitlines()[-1],
    ]
    assert result.message.splitlines()[-1].startswith("duration: expected at most 0.001 s, got ")


def test_expected_exit_code_env_and_cwd(envs: Session) -> None:
    result = run_case(
        "command", make_context(envs, "b"),
        command=["sh", "-c", 'echo "$GREETING from $(basename "$PWD")"; exit 4'],
        cwd="sub", env={"GREETING": "hi"},
        expect={"exit_code": 4, "stdout_equals": "hi from sub"},
    )
    assert (result.status, result.message) == (PASSED, "")


def test_commands_run_inside_the_virtualenv(envs: Session) -> None:
    result = run_case(
        "command", make_context(envs, "v"),
        command="python -c 'import sys; print(sys.prefix != sys.base_prefix, sys.prefix)'",
        expect={"stdout_regex": r"^True .*[/\\]v\b"},
    )
    assert result.status == PASSED, result.message


def test_a_missing_program_is_an_error_not_a_failure(envs: Session) -> None:
    result = run_case("command", make_context(envs, "b"), command="no-such-program-xyz --help")
    assert result.status == ERROR
    assert "could not run no-such-program-xyz --help" in result.message
    assert "command not found" in result.message


def test_a_command_past_its_timeout_is_stopped_and_fails(envs: Session) -> None:
    result = run_case(
        "command", make_context(envs, "b", timeout=0.3),
        command=["sh", "-c", "echo started; sleep 30"],
    )
    assert result.status == FAILED
    assert result.message == "timeout: the command was stopped after 0.3 s"
    assert result.stdout == "started"


def test_a_cancelled_command_is_cancelled(envs: Session) -> None:
    token = CancelToken()
    timer = threading.Timer(0.3, token.cancel)
    timer.start()
    try:
        result = run_case("command", make_context(envs, "b", cancel=token), command="sleep 30")
    finally:
        timer.cancel()
    assert result.status == CANCELLED


def test_huge_output_keeps_memory_flat_and_is_still_checked(envs: Session) -> None:
    # 100 MB in 1 KB lines, with a marker only in the last line (far past the cap).
    script = (
        "import sys\nline = 'x' * 1023 + '\\n'\nw = sys.stdout.write\n"
        "for _ in range(100_000): w(line)\nprint('needle-at-the-end')\n"
    )
    tracemalloc.start()
    try:
        result = run_case(
            "command", make_context(envs, "b"), command=[sys.executable, "-c", script],
            expect={"stdout_contains": "needle-at-the-end", "stdout_regex": "^needle-at"},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status, result.message) == (PASSED, "")
    assert len(result.stdout) < OUTPUT_CAP + 200
    assert result.stdout.endswith("more characters truncated by ptest-tui]")
    assert peak < 20 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_commands_run_inside_a_docker_env(dsession: Session) -> None:
    dsession.create_env("d", isolation="docker")
    result = run_case(
        "command", make_context(dsession, "d"), command="cat /etc/os-release",
        env={"X": "1"}, expect={"stdout_contains": "bookworm"},
    )
    assert (result.status, result.message) == (PASSED, "")
    missing = run_case("command", make_context(dsession, "d"), command="no-such-program-xyz")
    assert missing.status == ERROR
    assert missing.message.startswith("could not run no-such-program-xyz: command not found")


# -- http ------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    """Serves JSON, statuses, an echo, a redirect, a slow page and basic-auth details."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status: int, data: Any) -> None:
        self.reply(status, json.dumps(data).encode(), "application/json; charset=utf-8",
                   X_Request_Id="req-42")

    def do_GET(self) -> None:
        if self.path == "/items":
            self.reply_json(200, {"items": [{"id": 3, "name": "pen"}], "total": 1, "ok": True})
        elif self.path.startswith("/status/"):
            self.reply(int(self.path.rsplit("/", 1)[1]), b"service down", "text/plain")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/items")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(2)
            self.reply_json(200, {})
        elif self.path == "/auth":
            self.reply_json(200, {"authorization": self.headers.get("Authorization", "")})
        else:
            self.reply(404, b"<html>not here</html>", "text/html")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        self.reply_json(201, {
            "body": body, "content_type": self.headers.get("Content-Type", ""),
            "token": self.headers.get("X-Token", ""),
        })


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """The base URL of a local HTTP server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session on an empty workspace (http and sql cases run on the host)."""
    session = Session.open(workspace=write_workspace(tmp_path_factory.mktemp("h") / "ws"),
                           environ={})
    yield session
    session.close()


def test_http_checks_that_pass(host: Session, web: str) -> None:
    result = run_case(
        "http", make_context(host), url=f"{web}/items",
        expect={"status": 200, "headers": {"content-TYPE": "json", "x-request-id": "42"},
                "json": {"$.items[0].id": 3, "$.total": 1.0, "$.ok": True,
                         "$.items[0]": {"id": 3, "name": "pen"}},
                "body_contains": ["pen", "items"], "max_ms": 60_000},
    )
    assert (result.status, result.message) == (PASSED, "")
    assert json.loads(result.stdout)["total"] == 1


def test_http_reports_every_failed_assertion(host: Session, web: str) -> None:
    result = run_case(
        "http", make_context(host), url=f"{web}/items",
        expect={"status": [201, 204], "headers": {"Content-Type": "xml", "X-Missing": "a"},
                "json": {"$.items[0].id": 4, "$.items[1].id": 5, "$.ok": 1},
                "body_contains": "pencil"},
    )
    assert result.status == FAILED
    assert result.message.splitlines() == [
        "status: expected one of 201, 204, got 200",
        "header Content-Type: expected to contain 'xml', got 'application/json; charset=utf-8'",
        "header X-Missing: expected to contain 'a', got no such header",
        "body contains: expected to contain 'pencil', got "
        + repr('{"items": [{"id": 3, "name": "pen"}], "total": 1, "ok": true}'),
        "json $.items[0].id: expected 4, got 3",
        "json $.items[1].id: expected 5, got nothing ($.items has 1 item)",
        "json $.ok: expected 1, got true",
    ]


def test_http_error_statuses_are_responses_and_any_2xx_passes_by_default(
    host: Session, web: str
) -> None:
    down = run_case("http", make_context(host), url=f"{web}/status/503",
                    expect={"json": {"$.a": 1}})
    assert down.status == FAILED
    assert down.message.splitlines() == [
        "status: expected 2xx, got 503",
        "json: expected a JSON body (Expecting value: line 1 column 1 (char 0)),"
        " got 'service down'",
    ]
    assert down.stdout == "service down"
    assert run_case("http", make_context(host), url=f"{web}/status/503",
                    expect={"status": 503}).status == PASSED
    assert run_case("http", make_context(host), url=f"{web}/redirect",
                    expect={"json": {"$.total": 1}}).status == PASSED


def test_http_post_json_with_variables(
    host: Session, web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTEST_TEST_TOKEN", "from-environ")
    ctx = make_context(host, variables={"PTEST_OBJ_API_URL": web, "PTEST_OBJ_API_USER": "ann"})
    result = run_case(
        "http", ctx, method="post", url="${PTEST_OBJ_API_URL}/echo",
        headers={"X-Token": "${PTEST_TEST_TOKEN}"},
        json={"user": "${PTEST_OBJ_API_USER}", "n": [1]},
        expect={"status": 201, "json": {"$.token": "from-environ",
                                        "$.content_type": "application/json"}},
    )
    assert (result.status, result.message) == (PASSED, "")
    assert json.loads(json.loads(result.stdout)["body"]) == {"user": "ann", "n": [1]}
    raw = run_case("http", ctx, method="PUT", url=f"{web}/echo", body="a=${PTEST_OBJ_API_USER}",
                   expect={"status": 501})
    assert raw.status == PASSED  # http.server has no do_PUT: 501


def test_an_unknown_variable_is_an_error(host: Session, web: str) -> None:
    result = run_case("http", make_context(host), url="${PTEST_OBJ_NOPE_URL}/items")
    assert result.status == ERROR
    assert "url: unknown variable ${PTEST_OBJ_NOPE_URL}" in result.message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_servers_are_errors_and_credentials_are_redacted(host: Session) -> None:
    url = f"http://admin:s3cret@127.0.0.1:{closed_port()}/items"
    result = run_case("http", make_context(host), url=url)
    assert result.status == ERROR
    assert "could not send GET http://127.0.0.1:" in result.message
    assert "Connection refused" in result.message
    assert "s3cret" not in result.message
    bad = run_case("http", make_context(host, variables={"PTEST_OBJ_X_URL": "ftp://u:pw@x/"}),
                   url="${PTEST_OBJ_X_URL}")
    assert bad.status == ERROR
    assert bad.message == "ftp://***@x/ is not an http:// or https:// URL"


def test_credentials_in_the_url_become_basic_auth(host: Session, web: str) -> None:
    result = run_case(
        "http", make_context(host), url=web.replace("http://", "http://ann:pw%40x@") + "/auth",
        expect={"json": {"$.authorization": "Basic YW5uOnB3QHg="}},  # ann:pw@x
    )
    assert (result.status, result.message) == (PASSED, "")


def test_a_slow_response_fails_at_the_case_timeout(host: Session, web: str) -> None:
    result = run_case("http", make_context(host, timeout=0.3), url=f"{web}/slow")
    assert result.status == FAILED
    assert result.message == f"GET {web}/slow: no response within 0.3 s"


def test_a_cancelled_request_is_cancelled(host: Session, web: str) -> None:
    token = CancelToken()
    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    try:
        result = run_case("http", make_context(host, cancel=token), url=f"{web}/slow")
    finally:
        timer.cancel()
    assert result.status == CANCELLED


# -- sql -------------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price NUMERIC(6, 2), note TEXT,
                    active BOOLEAN);
INSERT INTO items VALUES (1, 'pen', 1.50, NULL, TRUE), (2, 'ink', 12, 'two
lines', FALSE);
"""
QUERY = "SELECT id, name, price, note, active FROM items ORDER BY id"
EXPECT = {
    "columns": ["id", "name", "price", "note", "active"],
    "rows": [[1, "pen", 1.5, "NULL", True], [2, "ink", "12.00", "two\nlines", False]],
    "row_count": 2,
    "scalar": 1,
}


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, ObjectService]]:
    """A session declaring sqlite, postgres and mariadb objects (started on demand)."""
    root = write_workspace(tmp_path_factory.mktemp("sql") / "ws", """
        [objects.lite]
        kind = "sqlite"
        schema = "schema.sql"

        [objects.pg]
        kind = "postgres"
        password = "pg-s3cret"
        init = ["schema.sql"]

        [objects.maria]
        kind = "mariadb"
        password = "my-s3cret"
        init = ["schema.sql"]

        [objects.site]
        kind = "web"
        command = "true"
        """)
    (root / "schema.sql").write_text(SCHEMA)
    (root / "last.sql").write_text(
        "CREATE TABLE IF NOT EXISTS extra (n INTEGER);\nINSERT INTO extra VALUES (7);\n"
        "SELECT count(*) AS total FROM items;\n"
    )
    session = Session.open(workspace=root, environ={})
    objects = session.objects
    yield session, objects
    for name in objects.specs():
        with contextlib.suppress(PtestError):
            objects.remove(name)  # data too: as root it lives outside the workspace
    session.close()


def started(dbs: tuple[Session, ObjectService], name: str) -> CaseContext:
    """A context with object ``name`` running (skips when its server is not installed)."""
    session, objects = dbs
    need("db", objects.instance(name).unavailable_reason())
    objects.start(name)
    return make_context(session, objects=objects, variables=objects.environment())


@pytest.mark.parametrize("name", ["lite", "pg", "maria"])
def test_sql_rows_columns_count_and_scalar(dbs: tuple[Session, ObjectService], name: str) -> None:
    ctx = started(dbs, name)
    result = run_case("sql", ctx, object=name, query=QUERY, expect=EXPECT)
    assert (result.status, result.message) == (PASSED, "")
    assert result.stdout.splitlines()[0] == "id | name | price | note | active"
    # The file's last statement is the one checked; earlier ones ran.
    result = run_case("sql", ctx, object=name, file="last.sql", expect={"scalar": 2})
    assert (result.status, result.message) == (PASSED, "")
    result = run_case("sql", ctx, object=name, query="SELECT n FROM extra",
                      expect={"row_count": 1, "scalar": 7})
    assert (result.status, result.message) == (PASSED, "")


@pytest.mark.parametrize("name", ["lite", "pg", "maria"])
def test_sql_failed_checks_are_all_listed(dbs: tuple[Session, ObjectService], name: str) -> None:
    ctx = started(dbs, name)
    result = run_case(
        "sql", ctx, object=name, query="SELECT id, name FROM items WHERE id > 5",
        expect={"rows": [[9, "x"]], "row_count": 1, "scalar": 9},
    )
    assert result.status == FAILED
    lines = result.message.splitlines()
    assert lines == [
        "row count: expected 1, got 0", 'rows: expected [[9, "x"]], got []',
        "scalar: expected 9, got no rows",
    ]
    result = run_case("sql", ctx, object=name, query="SELECT name FROM items ORDER BY id",
                      expect={"rows": [["pen"], ["INK"]], "columns": ["nome"]})
    assert result.message.splitlines() == [
        'columns: expected ["nome"], got ["name"]',
        'rows: expected [["pen"], ["INK"]], got [["pen"], ["ink"]]',
    ]


@pytest.mark.parametrize(
    ("name", "error"),
    [("lite", "no such table: nope"), ("pg", 'ERROR: relation "nope" does not exist'),
     ("maria", "ERROR 1146 (42S02): Table 'ptest.nope' doesn't exist")],
)
def test_sql_errors_fail_with_the_server_message(
    dbs: tuple[Session, ObjectService], name: str, error: str
) -> None:
    result = run_case("sql", started(dbs, name), object=name, query="SELECT * FROM nope")
    assert result.status == FAILED
    assert result.message.startswith(f"sql error: {error}")


def test_a_slow_query_stops_at_the_case_timeout(dbs: tuple[Session, ObjectService]) -> None:
    session, objects = dbs
    started(dbs, "lite")
    ctx = make_context(session, objects=objects, timeout=0.3)
    spin = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT count(*) FROM n")
    result = run_case("sql", ctx, object="lite", query=spin)
    assert result.status == FAILED
    assert result.message == "sql error: the query did not finish in 0.3 s"


def test_a_slow_postgres_query_is_killed_at_the_timeout(
    dbs: tuple[Session, ObjectService],
) -> None:
    session, objects = dbs
    started(dbs, "pg")
    ctx = make_context(session, objects=objects, timeout=0.5)
    result = run_case("sql", ctx, object="pg", query="SELECT pg_sleep(30)")
    assert result.status == FAILED
    assert result.message == "sql error: the query did not finish in 0.5 s"


def test_objects_that_cannot_answer_are_errors(dbs: tuple[Session, ObjectService]) -> None:
    session, objects = dbs
    ctx = make_context(session, objects=objects)
    result = run_case("sql", ctx, object="site", query="SELECT 1")
    assert result.status == ERROR
    assert result.message == (
        "could not run the query on site: it is a web object; sql cases work with sqlite,"
        " postgres, mysql, mariadb objects"
    )
    result = run_case("sql", ctx, object="ghost", query="SELECT 1")
    assert result.status == ERROR and "no object named 'ghost'" in result.message
    result = run_case("sql", ctx, object="lite", file="missing.sql")
    assert result.status == ERROR and "cannot read the SQL file missing.sql" in result.message
    need("db", objects.instance("pg").unavailable_reason())
    objects.stop("pg")
    result = run_case("sql", ctx, object="pg", query="SELECT 1")
    assert result.status == ERROR
    assert result.message == (
        "could not run the query on pg: the object is not running (start it: ptest-tui obj"
        " start pg)"
    )
