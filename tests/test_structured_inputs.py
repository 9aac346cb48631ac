"""Whatever ``model(x)`` accepts, fapi_lab accepts: structured inputs and outputs, with Keras as the oracle.

Hypothesis draws a *spec* (plain data) and :func:`build` turns it into a functional model whose inputs come in the
structures people build: one input, a list, a dict keyed unlike the ``Input`` names (in sorted or unsorted order),
a dict holding a list holding a dict, a list holding a dict; ``Input``s named or left to Keras's auto names; an
optional input (``keras.Input(optional=True)``) that may be given ``None``; inputs of shape ``(1,)`` and ``()`` whose
rank Keras standardizes; integer inputs; a nested model that takes a dict keyed unlike its own ``Input`` names;
outputs that are floats, booleans and integers, as one output, a list or a dict keyed unlike the layer names.

For each model, ``x`` is written the ways Keras reads it (the model's own structure, tuples for lists, dicts keyed
by the ``Input`` names, Keras's flatten order, ``[array]`` for one input, the rank differences, a dict with an extra
field, an optional input left out), and

- Keras accepts the same ``x`` and computes the same outputs as for the model's own structure (except where Keras
  itself pairs a dict with an extra field wrongly, or refuses a missing optional key: fapi_lab reads by key);
- ``lab.get_activations`` equals a Keras sub-model for every layer (inside the nested model: the nested model's own
  sub-model on what reached it), and ``model(x)`` for the outputs, dtypes included;
- ``lab.gradients`` runs, with the model compiled with a loss for each float output, in the model's own output
  structure;
- a broken ``x`` (a missing input, a wrong size or rank, ``None`` for a required input) is refused by Keras and by
  fapi_lab, whose message names every real input (its key and its ``Input`` name), never an internal tensor name.

Derandomized by default (about 40 s on 2 cores); ``FAPI_LAB_HYPOTHESIS=long`` searches ten times as many models
with random seeds (``tests/conftest.py``, profile ``structured``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab
from fapi_lab._arrays import n_samples, standardize, take

LONG = os.environ.get("FAPI_LAB_HYPOTHESIS") == "long"
N = 3  # samples
W = 4  # width of the vectors inside the models


# -- layers the generated models use ------------------------------------------------------------------------------
class AddIfGiven(layers.Layer):
    """``x + extra``, or ``x`` when the optional input was left out (``None``)."""

    def call(self, x: Any, extra: Any = None) -> Any:
        return x if extra is None else x + extra


class Positive(layers.Layer):
    """A boolean output."""

    def call(self, x: Any) -> Any:
        return keras.ops.greater(x, 0.0)

    def compute_output_spec(self, x: Any) -> Any:
        return keras.KerasTensor(x.shape, dtype="bool")


class ArgMax(layers.Layer):
    """An integer output."""

    def call(self, x: Any) -> Any:
        return keras.ops.cast(keras.ops.argmax(x, axis=-1), "int32")

    def compute_output_spec(self, x: Any) -> Any:
        return keras.KerasTensor(x.shape[:-1], dtype="int32")


class ExpandLast(layers.Layer):
    def call(self, x: Any) -> Any:
        return keras.ops.expand_dims(x, -1)


# -- specs and models ---------------------------------------------------------------------------------------------
KINDS = ("vec", "one", "scalar", "seq", "int")
SHAPES = {"vec": (3,), "one": (1,), "scalar": (), "seq": (2, 3), "int": (3,)}
FORMS = ("single", "list", "dict", "dict_unsorted", "nested", "list_dict")
VARIANTS = ("exact", "tuples", "rank", "names", "flat", "wrap", "extra", "omit")


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    optional = draw(st.booleans())
    total = n + optional
    forms = [f for f in FORMS if (f == "single") == (total == 1) or (f in ("list", "dict") and total == 1)]
    return {
        "kinds": [draw(st.sampled_from(KINDS)) for _ in range(n)],
        "named": [draw(st.booleans()) for _ in range(total)],
        "optional": optional,
        "give_optional": draw(st.booleans()),
        "form": draw(st.sampled_from(forms)),
        "nested": draw(st.booleans()),
        "outputs": draw(st.lists(st.sampled_from(["score", "flag", "rank"]), min_size=1, max_size=3, unique=True)),
        "output_form": draw(st.sampled_from(["list", "dict", "dict"])),
        "variants": draw(st.lists(st.sampled_from(VARIANTS), min_size=1, max_size=2, unique=True)),
        "seed": draw(st.integers(0, 2**16)),
    }


@dataclass
class Built:
    model: keras.Model
    tensors: list[Any]  # the Input tensors, in the order the spec made them (the optional one last)
    kinds: list[str]  # each one's kind ("opt" for the optional input)
    feeds: list[Any] = field(default_factory=list)  # what the nested model was given: (main, extra)
    inner: keras.Model | None = None
    output_layers: dict[Any, str] = field(default_factory=dict)  # output key (or index) -> layer name


def structure(form: str, items: list[Any], keys: list[str]) -> Any:
    """``items`` in one of the structures people build (``keys``: one per item, unlike the Input names)."""
    if form == "single":
        return items[0]
    if form == "list":
        return list(items)
    if form == "dict":
        return dict(zip(keys, items, strict=True))
    if form == "dict_unsorted":  # insertion order is not sorted order: Keras refuses a list for it
        return dict(reversed(list(zip(keys, items, strict=True))))
    if form == "nested":  # {"grp": [a, {"inner": b}], "k2": c, ...}
        first = [items[0], {"inner": items[1]}] if len(items) > 1 else [items[0]]
        return {"grp": first, **dict(zip(keys[2:], items[2:], strict=True))}
    # list_dict: [a, {"k1": b, ...}]
    return [items[0], dict(zip(keys[1:], items[1:], strict=True))] if len(items) > 1 else [items[0]]


def build(spec: dict[str, Any]) -> Built:
    tensors, kinds, vectors = [], [], []
    for i, kind in enumerate(spec["kinds"]):
        name = f"in{i}_{kind}" if spec["named"][i] else None
        t = keras.Input(SHAPES[kind], name=name, dtype="int32" if kind == "int" else "float32")
        tensors.append(t)
        kinds.append(kind)
        v = t
        if kind == "scalar":
            v = ExpandLast(name=f"expand_{i}")(v)
        if kind == "int":
            v = layers.GlobalAveragePooling1D(name=f"pool_{i}")(layers.Embedding(5, W, name=f"embed_{i}")(v))
        else:
            if kind == "seq":
                v = layers.GlobalAveragePooling1D(name=f"pool_{i}")(v)
            v = layers.Dense(W, activation="tanh", name=f"proj_{i}")(v)
        vectors.append(v)
    merged = vectors[0] if len(vectors) == 1 else layers.Concatenate(name="merge")(vectors)
    built = Built(None, tensors, kinds)  # type: ignore[arg-type]
    if spec["nested"]:  # a nested model keyed unlike its own Input names
        main = keras.Input((merged.shape[-1],), name="inner_main_input")
        extra = keras.Input((W,), name="inner_extra_input")
        joined = layers.Concatenate(name="inner_cat")([main, extra])
        built.inner = keras.Model({"main": main, "extra": extra}, layers.Dense(W, name="inner_dense")(joined),
                                  name="inner")
        built.feeds = [merged, vectors[0]]
        hidden = built.inner({"main": merged, "extra": vectors[0]})
    else:
        hidden = layers.Dense(W, name="hidden")(merged)
    if spec["optional"]:
        opt = keras.Input((W,), name="opt_input" if spec["named"][-1] else None, optional=True)
        tensors.append(opt)
        kinds.append("opt")
        hidden = AddIfGiven(name="add_opt")(hidden, opt)
    makers = {"score": lambda: layers.Dense(2, name="score_layer")(hidden),
              "flag": lambda: Positive(name="flag_layer")(hidden), "rank": lambda: ArgMax(name="rank_layer")(hidden)}
    outs = {f"out_{o}": makers[o]() for o in spec["outputs"]}
    if spec["output_form"] == "dict":
        outputs: Any = dict(reversed(list(outs.items())))  # keyed unlike the layers, in unsorted order
        built.output_layers = {k: f"{k[4:]}_layer" for k in outputs}
    else:
        outputs = list(outs.values()) if len(outs) > 1 else next(iter(outs.values()))
        built.output_layers = {i: f"{k[4:]}_layer" for i, k in enumerate(outs)}
    keys = [f"k{i}" for i in range(len(tensors))]
    built.model = keras.Model(structure(spec["form"], tensors, keys), outputs)
    return built


def canonical(built: Built, spec: dict[str, Any]) -> Any:
    """Data in the model's own structure."""
    rng = np.random.default_rng(spec["seed"])
    values = []
    for t, kind in zip(built.tensors, built.kinds, strict=True):
        if kind == "opt" and not spec["give_optional"]:
            values.append(None)
        elif kind == "int":
            values.append(rng.integers(0, 5, (N, *t.shape[1:])).astype("int32"))
        else:
            values.append(rng.normal(size=(N, *t.shape[1:])).astype("float32"))
    return keras.tree.pack_sequence_as(built.model.input, [values[_position(built, t)] for t in built.model.inputs])


