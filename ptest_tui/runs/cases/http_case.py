"""The http case: one request from the host, checks on status, headers, JSON, body, time.

``${VAR}`` in the URL, header values, body and JSON strings is replaced from the connection
variables of running objects (``PTEST_OBJ_*``) and then the process environment; ``$${``
writes a literal ``${``. Requests use the standard library (no new dependency); a URL
with ``user:password@`` sends them as basic auth. Every message redacts credentials in
URLs. Without ``expect.status`` any 2xx status passes.

Example::

    [[suites.api.cases]]
    name = "list items"
    kind = "http"
    url = "${PTEST_OBJ_API_URL}/items?limit=1"
    expect = { status = 200, json = { "$.items[0].id" = 3 }, max_ms = 500 }
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from http.client import HTTPException
from typing import Any

from ptest_tui.errors import ConfigError
from ptest_tui.packages.index import redact
from ptest_tui.runs.cases import assertions as check
from ptest_tui.runs.cases.base import Case, CaseContext, CaseSpec, capped
from ptest_tui.runs.cases.settings import Settings
from ptest_tui.runs.model import CANCELLED, ERROR, FAILED, PASSED, CaseResult

DEFAULT_TIMEOUT = 30.0  # seconds for one request when the case has no timeout
BODY_LIMIT = 16 * 1024 * 1024  # bytes read (and parsed as JSON); the result keeps less
_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_METHOD = re.compile(r"[A-Z]+")

EXPECT_DOC = {
    "status": "expected status code, or a list of them (default: any 2xx)",
    "headers": "table of header name = text its value must contain (names ignore case)",
    "json": 'table of JSON path = value, like "$.items[0].id" = 3',
    "body_contains": "text (or list of texts) the body must contain",
    "max_ms": "longest the request may take, in milliseconds",
}


class UnknownVariableError(ValueError):
    """``${NAME}`` names no variable."""


@dataclass(frozen=True)
class HttpSettings:
    """An http case's checked settings."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    body: str | None = None
    json_body: Any = field(default=None, hash=False)
    has_json: bool = False
    statuses: tuple[int, ...] = ()
    expect_headers: dict[str, str] = field(default_factory=dict, hash=False)
    expect_json: dict[str, Any] = field(default_factory=dict, hash=False)
    body_contains: tuple[str, ...] = ()
    max_ms: float | None = None


@dataclass(frozen=True)
class Response:
    """What came back: status, headers and (up to the limit) the body."""

    status: int
    reason: str
    headers: Message
    body: bytes
    complete: bool  # False when the body was longer than BODY_LIMIT
    seconds: float

    def text(self) -> str:
        """The body decoded with its declared charset (UTF-8 by default)."""
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


class Unreachable(Exception):
    """The request could not be made at all (status error)."""


class NoResponse(Exception):
    """The server was reached but did not answer properly (status failed)."""


class HttpCase(Case):
    """Sends one HTTP request from the host and checks the response."""

    kind = "http"
    description = "send an HTTP request; check status, headers, JSON fields, body and time"
    settings_doc = {
        "url": "the URL; ${VAR} takes PTEST_OBJ_* and environment variables",
        "method": "GET (default), POST, PUT, ...",
        "headers": "table of request headers",
        "body": "request body text",
        "json": "request body as JSON (any TOML value); sets Content-Type",
        "expect": "table: " + ", ".join(EXPECT_DOC),
    }

    def validate(self) -> None:
        """Check the settings (ConfigError naming the key)."""
        _ = self.settings

    @cached_property
    def settings(self) -> HttpSettings:
        """The checked settings."""
        return parse_settings(self.spec)

    def run(self, ctx: CaseContext) -> Sequence[CaseResult]:
        """Send the request once and check the response."""
        settings = self.settings
        started_at = time.time()
        started = time.monotonic()

        def finish(
            status: str, message: str, stdout: str = "", seconds: float = 0.0
        ) -> list[CaseResult]:
            result = ctx.result(
                self.spec, status, message=redact(message), stdout=stdout,
                duration=seconds or time.monotonic() - started, started_at=started_at,
            )
            return [result]

        variables = {**os.environ, **ctx.variables}
        try:
            request = build_request(settings, variables)
        except (UnknownVariableError, Unreachable) as exc:
            return finish(ERROR, str(exc))
        timeout = ctx.timeout or DEFAULT_TIMEOUT  # the case's timeout bounds the request
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["response"] = perform(request, timeout)
            except Exception as exc:  # handed to the waiting thread
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"ptest-http-{self.spec.name}", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.05)
            if ctx.cancel.cancelled:
                # urllib cannot be interrupted; the request ends by its own timeout.
                return finish(CANCELLED, "cancelled")
        target = f"{request.get_method()} {request.full_url}"
        error = box.get("error")
        if isinstance(error, Unreachable):
            return finish(ERROR, f"could not send {target}: {error}")
        if isinstance(error, NoResponse):
            return finish(FAILED, f"{target}: {error}")
        if error is not None:
            return finish(ERROR, f"{target}: {type(error).__name__}: {error}")
        response: Response = box["response"]
        checks = check_response(settings, response)
        body = capped(response.text())
        return finish(PASSED if checks.passed else FAILED, checks.message, body, response.seconds)


