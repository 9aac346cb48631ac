"""``lab.graph()``: the layer graph on a canvas you can pan, zoom, search and fold, with a picture for saved notebooks.

The widget holds state and wiring only; pictures come from the pure renderers (``_render_dot`` through
Graphviz, ``_render_layout`` when ``dot`` is missing, too slow or broken: it gets ``DOT_TIME_LIMIT`` seconds,
and a view whose ``dot`` failed once uses the built-in layout from then on, saying why in one line), the folded
graph from ``_folding.fold`` (nested models and automatic blocks opened by ``depth``, ``expand`` or a click),
what the canvas is sent from ``_graph_picture`` and the saved picture from ``_pictures``. Selecting a node
(click, drop-down or ``select()``) sets ``view.selected``, a traitlet other widgets observe; the canvas marks the
selection with CSS classes, so it costs no new layout. Saving (``view.save``) lives in ``_graph_export``.
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
from ._folding import GROUPS, fold, foldable
from ._graph_picture import canvas_picture, container_of, highlight_dot, hover_info, located, search_keys, toggled
from ._i18n import _, current, ngettext
from ._labels_text import canvas_labels
from ._layergraph import LayerGraph, graph_depth
from ._layergraph_data import to_packed
from ._pictures import picture_bundle, png_from_dot, svg_size
from ._render_dot import DotFailed, DotNotFound, GraphOptions, NodeColours, dot_to_svg, node_ids, to_dot

__all__ = ["GraphView", "graph", "render_svg"]

_STATIC = Path(__file__).with_name("_static")
_MAX_HEIGHT = 620  # px: the canvas grows with its picture up to this height, then the picture pans inside it


def _dot_missing_notice() -> str:
    return _("Graphviz's dot program was not found, so this picture uses fapi_lab's built-in layout. "
             "For the standard picture install it: {command}").format(command=graphviz_install_command())


def _dot_failed_notice(reason: str) -> str:
    return _("{reason}, so this picture uses fapi_lab's built-in layout.").format(reason=reason)


def render_svg(graph: LayerGraph, options: GraphOptions, colours: NodeColours | None = None,
               renderer: str = "auto") -> tuple[str, str]:
    """(svg, notice) for an already flattened graph. ``renderer``: 'auto', 'dot' or 'builtin'.

    With 'auto', a ``dot`` that is missing, slower than ``DOT_TIME_LIMIT``, failing or printing garbage gives the
    built-in layout and a one-line notice saying why; only 'dot' (asked for by name) raises instead."""
    if renderer not in ("auto", "dot", "builtin"):
        raise ValueError(_("renderer must be 'auto', 'dot' or 'builtin', not {value!r}").format(value=renderer))
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


def _highlight_style(graph: LayerGraph, selected: str | None) -> str:
    """The selection as a ``<style>`` block (the canvas's marks, for the SVG text and saved pictures)."""
    ids = node_ids(graph)
    target = container_of(graph, selected) if selected else None
    if not target:
        return ""
    sel = ids[target]
    css = [f"#{sel} polygon, #{sel} path, #{sel} rect {{stroke:#dc2626 !important; stroke-width:3px !important}}"]
    if target == selected:
        marks = [(k, "#2563eb") for k in graph.predecessors(target)]
        marks += [(k, "#16a34a") for k in graph.successors(target)]
        for k, ink in marks:
            css.append(f"#{ids[k]} polygon, #{ids[k]} path, #{ids[k]} rect "
                       f"{{stroke:{ink} !important; stroke-width:2.5px !important}}")
    return "<style>" + "\n".join(css) + "</style>"


def _with_style(svg: str, style: str) -> str:
    if not style:
        return svg
    end = svg.find(">", svg.find("<svg"))
    return svg[: end + 1] + style + svg[end + 1 :]


class _Canvas(anywidget.AnyWidget):
    """The pan/zoom/search/fold canvas (front end: ``js/src``, bundled into ``_static/graph.js``)."""

    _esm = _STATIC / "graph.js"
    _css = _STATIC / "graph.css"
    picture = traitlets.Dict().tag(sync=True)  # see _graph_picture.canvas_picture
    info = traitlets.Dict().tag(sync=True)  # key -> hover lines, every layer at every depth
    selected = traitlets.Unicode("").tag(sync=True)
    inputs_of = traitlets.List().tag(sync=True)  # svg ids feeding the selection
    outputs_of = traitlets.List().tag(sync=True)  # svg ids fed by the selection
    search = traitlets.Unicode("").tag(sync=True)
    max_height = traitlets.Int(_MAX_HEIGHT).tag(sync=True)
    name = traitlets.Unicode("graph").tag(sync=True)  # the graph's name, for downloaded files
    offline = traitlets.Unicode("").tag(sync=True)  # a note under the canvas (the standalone copy uses it)
    labels = traitlets.Dict().tag(sync=True)  # the canvas's words in the current language (_labels_text)
    # a graph with blocks to open or close: its layer graph and the view's options and folds, saved with the
    # notebook's widget state so the course website can draw the other fold states (_graph_export.replay_view)
    replay_graph = traitlets.Unicode("").tag(sync=True)  # _layergraph_data.to_packed
    replay_state = traitlets.Dict().tag(sync=True)
    svg = traitlets.Unicode("")  # kernel side only: the picture as drawn (it travels inside `picture`)
    ids = traitlets.Dict()  # kernel side only: svg id -> layer key


class GraphView(widgets.VBox):
    """A model's layer graph: click a node (or use the drop-down) to select a layer; open or close a nested model
    or block with its ⊕/⊖ button, a double click, or ``expand``/``collapse``.

    ``view.selected`` is the selected layer key ('' for none); observe it with
    ``view.observe(callback, "selected")``. ``to_dot()`` / ``to_svg()`` give the picture as text;
    ``save(path)`` writes ``.svg``, ``.png`` or a standalone interactive ``.html``.
    """

    selected = traitlets.Unicode("")
    show_shapes = traitlets.Bool(True)
    show_dtypes = traitlets.Bool(False)
    show_params = traitlets.Bool(False)
    show_activations = traitlets.Bool(True)
    show_trainable = traitlets.Bool(False)
    direction = traitlets.Enum(["TB", "LR"], "TB")
    depth = traitlets.Int(0)  # nesting levels expanded; -1 expands everything
    groups = traitlets.Enum(list(GROUPS), "auto", allow_none=True)  # automatic blocks from name scopes, or None

    def __init__(self, source: LayerGraph | None = None, *, renderer: str = "auto",
                 colours: NodeColours | None = None, **options: Any) -> None:
        self._renderer = renderer
        self._dot_notice = ""  # why dot gave no picture, once it has failed: the view then keeps the built-in layout
        self._colours = colours or NodeColours()
        self._graph: LayerGraph = source or LayerGraph("empty", (), (), (), ())
        self._expanded: frozenset[str] = frozenset()  # containers opened or closed one by one (beside `depth`)
        self._collapsed: frozenset[str] = frozenset()
        self._cache: dict[tuple[Any, ...], tuple[str, str, LayerGraph]] = {}
        self._png: tuple[tuple[Any, ...], bytes | None] | None = None
        self._syncing = False
        self._canvas = _Canvas(labels=canvas_labels())
        self._notice = widgets.HTML()
        self._dropdown = widgets.Dropdown(description=_("layer"), layout=widgets.Layout(width="320px"))
        self._toggles = {
            name: widgets.Checkbox(description=label, indent=False, layout=widgets.Layout(width="auto"))
            for name, label in [("show_shapes", _("shapes")), ("show_dtypes", _("dtypes")),
                                ("show_params", _("params")), ("show_activations", _("activations")),
                                ("show_trainable", _("trainable"))]
        }
        self._blocks = widgets.Checkbox(description=_("blocks"), indent=False, value=True,
                                        layout=widgets.Layout(width="auto", display="none"))
        self._dir = widgets.ToggleButtons(options=[(_("top-down"), "TB"), (_("left-right"), "LR")],
                                          style={"button_width": "92px"})
        self._depth = widgets.Dropdown(description=_("nesting"), layout=widgets.Layout(width="200px"))
        toolbar = widgets.HBox([*self._toggles.values(), self._blocks, self._dir, self._depth],
                               layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        super().__init__([toolbar, widgets.HBox([self._dropdown]), self._notice, self._canvas])
        for name, box in self._toggles.items():
            widgets.link((self, name), (box, "value"))
        widgets.link((self, "direction"), (self._dir, "value"))
        widgets.link((self, "groups"), (self._blocks, "value"),
                     transform=(lambda g: g == "auto", lambda on: "auto" if on else None))
        for name, value in options.items():
            if not self.has_trait(name) or name == "selected":
                raise TypeError(_("unknown graph option {name!r}; options are: {options}")
                                .format(name=name, options=", ".join(_OPTION_NAMES)))
            setattr(self, name, -1 if (name == "depth" and value is None) else value)
        self._update_graph_controls()
        widgets.link((self, "depth"), (self._depth, "value"))
        self._canvas.observe(self._on_canvas_select, "selected")
        self._canvas.on_msg(self._on_canvas_msg)
        self._dropdown.observe(self._on_dropdown, "value")
        self.observe(self._redraw, [*_OPTION_NAMES])
        self.observe(self._on_selected, "selected")
        self._redraw()

    # -- public ------------------------------------------------------------------------------------------
    @property
    def graph(self) -> LayerGraph:
        """The folded layer graph as drawn now (plain data)."""
        return self._drawn()[2]

    @property
    def layer_keys(self) -> tuple[str, ...]:
        """Keys of the nodes drawn now (a layer inside a closed nested model or block is not among them)."""
        return self.graph.keys

    @property
    def all_keys(self) -> tuple[str, ...]:
        """Every key this view knows: layers at every depth, nested models and blocks (drawn or not)."""
        return tuple(self._canvas.info)

    @property
    def options(self) -> GraphOptions:
        return GraphOptions(show_shapes=self.show_shapes, show_dtypes=self.show_dtypes, show_params=self.show_params,
                            show_activations=self.show_activations, show_trainable=self.show_trainable,
                            direction=self.direction, depth=None if self.depth < 0 else self.depth)

    def to_dot(self) -> str:
        return to_dot(self.graph, self.options, self._colours)

    def to_svg(self) -> str:
        """The picture as SVG text, with the current selection highlighted."""
        svg, _notice, shown = self._drawn()
        return _with_style(svg, _highlight_style(shown, self.selected))

    def select(self, key: str | None) -> None:
        """Select a layer by key ('dense_1', 'shared#1', 'encoder/conv2d_1'); None or '' clears. A layer inside a
        closed nested model or block is shown: what holds it opens."""
        key = key or ""
        if key and key not in self.layer_keys:
            if key not in self._canvas.info:
                raise KeyError(_unknown_key_message(key, self.all_keys))
            self._reveal(key)
            self._redraw()
        self.selected = key

    def expand(self, key: str) -> None:
        """Open a nested model or automatic block (by key, e.g. 'encoder' or 'conv2_block1') in place."""
        self._fold(key, open_=True)

    def collapse(self, key: str) -> None:
        """Close a nested model or block into one box (also one that ``depth`` opened)."""
        self._fold(key, open_=False)

    def search(self, text: str) -> list[str]:
        """Keys of the layers (at every depth) whose key or class contains ``text``, ignoring case; the canvas
        marks them (or the closed blocks holding them) and centres the first."""
        self._canvas.search = text
        return search_keys(self._canvas.info, text)

    def save(self, path: str | Path) -> Path:
        """Write the picture to ``path``: ``.svg``, ``.png`` (needs Graphviz's dot) or ``.html`` (a standalone page
        with the same canvas: pan, zoom, search, fold; no kernel, no network). An existing file with other content
        is kept and the new one written beside it (``graph.new.svg``); returns the path written."""
        from ._graph_export import save

        return save(self, Path(path))

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
        legend = (_("colour: {label} (log scale), from {low:.2g} ({low_key}, palest) to {high:.2g} ({high_key}, "
                    "darkest)") if log else
                  _("colour: {label}, from {low:.2g} ({low_key}, palest) to {high:.2g} ({high_key}, darkest)")).format(
            label=label, low=raw[lo_key], low_key=lo_key, high=raw[hi_key], high_key=hi_key)
        self.set_colours(NodeColours(fills=fills, legend=legend))

    def set_graph(self, source: LayerGraph) -> None:
        """Show another graph (used by ``lab.live()`` as layers are called)."""
        self._graph = source
        self._cache.clear()
        self._update_graph_controls()
        self._redraw()

    # -- static representation ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget, and the picture for saved notebooks (``_pictures.picture_bundle``): returns (data, metadata)."""
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        data, metadata = picture_bundle(self.to_svg(), png=self._png_picture(), text=self._text(),
                                        alt=_("graph of {name}").format(name=self._graph.name),
                                        notice_html=self._notice.value)
        bundle.update(data)
        return bundle, metadata

    def _png_picture(self) -> bytes | None:
        """The PNG of the picture as drawn (selection included), from ``dot``; None for the built-in layout."""
        svg, notice, shown = self._drawn()
        if self._renderer == "builtin" or notice:
            return None
        key = (self._state_key(), self.selected)
        if self._png is None or self._png[0] != key:
            dot = highlight_dot(to_dot(shown, self.options, self._colours), shown, self.selected)
            self._png = (key, png_from_dot(dot, *svg_size(svg)))
        return self._png[1]

    def _text(self) -> str:
        g = self.graph
        return f"GraphView({g.name!r}: {len(g.nodes)} nodes, {len(g.edges)} edges, selected={self.selected!r})"

    def __repr__(self) -> str:
        return self._text()

    # -- wiring ------------------------------------------------------------------------------------------
    def _state_key(self) -> tuple[Any, ...]:
        return (self.options, self._renderer, self.groups, self._expanded, self._collapsed, current())

    def _drawn(self, expanded: frozenset[str] | None = None,
               collapsed: frozenset[str] | None = None) -> tuple[str, str, LayerGraph]:
        """(svg, notice, folded graph) for the current options and fold state (or the one given)."""
        expanded = self._expanded if expanded is None else expanded
        collapsed = self._collapsed if collapsed is None else collapsed
        opts = self.options
        key = (opts, self._renderer, self.groups, expanded, collapsed, current())  # labels are in a language
        if key not in self._cache:
            shown = fold(self._graph, depth=opts.depth, groups=self.groups, expanded=expanded, collapsed=collapsed)
            if self._dot_notice and self._renderer == "auto":
                svg, notice = render_svg(shown, opts, self._colours, "builtin")[0], self._dot_notice
            else:
                svg, notice = render_svg(shown, opts, self._colours, self._renderer)
                if notice and self._renderer == "auto":  # do not wait for a slow or broken dot again
                    self._dot_notice = notice
            if len(self._cache) > 32:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (svg, notice, shown)
        return self._cache[key]

    def _redraw(self, change: Any = None) -> None:
        if change is not None and change["name"] in ("depth", "groups"):
            self._expanded = self._collapsed = frozenset()  # the global level decides again
        try:
            svg, notice, shown = self._drawn()
        except Exception as exc:  # shown in the widget, not lost in a log
            self._notice.value = _message_html(_("Could not draw the graph: {error}").format(error=exc), error=True)
            raise
        if self.groups == "auto":  # the "blocks" box shows once a picture has blocks (it stays when unticked)
            blocks = any(n.kind == "group" for n in shown.nodes) or any(f.kind == "group" for f in shown.frames)
            self._blocks.layout.display = "" if blocks else "none"
        messages = [m for m in (notice, self._graph.message, self._colours.legend) if m]
        self._notice.value = "".join(_message_html(m) for m in messages)
        picture = canvas_picture(svg, shown)
        replay = bool(picture.get("foldable")) and not self._colours.fills
        with self._canvas.hold_sync():
            if replay and not self._canvas.replay_graph:
                self._canvas.replay_graph = to_packed(self._graph)
            if self._canvas.replay_graph:
                self._canvas.replay_state = {
                    "renderer": self._renderer, "expanded": sorted(self._expanded),
                    "collapsed": sorted(self._collapsed),
                    "options": {name: getattr(self, name) for name in _OPTION_NAMES}}
            self._canvas.info = hover_info(self._graph, shown)
            self._canvas.ids = picture["ids"]
            self._canvas.svg = svg
            self._canvas.name = self._graph.name
            self._canvas.picture = picture
        self._syncing = True
        try:
            self._dropdown.options = [(_("(none)"), ""), *[(k, k) for k in shown.keys]]
        finally:
            self._syncing = False
        if self.selected and self.selected not in self._canvas.info:
            self.selected = ""
        self._on_selected()

    def _on_selected(self, change: Any = None) -> None:
        shown = self.graph
        ids = node_ids(shown)
        sel = self.selected
        self._canvas.selected = sel
        self._canvas.inputs_of = [ids[k] for k in shown.predecessors(sel)] if sel in ids else []
        self._canvas.outputs_of = [ids[k] for k in shown.successors(sel)] if sel in ids else []
        value = sel if sel in ids else ""
        if self._dropdown.value != value:
            self._syncing = True
            try:
                self._dropdown.value = value
            finally:
                self._syncing = False

    def _on_canvas_select(self, change: Any) -> None:
        if change["new"] != self.selected:
            self.selected = change["new"]

    def _on_dropdown(self, change: Any) -> None:
        if not self._syncing and change["new"] is not None and change["new"] != self.selected:
            self.selected = change["new"]

    def _on_canvas_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "toggle":
            return
        key = str(content.get("key", ""))
        try:
            self._fold(key, open_=not foldable(self.graph).get(key, False))
        except Exception as exc:  # a click gets its answer in the widget
            why = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            self._notice.value += _message_html(_("Could not open or close {key!r}: {why}").format(key=key, why=why),
                                                error=True)

    def _fold(self, key: str, *, open_: bool) -> None:
        if key not in foldable(self.graph):
            self._reveal(key, containers=True)
        depth = self.options.depth
        self._expanded, self._collapsed = toggled((self._expanded, self._collapsed), self.graph, key, depth,
                                                  open_=open_)
        self._redraw()

    def _reveal(self, key: str, *, containers: bool = False) -> None:
        """Open the closed nested models and blocks holding ``key`` until it is drawn (as a box or a frame)."""
        for _attempt in range(64):
            shown = self.graph
            if (key in foldable(shown)) if containers else (key in node_ids(shown)):
                return
            holder = located(shown).get(key)
            if holder is None:
                break
            self._expanded, self._collapsed = toggled((self._expanded, self._collapsed), shown, holder,
                                                      self.options.depth, open_=True)
        choices = list(foldable(self.graph)) if containers else list(self.layer_keys)
        missing = (_("No nested model or block {key!r} in this graph.") if containers
                   else _("No layer {key!r} in this graph.")).format(key=key)
        close = difflib.get_close_matches(key, choices, n=4, cutoff=0.5)
        hint = " " + _("Did you mean: {names}?").format(names=", ".join(close)) if close else ""
        listed = ""
        if choices:
            drawn = _("Drawn now: {names}, …") if len(choices) > 12 else _("Drawn now: {names}.")
            listed = " " + drawn.format(names=", ".join(choices[:12]))
        raise KeyError(f"{missing}{hint}{listed}")

    def _update_graph_controls(self) -> None:
        levels = graph_depth(self._graph)
        choices = [(_("collapsed"), 0)] + [(ngettext("{n} level", "{n} levels", i).format(n=i), i)
                                           for i in range(1, levels)]
        choices += [(_("expanded"), -1)] if levels else []
        self._depth.options = choices
        self._depth.layout.display = "" if levels else "none"
        if self.depth not in [v for _, v in choices]:
            self.depth = -1 if self.depth > 0 and levels else 0


_OPTION_NAMES = ("show_shapes", "show_dtypes", "show_params", "show_activations", "show_trainable", "direction",
                 "depth", "groups")


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


def _unknown_key_message(key: str, keys: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, keys, n=4, cutoff=0.5)
    hint = " " + _("Did you mean: {names}?").format(names=", ".join(close)) if close else ""
    return _("No layer {key!r} in this graph.").format(key=key) + hint


def graph(model_or_tensor: Any, *, renderer: str = "auto", **options: Any) -> GraphView:
    """Draw a model's layer graph (or what leads to a symbolic tensor) as a canvas: drag, zoom, fit, search, fold.

    Options: ``show_shapes`` (True), ``show_dtypes``, ``show_params``, ``show_activations`` (True),
    ``show_trainable``, ``direction`` ('TB' or 'LR'), ``depth`` (nested models: 0 collapsed, n levels, or
    None/-1 for all), ``groups`` ('auto': a large model's layers folded into blocks by name scope; None: no blocks).
    ``renderer``: 'auto' (Graphviz if installed, else the built-in layout), 'dot', 'builtin'.
    """
    try:
        source = adapter.read(model_or_tensor)
    except adapter.GraphReadError as exc:
        raise ValueError(str(exc)) from None
    return GraphView(source, renderer=renderer, **options)
