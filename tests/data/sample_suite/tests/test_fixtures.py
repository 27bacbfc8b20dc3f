"""Fixtures from conftest and a plugin, and errors in setup and teardown."""

import logging


def test_uses_conftest_fixture(greeting: str) -> None:
    assert greeting == "hello"


def test_uses_plugin_fixture(plugin_value: int) -> None:
    assert plugin_value == 42


def test_setup_error(broken_setup: None) -> None:
    raise AssertionError("never runs")


def test_teardown_error_after_pass(broken_teardown: None) -> None:
    assert True


def test_teardown_error_after_failure(broken_teardown: None) -> None:
    raise AssertionError("fails, then its teardown fails too")


def test_logs_and_fails() -> None:
    logging.getLogger("sample").warning("a warning from the test")
    raise AssertionError("failed after logging")
