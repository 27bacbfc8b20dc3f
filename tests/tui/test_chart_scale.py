"""The chart's numbers: short sizes, values, durations and round scale tops."""

from __future__ import annotations

import pytest

from ptest_tui.tui.widgets.chart_scale import (
    format_value,
    nice_ceiling,
    scale_label,
    short_duration,
    short_size,
)

GIB = 1024**3


@pytest.mark.parametrize(("value", "text"), [
    (730, "730B"), (9.5 * 1024**2, "9.5M"), (600 * 1024**2, "600M"), (1.2 * GIB, "1.2G"),
    (2048 * GIB, "2.0T"),
])
def test_sizes_fit_in_five_cells(value: float, text: str) -> None:
    assert short_size(value) == text
    assert len(text) <= 5


def test_values_and_scale_labels_carry_their_unit() -> None:
    assert format_value(97.4, "percent") == "97%"
    assert format_value(4.5, "percent") == "4.5%"
    assert format_value(300 * 1024, "rate") == "300K/s"
    assert scale_label(0, "bytes") == "0" and scale_label(90, "percent") == "90%"


def test_durations_are_short() -> None:
    assert [short_duration(s) for s in (45, 600, 5400)] == ["45s", "10m", "1.5h"]


def test_scale_tops_are_round_and_never_below_the_value() -> None:
    assert nice_ceiling(97) == 100
    assert nice_ceiling(0) == 1.0
    assert nice_ceiling(130) == 150
    assert nice_ceiling(1.1 * GIB, binary=True) == 1.2 * GIB
    for value in (0.3, 7, 42, 999, 1001, 123_456):
        assert nice_ceiling(value) >= value
