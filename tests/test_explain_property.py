"""lab.explain over generated shape mistakes: Keras makes the error, the advice must fit the tensors.

For every pair of mismatched per-sample shapes (vectors, sequences, feature maps) and every element-wise merge or
concatenation axis, Keras raises its own error; the explanation must be recognised, never suggest a convolution
for vectors or sequences, and for Concatenate name exactly the axes where the shapes really differ.
"""

from __future__ import annotations

import keras
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
sizes = st.integers(1, 9)


@st.composite
def mismatched(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    rank = draw(st.integers(1, 3))
    a = tuple(draw(sizes) for _ in range(rank))
    b = tuple(draw(st.one_of(st.just(s), sizes)) for s in a)
    if all(x == y or 1 in (x, y) for x, y in zip(a, b, strict=True)):  # Keras broadcasts 1s: force a real clash
        b = (*b[:-1], a[-1] + 1 if a[-1] > 1 else 3)
        a = (*a[:-1], max(a[-1], 2))
    return a, b


@SETTINGS
@given(pair=mismatched(), merge=st.sampled_from([layers.Add, layers.Multiply, layers.Subtract, layers.Average,
                                                   layers.Maximum, layers.Minimum]))
def test_elementwise_merge_advice_fits_the_rank(pair, merge) -> None:
    a, b = pair
    try:
        merge()([keras.Input(a), keras.Input(b)])
    except ValueError as err:
        e = lab.explain(err)
    else:  # Keras accepted it (broadcasting): nothing to explain
        return
    assert e.recognised, str(e)
    if len(a) < 3:
        assert "Conv2D" not in e.fix and "1×1" not in e.fix, str(e)
    if len(a) == 1:
        assert f"Dense({a[0]})" in e.fix


@SETTINGS
@given(pair=mismatched(), axis=st.integers(-1, 3))
def test_concatenate_advice_names_the_axes_that_differ(pair, axis) -> None:
    a, b = pair
    rank = len(a) + 1
    if axis >= rank:
        axis = -1
    try:
        layers.Concatenate(axis=axis)([keras.Input(a), keras.Input(b)])
    except ValueError as err:
        e = lab.explain(err)
    else:
        return
    differ = [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    named = f"axes {', '.join(map(str, differ[:-1]))} and {differ[-1]}" if len(differ) > 1 else f"axis {differ[0]}"
    assert e.recognised and f"differ on {named} (" in e.why, str(e)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(message=st.text(max_size=300), kind=st.sampled_from([ValueError, TypeError, RuntimeError, KeyError,
                                                             AssertionError, Exception]))
def test_explain_never_raises_on_any_message(message, kind) -> None:
    e = lab.explain(kind(message))
    assert isinstance(str(e), str) and isinstance(e._repr_html_(), str)
