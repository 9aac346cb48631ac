"""Automatic blocks: layers grouped by the name scopes their names share, so a large model opens as a few boxes.

Keras applications name their layers by scope: ResNet ``conv2_block1_1_conv``, MobileNetV2 ``block_3_expand``,
EfficientNet ``block1a_dwconv``, ConvNeXt ``convnext_tiny_stage_0_block_0_depthwise_conv``; people write
``enc1_conv``, ``enc1_bn`` …. A **scope** is a leading run of a name's ``_``-separated words, shorter than the
name (a trailing ``_<number>``, Keras's way of making names unique, is not a word of its own); its **members** are
the layer calls whose names start with it.

The rule, for one level of a graph (nested models are looked at on their own):

1. only a level with at least :data:`MIN_LAYERS` layer calls is grouped;
2. the **repeated unit**: scopes that differ only in their numbers (``conv2_block1``, ``conv3_block4`` …) form a
   pattern; the pattern with at least two scopes whose typical size (geometric mean) is closest to the square
   root of the number of layer calls, and which covers most of them, gives the blocks (ResNet50: its 16 residual
   blocks, not its 4 stages nor the 48 conv-bn-relu triples);
3. then any other scope of at least :data:`MIN_MEMBERS` calls that overlaps no block found (the stem ``conv1``,
   ``expanded_conv``), closest to that size first, the longer scope first among equals;
4. a block must not make a cycle when it is drawn as one box (a layer outside it between two of its layers);
5. fewer than :data:`MIN_BLOCKS` blocks: none (small models, such as the lessons', are never grouped).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._layergraph import LayerGraph

__all__ = ["MIN_BLOCKS", "MIN_LAYERS", "MIN_MEMBERS", "Block", "find_blocks", "scopes"]

MIN_LAYERS = 40  # layer calls at one level before blocks are looked for
MIN_BLOCKS = 2  # blocks needed, else none
MIN_MEMBERS = 2  # layer calls in a block

_NUMBER = re.compile(r"\d+[a-z]?")


@dataclass(frozen=True)
class Block:
    """An automatic block: ``key`` (never a layer's key), the scope ``name`` and the keys of its layer calls."""

    key: str
    name: str
    members: tuple[str, ...]


def scopes(name: str) -> list[tuple[str, ...]]:
    """The scopes of a layer name, shortest first: ``conv2_block1_1_conv`` -> conv2, conv2_block1,
    conv2_block1_1."""
    words = name.split("_")
    if len(words) > 1 and words[-1].isdigit():
        words = words[:-1]
    return [tuple(words[:k]) for k in range(1, len(words))]


def find_blocks(graph: LayerGraph, taken: Iterable[str] = ()) -> list[Block]:
    """The automatic blocks of one level of ``graph`` (see the module docstring), in node order.

    ``taken``: keys already used (every layer key of the whole graph), which a block's key never equals."""
    calls = [n for n in graph.nodes if n.kind != "input"]
    if len(calls) < MIN_LAYERS:
        return []
    position = {n.key: i for i, n in enumerate(graph.nodes)}
    members: dict[tuple[str, ...], list[str]] = {}
    for n in calls:
        for scope in scopes(n.layer.name):
            members.setdefault(scope, []).append(n.key)
    candidates = {s: m for s, m in members.items() if len(m) >= MIN_MEMBERS}
    target = math.sqrt(len(calls))

    def cost(sizes: list[int]) -> float:
        typical = math.exp(sum(math.log(s) for s in sizes) / len(sizes))
        return abs(math.log(typical / target)) - math.log(sum(sizes) / len(calls))

    patterns: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for s in candidates:
        patterns.setdefault(tuple(_NUMBER.sub("#", w) for w in s), []).append(s)
    repeated = [(cost([len(candidates[s]) for s in found]), -len(p), p) for p, found in patterns.items()
                if len(found) >= 2]
    order: list[tuple[str, ...]] = []
    if repeated:
        order += sorted(patterns[min(repeated)[2]], key=lambda s: position[candidates[s][0]])
    order += sorted(candidates, key=lambda s: (abs(math.log(len(candidates[s]) / target)), -len(s),
                                               position[candidates[s][0]]))

    checker = _Acyclic(graph)
    chosen: list[tuple[str, ...]] = []
    used: set[str] = set()
    for s in order:
        keys = candidates[s]
        if used.intersection(keys) or not checker.add(keys):
            continue
        chosen.append(s)
        used.update(keys)
    if len(chosen) < MIN_BLOCKS:
        return []
    chosen.sort(key=lambda s: position[candidates[s][0]])
    prefix = _key_prefix(calls[0].key)
    taken = set(taken)
    blocks = []
    for s in chosen:
        name = "_".join(s)
        key = prefix + name
        n = 1
        while key in taken:
            key = f"{prefix}{name}~block{n if n > 1 else ''}"
            n += 1
        taken.add(key)
        blocks.append(Block(key, name, tuple(candidates[s])))
    return blocks


def _key_prefix(key: str) -> str:
    """``outer/`` for the keys inside a nested model call ``outer``, '' at the top."""
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


class _Acyclic:
    """Blocks accepted so far; :meth:`add` accepts one more only if the graph with all of them drawn as one box
    each has no cycle."""

    def __init__(self, graph: LayerGraph) -> None:
        self.succ: dict[str, set[str]] = {n.key: set() for n in graph.nodes}
        for e in graph.edges:
            if e.src in self.succ and e.dst in self.succ:
                self.succ[e.src].add(e.dst)
        self.owner: dict[str, str] = {}

    def add(self, keys: list[str]) -> bool:
        label = keys[0]
        trial = dict(self.owner)
        trial.update(dict.fromkeys(keys, "\0" + label))
        if _has_cycle(self.succ, trial):
            return False
        self.owner = trial
        return True


def _has_cycle(succ: dict[str, set[str]], owner: dict[str, str]) -> bool:
    contracted: dict[str, set[str]] = {}
    for a, bs in succ.items():
        ca = owner.get(a, a)
        out = contracted.setdefault(ca, set())
        for b in bs:
            cb = owner.get(b, b)
            if cb != ca:
                out.add(cb)
    indegree = dict.fromkeys(contracted, 0)
    for bs in contracted.values():
        for b in bs:
            indegree[b] = indegree.get(b, 0) + 1
    ready = [k for k, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        k = ready.pop()
        seen += 1
        for b in contracted.get(k, ()):
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    return seen != len(indegree)
