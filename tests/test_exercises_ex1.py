"""Exercise set 1 (lessons 1, 1b and 2): each right answer passes, typical wrong answers get the right message.

Messages are also checked for code: a wrong answer is told what is wrong and what to do, never shown the layer
calls or the optimizer of a solution, nor (ex1.5) the numbers it asks for."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import keras
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab._exercise_sets import ex1
from tests.exercise_checks import fails, passes

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"Conv2D\(|Dense\(|Flatten\(|Pooling2D\(|SGD\(|RMSprop\(|Adam\(|learning_rate=\d")


def _fails(exercise_id: str, answer: Any, *words: str) -> Any:
    return fails(exercise_id, answer, words, CODE)


def _mlp(*, input_name: str = "img", hidden_activation: str = "relu", out_name: str = "predictions",
         out_activation: str | None = None, units: int = 64) -> keras.Model:
    inputs = keras.Input((784,), name=input_name)
    x = layers.Dense(units, activation=hidden_activation, name="h1")(inputs)
    x = layers.Dense(units, activation=hidden_activation, name="h2")(x)
    return keras.Model(inputs, layers.Dense(10, activation=out_activation, name=out_name)(x), name="student")


def test_ex1_1_right_answer_passes() -> None:
    result = lab.check("ex1.1", _mlp())
    assert result and "55,050 parameters" in str(result)


def test_ex1_1_accepts_a_function_that_returns_the_model() -> None:
    assert lab.check("ex1.1", _mlp)


def test_ex1_1_a_sequential_model_is_refused_and_told_why() -> None:
    sequential = lab.patterns.sequential_mlp(input_dim=784, hidden_units=(64, 64))
    result = _fails("ex1.1", sequential, "keras.Sequential", "functional API", "branch, merge and share layers")
    assert "lesson 1b" in result.messages[0]


def test_ex1_1_unnamed_output_is_told_to_name_it() -> None:
    result = lab.check("ex1.1", _mlp(out_name="dense_9"))
    assert "No output is called 'predictions'" in result.messages[0]
    assert "name='predictions'" in result.messages[0]


def test_ex1_1_missing_relu_is_named_layer_by_layer() -> None:
    result = lab.check("ex1.1", _mlp(hidden_activation="linear"))
    assert [m.split("'")[1] for m in result.messages] == ["h1", "h2"]
    assert all("activation 'linear'" in m and "'relu'" in m for m in result.messages)


def test_ex1_1_softmax_output_and_wrong_units() -> None:
    assert "asks for logits" in lab.check("ex1.1", _mlp(out_activation="softmax")).messages[0]
    result = lab.check("ex1.1", _mlp(units=32))
    assert "parameters" in result.messages[0] and "fewer than the task's 55,050" in result.messages[0]


def test_ex1_1_wrong_input_shape_says_one_sample_without_batch_axis() -> None:
    inputs = keras.Input((28, 28), name="img")
    x = layers.Dense(10, name="predictions")(layers.Flatten()(inputs))
    result = lab.check("ex1.1", keras.Model(inputs, x))
    assert "Input 'img' has shape (None, 28, 28)" in result.messages[0] and "shape=(784,)" in result.messages[0]


def _digits(flatten: bool) -> keras.Model:
    image = keras.Input((28, 28), name="image")
    x = layers.Flatten(name="flat")(image) if flatten else image
    x = layers.Dense(64, activation="relu", name="hidden")(x)
    return keras.Model(image, layers.Dense(10, name="scores")(x), name="digits_model")


def test_ex1_2_flattened_passes_and_the_starter_code_is_explained() -> None:
    assert lab.check("ex1.2", _digits(True))
    result = lab.check("ex1.2", _digits(False))
    assert "(None, 28, 10)" in result.messages[0] and "Each of the 28 rows" in result.messages[0]
    assert result.problems[0].keys == ("scores",)


def test_ex1_2_reshaping_outside_the_model_is_not_the_task() -> None:
    inputs = keras.Input((784,))
    model = keras.Model(inputs, layers.Dense(10)(inputs))
    assert "the task needs (None, 28, 28)" in lab.check("ex1.2", model).messages[0]


def _compiled(loss: object, metrics: list[str] | None = None) -> keras.Model:
    model = lab.patterns.mnist_mlp()
    model.compile(optimizer="rmsprop", loss=loss, metrics=metrics if metrics is not None else ["accuracy"])
    return model


def test_ex1_3_right_and_wrong_losses() -> None:
    assert lab.check("ex1.3", _compiled(keras.losses.SparseCategoricalCrossentropy(from_logits=True)))
    no_logits = lab.check("ex1.3", _compiled("sparse_categorical_crossentropy"))
    assert "does not read the outputs as logits" in no_logits.messages[0]
    one_hot = lab.check("ex1.3", _compiled("categorical_crossentropy"))
    assert "one-hot" in one_hot.messages[0] and "'sparse'" in one_hot.messages[0]
    no_metric = lab.check("ex1.3", _compiled(keras.losses.SparseCategoricalCrossentropy(from_logits=True), []))
    assert "metrics=['accuracy']" in no_metric.messages[0]


def test_ex1_3_uncompiled_model() -> None:
    result = lab.check("ex1.3", lab.patterns.mnist_mlp())
    assert not result.answered and "is not compiled yet" in result.messages[0]


def _functional(order: tuple[int, int] = (32, 32), last: str = "softmax") -> keras.Model:
    inputs = keras.Input((64,))
    x = layers.Dense(order[0], activation="relu")(inputs)
    x = layers.Dense(order[1], activation="relu")(x)
    return keras.Model(inputs, layers.Dense(10, activation=last)(x))


def test_ex1_4_functional_passes_sequential_and_wrong_variants_fail() -> None:
    assert lab.check("ex1.4", _functional())
    seq = lab.patterns.sequential_mlp(input_dim=64, hidden_units=(32, 32), logits=False)
    assert "still a keras.Sequential" in lab.check("ex1.4", seq).messages[0]
    assert "ends in softmax" in lab.check("ex1.4", _functional(last="relu")).messages[0]
    assert "parameters" in lab.check("ex1.4", _functional(order=(16, 32))).messages[0]


# -- ex1.5: predict shapes and parameters ------------------------------------------------------------------------
def _keras_numbers() -> dict[str, tuple[tuple[Any, ...], int]]:
    """The right answer, as Keras computes it for the model the task prints (never typed in by hand)."""
    model = ex1.predict_model()
    return {layer.name: (tuple(layer.output.shape), layer.count_params()) for layer in model.layers[1:]}


def _shifted(**changes: tuple[Any, ...] | int) -> dict[str, tuple[tuple[Any, ...], int]]:
    """Keras's numbers with some replaced: ``conv_shape=(...)`` or ``conv_params=...``."""
    numbers = _keras_numbers()
    for key, value in changes.items():
        name, what = key.rsplit("_", 1)
        shape, params = numbers[name]
        numbers[name] = (value, params) if what == "shape" else (shape, value)
    return numbers


