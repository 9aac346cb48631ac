"""``lab.live()``: the graph (and the shape table) drawn as layers are called inside a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from . import _keras_adapter as adapter
from ._graph_view import GraphView

__all__ = ["live"]


@contextmanager
def live(*, shapes: bool = True, **options: Any) -> Iterator[GraphView]:
    """Draw the graph as layers are called inside the ``with`` block; the shape table grows with it.

    An error raised in the block (a shape that does not fit, say) is explained in the widget by
    ``lab.explain`` and then raised as usual.

    >>> with lab.live() as view:            # doctest: +SKIP
    ...     x = keras.Input((784,), name="pixels")
    ...     h = layers.Dense(64, name="hidden")(x)   # the picture grows with each call
    """
    from IPython.display import display

    from ._explain import explain
    from ._shapes import trace_graph

    view = GraphView(None, **options)
    table = widgets.HTML()
    if shapes:
        view.children = (*view.children, table)
    handle = display(view, display_id=True)

    def on_call(tensors: list[Any]) -> None:
        graph_ = adapter.read_tensors(tensors)
        view.set_graph(graph_)
        if shapes:
            table.value = trace_graph(graph_)._repr_html_()

    try:
        with adapter.record_calls(on_call):
            yield view
    except Exception as exc:
        view._notice.value += explain(exc)._repr_html_()
        raise
    finally:
        if handle is not None:  # the saved notebook keeps the final picture, not the empty first one
            handle.update(view)