def _position(built: Built, tensor: Any) -> int:
    return next(i for i, t in enumerate(built.tensors) if t is tensor)


def written(variant: str, x: Any, built: Built) -> tuple[Any, bool]:
    """``x`` written another way Keras reads it; and whether Keras itself computes the same outputs for it."""
    struct = built.model.input
    if variant == "tuples":
        return _tuples(x), True
    if variant == "rank":  # (n,) for an input of shape (1,), (n, 1) for one of shape ()
        def rank(t: Any, v: Any) -> Any:
            if v is None:
                return v
            return v[:, 0] if t.shape[1:] == (1,) else v[:, None] if t.shape[1:] == () else v
        return keras.tree.map_structure(rank, struct, x), True
    if variant == "names" and isinstance(struct, list | keras.KerasTensor):  # by the Input (layer) names
        tensors = struct if isinstance(struct, list) else [struct]
        values = x if isinstance(struct, list) else [x]
        if all(isinstance(t, keras.KerasTensor) for t in tensors):
            names = {id(layer.output): layer.name for layer in built.model.layers
                     if isinstance(layer, layers.InputLayer)}
            # Keras reads a dict by the layers' names in one place and by the tensors' in another: it can read one
            # only when they agree (named Inputs); fapi_lab reads either
            agree = all(names[id(t)] == t.name for t in tensors)
            return {names[id(t)]: v for t, v in zip(tensors, values, strict=True)}, agree
    if variant == "flat" and not (isinstance(struct, dict) and list(struct) != sorted(struct)):
        return keras.tree.flatten(x), True
    if variant == "wrap" and isinstance(struct, keras.KerasTensor):
        return [x], True
    if variant == "wrap" and isinstance(struct, list) and len(struct) == 1 and isinstance(struct[0], keras.KerasTensor):
        return x[0], True
    if variant == "extra" and isinstance(struct, dict):  # Keras pairs the flattened dict with its inputs: wrong
        return {**x, "an_extra_field": np.zeros((N, 7), "float32")}, False
    if variant == "omit" and isinstance(struct, dict) and any(k == "optional" for k in _dict_kinds(built)):
        key = next(k for k, kind in _dict_kinds(built).items() if kind == "optional")
        if x[key] is None:
            return {k: v for k, v in x.items() if k != key}, False  # Keras wants every key
    return x, True


