"""The words the JavaScript front ends show (graph canvas, shape table), in the current language.

The JavaScript has no catalogue of its own: Python sends these dicts (an anywidget trait, and the data of the
standalone ``.html`` export), built with ``_()`` when a widget or a file is made, and each front end keeps its
English words for a key it does not get. ``{name}`` placeholders are filled in by the JavaScript.
"""

from __future__ import annotations

from ._i18n import _, ngettext

__all__ = ["canvas_labels", "table_labels"]


def canvas_labels() -> dict[str, str]:
    """Toolbar texts, titles, aria-labels and search counts of the graph canvas (``js/src/graph.js``)."""
    return {
        "toolbar": _("graph view"),
        "canvas": _("graph: drag to move, ctrl + wheel or pinch to zoom, + and - keys zoom, 0 fits, / searches"),
        "search": _("find a layer or class"),
        "search_aria": _("find a layer by name or class"),
        "zoom_out": _("zoom out (-)"),
        "zoom_in": _("zoom in (+)"),
        "fit_width": _("fit width"),
        "fit_width_title": _("fit the width, text kept readable (w)"),
        "fit_all": _("fit all"),
        "fit_all_title": _("fit the whole graph, text kept readable (0)"),
        "natural": _("natural size (1)"),
        "full": _("full screen"),
        "full_title": _("full screen (f; Esc leaves)"),
        "previous": _("previous match (shift+Enter)"),
        "next": _("next match (Enter)"),
        "svg": _("download the picture as SVG"),
        "png": _("download the picture as PNG"),
        "png_failed": _("PNG: {error}"),
        "no_png": _("the browser could not make a PNG"),
        "no_svg": _("the browser could not draw the SVG"),
        "expand": _("expand {key}"),
        "collapse": _("collapse {key}"),
        "layer": _("layer {key}"),
        # the JavaScript picks the form by the count: 1 -> "_one", else "_many" (English, Spanish, Chinese)
        "found_one": ngettext("{shown} shown · {n} layer", "{shown} shown · {n} layers", 1),
        "found_many": ngettext("{shown} shown · {n} layer", "{shown} shown · {n} layers", 2),
        "no_match": _("no match"),
        "nth": _("{i} of {n}"),
        "no_picture": _("This copy has no picture for that click."),
    }


def table_labels() -> dict[str, str]:
    """Column heads and notes of the shape table (``_static/table.js``)."""
    return {
        "call": _("call"),
        "layer": _("layer"),
        "input_shape": _("input shape"),
        "output_shape": _("output shape"),
        "params": _("params"),
        "why": _("why this shape"),
        "total": _("total"),
        "no_formula": _(" (no formula)"),
        "formula": _("params: {formula}"),
    }
