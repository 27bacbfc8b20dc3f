"""A module skipped as a whole while it is collected: pytest counts one skip."""

import pytest

pytest.skip("the whole module is skipped", allow_module_level=True)


def test_never_collected() -> None:
    raise AssertionError("never runs")
