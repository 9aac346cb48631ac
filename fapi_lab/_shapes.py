"""``lab.shapes(model)``: one row per layer call, with the arithmetic behind every shape and parameter count.

Rows come from the plain layer graph (nested models expanded, so ``encoder/conv2d_1`` has its own row).
Each layer type has one small formula function (``_formulas.FORMULAS``); it recomputes the output shape and the
parameter count from the input shape and the layer's settings and writes the arithmetic with the real numbers.
A formula is right or absent: one that does not know the settings, or disagrees with Keras, is not shown, and
the row says "no formula is known" beside Keras's own numbers.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets as widgets
import traitlets

from . import _keras_adapter as adapter
from ._formulas import FORMULAS, raw_formula
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


def _explain_row(node: Node) -> tuple[str, str, bool]:
    """(explanation, parameter formula, formula known) for a layer call.

    A formula is shown only when it is right: its shape must equal the one Keras computed and its parameter count
    the layer's real count; otherwise, or when no formula knows the layer or its settings, the row says so and
    shows Keras's numbers alone."""
    if node.kind == "model":
        return (f"a nested model called like a layer: its own layers turn "
                f"{', '.join(format_shape(s) for s in node.input_shapes)} into "
                f"{', '.join(format_shape(s) for s in node.output_shapes)}", "", True)
    if node.kind == "subclassed":
        return ("a subclassed model: Keras only knows what comes in and out, not the steps inside", "", False)
    try:
        found = raw_formula(node)
    except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError, AttributeError):
        found = None
    if found is not None and found.shape is not None and node.output_shapes \
            and tuple(found.shape) != tuple(node.output_shapes[0]):
        found = None
    if found is not None and found.params is not None and found.params != node.layer.params:
        found = None
    if found is None:
        ins = ", ".join(format_shape(s) for s in node.input_shapes)
        outs = ", ".join(format_shape(s) for s in node.output_shapes)
        what = "keras.ops call" if node.kind == "op" else node.class_name
        return (f"{what}: {ins} → {outs} (no formula is known for this layer type or these settings; Keras "
                f"computed the shape)", "", False)
    params = found.params_text
    if node.reused and node.layer.params:
        params = f"0 (shares the weights of an earlier call{'; ' + params if params else ''})"
    return found.text, params, True


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
