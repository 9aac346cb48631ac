"""Exercise set 4 (lessons 6 and 6b): each right answer passes, typical wrong answers get the right message.

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
              kernel: int = 1, window: int = 3, relu: str = "conv", stride_on: str = "first") -> Callable[..., Any]:
    def residual_block(x: Any, filters: int, strides: int = 1) -> Any:
        first, second = (strides, 1) if stride_on == "first" else (1, strides)
        y1 = layers.Conv2D(filters, window, strides=first, padding="same",
                           activation="relu" if relu == "conv" else None, name="conv_a")(x)
        if relu == "layer":
            y1 = layers.ReLU(name="relu_a")(y1)
        y = layers.Conv2D(filters, window, strides=second, padding="same", name="conv_b")(y1) if main_convs == 2 else y1
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
    assert _passes("ex4.1", _residual(relu="layer"))  # relu as a layer of its own after the convolution


def test_ex4_1_a_main_path_that_is_not_the_tasks() -> None:
    """Issue 15 class 8: these blocks pass every shape check (and are residual), but not with the task's main path."""
    _fails("ex4.1", _residual(main_convs=1), "your main path has 1 convolution ('conv_a')",
           "two 3×3 convolutions, the first with the block's strides and relu")
    _fails("ex4.1", _residual(window=5), "'conv_a' has a 5×5 window",
           "both convolutions of the task's main path are 3×3")
    _fails("ex4.1", _residual(relu="none"), "'conv_a' has no relu after it", "one linear map")
    _fails("ex4.1", _residual(stride_on="second"), "filters=64 and strides=2", "'conv_a' has strides 1",
           "'conv_b' strides 2", "to the first convolution and 1 to the second")


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
               branches: int = 4, pool: Any = None, pool_window: int = 3,
               b_stride_first: bool = False) -> Callable[[Any], Any]:
    pool_padding = pool_padding or padding
    pool = pool or layers.AveragePooling2D

    def inception_block(x: Any) -> Any:
        ca, cb, cc, cd = channels
        b_first, b_second = (strides, 1) if b_stride_first else (1, strides)
        a = layers.Conv2D(ca, 1, strides=strides, padding=padding, activation="relu", name="branch_a")(x)
        b = layers.Conv2D(cb, 1, strides=b_first, padding=padding, activation="relu", name="branch_b_1x1")(x)
        b = layers.Conv2D(cb, window, strides=b_second, padding=padding, activation="relu", name="branch_b_3x3")(b)
        c = pool(pool_window, strides=strides, padding=pool_padding, name="branch_c_pool")(x)
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
    assert "data:image/svg+xml;base64," in result._repr_mimebundle_()["text/html"]  # the branches so far are drawn
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


def test_ex4_2_fixes_that_keep_shapes_and_parameters_but_change_the_block() -> None:
    """Issue 15 class 8: the shapes and the parameter count cannot see these; the branch check can."""
    _fails("ex4.2", _inception(pool=layers.MaxPooling2D), "has MaxPooling2D 'branch_c_pool'",
           "3×3 average pooling, stride 2", "a max pooling keeps other values", "the fix is in the padding only")
    _fails("ex4.2", _inception(pool_window=2), "'branch_c_pool' has a 2×2 window", "that layer's window is 3×3")
    _fails("ex4.2", _inception(b_stride_first=True), "'branch_b_1x1' has stride 2",
           "task's branch b (1×1 convolution, 32 filters, then 3×3 convolution, 32 filters, stride 2) has stride 1")


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
def _bottleneck(squeeze: int = 32, expand: int = 128, skip: str = "identity", plain: bool = False,
                activations: tuple[str | None, str | None, str | None] = ("relu", "relu", None)) -> keras.Model:
    feature_map = keras.Input((8, 8, 128), name="feature_map")
    if plain:
        y = layers.Conv2D(128, 3, padding="same", activation="relu", name="plain_3x3")(feature_map)
    else:
        y = layers.Conv2D(squeeze, 1, activation=activations[0], name="squeeze")(feature_map)
        y = layers.Conv2D(squeeze, 3, padding="same", activation=activations[1], name="conv_3x3")(y)
        y = layers.Conv2D(expand, 1, activation=activations[2], name="expand")(y)
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


def test_ex4_4_the_right_count_without_the_tasks_activations() -> None:
    """Issue 15 class 8: 17,600 parameters with any activations; the task's block has relu, relu, linear."""
    _fails("ex4.4", _bottleneck(activations=(None, None, None)), "'squeeze' has no relu after it",
           "one linear map")
    _fails("ex4.4", _bottleneck(activations=("relu", None, None)), "'conv_3x3' has no relu after it")
    _fails("ex4.4", _bottleneck(activations=("relu", "relu", "relu")), "'expand' ends in relu",
           "only add non-negative values", "linear (no activation)")
    _fails("ex4.4", _bottleneck(activations=("relu", "relu", "sigmoid")), "'expand' has activation 'sigmoid'")


