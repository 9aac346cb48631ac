"""``example_inputs``: NumPy data that fits any model's inputs. Public through :mod:`fapi_lab.patterns`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._i18n import _
from ._patterns_basic import Shape
from ._quiet import quiet as _quiet
from ._synthetic import _int_arg, _require

_quiet()  # import TensorFlow without its start-up noise (a no-op if it is already imported)

import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = [
    "example_inputs",
]


# -- example data -----------------------------------------------------------------------------------------------
_LENGTHS = (8, 16, 32, 64, 128, 256, 512, 1024)
_DEFAULT_INT_HIGH = 10


def _input_specs(model: keras.Model) -> list[tuple[str, tuple[int | None, ...], str]]:
    """(name, shape with batch dim, dtype) of each model input; subclassed models answer by ``input_spec``."""
    tensors = getattr(model, "inputs", None)
    if tensors:
        return [(t.name, tuple(t.shape), str(t.dtype)) for t in tensors]
    specs = model.input_spec if isinstance(model.input_spec, list) else [model.input_spec]
    _require(bool(specs) and all(s is not None and s.shape is not None for s in specs), "model", model.name,
             _("a built model: call it once or build(input_shape) first"))
    return [(f"input_{i}" if len(specs) > 1 else "input", tuple(s.shape), str(s.dtype or "float32"))
            for i, s in enumerate(specs)]


def _all_layers(layer: Any) -> list[Any]:
    found = [layer]
    for child in getattr(layer, "layers", []):
        found += _all_layers(child)
    inner = getattr(layer, "layer", None)  # wrappers such as TimeDistributed
    if inner is not None:
        found += _all_layers(inner)
    return found


def _vocabulary_limit(model: keras.Model) -> int:
    """The smallest ``Embedding`` vocabulary in the model: int inputs stay below it (and above 0)."""
    sizes = [layer.input_dim for layer in _all_layers(model) if isinstance(layer, layers.Embedding)]
    return min(sizes, default=_DEFAULT_INT_HIGH)


def _resolve(shape: tuple[int | None, ...], batch_size: int, length: int) -> Shape:
    batch = shape[0] if shape and shape[0] is not None else batch_size
    return (batch, *(length if d is None else d for d in shape[1:]))


def _fitting_length(model: keras.Model, specs: list[tuple[str, tuple[int | None, ...], str]],
                    batch_size: int) -> int:
    """The shortest length from ``_LENGTHS`` that the model accepts for its variable-length inputs."""
    if not any(d is None for _, shape, _ in specs for d in shape[1:]):
        return _LENGTHS[0]
    for length in _LENGTHS:
        tensors = [keras.KerasTensor(_resolve(shape, batch_size, length), dtype=dtype) for _, shape, dtype in specs]
        try:
            model.compute_output_spec(tensors if len(tensors) > 1 else tensors[0])
        except ValueError:
            continue
        return length
    raise ValueError(_("model {name!r} accepts none of the sequence lengths {lengths}; pass length=").format(
        name=model.name, lengths=_LENGTHS))


def example_inputs(
    model: keras.Model, batch_size: int = 2, seed: int = 0, *, length: int | None = None
) -> np.ndarray | dict[str, np.ndarray]:
    """NumPy data that fits ``model``'s inputs: a dict keyed by input name for several inputs, else an array.

    Float inputs get uniform numbers in [0, 1); int inputs get ids in [1, vocabulary) where vocabulary is
    the smallest ``Embedding`` input size in the model (10 without one). ``None`` dimensions (variable
    lengths) become ``length``; by default the shortest of 8, 16, 32, ... that the model accepts (the
    social-media model needs 269 or more, so it gets 512). A static batch size in the model wins over
    ``batch_size``. The same ``seed`` gives the same data.
    """
    batch_size = _int_arg("batch_size", batch_size)
    seed = _int_arg("seed", seed, minimum=0)
    if length is not None:
        length = _int_arg("length", length)
    specs = _input_specs(model)
    if length is None:
        length = _fitting_length(model, specs, batch_size)
    rng = np.random.default_rng(seed)
    high = _vocabulary_limit(model)
    data: dict[str, np.ndarray] = {}
    for name, shape, dtype in specs:
        size = _resolve(shape, batch_size, length)
        if "int" in dtype:
            data[name] = rng.integers(1 if high > 1 else 0, max(high, 1), size=size).astype(dtype)
        else:
            data[name] = rng.random(size).astype(dtype)
    return data if len(data) > 1 else next(iter(data.values()))
