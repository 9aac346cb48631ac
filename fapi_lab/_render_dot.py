"""DOT text for a layer graph, and SVG through Graphviz's ``dot``: pure functions of plain data.

Every name is escaped: DOT ids are generated (``n0``, ``n1`` …), labels are HTML-like labels built from
``html.escape``d text, so a layer called ``<img src=x onerror=alert(1)>`` is drawn as those characters; characters
XML cannot hold (control characters) are written as Python writes them (``\\x01``).

``dot`` is an outside program, so it gets :data:`DOT_TIME_LIMIT` seconds; a ``dot`` that is missing, hangs, fails
or prints something that is not an SVG picture raises :class:`DotNotFound` (:class:`DotFailed` for all but the
first), with a one-line reason, and callers fall back to the built-in layout.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import os
import re
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._i18n import N_, _, ngettext
from ._layergraph import Frame, LayerGraph, Node, Shape

__all__ = [
    "DOT_TIME_LIMIT",
    "EDGE_ROLES",
    "DotFailed",
    "DotNotFound",
    "GraphOptions",
    "LabelRow",
    "NodeColours",
    "NodeStyle",
    "dot_to_svg",
    "format_count",
    "format_shape",
    "frame_ids",
    "frame_title",
    "label_rows",
    "layer_count",
    "legend_swatches",
    "node_ids",
    "node_style",
    "output_names_by_key",
    "same_layer_text",
    "shared_fills",
    "skip_edges",
    "to_dot",
    "xml_text",
]

DOT_TIME_LIMIT = 5.0  # seconds for Graphviz's dot; real models take well under one (InceptionV3: 0.5 s)

PALETTE = {
    "input": "#dbeafe",
    "output": "#dcfce7",
    "layer": "#f8fafc",
    "merge": "#ffedd5",
    "op": "#f1f5f9",
    "model": "#ede9fe",
    "group": "#e0f2fe",
    "subclassed": "#fee2e2",
    "nograph": "#fef3c7",
}
SHARED_COLOURS = ("#fde68a", "#a5f3fc", "#fbcfe8", "#bbf7d0", "#c7d2fe", "#fed7aa")
EDGE_ROLES = {  # how an edge that is not a plain input looks (DOT attributes; the built-in layout follows them)
    "mask": {"color": "#0891b2", "style": "dotted", "tooltip": N_("mask")},
    "unused": {"color": "#94a3b8", "style": "dashed", "tooltip": N_("passed to the model, which does not use it")},
}  # tooltips are marked texts: show them with _()
MERGE_SYMBOL = {  # a symbol before the class name; Dot has none ("· Dot" reads as a stray dot)
    "Add": "+", "Subtract": "−", "Multiply": "×", "Average": "mean", "Maximum": "max", "Minimum": "min",
    "Concatenate": "‖",
}
EXPANDABLE, COLLAPSIBLE = "⊞", "⊟"  # marks of a closed box that opens, and of an open frame that closes


@dataclass(frozen=True)
class GraphOptions:
    """What the picture shows. ``depth``: nesting levels expanded (0 = each nested model call is one box)."""

    show_shapes: bool = True
    show_dtypes: bool = False
    show_params: bool = False
    show_activations: bool = True
    show_trainable: bool = False
    direction: str = "TB"
    depth: int | None = 0

    def __post_init__(self) -> None:
        if self.direction not in ("TB", "LR"):
            raise ValueError(_("direction must be 'TB' (top-down) or 'LR' (left-right), not {value!r}")
                             .format(value=self.direction))
        if self.depth is not None and (not isinstance(self.depth, int) or self.depth < 0):
            raise ValueError(_("depth must be a whole number >= 0, or None to expand every level; got {value!r}")
                             .format(value=self.depth))


@dataclass(frozen=True)
class NodeColours:
    """Optional per-node fill colours (e.g. gradient norms), keyed by layer key."""

    fills: Mapping[str, str] = field(default_factory=dict)
    legend: str = ""


class DotNotFound(RuntimeError):
    """Graphviz's ``dot`` gave no picture: it is not installed (this class) or it failed (:class:`DotFailed`)."""


