"""``lab.graph()``: the layer graph as a clickable widget with a static picture.

The widget holds state and wiring only; pictures come from the pure renderers (``_render_dot`` through
Graphviz, ``_render_layout`` when ``dot`` is missing, too slow or broken: it gets ``DOT_TIME_LIMIT`` seconds,
and a view whose ``dot`` failed once uses the built-in layout from then on, saying why in one line). Selecting a
node (click, drop-down or ``select()``) sets ``view.selected``, a traitlet other widgets observe; the selection is
drawn by a ``<style>`` block in the SVG, so it costs no new layout.
"""

from __future__ import annotations

import difflib
import html
import re
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from . import _keras_adapter as adapter
from ._doctor import graphviz_install_command
from ._layergraph import LayerGraph, flatten, graph_depth
from ._render_dot import DotFailed, DotNotFound, GraphOptions, NodeColours, dot_to_svg, node_ids, to_dot

__all__ = ["GraphView", "graph", "render_svg"]

_STATIC = Path(__file__).with_name("_static")
_MAX_HEIGHT = 620  # px: a tall graph scrolls inside the cell instead of making a 6,000-pixel image


def _dot_missing_notice() -> str:
    return (f"Graphviz's dot program was not found, so this picture uses fapi_lab's built-in layout. "
            f"For the standard picture install it: {graphviz_install_command()}")


def _dot_failed_notice(reason: str) -> str:
    return f"{reason}, so this picture uses fapi_lab's built-in layout."


def render_svg(graph: LayerGraph, options: GraphOptions, colours: NodeColours | None = None,
               renderer: str = "auto") -> tuple[str, str]:
    """(svg, notice) for an already flattened graph. ``renderer``: 'auto', 'dot' or 'builtin'.

    With 'auto', a ``dot`` that is missing, slower than ``DOT_TIME_LIMIT``, failing or printing garbage gives the
    built-in layout and a one-line notice saying why; only 'dot' (asked for by name) raises instead."""
    if renderer not in ("auto", "dot", "builtin"):
        raise ValueError(f"renderer must be 'auto', 'dot' or 'builtin', not {renderer!r}")
    notice = ""
    if renderer != "builtin":
        try:
            return dot_to_svg(to_dot(graph, options, colours)), ""
        except DotFailed as exc:
            if renderer == "dot":
                raise
            notice = _dot_failed_notice(str(exc))
        except DotNotFound:
            if renderer == "dot":
                raise DotNotFound(_dot_missing_notice()) from None
            notice = _dot_missing_notice()
    from ._render_layout import layout_svg

    return layout_svg(graph, options, colours), notice


_HIGHLIGHT_CSS = (
    "#{sel} polygon, #{sel} path, #{sel} rect {{stroke:#dc2626 !important; stroke-width:3px !important}}\n"
)


def _highlight_style(ids: dict[str, str], graph: LayerGraph, selected: str | None) -> str:
    if not selected or selected not in ids:
        return ""
    css = [_HIGHLIGHT_CSS.format(sel=ids[selected])]
    for k in graph.predecessors(selected):
        css.append(f"#{ids[k]} polygon, #{ids[k]} rect {{stroke:#2563eb !important; stroke-width:2.5px !important}}")
    for k in graph.successors(selected):
        css.append(f"#{ids[k]} polygon, #{ids[k]} rect {{stroke:#16a34a !important; stroke-width:2.5px !important}}")
    return "<style>" + "\n".join(css) + "</style>"


def _with_style(svg: str, style: str) -> str:
    if not style:
        return svg
    end = svg.find(">", svg.find("<svg"))
    return svg[: end + 1] + style + svg[end + 1 :]


class _Canvas(anywidget.AnyWidget):
    """The clickable SVG (front-end code in ``_static/graph.js``)."""

    _esm = _STATIC / "graph.js"
    _css = _STATIC / "graph.css"
    svg = traitlets.Unicode("").tag(sync=True)
    ids = traitlets.Dict().tag(sync=True)  # svg id -> layer key
    selected = traitlets.Unicode("").tag(sync=True)
    inputs_of = traitlets.List().tag(sync=True)  # svg ids feeding the selection
    outputs_of = traitlets.List().tag(sync=True)  # svg ids fed by the selection
    max_height = traitlets.Int(_MAX_HEIGHT).tag(sync=True)


