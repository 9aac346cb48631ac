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


def test_ex6_1_keras_own_dense_is_not_an_answer() -> None:
    """Issue 15 class 8: layers.Dense is serializable and registered, but it is not the layer the task asks for."""
    result = _wrong("ex6.1", layers.Dense, RightDense)
    assert "Dense is Keras's own layer class, not one you wrote" in result.messages[0]
    assert "subclasses keras.layers.Layer" in result.messages[0]


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


class InheritsDense(layers.Dense):
    """Registered as the student's class, but Keras's Dense does all the work."""


def test_ex6_2_keras_own_dense_or_a_subclass_of_it_is_not_an_answer() -> None:
    """Issue 15 class 8: Dense works on any input size, but the task is to write the layer, with its own build."""
    own = _wrong("ex6.2", layers.Dense, RightAnySize)
    assert "Dense is Keras's own layer class, not one you wrote" in own.messages[0]
    assert "It may compute the right numbers" in own.messages[0]
    inherits = _wrong("ex6.2", InheritsDense, RightAnySize)
    assert inherits.messages[0].startswith("InheritsDense subclasses Dense, a layer Keras already has")
    assert "subclass keras.layers.Layer itself" in inherits.messages[0]


class WrapsDense(layers.Layer):
    """A layer of one's own whose weights a Keras Dense inside it makes: right numbers, not the task's build."""

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = layers.Dense(units, name="inner_dense")

    def call(self, inputs: Any) -> Any:
        return self.inner(inputs)


def test_ex6_2_weights_made_by_a_keras_layer_inside() -> None:
    result = _wrong("ex6.2", WrapsDense, RightAnySize)
    assert "WrapsDense's weights are made by 'inner_dense' inside it" in result.messages[0]
    assert "with add_weight in build" in result.messages[0]


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


def _fit_raises(model: keras.Model) -> BaseException | None:
    """What fit really does with this model, called outside the scope as the notebook does: the error, or None."""
    x = np.random.default_rng(0).normal(size=(64, 20)).astype("float32")
    y = np.random.default_rng(1).integers(0, 4, 64)
    try:
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    except Exception as exc:  # AssertionError included
        return exc
    return None