class DotFailed(DotNotFound):
    """``dot`` is installed but gave no picture: it did not finish in time, failed, or printed something that is not
    SVG. A :class:`DotNotFound`, so every fallback written for a missing ``dot`` covers it too."""


DOT_MESSAGES = {  # marked texts: show them with _()
    "missing": N_("Graphviz's dot program is not installed"),
    "start": N_("Graphviz's dot program could not be started ({error})"),
    "slow": N_("Graphviz's dot did not finish within {limit:g} s"),
    "failed": N_("Graphviz's dot failed (exit status {status}{detail})"),
    "garbage": N_("Graphviz's dot printed something that is not an SVG picture"),
}


def format_shape(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def format_count(number: int) -> str:
    """A count for a box: 950, 71.2k, 23.5M."""
    if number < 1000:
        return str(number)
    if number < 999_500:
        return f"{number / 1e3:.3g}k"
    return f"{number / 1e6:.3g}M"


def node_ids(graph: LayerGraph) -> dict[str, str]:
    """Stable DOT/SVG ids for the graph's keys (``n0``, ``n1``, … in node order)."""
    return {n.key: f"n{i}" for i, n in enumerate(graph.nodes)}


def frame_ids(graph: LayerGraph) -> dict[str, str]:
    """SVG ids of the frames drawn around open nested models and blocks (``f0``, ``f1``, … in order of first
    appearance in the nodes' paths), keyed by the container's key."""
    ids: dict[str, str] = {}
    for n in graph.nodes:
        for key in n.path:
            if key not in ids:
                ids[key] = f"f{len(ids)}"
    return ids


def frame_title(key: str, frames: Mapping[str, Frame]) -> tuple[str, str]:
    """(bold part, plain part) of the title of the frame around container ``key``."""
    frame = frames.get(key)
    if frame is None or frame.kind == "model":
        return f"{COLLAPSIBLE} {key.rsplit('/', 1)[-1]}", _("nested model")
    n = frame.n_layers
    return f"{COLLAPSIBLE} {frame.name}", ngettext("block · {n} layers", "block · {n} layers", n).format(n=n)


def layer_count(node: Node) -> int:
    """Layer calls inside a nested model or block, at every depth (its own inputs not counted)."""
    if node.subgraph is None:
        return 0
    return sum(1 for m in node.subgraph.walk() if m.kind not in ("input", "group"))


def legend_swatches(colours: NodeColours, k: int = 5) -> list[str]:
    """Up to ``k`` of the fills used, palest first, for a colour legend."""
    fills = sorted(set(colours.fills.values()), key=lambda f: -NodeStyle(f).luminance)
    if len(fills) <= k:
        return fills
    return [fills[round(i * (len(fills) - 1) / (k - 1))] for i in range(k)]


def skip_edges(graph: LayerGraph) -> set[tuple[str, str]]:
    """Edges that jump ahead: ``u -> v`` where ``u`` also reaches another input of ``v`` (a residual path)."""
    index = {k: i for i, k in enumerate(graph.keys)}
    preds: dict[str, list[str]] = {}
    for e in graph.edges:
        preds.setdefault(e.dst, []).append(e.src)
    ancestors: dict[str, int] = {}  # bitset over node indices
    for n in graph.nodes:
        bits = 0
        for p in preds.get(n.key, ()):
            bits |= ancestors.get(p, 0) | (1 << index[p])
        ancestors[n.key] = bits
    skips: set[tuple[str, str]] = set()
    for v, ps in preds.items():
        if len(set(ps)) < 2:
            continue
        for u in set(ps):
            if any(w != u and (ancestors.get(w, 0) >> index[u]) & 1 for w in ps):
                skips.add((u, v))
    return skips


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: object) -> str:
    """``text`` escaped for XML and HTML (SVG, DOT HTML labels): markup as characters, control characters written
    as Python writes them, since XML cannot hold them."""
    escaped = html.escape(str(text), quote=True)
    return _NOT_XML.sub(lambda m: repr(m.group(0))[1:-1], escaped)


