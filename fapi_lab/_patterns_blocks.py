"""Builders of residual connections, Inception modules, 1x1 bottlenecks and deep stacks (P21-P23, P37).
Public through :mod:`fapi_lab.patterns`.
"""

from __future__ import annotations

from typing import Any

from ._i18n import _
from ._patterns_basic import Shape, _activation, _bool_arg, _name_arg, _shape_arg
from ._quiet import quiet as _quiet
from ._synthetic import _int_arg, _require

_quiet()  # import TensorFlow without its start-up noise (a no-op if it is already imported)

import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = [
    "deep_plain_stack",
    "deep_residual_stack",
    "inception_block",
    "inception_module",
    "pointwise_bottleneck",
    "residual_block",
    "residual_blocks",
    "toy_resnet",
]


# -- P21-P23, P37: residual connections, Inception, 1x1 convolutions ---------------------------------------
def toy_resnet(*, logits: bool = True) -> keras.Model:
    """P21: the toy ResNet for CIFAR-10 (32x32x3 ``img`` -> 10 classes); 223,242 parameters, name ``toy_resnet``.

    Two residual blocks each add their input to the output of two 3x3 ``padding='same'`` convolutions
    (``block_2_output`` and ``block_3_output`` are the ``add`` layers). ``logits=True`` is document 000's
    ``Dense(10)``; ``logits=False`` is document 002's softmax.
    """
    activation = _activation(logits, "softmax")
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu", name="conv_1")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", name="conv_2")(x)
    block_1_output = layers.MaxPooling2D(3, name="block_1_output")(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_2_conv_1")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_2_conv_2")(x)
    block_2_output = layers.add([x, block_1_output], name="block_2_output")

    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_3_conv_1")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_3_conv_2")(x)
    block_3_output = layers.add([x, block_2_output], name="block_3_output")

    x = layers.Conv2D(64, 3, activation="relu", name="conv_3")(block_3_output)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dense(256, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(10, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def _feature_map(x: Any, argument: str = "x") -> tuple[int | None, ...]:
    shape = getattr(x, "shape", None)
    _require(shape is not None and len(shape) == 4, argument, x, _("a 4-D tensor (batch, height, width, channels)"))
    return tuple(shape)


def residual_block(x: Any, filters: int, *, projection: bool = False, name: str = "residual") -> Any:
    """P22: document 004's residual connections, as a function from a 4-D tensor to a 4-D tensor.

    * ``projection=False`` -- **identity** shortcut: three 3x3 ``padding='same'`` convolutions, then
      ``add([y, x])``. The shapes must already agree, so ``x`` must have ``filters`` channels.
    * ``projection=True`` -- **linear projection** shortcut: two 3x3 convolutions and a 2x2 max pool halve
      the feature map, so ``x`` is brought to the same shape by a strided 1x1 convolution
      (``Conv2D(filters, 1, strides=2)``) before the add.

    Layers are named ``{name}_conv_1``... ``{name}_add`` (plus ``{name}_pool`` and ``{name}_shortcut``);
    call it with a different ``name`` for each block of a model.

    Fixed: document 004 starts from ``x = ...``; here ``x`` is the argument. Its pool has no padding, which
    gives a map one pixel smaller than the ``padding='same'`` shortcut whenever the size is odd; here the
    pool uses ``padding='same'`` too, so both sides line up for every size.
    """
    shape = _feature_map(x)
    filters = _int_arg("filters", filters)
    projection = _bool_arg("projection", projection)
    name = _name_arg("name", name)
    if not projection:
        _require(shape[-1] == filters, "filters", filters,
                 _("{channels} (the channels of x): an identity shortcut adds x unchanged, so the shapes must "
                   "agree; use projection=True to change the shape").format(channels=shape[-1]))
    convs = 2 if projection else 3
    y = x
    for i in range(1, convs + 1):
        y = layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"{name}_conv_{i}")(y)
    shortcut = x
    if projection:
        y = layers.MaxPooling2D(2, strides=2, padding="same", name=f"{name}_pool")(y)
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", name=f"{name}_shortcut")(x)
    return layers.add([y, shortcut], name=f"{name}_add")


def residual_blocks(*, input_shape: Shape = (32, 32, 3), filters: int = 128) -> keras.Model:
    """P22: one identity residual block, then one projection residual block, on a small image classifier.

    ``img`` -> ``stem`` (3x3 conv to ``filters`` channels) -> ``identity_*`` (same shape) ->
    ``projection_*`` (half the height and width) -> ``global_pool`` -> ``predictions`` (10 logits).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3, min_size=2)
    filters = _int_arg("filters", filters)
    inputs = keras.Input(shape=input_shape, name="img")
    x = layers.Conv2D(filters, 3, activation="relu", padding="same", name="stem")(inputs)
    x = residual_block(x, filters, name="identity")
    x = residual_block(x, filters, projection=True, name="projection")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs, outputs, name="residual_blocks")


def inception_block(x: Any, filters: int = 128, *, name: str = "inception") -> Any:
    """P23: document 004's Inception module -- four parallel branches, concatenated on the channel axis.

    * a: 1x1 conv, stride 2
    * b: 1x1 conv -> 3x3 conv, stride 2
    * c: 3x3 average pool, stride 2 -> 3x3 conv
    * d: 1x1 conv -> 3x3 conv -> 3x3 conv, stride 2

    Each branch halves the height and width and has ``filters`` channels, so the output has 4·filters.

    Fixed: document 004 gives the 3x3 layers no padding, so the branches come out in different sizes
    (on a 32x32 input: 16, 15, 13 and 14) and ``concatenate`` fails. Every layer here has
    ``padding='same'`` and the branches line up.
    """
    _feature_map(x)
    filters = _int_arg("filters", filters)
    name = _name_arg("name", name)

    def conv(t: Any, size: int, label: str, strides: int = 1) -> Any:
        return layers.Conv2D(filters, size, strides=strides, activation="relu", padding="same",
                             name=f"{name}_{label}")(t)

    branch_a = conv(x, 1, "a_1x1", strides=2)
    branch_b = conv(conv(x, 1, "b_1x1"), 3, "b_3x3", strides=2)
    branch_c = layers.AveragePooling2D(3, strides=2, padding="same", name=f"{name}_c_pool")(x)
    branch_c = conv(branch_c, 3, "c_3x3")
    branch_d = conv(conv(conv(x, 1, "d_1x1"), 3, "d_3x3_1"), 3, "d_3x3_2", strides=2)
    return layers.concatenate([branch_a, branch_b, branch_c, branch_d], axis=-1, name=f"{name}_concat")


def inception_module(*, input_shape: Shape = (32, 32, 64), filters: int = 128) -> keras.Model:
    """P23: a model made of one :func:`inception_block` on a ``feature_map`` input (default 32x32x64).

    Output: (batch, 16, 16, 4·filters).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3, min_size=2)
    filters = _int_arg("filters", filters)
    inputs = keras.Input(shape=input_shape, name="feature_map")
    return keras.Model(inputs, inception_block(inputs, filters), name="inception_module")


