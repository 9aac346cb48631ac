"""Folding: the graph a picture shows, with nested models and automatic blocks opened or closed one by one.

Two kinds of container fold:

* a **nested-model call** (node kind ``"model"``): closed, it is the call's own node, with Keras's edges into and
  out of the call; open, its inner layers replace it (:func:`fapi_lab._layergraph.splice`), their keys
  ``outer/inner``;
* an **automatic block** (node kind ``"group"``, found from the layers' name scopes by :mod:`._groups`): closed,
  one node standing for its layers; open, the layers themselves, keeping their own keys (a block is a drawing
  device, not a Keras object).

A closed block's edges are Keras's edges with one end inside it, contracted to the block: each tensor from
outside feeding the block is one edge into it (``dst_index`` numbers those tensors), each tensor of the block used
outside (or a model output) is one output of it (``src_index``). Edges inside a closed block are hidden, and all of
them are back when it opens. An open container is drawn as a labelled frame: its key is in the ``path`` of the
nodes inside and in the folded graph's ``frames``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ._groups import Block, find_blocks
from ._layergraph import Edge, Frame, LayerGraph, LayerInfo, Node, splice

__all__ = ["GROUPS", "contract", "fold", "foldable"]

GROUPS = ("auto", None)


def fold(graph: LayerGraph, *, depth: int | None = 0, groups: str | None = "auto",
         expanded: frozenset[str] = frozenset(), collapsed: frozenset[str] = frozenset()) -> LayerGraph:
    """The graph a picture shows.

    Nested-model calls and automatic blocks are one node each unless opened: a nested model by ``depth`` (levels
    of nested models opened; ``None`` opens every model and every block) or by being listed in ``expanded``; a
    block only by ``expanded`` (or ``depth=None``). ``collapsed`` closes what ``depth`` would open, and wins over
    ``expanded``. ``groups``: ``"auto"`` finds blocks in large graphs (see :mod:`._groups`); ``None`` finds none.
    """
    if groups not in GROUPS:
        raise ValueError(f"groups must be 'auto' (blocks from the layers' name scopes) or None (no blocks), "
                         f"not {groups!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"depth must be a whole number >= 0, or None to expand every level; got {depth!r}")
    taken = {n.key for n in graph.walk()}
    return _fold(graph, 0, (), _Choice(depth, groups == "auto", frozenset(expanded), frozenset(collapsed), taken))


def foldable(graph_shown: LayerGraph) -> dict[str, bool]:
    """Every container drawn in a folded graph: key -> True when drawn open (a frame), False when drawn as one box.

    An open nested model with nothing inside to draw (``keras.Model(x, x)``) has no frame, so is not listed."""
    drawn = {k for n in graph_shown.nodes for k in n.path}
    found = {f.key: True for f in graph_shown.frames if f.key in drawn}
    for n in graph_shown.nodes:
        if n.kind == "group" or (n.kind == "model" and n.subgraph is not None):
            found[n.key] = False
    return found


class _Choice:
    """What to open, shared by every level of one :func:`fold`."""

    def __init__(self, depth: int | None, groups: bool, expanded: frozenset[str], collapsed: frozenset[str],
                 taken: set[str]) -> None:
        self.depth, self.groups, self.expanded, self.collapsed, self.taken = depth, groups, expanded, collapsed, taken

    def opens_model(self, key: str, level: int) -> bool:
        if key in self.collapsed:
            return False
        return key in self.expanded or self.depth is None or level < self.depth

    def opens_block(self, key: str) -> bool:
        return key not in self.collapsed and (key in self.expanded or self.depth is None)


def _fold(graph: LayerGraph, level: int, prefix: tuple[str, ...], choice: _Choice) -> LayerGraph:
    """Fold one level of nesting; the nodes' ``path`` is made relative to this level, then ``prefix``-ed."""
    blocks = find_blocks(graph, choice.taken) if choice.groups else []
    closed = [b for b in blocks if not choice.opens_block(b.key)]
    open_blocks = [b for b in blocks if choice.opens_block(b.key)]
    shown = contract(graph, closed) if closed else graph
    block_of = {m: b.key for b in open_blocks for m in b.members}
    frames: list[Frame] = [_block_frame(graph, b) for b in open_blocks]
    nodes: list[Node] = []
    opened: dict[str, LayerGraph] = {}
    for n in shown.nodes:
        path = (*prefix, block_of[n.key]) if n.key in block_of else prefix
        if n.kind == "model" and n.subgraph is not None and choice.opens_model(n.key, level):
            opened[n.key] = _fold(n.subgraph, level + 1, (*path, n.key), choice)
            frames.append(Frame(n.key, "model", n.key.rsplit("/", 1)[-1], _count(n.subgraph), n.layer.params))
        nodes.append(n if n.path == path else replace(n, path=path))
    out = replace(shown, nodes=tuple(nodes), frames=tuple(frames))
    return splice(out, opened)


def _count(graph: LayerGraph) -> int:
    return sum(1 for n in graph.walk() if n.kind not in ("input", "group"))


def _block_frame(graph: LayerGraph, block: Block) -> Frame:
    members = [graph.node(k) for k in block.members]
    return Frame(block.key, "group", block.name, sum(_count_node(m) for m in members), _params(members))


def _count_node(node: Node) -> int:
    if node.subgraph is None:
        return 1
    return _count(node.subgraph)


