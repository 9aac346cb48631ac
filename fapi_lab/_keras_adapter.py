"""The one place that reads Keras internals.

It turns a Keras model, or the symbolic tensors of a model under construction, into the plain
:class:`~fapi_lab._layergraph.LayerGraph`. Nothing else in fapi_lab touches ``_inbound_nodes``,
``_keras_history``, ``Functional`` or ``Sequential`` internals, except ``_keras_run`` (the values of every layer
call, for activations and gradients), split off from this file and sharing its reading of nodes; a Keras upgrade
should change these two files alone.

What it reads (Keras 3): every operation call made while building a functional graph is a ``Node``
appended to ``operation._inbound_nodes``; every symbolic output carries ``_keras_history`` =
``(operation, node_index, tensor_index)``; a functional model keeps the keys of its own nodes in ``_nodes``
(a shared layer's nodes may belong to several models). A node's ``arguments`` keep the call's ``args`` and
``kwargs`` as given: a nested model call's first argument is matched to the model's inputs the way Keras's
``Functional`` matches them when it runs, and ``kwargs["mask"]`` holds the Keras masks passed along.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import keras

from ._i18n import N_, _
from ._layergraph import Edge, LayerGraph, LayerInfo, Node, Shape

__all__ = [
    "NO_GRAPH_SEQUENTIAL_MESSAGE",
    "SUBCLASSED_MESSAGE",
    "SUBCLASSED_TRACE_MESSAGE",
    "GraphReadError",
    "Recording",
    "activation_values",
    "call_arguments",
    "compiled_losses",
    "functional_of",
    "inner_model",
    "is_symbolic",
    "keyed_nodes",
    "layer_gradient_norms",
    "model_input_specs",
    "no_graph_message",
    "read",
    "read_model",
    "read_tensors",
    "record",
    "record_calls",
]

SUBCLASSED_MESSAGE = N_(
    "{name} is a subclassed model: its layers are wired up in Python code inside call(), so there is no "
    "static graph of layer calls to draw; only its inputs and outputs are known. Lesson 10 (functional or "
    "subclassed) explains the trade-off."
)
SUBCLASSED_TRACE_MESSAGE = N_(  # the same, for lab.shapes
    "{name} is a subclassed model: its layers are wired up in Python code inside call(), so there is no "
    "static graph of layer calls to trace; only its inputs and outputs are known. Lesson 10 (functional or "
    "subclassed) explains the trade-off."
)
NO_GRAPH_SEQUENTIAL_MESSAGE = N_(
    "{name} is a Sequential model without a graph of its layers: it has no keras.Input, and the input it was first "
    "called on is not one array (or one of its layers cannot compute its output shape), so Keras runs its {n} layers "
    "one after another ({layers}) without tracing them. Only the model as a whole is known. To get its graph, start "
    "it with keras.Input(shape=...) as its first layer."
)
UNBUILT_SEQUENTIAL_MESSAGE = N_(
    "The Sequential model {name!r} has no input shape yet, so it has no graph. Start it with "
    "keras.Input(shape=...) as its first layer, or call it once on data."
)

_CONFIG_KEYS = (
    "units", "filters", "kernel_size", "strides", "padding", "pool_size", "size", "dilation_rate",
    "output_padding", "target_shape", "axis", "axes", "normalize", "input_dim", "output_dim", "rate",
    "return_sequences", "return_state", "data_format", "keepdims", "depth_multiplier", "groups",
    "cropping", "dims", "n", "epsilon", "momentum", "center", "scale", "use_bias", "reset_after",
    # for the shape and parameter formulas (_formulas): wrappers, attention, PReLU, Rescaling, quantization
    "layer", "merge_mode", "backward_layer", "num_heads", "key_dim", "value_dim", "attention_axes", "output_shape",
    "shared_axes", "offset", "mean", "dtype", "activation",
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
    raise GraphReadError(_(
        "lab.graph() needs a Keras model or a symbolic tensor (the result of calling a layer on "
        "keras.Input), not {kind}. Example: x = keras.Input((784,)); y = layers.Dense(64)(x); "
        "lab.graph(y)").format(kind=type(obj).__name__))


def read_model(model: keras.Model, *, prefix: str = "", path: tuple[str, ...] = (),
               seen: set[int] | None = None) -> LayerGraph:
    """The layer graph of a model. ``seen`` collects the ids of weights already counted (for nesting)."""
    seen = set() if seen is None else seen
    functional = functional_of(model)
    if functional is None:
        if isinstance(model, keras.Sequential) and not model.built:
            raise GraphReadError(_(UNBUILT_SEQUENTIAL_MESSAGE).format(name=model.name))
        return _opaque_graph(model, prefix, path, seen)
    nodes = _model_nodes(functional)
    inputs = _flat_tensors(functional.inputs)
    outputs = _flat_tensors(functional.outputs)
    graph = _build(nodes, inputs, outputs, name=model.name, prefix=prefix, path=path, seen=seen)
    names = tuple(getattr(model, "output_names", None) or ())
    return replace(graph, class_name=type(model).__name__, output_names=names or graph.output_names)


def read_tensors(tensors: Sequence[keras.KerasTensor], *, infos: dict[int, LayerInfo] | None = None) -> LayerGraph:
    """The graph that leads to these symbolic tensors, before any keras.Model exists.

    ``infos``: layer descriptions already read (by layer id), reused and added to: ``lab.live()`` reads the growing
    graph again and again, and a layer's settings cost more to read than the rest."""
    for t in tensors:
        if getattr(t, "_keras_history", None) is None:
            raise GraphReadError(_(
                "This tensor has no layer history: it was not produced by keras.Input or by calling a layer "
                "on one. Draw a tensor made like: y = layers.Dense(8)(keras.Input((4,)))"))
    nodes = _reachable_nodes(tensors)
    inputs = [n.outputs[0] for n in nodes if n.is_input]
    return _build(nodes, inputs, list(tensors), name="graph so far", prefix="", path=(), seen=set(), infos=infos)


