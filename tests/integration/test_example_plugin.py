"""The example plugin in examples/webhook-reporter: its own tests, and the package
installed into a fresh virtual environment, found through its entry point.

The venv is real (``python -m venv``); ptest-tui comes from this checkout through a .pth
file (so nothing is downloaded) and the example is built and installed with
``uv pip install --no-build-isolation --offline`` (pip when uv is missing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, write_workspace
from tests.integration.plugin_support import SUITE

EXAMPLE = REPO / "examples" / "webhook-reporter"


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTEST_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONDONTWRITEBYTECODE="1",
               NO_COLOR="1", **extra)
    return env


def test_the_example_plugins_own_tests_pass(tmp_path: Path) -> None:
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-p", "no:benchmark", "--basetemp", str(tmp_path / "t"), "tests"],
               EXAMPLE, clean_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh venv that sees ptest-tui from this checkout, with the example installed."""
    folder = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", str(folder)], tmp_path)
    assert made.returncode == 0, made.stderr
    python = folder / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    tmp_path).stdout.strip())
    # The checkout (ptest_tui) and this venv's packages (its dependencies, setuptools).
    (site / "ptest_checkout.pth").write_text(f"{REPO}\n{sysconfig.get_path('purelib')}\n")
    source = tmp_path / "webhook-reporter"  # a copy: building writes build/ and egg-info
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info", ".pytest_cache"))
    uv = Path(sys.executable).parent / "uv"
    if uv.is_file():
        argv = [str(uv), "pip", "install", "--python", str(python), "--no-deps",
                "--no-build-isolation", "--offline", str(source)]
    else:
        argv = [sys.executable, "-m", "pip", "install", "--python", str(python), "--no-deps",
                "--no-build-isolation", "--no-index", str(source)]
    installed = run(argv, tmp_path, clean_env(tmp_path))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on 127.0.0.1 recording the JSON bodies posted to it."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    server.shutdown()
    server.server_close()


def test_the_installed_example_is_found_through_its_entry_point(
    tmp_path: Path, venv: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = webhook
    root = write_workspace(tmp_path / "ws", SUITE)
    env = clean_env(tmp_path, PTEST_WEBHOOK_URL=url)
    ptest = [str(venv), "-m", "ptest_tui", "-w", str(root)]

    listed = run([*ptest, "plugins", "list", "--json", "--no-builtins"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["name"] == "webhook"
    assert (row["source"], row["distribution"], row["version"], row["state"]) == (
        "entry point", "ptest-webhook-reporter", "0.1.0", "ok"
    )
    assert row["registers"]["reporters"] == ["webhook-summary"]
    assert row["registers"]["commands"] == ["webhook"]
    assert row["registers"]["hooks"] == ["ptest_on_run_finished"]
    assert "/site-packages/ptest_webhook_reporter/__init__.py" in row["file"]

    ran = run([*ptest, "run", "smoke", "-q", "--report", "webhook-summary", "-o",
               str(tmp_path / "out")], tmp_path, env)
    assert ran.returncode == 1, ran.stdout + ran.stderr  # the suite has a failing case
    assert [b["counts"] for b in bodies] == [{"passed": 1, "failed": 1}]
    assert bodies[0]["failures"][0]["case"] == "bad"
    written = json.loads((tmp_path / "out" / "webhook-summary.json").read_text())
    assert written["run"]["id"] == bodies[0]["run"]["id"]

    sent = run([*ptest, "webhook", "send", "--url", url], tmp_path, env)
    assert sent.returncode == 0, sent.stderr
    assert len(bodies) == 2 and bodies[1]["run"]["id"] == bodies[0]["run"]["id"]
    helped = run([*ptest, "--help"], tmp_path, env)
    assert "webhook" in helped.stdout
