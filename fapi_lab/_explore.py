"""``lab.explore(model, x=None)``: the graph, the shape table and the activation view in one widget, linked by
the selected layer: click a node (or a table row) and the others follow.

The table is compact here (call, layer, output shape, params; the arithmetic of the selected row under it) and
scrolls inside a box of :data:`TABLE_HEIGHT` px to the selected row, so the cell stays about as tall as the graph."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets

from ._graph_view import GraphView, graph
from ._i18n import _
from ._shapes import ShapeTable, link_selection, shapes

__all__ = ["TABLE_HEIGHT", "Explorer", "explore"]

TABLE_HEIGHT = 260  # px: the shape table's box inside the explorer


class Explorer(widgets.VBox):
    """Graph + shape table (+ activations when ``x`` is given). ``selected`` is the shared layer key."""

    selected = traitlets.Unicode("")

    def __init__(self, model: Any, x: Any = None, **graph_options: Any) -> None:
        self.graph: GraphView = graph(model, **graph_options)
        self.shapes: ShapeTable | None = None
        self.activations: Any = None
        notes = []
        try:
            self.shapes = shapes(model).widget(compact=True, max_height=TABLE_HEIGHT)
        except ValueError as exc:  # a subclassed model has no traceable graph: say so instead of failing
            notes.append(str(exc))
        if x is not None:
            from ._activations import activations

            try:
                self.activations = activations(model, x)
            except (ValueError, KeyError) as exc:
                notes.append(_("Activations are not shown: {error}").format(error=exc))
        message = widgets.HTML("".join(f"<div style='color:#92400e;font-size:12px'>⚠ {html.escape(n)}</div>"
                                       for n in notes))
        side = [w for w in (self.activations,) if w is not None]
        top = widgets.HBox(
            [widgets.Box([self.graph], layout=widgets.Layout(flex="1 1 420px", min_width="320px")),
             *[widgets.Box([w], layout=widgets.Layout(flex="1 1 420px", min_width="320px")) for w in side]],
            layout=widgets.Layout(flex_flow="row wrap", width="100%"))
        parts: list[widgets.Widget] = [top, message]
        if self.shapes is not None:
            shapes_box = widgets.Accordion(children=[self.shapes], titles=(_("shapes of every layer call"),))
            shapes_box.selected_index = 0
            parts.append(shapes_box)
        super().__init__(parts, layout=widgets.Layout(width="100%"))
        widgets.link((self, "selected"), (self.graph, "selected"))
        for other in (self.shapes, self.activations):
            if other is not None:
                link_selection(self.graph, other)

    def select(self, key: str) -> None:
        self.graph.select(key)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        static = _picture_html(self.graph.to_svg(), _("graph of {name}").format(name=self.graph.graph.name))
        if self.shapes is not None:
            static += self.shapes.trace._repr_html_(self.selected, compact=True, max_height=TABLE_HEIGHT)
        bundle["text/html"] = static
        bundle["text/plain"] = f"Explorer({self.graph.graph.name!r}, selected={self.selected!r})"
        return bundle


def _picture_html(svg: str, alt: str) -> str:
    """The graph for a saved notebook, as an image inside HTML that untrusted notebooks keep (``_pictures``)."""
    try:
        from ._pictures import picture_html
    except ImportError:  # pragma: no cover - only while the pictures module is missing
        return f"<div style='max-height:620px;overflow:auto'>{svg}</div>"
    return picture_html(svg, alt=alt)


def explore(model: Any, x: Any = None, **graph_options: Any) -> Explorer:
    """Graph, shape table and (with sample inputs ``x``) the activation viewer, linked by the selected layer."""
    return Explorer(model, x, **graph_options)
