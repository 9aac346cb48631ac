"""``lab.live()``: the graph (and the shape table) drawn as layers are called inside a ``with`` block.

Drawing costs far more than a layer call (reading the graph so far, laying it out, the table), so live draws at
most once every :data:`MIN_INTERVAL` seconds, or :data:`SPACING` times the time the last picture took if that is
longer, reads each layer's settings once, and always draws the last state when the block ends (or fails):
building ResNet50 inside ``lab.live()`` takes at most about 1.5 times as long as building it plainly
(``benchmarks/bench_live.py``), and the picture still grows as it goes.
Recording a call costs only the size of its arguments (``_keras_adapter.Recording``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from . import _keras_adapter as adapter
from ._graph_view import GraphView

__all__ = ["LAST_STATS", "MIN_INTERVAL", "SPACING", "live"]

MIN_INTERVAL = 0.5  # seconds between two pictures drawn while layers are being called
SPACING = 3.0  # and at least this many times the time the last picture took: drawing is at most a quarter
LAST_STATS: dict[str, float] = {"draws": 0, "seconds": 0.0}  # of the last live block: pictures drawn, time spent


class _Drawer:
    """Draws the graph built so far, throttled; ``finish()`` draws the last state if it is not drawn yet."""

    def __init__(self, view: GraphView, table: widgets.HTML | None) -> None:
        self.view, self.table = view, table
        self.pending: adapter.Recording | None = None
        self.ready_at = 0.0  # when the next picture may be drawn
        self.draws, self.seconds = 0, 0.0
        self.infos: dict[int, Any] = {}  # layer descriptions read so far (the last picture reads them afresh)

    def on_call(self, recording: adapter.Recording) -> None:
        self.pending = recording
        if time.monotonic() >= self.ready_at:
            self.draw()

    def draw(self, *, fresh: bool = False) -> None:
        from ._shapes import trace_graph

        recording, self.pending = self.pending, None
        if recording is None:
            return
        start = time.monotonic()
        graph = adapter.read_tensors(recording.leaves(), infos={} if fresh else self.infos)
        self.view.set_graph(graph)
        if self.table is not None:
            self.table.value = trace_graph(graph)._repr_html_()
        end = time.monotonic()
        self.draws += 1
        self.seconds += end - start
        self.ready_at = end + max(MIN_INTERVAL, SPACING * (end - start))

    def finish(self) -> None:
        """Draw the last state unless it is drawn already (its layers' settings read afresh)."""
        self.draw(fresh=True)
        LAST_STATS.update(draws=self.draws, seconds=self.seconds)


@contextmanager
def live(*, shapes: bool = True, **options: Any) -> Iterator[GraphView]:
    """Draw the graph as layers are called inside the ``with`` block; the shape table grows with it.

    Pictures are drawn at most every half second (and the last state when the block ends), so building a large
    model live costs little more than building it. An error raised in the block (a shape that does not fit, say)
    is explained in the widget by ``lab.explain`` and then raised as usual.

    >>> with lab.live() as view:            # doctest: +SKIP
    ...     x = keras.Input((784,), name="pixels")
    ...     h = layers.Dense(64, name="hidden")(x)   # the picture grows with each call
    """
    from IPython.display import display

    from ._explain import explain

    view = GraphView(None, **options)
    table = widgets.HTML() if shapes else None
    if table is not None:
        view.children = (*view.children, table)
    handle = display(view, display_id=True)
    drawer = _Drawer(view, table)
    try:
        with adapter.record(drawer.on_call):
            yield view
    except Exception as exc:
        drawer.finish()
        view._notice.value += explain(exc)._repr_html_()
        raise
    else:
        drawer.finish()
    finally:
        if handle is not None:  # the saved notebook keeps the final picture, not the empty first one
            handle.update(view)
