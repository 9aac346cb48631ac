"""A layered SVG drawing of a layer graph without Graphviz: used when the ``dot`` program is missing.

A small Sugiyama-style layout in pure Python, fast enough for a thousand layers (the arithmetic of steps 1-3 is in
``_layout_order``), and it draws every DAG, the densest too:

1. **ranks**: longest path from the inputs (a topological walk, so the node order does not matter); an edge
   that skips ranks gets one bend point (a "dummy") per rank it crosses, so it is routed between the boxes;
2. **order inside each rank**: sweeps of weighted barycentres with adjacent swaps ("transpose"), keeping the
   order with the fewest crossings; the layers of one expanded nested model stay next to each other;
3. **positions**: each rank in turn is placed as close as possible to the neighbours of its boxes (a
   least-squares fit under "no overlap" constraints, solved exactly by pool-adjacent-violators), with long
   edges pulled straight; ranks are as deep as their tallest box.

Edges are smooth cubic curves, vertical (or horizontal for ``'LR'``) where they leave and enter a box, with the
arrowheads drawn as polygons (no ``<marker>`` ids that could clash between pictures on one page).
Node ids (``n0``, ``n1`` …), labels and the look of each box come from the DOT renderer's helpers, so the
widget's click and highlight code and the picture's meaning are the same with or without Graphviz.
Every piece of text and every colour is escaped.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ._i18n import _
from ._layergraph import Edge, LayerGraph, Node
from ._layout_order import frames_around, order, place, ranks
from ._render_dot import (
    EDGE_ROLES,
    GraphOptions,
    LabelRow,
    NodeColours,
    NodeStyle,
    frame_ids,
    frame_title,
    label_rows,
    legend_swatches,
    node_ids,
    node_style,
    output_names_by_key,
    same_layer_text,
    shared_fills,
    skip_edges,
    xml_text,
)

__all__ = ["layout_svg"]

# -- text ----------------------------------------------------------------------------------------------------
# Helvetica advance widths (1/1000 em) for ASCII 32..126; Arial and Liberation Sans share these metrics.
_ASCII = "".join(chr(c) for c in range(32, 127))


def _widths(numbers: str) -> dict[str, int]:
    return dict(zip(_ASCII, map(int, numbers.split()), strict=True))


_HELVETICA = _widths(
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 "
    "278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 667 778 722 667 "
    "611 722 667 944 667 667 611 278 278 278 469 556 333 556 556 500 556 556 278 556 556 222 222 500 222 833 "
    "556 556 556 556 333 500 278 556 500 722 500 500 500 334 260 334 584")
_HELVETICA_BOLD = _widths(
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 "
    "333 333 584 584 584 611 975 722 722 722 722 667 611 778 722 278 556 722 611 833 722 778 667 778 722 667 "
    "611 722 667 944 667 667 611 333 278 333 584 556 333 556 611 556 611 556 333 611 611 278 278 556 278 889 "
    "611 611 611 611 389 556 333 611 556 778 556 556 500 389 280 389 584")


@dataclass(frozen=True)
class _Font:
    size: float
    line: float  # height of one line of this style
    attrs: str  # SVG attributes of the <text>
    bold: bool = False
    mono: bool = False


_FONTS = {
    "name": _Font(12.0, 16.0, 'font-size="12" font-weight="bold"', bold=True),
    "detail": _Font(10.5, 14.0, 'font-size="10.5"'),
    "shape": _Font(10.5, 14.0, 'font-size="10.5" font-family="Menlo, Consolas, DejaVu Sans Mono, monospace"',
                   mono=True),
    "small": _Font(9.5, 13.0, 'font-size="9.5"'),
    "output": _Font(9.5, 13.0, 'font-size="9.5"'),
}
_FRAME_FONT = 10.0


def _text_width(text: str, size: float, *, bold: bool = False, mono: bool = False) -> float:
    """An estimate of the drawn width of ``text`` in px (sans-serif metrics; 0.6 em a character in monospace)."""
    if mono:
        return 0.61 * size * sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    table = _HELVETICA_BOLD if bold else _HELVETICA
    units = 0
    for c in text:
        width = table.get(c)
        if width is None:
            if unicodedata.combining(c):
                width = 0
            elif unicodedata.east_asian_width(c) in "WF":
                width = 1000
            else:
                width = 620
        units += width
    return units * size / 1000


_esc = xml_text  # markup shown as characters, and control characters (which XML cannot hold) as Python writes them


# -- sizes (px) -----------------------------------------------------------------------------------------------
_PAD_ACROSS, _PAD_DOWN = 12.0, 7.0  # inside a box, around its text
_MIN_WIDTH = 64.0
_RADIUS = 6.0
_GAP = 22.0  # between boxes of one rank
_GAP_DUMMY = 16.0  # between a bend point of a long edge and its neighbours
_RANK_GAP = {"TB": 40.0, "LR": 52.0}  # between ranks
_FRAME_PAD, _FRAME_LABEL = 10.0, 15.0  # a nested-model frame: space around its boxes, height of its title
_ARROW, _ARROW_HALF = 8.0, 4.0
_OFFSET_3D = 5.0  # the box behind a nested model's box
_MARGIN = 12.0
_SHARED_LABEL = "same weights"  # the longer of the two labels ("same layer" for a layer without weights)
_3D = ("model", "group")  # kinds drawn with a second box behind
_SHARED_FONT = 9.0
_MAX_DUMMIES_PER_NODE = 10  # past 10 a node (plus 1,000), the longest edges are drawn straight, not routed


def _box_size(rows: Sequence[LabelRow]) -> tuple[float, float]:
    width = max(_text_width(r.text, _FONTS[r.style].size, bold=_FONTS[r.style].bold, mono=_FONTS[r.style].mono)
                for r in rows)
    height = sum(_FONTS[r.style].line for r in rows)
    return max(width + 2 * _PAD_ACROSS, _MIN_WIDTH), height + 2 * _PAD_DOWN


# -- the picture ----------------------------------------------------------------------------------------------
@dataclass
class _Chain:
    edge: Edge
    items: list[int]  # source, bend points, destination
    skip: bool
    out_port: float = 0.0  # offset of the start along the side of the source box
    in_port: float = 0.0


def layout_svg(graph: LayerGraph, options: GraphOptions | None = None, colours: NodeColours | None = None) -> str:
    """A standalone SVG of an already flattened graph (see :func:`fapi_lab._layergraph.flatten`), no Graphviz.

    Node groups are ``<g class="node" id="n0">`` … with the same ids as the DOT picture and a ``<title>`` holding
    the layer key; edges are ``<g class="edge">`` (``"edge skip"`` for residual connections, ``"edge shared"``
    for the dashed line joining calls of one shared layer); expanded nested models get a dashed
    ``<g class="cluster">`` frame behind their layers.
    """
    options = options or GraphOptions()
    colours = colours or NodeColours()
    tb = options.direction == "TB"
    nodes = graph.nodes
    n = len(nodes)
    if n == 0:
        return ('<svg width="120px" height="40px" viewBox="0 0 120 40" xmlns="http://www.w3.org/2000/svg">'
                f'<title>{_esc(graph.name)}</title><text x="8" y="24" font-size="12" '
                'font-family="Helvetica, Arial, sans-serif" fill="#64748b">'
                + _esc(_("(empty graph)")) + '</text></svg>')
    ids = node_ids(graph)
    index = {node.key: i for i, node in enumerate(nodes)}
    outputs = output_names_by_key(graph)
    rows = [label_rows(node, options, outputs.get(node.key)) for node in nodes]
    sizes = [_box_size(r) for r in rows]
    edges = [e for e in dict.fromkeys(graph.edges) if e.src in index and e.dst in index and e.src != e.dst]
    rank = ranks(n, [(index[e.src], index[e.dst]) for e in edges],
                  {index[k] for k in graph.inputs if k in index})

    # items: the boxes 0..n-1, then bend points of long edges
    ext = [w if tb else h for w, h in sizes]  # size across the flow
    dep = [h if tb else w for w, h in sizes]  # size along the flow
    paths: list[tuple[str, ...]] = [node.path for node in nodes]
    item_rank = rank[:]
    skips = skip_edges(graph)
    spans = sorted(range(len(edges)), key=lambda k: rank[index[edges[k].dst]] - rank[index[edges[k].src]])
    budget = _MAX_DUMMIES_PER_NODE * n + 1000
    routed = set()
    for k in spans:  # short edges first: they matter most for a readable picture
        span = rank[index[edges[k].dst]] - rank[index[edges[k].src]] - 1
        if span > 0 and span <= budget:
            budget -= span
            routed.add(k)
    chains: list[_Chain] = []
    for k, e in enumerate(edges):
        s, d = index[e.src], index[e.dst]
        items = [s]
        if k in routed:
            common = _common_prefix(paths[s], paths[d])
            for r in range(rank[s] + 1, rank[d]):
                items.append(len(item_rank))
                item_rank.append(r)
                ext.append(0.0)
                dep.append(0.0)
                paths.append(common)
        items.append(d)
        chains.append(_Chain(e, items, (e.src, e.dst) in skips))
    total = len(item_rank)
    up: list[list[tuple[int, float]]] = [[] for _ in range(total)]
    down: list[list[tuple[int, float]]] = [[] for _ in range(total)]
    links = [(a, b) for ch in chains for a, b in itertools.pairwise(ch.items)
             if item_rank[b] > item_rank[a]]  # an edge on a cycle is drawn but takes no part in the layout
    n_out, n_in = [0] * total, [0] * total
    for a, b in links:
        n_out[a] += 1
        n_in[b] += 1
    for a, b in links:
        # long edges pulled straight hardest, then plain chains (one out, one in), then everything else
        w = 8.0 if a >= n and b >= n else 2.0 if a >= n or b >= n else 1.0
        if n_out[a] == 1 and n_in[b] == 1:
            w *= 3.0
        down[a].append((b, w))
        up[b].append((a, w))

    n_ranks = max(item_rank) + 1
    layers: list[list[int]] = [[] for _ in range(n_ranks)]
    for i, r in enumerate(item_rank):
        layers[r].append(i)
    layers = order(layers, up, down, paths)

    # separations between neighbours of a rank: boxes, bend points, frames, and room for "same weights"
    shared_pairs = _shared_pairs(graph, index)
    shared_next = {(a, b) for a, b in shared_pairs} | {(b, a) for a, b in shared_pairs}
    label_w = _text_width(_SHARED_LABEL, _SHARED_FONT)
    seps: list[list[float]] = []
    for layer in layers:
        row = []
        for a, b in itertools.pairwise(layer):
            gap = _GAP if a < n and b < n else _GAP_DUMMY
            c = len(_common_prefix(paths[a], paths[b]))
            leaving, entering = len(paths[a]) - c, len(paths[b]) - c
            gap += _FRAME_PAD * (leaving + entering) + (0.0 if tb else _FRAME_LABEL * entering)
            if (a, b) in shared_next:
                gap = max(gap, label_w + 14 if tb else 30.0)
            if (a < n and nodes[a].kind in _3D) or (b < n and nodes[b].kind in _3D):
                gap += _OFFSET_3D  # the second box drawn behind a nested model
            row.append(ext[a] / 2 + gap + ext[b] / 2)
        seps.append(row)

    across = [0.0] * total
    for layer, row in zip(layers, seps, strict=True):
        pos = 0.0
        for k, i in enumerate(layer):
            if k:
                pos += row[k - 1]
            across[i] = pos
        mid = pos / 2
        for i in layer:
            across[i] -= mid
    big = total > 4000
    for it in range(2 if big else 4):  # follow the parents, then the children, in turn
        if it % 2 == 0:
            for r in range(1, n_ranks):
                place(layers[r], across, seps[r], (up,))
        else:
            for r in range(n_ranks - 2, -1, -1):
                place(layers[r], across, seps[r], (down,))
    for it in range(4 if big else 8):  # settle: each box at the median of its parents and children
        for r in range(n_ranks) if it % 2 == 0 else range(n_ranks - 1, -1, -1):
            place(layers[r], across, seps[r], (up, down))

    # positions along the flow: each rank as deep as its deepest box, with room for frame edges and titles
    thickness = [0.0] * n_ranks
    for i in range(n):
        thickness[item_rank[i]] = max(thickness[item_rank[i]], dep[i])
    first: dict[tuple[str, ...], int] = {}
    last: dict[tuple[str, ...], int] = {}
    for i in range(n):
        p = paths[i]
        for k in range(1, len(p) + 1):
            q = p[:k]
            first[q] = min(first.get(q, n_ranks), item_rank[i])
            last[q] = max(last.get(q, -1), item_rank[i])
    opening = [0] * (n_ranks + 1)
    closing = [0] * (n_ranks + 1)
    for q in first:
        opening[first[q]] += 1
        closing[last[q]] += 1
    centre = [0.0] * n_ranks
    at = opening[0] * (_FRAME_PAD + (_FRAME_LABEL if tb else 0.0))
    for r in range(n_ranks):
        if r:
            at += (_RANK_GAP[options.direction] + closing[r - 1] * _FRAME_PAD
                   + opening[r] * (_FRAME_PAD + (_FRAME_LABEL if tb else 0.0)))
        centre[r] = at + thickness[r] / 2
        at += thickness[r]

    # ports: edges leave and enter a box spread along its side, in the order of where they go
    outs: dict[int, list[_Chain]] = {}
    ins: dict[int, list[_Chain]] = {}
    for ch in chains:
        outs.setdefault(ch.items[0], []).append(ch)
        ins.setdefault(ch.items[-1], []).append(ch)
    for i, group in outs.items():
        group.sort(key=lambda ch: (across[ch.items[1]], ch.items[-1]))
        for ch, off in zip(group, _spread(len(group), ext[i]), strict=True):
            ch.out_port = off
    for i, group in ins.items():
        group.sort(key=lambda ch: (across[ch.items[-2]], ch.items[0]))
        for ch, off in zip(group, _spread(len(group), ext[i]), strict=True):
            ch.in_port = off

    # drawing, in (across, along) coordinates until the end, where TB maps them to (x, y) and LR to (y, x)
    pic = _Picture(_Geometry(tb, n, layers, item_rank, across, centre, thickness, ext, dep))
    frames = {f.key: f for f in graph.frames}
    titles = {k: frame_title(k, frames) for p in paths for k in p}
    fids = frame_ids(graph)
    widths = {k: _text_width(b, _FRAME_FONT, bold=True) + _text_width(" " + p, _FRAME_FONT) + 16
              for k, (b, p) in titles.items()}
    for path, (a0, l0, a1, l1) in frames_around(paths[:n], across, centre, item_rank, ext, dep, tb, widths,
                                                _FRAME_PAD, _FRAME_LABEL):
        kind = frames[path[-1]].kind if path[-1] in frames else "model"
        pic.frame(path[-1], fids.get(path[-1], ""), titles[path[-1]], kind, a0, l0, a1, l1)
    for ch in chains:
        pic.edge(ch, nodes)
    slot = {i: (r, k) for r, layer in enumerate(layers) for k, i in enumerate(layer)}
    for a, b in shared_pairs:
        pic.shared(a, b, slot, nodes)
    fills = shared_fills(graph)
    for i, node in enumerate(nodes):
        style = node_style(node, is_output=node.key in outputs, fill=colours.fills.get(node.key), shared_fill=fills)
        pic.node(ids[node.key], node.key, rows[i], style, i, sizes[i])
    if colours.legend:
        pic.legend(legend_swatches(colours), colours.legend)
    return pic.svg(graph.name)


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    k = 0
    while k < len(a) and k < len(b) and a[k] == b[k]:
        k += 1
    return a[:k]


def _spread(k: int, extent: float) -> list[float]:
    if k == 1:
        return [0.0]
    step = min(14.0, (extent - 2 * _RADIUS - 8) / (k - 1)) if extent > 2 * _RADIUS + 8 else 0.0
    return [(j - (k - 1) / 2) * step for j in range(k)]


def _shared_pairs(graph: LayerGraph, index: dict[str, int]) -> list[tuple[int, int]]:
    """Consecutive calls of each shared layer (same weights), as the DOT renderer joins them."""
    by_layer: dict[int, list[int]] = {}
    for node in graph.nodes:
        if node.shared:
            by_layer.setdefault(node.layer.uid, []).append(index[node.key])
    return [pair for calls in by_layer.values() for pair in itertools.pairwise(calls)]


def _num(v: float) -> str:
    text = f"{v:.1f}"
    return "0" if text == "-0.0" else text[:-2] if text.endswith(".0") else text


@dataclass
class _Geometry:
    """Where everything went, in (across, along) coordinates: x and y for 'TB', y and x for 'LR'."""

    tb: bool
    n: int  # items below n are boxes, the rest bend points
    layers: list[list[int]]
    item_rank: list[int]
    across: list[float]
    centre: list[float]  # of each rank, along the flow
    thickness: list[float]  # of each rank
    ext: list[float]
    dep: list[float]


class _Picture:
    """SVG pieces and the extent they cover; ``svg()`` wraps them in a shift that brings them into view."""

    def __init__(self, geo: _Geometry) -> None:
        self.geo = geo
        self.tb = geo.tb
        self.frames: list[str] = []
        self.edges: list[str] = []
        self.nodes: list[str] = []
        self.lo = [float("inf"), float("inf")]
        self.hi = [float("-inf"), float("-inf")]

    def xy(self, a: float, l: float) -> tuple[float, float]:  # noqa: E741 (across, along)
        return (a, l) if self.tb else (l, a)

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.lo = [min(self.lo[0], x0), min(self.lo[1], y0)]
        self.hi = [max(self.hi[0], x1), max(self.hi[1], y1)]

    def pt(self, a: float, l: float) -> str:  # noqa: E741
        x, y = self.xy(a, l)
        self.cover(x, y, x, y)
        return f"{_num(x)},{_num(y)}"

    # pieces --------------------------------------------------------------------------------------------------
    def frame(self, key: str, frame_id: str, title: tuple[str, str], kind: str, a0: float, l0: float, a1: float,
              l1: float) -> None:
        """The dashed frame around an open nested model (violet) or block (blue), with its title."""
        x0, y0 = self.xy(a0, l0)
        x1, y1 = self.xy(a1, l1)
        self.cover(x0, y0, x1, y1)
        fill, stroke, ink = ("#f0f9ff", "#0369a1", "#075985") if kind == "group" else ("#f5f3ff", "#7c3aed", "#5b21b6")
        self.frames.append(
            f'<g class="cluster" id="{_esc(frame_id)}"><title>{_esc(key)}</title>'
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(x1 - x0)}" height="{_num(y1 - y0)}" rx="9" '
            f'fill="{fill}" fill-opacity="0.5" stroke="{stroke}" stroke-width="1.1" stroke-dasharray="6 4"/>'
            f'<text x="{_num(x0 + 8)}" y="{_num(y0 + 12)}" font-size="{_num(_FRAME_FONT)}" fill="{ink}">'
            f'<tspan font-weight="bold">{_esc(title[0])}</tspan> {_esc(title[1])}</text></g>')

    def legend(self, swatches: Sequence[str], text: str) -> None:
        """The colour legend under the picture: swatches from palest to darkest, then what they mean."""
        x, y = self.lo[0], self.hi[1] + 12
        parts = [f'<rect x="{_num(x + 14 * k)}" y="{_num(y)}" width="14" height="10" fill="{_esc(c)}" '
                 f'stroke="#94a3b8" stroke-width="0.5"/>' for k, c in enumerate(swatches)]
        tx = x + 14 * len(swatches) + 6
        parts.append(f'<text x="{_num(tx)}" y="{_num(y + 9)}" font-size="9" fill="#334155">{_esc(text)}</text>')
        self.cover(x, y, tx + _text_width(text, 9.0), y + 12)
        self.frames.append('<g class="legend">' + "".join(parts) + "</g>")

    def edge(self, ch: _Chain, nodes: Sequence[Node]) -> None:
        g = self.geo
        s, d = ch.items[0], ch.items[-1]
        sign = 1.0 if g.item_rank[d] > g.item_rank[s] else -1.0  # -1: an edge on a cycle, drawn backwards
        start = (g.across[s] + ch.out_port, g.centre[g.item_rank[s]] + sign * g.dep[s] / 2)
        tip = (g.across[d] + ch.in_port, g.centre[g.item_rank[d]] - sign * g.dep[d] / 2)
        arrow, half = (_ARROW + 2, _ARROW_HALF + 1.5) if ch.skip else (_ARROW, _ARROW_HALF)
        end = (tip[0], tip[1] - sign * arrow)
        points = [start]
        for i in ch.items[1:-1]:  # a bend point runs straight through its rank
            r = g.item_rank[i]
            points += [(g.across[i], g.centre[r] - g.thickness[r] / 2), (g.across[i], g.centre[r] + g.thickness[r] / 2)]
        points.append(end)
        path = [f"M{self.pt(*start)}"]
        for k, (a, b) in enumerate(itertools.pairwise(points)):
            if k % 2 == 1 or abs(a[0] - b[0]) < 0.5:
                path.append(f"L{self.pt(*b)}")
            else:  # between ranks: a smooth S, leaving and arriving along the flow
                mid = (a[1] + b[1]) / 2
                path.append(f"C{self.pt(a[0], mid)} {self.pt(b[0], mid)} {self.pt(*b)}")
        src, dst = nodes[s].key, nodes[d].key
        dash = ""
        if ch.edge.role in EDGE_ROLES:  # a mask, or an argument the nested model ignores: as the DOT picture
            look = EDGE_ROLES[ch.edge.role]
            colour, width, cls = look["color"], "1.2", f"edge {ch.edge.role}"
            what = f"{src} → {dst}: {_(look['tooltip'])}"
            dash = ' stroke-dasharray="2 3"' if look["style"] == "dotted" else ' stroke-dasharray="5 4"'
        elif ch.skip:
            colour, width, cls = "#ea580c", "2.2", "edge skip"
            what = f"{src} → {dst}: " + _("skip (residual) connection")
        else:
            colour, width, cls, what = "#64748b", "1.2", "edge", f"{src} → {dst}"
        head = " ".join(self.pt(*q) for q in (tip, (end[0] - half, end[1]), (end[0] + half, end[1])))
        self.edges.append(
            f'<g class="{cls}"><title>{_esc(what)}</title><path d="{" ".join(path)}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}"{dash}/><polygon points="{head}" fill="{colour}" '
            f'stroke="{colour}" stroke-width="1" stroke-linejoin="round"/></g>')

    def shared(self, a: int, b: int, slot: dict[int, tuple[int, int]], nodes: Sequence[Node]) -> None:
        """A dashed "same weights" line between two calls of one shared layer."""
        g = self.geo
        (ra, ka), (rb, kb) = slot[a], slot[b]
        if ra == rb and abs(ka - kb) == 1:  # side by side: a straight line through the gap kept for its label
            u, v = (a, b) if ka < kb else (b, a)
            l = g.centre[ra]  # noqa: E741
            a0, a1 = g.across[u] + g.ext[u] / 2, g.across[v] - g.ext[v] / 2
            line = f"M{self.pt(a0, l)} L{self.pt(a1, l)}"
            label = self.label((a0 + a1) / 2, l - 4) if self.tb else self.label((a0 + a1) / 2 + 3, l + 4, start=True)
        elif ra == rb:  # the same rank, further apart: an arc through the space before the rank
            ta, tb_ = g.centre[ra] - g.dep[a] / 2, g.centre[rb] - g.dep[b] / 2
            ctrl = min(ta, tb_) - 30
            line = (f"M{self.pt(g.across[a], ta)} C{self.pt(g.across[a], ctrl)} "
                    f"{self.pt(g.across[b], ctrl)} {self.pt(g.across[b], tb_)}")
            apex = min(ta, tb_) - 22
            label = (self.label((g.across[a] + g.across[b]) / 2, apex - 3) if self.tb
                     else self.label((g.across[a] + g.across[b]) / 2, apex - 3, end=True))
        else:  # different ranks: an arc beside the boxes in between
            lo_r, hi_r = min(ra, rb), max(ra, rb)
            left = min(g.across[a] - g.ext[a] / 2, g.across[b] - g.ext[b] / 2)
            right = max(g.across[a] + g.ext[a] / 2, g.across[b] + g.ext[b] / 2)
            for r in range(lo_r + 1, hi_r):
                for i in g.layers[r]:
                    if i < g.n and g.across[i] - g.ext[i] / 2 < right and g.across[i] + g.ext[i] / 2 > left:
                        right = max(right, g.across[i] + g.ext[i] / 2)
            ctrl = right + 36
            sa = (g.across[a] + g.ext[a] / 2, g.centre[ra])
            sb = (g.across[b] + g.ext[b] / 2, g.centre[rb])
            line = f"M{self.pt(*sa)} C{self.pt(ctrl, sa[1])} {self.pt(ctrl, sb[1])} {self.pt(*sb)}"
            apex, mid = right + 27, (sa[1] + sb[1]) / 2
            label = self.label(apex + 4, mid + 3, start=True) if self.tb else self.label(apex + 12, mid)
        colour, same = "#b45309", same_layer_text(nodes[a])
        self.edges.append(
            '<g class="edge shared"><title>' + _esc(_("{a} and {b}: {same}").format(a=nodes[a].key, b=nodes[b].key,
                                                                                  same=same)) + '</title>'
            f'<path d="{line}" fill="none" stroke="{colour}" stroke-width="1.2" stroke-dasharray="5 4"/>'
            f'<text {label} font-size="{_num(_SHARED_FONT)}" fill="{colour}">{same}</text></g>')

    def label(self, a: float, l: float, *, start: bool = False, end: bool = False) -> str:  # noqa: E741
        """Position attributes of a "same weights" label whose baseline is at (a, l)."""
        x, y = self.xy(a, l)
        w = _text_width(_SHARED_LABEL, _SHARED_FONT)
        x0 = x if start else x - w if end else x - w / 2
        self.cover(x0, y - _SHARED_FONT, x0 + w, y + 2)
        anchor = "start" if start else "end" if end else "middle"
        return f'x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"'

    def node(self, node_id: str, key: str, rows: Sequence[LabelRow], style: NodeStyle, i: int,
             size: tuple[float, float]) -> None:
        g = self.geo
        x, y = self.xy(g.across[i], g.centre[g.item_rank[i]])
        w, h = size
        x0, y0 = x - w / 2, y - h / 2
        self.cover(x0, y0 - _OFFSET_3D, x0 + w + _OFFSET_3D, y0 + h)
        fill, border = _esc(style.fill), _esc(style.border)
        stroke = "2.2" if style.thick else "1.3"
        dash = ' stroke-dasharray="5 3"' if style.dashed else ""
        box = f'x="{_num(x0)}" y="{_num(y0)}" width="{_num(w)}" height="{_num(h)}"'
        parts = [f'<g class="node" id="{_esc(node_id)}"><title>{_esc(key)}</title>']
        if style.shape == "box3d":  # a nested model or block: a second box behind, up and to the right
            parts.append(f'<rect x="{_num(x0 + _OFFSET_3D)}" y="{_num(y0 - _OFFSET_3D)}" width="{_num(w)}" '
                         f'height="{_num(h)}" rx="2" fill="{fill}" stroke="{border}" stroke-width="1"/>')
        if style.shape == "note":  # a subclassed model: a page with a folded corner
            f = 9.0
            outline = [(x0, y0), (x0 + w - f, y0), (x0 + w, y0 + f), (x0 + w, y0 + h), (x0, y0 + h)]
            corner = [(x0 + w - f, y0), (x0 + w - f, y0 + f), (x0 + w, y0 + f)]
            parts.append(f'<polygon points="{_points(outline)}" fill="{fill}" stroke="{border}" '
                         f'stroke-width="{stroke}"{dash}/><polyline points="{_points(corner)}" fill="none" '
                         f'stroke="{border}" stroke-width="1"/>')
        else:
            radius = 2 if style.shape == "box3d" else _RADIUS
            parts.append(f'<rect {box} rx="{_num(radius)}" fill="{fill}" stroke="{border}" '
                         f'stroke-width="{stroke}"{dash}/>')
        if style.double:  # a model output: a second border inside the first
            parts.append(f'<rect x="{_num(x0 + 3)}" y="{_num(y0 + 3)}" width="{_num(w - 6)}" height="{_num(h - 6)}" '
                         f'rx="{_num(_RADIUS - 3)}" fill="none" stroke="{border}" stroke-width="1"/>')
        light = style.text != "#000000"  # white text on a dark fill (e.g. gradient colours)
        text_fill = f' fill="{_esc(style.text)}"' if light else ""
        top = y0 + _PAD_DOWN
        for row in rows:
            font = _FONTS[row.style]
            base = top + (font.line + font.size * 0.7) / 2
            top += font.line
            fill_attr = (' fill="#bbf7d0"' if light else ' fill="#166534"') if row.style == "output" else text_fill
            parts.append(f'<text x="{_num(x)}" y="{_num(base)}" text-anchor="middle" {font.attrs}{fill_attr}>'
                         f"{_esc(row.text)}</text>")
        parts.append("</g>")
        self.nodes.append("".join(parts))

    def svg(self, name: str) -> str:
        dx, dy = _MARGIN - self.lo[0], _MARGIN - self.lo[1]
        width = self.hi[0] - self.lo[0] + 2 * _MARGIN
        height = self.hi[1] - self.lo[1] + 2 * _MARGIN
        return "\n".join([
            f'<svg width="{width:.0f}px" height="{height:.0f}px" viewBox="0 0 {width:.0f} {height:.0f}" '
            'xmlns="http://www.w3.org/2000/svg" font-family="Helvetica, Arial, Liberation Sans, sans-serif" '
            'class="fapi-lab-layout">',
            f"<title>{_esc(name)}</title>",
            f'<g transform="translate({_num(dx)} {_num(dy)})">',
            *self.frames, *self.edges, *self.nodes,
            "</g>",
            "</svg>",
        ])


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
