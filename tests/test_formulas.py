"""Every shape and parameter formula against Keras, over generated layer configurations (issue 15, class 1).

For each configuration hypothesis draws, Keras builds the layer on a generated input; the formula's own answer
(``raw_formula``, before ``lab.shapes`` checks it) must then equal Keras's output shape and ``count_params()``.
Where the formula is written for the settings drawn ("claimed"), it must also be present: a formula that goes
silent where it should speak fails too. Settings Keras itself refuses are skipped.

Derandomized by default (about a minute in all); ``FAPI_LAB_HYPOTHESIS=long`` searches 20 times longer.
"""

from __future__ import annotations

import os

import keras
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab
from fapi_lab._formulas import raw_formula
from fapi_lab._keras_adapter import read

LONG = os.environ.get("FAPI_LAB_HYPOTHESIS") == "long"


def cases(n: int) -> settings:
    return settings(max_examples=n * (20 if LONG else 1), deadline=None, derandomize=not LONG)


def check(layer: keras.layers.Layer, *shapes: tuple[int | None, ...], claimed: bool = True,
          dtype: str = "float32", call=None) -> None:
    """Build ``layer`` on inputs of these shapes (batch first); compare its formula with Keras."""
    inputs = [keras.Input(batch_shape=s, dtype=dtype) for s in shapes]
    try:
        out = call(layer, inputs) if call else layer(inputs[0] if len(inputs) == 1 else inputs)
    except (ValueError, TypeError, NotImplementedError):
        assume(False)  # Keras refuses these settings: nothing to explain
    model = keras.Model(inputs, out)
    node = next(n for n in read(model).nodes if n.name == layer.name)
    found = raw_formula(node)
    if found is None:
        assert not claimed, f"no formula for {layer.__class__.__name__} {layer.get_config()} on {shapes}"
        return
    if found.shape is not None:
        assert tuple(found.shape) == tuple(out.shape), (found.text, layer.get_config())
    if found.params is not None:
        assert found.params == layer.count_params(), (found.params_text, layer.get_config())
    row = lab.shapes(model).row(node.key)
    assert row.formula_known and row.explanation == found.text


sizes = st.integers(1, 12)
small = st.integers(1, 4)
formats = st.sampled_from(["channels_last", "channels_first"])


@st.composite
def feature_map(draw: st.DrawFn, rank: int, data_format: str) -> tuple[int | None, ...]:
    spatial = [draw(st.one_of(sizes, st.none()) if draw(st.booleans()) else sizes) for _ in range(rank)]
    channels = draw(st.integers(1, 6))
    batch = draw(st.sampled_from([None, 2]))
    return (batch, *spatial, channels) if data_format == "channels_last" else (batch, channels, *spatial)


@cases(100)
@given(data=st.data(), rank=st.integers(1, 3), kind=st.sampled_from(["Conv", "ConvTranspose", "Depthwise",
                                                                      "Separable"]),
       data_format=formats, padding=st.sampled_from(["valid", "same", "causal"]), use_bias=st.booleans())
def test_convolutions(data, rank, kind, data_format, padding, use_bias) -> None:
    if kind in ("Depthwise", "Separable"):
        rank = min(rank, 2)
    shape = data.draw(feature_map(rank, data_format))
    k = data.draw(st.lists(small, min_size=rank, max_size=rank))
    strides = data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    dilation = data.draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank))
    if max(strides) > 1:
        dilation = [1] * rank
    if padding == "causal" and (rank != 1 or kind == "ConvTranspose"):
        padding = "valid"  # Keras refuses causal padding there when the layer is made
    common = {"kernel_size": k, "strides": strides, "padding": padding, "data_format": data_format,
              "use_bias": use_bias, "dilation_rate": dilation}
    try:
        layer = _convolution(data, kind, rank, shape, common)
    except ValueError:
        assume(False)  # Keras refuses these settings when the layer is made
    check(layer, shape)


