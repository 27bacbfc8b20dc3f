"""One test of each outcome pytest counts."""

import sys

import pytest


def test_passes() -> None:
    assert 1 + 1 == 2


def test_fails() -> None:
    assert [1, 2] == [1, 3], "lists differ"


@pytest.mark.skip(reason="skipped by marker")
def test_skipped_by_marker() -> None:
    raise AssertionError("never runs")


@pytest.mark.skipif(sys.version_info > (3,), reason="skipped on Python 3")
def test_skipped_by_condition() -> None:
    raise AssertionError("never runs")


def test_skips_itself() -> None:
    pytest.skip("skipped from inside")


@pytest.mark.xfail(reason="known bug")
def test_expected_failure() -> None:
    raise ValueError("still broken")


@pytest.mark.xfail(reason="was broken once")
def test_unexpected_pass() -> None:
    assert True


@pytest.mark.xfail(reason="strict: a pass is a failure", strict=True)
def test_strict_unexpected_pass() -> None:
    assert True


def test_xfails_itself() -> None:
    pytest.xfail("marked xfail from inside")


def test_prints_and_passes() -> None:
    print("some output on stdout")
    print("some output on stderr", file=sys.stderr)


def test_prints_and_fails() -> None:
    print("output before the failure")
    raise AssertionError("failed after printing")


@pytest.mark.smoke
def test_with_custom_marker() -> None:
    assert True
