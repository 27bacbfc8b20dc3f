"""A PEP 503 simple index over HTTP on 127.0.0.1, serving a folder of wheels.

``/simple/`` lists projects, ``/simple/<project>/`` lists its files with ``#sha256=``
fragments, and ``/files/<file>`` serves them. Every request path is logged so a test can
prove that an install used (or did not use) the network. Optional HTTP basic auth lets tests
check that credentials in index URLs work and are redacted from output.
"""

from __future__ import annotations

import base64
import hmac
import html
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

from tests.support.wheels import file_sha256, normalize_project

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Credentials:
    """Basic-auth user name and password an index demands."""

    username: str
    password: str

    def header(self) -> str:
        """The ``Authorization`` header value these credentials produce."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


@dataclass(frozen=True)
class Request:
    """One request the index received: method, path (no query), status and Range header."""

    method: str
    path: str
    status: int
    range: str | None


def _scan(folder: Path) -> tuple[dict[str, list[str]], dict[str, tuple[Path, str]]]:
    """Projects -> file names, and file name -> (path, hex sha256), for wheels in ``folder``."""
    projects: dict[str, list[str]] = {}
    files: dict[str, tuple[Path, str]] = {}
    for path in sorted(folder.glob("*.whl")):
        projects.setdefault(normalize_project(path.name.split("-", 1)[0]), []).append(path.name)
        files[path.name] = (path, file_sha256(path))
    return projects, files


def _page(title: str, links: list[tuple[str, str]]) -> bytes:
    anchors = "\n".join(
        f'<a href="{html.escape(href)}">{html.escape(text)}</a><br/>' for href, text in links
    )
    return (
        "<!DOCTYPE html>\n<html><head>"
        '<meta name="pypi:repository-version" content="1.0">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{anchors}\n</body></html>\n"
    ).encode()


class IndexServer:
    """A running (after ``start()``) simple index for the wheels in ``folder``.

    The folder is scanned at start; use as a context manager or call ``start()``/``stop()``.
    """

    def __init__(self, folder: Path, credentials: Credentials | None = None) -> None:
        self.folder = folder
        self.credentials = credentials
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._projects: dict[str, list[str]] = {}
        self._files: dict[str, tuple[Path, str]] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> IndexServer:
        """Scan the folder, bind an ephemeral port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._projects, self._files = _scan(self.folder)
        server = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        server.daemon_threads = True  # a client holding a connection must not block stop()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"index-server-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (the server must be running)."""
        if self._server is None:
            raise RuntimeError("index server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a path."""
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The index URL to pass as ``--index-url``: ``http://127.0.0.1:PORT/simple``."""
        return f"{self.base_url}/simple"

    @property
    def url_with_credentials(self) -> str:
        """``url`` with ``user:password@`` embedded (same as ``url`` without credentials)."""
        if self.credentials is None:
            return self.url
        user = quote(self.credentials.username, safe="")
        password = quote(self.credentials.password, safe="")
        return f"http://{user}:{password}@{HOST}:{self.port}/simple"

    # -- request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Every request path so far (including refused ones), in arrival order."""
        return [entry.path for entry in self.log]

    @property
    def log(self) -> list[Request]:
        """A copy of every request so far, with method, status and Range header."""
        with self._lock:
            return list(self._log)

    def file_requests(self) -> list[str]:
        """File names downloaded (or attempted) via ``/files/``, in order."""
        return [
            path.removeprefix("/files/") for path in self.requests if path.startswith("/files/")
        ]

    def downloaded(self) -> set[str]:
        """File names served successfully by a GET (uv may fetch a wheel more than once)."""
        return {
            entry.path.removeprefix("/files/")
            for entry in self.log
            if entry.method == "GET"
            and entry.status == HTTPStatus.OK
            and entry.path.startswith("/files/")
        }

    def clear_log(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._log.clear()

    def _record(self, entry: Request) -> None:
        with self._lock:
            self._log.append(entry)

    # -- routing (called from handler threads) -------------------------------------------

    def _authorized(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        # compare_digest: constant time, good habit even in a test server
        return header is not None and hmac.compare_digest(header, self.credentials.header())

    def _route(self, path: str) -> tuple[HTTPStatus, str, bytes | Path]:
        """Status, content type and body (bytes, or a file to stream) for a request path."""
        parts = [unquote(p) for p in path.split("/") if p]
        if parts == ["simple"]:
            links = [(f"/simple/{name}/", name) for name in self._projects]
            return HTTPStatus.OK, "text/html", _page("Simple index", links)
        if len(parts) == 2 and parts[0] == "simple":
            names = self._projects.get(normalize_project(parts[1]))
            if names is not None:
                links = [(f"/files/{n}#sha256={self._files[n][1]}", n) for n in names]
                return HTTPStatus.OK, "text/html", _page(f"Links for {parts[1]}", links)
        if len(parts) == 2 and parts[0] == "files" and parts[1] in self._files:
            return HTTPStatus.OK, "application/octet-stream", self._files[parts[1]][0]
        return HTTPStatus.NOT_FOUND, "text/plain", b"not found\n"


def _cache_headers(path: str, status: HTTPStatus) -> dict[str, str]:
    """PyPI's caching: files are immutable, pages stay fresh for ten minutes.

    Without these headers installers revalidate (re-download) cached wheels every time.
    """
    if status != HTTPStatus.OK:
        return {}
    if path.startswith("/files/"):
        return {"Cache-Control": "max-age=365000000, immutable, public"}
    return {"Cache-Control": "max-age=600, public"}


def _handler_for(index: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ptest-test-index/1.0"

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def _serve(self, send_body: bool) -> None:
            path = urlsplit(self.path).path
            entry = Request(self.command, path, 0, self.headers.get("Range"))
            if not index._authorized(self.headers.get("Authorization")):
                index._record(replace(entry, status=int(HTTPStatus.UNAUTHORIZED)))
                self._reply(
                    HTTPStatus.UNAUTHORIZED,
                    "text/plain",
                    b"unauthorized\n",
                    send_body,
                    {"WWW-Authenticate": 'Basic realm="ptest-test-index"'},
                )
                return
            status, ctype, body = index._route(path)
            index._record(replace(entry, status=int(status)))
            data = body.read_bytes() if isinstance(body, Path) else body
            self._reply(status, ctype, data, send_body, _cache_headers(path, status))

        def _reply(
            self,
            status: HTTPStatus,
            ctype: str,
            data: bytes,
            send_body: bool,
            extra: dict[str, str],
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            if send_body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request log replaces stderr chatter

    return Handler


@contextmanager
def serve_index(folder: Path, credentials: Credentials | None = None) -> Iterator[IndexServer]:
    """Run an ``IndexServer`` on ``folder`` for the duration of a ``with`` block."""
    with IndexServer(folder, credentials) as server:
        yield server


def dead_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused).

    Binds an ephemeral port and closes it at once; the kernel rarely reuses it soon.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def dead_index_url() -> str:
    """An index URL on 127.0.0.1 whose connection is refused (unreachable-index tests)."""
    return f"http://{HOST}:{dead_port()}/simple"
