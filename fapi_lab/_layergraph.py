"""The layer graph as plain data: no Keras objects, no widgets.

Everything in fapi_lab (graph pictures, shape tables, activation and loss panels) starts from a
:class:`LayerGraph`, produced by the one adapter module (``_keras_adapter``) that reads Keras internals.

A graph is hierarchical: a call of a nested model (a model used like a layer) is one :class:`Node` of kind
``"model"`` whose ``subgraph`` holds the inner graph of that call, with keys prefixed ``outer_key/``.
:func:`flatten` turns that into the graph a picture shows at a chosen nesting depth.

Keys (``../shared/DESIGN.md``): a layer's name; ``name#1``, ``name#2`` … for the second and later calls of a
shared layer; ``outer_key/inner_key`` inside a nested model (``encoder/conv2d_1``). Keys are unique whatever
people name their layers (the adapter makes them): a ``/`` inside a name is shown as ``∕`` (so a key splits into
its nesting levels only at real ones); a name without a visible character (``''``, ``' '``, a zero-width space) is
shown quoted, as Python writes it (``' '``); and when a key is taken already (a layer named ``d#1`` beside the
second call of ``d``), the name the user typed keeps it and the other call gets ``~2`` (``d#1~2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["Edge", "Frame", "LayerGraph", "LayerInfo", "Node", "Shape", "flatten", "graph_depth", "splice"]

Shape = tuple[int | None, ...]

MERGE_CLASSES = frozenset({
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
})


@dataclass(frozen=True)
class LayerInfo:
    """One set of weights: a layer (or operation, or model), however many times it is called."""

    uid: int
    name: str
    class_name: str
    params: int = 0
    trainable_params: int = 0
    trainable: bool = True
    activation: str | None = None
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    is_model: bool = False
    is_operation: bool = False  # a keras.ops call, not a Layer


@dataclass(frozen=True)
class Node:
    """One call of a layer (or op, or nested model) in the graph."""

    key: str
    layer: LayerInfo
    kind: str  # "input" | "layer" | "op" | "model" | "subclassed" | "nograph" (a Sequential run without a graph)
    call_index: int = 0
    n_calls: int = 1  # calls of this layer in the graph being read (shared when > 1)
    input_shapes: tuple[Shape, ...] = ()
    output_shapes: tuple[Shape, ...] = ()
    input_dtypes: tuple[str, ...] = ()
    output_dtypes: tuple[str, ...] = ()
    subgraph: LayerGraph | None = None  # kind "model": the inner graph of this call
    path: tuple[str, ...] = ()  # keys of the nested-model calls this node sits inside, outermost first
    new_params: int = 0  # parameters first used by this call (0 for later calls of shared weights)

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def class_name(self) -> str:
        return self.layer.class_name

    @property
    def shared(self) -> bool:
        return self.n_calls > 1

    @property
    def is_merge(self) -> bool:
        return self.layer.class_name in MERGE_CLASSES

    @property
    def reused(self) -> bool:
        """True when every weight of this call was already used by an earlier call (shared weights)."""
        return self.layer.params > 0 and self.new_params == 0


@dataclass(frozen=True)
class Edge:
    """A tensor flowing from output ``src_index`` of ``src`` to input ``dst_index`` of ``dst``.

    ``role``: ``"input"`` (the usual), ``"mask"`` (a Keras mask passed along with an input: into a nested model
    call it is the mask of inner input ``dst_index``) or ``"unused"`` (passed to a nested model that ignores it,
    such as an extra field of a dict). For a nested model call, ``dst_index`` of an ``"input"`` edge is the index
    of the inner model's input it feeds (Keras's own matching of the call's arguments to the model's inputs).
    """

    src: str
    dst: str
    src_index: int = 0
    dst_index: int = 0
    shape: Shape | None = None
    dtype: str | None = None
    role: str = "input"


@dataclass(frozen=True)
class Frame:
    """An expanded container drawn as a labelled frame around its nodes: a nested-model call (kind ``"model"``)
    or an automatic block of layers (kind ``"group"``). ``key`` is the entry of the nodes' ``path``."""

    key: str
    kind: str  # "model" | "group"
    name: str  # what the frame's label says
    n_layers: int = 0  # layer calls inside (at every depth)
    params: int = 0


