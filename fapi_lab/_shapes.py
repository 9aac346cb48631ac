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
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from . import _keras_adapter as adapter
from ._formulas import FORMULAS, raw_formula
from ._i18n import _
from ._labels_text import table_labels
from ._layergraph import LayerGraph, Node, Shape, flatten
from ._render_dot import format_shape

__all__ = ["FORMULAS", "ShapeRow", "ShapeTable", "ShapeTrace", "link_selection", "shapes", "trace_graph"]

_STATIC = Path(__file__).with_name("_static")


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
        return (_("a nested model called like a layer: its own layers turn {inputs} into {outputs}").format(
            inputs=", ".join(format_shape(s) for s in node.input_shapes),
            outputs=", ".join(format_shape(s) for s in node.output_shapes)), "", True)
    if node.kind == "subclassed":
        return (_("a subclassed model: Keras only knows what comes in and out, not the steps inside"), "", False)
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
        what = _("keras.ops call") if node.kind == "op" else node.class_name
        return (_("{what}: {inputs} → {outputs} (no formula is known for this layer type or these settings; Keras "
                  "computed the shape)").format(what=what, inputs=ins, outputs=outs), "", False)
    params = found.params_text
    if node.reused and node.layer.params:
        params = _("0 (shares the weights of an earlier call; {params})").format(params=params) if params else \
            _("0 (shares the weights of an earlier call)")
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
        raise KeyError(_("no layer call {call!r} in this trace").format(call=call))

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"ShapeTrace({self.graph.name!r}: {len(self.rows)} layer calls, {self.total_params:,} params)"

    def __str__(self) -> str:
        head = (_("call"), _("layer"), _("output shape"), _("params"), _("why"))
        lines = [(r.call, r.layer_class, ", ".join(format_shape(s) for s in r.output_shapes), f"{r.params:,}",
                  r.explanation) for r in self.rows]
        widths = [max(len(x[i]) for x in [head, *lines]) for i in range(4)]
        out = ["  ".join(h.ljust(w) for h, w in zip(head[:4], widths, strict=True)) + "  " + head[4]]
        for line in lines:
            out.append("  ".join(c.ljust(w) for c, w in zip(line[:4], widths, strict=True)) + "  " + line[4])
        out.append(_("total parameters: {total:,}").format(total=self.total_params))
        return "\n".join(out)

    def _repr_html_(self, selected: str = "", *, compact: bool = False, max_height: int = 0) -> str:
        """The table as HTML; ``compact``: call, layer, output shape and params only (the arithmetic of the
        selected row under it); ``max_height`` (px): the table scrolls inside a box that high. A shape never
        wraps."""
        esc = html.escape
        mono = "font-family:monospace;white-space:nowrap"
        body = []
        no_formula = esc(_("(no formula)"))
        for r in self.rows:
            style = " style='background:#fee2e2'" if r.call == selected else ""
            ins = "<br>".join(esc(format_shape(s)) for s in r.input_shapes) or "—"
            outs = "<br>".join(esc(format_shape(s)) for s in r.output_shapes)
            params = f"{r.params:,}" + (f"<br><small>{esc(r.param_formula)}</small>" if r.param_formula and
                                        not compact else "")
            note = "" if r.formula_known else f" <i style='color:#92400e'>{no_formula}</i>"
            cells = [f"<td><code style='white-space:nowrap'>{esc(r.call)}</code></td><td>{esc(r.layer_class)}</td>"]
            cells += [] if compact else [f"<td style='{mono}'>{ins}</td>"]
            cells += [f"<td style='{mono}'>{outs}</td><td style='text-align:right;white-space:nowrap'>{params}</td>"]
            cells += [] if compact else [f"<td style='text-align:left'>{esc(r.explanation)}{note}</td>"]
            body.append(f"<tr{style}>{''.join(cells)}</tr>")
        heads = [_("call"), _("layer")] + ([] if compact else [_("input shape")]) + [_("output shape"), _("params")]
        heads += [] if compact else [_("why this shape")]
        total_word = esc(_("total"))
        total = (f"<tfoot><tr><td colspan='{3 if compact else 4}'><b>{total_word}</b></td>"
                 f"<td style='text-align:right'><b>{self.total_params:,}</b></td>"
                 f"{'' if compact else '<td></td>'}</tr></tfoot>")
        table = (f"<table class='fapi-lab-shapes'><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in heads)}</tr>"
                 f"</thead><tbody>{''.join(body)}</tbody>{total}</table>")
        if max_height > 0:
            table = f"<div style='max-height:{max_height}px;overflow-y:auto;overflow-x:auto'>{table}</div>"
        chosen = next((r for r in self.rows if r.call == selected), None)
        if compact and chosen is not None:
            table += f"<div style='font-size:12px'><code>{esc(chosen.call)}</code>: {esc(chosen.explanation)}</div>"
        return table

    def widget(self, *, compact: bool = False, max_height: int = 0) -> ShapeTable:
        """An interactive table whose rows select their layer, to link to a graph (see :func:`link_selection`)."""
        return ShapeTable(self, compact=compact, max_height=max_height)


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
            text, _params, known = _explain_row(replace(node, kind="layer"))
            rows[first] = ShapeRow(call=node.key, layer_class=node.class_name, input_shapes=list(node.input_shapes),
                                   output_shapes=list(node.output_shapes), params=0, explanation=text,
                                   param_formula=_("counted in the rows of its inner layers"),
                                   formula_known=known)
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
        raise ValueError(adapter.no_graph_message(model_or_tensor, trace=True))
    return trace_graph(graph, depth)