class GraphView(widgets.VBox):
    """A model's layer graph: click a node (or use the drop-down) to select a layer.

    ``view.selected`` is the selected layer key ('' for none); observe it with
    ``view.observe(callback, "selected")``. ``to_dot()`` / ``to_svg()`` give the picture as text.
    """

    selected = traitlets.Unicode("")
    show_shapes = traitlets.Bool(True)
    show_dtypes = traitlets.Bool(False)
    show_params = traitlets.Bool(False)
    show_activations = traitlets.Bool(True)
    show_trainable = traitlets.Bool(False)
    direction = traitlets.Enum(["TB", "LR"], "TB")
    depth = traitlets.Int(0)  # nesting levels expanded; -1 expands everything

    def __init__(self, source: LayerGraph | None = None, *, renderer: str = "auto",
                 colours: NodeColours | None = None, **options: Any) -> None:
        self._renderer = renderer
        self._dot_notice = ""  # why dot gave no picture, once it has failed: the view then keeps the built-in layout
        self._colours = colours or NodeColours()
        self._graph: LayerGraph = source or LayerGraph("empty", (), (), (), ())
        self._cache: dict[tuple[Any, ...], tuple[str, str, LayerGraph]] = {}
        self._canvas = _Canvas()
        self._notice = widgets.HTML()
        self._dropdown = widgets.Dropdown(description="layer", layout=widgets.Layout(width="320px"))
        self._toggles = {
            name: widgets.Checkbox(description=label, indent=False, layout=widgets.Layout(width="auto"))
            for name, label in [("show_shapes", "shapes"), ("show_dtypes", "dtypes"), ("show_params", "params"),
                                ("show_activations", "activations"), ("show_trainable", "trainable")]
        }
        self._dir = widgets.ToggleButtons(options=[("top-down", "TB"), ("left-right", "LR")],
                                          style={"button_width": "92px"})
        self._depth = widgets.Dropdown(description="nesting", layout=widgets.Layout(width="200px"))
        toolbar = widgets.HBox([*self._toggles.values(), self._dir, self._depth],
                               layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        super().__init__([toolbar, widgets.HBox([self._dropdown]), self._notice, self._canvas])
        for name, box in self._toggles.items():
            widgets.link((self, name), (box, "value"))
        widgets.link((self, "direction"), (self._dir, "value"))
        for name, value in options.items():
            if not self.has_trait(name) or name == "selected":
                raise TypeError(f"unknown graph option {name!r}; options are: " + ", ".join(_OPTION_NAMES))
            setattr(self, name, -1 if (name == "depth" and value is None) else value)
        self._update_graph_controls()
        widgets.link((self, "depth"), (self._depth, "value"))
        self._canvas.observe(self._on_canvas_select, "selected")
        self._dropdown.observe(self._on_dropdown, "value")
        self.observe(self._redraw, [*_OPTION_NAMES])
        self.observe(self._on_selected, "selected")
        self._redraw()

    # -- public ------------------------------------------------------------------------------------------
    @property
    def graph(self) -> LayerGraph:
        """The flattened layer graph as drawn now (plain data)."""
        return self._drawn()[2]

    @property
    def layer_keys(self) -> tuple[str, ...]:
        return self.graph.keys

    @property
    def options(self) -> GraphOptions:
        return GraphOptions(show_shapes=self.show_shapes, show_dtypes=self.show_dtypes, show_params=self.show_params,
                            show_activations=self.show_activations, show_trainable=self.show_trainable,
                            direction=self.direction, depth=None if self.depth < 0 else self.depth)

    def to_dot(self) -> str:
        return to_dot(self.graph, self.options, self._colours)

    def to_svg(self) -> str:
        """The picture as SVG text, with the current selection highlighted."""
        svg, _, flat = self._drawn()
        return _with_style(svg, _highlight_style(node_ids(flat), flat, self.selected))

    def select(self, key: str | None) -> None:
        """Select a layer by key ('dense_1', 'shared#1', 'encoder/conv2d_1'); None or '' clears."""
        key = key or ""
        if key and key not in self.layer_keys:
            raise KeyError(_unknown_key_message(key, self.layer_keys, self.depth))
        self.selected = key

    def set_colours(self, colours: NodeColours | None) -> None:
        """Fill nodes with colours (e.g. gradient norms); None removes them."""
        self._colours = colours or NodeColours()
        self._cache.clear()
        self._redraw()

    def colour_by(self, values: dict[str, float], *, label: str = "value", log: bool = True) -> None:
        """Fill nodes by a number per layer key (e.g. gradient norms): pale for small, dark red for large.

        ``log=True`` spreads values over orders of magnitude (vanishing gradients span many)."""
        import math

        finite = {k: float(v) for k, v in values.items() if v is not None and math.isfinite(float(v))}
        if log:
            finite = {k: math.log10(v) for k, v in finite.items() if v > 0}
        if not finite:
            self.set_colours(None)
            return
        low, high = min(finite.values()), max(finite.values())
        span = (high - low) or 1.0
        ramp = [(255, 247, 236), (253, 212, 158), (252, 141, 89), (215, 48, 31), (127, 0, 0)]
        fills = {}
        for key, v in finite.items():
            t = (v - low) / span * (len(ramp) - 1)
            i = min(int(t), len(ramp) - 2)
            f = t - i
            r, g, b = (round(a + (c - a) * f) for a, c in zip(ramp[i], ramp[i + 1], strict=True))
            fills[key] = f"#{r:02x}{g:02x}{b:02x}"
        raw = {k: float(values[k]) for k in finite}
        lo_key, hi_key = min(raw, key=raw.get), max(raw, key=raw.get)
        legend = (f"colour: {label}{' (log scale)' if log else ''}, from {raw[lo_key]:.2g} ({lo_key}, palest) "
                  f"to {raw[hi_key]:.2g} ({hi_key}, darkest)")
        self.set_colours(NodeColours(fills=fills, legend=legend))

    def set_graph(self, source: LayerGraph) -> None:
        """Show another graph (used by ``lab.live()`` as layers are called)."""
        self._graph = source
        self._cache.clear()
        self._update_graph_controls()
        if self.selected and self.selected not in self.layer_keys:
            self.selected = ""
        self._redraw()

    # -- static representation ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        svg = self.to_svg()
        bundle["image/svg+xml"] = svg
        bundle["text/html"] = self._static_html(svg)
        bundle["text/plain"] = self._text()
        return bundle

    def _static_html(self, svg: str) -> str:
        notice = self._notice.value
        return (f'<div class="fapi-lab-graph">{notice}<div style="max-height:{_MAX_HEIGHT}px;overflow:auto">'
                f"{_fit_width(svg)}</div></div>")

    def _text(self) -> str:
        g = self.graph
        return f"GraphView({g.name!r}: {len(g.nodes)} nodes, {len(g.edges)} edges, selected={self.selected!r})"

    def __repr__(self) -> str:
        return self._text()

    # -- wiring ------------------------------------------------------------------------------------------
    def _drawn(self) -> tuple[str, str, LayerGraph]:
        opts = self.options
        key = (opts, self._renderer)
        if key not in self._cache:
            flat = flatten(self._graph, opts.depth)
            if self._dot_notice and self._renderer == "auto":
                svg, notice = render_svg(flat, opts, self._colours, "builtin")[0], self._dot_notice
            else:
                svg, notice = render_svg(flat, opts, self._colours, self._renderer)
                if notice and self._renderer == "auto":  # do not wait for a slow or broken dot again
                    self._dot_notice = notice
            if len(self._cache) > 32:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (svg, notice, flat)
        return self._cache[key]

    def _redraw(self, change: Any = None) -> None:
        try:
            svg, notice, flat = self._drawn()
        except Exception as exc:  # shown in the widget, not lost in a log
            self._notice.value = _message_html(f"Could not draw the graph: {exc}", error=True)
            raise
        ids = node_ids(flat)
        messages = [m for m in (notice, self._graph.message, self._colours.legend) if m]
        self._notice.value = "".join(_message_html(m) for m in messages)
        with self.hold_trait_notifications():
            self._canvas.ids = {v: k for k, v in ids.items()}
            self._canvas.svg = svg
        self._dropdown.options = [("(none)", ""), *[(k, k) for k in flat.keys]]
        if self.selected and self.selected not in ids:
            self.selected = ""
        self._on_selected()

    def _on_selected(self, change: Any = None) -> None:
        flat = self._drawn()[2]
        ids = node_ids(flat)
        sel = self.selected
        self._canvas.selected = sel
        self._canvas.inputs_of = [ids[k] for k in flat.predecessors(sel)] if sel in ids else []
        self._canvas.outputs_of = [ids[k] for k in flat.successors(sel)] if sel in ids else []
        if self._dropdown.value != sel and any(v == sel for _, v in self._dropdown.options):
            self._dropdown.value = sel

    def _on_canvas_select(self, change: Any) -> None:
        if change["new"] != self.selected:
            self.selected = change["new"]

    def _on_dropdown(self, change: Any) -> None:
        if change["new"] is not None and change["new"] != self.selected:
            self.selected = change["new"]

    def _update_graph_controls(self) -> None:
        levels = graph_depth(self._graph)
        choices = [("collapsed", 0)] + [(f"{i} level{'s' if i > 1 else ''}", i) for i in range(1, levels)]
        choices += [("expanded", -1)] if levels else []
        self._depth.options = choices
        self._depth.layout.display = "" if levels else "none"
        if self.depth not in [v for _, v in choices]:
            self.depth = -1 if self.depth > 0 and levels else 0


_OPTION_NAMES = ("show_shapes", "show_dtypes", "show_params", "show_activations", "show_trainable", "direction",
                 "depth")


def _message_html(text: str, error: bool = False) -> str:
    colour = "#b91c1c" if error else "#92400e"
    return (f'<div style="color:{colour};font-size:12px;margin:2px 0">{"⚠ " if not error else "✖ "}'
            f"{html.escape(text)}</div>")


_PT_RE = re.compile(r'<svg width="([\d.]+)(pt|px)?" height="([\d.]+)(pt|px)?"')


def _fit_width(svg: str) -> str:
    """Let a wide picture shrink to the cell width while a tall one scrolls."""
    m = _PT_RE.search(svg)
    if not m:
        return svg
    scale = 4 / 3 if m.group(2) in (None, "pt") else 1
    width = float(m.group(1)) * scale
    return svg.replace(m.group(0), f'<svg width="{width:.0f}px" style="max-width:100%;height:auto"', 1)


def _unknown_key_message(key: str, keys: tuple[str, ...], depth: int) -> str:
    close = difflib.get_close_matches(key, keys, n=4, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    nested = (" Layers inside a nested model are only selectable when it is expanded (depth=-1)."
              if "/" in key and depth == 0 else "")
    return f"No layer {key!r} in this graph.{hint}{nested}"


def graph(model_or_tensor: Any, *, renderer: str = "auto", **options: Any) -> GraphView:
    """Draw a model's layer graph (or what leads to a symbolic tensor) as a clickable widget.

    Options: ``show_shapes`` (True), ``show_dtypes``, ``show_params``, ``show_activations`` (True),
    ``show_trainable``, ``direction`` ('TB' or 'LR'), ``depth`` (nested models: 0 collapsed, n levels, or
    None/-1 for all). ``renderer``: 'auto' (Graphviz if installed, else the built-in layout), 'dot', 'builtin'.
    """
    try:
        source = adapter.read(model_or_tensor)
    except adapter.GraphReadError as exc:
        raise ValueError(str(exc)) from None
    return GraphView(source, renderer=renderer, **options)
