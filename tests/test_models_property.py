"""Generated functional models, with Keras as the oracle: graph, keys, shapes, parameters and activations.

Hypothesis draws a *recipe* (plain data: inputs, steps, outputs) and one interpreter turns it into a model: several
inputs and outputs (as lists or as dicts keyed unlike the ``Input`` names), shared layers, ``keras.ops`` calls
(one with two outputs), a layer with three outputs (``LSTM(return_state=True)``), masks (``Embedding(mask_zero=True)``)
flowing into layers and into nested models, nested models called once or several times (a model that returns its
input unchanged, one called with a dict holding an extra field that it ignores, a Sequential, a model nesting
another, one inside ``TimeDistributed``), and sometimes a layer named like the second call of another (``d#1``).

For each model:

- **graph**: fapi_lab's nodes and edges, collapsed and expanded, equal the structure Keras serialises in
  ``get_config()`` (``tests/keras_reference.py``); keys are unique, every edge joins two drawn nodes;
- **keys**: every call the recipe made has the key the documented rule gives it;
- **shapes**: each call's output shapes are Keras's ``output.shape`` of the tensors the recipe got back, at every
  nesting level, and ``lab.shapes`` shows the same;
- **parameters**: each layer's count is Keras's ``count_params()``; the expanded graph (and ``lab.shapes``) counts
  ``model.count_params()`` once, shared weights included;
- **activations** (``lab.get_activations``, given ``x`` as the model takes it): every outer call's values, the
  model's outputs among them, equal the recipe run again eagerly on the same data (Keras calling the same layers one
  by one, with the masks it attaches, no graph); every nested call's inner values equal a Keras sub-model of the
  nested model run on what reached it (Keras matching the arguments and masks itself);
- **picture**: the built-in layout draws it.

The models are small and one process checks them all: layers, ``Input``s and nested models are made once and
shared between the generated models (as people share layers and models between models; every check reads only
the calls of the model at hand), so the default run checks 1,000 models in about two minutes on 2 cores.
``FAPI_LAB_HYPOTHESIS=long`` checks ten times as many, with random seeds (profile "graph" in ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab
from fapi_lab import _keras_adapter as adapter
from fapi_lab._layergraph import LayerGraph, flatten
from fapi_lab._layergraph_data import from_data, to_data
from fapi_lab._render_dot import to_dot
from fapi_lab._render_layout import layout_svg
from tests.keras_reference import name_part, structure, unique_keys

LONG = os.environ.get("FAPI_LAB_HYPOTHESIS") == "long"
N_MODELS = 10_000 if LONG else 1_000
T = 3  # sequence length
BATCH = 2
CHECKED: list[str] = []  # one entry per model checked, for the count test at the end


# -- recipes --------------------------------------------------------------------------------------------------
STEP_KINDS = ("dense", "dense", "shared", "merge", "merge", "op", "op", "act", "seq", "seq", "nested", "nested",
              "nested_again", "td")


@st.composite
def recipes(draw: st.DrawFn) -> dict[str, Any]:
    """A recipe; its theme puts what is rare by chance (masks into nested models, key collisions, models nested
    and shared) at its end, where the outputs are taken from."""
    theme = draw(st.sampled_from(["free", "free", "mask", "collide", "nested"]))
    n_inputs = draw(st.integers(1, 3))
    inputs = [(draw(st.sampled_from(["vec", "vec", "seq", "tok"])), draw(st.integers(2, 4))) for _ in range(n_inputs)]
    step = st.tuples(st.sampled_from(STEP_KINDS), st.integers(0, 63), st.integers(0, 63), st.integers(0, 63))
    steps = draw(st.lists(step, min_size=1 if theme == "free" else 0, max_size=6))
    if theme == "mask":
        inputs[0] = ("tok", inputs[0][1])
        steps = [("seq", 0, 0, 1), *steps, ("nested_seq", 1, *draw(st.tuples(st.integers(0, 63), st.integers(0, 63))))]
    elif theme == "collide":
        steps.append(("dense", *draw(st.tuples(st.integers(0, 63), st.integers(0, 63), st.integers(0, 63)))))
    elif theme == "nested":
        steps += [("nested", *draw(st.tuples(st.integers(0, 63), st.integers(0, 63), st.integers(0, 63)))),
                  ("nested_again", *draw(st.tuples(st.integers(0, 63), st.integers(0, 63), st.integers(0, 63))))]
    return {
        "inputs": inputs,
        "input_form": draw(st.sampled_from(["list", "list", "dict"])),
        "steps": steps,
        "n_outputs": draw(st.integers(1, 3)),
        "output_form": draw(st.sampled_from(["list", "list", "dict"])),
        "collide": theme == "collide",  # a Dense named like the second call of another, e.g. "L2_dense#1"
    }


# -- building and running one recipe ------------------------------------------------------------------------------
@dataclass
class Call:
    """One call the recipe made: its expected key (before the uniqueness rule), the tensors it returned."""

    base: str
    literal: bool
    outputs: list[Any]
    inputs: list[Any]  # every tensor the call was given
    position: int = 0  # among all the calls the recipe made (some lead to no output, so are no part of the model)
    layer: Any = None  # the Layer (or nested model) called, None for a keras.ops call
    nested: Built | None = None  # the nested model's own recipe, for a nested call
    args: Any = None  # what the nested call was given (a structure of tensors)
    wrapped: bool = False  # TimeDistributed(nested model)


@dataclass
class Built:
    model: keras.Model
    calls: list[Call]
    inputs: list[Any]  # the Input tensors, flattened in Keras's order
    keys: list[str] = field(default_factory=list)  # key of each call, after the uniqueness rule


_LAYERS: dict[tuple[Any, ...], Any] = {}
_INPUTS: dict[tuple[int, str, int], Any] = {}


class Interpreter:
    """Runs a recipe on symbolic tensors (``build``) or, with the layers made then, on eager values (``run``)."""

    def __init__(self, recipe: dict[str, Any], made: list[Any] | None = None) -> None:
        self.recipe = recipe
        self.made = made  # layers of the build, reused in order by a run
        self.new: list[Any] = []
        self.calls: list[Call] = []
        self.pool: list[tuple[Any, str, int, Call | None]] = []  # (tensor, "vec"|"seq"|"tok", width, its call)
        self.dense: list[tuple[Any, int]] = []  # (Dense layer, input width)

    def layer(self, key: tuple[Any, ...], make: Any) -> Any:
        """The next layer: in a build, the process's layer of this kind and place (made on first use: layers are
        shared between the generated models, as people share layers between models); in a run, the build's."""
        if self.made is not None:
            made = self.made[len(self.new)]
        else:
            made = _LAYERS.get(key)
            if made is None:
                made = _LAYERS[key] = make()
        self.new.append(made)
        return made

    def record(self, layer: Any, given: Any, outputs: Any, **extra: Any) -> Call:
        outs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        call = Call("", True, outs, keras.tree.flatten(given), len(self.calls), layer, **extra)
        self.calls.append(call)
        return call

    def add(self, tensor: Any, kind: str, width: int, call: Call | None) -> None:
        self.pool.append((tensor, kind, width, call))

    def pick(self, index: int, kinds: tuple[str, ...], width: int | None = None) -> tuple[Any, str, int] | None:
        found = [(t, k, w) for t, k, w, _ in self.pool if k in kinds and (width is None or w == width)]
        masked = [f for f in found if getattr(f[0], "_keras_mask", None) is not None]
        if masked and index % 2:  # sequences with a mask are the interesting ones
            found = masked
        return found[index % len(found)] if found else None

    # -- the steps --------------------------------------------------------------------------------------
    def interpret(self, inputs: list[Any]) -> list[Any]:
        for (kind, width), tensor in zip(self.recipe["inputs"], inputs, strict=True):
            self.add(tensor, kind, width, None)
        for i, (kind, a, b, c) in enumerate(self.recipe["steps"]):
            getattr(self, f"step_{kind}")(i, a, b, c)
        return self.outputs()

    def step_dense(self, i: int, a: int, b: int, c: int) -> None:
        src = self.pick(a, ("vec", "seq"))
        if src is None:
            return self.step_seq(i, a, b, c)
        tensor, kind, width = src
        units = 2 + b % 3
        name = f"L{i}_dense"
        if self.recipe["collide"] and i == len(self.recipe["steps"]) - 1:
            # a Dense called twice, then one named like its second call: two calls want the key "…#1"
            first = self.layer((name, width, width, None), lambda: layers.Dense(width, name=name))
            self.dense.append((first, width))
            once = first(tensor)
            self.add(once, kind, width, self.record(first, tensor, once))
            tensor = first(once)
            self.add(tensor, kind, width, self.record(first, once, tensor))
            name = f"{name}#1"
        activation = [None, "relu", "tanh"][c % 3]
        layer = self.layer((name, width, units, activation),
                           lambda: layers.Dense(units, activation=activation, name=name))
        self.dense.append((layer, width))
        out = layer(tensor)
        self.add(out, kind, units, self.record(layer, tensor, out))
        return None

    def step_shared(self, i: int, a: int, b: int, c: int) -> None:
        if not self.dense:
            return self.step_dense(i, a, b, c)
        layer, width = self.dense[b % len(self.dense)]
        src = self.pick(a, ("vec", "seq"), width)
        if src is None:
            return self.step_dense(i, a, b, c)
        tensor, kind, _ = src
        out = layer(tensor)
        self.add(out, kind, layer.units, self.record(layer, tensor, out))
        return None

    def step_merge(self, i: int, a: int, b: int, c: int) -> None:
        first = self.pick(a, ("vec", "seq"))
        if first is None:
            return self.step_seq(i, a, b, c)
        tensor, kind, width = first
        same = [t for t, k, w, _ in self.pool if k == kind and w == width]
        other = same[b % len(same)]
        cls = [layers.Add, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum, layers.Subtract,
               layers.Concatenate][c % 7]
        operands = [tensor, other] if cls is layers.Subtract or len(same) < 3 else [tensor, other, same[c % len(same)]]
        layer = self.layer((f"L{i}", cls.__name__), lambda: cls(name=f"L{i}_{cls.__name__.lower()}"))
        out = layer(operands)
        width = width * len(operands) if cls is layers.Concatenate else width
        self.add(out, kind, width, self.record(layer, operands, out))
        return None

    def step_op(self, i: int, a: int, b: int, c: int) -> None:
        src = self.pick(a, ("vec", "seq"))
        if src is None:
            return self.step_seq(i, a, b, c)
        tensor, kind, width = src
        choice = b % 6
        given: list[Any] = [tensor]
        if choice == 0:
            other = self.pick(c, (kind,), width)[0]
            given.append(other)
            out, width2 = keras.ops.add(tensor, other), width
        elif choice == 1:
            out, width2 = keras.ops.multiply(tensor, 2.0), width
        elif choice == 2:
            out, width2 = keras.ops.tanh(tensor), width
        elif choice == 3:
            other, _, w_other = self.pick(c, (kind,))
            given.append(other)
            out, width2 = keras.ops.concatenate([tensor, other], axis=-1), width + w_other
        elif choice == 4 and kind == "seq":
            out = keras.ops.mean(tensor, axis=1)
            self.add(out, "vec", width, self.record(None, given, out))
            return None
        elif width % 2 == 0:  # a keras.ops call with two outputs
            outs = keras.ops.split(tensor, 2, axis=-1)
            call = self.record(None, given, outs)
            for out in outs:
                self.add(out, kind, width // 2, call)
            return None
        else:
            out, width2 = keras.ops.relu(tensor), width
        self.add(out, kind, width2, self.record(None, given, out))
        return None

    def step_act(self, i: int, a: int, b: int, c: int) -> None:
        src = self.pick(a, ("vec", "seq"))
        if src is None:
            return self.step_seq(i, a, b, c)
        tensor, kind, width = src
        layer = self.layer((f"L{i}", b % 2), lambda: layers.Activation("sigmoid", name=f"L{i}_act") if b % 2 else
                           layers.Dropout(0.5, name=f"L{i}_dropout"))
        out = layer(tensor)
        self.add(out, kind, width, self.record(layer, tensor, out))
        return None

    def step_seq(self, i: int, a: int, b: int, c: int) -> None:
        tok = self.pick(a, ("tok",))
        seq = self.pick(a, ("seq",))
        if tok is not None and (seq is None or b % 2 == 0):
            tensor, _, width = tok
            layer = self.layer((f"L{i}_embedding", width, c % 3 != 0),
                               lambda: layers.Embedding(5, width, mask_zero=c % 3 != 0, name=f"L{i}_embedding"))
            out = layer(tensor)
            self.add(out, "seq", width, self.record(layer, tensor, out))
        elif seq is not None:
            tensor, _, width = seq
            if c % 3 == 0:
                layer = self.layer((f"L{i}_lstm", width), lambda: layers.LSTM(2, return_sequences=True,
                                                                                return_state=True, name=f"L{i}_lstm"))
                outs = layer(tensor)
                call = self.record(layer, tensor, outs)
                self.add(outs[0], "seq", 2, call)
                self.add(outs[1], "vec", 2, call)
                self.add(outs[2], "vec", 2, call)
            else:
                layer = self.layer((f"L{i}_pool",), lambda: layers.GlobalAveragePooling1D(name=f"L{i}_pool"))
                out = layer(tensor)
                self.add(out, "vec", width, self.record(layer, tensor, out))
        else:  # only vectors: a Dense, so every recipe makes some call
            tensor, kind, width = self.pick(a, ("vec",))
            layer = self.layer((f"L{i}_dense_v", width), lambda: layers.Dense(width, name=f"L{i}_dense_v"))
            out = layer(tensor)
            self.add(out, kind, width, self.record(layer, tensor, out))

    def step_nested(self, i: int, a: int, b: int, c: int, inner_kind: str | None = None) -> None:
        kinds = [k for k in INNER_KINDS if self.pick(a, INNER_KINDS[k][0]) is not None]
        if not kinds:
            return self.step_seq(i, a, b, c)
        kind = inner_kind or kinds[b % len(kinds)]
        src_kinds, arity = INNER_KINDS[kind]
        tensor, _, width = self.pick(a, src_kinds)
        inner = inner_model(kind, width)
        others = [t for t, k, w, _ in self.pool if k == src_kinds[0] and w == width]
        second = others[c % len(others)]
        third = others[(c // 2) % len(others)]
        if arity == "dict":  # keyed as the model's inputs, sometimes with an extra field it ignores
            args: Any = {"left": tensor, "right": second}
            if c % 3:
                args["zz_extra" if c % 3 == 1 else "0_extra"] = third
        elif arity == "names":  # the model takes a list; a dict keyed by the Input names is read by name
            names = [t.name for t in inner.model.inputs]
            args = {names[0]: tensor, names[1]: second, **({"unused": third} if c % 2 else {})} if b % 2 else \
                [tensor, second]
        else:
            args = tensor
        out = inner.model(args)
        outs = out if isinstance(out, list | tuple) else [out]
        call = self.record(inner.model, args, outs, nested=inner, args=args)
        for t, (k, w) in zip(outs, inner.out_kinds(width), strict=True):
            self.add(t, k, w, call)
        return None

    def step_nested_seq(self, i: int, a: int, b: int, c: int) -> None:
        self.step_nested(i, a, b, c, inner_kind="lstm_seq" if b % 2 else "pool_seq")

    def step_nested_again(self, i: int, a: int, b: int, c: int) -> None:
        called = [call.nested for call in self.calls if call.nested is not None and not call.wrapped]
        if not called:
            return self.step_nested(i, a, b, c)
        inner = called[b % len(called)]
        return self.step_nested(i, a, b, c, inner_kind=inner.kind)

    def step_td(self, i: int, a: int, b: int, c: int) -> None:
        src = self.pick(a, ("seq",))
        if src is None:
            return self.step_nested(i, a, b, c)
        tensor, _, width = src
        inner = inner_model("mlp", width)
        layer = self.layer((f"L{i}_per_step", width),
                           lambda: layers.TimeDistributed(inner.model, name=f"L{i}_per_step"))
        out = layer(tensor)
        self.add(out, "seq", width, self.record(layer, tensor, out, nested=inner, args=tensor, wrapped=True))

    def outputs(self) -> list[Any]:
        made = list({id(t): t for t, _, _, call in reversed(self.pool) if call is not None}.values())
        return list(reversed(made[: self.recipe["n_outputs"]])) if made else [self.pool[-1][0]]


# -- nested models: built once per process and shared, as a nested model is shared between models -----------------
INNER_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "mlp": (("vec",), "one"), "two_out": (("vec",), "one"), "identity": (("vec",), "one"),
    "identity_plus": (("vec",), "one"), "dict_in": (("vec",), "dict"), "list_in": (("vec",), "names"),
    "pool_seq": (("seq",), "one"), "lstm_seq": (("seq",), "one"), "deep": (("vec",), "one"),
    "sequential": (("vec",), "one"),
}


@dataclass
class Inner(Built):
    kind: str = ""

    def out_kinds(self, width: int) -> list[tuple[str, int]]:
        return [("vec" if len(t.shape) == 2 else "seq", int(t.shape[-1])) for t in self.model.outputs]


_INNER: dict[tuple[str, int], Inner] = {}


def keyed(model: keras.Model, calls: list[Call], built: Built) -> Built:
    """Keep the calls that are part of the model (they lead to an output) and give them the keys the documented
    rule gives: a layer's name, ``name#k`` for its call ``k`` in this model, an op's name; taken ones get ``~2``."""
    producer = {id(t): c for c in calls for t in c.outputs}
    wanted: set[int] = set()
    stack = list(model.outputs)
    while stack:
        call = producer.get(id(stack.pop()))
        if call is not None and id(call) not in wanted:
            wanted.add(id(call))
            stack.extend(call.inputs)
    kept = [c for c in calls if id(c) in wanted]
    op_names = {id(t): op.name for op in getattr(model, "operations", []) if not isinstance(op, keras.Layer)
                for t in keras.tree.flatten(op.output)}
    counts: dict[int, int] = {}
    for call in kept:
        if call.layer is None:
            call.base, call.literal = name_part(op_names[id(call.outputs[0])]), True
            continue
        k = counts.get(id(call.layer), 0)
        counts[id(call.layer)] = k + 1
        part = name_part(call.layer.name)
        call.base, call.literal = (part, part == call.layer.name) if k == 0 else (f"{part}#{k}", False)
    built.calls = kept
    built.keys = unique_keys([(c.base, c.literal) for c in kept])
    return built


def inner_model(kind: str, width: int) -> Inner:
    """The nested model of this kind and width, made on first use."""
    key = (kind, width)
    if key in _INNER:
        return _INNER[key]
    name = f"inner_{kind}_{width}"
    calls: list[Call] = []

    def rec(layer: Any, given: Any, out: Any, **extra: Any) -> Any:
        outs = list(out) if isinstance(out, list | tuple) else [out]
        calls.append(Call("", True, outs, keras.tree.flatten(given), len(calls), layer, **extra))
        return out

    vec = keras.Input((width,), name=f"{name}_in")
    if kind == "mlp":
        h = rec(d := layers.Dense(width, activation="relu", name="hidden"), vec, d(vec))
        model = keras.Model(vec, rec(e := layers.Dense(width, name="out"), h, e(h)), name=name)
    elif kind == "two_out":
        h = rec(d := layers.Dense(width, name="hidden"), vec, d(vec))
        model = keras.Model(vec, [h, rec(None, h, keras.ops.tanh(h))], name=name)
    elif kind == "identity":
        model = keras.Model(vec, vec, name=name)
    elif kind == "identity_plus":
        model = keras.Model(vec, [vec, rec(d := layers.Dense(width, name="dense"), vec, d(vec))], name=name)
    elif kind in ("dict_in", "list_in"):
        right = keras.Input((width,), name=f"{name}_right")
        m = layers.Subtract(name="difference") if kind == "dict_in" else layers.Concatenate(name="joined")
        s = rec(m, [vec, right], m([vec, right]))
        out = rec(d := layers.Dense(width, name="dense"), s, d(s))
        model = keras.Model({"left": vec, "right": right} if kind == "dict_in" else [vec, right], out, name=name)
    elif kind in ("pool_seq", "lstm_seq"):
        seq = keras.Input((T, width), name=f"{name}_in")
        layer = layers.GlobalAveragePooling1D(name="pool") if kind == "pool_seq" else layers.LSTM(width, name="lstm")
        model = keras.Model(seq, rec(layer, seq, layer(seq)), name=name)
    elif kind == "deep":
        sub = inner_model("mlp", width)
        h = rec(sub.model, vec, sub.model(vec), nested=sub, args=vec)
        model = keras.Model(vec, rec(d := layers.Dense(width, name="after"), h, d(h)), name=name)
    else:  # a Sequential, drawn like the functional model Keras builds inside it
        first, second = layers.Dense(width, name="first"), layers.Dense(width, name="second")
        model = keras.Sequential([keras.Input((width,), name=f"{name}_in"), first, second], name=name)
        rec(first, first.input, first.output)
        rec(second, second.input, second.output)
    inner = keyed(model, calls, Inner(model, [], list(model.inputs), kind=kind))
    _INNER[key] = inner
    return inner


def build(recipe: dict[str, Any]) -> tuple[Built, list[Any]]:
    """The model of a recipe, and the layers it made (in order)."""
    inputs = []
    for i, (kind, width) in enumerate(recipe["inputs"]):  # Inputs too are shared between models
        if (i, kind, width) not in _INPUTS:
            _INPUTS[(i, kind, width)] = keras.Input((width,) if kind == "vec" else (T, width) if kind == "seq" else
                                                    (T,), dtype="int32" if kind == "tok" else "float32",
                                                    name=f"input_{i}_{kind}{width}")
        inputs.append(_INPUTS[(i, kind, width)])
    interp = Interpreter(recipe)
    outs = interp.interpret(inputs)
    if recipe["input_form"] == "dict":  # keyed unlike the Input names, as a person may key them
        model_inputs: Any = {f"feature_{i}": t for i, t in enumerate(inputs)}
    else:
        model_inputs = inputs if len(inputs) > 1 else inputs[0]
    if recipe["output_form"] == "dict":
        model_outputs: Any = {f"target_{i}": t for i, t in enumerate(outs)}
    else:
        model_outputs = outs if len(outs) > 1 else outs[0]
    model = keras.Model(model_inputs, model_outputs, name="generated")
    return keyed(model, interp.calls, Built(model, [], list(model.inputs))), interp.new


def example_data(built: Built, recipe: dict[str, Any]) -> Any:
    rng = np.random.default_rng(len(recipe["steps"]))
    arrays = []
    for kind, width in recipe["inputs"]:
        if kind == "tok":
            arrays.append(rng.integers(0, 5, (BATCH, T)).astype("int32"))
        else:
            arrays.append(rng.normal(size=(BATCH, width) if kind == "vec" else (BATCH, T, width)).astype("float32"))
    if recipe["input_form"] == "dict":
        return {f"feature_{i}": a for i, a in enumerate(arrays)}
    return arrays if len(arrays) > 1 else arrays[0]


# -- the oracle's values ------------------------------------------------------------------------------------------
_PROBES: dict[int, keras.Model] = {}


def probe(inner: Built) -> keras.Model:
    """A Keras sub-model of a nested model returning the outputs of every call of its recipe."""
    if id(inner.model) not in _PROBES:
        outs = [t for call in inner.calls for t in call.outputs]
        args = [t for call in inner.calls if call.args is not None for t in keras.tree.flatten(call.args)]
        model = inner.model
        given = model.inputs[0] if isinstance(model, keras.Sequential) else model.input  # as a call passes data
        _PROBES[id(model)] = keras.Model(given, outs + args, name=f"probe_{model.name}")
    return _PROBES[id(inner.model)]


def inner_values(inner: Built, given: Any, prefix: str, found: dict[str, np.ndarray], wrapped: bool = False) -> None:
    """Keras's values of every call inside a nested call that was given ``given`` (as the call gave it)."""
    if not inner.calls:  # a model that returns its input: nothing inside
        return
    if wrapped:  # TimeDistributed: every time step is one sample
        seq = np.asarray(given)
        given = seq.reshape((-1, *seq.shape[2:]))
    values = probe(inner)(given)
    values = values if isinstance(values, list | tuple) else [values]
    by_id = {}
    tensors = [t for call in inner.calls for t in call.outputs]
    tensors += [t for call in inner.calls if call.args is not None for t in keras.tree.flatten(call.args)]
    for t, v in zip(tensors, values, strict=True):
        by_id[id(t)] = v
    for call, key in zip(inner.calls, inner.keys, strict=True):
        for j, t in enumerate(call.outputs):
            v = np.asarray(by_id[id(t)])
            if wrapped:
                v = v.reshape((BATCH, T, *v.shape[1:]))
            found[f"{prefix}{key}" + (f"[{j}]" if len(call.outputs) > 1 else "")] = v
        if call.nested is not None:
            sub_given = keras.tree.map_structure(lambda t: by_id[id(t)], call.args)
            inner_values(call.nested, sub_given, f"{prefix}{key}/", found)


def expected_values(built: Built, made: list[Any], recipe: dict[str, Any], x: Any) -> dict[str, np.ndarray]:
    """The recipe run again eagerly: Keras calling the same layers on the data, one call at a time, no graph."""
    arrays = keras.tree.flatten(x)
    values = [keras.ops.convert_to_tensor(arrays[i]) for i in range(len(arrays))]
    interp = Interpreter(recipe, made)
    interp.interpret(values)
    found: dict[str, np.ndarray] = {}
    for call, key in zip(built.calls, built.keys, strict=True):
        eager = interp.calls[call.position]
        for j, v in enumerate(eager.outputs):
            found[key + (f"[{j}]" if len(eager.outputs) > 1 else "")] = np.asarray(v)
        if call.nested is not None:
            inner_values(call.nested, eager.args, f"{key}/", found, wrapped=call.wrapped)
    return found


# -- the checks ------------------------------------------------------------------------------------------------
def check_graph(built: Built) -> LayerGraph:
    model = built.model
    graph = adapter.read(model)
    config = model.get_config()
    for expand in (False, True):
        nodes, edges, inputs, outputs = structure(config, expand=expand)
        g = flatten(graph, None if expand else 0)
        assert len(set(g.keys)) == len(g.keys), "keys must be unique"
        assert set(g.keys) == nodes, (expand, set(g.keys) ^ nodes)
        assert {(e.src, e.dst) for e in g.edges} == edges, (expand, {(e.src, e.dst) for e in g.edges} ^ edges)
        assert all(e.src in g.keys and e.dst in g.keys and e.src != e.dst for e in g.edges)
        assert list(g.inputs) == [k for k, _ in inputs]
        assert list(g.outputs) == outputs
    assert {n.layer.name for n in graph.nodes} == {op.name for op in model.operations}
    return graph


def check_calls(graph: LayerGraph, built: Built, prefix: str = "") -> None:
    """Keys, shapes and parameters of every call the recipe made, at every nesting level."""
    for call, key in zip(built.calls, built.keys, strict=True):
        node = graph.node(prefix + key)
        assert node.output_shapes == tuple(tuple(t.shape) for t in call.outputs), node.key
        if call.layer is not None:
            assert node.layer.name == call.layer.name
            assert node.layer.params == call.layer.count_params(), node.key
        if call.nested is not None:
            assert node.kind == "model" and node.subgraph is not None
            check_calls(node.subgraph, call.nested, f"{prefix}{key}/")


def check_values(graph: LayerGraph, built: Built, made: list[Any], recipe: dict[str, Any]) -> None:
    x = example_data(built, recipe)
    model = built.model
    got = lab.get_activations(model, x)
    want = expected_values(built, made, recipe, x)
    for key, value in want.items():
        base, _, j = key.partition("[")
        have = got[base] if not j else got[base][int(j[:-1])]
        np.testing.assert_allclose(np.asarray(have, dtype="float64"), np.asarray(value, dtype="float64"),
                                   rtol=1e-4, atol=1e-5, err_msg=key)
    # the model's outputs, as the eager run of the same layers computed them (Keras's model(x), one call at a time)
    flat = flatten(graph, None)
    outputs = [want.get(key, want.get(f"{key}[{index}]")) for key, index in flat.outputs]
    for (key, index), out in zip(flat.outputs, outputs, strict=True):
        value = got[key][index] if isinstance(got[key], list) else got[key]
        if out is None:  # an output that is a model input
            out = keras.tree.flatten(x)[list(graph.inputs).index(key)]
        np.testing.assert_allclose(value, np.asarray(out), rtol=1e-4, atol=1e-5, err_msg=f"output {key}")


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras warns about the dicts with an extra field
@settings(settings.get_profile("graph"), max_examples=N_MODELS)
@given(recipes())
def test_generated_models_match_keras(recipe: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built, made = build(recipe)
    graph = check_graph(built)
    check_calls(graph, built)
    expanded = flatten(graph, None)
    assert sum(n.new_params for n in expanded.nodes) == built.model.count_params()
    trace = {row.call: row for row in lab.shapes(built.model).rows}
    for node in expanded.nodes:
        assert trace[node.key].output_shapes == list(node.output_shapes)
    assert sum(trace[node.key].params for node in expanded.nodes) == built.model.count_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_values(graph, built, made, recipe)
    assert layout_svg(expanded).count('<g class="node"') == len(expanded.nodes)
    # saved in a notebook's widget state and read back (the course website draws fold states from it): the same
    # graph, configs included (== leaves them out), and the same picture
    again = from_data(json.loads(json.dumps(to_data(graph), allow_nan=False)))
    assert again == graph
    assert [n.layer.config for n in flatten(again, None).nodes] == [n.layer.config for n in expanded.nodes]
    assert to_dot(flatten(again, None)) == to_dot(expanded)
    CHECKED.append(built.model.name)
    if len(CHECKED) % 500 == 0:  # shared layers keep every model they were called in: start afresh now and then
        for made in (_LAYERS, _INPUTS, _INNER, _PROBES):
            made.clear()


def test_at_least_a_thousand_models_were_checked() -> None:
    if not CHECKED:
        pytest.skip("the generated-models test did not run in this session")
    assert len(CHECKED) >= 1_000