def _row_data(r: ShapeRow) -> dict[str, Any]:
    return {"call": r.call, "layer": r.layer_class, "inputs": [format_shape(s) for s in r.input_shapes],
            "outputs": [format_shape(s) for s in r.output_shapes], "params": f"{r.params:,}",
            "formula": r.param_formula, "why": r.explanation, "known": r.formula_known}


class ShapeTable(anywidget.AnyWidget):
    """The shape table as a widget: click a row to select that layer (``selected`` is its key, '' for none).

    ``compact``: call, layer, output shape and params, with the arithmetic of the selected row under the table;
    ``max_height`` (px, 0 for none): the table scrolls inside its box, to the selected row."""

    _esm = _STATIC / "table.js"
    _css = _STATIC / "table.css"
    rows = traitlets.List().tag(sync=True)
    total = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    compact = traitlets.Bool(False).tag(sync=True)
    max_height = traitlets.Int(0).tag(sync=True)
    labels = traitlets.Dict().tag(sync=True)  # the table's words, in the language of the moment (lab.language)

    def __init__(self, trace: ShapeTrace, *, compact: bool = False, max_height: int = 0) -> None:
        self.trace = trace
        super().__init__(rows=[_row_data(r) for r in trace.rows], total=f"{trace.total_params:,}", compact=compact,
                         max_height=max_height, labels=table_labels())
        self.observe(self._check, "selected")

    @property
    def layer_keys(self) -> tuple[str, ...]:
        return tuple(r.call for r in self.trace.rows)

    def _check(self, change: Any) -> None:
        if change["new"] and change["new"] not in self.layer_keys:  # a click names only rows; code may not
            self.selected = ""

    def select(self, call: str | None) -> None:
        """Select a row by its call key; None or '' clears."""
        if call:
            self.trace.row(call)
        self.selected = call or ""

    def _repr_html_(self) -> str:
        return self.trace._repr_html_(self.selected, compact=self.compact, max_height=self.max_height)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget, and the table as HTML for saved notebooks: returns (data, metadata)."""
        found = super()._repr_mimebundle_(**kwargs) or {}
        data, metadata = found if isinstance(found, tuple) else (found, {})
        return {**data, "text/html": self._repr_html_(), "text/plain": str(self.trace)}, dict(metadata or {})


def link_selection(a: Any, b: Any) -> Any:
    """Keep two widgets' ``selected`` layer keys in step (a shape table and a graph view, say).

    Each side is told with its own ``select`` (a graph opens the nested model or block that holds the layer);
    a key one side does not know clears its selection."""
    def follow(src: Any, dst: Any) -> Callable[[Any], None]:
        def on_change(change: Any) -> None:
            key = change["new"]
            if dst.selected == key:
                return
            try:
                if key and hasattr(dst, "select"):
                    dst.select(key)
                else:
                    dst.selected = key if key in getattr(dst, "layer_keys", ()) else ""
            except (KeyError, ValueError):
                if dst.selected:
                    dst.selected = ""
        return on_change

    a.observe(follow(a, b), "selected")
    b.observe(follow(b, a), "selected")
    return a, b
