"""Fixtures for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.session import Session
from tests.conftest import need
from tests.integration.docker_support import docker_reason, engine_of, remove_everything


@pytest.fixture
def dsession(workspace: Path) -> Iterator[Session]:
    """A Session whose docker engine works, cleaned of every labelled resource afterwards."""
    session = Session.open(workspace=workspace, environ={})
    try:
        need("docker", docker_reason(engine_of(session)))
        yield session
    finally:
        if engine_of(session).unavailable_reason() is None:
            remove_everything(session)
        session.close()