def pointwise_bottleneck(*, input_shape: Shape = (16, 16, 256), bottleneck_filters: int = 64) -> keras.Model:
    """P37: 1x1 (pointwise) convolutions around a 3x3 one -- a "1x1 reduction" block (ResNet calls it a bottleneck).

    A 1x1 convolution is a ``Dense`` layer applied to every pixel's channel vector: it mixes channels, not
    space. ``pointwise_reduce`` squeezes 256 channels to 64, ``conv_3x3`` works on the thin map and
    ``pointwise_expand`` restores 256; ``skip`` adds the input back. 70,016 parameters, against 590,080 for
    one plain 3x3 convolution from 256 to 256 channels. The skip keeps the thin 64-channel middle from becoming
    a *representation bottleneck* (a layer can only pass on what fits into it): it re-injects the full input,
    which is how document 004 says residual connections relieve bottlenecks (lesson 6b measures it).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3)
    bottleneck_filters = _int_arg("bottleneck_filters", bottleneck_filters)
    inputs = keras.Input(shape=input_shape, name="feature_map")
    x = layers.Conv2D(bottleneck_filters, 1, activation="relu", name="pointwise_reduce")(inputs)
    x = layers.Conv2D(bottleneck_filters, 3, activation="relu", padding="same", name="conv_3x3")(x)
    x = layers.Conv2D(input_shape[-1], 1, name="pointwise_expand")(x)
    outputs = layers.add([x, inputs], name="skip")
    return keras.Model(inputs, outputs, name="pointwise_bottleneck")


def _deep_stack(depth: int, units: int, input_dim: int, activation: str, *, residual: bool) -> keras.Model:
    depth = _int_arg("depth", depth, maximum=500)
    units = _int_arg("units", units)
    input_dim = _int_arg("input_dim", input_dim)
    _require(activation in ("sigmoid", "tanh", "relu", "linear"), "activation", activation,
             _("one of 'sigmoid', 'tanh', 'relu', 'linear'"))
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = layers.Dense(units, name="stem")(inputs)
    for i in range(1, depth + 1):
        h = layers.Dense(units, activation=activation, name=f"dense_{i}")(x)
        x = layers.add([x, h], name=f"skip_{i}") if residual else h
    outputs = layers.Dense(1, name="output")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"deep_{kind}_stack")


def deep_plain_stack(
    depth: int = 20, *, units: int = 32, input_dim: int = 16, activation: str = "sigmoid"
) -> keras.Model:
    """P37: ``depth`` Dense layers in a plain stack (``stem``, ``dense_1``... ``dense_{depth}``, ``output``).

    With sigmoid activations the gradient reaching ``dense_1`` is many orders of magnitude smaller than
    the one at ``dense_{depth}``: the vanishing gradient of document 004. Compare
    :func:`deep_residual_stack` -- same layers, same parameter count, plus skip connections.
    """
    return _deep_stack(depth, units, input_dim, activation, residual=False)


def deep_residual_stack(
    depth: int = 20, *, units: int = 32, input_dim: int = 16, activation: str = "sigmoid"
) -> keras.Model:
    """P37: the same ``depth`` Dense layers with residual connections (``skip_i = add([x, dense_i(x)])``).

    The adds form a purely linear "carry track" beside the layers, so gradients reach the first layers
    undiminished -- document 004's explanation of why residual connections help deep networks.
    """
    return _deep_stack(depth, units, input_dim, activation, residual=True)
