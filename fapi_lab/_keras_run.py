"""The values of every layer call (``lab.get_activations``) and their gradients (``lab.gradients``).

Split off from ``_keras_adapter`` and, like it, allowed to read Keras internals (nodes, ``_keras_history``): it
runs the graph the adapter reads, so the two share the reading of nodes (:func:`keyed_nodes`,
:func:`call_arguments`) and keys.

One cached feature-extraction model per model returns the output of every layer call at its outer level (the
documents' own VGG19 pattern). It takes its inputs in the model's own structure (``model.input``: a dict keyed
like the model's, nested lists …), so whatever ``model(x)`` accepts, it accepts. Keras cannot build a sub-model
that outputs a layer inside a nested model, so each nested call is run again on the values (and masks) that
reached it, matched to the inner model's inputs the way Keras matches them.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import keras

from ._i18n import _
from ._keras_adapter import GraphReadError, call_arguments, functional_of, inner_model, keyed_nodes, no_graph_message

__all__ = ["activation_values", "layer_gradient_norms"]

_Keyed = list[tuple[str, Any, list[Any]]]
_FEATURE_MODELS: weakref.WeakKeyDictionary[Any, tuple[Any, _Keyed]] = weakref.WeakKeyDictionary()


def _flat(obj: Any) -> list[Any]:
    return [t for t in keras.tree.flatten(obj) if isinstance(t, keras.KerasTensor)] if obj is not None else []


def _feature_model(model: keras.Model) -> tuple[Any, _Keyed]:
    """The cached model returning every outer-level call's outputs, and for each call its key, node and outputs."""
    cached = _FEATURE_MODELS.get(model)
    if cached is not None:
        return cached
    functional = functional_of(model)
    if functional is None:
        raise GraphReadError(_("{why} So only the final output is available: call the model.").format(
            why=no_graph_message(model)))
    keyed = [(key, node, _flat(node.outputs)) for key, node, _, _ in keyed_nodes(functional)]
    outputs = [t for _, _, outs in keyed for t in outs]
    feature = keras.Model(functional.input, outputs, name=f"{model.name}_features")
    _FEATURE_MODELS[model] = (feature, keyed)
    return feature, keyed


def activation_values(model: keras.Model, x: Any, *, prefix: str = "", training: bool = False,
                      mask: Any = None) -> dict[str, list[Any]]:
    """Every layer call's output values for input ``x``, keyed as in ``flatten(read(model), None)``; nested
    models (and models inside TimeDistributed) are opened."""
    import numpy as np

    feature, keyed = _feature_model(model)
    values = feature(x, training=training) if mask is None else feature(x, training=training, mask=mask)
    values = values if isinstance(values, list | tuple) else [values]
    by_tensor: dict[int, Any] = {}
    result: dict[str, list[Any]] = {}
    i = 0
    for key, _node, outs in keyed:
        vals = [np.asarray(v) for v in values[i:i + len(outs)]]
        i += len(outs)
        for t, v in zip(outs, vals, strict=True):
            by_tensor[id(t)] = v
        result[prefix + key] = vals
    for key, node, _outs in keyed:
        inner = inner_model(node.operation)
        functional = functional_of(inner) if inner is not None else None
        if functional is None:
            continue
        n_inputs = len(_flat(functional.inputs))
        flat_x: list[Any] = [None] * n_inputs
        flat_mask: list[Any] = [None] * n_inputs
        for t, role, index in call_arguments(node):
            if role == "input":
                flat_x[index] = by_tensor[id(t)]
            elif role == "mask":
                flat_mask[index] = keras.ops.convert_to_tensor(by_tensor[id(t)])
        inner_prefix = f"{prefix}{key}/"
        inputs_inside = {inner_prefix + k for k, n, _ in _feature_model(inner)[1] if n.is_input}
        if inner is node.operation:
            inner_x = keras.tree.pack_sequence_as(functional.input, flat_x)
            inner_mask = flat_mask if any(m is not None for m in flat_mask) else None
            with warnings.catch_warnings():  # Keras says a Functional model "destroys" a mask it does use
                warnings.filterwarnings("ignore", message=".*passed an input with a mask attached to it")
                inner_values = activation_values(inner, inner_x, prefix=inner_prefix, training=training,
                                                 mask=inner_mask)
            result.update({k: v for k, v in inner_values.items() if k not in inputs_inside})
        else:  # TimeDistributed(model): run the inner model on every time step at once
            seq = flat_x[0]
            flat = seq.reshape((-1, *seq.shape[2:]))
            inner_values = activation_values(inner, flat, prefix=inner_prefix, training=training)
            for k, vs in inner_values.items():
                if k not in inputs_inside:
                    result[k] = [v.reshape((seq.shape[0], seq.shape[1], *v.shape[1:])) for v in vs]
    return result


def layer_gradient_norms(model: keras.Model, x: Any, y: Any, loss: Any = None) -> dict[str, dict[str, float]]:
    """For each outer-level layer call: the norm of the loss gradient w.r.t. its output and (first call only)
    its weights."""
    import numpy as np
    import tensorflow as tf

    feature, keyed = _feature_model(model)
    position: dict[int, int] = {}
    i = 0
    for _key, _node, outs in keyed:
        for t in outs:
            position[id(t)] = i
            i += 1
    out_positions = [position[id(t)] for t in _flat(functional_of(model).outputs)]
    loss_fn = keras.losses.get(loss) if loss is not None else None
    with tf.GradientTape() as tape:
        values = feature(x, training=True)
        values = list(values) if isinstance(values, list | tuple) else [values]
        preds = [values[p] for p in out_positions]
        if loss_fn is not None:
            ys = y if isinstance(y, list | tuple) else ([y[n] for n in model.output_names] if isinstance(y, dict)
                                                         else [y])
            total = sum(tf.reduce_mean(loss_fn(t, p)) for t, p in zip(ys, preds, strict=True))
        else:
            # in the model's own output structure (a dict keyed as the model was built), as fit passes them
            y_pred = keras.tree.pack_sequence_as(functional_of(model).output, preds)
            total = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
    weights = model.trainable_weights
    present = [k for k, v in enumerate(values) if v is not None]  # an optional input left out has no value
    grads = tape.gradient(total, [*(values[k] for k in present), *weights])
    out_grads: list[Any] = [None] * len(values)
    for k, g in zip(present, grads[:len(present)], strict=True):
        out_grads[k] = g
    weight_grads = grads[len(present):]
    by_weight = {id(w): g for w, g in zip(weights, weight_grads, strict=True)}
    result: dict[str, dict[str, float]] = {}
    i = 0
    seen: set[int] = set()
    for key, node, outs in keyed:
        g_out = [out_grads[i + j] for j in range(len(outs))]
        i += len(outs)
        out_norm = float(np.sqrt(sum(float(tf.reduce_sum(tf.square(g))) for g in g_out if g is not None)))
        entry = {"output": out_norm}
        op = node.operation
        ws = [w for w in getattr(op, "trainable_weights", []) if id(w) not in seen]
        if ws:
            seen.update(id(w) for w in ws)
            entry["weights"] = float(np.sqrt(sum(float(tf.reduce_sum(tf.square(by_weight[id(w)])))
                                                 for w in ws if by_weight.get(id(w)) is not None)))
        result[key] = entry
    return result