_esc = xml_text


def _title(node: Node, output_name: str | None) -> str:
    kind = node.kind
    cls = node.class_name
    if kind == "input":
        return "Input"
    if kind == "op":
        return f"ops.{node.name.split('#')[0]}" if cls.lower() == node.name.split("#")[0] else f"ops · {cls}"
    if kind == "model":
        return _("{cls} (model)").format(cls=cls)
    if kind == "group":
        n = layer_count(node)
        return ngettext("block · {n} layers · {params} params", "block · {n} layers · {params} params", n).format(
            n=n, params=format_count(node.layer.params))
    if kind == "subclassed":
        return _("{cls} (subclassed: no inner graph)").format(cls=cls)
    if kind == "nograph":
        return _("{cls} (no graph: Keras ran it layer by layer)").format(cls=cls)
    if node.is_merge:
        return f"{MERGE_SYMBOL.get(cls, '')} {cls}".strip()
    return cls


@dataclass(frozen=True)
class LabelRow:
    """One line of a node's label: plain text and how to show it (renderers escape the text)."""

    text: str
    style: str = "detail"  # "name" | "detail" | "shape" | "small" | "output"


def label_rows(node: Node, options: GraphOptions, output_name: str | None) -> list[LabelRow]:
    """What a node's box says, shared by the DOT renderer and the built-in layout."""
    name = node.key.rsplit("/", 1)[-1] if node.path else node.key
    rows = [LabelRow(node.layer.name if node.kind == "group" else name, "name")]
    detail = _title(node, output_name)
    if node.kind == "group" or (node.kind == "model" and node.subgraph is not None):
        detail = f"{EXPANDABLE} {detail}"
    if options.show_activations and node.layer.activation:
        detail += f" · {node.layer.activation}"
    if node.class_name == "Dot" and node.layer.config.get("normalize"):
        detail += " · " + _("cosine")
    rows.append(LabelRow(detail, "detail"))
    if node.shared:
        rows.append(LabelRow(_calls_text(node), "small"))
    if options.show_shapes and node.output_shapes:
        rows.append(LabelRow(" ".join(format_shape(s) for s in node.output_shapes), "shape"))
    if options.show_dtypes and node.output_dtypes:
        rows.append(LabelRow(", ".join(dict.fromkeys(node.output_dtypes)), "small"))
    if options.show_params and node.kind != "input":
        params = _("{params:,} params (shared)") if node.reused and node.layer.params else _("{params:,} params")
        rows.append(LabelRow(params.format(params=node.layer.params), "small"))
    if options.show_trainable and node.kind not in ("input", "op"):
        rows.append(LabelRow(_("trainable") if node.layer.trainable else _("frozen"), "small"))
    if output_name is not None:
        rows.append(LabelRow(_("output “{name}”").format(name=output_name), "output"))
    return rows


def _calls_text(node: Node) -> str:
    """Which call of a layer called more than once: weights shared only when it has weights."""
    i, n = node.call_index + 1, node.n_calls
    if node.layer.params:
        return _("call {i} of {n} · shared weights").format(i=i, n=n)
    if n == 2:
        return _("called twice: call {i}").format(i=i)
    return ngettext("called {n} times: call {i}", "called {n} times: call {i}", n).format(n=n, i=i)


def same_layer_text(node: Node) -> str:
    """What the dashed line between two calls of one layer says."""
    return _("same weights") if node.layer.params else _("same layer")


_DOT_ROW = {
    "name": "<B>{}</B>",
    "detail": '<FONT POINT-SIZE="10">{}</FONT>',
    "shape": '<FONT POINT-SIZE="10" FACE="monospace">{}</FONT>',
    "small": '<FONT POINT-SIZE="9">{}</FONT>',
    "output": '<FONT POINT-SIZE="9" COLOR="#166534">{}</FONT>',
}


