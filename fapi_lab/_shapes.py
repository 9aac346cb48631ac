"""``lab.shapes(model)``: one row per layer call, with the arithmetic behind every shape and parameter count.

Rows come from the plain layer graph (nested models expanded, so ``encoder/conv2d_1`` has its own row).
Each layer type has one small formula function in ``FORMULAS``; it recomputes the output shape from the
input shape and the layer's settings and writes the arithmetic with the real numbers. If the formula and
Keras ever disagree, the row says so instead of hiding it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets as widgets
import traitlets

from . import _keras_adapter as adapter
from ._layergraph import LayerGraph, Node, Shape, flatten
from ._render_dot import format_shape

__all__ = ["FORMULAS", "ShapeRow", "ShapeTable", "ShapeTrace", "link_selection", "shapes", "trace_graph"]


@dataclass(frozen=True)
class ShapeRow:
    """One layer call. ``params`` counts only the weights this call adds (0 for a shared layer's later calls)."""

    call: str
    layer_class: str
    input_shapes: list[Shape]
    output_shapes: list[Shape]
    params: int
    explanation: str
    param_formula: str = ""
    formula_known: bool = True


Formula = Callable[[Node, dict[str, Any]], tuple[str, Shape | None, str]]
FORMULAS: dict[str, Formula] = {}


def _formula(*class_names: str) -> Callable[[Formula], Formula]:
    def register(fn: Formula) -> Formula:
        for name in class_names:
            FORMULAS[name] = fn
        return fn
    return register


# -- helpers ------------------------------------------------------------------------------------------------
def _n(value: int | None) -> str:
    return "None" if value is None else f"{value:,}"


def _dims(shape: Shape) -> str:
    """(None, 28, 28, 1) -> '28×28×1' (the batch axis left out)."""
    return "×".join(_n(d) for d in shape[1:]) or "a scalar"


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    return tuple(value)


def _in(node: Node) -> Shape:
    return node.input_shapes[0] if node.input_shapes else ()


def _params_dense_like(fan_in: int | None, units: int, bias: bool) -> str:
    if fan_in is None:
        return ""
    total = fan_in * units + (units if bias else 0)
    return f"{_n(fan_in)}·{units}" + (f" + {units}" if bias else "") + f" = {total:,}"


# -- formulas -----------------------------------------------------------------------------------------------
@_formula("InputLayer")
def _input(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = node.output_shapes[0]
    return (f"an input: each sample is {_dims(shape)}; the batch axis stays None until data arrives",
            shape, "")


@_formula("Dense")
def _dense(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape, units = _in(node), cfg["units"]
    out = (*shape[:-1], units)
    lead = f" (applied at every position; the axes before it stay: {format_shape(out)})" if len(shape) > 2 else ""
    text = f"Dense({units}) on {_n(shape[-1])} → {units}: the last axis becomes units{lead}"
    return text, out, _params_dense_like(shape[-1], units, cfg.get("use_bias", True))


def _conv_like(node: Node, cfg: dict[str, Any], rank: int, transpose: bool) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    k = _tuple(cfg["kernel_size"], rank)
    s = _tuple(cfg.get("strides", 1), rank)
    d = _tuple(cfg.get("dilation_rate", 1), rank)
    pad = cfg.get("padding", "valid")
    if cfg.get("data_format", "channels_last") != "channels_last":
        return "channels_first convolution: no formula written for it", None, ""
    spatial, channels = shape[1:-1], shape[-1]
    sizes, steps = [], []
    for n, kk, ss, dd in zip(spatial, k, s, d, strict=True):
        ke = dd * (kk - 1) + 1
        ke_text = str(kk) if dd == 1 else f"({dd}·({kk} − 1) + 1)"
        if n is None:
            sizes.append(None)
            continue
        if transpose:
            size = n * ss if pad == "same" else (n - 1) * ss + ke
            steps.append(f"{n}·{ss} = {size}" if pad == "same" else f"({n} − 1)·{ss} + {ke_text} = {size}")
        elif pad == "same":
            size = math.ceil(n / ss)
            steps.append(f"⌈{n}/{ss}⌉ = {size}")
        else:
            size = (n - ke) // ss + 1
            steps.append(f"⌊({n} − {ke_text})/{ss}⌋ + 1 = {size}")
        sizes.append(size)
    filters = cfg["filters"]
    out = (shape[0], *sizes, filters)
    name = node.class_name
    window = "×".join(map(str, k))
    stride = "×".join(map(str, s)) if len(set(s)) > 1 else str(s[0])
    because = f", because {'; '.join(dict.fromkeys(steps))}" if steps else ""
    text = (f"{name} {window}, stride {stride}, padding {pad} on {_dims(shape)} with {filters} filters → "
            f"{_dims(out)}{because}")
    bias = cfg.get("use_bias", True)
    params = ""
    if channels is not None:
        total = math.prod(k) * channels * filters + (filters if bias else 0)
        params = "·".join(map(str, (*k, channels, filters))) + (f" + {filters}" if bias else "") + f" = {total:,}"
    return text, out, params


@_formula("Conv1D")
def _conv1d(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _conv_like(node, cfg, 1, False)


@_formula("Conv2D")
def _conv2d(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _conv_like(node, cfg, 2, False)


@_formula("Conv3D")
def _conv3d(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _conv_like(node, cfg, 3, False)


@_formula("Conv1DTranspose")
def _conv1dt(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _conv_like(node, cfg, 1, True)


@_formula("Conv2DTranspose")
def _conv2dt(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _conv_like(node, cfg, 2, True)


@_formula("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
          "AveragePooling3D")
def _pool(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    rank = len(shape) - 2
    p = _tuple(cfg["pool_size"], rank)
    s = _tuple(cfg.get("strides") or cfg["pool_size"], rank)
    pad = cfg.get("padding", "valid")
    sizes, steps = [], []
    for n, pp, ss in zip(shape[1:-1], p, s, strict=True):
        if n is None:
            sizes.append(None)
            continue
        size = math.ceil(n / ss) if pad == "same" else (n - pp) // ss + 1
        steps.append(f"⌈{n}/{ss}⌉ = {size}" if pad == "same" else f"⌊({n} − {pp})/{ss}⌋ + 1 = {size}")
        sizes.append(size)
    out = (shape[0], *sizes, shape[-1])
    window = "×".join(map(str, p))
    because = f", because {'; '.join(dict.fromkeys(steps))}" if steps else ""
    return (f"{node.class_name}({window}) on {_dims(shape)} → {_dims(out)}{because}; channels unchanged",
            out, "")


@_formula("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
          "GlobalAveragePooling2D", "GlobalAveragePooling3D")
def _global_pool(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    how = "maximum" if "Max" in node.class_name else "mean"
    if cfg.get("keepdims"):
        out = (shape[0], *([1] * (len(shape) - 2)), shape[-1])
        return f"takes the {how} over the spatial axes, keeping them as size 1: {_dims(shape)} → {_dims(out)}", out, ""
    out = (shape[0], shape[-1])
    return (f"takes the {how} over the spatial axes and drops them: {_dims(shape)} → ({_n(shape[-1])},), "
            f"one number per channel", out, "")


@_formula("UpSampling1D", "UpSampling2D", "UpSampling3D")
def _upsample(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    rank = len(shape) - 2
    size = _tuple(cfg.get("size", 2), rank)
    sizes = [None if n is None else n * f for n, f in zip(shape[1:-1], size, strict=True)]
    out = (shape[0], *sizes, shape[-1])
    steps = "; ".join(dict.fromkeys(f"{n}·{f} = {n * f}" for n, f in zip(shape[1:-1], size, strict=True)
                                    if n is not None))
    return f"{node.class_name}({'×'.join(map(str, size))}) on {_dims(shape)} → {_dims(out)}, because {steps}", out, ""


@_formula("Reshape")
def _reshape(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape, target = _in(node), tuple(cfg["target_shape"])
    known = list(shape[1:])
    if None in known:
        return f"Reshape to {target}: keeps the element count", (shape[0], *target), ""
    total = math.prod(known)
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        target = tuple(total // rest if d == -1 else d for d in target)
    before = f"{'·'.join(map(str, known))} = {total:,}" if len(known) > 1 else f"{total:,}"
    return (f"Reshape keeps the element count: {before} = {'·'.join(map(str, target))}", (shape[0], *target), "")


@_formula("Flatten")
def _flatten(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    if None in shape[1:]:
        return "Flatten multiplies the axes after the batch (one is unknown here)", None, ""
    total = math.prod(shape[1:])
    return f"Flatten multiplies: {'·'.join(map(str, shape[1:]))} = {total:,}", (shape[0], total), ""


@_formula("Embedding")
def _embedding(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    vocab, dim = cfg["input_dim"], cfg["output_dim"]
    out = (*shape, dim)
    length = "None (any length)" if len(shape) > 1 and shape[1] is None else _dims(shape)
    return (f"Embedding({vocab:,}, {dim}) on a sequence of length {length}: each token id becomes a {dim}-vector "
            f"→ {format_shape(out)}", out, f"{vocab:,}·{dim} = {vocab * dim:,}")


def _recurrent(node: Node, cfg: dict[str, Any], gates: int, label: str) -> tuple[str, Shape | None, str]:
    shape, units = _in(node), cfg["units"]
    seq = cfg.get("return_sequences", False)
    out = (shape[0], shape[1], units) if seq else (shape[0], units)
    what = (f"returns the whole sequence: one {units}-vector per step → {format_shape(out)}" if seq
            else f"returns the last state only: ({units},)")
    feat = shape[-1]
    params = ""
    if feat is not None:
        extra = 2 * units if cfg.get("reset_after", False) else units
        total = gates * (units * (feat + units) + extra)
        bias = f"2·{units}" if cfg.get("reset_after", False) else str(units)
        params = f"{gates}·({units}·({feat}+{units})+{bias}) = {total:,}"
        if gates == 1:
            params = f"{units}·({feat}+{units})+{units} = {total:,}"
    return f"{label}({units}) over {_dims(shape)} {what}", out, params


@_formula("LSTM")
def _lstm(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _recurrent(node, cfg, 4, "LSTM")


@_formula("GRU")
def _gru(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _recurrent(node, cfg, 3, "GRU")


@_formula("SimpleRNN")
def _rnn(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    return _recurrent(node, cfg, 1, "SimpleRNN")


@_formula("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Activation",
          "ReLU", "LeakyReLU", "Softmax", "ELU", "PReLU", "LayerNormalization", "UnitNormalization", "Identity")
def _same_shape(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    if node.class_name.endswith("Dropout"):
        why = f"drops a random {cfg.get('rate', 0):g} of the values while training only; the shape is unchanged"
    else:
        why = "works value by value; the shape is unchanged"
    return f"{node.class_name} {why}: {_dims(shape)}", shape, ""


@_formula("BatchNormalization")
def _batchnorm(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape = _in(node)
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list | tuple) else axis
    c = shape[axis]
    params = f"4·{c} = {4 * c:,} (γ, β trainable; moving mean and variance not)" if c is not None else ""
    return f"BatchNormalization rescales each channel; the shape is unchanged: {_dims(shape)}", shape, params


@_formula("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def _elementwise(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shapes = " and ".join(format_shape(s) for s in node.input_shapes)
    return (f"{node.class_name} combines its inputs value by value, so it needs equal shapes: {shapes} → "
            f"{format_shape(node.input_shapes[0])}", node.input_shapes[0], "")


@_formula("Concatenate")
def _concatenate(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    axis = cfg.get("axis", -1)
    parts = [s[axis] for s in node.input_shapes]
    first = node.input_shapes[0]
    if None in parts:
        total = None
        sums = " + ".join(_n(p) for p in parts)
    else:
        total = sum(parts)
        sums = " + ".join(map(str, parts)) + f" = {total}"
    out = list(first)
    out[axis] = total
    axis_text = "−1" if axis == -1 else str(axis)
    return (f"Concatenate on axis {axis_text} adds those sizes: {sums}; every other axis must match",
            tuple(out), "")


@_formula("Dot")
def _dot(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    norm = " of the L2-normalised inputs (cosine similarity)" if cfg.get("normalize") else ""
    return (f"Dot product along axes {cfg.get('axes')}{norm}: "
            f"{' · '.join(format_shape(s) for s in node.input_shapes)} → {format_shape(node.output_shapes[0])}",
            None, "")


@_formula("TimeDistributed")
def _time_distributed(node: Node, cfg: dict[str, Any]) -> tuple[str, Shape | None, str]:
    shape, out = _in(node), node.output_shapes[0]
    return (f"TimeDistributed maps its inner layer over the time axis: each of the {_n(shape[1])} steps "
            f"{format_shape((shape[0], *shape[2:]))} → {format_shape((out[0], *out[2:]))}", None, "")


def _explain_row(node: Node) -> tuple[str, str, bool]:
    """(explanation, parameter formula, formula known) for a node, checked against Keras's shape."""
    cfg = node.layer.config
    if node.kind == "model":
        return (f"a nested model called like a layer: its own layers turn "
                f"{', '.join(format_shape(s) for s in node.input_shapes)} into "
                f"{', '.join(format_shape(s) for s in node.output_shapes)}", "", True)
    if node.kind == "subclassed":
        return ("a subclassed model: Keras only knows what comes in and out, not the steps inside", "", False)
    fn = FORMULAS.get(node.class_name)
    if fn is None:
        ins = ", ".join(format_shape(s) for s in node.input_shapes)
        outs = ", ".join(format_shape(s) for s in node.output_shapes)
        what = "keras.ops call" if node.kind == "op" else node.class_name
        return f"{what}: {ins} → {outs} (no formula is known for this layer type; Keras computed the shape)", "", False
    try:
        text, shape, params = fn(node, cfg)
    except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError) as exc:
        return (f"{node.class_name}: {format_shape(node.output_shapes[0])} (its formula could not be applied: "
                f"{exc})", "", False)
    if shape is not None and node.output_shapes and tuple(shape) != tuple(node.output_shapes[0]):
        text += (f" [the formula gives {format_shape(tuple(shape))} but Keras computed "
                 f"{format_shape(node.output_shapes[0])}]")
    if node.reused and node.layer.params:
        params = f"0 (shares the weights of an earlier call{'; ' + params if params else ''})"
    return text, params, True


# -- the trace -----------------------------------------------------------------------------------------------
class ShapeTrace:
    """One row per layer call. Displays as a table; ``.rows`` is the data; ``str()`` is a text table."""

    def __init__(self, graph: LayerGraph, rows: list[ShapeRow]) -> None:
        self.graph = graph
        self.rows = rows

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    def row(self, call: str) -> ShapeRow:
        for r in self.rows:
            if r.call == call:
                return r
        raise KeyError(f"no layer call {call!r} in this trace")

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"ShapeTrace({self.graph.name!r}: {len(self.rows)} layer calls, {self.total_params:,} params)"

    def __str__(self) -> str:
        head = ("call", "layer", "output shape", "params", "why")
        lines = [(r.call, r.layer_class, ", ".join(format_shape(s) for s in r.output_shapes), f"{r.params:,}",
                  r.explanation) for r in self.rows]
        widths = [max(len(x[i]) for x in [head, *lines]) for i in range(4)]
        out = ["  ".join(h.ljust(w) for h, w in zip(head[:4], widths, strict=True)) + "  why"]
        for line in lines:
            out.append("  ".join(c.ljust(w) for c, w in zip(line[:4], widths, strict=True)) + "  " + line[4])
        out.append(f"total parameters: {self.total_params:,}")
        return "\n".join(out)

    def _repr_html_(self, selected: str = "") -> str:
        esc = html.escape
        body = []
        for r in self.rows:
            style = " style='background:#fee2e2'" if r.call == selected else ""
            ins = "<br>".join(esc(format_shape(s)) for s in r.input_shapes) or "—"
            outs = "<br>".join(esc(format_shape(s)) for s in r.output_shapes)
            params = f"{r.params:,}" + (f"<br><small>{esc(r.param_formula)}</small>" if r.param_formula else "")
            note = "" if r.formula_known else " <i style='color:#92400e'>(no formula)</i>"
            body.append(
                f"<tr{style}><td><code>{esc(r.call)}</code></td><td>{esc(r.layer_class)}</td>"
                f"<td style='font-family:monospace'>{ins}</td><td style='font-family:monospace'>{outs}</td>"
                f"<td style='text-align:right'>{params}</td>"
                f"<td style='text-align:left'>{esc(r.explanation)}{note}</td></tr>")
        return (
            "<table class='fapi-lab-shapes'><thead><tr><th>call</th><th>layer</th><th>input shape</th>"
            "<th>output shape</th><th>params</th><th style='text-align:left'>why this shape</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody><tfoot><tr><td colspan='4'><b>total</b></td>"
            f"<td style='text-align:right'><b>{self.total_params:,}</b></td><td></td></tr></tfoot></table>")

    def widget(self) -> ShapeTable:
        """An interactive table whose selected row links to a graph (see :func:`link_selection`)."""
        return ShapeTable(self)


def _wrapper_rows(graph: LayerGraph, depth: int | None) -> dict[str, ShapeRow]:
    """Rows for wrappers such as TimeDistributed(model) that expanding replaces by their inner layers,
    keyed by the key of the first inner node they should precede."""
    rows: dict[str, ShapeRow] = {}
    if depth is not None and depth <= 0:
        return rows
    for node in graph.nodes:
        if node.subgraph is None:
            continue
        inner = flatten(node.subgraph, None if depth is None else depth - 1)
        first = next((n.key for n in inner.nodes if n.key not in inner.inputs), None)
        if first is not None and not node.layer.is_model:
            text, _, known = _explain_row(replace(node, kind="layer"))
            rows[first] = ShapeRow(call=node.key, layer_class=node.class_name, input_shapes=list(node.input_shapes),
                                   output_shapes=list(node.output_shapes), params=0, explanation=text,
                                   param_formula="counted in the rows of its inner layers", formula_known=known)
        rows.update(_wrapper_rows(node.subgraph, None if depth is None else depth - 1))
    return rows


def trace_graph(graph: LayerGraph, depth: int | None = None) -> ShapeTrace:
    flat = flatten(graph, depth)
    wrappers = _wrapper_rows(graph, depth)
    rows = []
    for node in flat.nodes:
        if node.key in wrappers:
            rows.append(wrappers[node.key])
        text, params_text, known = _explain_row(node)
        rows.append(ShapeRow(call=node.key, layer_class=node.class_name, input_shapes=list(node.input_shapes),
                             output_shapes=list(node.output_shapes), params=node.new_params, explanation=text,
                             param_formula=params_text, formula_known=known))
    return ShapeTrace(flat, rows)


def shapes(model_or_tensor: Any, *, depth: int | None = None) -> ShapeTrace:
    """Trace every layer call's shapes, with the arithmetic. Nested models are expanded (``depth=None``);
    ``depth=0`` keeps each nested model as one row."""
    try:
        graph = adapter.read(model_or_tensor)
    except adapter.GraphReadError as exc:
        raise ValueError(str(exc).replace("lab.graph()", "lab.shapes()")) from None
    if graph.subclassed:
        raise ValueError(graph.message.replace("draw", "trace"))
    return trace_graph(graph, depth)


class ShapeTable(widgets.VBox):
    """The shape table as a widget: choose a row (drop-down) to select that layer; ``selected`` is its key."""

    selected = traitlets.Unicode("")

    def __init__(self, trace: ShapeTrace) -> None:
        self.trace = trace
        self._choice = widgets.Dropdown(options=[("(none)", ""), *[(r.call, r.call) for r in trace.rows]],
                                        description="layer", layout=widgets.Layout(width="320px"))
        self._table = widgets.HTML(trace._repr_html_())
        super().__init__([self._choice, self._table])
        widgets.link((self, "selected"), (self._choice, "value"))
        self.observe(self._redraw, "selected")

    def _redraw(self, change: Any = None) -> None:
        self._table.value = self.trace._repr_html_(self.selected)

    def select(self, call: str) -> None:
        self.trace.row(call)
        self.selected = call

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.trace._repr_html_(self.selected)
        bundle["text/plain"] = str(self.trace)
        return bundle


def link_selection(a: Any, b: Any) -> Any:
    """Keep two widgets' ``selected`` layer keys in step (a shape table and a graph view, say).

    A key one side does not know (a collapsed nested layer) clears the other side's selection."""
    def follow(src: Any, dst: Any) -> Callable[[Any], None]:
        def on_change(change: Any) -> None:
            key = change["new"]
            known = getattr(dst, "layer_keys", None) or [r.call for r in getattr(dst, "trace", ShapeTrace(
                LayerGraph("", (), (), (), ()), [])).rows]
            value = key if key in known else ""
            if dst.selected != value:
                dst.selected = value
        return on_change

    a.observe(follow(a, b), "selected")
    b.observe(follow(b, a), "selected")
    return a, b