def _dict_kinds(built: Built) -> dict[str, str]:
    struct = built.model.input
    return {k: "optional" if isinstance(t, keras.KerasTensor) and built.kinds[_position(built, t)] == "opt" else "-"
            for k, t in struct.items()}


def _tuples(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _tuples(v) for k, v in x.items()}
    if isinstance(x, list):
        return tuple(_tuples(v) for v in x)
    return x


def keras_call(model: keras.Model, x: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.tree.map_structure(lambda v: None if v is None else np.asarray(v), model(x))


def assert_same(got: Any, want: Any, what: str) -> None:
    if want is None:
        assert got is None, what
        return
    want = np.asarray(want)
    assert got is not None, what
    assert np.asarray(got).dtype == want.dtype, (what, np.asarray(got).dtype, want.dtype)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def expected_activations(built: Built, x: Any) -> dict[str, Any]:
    """Keras's own values: a sub-model for every layer, and the nested model's sub-models on what reached it."""
    model, want = built.model, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for layer in model.layers:
            if isinstance(layer, keras.Model):
                continue
            if isinstance(layer, layers.InputLayer):
                given = keras.tree.flatten(x)[[id(t) for t in model.inputs].index(id(layer.output))]
                want[layer.name] = None if given is None else np.asarray(keras.Model(model.input, layer.output)(x))
                continue
            want[layer.name] = np.asarray(keras.Model(model.input, layer.output)(x))
        if built.inner is not None:
            main, extra = keras.Model(model.input, built.feeds)(x)
            for layer in built.inner.layers:
                if not isinstance(layer, layers.InputLayer):
                    sub = keras.Model(built.inner.input, layer.output)
                    want[f"inner/{layer.name}"] = np.asarray(sub({"main": main, "extra": extra}))
    return want


def float_losses(built: Built) -> Any:
    """A loss for each float output, in the model's own output structure (None for the others)."""
    output = built.model.output
    loss = keras.tree.map_structure(lambda t: "mse" if t.dtype.startswith("float") else None, output)
    return loss


def targets(built: Built) -> Any:
    return keras.tree.map_structure(lambda t: np.zeros((N, *t.shape[1:]), t.dtype), built.model.output)


# -- the properties -------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(settings.get_profile("structured"), max_examples=1200 if LONG else 120)
@given(specs())
def test_whatever_keras_accepts_fapi_lab_accepts_and_computes_like_keras(spec: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = build(spec)
    model, x = built.model, canonical(built, spec)
    want = expected_activations(built, x)
    reference = keras_call(model, x)
    for variant in spec["variants"]:
        x_written, keras_agrees = written(variant, x, built)
        if keras_agrees:  # Keras reads it this way too: same outputs as for its own structure
            for got, out in zip(keras.tree.flatten(keras_call(model, x_written)), keras.tree.flatten(reference),
                                strict=True):
                assert_same(got, out, f"Keras on {variant}")
        acts = lab.get_activations(model, x_written)
        for key, value in want.items():
            assert_same(acts[key], value, f"{variant}: {key}")
        for out_key, layer_name in built.output_layers.items():  # the outputs are model(x)'s, whatever their keys
            out = reference if not isinstance(reference, dict | list) else reference[out_key]
            assert_same(acts[layer_name], out, f"{variant}: output {out_key!r}")
        assert n_samples(standardize(model, x_written)) == N
    losses = float_losses(built)
    if any(v is not None for v in keras.tree.flatten(losses)):
        model.compile(optimizer="sgd", loss=losses)
        norms = lab.gradients(model, x_written, targets(built))
        assert norms["score_layer"]["weights"] > 0
        assert all(np.isfinite(v) for entry in norms.values() for v in entry.values())


def broken(spec: dict[str, Any], built: Built, x: Any, how: int) -> Any:
    """x with one mistake: a required input left out, given None, or given the wrong size or rank."""
    struct = built.model.input
    required = [t for t in built.model.inputs if built.kinds[_position(built, t)] != "opt"]
    target = required[how % len(required)]
    kind = built.kinds[_position(built, target)]
    mistake = ("none", "size", "rank", "drop")[how % 4]
    if mistake == "size" and kind in ("one", "scalar"):
        mistake = "rank"

    def change(t: Any, v: Any) -> Any:
        if t is not target:
            return v
        if mistake == "none":
            return None
        if mistake == "size":
            return np.zeros((N, *t.shape[1:-1], t.shape[-1] + 2), v.dtype)
        return np.zeros((N, *t.shape[1:], 2), v.dtype)  # one axis too many, not of size 1

    if mistake == "drop" and isinstance(struct, dict) and any(t is target for t in struct.values()):
        return {k: v for k, v in x.items() if struct[k] is not target}
    if mistake == "drop":
        mistake = "none"
    return keras.tree.map_structure(change, struct, x)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(settings.get_profile("structured"), max_examples=1000 if LONG else 100)
@given(specs(), st.integers(0, 11))
def test_a_broken_x_is_refused_naming_the_models_real_inputs(spec: dict[str, Any], how: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = build(spec)
    model = built.model
    x = broken(spec, built, canonical(built, spec), how)
    with pytest.raises(Exception):  # noqa: B017 -- Keras refuses it too, in its own words
        keras_call(model, x)
    with pytest.raises(ValueError) as info:
        lab.get_activations(model, x)
    message = str(info.value)
    input_names = [layer.name for layer in model.layers if isinstance(layer, layers.InputLayer)]
    for name in input_names:
        assert repr(name) in message, (name, message)
    for key in _all_keys(model.input):
        assert repr(key) in message, (key, message)
    assert "keras_tensor" not in message, message
    with pytest.raises(ValueError, match="The model takes x = "):
        lab.activations(model, x)


def _all_keys(struct: Any) -> list[str]:
    if isinstance(struct, dict):
        return [k for key, v in struct.items() for k in (key, *_all_keys(v))]
    if isinstance(struct, list | tuple):
        return [k for v in struct for k in _all_keys(v)]
    return []


# -- examples a person would try ----------------------------------------------------------------------------------
def test_n_samples_and_take_keep_any_structure() -> None:
    x = {"b": [np.arange(4), None, {"c": np.ones((4, 2))}], "a": (np.zeros(4),)}
    assert n_samples(x) == 4
    part = take(x, np.array([1, 3]))
    assert isinstance(part["a"], tuple) and part["b"][1] is None
    np.testing.assert_array_equal(part["b"][0], [1, 3])
    assert part["b"][2]["c"].shape == (2, 2)
    assert n_samples([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) == 2  # a Python list of numbers is one array
    with pytest.raises(ValueError, match="found no array of samples"):
        n_samples({"a": None})


def test_a_sequential_model_and_the_rank_keras_standardizes() -> None:
    model = keras.Sequential([keras.Input((1,)), layers.Dense(3, name="d")], name="seq")
    x = np.arange(4, dtype="float32")  # (4,) for an input of shape (1,): Keras adds the axis
    np.testing.assert_allclose(lab.get_activations(model, x)["d"], keras_call(model, x), rtol=1e-6)
    with pytest.raises(ValueError, match=r"x has shape \(4, 2\), but Input '[^']+' takes arrays of shape \(n, 1\)"):
        lab.get_activations(model, np.zeros((4, 2), "float32"))
    with pytest.raises(ValueError, match="holds text"):
        lab.get_activations(model, np.array([["a"], ["b"]]))


def test_gradients_with_dict_outputs_keyed_unlike_the_layers() -> None:
    inp = keras.Input((5,), name="features")
    model = keras.Model(inp, {"zeta": layers.Dense(2, name="dense_a")(inp),
                              "alpha": layers.Dense(1, name="dense_b")(inp)})
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    y = {"zeta": np.zeros((4, 2), "float32"), "alpha": np.ones((4, 1), "float32")}
    by_key = lab.gradients(model, x, y, loss="mse")
    by_layer = lab.gradients(model, x, {"dense_a": y["zeta"], "dense_b": y["alpha"]}, loss="mse")
    assert by_key == by_layer
    with tf.GradientTape() as tape:  # the same loss, by hand
        out = model(x)
        loss = sum(keras.ops.mean(keras.losses.mean_squared_error(y[k], out[k])) for k in y)
    grads = dict(zip([w.path for w in model.trainable_weights], tape.gradient(loss, model.trainable_weights),
                     strict=True))
    expected = float(np.sqrt(sum(float(np.sum(np.square(g))) for p, g in grads.items() if p.startswith("dense_a/"))))
    assert by_key["dense_a"]["weights"] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match=r"y has no target for output\(s\) 'alpha'.*'zeta': <\(n, 2\) from layer "
                                         r"'dense_a'>"):
        lab.gradients(model, x, {"zeta": y["zeta"]}, loss="mse")
    with pytest.raises(ValueError, match="y has 3 samples but x has 4"):
        lab.gradients(model, x, {k: v[:3] for k, v in y.items()}, loss="mse")


def test_gradients_of_a_compiled_model_with_dict_outputs_keyed_unlike_the_layers() -> None:
    inp = keras.Input((5,), name="features")
    model = keras.Model(inp, {"zeta": layers.Dense(2, name="dense_a")(inp),
                              "alpha": layers.Dense(1, name="dense_b")(inp)})
    model.compile(optimizer="sgd", loss={"zeta": "mse", "alpha": "mae"})
    x = np.ones((4, 5), "float32")
    norms = lab.gradients(model, x, {"zeta": np.zeros((4, 2)), "alpha": np.zeros((4, 1))})
    assert norms["dense_a"]["weights"] > 0 and norms["dense_b"]["weights"] > 0


def test_gradients_with_an_optional_input_left_out() -> None:
    a, opt = keras.Input((2,), name="a"), keras.Input((2,), name="opt", optional=True)
    model = keras.Model([a, opt], layers.Dense(1, name="d")(AddIfGiven(name="add")(a, opt)))
    norms = lab.gradients(model, [np.ones((3, 2)), None], np.zeros((3, 1)), loss="mse")
    assert norms["d"]["weights"] > 0 and "opt" in norms