def _dot_html(text: object) -> str:
    """Text for a DOT HTML-like label: escaped markup, and no ``\\N`` for dot to replace (see :func:`_no_subst`)."""
    return _no_subst(_esc(text))


def _label(node: Node, options: GraphOptions, output_name: str | None) -> str:
    rows = label_rows(node, options, output_name)
    return _HtmlLabel("<" + "<BR/>".join(_DOT_ROW[r.style].format(_dot_html(r.text)) for r in rows) + ">")


@dataclass(frozen=True)
class NodeStyle:
    """How a node's box looks, shared by the DOT renderer and the built-in layout."""

    fill: str
    border: str = "#475569"
    shape: str = "box"  # "box" | "box3d" (nested model) | "note" (subclassed model)
    dashed: bool = False  # a keras.ops call, not a layer
    double: bool = False  # a model output
    thick: bool = False  # a merge

    @property
    def luminance(self) -> float:
        hexa = self.fill.lstrip("#")
        if len(hexa) != 6:
            return 1.0
        r, g, b = (int(hexa[i:i + 2], 16) / 255 for i in (0, 2, 4))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    @property
    def text(self) -> str:
        """Black on light fills, white on dark ones (e.g. the darkest gradient colours)."""
        return "#ffffff" if self.luminance < 0.45 else "#000000"


def shared_fills(graph: LayerGraph) -> dict[int, str]:
    """One colour per shared layer (by layer uid), so all calls of one set of weights look alike."""
    uids = list(dict.fromkeys(n.layer.uid for n in graph.nodes if n.shared))
    return {uid: SHARED_COLOURS[i % len(SHARED_COLOURS)] for i, uid in enumerate(uids)}


def output_names_by_key(graph: LayerGraph) -> dict[str, str]:
    names = graph.output_names or tuple(k for k, _index in graph.outputs)
    found: dict[str, str] = {}
    for (key, _index), name in zip(graph.outputs, names, strict=False):
        found.setdefault(key, name)
    return found


def node_style(node: Node, *, is_output: bool, fill: str | None = None,
               shared_fill: Mapping[int, str] | None = None) -> NodeStyle:
    kind = node.kind
    if kind == "input":
        base, border, shape = PALETTE["input"], "#1d4ed8", "box"
    elif kind == "model":
        base, border, shape = PALETTE["model"], "#6d28d9", "box3d"
    elif kind == "group":
        base, border, shape = PALETTE["group"], "#0369a1", "box3d"
    elif kind == "subclassed":
        base, border, shape = PALETTE["subclassed"], "#b91c1c", "note"
    elif kind == "nograph":
        base, border, shape = PALETTE["nograph"], "#b45309", "note"
    elif kind == "op":
        base, border, shape = PALETTE["op"], "#475569", "box"
    elif node.is_merge:
        base, border, shape = PALETTE["merge"], "#c2410c", "box"
    else:
        base, border, shape = PALETTE["layer"], "#475569", "box"
    if node.shared and shared_fill:
        base = shared_fill.get(node.layer.uid, base)
    if is_output:
        border = "#15803d"
    return NodeStyle(fill=fill or base, border=border, shape=shape, dashed=kind == "op", double=is_output,
                     thick=node.is_merge)


def _node_attrs(node: Node, options: GraphOptions, output_name: str | None, fill: str | None,
                shared_fill: dict[int, str]) -> dict[str, str]:
    st = node_style(node, is_output=output_name is not None, fill=fill, shared_fill=shared_fill)
    style = ["filled"] + (["rounded"] if st.shape == "box" else []) + (["dashed"] if st.dashed else [])
    attrs = {
        "label": _label(node, options, output_name),
        "shape": st.shape,
        "style": ",".join(style),
        "fillcolor": st.fill,
        "color": st.border,
        "tooltip": node.key,
    }
    if st.text != "#000000":
        attrs["fontcolor"] = st.text
    if st.double:
        attrs["peripheries"] = "2"
    if st.thick:
        attrs["penwidth"] = "2"
    return attrs


