"""The loss-weight lab's numbers: a typed weight is kept exactly, a slider proposes numbers people can read."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fapi_lab._loss_numbers import SLIDER_MAX, SLIDER_MIN, check_weight, for_people, slider_position

weights = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, derandomize=True)
@given(weights)
def test_a_typed_weight_is_kept_exactly(value: float) -> None:
    assert check_weight("w", value) == value


@settings(max_examples=300, derandomize=True)
@given(st.floats(min_value=-2, max_value=2))
def test_slider_values_are_rounded_to_two_significant_digits_and_stay_close(exponent: float) -> None:
    raw = 10.0 ** exponent
    shown = for_people(raw)
    assert len(f"{shown:.10g}".replace(".", "").replace("-", "").strip("0")) <= 2
    assert shown == pytest.approx(raw, rel=0.06)


@settings(max_examples=300, derandomize=True)
@given(weights)
def test_the_slider_rests_inside_its_range_and_never_changes_the_weight(value: float) -> None:
    position = slider_position(value)
    assert SLIDER_MIN <= position <= SLIDER_MAX
    if SLIDER_MIN <= value <= SLIDER_MAX:
        assert position == value


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan, "2", None, True])
def test_what_is_not_a_weight(bad) -> None:
    with pytest.raises(ValueError, match="the weight of 'w' must be"):
        check_weight("w", bad)
