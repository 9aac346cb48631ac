"""The one place that reads Keras internals.

It turns a Keras model, or the symbolic tensors of a model under construction, into the plain
:class:`~fapi_lab._layergraph.LayerGraph`. Nothing else in fapi_lab touches ``_inbound_nodes``,
``_keras_history``, ``Functional`` or ``Sequential`` internals; a Keras upgrade should change this file alone.

What it reads (Keras 3): every operation call made while building a functional graph is a ``Node``
appended to ``operation._inbound_nodes``; every symbolic output carries ``_keras_history`` =
``(operation, node_index, tensor_index)``; a functional model keeps the keys of its own nodes in ``_nodes``
(a shared layer's nodes may belong to several models).
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keras

from ._layergraph import Edge, LayerGraph, LayerInfo, Node, Shape

__all__ = [
    "SUBCLASSED_MESSAGE",
    "GraphReadError",
    "activation_values",
    "compiled_losses",
    "is_symbolic",
    "layer_gradient_norms",
    "model_input_specs",
    "read",
    "read_model",
    "read_tensors",
    "record_calls",
]

SUBCLASSED_MESSAGE = (
    "{name} is a subclassed model: its layers are wired up in Python code inside call(), so there is no "
    "static graph of layer calls to draw; only its inputs and outputs are known. Lesson 10 (functional or "
    "subclassed) explains the trade-off."
)

_CONFIG_KEYS = (
    "units", "filters", "kernel_size", "strides", "padding", "pool_size", "size", "dilation_rate",
    "output_padding", "target_shape", "axis", "axes", "normalize", "input_dim", "output_dim", "rate",
    "return_sequences", "return_state", "data_format", "keepdims", "depth_multiplier", "groups",
    "cropping", "dims", "n", "epsilon", "momentum", "center", "scale", "use_bias", "reset_after",
)


class GraphReadError(ValueError):
    """The object cannot be read as a layer graph; the message says why and what to do."""


# -- public entry points --------------------------------------------------------------------------------
def is_symbolic(obj: Any) -> bool:
    return isinstance(obj, keras.KerasTensor)


def read(obj: Any) -> LayerGraph:
    """A model, a symbolic tensor, or a list/dict of symbolic tensors -> LayerGraph."""
    if isinstance(obj, keras.Model):
        return read_model(obj)
    tensors = _flat_tensors(obj)
    if tensors:
        return read_tensors(tensors)
    raise GraphReadError(
        f"lab.graph() needs a Keras model or a symbolic tensor (the result of calling a layer on "
        f"keras.Input), not {type(obj).__name__}. Example: x = keras.Input((784,)); y = layers.Dense(64)(x); "
        f"lab.graph(y)"
    )


def read_model(model: keras.Model, *, prefix: str = "", path: tuple[str, ...] = (),
               seen: set[int] | None = None) -> LayerGraph:
    """The layer graph of a model. ``seen`` collects the ids of weights already counted (for nesting)."""
    seen = set() if seen is None else seen
    functional = _functional_of(model)
    if functional is None:
        if isinstance(model, keras.Sequential):
            raise GraphReadError(
                f"The Sequential model {model.name!r} has no input shape yet, so it has no graph. Start it "
                f"with keras.Input(shape=...) as its first layer, or call it once on data."
            )
        return _subclassed_graph(model, prefix, path, seen)
    nodes = _model_nodes(functional)
    inputs = _flat_tensors(functional.inputs)
    outputs = _flat_tensors(functional.outputs)
    graph = _build(nodes, inputs, outputs, name=model.name, prefix=prefix, path=path, seen=seen)
    names = tuple(getattr(model, "output_names", None) or ())
    return _with(graph, class_name=type(model).__name__, output_names=names or graph.output_names)


def read_tensors(tensors: Sequence[keras.KerasTensor]) -> LayerGraph:
    """The graph that leads to these symbolic tensors, before any keras.Model exists."""
    for t in tensors:
        if getattr(t, "_keras_history", None) is None:
            raise GraphReadError(
                "This tensor has no layer history: it was not produced by keras.Input or by calling a layer "
                "on one. Draw a tensor made like: y = layers.Dense(8)(keras.Input((4,)))"
            )
    nodes = _reachable_nodes(tensors)
    inputs = [n.outputs[0] for n in nodes if n.is_input]
    return _build(nodes, inputs, list(tensors), name="graph so far", prefix="", path=(), seen=set())


# -- reading nodes -------------------------------------------------------------------------------------
def _functional_of(model: keras.Model) -> Any | None:
    """The Functional graph behind a model: itself, a built Sequential's inner one, or None (subclassed)."""
    if isinstance(model, keras.Sequential):
        return getattr(model, "_functional", None)
    if hasattr(model, "_nodes") and hasattr(model, "_operations") and hasattr(model, "_nodes_by_depth"):
        return model
    return None


