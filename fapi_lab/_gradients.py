"""``lab.gradients(model, x, y)``: how strongly the loss pulls on each layer, and ``lab.LiveGraph`` to watch it.

A vanishing gradient shows as layers near the input whose gradient norm is orders of magnitude smaller than
near the output (lesson 6, pattern P37). ``view.colour_by(...)`` paints the numbers onto the graph.
"""

from __future__ import annotations

from typing import Any

from . import _keras_adapter as adapter
from ._arrays import flat_targets, standardize, standardize_targets
from ._i18n import N_, _

__all__ = ["LiveGraph", "gradients"]

NOT_COMPILED = N_("{name!r} is not compiled: compile it, or pass loss= (e.g. loss='mse')")


def gradients(model: Any, x: Any, y: Any, *, loss: Any = None) -> dict[str, dict[str, float]]:
    """For every layer call (outer level, keys as in ``lab.graph``): ``{"output": norm}`` of the loss gradient
    with respect to its output and, for a layer's first call, ``"weights"``: the norm over all its weights.

    The loss is the model's compiled loss, or ``loss=`` (e.g. ``"mse"``, applied to every output) for an uncompiled
    model. ``x`` is anything ``model(x)`` accepts; ``y`` is keyed like the model's outputs (a dict with the model's
    own output keys or the output layers' names, a list in output order, or one array); an output without a loss
    needs no target."""
    if loss is None and not getattr(model, "compiled", False):
        raise ValueError(_(NOT_COMPILED).format(name=model.name))
    return _norms(model, x, y, loss)


def _norms(model: Any, x: Any, y: Any, loss: Any) -> dict[str, dict[str, float]]:
    """x and y read the way Keras reads them (``_arrays``), then the adapter's norms."""
    x = standardize(model, x)
    losses = loss if loss is not None else adapter.compiled_losses(model)[0]
    y = standardize_targets(model, y, x, losses=losses)
    targets = flat_targets(model, y)  # the adapter takes one target per output, in model.outputs order
    try:
        return adapter.layer_gradient_norms(model, x, targets if len(targets) > 1 else targets[0], loss)
    except adapter.GraphReadError as exc:
        raise ValueError(str(exc)) from None


def weight_norms(norms: dict[str, dict[str, float]]) -> dict[str, float]:
    return {k: v["weights"] for k, v in norms.items() if "weights" in v}


def _callback_base() -> type:
    import keras

    return keras.callbacks.Callback


class LiveGraph(_callback_base()):  # type: ignore[misc]
    """A callback: after every epoch, colour the graph's layers by their weight-gradient norm on ``(x, y)``,
    and refresh an activation viewer (``viewer=``) so its statistics (mean, dead units) follow training.

    >>> view = lab.graph(model); display(view)                       # doctest: +SKIP
    >>> model.fit(x, y, epochs=5, callbacks=[lab.LiveGraph(view, x[:64], y[:64])])   # doctest: +SKIP
    """

    def __init__(self, view: Any, x: Any, y: Any, *, loss: Any = None, viewer: Any = None) -> None:
        super().__init__()
        self.view, self.x, self.y, self.loss, self.viewer = view, x, y, loss, viewer
        self.history: list[dict[str, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        norms = weight_norms(_norms(self.model, self.x, self.y, self.loss))
        self.history.append(norms)
        self.view.colour_by(norms, label=_("weight-gradient norm after epoch {epoch}").format(epoch=epoch + 1))
        if self.viewer is not None:  # an activation viewer shows the new outputs and statistics (dead units)
            self.viewer.refresh()