@dataclass(frozen=True)
class LayerGraph:
    """Nodes in topological order, edges between their keys, and which keys are inputs and outputs.

    ``outputs`` lists ``(key, output_index)`` pairs in the model's output order; ``output_names`` gives the
    name Keras uses for each (the key of the layer that produced it, for a functional model).
    """

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, int], ...]
    output_names: tuple[str, ...] = ()
    class_name: str = "Functional"
    subclassed: bool = False  # no graph of layer calls inside: a subclassed model, or a Sequential model Keras ran
    # layer by layer without building one; ``message`` says which, in words for the user
    message: str = ""
    frames: tuple[Frame, ...] = ()  # the expanded containers of a folded graph (``_folding.fold``)

    # -- lookups ---------------------------------------------------------------------------------------
    def node(self, key: str) -> Node:
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(n.key for n in self.nodes)

    def predecessors(self, key: str) -> list[str]:
        return _unique(e.src for e in self.edges if e.dst == key)

    def successors(self, key: str) -> list[str]:
        return _unique(e.dst for e in self.edges if e.src == key)

    def ancestors(self, key: str) -> set[str]:
        """``key`` and every node it is computed from (at this level of nesting)."""
        seen: set[str] = set()
        frontier = [key]
        while frontier:
            current = frontier.pop()
            if current not in seen:
                seen.add(current)
                frontier.extend(self.predecessors(current))
        return seen

    def walk(self) -> Iterator[Node]:
        """Every node at every depth, outer nodes before the inside of a nested call."""
        for n in self.nodes:
            yield n
            if n.subgraph is not None:
                yield from n.subgraph.walk()

    @property
    def output_keys(self) -> tuple[str, ...]:
        return tuple(_unique(k for k, _ in self.outputs))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def graph_depth(graph: LayerGraph) -> int:
    """How deep nested models go: 0 for a graph without nested models."""
    depths = [1 + graph_depth(n.subgraph) for n in graph.nodes if n.subgraph is not None]
    return max(depths, default=0)


def flatten(graph: LayerGraph, depth: int | None = 0) -> LayerGraph:
    """The graph a picture shows: nested-model calls expanded in place down to ``depth`` levels.

    ``depth=0`` keeps every nested model call as one box (Keras's own default picture); ``depth=None``
    expands everything. An expanded call's inner input nodes disappear: the tensors that fed the call feed the
    inner layers directly (a mask goes where its input goes; an argument the model ignores goes nowhere), and
    the inner layers that produced the call's outputs feed its consumers. An inner model that hands an input
    straight back as an output (``keras.Model(x, x)``) passes the tensor that fed it through. Expanded nodes keep
    their ``path`` so a renderer can draw a frame around each nested call.
    """
    if depth is not None and depth <= 0:
        return graph
    inner_depth = None if depth is None else depth - 1
    return splice(graph, {n.key: flatten(n.subgraph, inner_depth) for n in graph.nodes if n.subgraph is not None})


def splice(graph: LayerGraph, opened: dict[str, LayerGraph]) -> LayerGraph:
    """``graph`` with each nested-model call named in ``opened`` replaced by the nodes of the inner graph given
    for it (already flattened or folded as wanted), rewired as :func:`flatten` describes. The inner nodes are
    taken as they are (their ``path`` too)."""
    if not opened:
        return graph
    nodes: list[Node] = []
    inner_edges: list[Edge] = []
    expanded: set[str] = set()
    # where input i of an expanded call really goes, and where its output j really comes from
    entry: dict[tuple[str, int], list[tuple[str, int]]] = {}
    exit_: dict[tuple[str, int], tuple[str, int]] = {}
    passthrough: dict[tuple[str, int], int] = {}  # output j of a call is its own input i
    for n in graph.nodes:
        inner = opened.get(n.key)
        if inner is None:
            nodes.append(n)
            continue
        expanded.add(n.key)
        inner_inputs = {k: i for i, k in enumerate(inner.inputs)}
        nodes.extend(m for m in inner.nodes if m.key not in inner_inputs)
        for i, in_key in enumerate(inner.inputs):
            entry[(n.key, i)] = [(e.dst, e.dst_index) for e in inner.edges if e.src == in_key]
        for j, (out_key, out_index) in enumerate(inner.outputs):
            if out_key in inner_inputs:
                passthrough[(n.key, j)] = inner_inputs[out_key]
            else:
                exit_[(n.key, j)] = (out_key, out_index)
        inner_edges.extend(e for e in inner.edges if e.src not in inner_inputs)
    feeds = {(e.dst, e.dst_index): (e.src, e.src_index) for e in graph.edges if e.role == "input"}

    def source(key: str, index: int) -> tuple[str, int] | None:
        """Where output ``index`` of ``key`` really comes from once expanded calls are opened."""
        for _ in range(len(graph.nodes) + 1):
            if (key, index) in exit_:
                return exit_[(key, index)]
            if (key, index) not in passthrough:
                return key, index
            fed = feeds.get((key, passthrough[(key, index)]))
            if fed is None:  # an optional inner input that nothing feeds
                return None
            key, index = fed
        return None

    edges: list[Edge] = list(inner_edges)
    for e in graph.edges:
        src = source(e.src, e.src_index)
        if src is None:
            continue
        if e.dst not in expanded:
            edges.append(replace(e, src=src[0], src_index=src[1]))
        elif e.role != "unused":
            for dst, dst_index in entry.get((e.dst, e.dst_index), []):
                edges.append(replace(e, src=src[0], src_index=src[1], dst=dst, dst_index=dst_index))
    outputs = tuple(o for o in (source(k, i) for k, i in graph.outputs) if o is not None)
    frames = graph.frames + tuple(f for inner in opened.values() for f in inner.frames)
    return replace(graph, nodes=tuple(nodes), edges=tuple(_dedupe(edges)), outputs=outputs, frames=frames)


def _dedupe(edges: Iterable[Edge]) -> list[Edge]:
    return list(dict.fromkeys(edges))
