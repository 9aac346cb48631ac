"""fapi_lab: see, trace and explore Keras functional models in Jupyter.

``import fapi_lab as lab`` is cheap: it sets the environment variables that keep TensorFlow quiet and
imports TensorFlow only when a function that needs it is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._quiet import quiet as quiet
from ._quiet import set_quiet_env

set_quiet_env()

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "ActivationViewer": ("fapi_lab._activations", "ActivationViewer"),
    "GraphView": ("fapi_lab._graph_view", "GraphView"),
    "LiveGraph": ("fapi_lab._gradients", "LiveGraph"),
    "activations": ("fapi_lab._activations", "activations"),
    "get_activations": ("fapi_lab._activations", "get_activations"),
    "gradients": ("fapi_lab._gradients", "gradients"),
    "LossWeightLab": ("fapi_lab._loss_weights", "LossWeightLab"),
    "loss_weights": ("fapi_lab._loss_weights", "loss_weights"),
    "ShapeTrace": ("fapi_lab._shapes", "ShapeTrace"),
    "check": ("fapi_lab._exercises", "check"),
    "exercises": ("fapi_lab._exercises", "exercises"),
    "explain": ("fapi_lab._explain", "explain"),
    "hint": ("fapi_lab._exercises", "hint"),
    "explore": ("fapi_lab._explore", "explore"),
    "link_selection": ("fapi_lab._shapes", "link_selection"),
    "shapes": ("fapi_lab._shapes", "shapes"),
    "datasets": ("fapi_lab.datasets", None),
    "doctor": ("fapi_lab._doctor", "doctor"),
    "graph": ("fapi_lab._graph_view", "graph"),
    "language": ("fapi_lab._i18n", "language"),
    "live": ("fapi_lab._live", "live"),
    "patterns": ("fapi_lab.patterns", None),
}

__all__ = sorted(["__version__", "quiet", *_LAZY])

if TYPE_CHECKING:  # pragma: no cover
    from . import datasets as datasets
    from . import patterns as patterns
    from ._activations import ActivationViewer as ActivationViewer
    from ._activations import activations as activations
    from ._activations import get_activations as get_activations
    from ._doctor import doctor as doctor
    from ._exercises import check as check
    from ._exercises import exercises as exercises
    from ._exercises import hint as hint
    from ._explain import explain as explain
    from ._explore import explore as explore
    from ._gradients import LiveGraph as LiveGraph
    from ._gradients import gradients as gradients
    from ._graph_view import GraphView as GraphView
    from ._graph_view import graph as graph
    from ._i18n import language as language
    from ._live import live as live
    from ._loss_weights import LossWeightLab as LossWeightLab
    from ._loss_weights import loss_weights as loss_weights
    from ._shapes import ShapeTrace as ShapeTrace
    from ._shapes import link_selection as link_selection
    from ._shapes import shapes as shapes


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fapi_lab' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