def no_graph_message(model: Any, *, trace: bool = False) -> str:
    """Why a model without a graph of layer calls (subclassed, or a Sequential run layer by layer) has none
    (``trace``: said for lab.shapes, which traces rather than draws)."""
    if isinstance(model, keras.Sequential):
        names = [layer.name for layer in model.layers]
        shown = " → ".join(names[:8]) + (" → …" if len(names) > 8 else "")
        return _(NO_GRAPH_SEQUENTIAL_MESSAGE).format(name=repr(model.name), n=len(names), layers=shown)
    return _(SUBCLASSED_TRACE_MESSAGE if trace else SUBCLASSED_MESSAGE).format(name=model.name)


# -- reading nodes -------------------------------------------------------------------------------------
def functional_of(model: Any) -> Any | None:
    """The Functional graph behind a model: itself, a built Sequential's inner one, or None (no graph)."""
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
    return [t for t in keras.tree.flatten(obj) if isinstance(t, keras.KerasTensor)] if obj is not None else []


def _history(t: keras.KerasTensor) -> tuple[Any, int, int]:
    h = t._keras_history
    return h.operation, h.node_index, h.tensor_index


def inner_model(op: Any) -> keras.Model | None:
    """The model a call runs: the op itself (a nested model) or the model inside a wrapper (TimeDistributed)."""
    if isinstance(op, keras.Model):
        return op
    inner = getattr(op, "layer", None)
    return inner if isinstance(inner, keras.Model) else None


def call_arguments(node: Any) -> list[tuple[keras.KerasTensor, str, int]]:
    """Every symbolic tensor passed to a call, as ``(tensor, role, index)``.

    ``role`` is ``"input"``, ``"mask"`` (in ``kwargs["mask"]``) or ``"unused"`` (passed to a nested model that
    does not use it). For a call of a nested model (or a wrapper of one) ``index`` is the index of the inner
    model's input the tensor feeds, matched as Keras's ``Functional._standardize_inputs`` matches them (a dict
    by the inputs' names where the model takes a list; then flattened, dicts by sorted key, and paired in order);
    for any other call it is the tensor's position among all the call's tensors.
    """
    args, kwargs = node.arguments.args, node.arguments.kwargs
    inner = inner_model(node.operation)
    functional = functional_of(inner) if inner is not None else None
    if functional is None:
        found: list[tuple[keras.KerasTensor, str, int]] = [(t, "input", 0) for t in _flat_tensors(args)]
        for name in sorted(kwargs):
            found += [(t, "mask" if name == "mask" else "input", 0) for t in _flat_tensors(kwargs[name])]
        return [(t, role, i) for i, (t, role, _) in enumerate(found)]
    n_inputs = len(_flat_tensors(functional.inputs))
    rest = dict(kwargs)
    given = args[0] if args else rest.pop("inputs", None)
    mask = rest.pop("mask", None)
    flat = keras.tree.flatten(_standardize(given, functional.input)) if given is not None else []
    found = [(t, "input" if i < n_inputs else "unused", i) for i, t in enumerate(flat)
             if isinstance(t, keras.KerasTensor)]
    if mask is not None:
        found += [(t, "mask" if j < n_inputs else "unused", j) for j, t in enumerate(keras.tree.flatten(mask))
                  if isinstance(t, keras.KerasTensor)]
    others = _flat_tensors((list(args[1:]), rest))
    found += [(t, "unused", len(flat) + k) for k, t in enumerate(others)]
    return found


