"""A local pytest plugin of the sample suite, loaded with ``-p helperpkg.plugin``."""

import pytest


@pytest.fixture
def plugin_value() -> int:
    """A value only this plugin provides."""
    return 42