def _node_key(op: Any, node_index: int) -> str:
    return f"{id(op)}_ib-{node_index}"


def _model_nodes(functional: Any) -> list[Any]:
    wanted = functional._nodes
    found = []
    for op in functional.operations:
        for node_index, node in enumerate(op._inbound_nodes):
            if _node_key(op, node_index) in wanted:
                found.append(node)
    return found


def _reachable_nodes(tensors: Sequence[keras.KerasTensor]) -> list[Any]:
    seen: dict[int, Any] = {}
    stack = [t._keras_history for t in tensors]
    while stack:
        op, node_index, _ = stack.pop()
        if op is None:
            continue
        node = op._inbound_nodes[node_index]
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(kt._keras_history for kt in node.arguments.keras_tensors)
    return list(seen.values())


def _flat_tensors(obj: Any) -> list[keras.KerasTensor]:
    if isinstance(obj, keras.KerasTensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _flat_tensors(v)]
    if isinstance(obj, list | tuple):
        return [t for v in obj for t in _flat_tensors(v)]
    return []


def _history(t: keras.KerasTensor) -> tuple[Any, int, int]:
    h = t._keras_history
    return h.operation, h.node_index, h.tensor_index


# -- building the plain graph ------------------------------------------------------------------------------
def _keyed(raw_nodes: list[Any], inputs: Sequence[Any], prefix: str) -> list[tuple[str, Any, int, int]]:
    """(key, node, call_index, n_calls) in topological order: the one place layer keys are made."""
    by_id = {id(n): n for n in raw_nodes}
    for t in inputs:  # every declared input is present even if nothing uses it
        op, ni, _ = _history(t)
        node = op._inbound_nodes[ni]
        by_id.setdefault(id(node), node)
    ordered = _topological(list(by_id.values()))
    calls: dict[int, list[int]] = {}
    for node in ordered:
        calls.setdefault(id(node.operation), []).append(_index_in_op(node))
    for indices in calls.values():
        indices.sort()
    keyed = []
    for node in ordered:
        op = node.operation
        call_index = calls[id(op)].index(_index_in_op(node))
        key = prefix + (op.name if call_index == 0 else f"{op.name}#{call_index}")
        keyed.append((key, node, call_index, len(calls[id(op)])))
    return keyed


def _build(raw_nodes: list[Any], inputs: Sequence[Any], outputs: Sequence[Any], *, name: str, prefix: str,
           path: tuple[str, ...], seen: set[int]) -> LayerGraph:
    infos: dict[int, LayerInfo] = {}
    keys: dict[tuple[int, int], str] = {}
    plain: list[Node] = []
    ordered = []
    for key, node, call_index, n_calls in _keyed(raw_nodes, inputs, prefix):
        op = node.operation
        keys[(id(op), _index_in_op(node))] = key
        info = infos.get(id(op)) or infos.setdefault(id(op), _layer_info(op))
        plain.append(_plain_node(node, key, info, call_index, n_calls, path, seen))
        ordered.append(node)

    edges = []
    for node, pnode in zip(ordered, plain, strict=True):
        for i, kt in enumerate(node.arguments.keras_tensors):
            src_op, src_ni, ti = _history(kt)
            if src_op is None:
                continue
            src = keys.get((id(src_op), src_ni))
            if src is not None:
                edges.append(Edge(src, pnode.key, ti, i, _shape(kt), _dtype(kt)))

    input_keys = tuple(keys[(id(op), ni)] for op, ni, _ in map(_history, inputs))
    output_refs = tuple((keys[(id(op), ni)], ti) for op, ni, ti in map(_history, outputs))
    output_names = tuple(k.rsplit("/", 1)[-1] for k, _ in output_refs)
    return LayerGraph(name=name, nodes=tuple(plain), edges=tuple(edges), inputs=input_keys,
                      outputs=output_refs, output_names=output_names)


