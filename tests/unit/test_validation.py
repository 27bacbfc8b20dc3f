"""Names, memory sizes, CPU counts and process limits."""

from __future__ import annotations

import os

import pytest

from ptest_tui.errors import UsageError
from ptest_tui.validation import (
    format_memory,
    parse_cpus,
    parse_memory,
    parse_pids,
    validate_name,
)


@pytest.mark.parametrize("name", ["a", "unit", "py3.11", "web_app-2", "A" * 64, "0abc"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("a/b", "invalid"),
        ("a\\b", "invalid"),
        ("..", "invalid"),
        ("-x", "invalid"),
        ("has space", "invalid"),
        ("A" * 65, "65 characters"),
    ],
)
def test_invalid_names(name: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_name(name)
    assert fragment in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512m", 512 * 1024**2),
        ("512M", 512 * 1024**2),
        ("1g", 1024**3),
        ("1.5g", int(1.5 * 1024**3)),
        ("256MiB", 256 * 1024**2),
        ("10mb", 10 * 1024**2),
        ("8388608", 8388608),
        (16 * 1024**2, 16 * 1024**2),
    ],
)
def test_parse_memory(text: str | int, expected: int) -> None:
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["lots", "", "12q", "-5m", "1k"])
def test_parse_memory_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_memory(text)


def test_format_memory_round_trips() -> None:
    for text in ("512m", "1g", "7k"):
        value = parse_memory(text) if text != "7k" else 7 * 1024
        assert format_memory(value) == text


def test_parse_cpus_bounds() -> None:
    assert parse_cpus("1.5") == 1.5 or (os.cpu_count() or 1) < 1.5
    assert parse_cpus(0.5) == 0.5
    for bad in ("0", "-1", "many", str((os.cpu_count() or 1) + 1)):
        with pytest.raises(UsageError):
            parse_cpus(bad)


def test_parse_pids() -> None:
    assert parse_pids("256") == 256
    for bad in ("0", "x", "-3"):
        with pytest.raises(UsageError):
            parse_pids(bad)