# -- ex4.5: design a photo classifier with a residual connection and parallel branches --------------------------
def _design(residual: str = "identity", branches: str = "parallel", pooled: bool = True) -> keras.Model:
    photo = keras.Input((32, 32, 3), name="photo")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(photo)
    y = layers.Conv2D(16, 3, padding="same", activation="relu", name="res_1")(x)
    y = layers.Conv2D(16, 3, padding="same", name="res_2")(y)
    if residual == "identity":
        x = layers.add([x, y], name="skip")
    elif residual == "projection":
        x = layers.add([layers.Conv2D(16, 1, name="proj")(photo), y], name="skip")
    elif residual == "two_paths":
        x = layers.add([layers.Conv2D(16, 3, padding="same", name="side")(x), y], name="skip")
    else:
        x = y
    a = layers.Conv2D(8, 1, strides=2, padding="same", activation="relu", name="branch_1x1")(x)
    if branches == "parallel":
        b = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="branch_3x3")(x)
    else:  # a second stage after the first: not a branch beside it
        b = layers.Conv2D(8, 3, padding="same", activation="relu", name="branch_3x3")(a)
    x = layers.concatenate([a, b], name="branches")
    if pooled:
        x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(photo, layers.Dense(10, name="scores")(x), name="design")


def test_ex4_5_right_answers_pass() -> None:
    result = _passes("ex4.5", _design())
    verified = "\n".join(result.verified)
    assert "'skip' adds the main path 'res_2' and the shortcut 'stem'" in verified
    assert "'branches' concatenates 'branch_1x1', 'branch_3x3'" in verified
    assert _passes("ex4.5", _design(residual="projection"))  # a 1×1 projection shortcut is residual too
    assert _passes("ex4.5", _design)  # a function that builds the model is fine too


def test_ex4_5_no_residual_connection() -> None:
    _fails("ex4.5", _design(residual="none"), "has no residual connection", "x + f(x), lesson 6")
    _fails("ex4.5", _design(residual="two_paths"), "'skip' adds 'side' and 'res_2'", "nothing skips them")


def test_ex4_5_a_concatenate_of_stages_is_not_parallel_branches() -> None:
    _fails("ex4.5", _design(branches="stages"), "'branches' joins 'branch_1x1', 'branch_3x3'",
           "not parallel branches", "as an Inception module does")


def test_ex4_5_scores_per_pixel() -> None:
    _fails("ex4.5", _design(pooled=False), "has shape (None, 16, 16, 10)", "flatten or pool")


# -- ex4.6: Keras 1's merge(mode='cos') in Keras 3 ---------------------------------------------------------------
def _cosine_model(merge: str = "cos", shared: bool = True) -> keras.Model:
    query = keras.Input((16,), name="query")
    document = keras.Input((16,), name="document")
    projection = layers.Dense(8, activation="tanh", name="shared_projection")
    q = projection(query)
    d = projection(document) if shared else layers.Dense(8, activation="tanh", name="second_projection")(document)
    if merge == "cos":
        out = layers.Dot(axes=-1, normalize=True, name="similarity")([q, d])
    elif merge == "dot":  # Keras 1's mode='dot'
        out = layers.Dot(axes=1, name="similarity")([q, d])
    elif merge == "raw":  # the cosine, but of the inputs: the projection is dropped
        out = layers.Dot(axes=-1, normalize=True, name="similarity")([query, document])
    else:  # the loss function: the negative cosine, one value per pair without the last axis
        out = layers.Lambda(lambda t: keras.losses.cosine_similarity(t[0], t[1]), name="similarity")([q, d])
        if merge == "loss_keepdims":
            out = layers.Reshape((1,), name="one_column")(out)
    return keras.Model([query, document], out, name="cosine_model")


def test_ex4_6_right_answers_pass() -> None:
    result = _passes("ex4.6", _cosine_model())
    assert "the output is the cosine of the two projections" in "\n".join(result.verified)
    assert _passes("ex4.6", _cosine_model)  # a function that builds the model is fine too


def test_ex4_6_the_dot_product_is_not_the_cosine() -> None:
    _fails("ex4.6", _cosine_model("dot"), "plain dot product of the two projections", "divides the dot product by "
           "both lengths", "normalize")


def test_ex4_6_the_cosine_loss_and_the_raw_inputs() -> None:
    _fails("ex4.6", _cosine_model("loss"), "returns shape (5,)", "one number per pair, shape (5, 1)")
    _fails("ex4.6", _cosine_model("loss_keepdims"), "minus the cosine", "a loss, made to be minimised")
    _fails("ex4.6", _cosine_model("raw"), "no Dense layer on the way to its output", "not the raw inputs")


def test_ex4_6_two_projections_instead_of_one() -> None:
    _fails("ex4.6", _cosine_model(shared=False), "The projection should be shared",
           "'shared_projection', 'second_projection'")


@pytest.mark.parametrize("exercise_id", ["ex4.1", "ex4.2", "ex4.3", "ex4.4", "ex4.5", "ex4.6"])
def test_ex4_has_two_or_three_hints_and_the_placeholder_is_not_answered(exercise_id: str) -> None:
    assert 2 <= len(registry()[exercise_id].hints) <= 3
    result = lab.check(exercise_id, ...)
    assert not result and not result.answered