def _index_in_op(node: Any) -> int:
    for i, n in enumerate(node.operation._inbound_nodes):
        if n is node:
            return i
    raise GraphReadError(f"internal: node of {node.operation.name} not found among its calls")


def _topological(nodes: list[Any]) -> list[Any]:
    """Order nodes so every node comes after the nodes that feed it (stable: follows creation order)."""
    ids = {id(n) for n in nodes}
    # creation order: Keras appends to _inbound_nodes as calls happen; node ids are not ordered, so use a
    # depth-first post-order from the nodes in the order given
    order: list[Any] = []
    state: dict[int, int] = {}
    for start in nodes:
        if id(start) in state:
            continue
        stack: list[tuple[Any, bool]] = [(start, False)]
        while stack:
            node, done = stack.pop()
            if done:
                state[id(node)] = 2
                order.append(node)
                continue
            if state.get(id(node)):
                continue
            state[id(node)] = 1
            stack.append((node, True))
            parents = []
            for kt in node.arguments.keras_tensors:
                op, ni, _ = _history(kt)
                if op is not None:
                    parent = op._inbound_nodes[ni]
                    if id(parent) in ids and not state.get(id(parent)):
                        parents.append(parent)
            stack.extend((p, False) for p in reversed(parents))
    return order


def _plain_node(node: Any, key: str, info: LayerInfo, call_index: int, n_calls: int, path: tuple[str, ...],
                seen: set[int]) -> Node:
    op = node.operation
    outs = _flat_tensors(node.outputs)
    ins = list(node.arguments.keras_tensors)
    kind = "layer"
    subgraph = None
    if node.is_input or type(op).__name__ == "InputLayer":
        kind = "input"
    elif info.is_operation:
        kind = "op"
    elif isinstance(op, keras.Model) or _wrapped_model(op) is not None:
        inner_model = op if isinstance(op, keras.Model) else _wrapped_model(op)
        if _functional_of(inner_model) is None:
            kind = "subclassed"
        else:
            kind = "model"
            subgraph = read_model(inner_model, prefix=key + "/", path=(*path, key), seen=seen)
    return Node(
        key=key, layer=info, kind=kind, call_index=call_index, n_calls=n_calls,
        input_shapes=tuple(_shape(t) for t in ins), output_shapes=tuple(_shape(t) for t in outs),
        input_dtypes=tuple(_dtype(t) for t in ins), output_dtypes=tuple(_dtype(t) for t in outs),
        subgraph=subgraph, path=path,
        new_params=_new_params(op, seen) if subgraph is None else sum(n.new_params for n in subgraph.nodes),
    )


def _new_params(op: Any, seen: set[int]) -> int:
    """Size of the weights of ``op`` not counted yet; marks them as counted."""
    total = 0
    for w in getattr(op, "weights", None) or ():
        if id(w) not in seen:
            seen.add(id(w))
            total += _size(w.shape)
    return total


def _wrapped_model(op: Any) -> keras.Model | None:
    """The model inside a wrapper such as TimeDistributed(model), if any."""
    inner = getattr(op, "layer", None)
    return inner if isinstance(inner, keras.Model) else None


def _layer_info(op: Any) -> LayerInfo:
    is_layer = isinstance(op, keras.Layer)
    params = trainable_params = 0
    if is_layer and getattr(op, "built", True):
        try:
            params = int(op.count_params())
            trainable_params = int(sum(_size(w.shape) for w in op.trainable_weights))
        except ValueError:  # not built
            params = 0
    activation = None
    config: dict[str, Any] = {}
    if is_layer:
        try:
            raw = op.get_config()
        except Exception:  # a custom layer without a working get_config still gets drawn
            raw = {}
        act = raw.get("activation")
        if isinstance(act, str) and act != "linear":
            activation = act
        config = {k: _json_safe(raw[k]) for k in _CONFIG_KEYS if k in raw}
    return LayerInfo(
        uid=id(op), name=op.name, class_name=type(op).__name__, params=params,
        trainable_params=trainable_params, trainable=bool(getattr(op, "trainable", True)),
        activation=activation, config=config, is_model=isinstance(op, keras.Model),
        is_operation=not is_layer,
    )


