"""Exercise set 4 (lesson 6): each right answer passes, typical wrong answers get the right message.

The answers are built here, independently of the solution notebook. Every message is also checked for code: a
wrong answer is told what is wrong and what to do, never shown the layer calls of a solution.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import keras
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab._exercises import CheckResult, registry
from tests.exercise_checks import fails, passes

CODE = re.compile(r"layers\.\w+\(|Conv2D\(|Dense\(|AveragePooling2D\(|keras\.Model\(|\badd\(|concatenate\(|\)\(\w+\)")


def _fails(exercise_id: str, answer: Any, *words: str) -> CheckResult:
    return fails(exercise_id, answer, words, CODE)


_passes = passes


# -- ex4.1: residual_block(x, filters, strides=1) -----------------------------------------------------------------
def _residual(shortcut: str = "when_shapes_differ", merge: str = "add", main_convs: int = 2,
              kernel: int = 1) -> Callable[..., Any]:
    def residual_block(x: Any, filters: int, strides: int = 1) -> Any:
        y1 = layers.Conv2D(filters, 3, strides=strides, padding="same", activation="relu", name="conv_a")(x)
        y = layers.Conv2D(filters, 3, padding="same", name="conv_b")(y1) if main_convs == 2 else y1
        if shortcut == "never":
            s = x
        elif shortcut == "when_channels_differ":
            s = x if x.shape[-1] == filters else layers.Conv2D(filters, 1, strides=strides, name="proj")(x)
        elif shortcut == "always":
            s = layers.Conv2D(filters, kernel, strides=strides, padding="same", name="proj")(x)
        elif shortcut == "main_path":
            s = y1
        else:
            s = x if tuple(x.shape) == tuple(y.shape) else \
                layers.Conv2D(filters, kernel, strides=strides, padding="same", name="proj")(x)
        if merge == "concatenate":
            return layers.concatenate([y, s], name="join")
        if merge == "none":
            return y
        if merge == "plus":
            return y + s
        return layers.add([y, s], name="res_add")

    return residual_block


def test_ex4_1_right_answers_pass() -> None:
    result = _passes("ex4.1", _residual())
    verified = "\n".join(result.verified)
    assert "(None, 16, 16, 32) with filters=32: identity shortcut" in verified
    assert "filters=64 and strides=2: 1×1 projection shortcut" in verified and "output (None, 8, 8, 64)" in verified
    assert "(None, 15, 15, 32) with filters=32 and strides=2: 1×1 projection shortcut" in verified
    assert _passes("ex4.1", _residual(merge="plus"))  # x + y is an add too
    assert _passes("ex4.1", _residual(main_convs=1))  # one convolution is still a residual block


def test_ex4_1_add_without_projection_is_explained() -> None:
    result = _fails("ex4.1", _residual(shortcut="never"), "(None, 16, 16, 16) with filters=32",
                    "add raised", "(16, 16, 32) and (16, 16, 16)", "changes the channels of x",
                    "1×1 convolution (32 filters")
    assert result.problems[0].keys == ("conv_b",)  # the main path, drawn up to the failing add
    assert result.graph is not None and "conv_b" in result.graph.keys


def test_ex4_1_projecting_only_when_the_channels_differ_misses_the_strided_case() -> None:
    _fails("ex4.1", _residual(shortcut="when_channels_differ"), "(None, 15, 15, 32) with filters=32 and strides=2",
           "(8, 8, 32) and (15, 15, 32)", "height and width")


def test_ex4_1_no_add_or_a_concatenate_is_not_a_residual_connection() -> None:
    _fails("ex4.1", _residual(merge="none"), "has no add", "adds the block's input")
    _fails("ex4.1", _residual(merge="concatenate"), "concatenate ('join')", "A residual connection adds them")


def test_ex4_1_adding_two_main_path_tensors_is_told_nothing_skips() -> None:
    result = _fails("ex4.1", _residual(shortcut="main_path"), "'res_add' adds 'conv_b' and 'conv_a'",
                    "nothing skips", "block's input 'x' itself")
    assert "res_add" in result.problems[0].keys


def test_ex4_1_shortcut_projections_identity_when_shapes_agree_and_1x1_only() -> None:
    _fails("ex4.1", _residual(shortcut="always"), "should be x itself", "through 'proj' (1,056 parameters)")
    _fails("ex4.1", _residual(kernel=3), "'proj' has a 3×3 window", "a 1×1 convolution")


def test_ex4_1_answers_that_are_not_the_task_function() -> None:
    def no_strides(x: Any, filters: int) -> Any:
        return _residual()(x, filters)

    def returns_nothing(x: Any, filters: int, strides: int = 1) -> None:
        ...

    def returns_a_model(x: Any, filters: int, strides: int = 1) -> keras.Model:
        return keras.Model(x, _residual()(x, filters, strides))

    def new_input(x: Any, filters: int, strides: int = 1) -> Any:
        return _residual()(keras.Input(tuple(x.shape[1:])), filters, strides)

    _fails("ex4.1", no_strides, "unexpected keyword argument 'strides'", "residual_block(x, filters, strides=1)")
    _fails("ex4.1", returns_nothing, "returned None", "output tensor")
    _fails("ex4.1", returns_a_model, "returned a model", "output tensor")
    _fails("ex4.1", new_input, "not computed from the x it was given")
    tensor = _residual()(keras.Input((16, 16, 32)), 32)
    _fails("ex4.1", tensor, "Pass the function itself")


# -- ex4.2: inception_block(x) ------------------------------------------------------------------------------------
def _inception(padding: str = "same", pool_padding: str | None = None, strides: int = 2, merge: str = "concatenate",
               channels: tuple[int, int, int, int] = (16, 32, 16, 32), window: int = 3,
               branches: int = 4) -> Callable[[Any], Any]:
    pool_padding = pool_padding or padding

    def inception_block(x: Any) -> Any:
        ca, cb, cc, cd = channels
        a = layers.Conv2D(ca, 1, strides=strides, padding=padding, activation="relu", name="branch_a")(x)
        b = layers.Conv2D(cb, 1, padding=padding, activation="relu", name="branch_b_1x1")(x)
        b = layers.Conv2D(cb, window, strides=strides, padding=padding, activation="relu", name="branch_b_3x3")(b)
        c = layers.AveragePooling2D(3, strides=strides, padding=pool_padding, name="branch_c_pool")(x)
        c = layers.Conv2D(cc, window, padding=padding, activation="relu", name="branch_c_3x3")(c)
        d = layers.Conv2D(cd, 1, padding=padding, activation="relu", name="branch_d_1x1")(x)
        d = layers.Conv2D(cd, window, padding=padding, activation="relu", name="branch_d_3x3_1")(d)
        d = layers.Conv2D(cd, window, strides=strides, padding=padding, activation="relu", name="branch_d_3x3_2")(d)
        joined = [a, b, c, d][:branches]
        if merge == "add":
            return layers.add(joined, name="inception_output")
        return layers.concatenate(joined, name="inception_output")

    return inception_block


def test_ex4_2_right_answer_passes() -> None:
    result = _passes("ex4.2", _inception())
    assert "concatenated to (None, 16, 16, 96)" in result.verified[0]
    assert "output (None, 8, 8, 96)" in result.verified[1]


def test_ex4_2_the_starter_code_is_explained_branch_by_branch() -> None:
    result = _fails("ex4.2", _inception(padding="valid"), "x of shape (None, 32, 32, 64)", "concatenate raised",
                    "'branch_a' (None, 16, 16, 16)", "'branch_b_3x3' (None, 15, 15, 32)",
                    "'branch_c_3x3' (None, 13, 13, 16)", "same height and width", "padding='same'")
    assert set(result.problems[0].keys) == {"branch_a", "branch_b_3x3", "branch_c_3x3", "branch_d_3x3_2"}
    assert "<svg" in result._repr_mimebundle_()["text/html"]  # the branches built so far are drawn
    # fixing the convolutions but not the pooling leaves one branch out of line
    _fails("ex4.2", _inception(pool_padding="valid"), "'branch_c_3x3' (None, 15, 15, 16)")


def test_ex4_2_adding_the_branches_instead_of_concatenating() -> None:
    _fails("ex4.2", _inception(merge="add"), "adds the branches", "concatenates them along the channels",
           "16 + 32 + 16 + 32 = 96")
    _fails("ex4.2", _inception(merge="add", channels=(32, 32, 32, 32)), "Add 'inception_output'",
           "value by value", "96 channels")


def test_ex4_2_fixes_that_change_the_block() -> None:
    _fails("ex4.2", _inception(strides=1), "(None, 32, 32, 96)", "halves the height and width",
           "Keep each branch's stride-2")
    _fails("ex4.2", _inception(padding="valid", pool_padding="same", window=1), "parameters",
           "not in the window sizes")
    _fails("ex4.2", _inception(channels=(32, 32, 32, 32)), "32, 32, 32, 32 channels", "16, 32, 16, 32")
    _fails("ex4.2", _inception(branches=3), "joins 3 tensors", "four branches")


# -- ex4.3: merge_model -------------------------------------------------------------------------------------------
def _merge_model(summed: str = "project_b", order: str = "ab", kernel: int = 1,
                 names: tuple[str, str] = ("stacked", "summed")) -> keras.Model:
    a = keras.Input((8, 8, 32), name="a")
    b = keras.Input((8, 8, 16), name="b")
    stacked = layers.concatenate([a, b] if order == "ab" else [b, a], name=names[0])
    if summed == "project_b":
        out = layers.add([a, layers.Conv2D(32, kernel, padding="same", name="b_projection")(b)], name=names[1])
    elif summed == "dense":
        out = layers.add([a, layers.Dense(32, name="b_dense")(b)], name=names[1])
    elif summed == "squeeze_a":
        out = layers.add([layers.Conv2D(16, 1, name="a_squeeze")(a), b], name=names[1])
    else:
        out = layers.concatenate([a, b], name=names[1])
    return keras.Model([a, b], [stacked, out], name="merge_model")


def test_ex4_3_right_answers_pass() -> None:
    result = _passes("ex4.3", _merge_model())
    assert "by a 1×1 convolution, 'b_projection'" in result.verified[-1]
    assert "a Dense layer" in _passes("ex4.3", _merge_model(summed="dense")).verified[-1]
    assert _passes("ex4.3", _merge_model)  # a function that builds the model is fine too


def test_ex4_3_concatenate_where_an_add_is_asked_and_the_reverse_order() -> None:
    _fails("ex4.3", _merge_model(summed="concatenate"), "Output 'summed' is made by a concatenate",
           "(None, 8, 8, 48)", "brought to a's 32 channels")
    _fails("ex4.3", _merge_model(order="ba"), "puts b's channels first", "a's 32 channels, then b's 16")


def test_ex4_3_adding_without_projection_and_projecting_the_wrong_way() -> None:
    def plain_add() -> keras.Model:
        a = keras.Input((8, 8, 32), name="a")
        b = keras.Input((8, 8, 16), name="b")
        return keras.Model([a, b], [layers.concatenate([a, b], name="stacked"), layers.add([a, b], name="summed")])

    _fails("ex4.3", plain_add, "an add got (8, 8, 32) and (8, 8, 16)", "1×1 convolution")
    _fails("ex4.3", _merge_model(summed="squeeze_a"), "has 16 channels", "rather than squeezing a down")
    _fails("ex4.3", _merge_model(kernel=3), "'b_projection', a 3×3 convolution", "1×1 convolution")


def test_ex4_3_unnamed_outputs_are_told_their_names() -> None:
    result = _fails("ex4.3", _merge_model(names=("concatenate_x", "add_x")), "No output is called 'stacked'",
                    "name='stacked'")
    assert "name='summed'" in result.messages[1]


# -- ex4.4: bottleneck_model --------------------------------------------------------------------------------------
def _bottleneck(squeeze: int = 32, expand: int = 128, skip: str = "identity", plain: bool = False) -> keras.Model:
    feature_map = keras.Input((8, 8, 128), name="feature_map")
    if plain:
        y = layers.Conv2D(128, 3, padding="same", activation="relu", name="plain_3x3")(feature_map)
    else:
        y = layers.Conv2D(squeeze, 1, activation="relu", name="squeeze")(feature_map)
        y = layers.Conv2D(squeeze, 3, padding="same", activation="relu", name="conv_3x3")(y)
        y = layers.Conv2D(expand, 1, name="expand")(y)
    if skip == "identity":
        y = layers.add([y, feature_map], name="skip")
    elif skip == "projection":
        y = layers.add([y, layers.Conv2D(128, 1, name="shortcut_1x1")(feature_map)], name="skip")
    return keras.Model(feature_map, y, name="bottleneck_model")


def test_ex4_4_right_answer_passes() -> None:
    result = _passes("ex4.4", _bottleneck())
    assert "17,600 parameters, against 147,584" in "\n".join(result.verified)


def test_ex4_4_the_plain_convolution_and_a_wider_squeeze() -> None:
    _fails("ex4.4", _bottleneck(plain=True), "'plain_3x3' reads 128 channels", "squeezes the 128 channels to 32")
    _fails("ex4.4", _bottleneck(squeeze=64), "'conv_3x3' reads 64 channels")


def test_ex4_4_no_skip_no_expansion_and_a_projected_skip() -> None:
    _fails("ex4.4", _bottleneck(skip="none"), "has no add", "feature_map back")
    _fails("ex4.4", _bottleneck(expand=32, skip="none"), "(None, 8, 8, 32)", "back to 128")
    _fails("ex4.4", _bottleneck(skip="projection"), "through 'shortcut_1x1'", "identity shortcut")


@pytest.mark.parametrize("exercise_id", ["ex4.1", "ex4.2", "ex4.3", "ex4.4"])
def test_ex4_has_two_or_three_hints_and_the_placeholder_is_not_answered(exercise_id: str) -> None:
    assert 2 <= len(registry()[exercise_id].hints) <= 3
    result = lab.check(exercise_id, ...)
    assert not result and not result.answered
