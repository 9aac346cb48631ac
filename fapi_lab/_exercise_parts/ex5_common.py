"""Helpers of the ex5 judges: shared calls, merges and sigmoid outputs read from the graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._exercises import Problem, Stop, explain_raised, output_map
from .._i18n import _
from .._layergraph import LayerGraph, Node

__all__ = [
    "_calls_by_weights",
    "_concatenated",
    "_equal_halves",
    "_merge_inputs",
    "_names",
    "_raised",
    "_reads_each_input_once",
    "_sigmoid_output",
]


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
def _raised(exc: BaseException, what: str) -> str:
    """lab.explain's reading of the error without its general fix: a judge's message shows no code."""
    return explain_raised(exc, what, with_fix=False)


def _names(items: Sequence[str]) -> str:
    return ", ".join(repr(i) for i in items)


def _merge_inputs(graph: LayerGraph, key: str) -> list[str]:
    """The keys feeding a layer call, in the order of its inputs."""
    return [e.src for e in sorted((e for e in graph.edges if e.dst == key), key=lambda e: e.dst_index)]


def _calls_by_weights(nodes: Sequence[Node]) -> dict[int, list[Node]]:
    """Layer calls grouped by the layer (the set of weights) they call, in graph order."""
    groups: dict[int, list[Node]] = {}
    for n in nodes:
        groups.setdefault(n.layer.uid, []).append(n)
    return groups


def _reads_each_input_once(graph: LayerGraph, calls: Sequence[Node], what: str) -> list[Problem]:
    """The calls of a shared layer or model read the model's inputs directly, one call per input."""
    read = [_merge_inputs(graph, n.key) for n in calls]
    if sorted(k for r in read for k in r) == sorted(graph.inputs) and all(len(r) == 1 for r in read):
        return []
    said = "; ".join(_("{key!r} reads {names}").format(key=n.key, names=_names(r) or _("nothing"))
                     for n, r in zip(calls, read, strict=True))
    return [Problem(_("{what} is called {n} times, but the calls do not read one input each ({said}). Call it "
                      "exactly once on each of the inputs {inputs}, directly on the input tensor.").format(
                          what=_(what), n=len(calls), said=said, inputs=_names(graph.inputs)),
                    tuple(n.key for n in calls), code="calls-not-one-per-input")]


def _concatenated(graph: LayerGraph, calls: Sequence[Node], each: int, what: str) -> tuple[Node | None, list[Problem]]:
    """The Concatenate that joins the calls' results; or a problem naming what joins them instead."""
    keys = {n.key for n in calls}
    for node in graph.nodes:
        if node.class_name == "Concatenate" and keys <= set(_merge_inputs(graph, node.key)):
            return node, []
    readers = [graph.node(k) for k in dict.fromkeys(s for n in calls for s in graph.successors(n.key))]
    found = ", ".join(f"{r.class_name} {r.key!r}" for r in readers) or _("nothing")
    return None, [Problem(
        _("The two {what} go into {found}; the task joins them side by side with a concatenate, into one vector of "
          "{n} numbers, so that the output layer sees both and can compare them.").format(
              what=_(what), found=found, n=2 * each),
        tuple(r.key for r in readers) or tuple(keys), code="not-concatenated")]


def _sigmoid_output(graph: LayerGraph, name: str, meaning: str) -> list[Problem]:
    key = output_map(graph)[name][0]
    activation = graph.node(key).layer.activation or "linear"
    if activation == "sigmoid":
        return []
    return [Problem(_("Output {name!r} has activation {activation!r}; the task's output is one probability "
                      "({meaning}), so it uses 'sigmoid'.").format(name=name, activation=activation,
                                                                  meaning=_(meaning)),
                    (key,), code="output-activation")]


def _equal_halves(model: Any, merge: Node, out_key: str, batch: dict[str, np.ndarray], what: str) -> None:
    """Feed the same data to both inputs: the two halves of the concatenated vector must be equal. The values are
    read with lab.get_activations (by graph key), so a concatenate written as an operation works too."""
    from .._activations import get_activations

    n = len(next(iter(batch.values())))
    try:
        values = get_activations(model, batch, layers=[merge.key, out_key])
    except Exception as exc:
        raise Stop(_raised(exc, _("A forward pass on a batch of data")), code="raised:forward") from None
    joined, out = np.asarray(values[merge.key]), np.asarray(values[out_key])
    half = joined.shape[-1] // 2
    if not np.allclose(joined[..., :half], joined[..., half:], atol=1e-5):
        raise Stop(Problem(_("With the same data on both inputs, the two halves of {key!r} differ: the two {what} do "
                             "not come from the same weights.").format(key=merge.key, what=_(what)), (merge.key,),
                           code="halves-differ"))
    if out.shape != (n, 1):
        raise Stop(_("On a batch of {n} pairs the model returned shape {got}, not ({n}, 1).").format(
            n=n, got=out.shape),
                   code="forward-shape")
