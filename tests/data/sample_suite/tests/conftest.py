"""The sample suite's fixtures and its custom marker."""

from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smoke: a quick check (the sample suite's own marker)")


@pytest.fixture
def greeting() -> str:
    """A value from the suite's conftest."""
    return "hello"


@pytest.fixture
def broken_setup() -> None:
    """A fixture whose setup fails: the test is an error, not a failure."""
    raise RuntimeError("cannot set up")


@pytest.fixture
def broken_teardown() -> Iterator[None]:
    """A fixture whose teardown fails: an error on top of the test's own outcome."""
    yield
    raise RuntimeError("cannot tear down")