def build_request(settings: HttpSettings, variables: Mapping[str, str]) -> urllib.request.Request:
    """The request with ``${VAR}`` filled in; credentials in the URL become basic auth."""
    url = substitute(settings.url, variables, "url")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable(f"{redact(url)} is not an http:// or https:// URL")
    headers = {
        name: substitute(value, variables, f"headers.{name}")
        for name, value in settings.headers.items()
    }
    if parts.username is not None:
        secret = f"{urllib.parse.unquote(parts.username)}:"
        secret += urllib.parse.unquote(parts.password or "")
        headers.setdefault("Authorization", "Basic " + base64.b64encode(secret.encode()).decode())
        url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    data: bytes | None = None
    if settings.has_json:
        filled = _substitute_json(settings.json_body, variables)
        data = json.dumps(filled, default=check.json_default).encode()
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    elif settings.body is not None:
        data = substitute(settings.body, variables, "body").encode()
    try:
        # The scheme was checked above: http or https only.
        return urllib.request.Request(  # noqa: S310
            url, data=data, headers=headers, method=settings.method
        )
    except ValueError as exc:
        raise Unreachable(redact(str(exc))) from None


def substitute(text: str, variables: Mapping[str, str], where: str) -> str:
    """``text`` with each ``${NAME}`` replaced; an unknown name is an error."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "${"  # $${ escapes
        if name not in variables:
            objects = sorted(k for k in variables if k.startswith("PTEST_OBJ_"))
            known = ", ".join(objects) if objects else "no PTEST_OBJ_* variables: no object runs"
            raise UnknownVariableError(f"{where}: unknown variable ${{{name}}} (known: {known})")
        return variables[name]

    return _VARIABLE.sub(one, text)


def _substitute_json(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, variables, "json")
    if isinstance(value, list):
        return [_substitute_json(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _substitute_json(item, variables) for key, item in value.items()}
    return value


class _KeepErrors(urllib.request.HTTPErrorProcessor):
    """Hands 4xx and 5xx responses back like any other (a case checks the status);
    redirects are still followed."""

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        if response.status >= 400:
            return response
        return super().http_response(request, response)

    https_response = http_response


def perform(request: urllib.request.Request, timeout: float) -> Response:
    """Send ``request`` and read the response (Unreachable / NoResponse when it fails)."""
    opener = urllib.request.build_opener(_KeepErrors)
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(BODY_LIMIT + 1)
            status, reason, headers = response.status, response.reason, response.headers
    except urllib.error.HTTPError as exc:
        # What urllib still raises for (a 304, a redirect it would not follow) is a response.
        with exc:
            body = exc.read(BODY_LIMIT + 1)
            status, reason, headers = exc.code, exc.reason, exc.headers
    except urllib.error.URLError as exc:
        reason_text = exc.reason
        if isinstance(reason_text, TimeoutError):
            raise NoResponse(f"no response within {timeout:g} s") from None
        if isinstance(reason_text, OSError) and reason_text.strerror:
            raise Unreachable(reason_text.strerror) from None
        raise Unreachable(str(reason_text)) from None
    except TimeoutError:
        raise NoResponse(f"no response within {timeout:g} s") from None
    except HTTPException as exc:
        raise NoResponse(f"bad response: {type(exc).__name__} {exc}".rstrip()) from None
    except ConnectionError as exc:
        raise NoResponse(f"connection broken: {exc.strerror or exc}") from None
    return Response(
        status=status, reason=reason or "", headers=headers, body=body[:BODY_LIMIT],
        complete=len(body) <= BODY_LIMIT, seconds=time.monotonic() - started,
    )


def check_response(settings: HttpSettings, response: Response) -> check.Checks:
    """Every expectation of ``settings`` against ``response``."""
    checks = check.Checks()
    if settings.statuses:
        checks.add(check.expect_one_of("status", settings.statuses, response.status))
    elif not 200 <= response.status < 300:
        checks.add(f"status: expected 2xx, got {response.status}")
    for name, needle in settings.expect_headers.items():
        values = response.headers.get_all(name) or []
        if not values:
            checks.add(f"header {name}: expected to contain {needle!r}, got no such header")
        elif not any(needle in value for value in values):
            checks.add(check.expect_contains(f"header {name}", needle, ", ".join(values)))
    text = response.text()
    for needle in settings.body_contains:
        checks.add(check.expect_contains("body contains", needle, text))
    if settings.expect_json:
        _check_json(settings.expect_json, response, text, checks)
    if settings.max_ms is not None:
        checks.add(check.expect_at_most_ms(settings.max_ms, response.seconds))
    return checks


def _check_json(
    expected: Mapping[str, Any], response: Response, text: str, checks: check.Checks
) -> None:
    if not response.complete:
        checks.add(f"json: expected a JSON body, got more than {BODY_LIMIT} bytes (not parsed)")
        return
    try:
        document = json.loads(text)
    except ValueError as exc:
        checks.add(f"json: expected a JSON body ({exc}), got {check.preview(text)}")
        return
    for path, value in expected.items():
        checks.add(check.expect_json(path, value, document))


def parse_settings(spec: CaseSpec) -> HttpSettings:
    """Check an http case's settings and build its :class:`HttpSettings`."""
    reader = Settings(spec)
    table = spec.settings
    reader.check_keys(table, HttpCase.settings_doc)
    url = reader.string(table, "url", "url", required=True) or ""
    if "${" not in url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise reader.fail("url", "an http:// or https:// URL", url)
    method = (reader.string(table, "method", "method") or "GET").upper()
    if not _METHOD.fullmatch(method):
        raise reader.fail("method", "an HTTP method such as GET or POST", table.get("method"))
    if "body" in table and "json" in table:
        raise ConfigError(
            f"{reader.where}: set body or json, not both", "json sends a value as JSON"
        )
    expect = reader.table(table, "expect", "expect")
    reader.check_keys(expect, EXPECT_DOC, "expect.")
    paths = reader.table(expect, "json", "expect.json")
    for path in paths:
        try:
            check.parse_json_path(path)
        except check.JsonPathError as exc:
            raise ConfigError(
                f"{reader.where}: expect.json: {exc}", 'quote the key: "$.items[0].id" = 3'
            ) from None
    statuses = reader.integers(expect, "status", "expect.status")
    if any(not 100 <= code <= 599 for code in statuses):
        raise reader.fail("expect.status", "HTTP status codes (100-599)", expect["status"])
    return HttpSettings(
        url=url,
        method=method,
        headers=reader.string_table(table, "headers", "headers"),
        body=reader.string(table, "body", "body"),
        json_body=table.get("json"),
        has_json="json" in table,
        statuses=statuses,
        expect_headers=reader.string_table(expect, "headers", "expect.headers"),
        expect_json=paths,
        body_contains=reader.strings(expect, "body_contains", "expect.body_contains"),
        max_ms=reader.positive_number(expect, "max_ms", "expect.max_ms"),
    )
