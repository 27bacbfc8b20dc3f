"""Parametrized tests, classes and unittest cases."""

import unittest

import pytest


@pytest.mark.parametrize("value", [1, 2, 3, 4])
def test_is_small(value: int) -> None:
    assert value < 4


@pytest.mark.parametrize(
    ("text", "expected"), [("a", "A"), ("b c", "B C")], ids=["single", "with space"]
)
def test_upper(text: str, expected: str) -> None:
    assert text.upper() == expected


class TestGroup:
    def test_inside_class(self) -> None:
        assert "x" in "xyz"

    def test_fails_inside_class(self) -> None:
        assert "q" in "xyz"

    @pytest.mark.parametrize("n", [0, 1])
    def test_parametrized_in_class(self, n: int) -> None:
        assert n >= 0


class OldStyle(unittest.TestCase):
    def test_equal(self) -> None:
        self.assertEqual(2, 2)

    @unittest.skip("unittest skip")
    def test_skipped(self) -> None:
        raise AssertionError("never runs")

    @unittest.expectedFailure
    def test_expected_failure(self) -> None:
        self.assertEqual(1, 2)