def _convolution(data, kind, rank, shape, common):
    data_format = common["data_format"]
    strides = common["strides"]
    if kind == "Conv":
        channels = shape[-1] if data_format == "channels_last" else shape[1]
        groups = data.draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        layer = getattr(layers, f"Conv{rank}D")(filters=groups * data.draw(small), groups=groups, **common)
    elif kind == "ConvTranspose":
        output_padding = data.draw(st.one_of(st.none(), st.just([s - 1 for s in strides])))
        layer = getattr(layers, f"Conv{rank}DTranspose")(filters=data.draw(small), output_padding=output_padding,
                                                         **common)
    elif kind == "Depthwise":
        layer = getattr(layers, f"DepthwiseConv{rank}D")(depth_multiplier=data.draw(small), **common)
    else:
        layer = getattr(layers, f"SeparableConv{rank}D")(filters=data.draw(small), depth_multiplier=data.draw(small),
                                                          **common)
    return layer


@cases(80)
@given(data=st.data(), rank=st.integers(1, 3), how=st.sampled_from(["Max", "Average"]), data_format=formats,
       padding=st.sampled_from(["valid", "same"]))
def test_pooling(data, rank, how, data_format, padding) -> None:
    shape = data.draw(feature_map(rank, data_format))
    pool = data.draw(st.lists(small, min_size=rank, max_size=rank))
    strides = data.draw(st.one_of(st.none(), st.lists(st.integers(1, 3), min_size=rank, max_size=rank)))
    check(getattr(layers, f"{how}Pooling{rank}D")(pool, strides=strides, padding=padding, data_format=data_format),
          shape)


@cases(40)
@given(data=st.data(), rank=st.integers(1, 3), how=st.sampled_from(["Max", "Average"]), data_format=formats,
       keepdims=st.booleans())
def test_global_pooling(data, rank, how, data_format, keepdims) -> None:
    shape = data.draw(feature_map(rank, data_format))
    check(getattr(layers, f"Global{how}Pooling{rank}D")(data_format=data_format, keepdims=keepdims), shape)


@cases(60)
@given(data=st.data(), rank=st.integers(1, 3), kind=st.sampled_from(["UpSampling", "ZeroPadding", "Cropping"]),
       data_format=formats)
def test_upsampling_padding_cropping(data, rank, kind, data_format) -> None:
    if rank == 1:
        data_format = "channels_last"
    shape = data.draw(feature_map(rank, data_format))
    amount = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=rank, max_size=rank),
                                 st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=rank,
                                          max_size=rank)))
    if rank == 1 and isinstance(amount, list):
        amount = amount[0] if isinstance(amount[0], tuple) else tuple(amount * 2)[:2]
    extra = {} if rank == 1 else {"data_format": data_format}
    if kind == "UpSampling":
        size = data.draw(st.integers(1, 3)) if rank == 1 else data.draw(st.lists(st.integers(1, 3), min_size=rank,
                                                                               max_size=rank))
        layer = getattr(layers, f"UpSampling{rank}D")(size, **extra)
    elif kind == "ZeroPadding":
        layer = getattr(layers, f"ZeroPadding{rank}D")(amount, **extra)
    else:
        layer = getattr(layers, f"Cropping{rank}D")(amount, **extra)
    check(layer, shape)


@cases(30)
@given(data=st.data(), rank=st.integers(2, 4), units=st.integers(1, 9), use_bias=st.booleans(),
       quantize=st.sampled_from([None, "int8"]))
def test_dense_and_its_int8_form(data, rank, units, use_bias, quantize) -> None:
    shape = (None, *data.draw(st.lists(sizes, min_size=rank - 1, max_size=rank - 1)))
    layer = layers.Dense(units, use_bias=use_bias)
    if quantize:
        layer.build(shape)
        layer.quantize(quantize)
    check(layer, shape)


@cases(30)
@given(vocab=st.integers(2, 50), dim=st.integers(1, 9), length=st.one_of(st.none(), sizes),
       quantize=st.sampled_from([None, "int8"]))
