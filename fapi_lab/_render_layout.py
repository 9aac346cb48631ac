"""A layered SVG drawing of a layer graph without Graphviz: used when the ``dot`` program is missing.

A small Sugiyama-style layout, pure Python and fast enough for 1,000 nodes:
1. ranks by longest path from the inputs; an edge spanning several ranks gets a bend point per rank;
2. a few sweeps of barycentre ordering inside each rank, to reduce crossings;
3. positions: each node goes towards the mean position of its neighbours in the rank before, then
   overlaps are pushed apart in order.
Node ids (``n0``, ``n1`` …) and the look of each box come from the DOT renderer's helpers, so the widget's
click and highlight code and the picture's meaning are the same with or without Graphviz.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass

from ._layergraph import LayerGraph
from ._render_dot import (
    GraphOptions,
    LabelRow,
    NodeColours,
    label_rows,
    node_ids,
    node_style,
    output_names_by_key,
    shared_fills,
    skip_edges,
)

__all__ = ["layout_svg"]

_ROW_HEIGHT = {"name": 15, "detail": 13, "shape": 13, "small": 12, "output": 12}
_FONT = {
    "name": 'font-weight="bold" font-size="12"',
    "detail": 'font-size="10.5"',
    "shape": 'font-family="monospace" font-size="10.5"',
    "small": 'font-size="9.5"',
    "output": 'font-size="9.5" fill="#166534"',
}
_CHAR_WIDTH = {"name": 7.2, "detail": 6.0, "shape": 6.4, "small": 5.5, "output": 5.5}
_PAD_X, _PAD_Y = 10, 6
_GAP_ACROSS, _GAP_ALONG = 18, 34
_MARGIN = 16
_SWEEPS = 4


@dataclass
class _Box:
    key: str
    rows: list[LabelRow]
    width: float
    height: float
    rank: int = 0
    across: float = 0.0  # position inside the rank (x in TB)
    along: float = 0.0  # position of the rank (y in TB)


def _measure(rows: list[LabelRow]) -> tuple[float, float]:
    width = max(len(r.text) * _CHAR_WIDTH[r.style] for r in rows) + 2 * _PAD_X
    height = sum(_ROW_HEIGHT[r.style] for r in rows) + 2 * _PAD_Y
    return max(width, 60.0), height


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def layout_svg(graph: LayerGraph, options: GraphOptions | None = None, colours: NodeColours | None = None) -> str:
    """A standalone SVG of an already flattened graph, drawn without Graphviz."""
    options = options or GraphOptions()
    colours = colours or NodeColours()
    tb = options.direction == "TB"
    ids = node_ids(graph)
    outputs = output_names_by_key(graph)
    fills = shared_fills(graph)
    boxes: dict[str, _Box] = {}
    for n in graph.nodes:
        rows = label_rows(n, options, outputs.get(n.key))
        w, h = _measure(rows)
        boxes[n.key] = _Box(n.key, rows, w, h)

    # 1. ranks (graph.nodes is in topological order)
    preds: dict[str, list[str]] = {k: [] for k in boxes}
    succs: dict[str, list[str]] = {k: [] for k in boxes}
    edges = [(e.src, e.dst) for e in graph.edges if e.src in boxes and e.dst in boxes]
    for s, d in dict.fromkeys(edges):
        preds[d].append(s)
        succs[s].append(d)
    for n in graph.nodes:
        boxes[n.key].rank = max((boxes[p].rank + 1 for p in preds[n.key]), default=0)

    # long edges get one bend point ("dummy") per rank they cross
    chains: dict[tuple[str, str], list[str]] = {}
    items: dict[str, _Box] = dict(boxes)
    links: list[tuple[str, str]] = []
    for s, d in dict.fromkeys(edges):
        chain = [s]
        for r in range(boxes[s].rank + 1, boxes[d].rank):
            dummy = f"\0{s}\0{d}\0{r}"
            items[dummy] = _Box(dummy, [], 0.0, 0.0, rank=r)
            chain.append(dummy)
        chain.append(d)
        chains[(s, d)] = chain
        links.extend(itertools.pairwise(chain))
    up: dict[str, list[str]] = {k: [] for k in items}
    down: dict[str, list[str]] = {k: [] for k in items}
    for a, b in links:
        down[a].append(b)
        up[b].append(a)

    n_ranks = max((b.rank for b in items.values()), default=-1) + 1
    ranks: list[list[str]] = [[] for _ in range(n_ranks)]
    for key, b in items.items():  # insertion order: real nodes topologically, then dummies
        ranks[b.rank].append(key)

    # 2. barycentre ordering
    order = {k: i for rank in ranks for i, k in enumerate(rank)}
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        seq = range(1, n_ranks) if downward else range(n_ranks - 2, -1, -1)
        for r in seq:
            neighbours = up if downward else down

            def centre(k: str, nb: dict[str, list[str]] = neighbours) -> float:
                ns = nb[k]
                return sum(order[x] for x in ns) / len(ns) if ns else order[k]

            ranks[r].sort(key=centre)
            for i, k in enumerate(ranks[r]):
                order[k] = i

    # 3. coordinates: across-rank size of a box is its width in TB and its height in LR
    def extent(b: _Box) -> float:
        return (b.width if tb else b.height) if b.rows else 4.0

    def depth(b: _Box) -> float:
        return b.height if tb else b.width

    along = float(_MARGIN)
    for rank in ranks:
        thickness = max((depth(items[k]) for k in rank if items[k].rows), default=10.0)
        pos = 0.0
        for k in rank:
            b = items[k]
            b.along = along + thickness / 2
            b.across = pos + extent(b) / 2
            pos += extent(b) + _GAP_ACROSS
        along += thickness + _GAP_ALONG
    for _ in range(2):
        for r in range(1, n_ranks):
            _place_rank(ranks[r], items, up, extent)
        for r in range(n_ranks - 2, -1, -1):
            _place_rank(ranks[r], items, down, extent)
    low = min((b.across - extent(b) / 2 for b in items.values()), default=0.0)
    for b in items.values():
        b.across += _MARGIN - low
    size_across = max((b.across + extent(b) / 2 for b in items.values()), default=0.0) + _MARGIN
    size_along = along - _GAP_ALONG + _MARGIN

    def xy(b: _Box) -> tuple[float, float]:
        return (b.across, b.along) if tb else (b.along, b.across)

    width, height = (size_across, size_along) if tb else (size_along, size_across)
    out = [
        f'<svg width="{width:.0f}px" height="{height:.0f}px" viewBox="0 0 {width:.0f} {height:.0f}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="Helvetica, Arial, sans-serif">',
        f"<title>{_esc(graph.name)}</title>",
        '<defs><marker id="fl-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker>'
        '<marker id="fl-arrow-skip" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#ea580c"/></marker></defs>',
    ]
    out += _frames(graph, boxes, xy)
    skips = skip_edges(graph)
    for (s, d), chain in chains.items():
        points = []
        for i, k in enumerate(chain):
            b = items[k]
            x, y = xy(b)
            if i == 0:
                x, y = (x, y + b.height / 2) if tb else (x + b.width / 2, y)
            elif i == len(chain) - 1:
                x, y = (x, y - b.height / 2) if tb else (x - b.width / 2, y)
            points.append(f"{x:.1f},{y:.1f}")
        skip = (s, d) in skips
        colour, width_px, marker = ("#ea580c", 2.2, "fl-arrow-skip") if skip else ("#64748b", 1.2, "fl-arrow")
        tip = "<title>skip (residual) connection</title>" if skip else ""
        out.append(f'<g class="edge">{tip}<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                   f'stroke-width="{width_px}" marker-end="url(#{marker})"/></g>')
    by_layer: dict[int, list[str]] = {}
    for n in graph.nodes:
        if n.shared:
            by_layer.setdefault(n.layer.uid, []).append(n.key)
    for calls in by_layer.values():
        for a, b in itertools.pairwise(calls):
            (x1, y1), (x2, y2) = xy(boxes[a]), xy(boxes[b])
            out.append(f'<g class="edge shared"><title>same weights</title><line x1="{x1:.1f}" y1="{y1:.1f}" '
                       f'x2="{x2:.1f}" y2="{y2:.1f}" stroke="#b45309" stroke-dasharray="5 4" stroke-width="1.2"/>'
                       f'<text x="{(x1 + x2) / 2 + 4:.1f}" y="{(y1 + y2) / 2:.1f}" font-size="9" fill="#b45309">'
                       f"same weights</text></g>")
    for n in graph.nodes:
        out.append(_node_svg(n.key, ids[n.key], boxes[n.key], xy, node_style(
            n, is_output=n.key in outputs, fill=colours.fills.get(n.key), shared_fill=fills)))
    out.append("</svg>")
    return "\n".join(out)


def _place_rank(rank: list[str], items: dict[str, _Box], neighbours: dict[str, list[str]], extent) -> None:
    """Move each box towards the mean of its neighbours in the adjacent rank, keeping order, no overlap."""
    if not rank:
        return
    wanted = []
    for k in rank:
        ns = neighbours[k]
        wanted.append(sum(items[x].across for x in ns) / len(ns) if ns else items[k].across)
    pos = []
    left = -float("inf")
    for k, w in zip(rank, wanted, strict=True):
        half = extent(items[k]) / 2
        centre = max(w, left + half)
        pos.append(centre)
        left = centre + half + _GAP_ACROSS
    # shift the whole rank so that it sits, on average, where its boxes want to be
    shift = (sum(wanted) - sum(pos)) / len(pos)
    # shifting left must not break the packing; it cannot (uniform shift), so apply it
    for k, p in zip(rank, pos, strict=True):
        items[k].across = p + shift


def _frames(graph: LayerGraph, boxes: dict[str, _Box], xy) -> list[str]:
    """Dashed frames around the layers of each expanded nested-model call, outer frames first."""
    members: dict[tuple[str, ...], list[str]] = {}
    for n in graph.nodes:
        for i in range(1, len(n.path) + 1):
            members.setdefault(n.path[:i], []).append(n.key)
    out = []
    deepest = max((len(p) for p in members), default=0)
    for path in sorted(members, key=len):
        pad = 8 + 6 * (deepest - len(path))
        xs0, ys0, xs1, ys1 = [], [], [], []
        for k in members[path]:
            x, y = xy(boxes[k])
            b = boxes[k]
            xs0.append(x - b.width / 2)
            xs1.append(x + b.width / 2)
            ys0.append(y - b.height / 2)
            ys1.append(y + b.height / 2)
        x0, y0 = min(xs0) - pad, min(ys0) - pad - 12
        x1, y1 = max(xs1) + pad, max(ys1) + pad
        out.append(f'<g class="cluster"><title>{_esc(path[-1])}</title><rect x="{x0:.1f}" y="{y0:.1f}" '
                   f'width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="8" fill="none" stroke="#7c3aed" '
                   f'stroke-dasharray="5 3"/><text x="{x0 + 8:.1f}" y="{y0 + 12:.1f}" font-size="10" '
                   f'fill="#5b21b6"><tspan font-weight="bold">{_esc(path[-1])}</tspan> nested model</text></g>')
    return out


def _node_svg(key: str, node_id: str, b: _Box, xy, style) -> str:
    x, y = xy(b)
    x0, y0 = x - b.width / 2, y - b.height / 2
    dash = ' stroke-dasharray="4 3"' if style.dashed else ""
    thick = 2.2 if style.thick else 1.3
    parts = [f'<g class="node" id="{node_id}"><title>{_esc(key)}</title>']
    if style.shape == "box3d":
        parts.append(f'<rect x="{x0 + 4:.1f}" y="{y0 - 4:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" '
                     f'fill="{style.fill}" stroke="{style.border}" stroke-width="1"/>')
    radius = 0 if style.shape in ("box3d", "note") else 8
    parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" rx="{radius}" '
                 f'fill="{style.fill}" stroke="{style.border}" stroke-width="{thick}"{dash}/>')
    if style.double:
        parts.append(f'<rect x="{x0 + 3:.1f}" y="{y0 + 3:.1f}" width="{b.width - 6:.1f}" height="{b.height - 6:.1f}" '
                     f'rx="{max(radius - 3, 0)}" fill="none" stroke="{style.border}" stroke-width="1"/>')
    ty = y0 + _PAD_Y
    for row in b.rows:
        ty += _ROW_HEIGHT[row.style]
        colour = f' fill="{style.text}"' if style.text != "#000000" and row.style != "output" else ""
        parts.append(f'<text x="{x:.1f}" y="{ty - 3:.1f}" text-anchor="middle" {_FONT[row.style]}{colour}>'
                     f"{_esc(row.text)}</text>")
    parts.append("</g>")
    return "".join(parts)
