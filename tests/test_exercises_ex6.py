"""Exercise set 6 (lessons 9-11): each right answer passes, typical wrong answers get the right message.

The answers are built here, independently of the solution notebook. Every wrong answer's messages are also
checked for the right answer's code: a check says what is wrong, it never shows the solution."""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import fapi_lab as lab
from fapi_lab._exercises import CheckResult

register = keras.saving.register_keras_serializable


def _no_solution_code(result: CheckResult, *solutions: Any) -> None:
    """No line of the right answer's code (beyond a bare ``def``/``class`` line) appears in what the check says."""
    said = "\n".join([str(result), *result.messages])
    for solution in solutions:
        for line in inspect.getsource(solution).splitlines():
            line = line.strip()
            if len(line) > 12 and not line.startswith(("#", "def ", "class ", "@", '"""')):
                assert line not in said, f"solution code in the message: {line!r}"


def _wrong(exercise_id: str, answer: Any, *solutions: Any) -> CheckResult:
    result = lab.check(exercise_id, answer)
    assert not result and result.answered and result.messages
    _no_solution_code(result, *solutions)
    return result


# -- ex6.1: a serializable custom layer ------------------------------------------------------------------------
class _DenseBody(layers.Layer):
    """The starter's layer: right constructor, build and call; no get_config, not registered."""

    def __init__(self, units: int = 32, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs: Any) -> Any:
        return self.activation(keras.ops.matmul(inputs, self.w) + self.b)


@register(package="test_ex6")
class RightDense(_DenseBody):
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units, "activation": keras.activations.serialize(self.activation)})
        return config


@register(package="test_ex6")
class FunctionInConfigDense(_DenseBody):
    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "activation": self.activation}


@register(package="test_ex6")
class NoConfigDense(_DenseBody):
    pass


@register(package="test_ex6")
class NoSuperConfigDense(_DenseBody):
    def get_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": keras.activations.serialize(self.activation)}


class UnregisteredDense(RightDense):
    pass


@register(package="test_ex6")
class NoUnitsDense(_DenseBody):
    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": keras.activations.serialize(self.activation)}


@register(package="test_ex6")
class NoActivationDense(_DenseBody):
    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@register(package="test_ex6")
class NoKwargsDense(layers.Layer):
    """The documents' constructor: no **kwargs, so name= cannot be passed (lesson 9)."""

    def __init__(self, units: int = 32, activation: Any = None) -> None:
        super().__init__()
        self.units = units
        self.activation = keras.activations.get(activation)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "activation": keras.activations.serialize(self.activation)}


def test_ex6_1_right_answer_passes() -> None:
    result = lab.check("ex6.1", RightDense)
    assert result, result.messages
    text = str(result)
    assert "registered as 'test_ex6>RightDense'" in text and "loaded back, gives the same outputs" in text
    assert lab.check("ex6.1", FunctionInConfigDense)  # the function itself in the config works too


def test_ex6_1_starter_gets_both_problems() -> None:
    result = _wrong("ex6.1", _DenseBody, RightDense)
    assert len(result.messages) == 2
    assert "has no get_config" in result.messages[0] and "activation=keras.activations.relu" in result.messages[0]
    assert "is not registered" in result.messages[1]


def test_ex6_1_no_get_config_is_explained_with_the_plain_values_rule() -> None:
    result = _wrong("ex6.1", NoConfigDense, RightDense)
    assert len(result.messages) == 1
    assert "NoConfigDense has no get_config" in result.messages[0]
    assert "plain value" in result.messages[0] and "must override get_config()" in result.messages[0]


def test_ex6_1_get_config_without_super_loses_the_name() -> None:
    result = _wrong("ex6.1", NoSuperConfigDense, RightDense)
    assert "returns only 'units', 'activation'" in result.messages[0]
    assert "No such layer: check_dense" in result.messages[0] and "super().get_config()" in result.messages[0]