def test_ex1_5_the_notebook_shows_exactly_the_code_the_judge_builds() -> None:
    for folder in ("solutions", "notebooks"):
        cells = json.loads((ROOT / folder / "exercises" / "ex1_first_models.ipynb").read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in cells["cells"] if c["cell_type"] == "markdown")
        assert f"```python\n{ex1.PREDICT_CODE}\n```" in text, folder


def test_ex1_5_keras_numbers_pass_and_lists_are_fine() -> None:
    result = passes("ex1.5", _keras_numbers())
    assert "batch axis included" in str(result) and "as Keras counts them" in str(result)
    as_lists = {name: [list(shape), params] for name, (shape, params) in _keras_numbers().items()}
    assert lab.check("ex1.5", as_lists)


def _no_numbers_given_away(result: Any) -> None:
    """A wrong prediction is told what is wrong, never the right number."""
    text = str(result)
    for name, (shape, params) in _keras_numbers().items():
        assert str(tuple(shape)) not in text, (name, text)
        assert params == 0 or f"{params:,}" not in text, (name, text)


def test_ex1_5_forgotten_batch_axis() -> None:
    numbers = {name: (shape[1:], params) for name, (shape, params) in _keras_numbers().items()}
    result = _fails("ex1.5", numbers, "leave out the batch axis", "None")
    _no_numbers_given_away(result)


def test_ex1_5_same_padding_forgotten_channels_and_biases() -> None:
    wrong = _shifted(conv_shape=(None, 32, 32, 16), conv_params=3 * 3 * 16 + 16,
                     logits_params=_keras_numbers()["logits"][1] - 10)
    result = _fails("ex1.5", wrong, "'conv'", "padding='valid'")
    _no_numbers_given_away(result)
    messages = " | ".join(result.messages)
    assert "one grid per input channel" in messages and "3 channels" in messages
    assert "'logits'" in messages and "left out the biases" in messages
    assert result.problems[0].keys == ("conv",)


def test_ex1_5_a_later_layer_that_follows_from_an_earlier_mistake_is_told_so() -> None:
    pool_shape = _keras_numbers()["pool"][0]
    wrong_flat = pool_shape[1] * pool_shape[2]  # the channels forgotten
    hidden_units = _keras_numbers()["hidden"][0][-1]
    wrong = _shifted(flatten_shape=(None, wrong_flat), hidden_params=wrong_flat * hidden_units + hidden_units,
                     pool_params=5)
    result = _fails("ex1.5", wrong, "'pool'", "no weights")
    messages = " | ".join(result.messages)
    assert "channels too" in messages
    assert "'hidden'" in messages and "follows correctly from your shape for 'flatten'" in messages