def _subclassed_graph(model: keras.Model, prefix: str, path: tuple[str, ...], seen: set[int]) -> LayerGraph:
    info = _layer_info(model)
    node = Node(key=prefix + model.name, layer=info, kind="subclassed", path=path,
                new_params=_new_params(model, seen))
    return LayerGraph(name=model.name, nodes=(node,), edges=(), inputs=(), outputs=((node.key, 0),),
                      output_names=(model.name,), class_name=type(model).__name__, subclassed=True,
                      message=SUBCLASSED_MESSAGE.format(name=model.name))


def _with(graph: LayerGraph, **changes: Any) -> LayerGraph:
    from dataclasses import replace

    return replace(graph, **changes)


def _shape(t: Any) -> Shape:
    return tuple(None if d is None else int(d) for d in t.shape)


def _dtype(t: Any) -> str:
    return str(getattr(t, "dtype", "") or "")


def _size(shape: Iterable[Any]) -> int:
    total = 1
    for d in shape:
        total *= int(d)
    return total


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)


# -- watching a graph grow (lab.live) -------------------------------------------------------------------------
_recorders: list[Callable[[list[Any]], None]] = []
_record_lock = threading.Lock()


@contextmanager
def record_calls(callback: Callable[[list[Any]], None]) -> Iterator[None]:
    """Call ``callback(tensors)`` after every symbolic layer call made inside the block.

    ``tensors`` are the leaf outputs (produced but not yet consumed) of every call recorded so far, so
    ``read_tensors(tensors)`` is the whole graph built inside the block. Keras's ``Node`` constructor is where
    every symbolic call is registered, so that is where we listen; it is restored when the block ends.
    """
    from keras.src.ops import node as node_module

    recorded: list[Any] = []

    def listener(node: Any) -> None:
        if node.is_input and recorded and node in recorded:
            return
        recorded.append(node)
        consumed = {id(kt) for n in recorded for kt in n.arguments.keras_tensors}
        leaves = [t for n in recorded for t in _flat_tensors(n.outputs)
                  if id(t) not in consumed and getattr(t, "_keras_history", None) is not None]
        callback(leaves)

    with _record_lock:
        if not _recorders:
            original = node_module.Node.__init__

            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                original(self, *args, **kwargs)
                for rec in list(_recorders):
                    rec(self)

            init.__wrapped__ = original  # type: ignore[attr-defined]
            node_module.Node.__init__ = init
        _recorders.append(listener)
    try:
        yield
    finally:
        with _record_lock:
            _recorders.remove(listener)
            if not _recorders:
                node_module.Node.__init__ = node_module.Node.__init__.__wrapped__


# -- compile settings (lab.loss_weights) --------------------------------------------------------------------
def compiled_losses(model: keras.Model) -> tuple[Any, Any]:
    """(loss, loss_weights) exactly as passed to ``model.compile``, or (None, None) if not compiled."""
    config = getattr(getattr(model, "_compile_config", None), "config", None) or {}
    return config.get("loss"), config.get("loss_weights")


# -- activations and gradients (lab.get_activations, lab.gradients) -----------------------------------------
_FEATURE_MODELS: weakref.WeakKeyDictionary[Any, tuple[Any, list[tuple[str, Any, list[Any]]]]] = (
    weakref.WeakKeyDictionary())


