"""The numbers of the loss-weight lab, apart from its widgets: what a typed weight is, where its slider sits.

The rule: the weight a person types is the weight training uses, exactly. The slider only moves on a log scale
between ``SLIDER_MIN`` and ``SLIDER_MAX``; a weight it proposes is rounded for people (two significant digits),
and a typed weight outside its range (0, 1e9) is kept as typed, with the slider resting at its end.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._i18n import _

__all__ = ["SLIDER_MAX", "SLIDER_MIN", "check_weight", "for_people", "slider_position"]

SLIDER_MIN_EXPONENT, SLIDER_MAX_EXPONENT = -2, 2
SLIDER_MIN, SLIDER_MAX = 10.0 ** SLIDER_MIN_EXPONENT, 10.0 ** SLIDER_MAX_EXPONENT


def check_weight(name: str, value: Any) -> float:
    """A loss weight as a float, or a ValueError that says what a weight may be."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(_("the weight of {name!r} must be a number >= 0, not {value!r}").format(name=name,
                                                                                               value=value))
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(_("the weight of {name!r} must be a finite number >= 0, not {value}").format(name=name,
                                                                                                   value=value))
    return value


def for_people(value: float) -> float:
    """A weight the slider proposes, rounded to two significant digits: 0.0501187 -> 0.05, 1.2589 -> 1.3."""
    if value <= 0 or not math.isfinite(value):
        return 0.0 if value <= 0 else value
    return float(f"{value:.2g}")


def slider_position(weight: float) -> float:
    """Where the log slider rests for a weight: the weight itself inside its range, else the nearer end."""
    return min(max(weight, SLIDER_MIN), SLIDER_MAX)