def _standardize(given: Any, struct: Any) -> Any:
    """Keras's Functional: a dict given to a model whose inputs are a list (or one tensor) is read by name."""
    if isinstance(given, dict) and not isinstance(struct, dict):
        if isinstance(struct, keras.KerasTensor):
            return [given[struct.name]] if struct.name in given else given
        names = [t.name for t in struct] if isinstance(struct, list | tuple) else []
        if names and all(isinstance(t, keras.KerasTensor) for t in struct) and set(names) <= set(given):
            return [given[n] for n in names]
    return given


# -- keys -------------------------------------------------------------------------------------------------
def _name_part(name: str) -> str:
    """A layer name as it appears in a key: with something visible, and no '/' (that separates nesting levels)."""
    visible = any(unicodedata.category(c)[0] not in "ZCM" for c in name)
    if not visible or not name.isprintable():
        name = repr(name)
    return name.replace("/", "∕")


def _keyed(raw_nodes: list[Any], inputs: Sequence[Any], prefix: str) -> list[tuple[str, Any, int, int]]:
    """(key, node, call_index, n_calls) in topological order: the one place layer keys are made.

    A key is the layer's name (``_name_part``), ``name#k`` for its call ``k`` > 0; if that is taken already, the
    name exactly as the user typed it keeps it and the other call gets ``~2`` (``~3`` …), so keys are unique
    whatever the names (``d#1`` beside the second call of ``d``)."""
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
    wanted = []
    for node in ordered:
        op = node.operation
        call_index = calls[id(op)].index(_index_in_op(node))
        part = _name_part(op.name)
        wanted.append((part if call_index == 0 else f"{part}#{call_index}", call_index == 0 and part == op.name))
    keys: list[str] = [""] * len(ordered)
    used: set[str] = set()
    for literal in (True, False):
        for i, (base, is_literal) in enumerate(wanted):
            if is_literal != literal:
                continue
            key, n = base, 2
            while key in used:
                key, n = f"{base}~{n}", n + 1
            used.add(key)
            keys[i] = key
    return [(prefix + key, node, calls[id(node.operation)].index(_index_in_op(node)), len(calls[id(node.operation)]))
            for key, node in zip(keys, ordered, strict=True)]


def keyed_nodes(functional: Any) -> list[tuple[str, Any, int, int]]:
    """``(key, node, call_index, n_calls)`` of every call in a Functional graph, keyed as :func:`read` keys them."""
    return _keyed(_model_nodes(functional), _flat_tensors(functional.inputs), "")


# -- building the plain graph ------------------------------------------------------------------------------
def _build(raw_nodes: list[Any], inputs: Sequence[Any], outputs: Sequence[Any], *, name: str, prefix: str,
           path: tuple[str, ...], seen: set[int], infos: dict[int, LayerInfo] | None = None) -> LayerGraph:
    infos = {} if infos is None else infos
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
        for t, role, index in call_arguments(node):
            src_op, src_ni, ti = _history(t)
            src = keys.get((id(src_op), src_ni)) if src_op is not None else None
            if src is not None:
                edges.append(Edge(src, pnode.key, ti, index, _shape(t), _dtype(t), role))

    input_keys = tuple(keys[(id(op), ni)] for op, ni, _ in map(_history, inputs))
    output_refs = tuple((keys[(id(op), ni)], ti) for op, ni, ti in map(_history, outputs))
    output_names = tuple(k.rsplit("/", 1)[-1] for k, _ in output_refs)
    return LayerGraph(name=name, nodes=tuple(plain), edges=tuple(edges), inputs=input_keys,
                      outputs=output_refs, output_names=output_names)