class _HtmlLabel(str):
    """A DOT HTML-like label, built only from escaped text; every other attribute value is quoted."""


def _attr_list(attrs: Mapping[str, str]) -> str:
    parts = []
    for k, v in attrs.items():
        if isinstance(v, _HtmlLabel):
            parts.append(f"{k}={v}")
        else:
            parts.append(f'{k}="{_dot_string(v)}"')
    return ", ".join(parts)


def _dot_string(text: str) -> str:
    """A DOT quoted string that dot shows as ``text``."""
    text = _no_subst(_NOT_XML.sub(lambda m: repr(m.group(0))[1:-1], str(text)))
    return (text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r"))


def _dot_id(text: str) -> str:
    """The graph's name as a DOT id, shown as the picture's title: dot keeps backslashes there as they are written,
    so one is shown as "∖" (it could end the string)."""
    text = _NOT_XML.sub(lambda m: repr(m.group(0))[1:-1], str(text))
    return text.replace("&", "&amp;").replace("\\", "∖").replace('"', '\\"').replace("\n", " ").replace("\r", " ")


_SUBST = re.compile(r"\\(?=[NGEHTL\\])")


def _no_subst(text: str) -> str:
    """dot replaces ``\\N``, ``\\G``, ``\\E``, ``\\H``, ``\\T``, ``\\L`` in labels and tooltips (by the node's
    name …) whatever the escaping, and reads two backslashes as one; an invisible word joiner after such a backslash
    keeps the text as written."""
    return _SUBST.sub("\\\\\u2060", text)


def to_dot(graph: LayerGraph, options: GraphOptions | None = None, colours: NodeColours | None = None) -> str:
    """DOT source for an already flattened or folded graph (:func:`fapi_lab._layergraph.flatten`,
    :func:`fapi_lab._folding.fold`): each open nested model or block is a cluster with the id of
    :func:`frame_ids`."""
    options = options or GraphOptions()
    colours = colours or NodeColours()
    ids = node_ids(graph)
    fids = frame_ids(graph)
    frames = {f.key: f for f in graph.frames}
    outputs = output_names_by_key(graph)
    shared_fill = shared_fills(graph)

    lines = [
        f'digraph "{_dot_id(graph.name)}" {{',
        f'  graph [rankdir={options.direction}, nodesep=0.25, ranksep=0.35, fontname="Helvetica", '
        f'fontsize=11, bgcolor="transparent", tooltip="{_dot_string(graph.name)}"];',
        '  node [fontname="Helvetica", fontsize=11, margin="0.12,0.05", height=0.3, penwidth=1.2];',
        '  edge [color="#64748b", arrowsize=0.7, penwidth=1.1];',
    ]
    # clusters for expanded nested calls: a tree keyed by path
    children: dict[tuple[str, ...], list[Node]] = {}
    for n in graph.nodes:
        children.setdefault(n.path, []).append(n)
    cluster_paths = sorted({n.path[:i] for n in graph.nodes for i in range(1, len(n.path) + 1)}, key=len)
    sub_clusters: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for p in cluster_paths:
        sub_clusters.setdefault(p[:-1], []).append(p)

    def emit(path: tuple[str, ...], indent: str) -> None:
        for n in children.get(path, []):
            attrs = _node_attrs(n, options, outputs.get(n.key), colours.fills.get(n.key), shared_fill)
            attrs["id"] = ids[n.key]
            lines.append(f"{indent}{ids[n.key]} [{_attr_list(attrs)}];")
        for sub in sub_clusters.get(path, []):
            bold, plain = frame_title(sub[-1], frames)
            colour = "#0369a1" if sub[-1] in frames and frames[sub[-1]].kind == "group" else "#7c3aed"
            lines.append(f"{indent}subgraph cluster_{fids[sub[-1]]} {{")
            lines.append(f'{indent}  label=<<B>{_dot_html(bold)}</B>  <FONT POINT-SIZE="9">{_dot_html(plain)}</FONT>>; '
                         f'style="rounded,dashed"; color="{colour}"; fontsize=10; id="{fids[sub[-1]]}"; '
                         f'tooltip="{_dot_string(sub[-1])}";')
            emit(sub, indent + "  ")
            lines.append(f"{indent}}}")

    emit((), "  ")
    skips = skip_edges(graph)
    for e in graph.edges:
        if e.src not in ids or e.dst not in ids:
            continue
        attrs: dict[str, str] = {}
        if e.role != "input":
            attrs.update(EDGE_ROLES[e.role], tooltip=_(EDGE_ROLES[e.role]["tooltip"]))
        elif (e.src, e.dst) in skips:
            attrs.update(color="#ea580c", penwidth="2", style="bold", tooltip=_("skip (residual) connection"))
        lines.append(f"  {ids[e.src]} -> {ids[e.dst]}" + (f" [{_attr_list(attrs)}]" if attrs else "") + ";")
    # make weight sharing visible: a dashed line between consecutive calls of one layer
    by_layer: dict[int, list[Node]] = {}
    for n in graph.nodes:
        if n.shared:
            by_layer.setdefault(n.layer.uid, []).append(n)
    for calls in by_layer.values():
        for a, b in itertools.pairwise(calls):
            same = _dot_string(same_layer_text(a))
            lines.append(f'  {ids[a.key]} -> {ids[b.key]} [style=dashed, dir=none, constraint=false, '
                         f'color="#b45309", tooltip="{same}", label=" {same}", fontsize=8, '
                         f'fontcolor="#b45309"];')
    if colours.legend:
        lines.insert(2, f"  {_legend_label(colours)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend_label(colours: NodeColours) -> str:
    """The colour legend as the picture's caption: swatches from palest to darkest, then what they mean."""
    cells = "".join(f'<TD BGCOLOR="{_esc(c)}" WIDTH="14" HEIGHT="10"></TD>' for c in legend_swatches(colours))
    text = _dot_html(colours.legend)
    return (f'graph [labelloc=b, labeljust=l, label=<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2"><TR>{cells}'
            f'<TD WIDTH="6"></TD><TD><FONT POINT-SIZE="9">{text}</FONT></TD></TR></TABLE>>];')


def dot_to_svg(dot_source: str, *, timeout: float | None = None) -> str:
    """Run Graphviz's ``dot -Tsvg`` for at most ``timeout`` seconds (:data:`DOT_TIME_LIMIT` unless given) and
    return the ``<svg>`` element it printed.

    Raises :class:`DotNotFound` if the program is missing and :class:`DotFailed` if it cannot be started, does
    not finish in time (it is stopped, with anything it started), exits with an error or prints no well-formed SVG.
    """
    timeout = DOT_TIME_LIMIT if timeout is None else timeout
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound(_(DOT_MESSAGES["missing"]))
    try:
        proc = subprocess.Popen([exe, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=os.name == "posix")
    except OSError as exc:
        raise DotFailed(_(DOT_MESSAGES["start"]).format(error=exc)) from None
    try:
        out, err = proc.communicate(dot_source.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise DotFailed(_(DOT_MESSAGES["slow"]).format(limit=timeout)) from None
    if proc.returncode != 0:
        first = next((line.strip() for line in err.decode(errors="replace").splitlines() if line.strip()), "")
        raise DotFailed(_(DOT_MESSAGES["failed"]).format(status=proc.returncode, detail=f": {first[:160]}" if first
                                                         else ""))
    svg = out.decode(errors="replace")
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else ""
    try:
        ok = ET.fromstring(svg).tag.rsplit("}", 1)[-1] == "svg"
    except ET.ParseError:
        ok = False
    if not ok:
        raise DotFailed(_(DOT_MESSAGES["garbage"]))
    return svg


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a ``dot`` that ran out of time, and whatever it started (its own process group on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
        proc.communicate(timeout=2)
