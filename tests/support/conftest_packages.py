"""Pytest fixtures for package-manager tests; ``tests/conftest.py`` star-imports them.

The corpus is built once per session. The index servers run for the whole session too, but
``local_index``/``auth_index`` clear the request log before each test, so a test's
assertions about requests see only its own traffic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import isolated_env
from tests.support.index_server import Credentials, IndexServer
from tests.support.index_server import dead_index_url as _dead_url
from tests.support.wheels import Corpus, make_corpus

__all__ = [
    "auth_index",
    "auth_index_session",
    "dead_index_url",
    "find_links_dir",
    "installer_env",
    "local_index",
    "local_index_session",
    "wheel_corpus",
]

AUTH_USER = "ptest"
AUTH_PASSWORD = "s3cret-token"


@pytest.fixture(scope="session")
def wheel_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The test wheel corpus (see ``make_corpus``), built once per session. Do not modify."""
    return make_corpus(tmp_path_factory.mktemp("wheel-corpus"))


@pytest.fixture(scope="session")
def find_links_dir(wheel_corpus: Corpus) -> Path:
    """The corpus folder, for ``--find-links`` installs with ``--no-index``."""
    return wheel_corpus.root


@pytest.fixture(scope="session")
def local_index_session(wheel_corpus: Corpus) -> Iterator[IndexServer]:
    """The session's index server on the corpus (log shared across tests)."""
    with IndexServer(wheel_corpus.root) as server:
        yield server


@pytest.fixture
def local_index(local_index_session: IndexServer) -> IndexServer:
    """A running simple index on the corpus, its request log cleared for this test."""
    local_index_session.clear_log()
    return local_index_session


@pytest.fixture(scope="session")
def auth_index_session(wheel_corpus: Corpus) -> Iterator[IndexServer]:
    """The session's basic-auth index server (user ``ptest``, password ``s3cret-token``)."""
    with IndexServer(wheel_corpus.root, Credentials(AUTH_USER, AUTH_PASSWORD)) as server:
        yield server


@pytest.fixture
def auth_index(auth_index_session: IndexServer) -> IndexServer:
    """The basic-auth index (401 without credentials), its log cleared for this test."""
    auth_index_session.clear_log()
    return auth_index_session


@pytest.fixture
def dead_index_url() -> str:
    """An index URL on 127.0.0.1 whose connections are refused."""
    return _dead_url()


@pytest.fixture
def installer_env(tmp_path: Path) -> dict[str, str]:
    """Environment for uv/pip subprocesses: no user config, private caches under tmp_path."""
    return isolated_env(tmp_path / "installer-cache")
