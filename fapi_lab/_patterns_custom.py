"""Custom layers and mixed styles: ``CustomDense``, ``CustomRNN`` and their models (P29-P34). Public through
:mod:`fapi_lab.patterns`.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from ._i18n import _
from ._patterns_basic import Shape
from ._quiet import quiet as _quiet
from ._synthetic import _int_arg, _require

_quiet()  # import TensorFlow without its start-up noise (a no-op if it is already imported)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

__all__ = [
    "CustomDense",
    "CustomRNN",
    "custom_dense_model",
    "custom_rnn_model",
    "sequence_classifier",
]


# -- P29-P34: custom layers and mixed styles -----------------------------------------------------------------
@keras.utils.register_keras_serializable(package="fapi_lab")
class CustomDense(keras.layers.Layer):
    """P29/P30: a hand-written Dense layer -- ``build`` creates the weights, ``call`` uses them.

    Serializable: ``get_config`` returns the constructor arguments (``units``) on top of the base layer's
    (``name``, ``trainable``, ``dtype``), and the class is registered as ``fapi_lab>CustomDense``, so
    ``keras.models.load_model`` finds it without ``custom_objects``.

    Fixed: the documents' ``__init__(self, units=32)`` drops ``**kwargs`` (so ``name=`` is impossible and
    ``from_config`` fails on the base keys), their ``get_config`` returns only ``{'units': ...}`` and their
    ``call`` uses ``tf.matmul`` without importing ``tf``; here ``keras.ops.matmul`` works on any backend.
    """

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        units = _int_arg("units", units)
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: Shape) -> None:
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True, name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True, name="bias")

    def call(self, inputs: Any) -> Any:
        return ops.matmul(inputs, self.w) + self.b

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


def custom_dense_model() -> keras.Model:
    """P29/P30: ``Input((4,))`` (``features``) -> ``CustomDense(10)`` (``custom_dense``); 50 parameters."""
    inputs = keras.Input(shape=(4,), name="features")
    outputs = CustomDense(10, name="custom_dense")(inputs)
    return keras.Model(inputs, outputs, name="custom_dense_model")


def sequence_classifier(units: int = 32) -> keras.Model:
    """P33: the small functional model used inside :class:`CustomRNN` -- (batch, time, units) -> (batch, 1).

    ``rnn_features`` -> ``GlobalAveragePooling1D`` (``pool``) -> ``Dense(1)`` (``score``); name
    ``classifier``.
    """
    units = _int_arg("units", units)
    inputs = keras.Input(shape=(None, units), name="rnn_features")
    x = layers.GlobalAveragePooling1D(name="pool")(inputs)
    outputs = layers.Dense(1, name="score")(x)
    return keras.Model(inputs, outputs, name="classifier")


@keras.utils.register_keras_serializable(package="fapi_lab")
class CustomRNN(keras.layers.Layer):
    """P33/P34: a simple RNN written by hand, whose classifier is a functional model.

    At every time step ``state = projection_1(x_t) + projection_2(state)``; the stacked states go to
    :func:`sequence_classifier`. The number of time steps must be fixed (the Python loop runs over it).

    ``call(inputs, training=None, mask=None)`` has the full signature document 002 lists for layers used
    in functional models: ``training`` is passed on to the classifier, ``mask`` is accepted and unused.

    Fixed: the documents start from ``tf.zeros(shape=(inputs.shape[0], units))``, which needs a static
    batch size (hence their ``keras.Input(batch_shape=...)``) and breaks on a last batch of another size.
    ``keras.ops.zeros((keras.ops.shape(inputs)[0], units))`` reads the batch size at run time. Their
    ``__init__`` also takes no arguments and reads the global ``units``; here ``units`` is an argument and
    ``get_config`` returns it.
    """

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        units = _int_arg("units", units)
        super().__init__(**kwargs)
        self.units = units
        self.projection_1 = layers.Dense(units, activation="tanh", name="projection_1")
        self.projection_2 = layers.Dense(units, activation="tanh", name="projection_2")
        self.classifier = sequence_classifier(units)  # "Our previously-defined Functional model"

    def build(self, input_shape: Shape) -> None:
        _require(len(input_shape) == 3 and input_shape[1] is not None, "input_shape", input_shape,
                 _("(batch, timesteps, features) with a fixed number of timesteps"))
        self.projection_1.build((input_shape[0], input_shape[-1]))
        self.projection_2.build((input_shape[0], self.units))

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        state = ops.zeros((ops.shape(inputs)[0], self.units), dtype=inputs.dtype)
        outputs = []
        for t in range(inputs.shape[1]):
            h = self.projection_1(inputs[:, t, :])
            state = h + self.projection_2(state)
            outputs.append(state)
        features = ops.stack(outputs, axis=1)
        return self.classifier(features, training=training)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


def custom_rnn_model(
    *, batch_size: int | None = 16, timesteps: int = 10, input_dim: int = 5, units: int = 32
) -> keras.Model:
    """P33/P34: a custom layer inside a functional model -- ``sequences`` -> ``conv1d`` -> ``custom_rnn``.

    ``Conv1D(32, 3)`` (512 parameters) feeds :class:`CustomRNN` (2,145): 2,657 parameters, output
    (batch, 1). As in document 002 the input has a static ``batch_shape=(16, 10, 5)``; with
    ``batch_size=None`` it is ``shape=(10, 5)`` and any batch size works (thanks to the ``keras.ops`` fix).

    Document 002's own P34 version classifies with a ``Dense(1)`` on every step, giving (batch, 8, 1); this
    one keeps P33's functional classifier so one model shows both directions of mixing. The parameter count
    is the same.
    """
    valid_batch = batch_size is None or (isinstance(batch_size, Integral) and not isinstance(batch_size, bool)
                                         and batch_size >= 1)
    _require(valid_batch, "batch_size", batch_size, _("a positive integer or None"))
    timesteps = _int_arg("timesteps", timesteps, minimum=3)
    input_dim = _int_arg("input_dim", input_dim)
    units = _int_arg("units", units)
    if batch_size is None:
        inputs = keras.Input(shape=(timesteps, input_dim), name="sequences")
    else:
        inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim), name="sequences")
    x = layers.Conv1D(units, 3, name="conv1d")(inputs)
    outputs = CustomRNN(units, name="custom_rnn")(x)
    return keras.Model(inputs, outputs, name="custom_rnn_model")