def _index_in_op(node: Any) -> int:
    try:
        return node.operation._inbound_nodes.index(node)  # nodes compare by identity
    except ValueError:
        raise GraphReadError(f"internal: node of {node.operation.name} not found among its calls") from None


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
    ins = [t for t, role, _ in sorted(call_arguments(node), key=lambda a: a[2]) if role == "input"]
    kind = "layer"
    subgraph = None
    inner = inner_model(op)
    if node.is_input or type(op).__name__ == "InputLayer":
        kind = "input"
    elif info.is_operation:
        kind = "op"
    elif inner is not None:
        if functional_of(inner) is None:
            kind = "nograph" if isinstance(inner, keras.Sequential) else "subclassed"
        else:
            kind = "model"
            subgraph = read_model(inner, prefix=key + "/", path=(*path, key), seen=seen)
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


def _opaque_graph(model: keras.Model, prefix: str, path: tuple[str, ...], seen: set[int]) -> LayerGraph:
    """One box for a model without a graph of layer calls: subclassed, or a Sequential run layer by layer."""
    info = _layer_info(model)
    kind = "nograph" if isinstance(model, keras.Sequential) else "subclassed"
    node = Node(key=prefix + _name_part(model.name), layer=info, kind=kind, path=path,
                new_params=_new_params(model, seen))
    return LayerGraph(name=model.name, nodes=(node,), edges=(), inputs=(), outputs=((node.key, 0),),
                      output_names=(model.name,), class_name=type(model).__name__, subclassed=True,
                      message=no_graph_message(model))


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


class Recording:
    """The symbolic calls recorded so far by :func:`record`; :meth:`leaves` gives their unconsumed outputs.

    Adding a call costs the size of its arguments, not of the whole recording, so recording a large model stays
    linear; the leaves are only worked out when asked for."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self._ids: set[int] = set()
        self._consumed: set[int] = set()

    def add(self, node: Any) -> bool:
        """Record a call; False for an input node seen already (Keras makes one node per Input, then reuses it)."""
        if id(node) in self._ids:
            return False
        self._ids.add(id(node))
        self.nodes.append(node)
        self._consumed.update(id(kt) for kt in node.arguments.keras_tensors)
        return True

    def leaves(self) -> list[Any]:
        """Outputs produced but not yet consumed: ``read_tensors(leaves())`` is the graph built so far."""
        return [t for n in self.nodes for t in _flat_tensors(n.outputs)
                if id(t) not in self._consumed and getattr(t, "_keras_history", None) is not None]


@contextmanager
def record_calls(callback: Callable[[list[Any]], None]) -> Iterator[None]:
    """Call ``callback(tensors)`` after every symbolic layer call made inside the block.

    ``tensors`` are the leaf outputs (produced but not yet consumed) of every call recorded so far, so
    ``read_tensors(tensors)`` is the whole graph built inside the block (see :func:`record` for a cheaper form).
    """
    with record(lambda rec: callback(rec.leaves())):
        yield


@contextmanager
def record(callback: Callable[[Recording], None]) -> Iterator[Recording]:
    """Call ``callback(recording)`` after every symbolic layer call made inside the block.

    Keras's ``Node`` constructor is where every symbolic call is registered, so that is where we listen; it is
    restored when the block ends."""
    from keras.src.ops import node as node_module

    recording = Recording()

    def listener(node: Any) -> None:
        if recording.add(node):
            callback(recording)

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
        yield recording
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


def model_input_specs(model: keras.Model) -> list[tuple[str, tuple[int | None, ...]]]:
    functional = functional_of(model)
    if functional is None:
        return []
    return [(t.name, _shape(t)) for t in _flat_tensors(functional.inputs)]


# -- activations and gradients live in _keras_run (they read the same nodes) ------------------------------
def activation_values(model: keras.Model, x: Any, **kwargs: Any) -> dict[str, list[Any]]:
    from ._keras_run import activation_values as values

    return values(model, x, **kwargs)


def layer_gradient_norms(model: keras.Model, x: Any, y: Any, loss: Any = None) -> dict[str, dict[str, float]]:
    from ._keras_run import layer_gradient_norms as norms

    return norms(model, x, y, loss)