def _params(members: Iterable[Node]) -> int:
    """Parameters of the distinct layers among ``members`` (a layer called twice inside counts once)."""
    return sum({m.layer.uid: m.layer.params for m in members}.values())


def contract(graph: LayerGraph, blocks: list[Block]) -> LayerGraph:
    """``graph`` with each block's members replaced by one node of kind ``"group"`` (see the module docstring).

    The blocks are disjoint and none contains an input node; the result keeps a topological order."""
    owner = {m: b for b in blocks for m in b.members}
    position = {n.key: i for i, n in enumerate(graph.nodes)}
    # the block's outputs: its tensors used outside it, or model outputs; its inputs: outside tensors it reads
    outs: dict[str, list[tuple[str, int]]] = {b.key: [] for b in blocks}
    ins: dict[str, list[tuple[str, int]]] = {b.key: [] for b in blocks}
    for e in graph.edges:
        a, b = owner.get(e.src), owner.get(e.dst)
        if a is not None and a is not b:
            outs[a.key].append((e.src, e.src_index))
        if b is not None and a is not b:
            ins[b.key].append((e.src, e.src_index))
    for key, index in graph.outputs:
        if key in owner:
            outs[owner[key].key].append((key, index))
    for d in (outs, ins):
        for k in d:
            d[k] = sorted(set(d[k]), key=lambda t: (position.get(t[0], -1), t[1]))
    out_index = {k: {t: i for i, t in enumerate(v)} for k, v in outs.items()}
    in_index = {k: {t: i for i, t in enumerate(v)} for k, v in ins.items()}

    def src_of(key: str, index: int) -> tuple[str, int]:
        b = owner.get(key)
        return (key, index) if b is None else (b.key, out_index[b.key][(key, index)])

    edges: list[Edge] = []
    for e in graph.edges:
        a, b = owner.get(e.src), owner.get(e.dst)
        if a is not None and a is b:
            continue
        src, src_index = src_of(e.src, e.src_index)
        if b is None:
            edges.append(replace(e, src=src, src_index=src_index))
        else:
            edges.append(replace(e, src=src, src_index=src_index, dst=b.key,
                                 dst_index=in_index[b.key][(e.src, e.src_index)]))
    group_nodes = {b.key: _group_node(graph, b, ins[b.key], outs[b.key], -1 - i) for i, b in enumerate(blocks)}
    first = {}
    for b in blocks:
        first[b.key] = min(position[m] for m in b.members)
    items = [n for n in graph.nodes if n.key not in owner] + list(group_nodes.values())
    rank = {n.key: position.get(n.key, first.get(n.key, 0)) for n in items}
    nodes = _toposort(items, edges, rank)
    outputs = tuple(src_of(k, i) for k, i in graph.outputs)
    return replace(graph, nodes=tuple(nodes), edges=tuple(dict.fromkeys(edges)), outputs=outputs)


def _group_node(graph: LayerGraph, block: Block, ins: list[tuple[str, int]], outs: list[tuple[str, int]],
                uid: int) -> Node:
    members = [graph.node(k) for k in block.members]
    keys = set(block.members)
    shape_of = {(n.key, i): s for n in members for i, s in enumerate(n.output_shapes)}
    dtype_of = {(n.key, i): d for n in members for i, d in enumerate(n.output_dtypes)}
    in_shape = {(e.src, e.src_index): (e.shape, e.dtype) for e in graph.edges if e.dst in keys}
    inner = LayerGraph(
        name=block.name, nodes=tuple(members), edges=tuple(e for e in graph.edges if e.src in keys and e.dst in keys),
        inputs=(), outputs=tuple(outs), class_name="Block")
    params = _params(members)
    trainable = sum({m.layer.uid: m.layer.trainable_params for m in members}.values())
    info = LayerInfo(uid=uid, name=block.name, class_name="Block", params=params, trainable_params=trainable,
                     trainable=any(m.layer.trainable for m in members))
    return Node(
        key=block.key, layer=info, kind="group", subgraph=inner,
        input_shapes=tuple(s for s, _ in (in_shape[t] for t in ins) if s is not None),
        output_shapes=tuple(shape_of[t] for t in outs if t in shape_of),
        input_dtypes=tuple(d for _, d in (in_shape[t] for t in ins) if d),
        output_dtypes=tuple(dtype_of[t] for t in outs if t in dtype_of),
        new_params=sum(m.new_params for m in members))


def _toposort(nodes: list[Node], edges: list[Edge], rank: dict[str, int]) -> list[Node]:
    """Nodes in an order where every edge goes forward, as close to ``rank`` order as that allows."""
    import heapq

    by_key = {n.key: n for n in nodes}
    indegree = dict.fromkeys(by_key, 0)
    succ: dict[str, set[str]] = {k: set() for k in by_key}
    for e in edges:
        if e.src in by_key and e.dst in by_key and e.dst not in succ[e.src] and e.src != e.dst:
            succ[e.src].add(e.dst)
            indegree[e.dst] += 1
    heap = [(rank[k], k) for k, d in indegree.items() if d == 0]
    heapq.heapify(heap)
    out: list[Node] = []
    while heap:
        _, k = heapq.heappop(heap)
        out.append(by_key[k])
        for s in succ[k]:
            indegree[s] -= 1
            if indegree[s] == 0:
                heapq.heappush(heap, (rank[s], s))
    if len(out) != len(nodes):  # a cycle: find_blocks only gives convex blocks, so this is a bug
        raise ValueError("internal: contracting the blocks made a cycle")
    return out
