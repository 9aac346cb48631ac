"""Exercise set 1 (lessons 1-2): each right answer passes, typical wrong answers get the right message."""

from __future__ import annotations

import keras
from keras import layers

import fapi_lab as lab


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