def test_embedding(vocab, dim, length, quantize) -> None:
    layer = layers.Embedding(vocab, dim)
    if quantize:
        layer.build((None, length))
        layer.quantize(quantize)
    check(layer, (None, length), dtype="int32")


@cases(80)
@given(cls=st.sampled_from(["LSTM", "GRU", "SimpleRNN"]), units=st.integers(1, 8), feat=st.integers(1, 6),
       steps=st.one_of(st.none(), sizes), use_bias=st.booleans(), seq=st.booleans(), reset_after=st.booleans(),
       wrap=st.sampled_from([None, "concat", "sum", "mul", "ave"]))
def test_recurrent_and_bidirectional(cls, units, feat, steps, use_bias, seq, reset_after, wrap) -> None:
    extra = {"reset_after": reset_after} if cls == "GRU" else {}
    inner = getattr(layers, cls)(units, use_bias=use_bias, return_sequences=seq, **extra)
    layer = layers.Bidirectional(inner, merge_mode=wrap) if wrap else inner
    check(layer, (None, steps, feat))


@cases(60)
@given(data=st.data(), cls=st.sampled_from(["BatchNormalization", "LayerNormalization", "GroupNormalization"]),
       center=st.booleans(), scale=st.booleans(), rank=st.integers(2, 4))
def test_normalization(data, cls, center, scale, rank) -> None:
    shape = (None, *data.draw(st.lists(st.integers(1, 8), min_size=rank - 1, max_size=rank - 1)))
    axis = data.draw(st.sampled_from([-1, 1]))
    if cls == "GroupNormalization":
        c = shape[axis]
        layer = layers.GroupNormalization(groups=data.draw(st.sampled_from([g for g in (1, 2, 4) if c % g == 0])),
                                          axis=axis, center=center, scale=scale)
    else:
        layer = getattr(layers, cls)(axis=axis, center=center, scale=scale)
    check(layer, shape)


@cases(40)
@given(data=st.data(), rank=st.integers(2, 4))
def test_value_by_value_layers(data, rank) -> None:
    shape = (None, *data.draw(st.lists(st.integers(1, 6), min_size=rank - 1, max_size=rank - 1)))
    pick = data.draw(st.sampled_from(["Dropout", "ReLU", "LeakyReLU", "Softmax", "ELU", "PReLU", "Rescaling",
                                      "Activation", "Normalization", "UnitNormalization", "GaussianNoise"]))
    if pick == "PReLU":
        axes = data.draw(st.lists(st.integers(1, rank - 1), unique=True, max_size=rank - 1))
        layer = layers.PReLU(shared_axes=axes or None)
    elif pick == "Dropout":
        layer = layers.Dropout(0.3)
    elif pick == "Rescaling":
        layer = layers.Rescaling(1 / 255, offset=0.5)
    elif pick == "Activation":
        layer = layers.Activation("tanh")
    elif pick == "GaussianNoise":
        layer = layers.GaussianNoise(0.1)
    else:
        layer = getattr(layers, pick)()
    check(layer, shape)


@cases(60)
@given(data=st.data(), cls=st.sampled_from(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]))
def test_merges_with_broadcasting(data, cls) -> None:
    rank = data.draw(st.integers(1, 3))
    a = data.draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))
    b = [data.draw(st.sampled_from([s, 1])) for s in a]
    n = 2 if cls == "Subtract" else data.draw(st.integers(2, 3))
    shapes = [(None, *a), (None, *b), (None, *a)][:n]
    check(getattr(layers, cls)(), *shapes)


@cases(60)
@given(data=st.data(), rank=st.integers(1, 3), n=st.integers(2, 3))
def test_concatenate_on_any_axis(data, rank, n) -> None:
    axis = data.draw(st.sampled_from([-1, *range(1, rank + 1), *range(-rank, 0)]))
    base = data.draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[axis % (rank + 1) - 1 if axis > 0 else axis] = data.draw(st.one_of(st.integers(1, 5), st.none()))
        shapes.append((None, *s))
    check(layers.Concatenate(axis=axis), *shapes)


