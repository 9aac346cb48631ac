"""A :class:`~fapi_lab._layergraph.LayerGraph` as JSON-ready data, and back.

A graph view with blocks saves its layer graph this way (packed: :func:`to_packed`) in the notebook's widget
state (the canvas's ``replay_graph``), so that the course website (``scripts/site``) can draw the other fold
states of a stored graph, nested models and blocks opened or closed, with fapi_lab's own renderers and no kernel.
Plain data in, plain data out: the layer configs keep their tuples (``{"__tuple__": [...]}``), and a value JSON
cannot hold (an object, a float that is not finite) is kept as its ``repr``.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
from dataclasses import fields
from typing import Any

from ._layergraph import Edge, Frame, LayerGraph, LayerInfo, Node

__all__ = ["from_data", "from_packed", "to_data", "to_packed"]

_TUPLE = "__tuple__"


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, tuple):
        return {_TUPLE: [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _tag(v) for k, v in value.items()}
    return repr(value)


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TUPLE}:
            return tuple(_untag(v) for v in value[_TUPLE])
        return {k: _untag(v) for k, v in value.items()}
    return value


def _plain(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name not in skip}


def to_data(graph: LayerGraph) -> dict[str, Any]:
    """``graph`` as nested dicts and lists of JSON values; :func:`from_data` gives an equal graph back."""
    def node(n: Node) -> dict[str, Any]:
        out = _plain(n, ("layer", "subgraph", "input_shapes", "output_shapes"))
        out["layer"] = {**_plain(n.layer, ("config",)), "config": _tag(n.layer.config)}
        out["input_shapes"] = _tag(n.input_shapes)
        out["output_shapes"] = _tag(n.output_shapes)
        out["subgraph"] = to_data(n.subgraph) if n.subgraph is not None else None
        for name in ("input_dtypes", "output_dtypes", "path"):
            out[name] = list(out[name])
        return out

    def edge(e: Edge) -> dict[str, Any]:
        out = _plain(e)
        out["shape"] = _tag(e.shape)
        return out

    return {
        **_plain(graph, ("nodes", "edges", "inputs", "outputs", "output_names", "frames")),
        "nodes": [node(n) for n in graph.nodes], "edges": [edge(e) for e in graph.edges],
        "inputs": list(graph.inputs), "outputs": [list(o) for o in graph.outputs],
        "output_names": list(graph.output_names), "frames": [_plain(f) for f in graph.frames],
    }


def from_data(data: dict[str, Any]) -> LayerGraph:
    """The graph :func:`to_data` wrote (after a trip through JSON)."""
    def node(d: dict[str, Any]) -> Node:
        layer = LayerInfo(**{**d["layer"], "config": _untag(d["layer"]["config"])})
        return Node(**{
            **d, "layer": layer,
            "input_shapes": _untag(d["input_shapes"]), "output_shapes": _untag(d["output_shapes"]),
            "input_dtypes": tuple(d["input_dtypes"]), "output_dtypes": tuple(d["output_dtypes"]),
            "path": tuple(d["path"]),
            "subgraph": from_data(d["subgraph"]) if d["subgraph"] is not None else None,
        })

    return LayerGraph(**{
        **data, "nodes": tuple(node(n) for n in data["nodes"]),
        "edges": tuple(Edge(**{**e, "shape": _untag(e["shape"])}) for e in data["edges"]),
        "inputs": tuple(data["inputs"]), "outputs": tuple((k, int(i)) for k, i in data["outputs"]),
        "output_names": tuple(data["output_names"]), "frames": tuple(Frame(**f) for f in data["frames"]),
    })


def to_packed(graph: LayerGraph) -> str:
    """:func:`to_data` as gzip-compressed JSON in base64: one short line in a saved notebook."""
    raw = json.dumps(to_data(graph), separators=(",", ":"), allow_nan=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, 9, mtime=0)).decode("ascii")


def from_packed(text: str) -> LayerGraph:
    return from_data(json.loads(gzip.decompress(base64.b64decode(text))))
