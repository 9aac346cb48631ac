"""What the graph canvas is sent, as pure functions of plain data (the folded graph and its SVG).

- :func:`canvas_picture`: the picture and its maps (svg id -> key for nodes and frames, which containers fold,
  each node's neighbours, where a hidden layer is drawn), so selecting, folding marks, search and hover need no
  kernel round trip;
- :func:`hover_info`: the lines a node's hover card shows (class, shapes, parameters), for every layer at every
  depth, so a search finds layers inside closed blocks too;
- :func:`search_keys`: the layers a search text finds (the canvas's search box uses the same rule);
- :func:`highlight_dot`: DOT statements that draw the selection into a picture made outside the browser (PNG).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._folding import foldable
from ._i18n import _, ngettext
from ._layergraph import LayerGraph, Node
from ._render_dot import format_shape, frame_ids, layer_count, node_ids

__all__ = ["canvas_picture", "container_of", "highlight_dot", "hover_info", "located", "search_keys", "toggled"]

SELECTED, INPUT, OUTPUT = "#dc2626", "#2563eb", "#16a34a"


def located(shown: LayerGraph) -> dict[str, str]:
    """Every layer hidden inside a closed nested model or block of ``shown`` -> the key of the box drawn for it."""
    found: dict[str, str] = {}
    for n in shown.nodes:
        if n.subgraph is not None:
            for m in n.subgraph.walk():
                found.setdefault(m.key, n.key)
    return found


def container_of(shown: LayerGraph, key: str) -> str | None:
    """The key drawn for ``key``: itself when drawn, the closed box holding it, or None when unknown."""
    if key in node_ids(shown):
        return key
    return located(shown).get(key)


def canvas_picture(svg: str, shown: LayerGraph) -> dict[str, Any]:
    """The ``picture`` the canvas draws (see ``js/src/graph.js``)."""
    ids = node_ids(shown)
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for e in shown.edges:
        if e.src in ids and e.dst in ids:
            preds.setdefault(e.dst, []).append(ids[e.src])
            succs.setdefault(e.src, []).append(ids[e.dst])
    return {
        "svg": svg,
        "ids": {v: k for k, v in ids.items()},
        "frames": {v: k for k, v in frame_ids(shown).items()},
        "foldable": foldable(shown),
        "neighbours": {ids[k]: [_unique(preds.get(k, [])), _unique(succs.get(k, []))] for k in ids},
        "located": located(shown),
    }


def toggled(state: tuple[frozenset[str], frozenset[str]], shown: LayerGraph, key: str, depth: int | None,
            *, open_: bool) -> tuple[frozenset[str], frozenset[str]]:
    """The fold state (``expanded``, ``collapsed``) with container ``key`` of ``shown`` opened or closed, written
    the one way that draws it: a container ``depth`` opens is only ever listed in ``collapsed``, any other only
    in ``expanded`` (``_folding.fold``: depth opens nested models above its level, and blocks only at None)."""
    expanded, collapsed = state
    kind = next((f.kind for f in shown.frames if f.key == key), None) or next(
        (n.kind for n in shown.nodes if n.key == key), "model")
    by_depth = depth is None or (kind == "model" and key.count("/") < depth)
    if open_:
        return (expanded if by_depth else expanded | {key}), collapsed - {key}
    return expanded - {key}, (collapsed | {key} if by_depth else collapsed)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _class_line(node: Node) -> str:
    if node.kind == "group":
        n = layer_count(node)
        return ngettext("Block · {n} layers", "Block · {n} layers", n).format(n=n)
    if node.kind == "model":
        if node.subgraph is None:
            return _("{cls} (model)").format(cls=node.class_name)
        n = layer_count(node)
        return ngettext("{cls} (model) · {n} layers", "{cls} (model) · {n} layers", n).format(cls=node.class_name, n=n)
    if node.kind == "op":
        return f"keras.ops · {node.class_name}"
    line = node.class_name
    if node.layer.activation:
        line += f" · {node.layer.activation}"
    return line


def _lines(node: Node) -> list[str]:
    lines = [node.key, _class_line(node)]
    if node.input_shapes:
        lines.append(_("in  {shapes}").format(shapes=" ".join(format_shape(s) for s in node.input_shapes)))
    if node.output_shapes:
        lines.append(_("out {shapes}").format(shapes=" ".join(format_shape(s) for s in node.output_shapes)))
    if node.kind != "input":
        params = _("{params:,} params (shared with an earlier call)") if node.reused else _("{params:,} params")
        lines.append(params.format(params=node.layer.params))
    if node.shared:
        lines.append(_("call {i} of {n}").format(i=node.call_index + 1, n=node.n_calls))
    return lines


def hover_info(source: LayerGraph, *shown: LayerGraph) -> dict[str, list[str]]:
    """key -> hover lines (key, class, input and output shapes, parameters) for every layer of ``source`` at every
    depth and every node of the ``shown`` graphs (automatic blocks exist only there), in graph order."""
    info = {n.key: _lines(n) for n in source.walk() if not (n.kind == "input" and "/" in n.key)}  # inner inputs
    for graph in shown:  # are never drawn
        for n in graph.walk():
            info.setdefault(n.key, _lines(n))
    return info


def search_keys(info: dict[str, list[str]], text: str) -> list[str]:
    """Keys whose own name (the part after the last ``/``) or class line contains ``text``, ignoring case, in
    graph order; '' finds nothing. (``js/src/graph.js`` searches by the same rule.)"""
    needle = text.strip().casefold()
    if not needle:
        return []
    return [k for k, lines in info.items()
            if needle in k.rsplit("/", 1)[-1].casefold() or (len(lines) > 1 and needle in lines[1].casefold())]


def highlight_dot(dot_source: str, shown: LayerGraph, selected: str) -> str:
    """``dot_source`` with the selected node (or the box holding it) and its neighbours outlined, as the canvas
    marks them: DOT statements appended at the end override the nodes' colours."""
    target = container_of(shown, selected) if selected else None
    if not target:
        return dot_source
    ids = node_ids(shown)
    lines = [f'  {ids[target]} [color="{SELECTED}", penwidth=3.5];']
    if target == selected:
        lines += [f'  {ids[k]} [color="{INPUT}", penwidth=2.5];' for k in shown.predecessors(target) if k in ids]
        lines += [f'  {ids[k]} [color="{OUTPUT}", penwidth=2.5];' for k in shown.successors(target) if k in ids]
    body = dot_source.rstrip()
    return body[:-1] + "\n".join(lines) + "\n}\n"
