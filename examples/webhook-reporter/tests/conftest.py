"""Fixtures: a real HTTP server on 127.0.0.1 that records what it is sent, and a
ptest-tui workspace that loads this plugin by path from the source tree."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ptest_webhook_reporter"


@dataclass
class Hook:
    """The webhook server: its URL, the requests it got, the status it answers."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    got: threading.Event = field(default_factory=threading.Event)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "body": body.decode(),
            })
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")
            state.got.set()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T0/SECRET"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def write_workspace(root: Path, webhook: str, plugin_path: Path = PACKAGE) -> Path:
    """A workspace with one suite (a passing and a failing command case in a basic env)
    that loads the plugin from ``plugin_path`` and posts to ``webhook``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ptest.toml").write_text(textwrap.dedent(f"""\
        [workspace]
        name = "hooked"

        [plugins]
        paths = ["{plugin_path}"]

        [plugins.webhook]
        {webhook}

        [envs.scratch]
        isolation = "basic"

        [suites.smoke]
        envs = ["scratch"]

        [[suites.smoke.cases]]
        name = "good"
        kind = "command"
        command = "true"

        [[suites.smoke.cases]]
        name = "bad"
        kind = "command"
        command = "sh -c 'echo password=hunter2; exit 3'"
        """))
    return root


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Entry-point cache and state of this test only; no URL from the caller's shell.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PTEST_WEBHOOK_URL", raising=False)