def test_ex6_1_not_registered_says_could_not_locate_class_and_the_fix() -> None:
    result = _wrong("ex6.1", UnregisteredDense, RightDense)
    assert result.messages == [result.messages[0]]
    assert "Could not locate class 'UnregisteredDense'" in result.messages[0]
    assert "register_keras_serializable" in result.messages[0] and "custom_objects" in result.messages[0]


def test_ex6_1_constructor_without_kwargs() -> None:
    result = _wrong("ex6.1", NoKwargsDense, RightDense)
    assert "does not accept name=" in result.messages[0] and "**kwargs" in result.messages[0]


def test_ex6_1_config_that_forgets_an_argument() -> None:
    units = _wrong("ex6.1", NoUnitsDense, RightDense)
    assert "32 units instead of 3" in units.messages[0] and "Put units in the config" in units.messages[0]
    activation = _wrong("ex6.1", NoActivationDense, RightDense)
    assert "the activation did not survive" in activation.messages[0]


def test_ex6_1_a_layer_instead_of_the_class() -> None:
    result = _wrong("ex6.1", RightDense(3), RightDense)
    assert "the check needs the class itself" in result.messages[0] and "without parentheses" in result.messages[0]
    assert "a custom layer class" in lab.check("ex6.1", None).messages[0]


# -- ex6.2: weights from the input shape ----------------------------------------------------------------------
class RightAnySize(layers.Layer):
    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs: Any) -> Any:
        return keras.ops.matmul(inputs, self.kernel) + self.bias


