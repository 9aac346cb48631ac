"""Model inputs and targets as users pass them: one array, a list of arrays, or a dict keyed by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["n_samples", "take"]


def n_samples(data: Any) -> int:
    """How many samples: the length of the (first) array."""
    if isinstance(data, Mapping):
        return len(next(iter(data.values())))
    if isinstance(data, list | tuple):
        return len(data[0])
    return len(data)


def take(data: Any, index: Any) -> Any:
    """The same structure with only the samples at ``index`` (an array of indices or a slice)."""
    if isinstance(data, Mapping):
        return {k: np.asarray(v)[index] for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [np.asarray(v)[index] for v in data]
    return np.asarray(data)[index]