@pytest.mark.parametrize(("answer", "words"), [
    ({"conv": ((None, 30, 30, 16), 448)}, "nothing for 'pool'"),
    ("conv: (None, 30, 30, 16)", "needs a dict"),
])
def test_ex1_5_incomplete_or_not_a_dict(answer: Any, words: str) -> None:
    _fails("ex1.5", answer, words)


def test_ex1_5_a_typo_in_a_layer_name_and_an_entry_that_is_not_a_pair() -> None:
    numbers = _keras_numbers()
    numbers["hiden"] = numbers.pop("hidden")
    assert "did you mean 'hidden'?" in " ".join(_fails("ex1.5", numbers, "'hiden'").messages)
    numbers = _keras_numbers()
    numbers["pool"] = (None, 15, 15, 16)
    _fails("ex1.5", numbers, "'pool'", "a pair")


# -- ex1.6: reach 85% within 3 epochs ------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [keras.optimizers.SGD(learning_rate=0.1), "rmsprop"], ids=["sgd", "rmsprop"])
def test_ex1_6_a_fitting_optimizer_passes(optimizer: Any) -> None:
    result = passes("ex1.6", optimizer)
    assert "3 epochs on the 1,438 stand-in digits" in str(result) and "held-out digits are right" in str(result)


def test_ex1_6_the_starter_learning_rate_is_too_small() -> None:
    result = _fails("ex1.6", keras.optimizers.SGD(learning_rate=0.001), "task asks for 85%", "too small",
                    "larger learning rate")
    assert "SGD with learning rate 0.001" in result.messages[0]


def test_ex1_6_a_far_too_large_learning_rate_overshoots() -> None:
    _fails("ex1.6", keras.optimizers.SGD(learning_rate=3.0), "too large", "overshoots", "ln 10",
           "smaller learning rate")


def test_ex1_6_an_optimizer_used_before_is_copied_not_reused() -> None:
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    model = lab.patterns.mnist_mlp()
    model.compile(optimizer=optimizer, loss="mse")
    model.optimizer.build(model.trainable_variables)   # built for another model's weights
    assert lab.check("ex1.6", optimizer)


@pytest.mark.parametrize(("answer", "words"), [
    (0.1, "You passed the number 0.1"),
    ("sgdd", "no optimizer called 'sgdd'"),
    (keras.optimizers.SGD, "the class SGD itself"),
])
def test_ex1_6_not_an_optimizer(answer: Any, words: str) -> None:
    _fails("ex1.6", answer, words)


# -- ex1.7: design a small photo classifier ------------------------------------------------------------------------
def _photo_model(kind: str = "conv") -> keras.Model:
    photo = keras.Input((3072,) if kind == "flat_input" else (32, 32, 3), name="picture")
    if kind == "conv":
        x = layers.Conv2D(16, 3, strides=2, activation="relu", name="c1")(photo)
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    elif kind == "dense":
        x = layers.Dense(64, activation="relu", name="wide")(layers.Flatten(name="flat")(photo))
    elif kind == "no_flatten":
        x = layers.Conv2D(8, 3, name="c1")(photo)
    else:
        x = photo
    return keras.Model(photo, layers.Dense(10, name="classes")(x), name="my_design")


def test_ex1_7_any_small_design_passes() -> None:
    result = passes("ex1.7", _photo_model())
    assert "within the budget of 50,000" in str(result) and "any layers are fine" in str(result)


def test_ex1_7_a_dense_layer_on_the_whole_photo_is_over_budget() -> None:
    result = _fails("ex1.7", _photo_model("dense"), "the task allows 50,000", "'wide' (Dense)", "3,072 numbers")
    assert result.problems[0].keys == ("wide",)


def test_ex1_7_a_flattened_input_and_an_output_with_extra_axes() -> None:
    _fails("ex1.7", _photo_model("flat_input"), "Input 'picture' has shape (None, 3072)",
           "the task's photo is (None, 32, 32, 3)", "as many numbers")
    _fails("ex1.7", _photo_model("no_flatten"), "(None, 30, 30, 10)", "extra axis")


def test_ex1_7_sequential_is_refused() -> None:
    model = keras.Sequential([keras.Input((32, 32, 3)), layers.GlobalAveragePooling2D(), layers.Dense(10)])
    _fails("ex1.7", model, "keras.Sequential", "functional API")