@cases(40)
@given(data=st.data())
def test_reshape_flatten_permute_repeat(data) -> None:
    kind = data.draw(st.sampled_from(["Reshape", "Flatten", "Permute", "RepeatVector", "Dot"]))
    if kind == "RepeatVector":
        check(layers.RepeatVector(data.draw(small)), (None, data.draw(sizes)))
        return
    if kind == "Dot":
        n = data.draw(sizes)
        check(layers.Dot(axes=data.draw(st.sampled_from([1, -1])), normalize=data.draw(st.booleans())),
              (None, n), (None, n))
        return
    dims = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    shape = (None, *dims)
    if kind == "Flatten":
        check(layers.Flatten(), shape)
    elif kind == "Permute":
        check(layers.Permute(data.draw(st.permutations(range(1, len(dims) + 1)))), shape)
    else:
        total = 1
        for d in dims:
            total *= d
        first = data.draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0]))
        target = data.draw(st.sampled_from([(first, -1), (-1, first), (first, total // first)]))
        check(layers.Reshape(target), shape)


@cases(40)
@given(heads=st.integers(1, 3), key_dim=st.integers(1, 4), value_dim=st.one_of(st.none(), st.integers(1, 4)),
       use_bias=st.booleans(), dq=st.integers(1, 6), dv=st.integers(1, 6), steps=st.integers(1, 5),
       with_key=st.booleans())
def test_multi_head_attention(heads, key_dim, value_dim, use_bias, dq, dv, steps, with_key) -> None:
    layer = layers.MultiHeadAttention(heads, key_dim, value_dim=value_dim, use_bias=use_bias)
    shapes = [(None, steps, dq), (None, steps + 1, dv)] + ([(None, steps + 1, dv + 1)] if with_key else [])
    check(layer, *shapes, call=lambda lyr, ins: lyr(*ins))


def test_a_keras_ops_call_gets_no_layer_formula() -> None:
    """keras.ops.add is drawn as an op named like the Add layer: it gets NumPy's broadcasting rule (shapes
    aligned from the right), never the Add layer's formula (which needs equal ranks)."""
    a, b = keras.Input((4, 3), name="a"), keras.Input((3,), name="b")
    out = keras.ops.add(a, b) * 2.0
    model = keras.Model([a, b], out)
    ops = [n for n in read(model).nodes if n.kind == "op"]
    assert ops
    for node in ops:
        found = raw_formula(node)
        assert found is None or "keras.ops" in found.text
    row = next(r for r in lab.shapes(model).rows if r.layer_class == "Add")
    assert row.formula_known and row.output_shapes == [tuple(out.shape)] and "aligned from the right" in \
        row.explanation
    assert layers.Add.__name__ == "Add" and raw_formula(ops[0]).shape == (None, 4, 3)


@pytest.mark.parametrize("app", ["ConvNeXtTiny", "MobileNetV2", "EfficientNetB0"])
def test_real_models_rows_are_right_or_absent(app: str) -> None:
    """ConvNeXtTiny's depthwise rows once said 451,680 for a 4,800-parameter layer."""
    model = getattr(keras.applications, app)(weights=None, input_shape=(64, 64, 3), include_top=False)
    trace = lab.shapes(model)
    assert trace.total_params == model.count_params()
    by_name = {layer.name: layer for layer in model.layers}
    checked = 0
    for row in trace.rows:
        layer = by_name.get(row.call)
        if layer is None or not row.formula_known or not row.param_formula:
            continue
        assert row.param_formula.endswith(f"= {layer.count_params():,}") or \
            f"= {layer.count_params():,} (" in row.param_formula, (row.call, row.param_formula)
        checked += 1
    # every row of a layer type that has a formula is explained (custom classes such as LayerScale may not be)
    from fapi_lab._formulas import FORMULAS

    silent = [r.call for r in trace.rows if r.layer_class in FORMULAS and not r.formula_known
              and r.call in by_name]
    assert checked > 10 and not silent, (checked, silent)