def _built_outside(strategy: tf.distribute.Strategy, optimizer: Any) -> keras.Model:
    model = _functional()
    with strategy.scope():
        model.compile(optimizer=optimizer() if callable(optimizer) else optimizer,
                      loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize(("optimizer", "quoted"), [
    ("adam", 'RuntimeError: Need to be inside "with strategy.scope()"'),
    (lambda: keras.optimizers.SGD(0.1, momentum=0.9), 'RuntimeError: Need to be inside "with strategy.scope()"'),
    ("sgd", "a bare AssertionError, with no message at all"),
], ids=["adam", "sgd-momentum", "plain-sgd"])
def test_ex6_3_built_outside_the_scope_quotes_what_fit_really_raises(strategy: tf.distribute.Strategy,
                                                                     optimizer: Any, quoted: str) -> None:
    """Review C16: the message quotes the error fit raises for this model and optimizer (measured: fit is run)."""
    model = _built_outside(strategy, optimizer)
    result = _wrong("ex6.3", model, _functional, _in_scope)
    message = result.messages[0]
    assert "was built outside strategy.scope() and compiled inside it" in message
    assert quoted in message and "inside strategy.scope()" in message
    raised = _fit_raises(model)
    if quoted.startswith("RuntimeError"):
        assert isinstance(raised, RuntimeError) and 'Need to be inside "with strategy.scope()"' in str(raised)
        assert "colocate_vars_with" in message  # what fit says when it is called inside the scope
    else:
        assert type(raised) is AssertionError and str(raised) == ""
        assert "colocate_vars_with" not in message


def test_ex6_3_nothing_in_the_scope(strategy: tf.distribute.Strategy) -> None:
    model = _functional()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    message = _wrong("ex6.3", model, _functional, _in_scope).messages[0]
    assert "built outside strategy.scope(), and compiled outside it" in message
    assert "on that device alone, as if there were no strategy" in message
    assert _fit_raises(model) is None  # indeed: fit runs, on one device
    assert "and it is not compiled yet" in _wrong("ex6.3", _functional(), _functional).messages[0]


def test_ex6_3_compiled_outside_the_scope_or_not_at_all(strategy: tf.distribute.Strategy) -> None:
    model = _in_scope(strategy, compile_inside=False)
    assert "is not compiled yet" in _wrong("ex6.3", model, _functional, _in_scope).messages[0]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    result = _wrong("ex6.3", model, _functional, _in_scope)
    assert "its optimizer was made outside it" in result.messages[0]
    assert "Mixing different tf.distribute.Strategy objects" in result.messages[0]
    raised = _fit_raises(model)
    assert isinstance(raised, RuntimeError) and "Mixing different tf.distribute.Strategy objects" in str(raised)


def test_ex6_3_compiled_outside_with_plain_sgd_runs_but_counts_steps_per_replica(
        strategy: tf.distribute.Strategy) -> None:
    model = _in_scope(strategy, compile_inside=False)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    message = _wrong("ex6.3", model, _functional, _in_scope).messages[0]
    assert "with plain SGD fit runs, but the optimizer's step counter" in message
    assert "with one replica nothing shows, but with two it counts every step twice" in message
    assert _fit_raises(model) is None and int(model.optimizer.iterations.numpy()) == 2  # 64 samples, batches of 32


_TWO_REPLICAS = """
import json
import fapi_lab as lab
lab.quiet()
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
from keras import layers
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.default_rng(0).normal(size=(96, 20)).astype("float32")
y = np.random.default_rng(1).integers(0, 4, 96)

def build():
    features = keras.Input(shape=(20,), name="features")
    h = layers.Dense(32, activation="relu", name="hidden")(features)
    h = layers.Dropout(0.3, name="dropout")(h)
    return keras.Model(features, layers.Dense(4, activation="softmax", name="classes")(h), name="twin")

def fit(model):
    try:
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    except Exception as exc:
        return [type(exc).__name__, str(exc)[:200]]
    return None

seen = {"replicas": strategy.num_replicas_in_sync}
for optimizer in ("adam", "sgd"):
    model = build()
    with strategy.scope():
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    seen[f"outside-{optimizer}"] = [lab.check("ex6.3", model).messages[0], fit(model)]
with strategy.scope():
    model = build()
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
seen["compiled-outside-sgd"] = [lab.check("ex6.3", model).messages[0], fit(model),
                                int(model.optimizer.iterations.numpy())]
with strategy.scope():
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
seen["right"] = [bool(lab.check("ex6.3", model)), fit(model)]
print("SEEN" + json.dumps(seen))
"""


def test_ex6_3_on_two_replicas_the_messages_are_what_fit_does() -> None:
    """Lesson 11's set-up (two logical CPU devices, made before TensorFlow sets up its devices) needs a fresh
    interpreter: there, each wrong answer's message is checked against what fit really does on two replicas."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _TWO_REPLICAS], capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("SEEN")), None)
    assert line is not None, run.stderr[-2000:]
    import json

    seen = json.loads(line[4:])
    assert seen["replicas"] == 2
    message, raised = seen["outside-adam"]
    assert 'RuntimeError: Need to be inside "with strategy.scope()"' in message
    assert raised[0] == "RuntimeError" and 'Need to be inside "with strategy.scope()"' in raised[1]
    message, raised = seen["outside-sgd"]
    assert "a bare AssertionError, with no message at all" in message and raised == ["AssertionError", ""]
    message, raised, steps = seen["compiled-outside-sgd"]
    assert "with your 2 replicas it counts every step 2 times" in message
    assert raised is None and steps == 2 * 3  # 96 samples in batches of 32: 3 steps, counted once per replica
    assert seen["right"] == [True, None]


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


# -- ex6.4: document 002's CustomRNN for any batch size ------------------------------------------------------
class DocumentRNN(layers.Layer):
    """The starter: document 002's CustomRNN (its per-step classifier), in Keras 3 ops; the first state reads
    the static batch size."""

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.projection_1 = layers.Dense(units, activation="tanh")
        self.projection_2 = layers.Dense(units, activation="tanh")
        self.classifier = layers.Dense(1, activation="sigmoid")

    def first_state(self, inputs: Any) -> Any:
        return keras.ops.zeros((inputs.shape[0], self.units))

    def step(self, y: Any, state: Any) -> Any:
        return y

    def call(self, inputs: Any) -> Any:
        outputs = []
        state = self.first_state(inputs)
        for t in range(inputs.shape[1]):
            h = self.projection_1(inputs[:, t, :])
            y = h + self.projection_2(state)
            state = self.step(y, state)
            outputs.append(y)
        return self.classifier(keras.ops.stack(outputs, axis=1))


class AnyBatchRNN(DocumentRNN):
    def first_state(self, inputs: Any) -> Any:
        return keras.ops.zeros((keras.ops.shape(inputs)[0], self.units))


class SixteenRNN(DocumentRNN):
    """A "fix" that writes the documents' batch size in."""

    def first_state(self, inputs: Any) -> Any:
        return keras.ops.zeros((16, self.units))


class InputSizedRNN(DocumentRNN):
    """A first state shaped like one step of the input: right only when units equals the input's features."""

    def first_state(self, inputs: Any) -> Any:
        return keras.ops.zeros_like(inputs[:, 0, :])


class FrozenStateRNN(AnyBatchRNN):
    """Any batch works, but the state is never carried to the next step."""

    def step(self, y: Any, state: Any) -> Any:
        return state


def test_ex6_4_right_answer_passes() -> None:
    result = lab.check("ex6.4", AnyBatchRNN)
    assert result, result.messages
    text = str(result)
    assert "output (None, 8, 1)" in text and "batches of 7 and 16 sequences" in text
    assert "a last batch of 4" in text and "equal document 002's loop" in text


def test_ex6_4_the_documents_static_batch_fails_while_the_model_is_built() -> None:
    result = _wrong("ex6.4", DocumentRNN, AnyBatchRNN)
    message = result.messages[0]
    assert "fails while the model is built" in message and "Expected int32, but got None" in message
    assert "call() receives a (None, 8, 32) tensor, so inputs.shape[0] is None" in message
    assert "keras.ops.shape" in message


def test_ex6_4_a_batch_size_written_in() -> None:
    result = _wrong("ex6.4", SixteenRNN, AnyBatchRNN)
    assert "its batch axis is 16, not None" in result.messages[0]
    assert "a batch of any other size fails" in result.messages[0]


def test_ex6_4_a_first_state_sized_like_the_input() -> None:
    result = _wrong("ex6.4", InputSizedRNN, AnyBatchRNN)
    message = result.messages[0]
    assert message.startswith("InputSizedRNN(units=16), on the (None, 8, 32) tensor that units=32 handled, raised")
    assert "`units` columns, whatever the input's size" in message
    assert "Fix:" not in message  # lab.explain's general fix (add a Dense layer) would mislead here


def test_ex6_4_a_loop_that_no_longer_computes_the_documents_rnn() -> None:
    result = _wrong("ex6.4", FrozenStateRNN, AnyBatchRNN)
    assert "gives other scores than document 002's loop" in result.messages[0]
    assert "changes only how the first state is made" in result.messages[0]


def test_ex6_4_keras_own_rnn_and_a_layer_instead_of_the_class() -> None:
    assert "is Keras's own layer class" in _wrong("ex6.4", layers.SimpleRNN, AnyBatchRNN).messages[0]
    assert "the check needs the class itself" in _wrong("ex6.4", AnyBatchRNN(8), AnyBatchRNN).messages[0]


# -- ex6.5: design a sequence classifier around a layer of one's own ------------------------------------------
class StepDense(layers.Layer):
    """A dense layer applied to every step: its weights depend on the last axis only."""

    def __init__(self, units: int = 16, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs: Any) -> Any:
        return keras.ops.relu(keras.ops.matmul(inputs, self.kernel) + self.bias)


class MeanOverSteps(layers.Layer):
    """A layer of one's own, but with no weights: it learns nothing."""

    def call(self, inputs: Any) -> Any:
        return keras.ops.mean(inputs, axis=1)


def _design(core: Any = None, *, steps: int | None = None) -> keras.Model:
    sequence = keras.Input(shape=(steps, 8), name="sequence")
    x = (core or StepDense(16, name="step_dense"))(sequence)
    if len(x.shape) == 3:
        x = layers.GlobalAveragePooling1D(name="pool")(x)
    return keras.Model(sequence, layers.Dense(3, name="scores")(x), name="design")


def test_ex6_5_right_answers_pass() -> None:
    result = lab.check("ex6.5", _design())
    assert result, result.messages
    assert "your own layer StepDense ('step_dense'), with 144 parameters" in str(result)
    lstm = keras.Input(shape=(None, 8), name="steps")   # other layers around one's own layer are fine
    y = layers.LSTM(8, return_sequences=True, name="lstm")(lstm)
    y = StepDense(4, name="mine")(y)
    other = keras.Model(lstm, layers.Dense(3, activation="softmax", name="p")(layers.Flatten()(
        layers.GlobalMaxPooling1D(keepdims=True)(y))))
    assert lab.check("ex6.5", other), lab.check("ex6.5", other).messages


def test_ex6_5_only_keras_layers() -> None:
    sequence = keras.Input(shape=(None, 8), name="sequence")
    model = keras.Model(sequence, layers.Dense(3)(layers.LSTM(16)(sequence)))
    result = _wrong("ex6.5", model, StepDense, _design)
    assert "are all library layers (Dense, LSTM)" in result.messages[0]
    assert "a class of your own that subclasses keras.layers.Layer" in result.messages[0]


def test_ex6_5_a_fixed_number_of_steps() -> None:
    result = _wrong("ex6.5", _design(steps=20), StepDense, _design)
    assert "has shape (None, 20, 8): it takes sequences of exactly 20 steps" in result.messages[0]
    assert "leave the number of steps open (None)" in result.messages[0]


def test_ex6_5_a_layer_of_ones_own_without_weights() -> None:
    result = _wrong("ex6.5", _design(MeanOverSteps(name="mean")), StepDense, _design)
    assert "'mean' (MeanOverSteps) has no weights, so it learns nothing" in result.messages[0]
    assert "build(input_shape)" in result.messages[0]


def test_ex6_5_a_layer_of_ones_own_whose_weights_keras_makes() -> None:
    result = _wrong("ex6.5", _design(WrapsDense(16, name="wrapper")), StepDense, _design)
    assert "'wrapper' (WrapsDense) has weights, but Keras layers inside it ('inner_dense') make all" in \
        result.messages[0]


def test_ex6_5_sequential_is_refused() -> None:
    model = keras.Sequential([keras.Input((None, 8)), StepDense(4), layers.GlobalAveragePooling1D(), layers.Dense(3)])
    assert "is a keras.Sequential model" in _wrong("ex6.5", model, _design).messages[0]