class FixedSizeInInit(layers.Layer):
    """The starter code: the weights are made in __init__ for 4 input features."""

    def __init__(self, units: int = 32, input_dim: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.kernel = self.add_weight(shape=(input_dim, units), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(units,), initializer="zeros", name="bias")

    def call(self, inputs: Any) -> Any:
        return keras.ops.matmul(inputs, self.kernel) + self.bias


class NoBias(RightAnySize):
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

    def call(self, inputs: Any) -> Any:
        return keras.ops.matmul(inputs, self.kernel)


class BatchAxisSize(RightAnySize):
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel = self.add_weight(shape=(input_shape[0], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), name="bias")


class SecondAxisSize(RightAnySize):
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel = self.add_weight(shape=(input_shape[1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), name="bias")


class BiasNeverAdded(RightAnySize):
    def call(self, inputs: Any) -> Any:
        return keras.ops.matmul(inputs, self.kernel)


def test_ex6_2_right_answer_passes() -> None:
    result = lab.check("ex6.2", RightAnySize)
    assert result, result.messages
    assert "15, 24 and 21 parameters" in str(result) and "(None, 5, 6)" in str(result)


def test_ex6_2_weights_made_in_init_fail_on_the_second_size() -> None:
    result = _wrong("ex6.2", FixedSizeInInit, RightAnySize)
    message = result.messages[0]
    assert message.startswith("On (None, 7) inputs, FixedSizeInInit(units=3) fails")
    assert "(4, 3), (3,) already exist when the layer is made" in message and "build(input_shape)" in message


def test_ex6_2_forgotten_bias() -> None:
    result = _wrong("ex6.2", NoBias, RightAnySize)
    assert "12 parameters, the 4×3 kernel only: the bias is missing" in result.messages[0]
    assert "15 parameters in all" in result.messages[0]


def test_ex6_2_wrong_axis_of_the_input_shape() -> None:
    batch = _wrong("ex6.2", BatchAxisSize, RightAnySize)
    assert "input_shape[0] is the batch size" in batch.messages[0] and "(None, 4)" in batch.messages[0]
    second = _wrong("ex6.2", SecondAxisSize, RightAnySize)  # right on vectors, wrong on sequences
    assert second.messages[0].startswith("On (None, 5, 6) inputs your layer made the weights (5, 3), (3,)")
    assert "input_shape[-1]" in second.messages[0]


def test_ex6_2_bias_made_but_not_added() -> None:
    result = _wrong("ex6.2", BiasNeverAdded, RightAnySize)
    assert "is not inputs × kernel + bias" in result.messages[0]


# -- ex6.3: from subclassed to functional, in a strategy's scope ----------------------------------------------
class Classifier(keras.Model):
    """The notebook's subclassed model."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden = layers.Dense(32, activation="relu", name="hidden")
        self.dropout = layers.Dropout(0.3, name="dropout")
        self.classes = layers.Dense(4, activation="softmax", name="classes")

    def call(self, inputs: Any, training: Any = None) -> Any:
        x = self.hidden(inputs)
        x = self.dropout(x, training=training)
        return self.classes(x)


@pytest.fixture(scope="module")
def strategy() -> tf.distribute.Strategy:
    return tf.distribute.MirroredStrategy()


def _functional(*, dropout: bool = True, hidden_activation: str | None = "relu") -> keras.Model:
    features = keras.Input(shape=(20,), name="features")
    x = layers.Dense(32, activation=hidden_activation, name="hidden")(features)
    if dropout:
        x = layers.Dropout(0.3, name="dropout")(x)
    classes = layers.Dense(4, activation="softmax", name="classes")(x)
    return keras.Model(features, classes, name="functional_classifier")


def _in_scope(strategy: tf.distribute.Strategy, *, compile_inside: bool = True, **kwargs: Any) -> keras.Model:
    with strategy.scope():
        model = _functional(**kwargs)
        if compile_inside:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_ex6_3_right_answer_passes_and_the_students_weights_are_kept(strategy: tf.distribute.Strategy) -> None:
    model = _in_scope(strategy)
    before = model.get_weights()
    result = lab.check("ex6.3", model)
    assert result, result.messages
    assert "computes exactly what the subclassed model computes" in str(result) and "mirrored" in str(result)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_ex6_3_the_subclassed_model_itself_is_explained() -> None:
    subclassed = Classifier(name="subclassed_classifier")
    subclassed(np.zeros((1, 20), "float32"))
    result = _wrong("ex6.3", subclassed, _functional)
    assert "'subclassed_classifier' is a subclassed model" in result.messages[0]
    assert "keras.Input" in result.messages[0] and "lesson 10" in result.messages[0]


def test_ex6_3_built_outside_the_scope(strategy: tf.distribute.Strategy) -> None:
    model = _functional()
    with strategy.scope():
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    result = _wrong("ex6.3", model, _functional, _in_scope)
    assert "was built outside strategy.scope()" in result.messages[0] and "colocate_vars_with" in result.messages[0]


def test_ex6_3_compiled_outside_the_scope_or_not_at_all(strategy: tf.distribute.Strategy) -> None:
    model = _in_scope(strategy, compile_inside=False)
    assert "is not compiled yet" in _wrong("ex6.3", model, _functional, _in_scope).messages[0]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    result = _wrong("ex6.3", model, _functional, _in_scope)
    assert "its optimizer was made outside it" in result.messages[0]
    assert "Mixing different tf.distribute.Strategy objects" in result.messages[0]


def test_ex6_3_missing_dropout_and_missing_relu(strategy: tf.distribute.Strategy) -> None:
    result = _wrong("ex6.3", _in_scope(strategy, dropout=False), _functional, _in_scope)
    assert "Dropout layer (rate 0.3)" in result.messages[0] and "your model has none" in result.messages[0]
    assert "passes training to it for you" in result.messages[0]
    result = _wrong("ex6.3", _in_scope(strategy, hidden_activation=None), _functional, _in_scope)
    assert result.messages[0] == ("Hidden layer 'hidden' has activation 'linear'; the subclassed model's hidden "
                                  "layer uses 'relu'.")


def test_ex6_3_a_tensor_or_a_sequential_model(strategy: tf.distribute.Strategy) -> None:
    model = _in_scope(strategy)
    assert "symbolic tensor, not a model" in _wrong("ex6.3", model.outputs[0], _functional).messages[0]
    sequential = keras.Sequential([keras.Input((20,)), layers.Dense(32, activation="relu"), layers.Dropout(0.3),
                                   layers.Dense(4, activation="softmax")], name="sequential_classifier")
    assert "is a keras.Sequential model" in _wrong("ex6.3", sequential, _functional).messages[0]
