"""Shared fixtures: a fresh workspace per test and requirement checks.

A test that needs Docker or a database server skips only when the machine lacks it and
``PTEST_REQUIRE`` (comma-separated: docker, db) does not name it; with it named, a missing
service fails the test so CI never silently skips.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.session import Session

REPO = Path(__file__).resolve().parents[1]


def required() -> set[str]:
    """Services named by PTEST_REQUIRE."""
    return {p.strip() for p in os.environ.get("PTEST_REQUIRE", "").split(",") if p.strip()}


def need(service: str, reason: str | None) -> None:
    """Skip (or fail, when PTEST_REQUIRE names ``service``) if ``reason`` is set."""
    if reason is None:
        return
    message = f"{service} unavailable: {reason}"
    if service in required():
        pytest.fail(message + " (PTEST_REQUIRE names it)")
    pytest.skip(message)


def write_workspace(root: Path, toml: str = "") -> Path:
    """Create a workspace folder with the given ptest.toml text."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ptest.toml").write_text(textwrap.dedent(toml) or "[workspace]\n")
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder with a minimal ptest.toml."""
    return write_workspace(tmp_path / "ws")


@pytest.fixture
def session(workspace: Path) -> Iterator[Session]:
    """A Session on the fresh workspace, closed afterwards."""
    s = Session.open(workspace=workspace, environ={})
    yield s
    s.close()

from tests.support.conftest_packages import *  # noqa: E402, F403 - shared fixtures