def _feature_model(model: keras.Model) -> tuple[Any, list[tuple[str, Any, list[Any]]]]:
    """One cached model returning the output of every layer call of ``model`` (its outer level), the documents'
    own VGG19 feature-extraction pattern; with, for each call, its key, node and output tensors."""
    cached = _FEATURE_MODELS.get(model)
    if cached is not None:
        return cached
    functional = _functional_of(model)
    if functional is None:
        raise GraphReadError(
            f"{model.name} is a subclassed model: its layers are called inside Python code, so Keras has no graph "
            f"of their outputs and only the final output is available (lesson 10 explains why).")
    inputs = _flat_tensors(functional.inputs)
    keyed = [(key, node, _flat_tensors(node.outputs)) for key, node, _, _ in
             _keyed(_model_nodes(functional), inputs, "")]
    outputs = [t for _, _, outs in keyed for t in outs]
    feature = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=f"{model.name}_features")
    _FEATURE_MODELS[model] = (feature, keyed)
    return feature, keyed


def model_input_specs(model: keras.Model) -> list[tuple[str, tuple[int | None, ...]]]:
    functional = _functional_of(model)
    if functional is None:
        return []
    return [(t.name, _shape(t)) for t in _flat_tensors(functional.inputs)]


def activation_values(model: keras.Model, x: Any, *, prefix: str = "", training: bool = False) -> dict[str, list[Any]]:
    """Every layer call's output values for input ``x``, keyed as in ``flatten(read(model), None)``; nested
    models (and models inside TimeDistributed) are opened: Keras cannot build a sub-model that outputs a layer
    inside a nested model, so each nested call is re-run on the values that reached it."""
    import numpy as np

    feature, keyed = _feature_model(model)
    values = feature(x, training=training)
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
        op = node.operation
        inner = op if isinstance(op, keras.Model) else _wrapped_model(op)
        if inner is None or _functional_of(inner) is None:
            continue
        args = [by_tensor[id(t)] for t in node.arguments.keras_tensors]
        inner_inputs = {f"{prefix}{key}/{_history(t)[0].name}" for t in _flat_tensors(_functional_of(inner).inputs)}
        if inner is op:
            inner_x = args if len(args) > 1 else args[0]
            inner_values = activation_values(inner, inner_x, prefix=f"{prefix}{key}/", training=training)
            result.update({k: v for k, v in inner_values.items() if k not in inner_inputs})
        else:  # TimeDistributed(model): run the inner model on every time step at once
            seq = args[0]
            flat = seq.reshape((-1, *seq.shape[2:]))
            inner_values = activation_values(inner, flat, prefix=f"{prefix}{key}/", training=training)
            for k, vs in inner_values.items():
                if k not in inner_inputs:
                    result[k] = [v.reshape((seq.shape[0], seq.shape[1], *v.shape[1:])) for v in vs]
    return result


def layer_gradient_norms(model: keras.Model, x: Any, y: Any, loss: Any = None) -> dict[str, dict[str, float]]:
    """For each outer-level layer call: the norm of the loss gradient w.r.t. its output and (first call only)
    its weights."""
    import numpy as np
    import tensorflow as tf

    feature, keyed = _feature_model(model)
    out_refs = [(_history(t)[0], _history(t)[1], _history(t)[2]) for t in _flat_tensors(_functional_of(model).outputs)]
    position: dict[tuple[int, int, int], int] = {}
    i = 0
    for _key, node, outs in keyed:
        for j, _t in enumerate(outs):
            position[(id(node.operation), _index_in_op(node), j)] = i
            i += 1
    loss_fn = keras.losses.get(loss) if loss is not None else None
    with tf.GradientTape() as tape:
        values = feature(x, training=True)
        values = list(values) if isinstance(values, list | tuple) else [values]
        preds = [values[position[(id(op), ni, ti)]] for op, ni, ti in out_refs]
        if loss_fn is not None:
            ys = y if isinstance(y, list | tuple) else ([y[n] for n in model.output_names] if isinstance(y, dict)
                                                         else [y])
            total = sum(tf.reduce_mean(loss_fn(t, p)) for t, p in zip(ys, preds, strict=True))
        else:
            total = model.compute_loss(x=x, y=y, y_pred=preds if len(preds) > 1 else preds[0], training=True)
    weights = model.trainable_weights
    grads = tape.gradient(total, [*values, *weights])
    out_grads, weight_grads = grads[:len(values)], grads[len(values):]
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
