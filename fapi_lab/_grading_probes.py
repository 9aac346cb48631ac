"""Hidden probes: extra checks only an autograder runs, on an answer that passed ``lab.check``.

An exercise lists its own (``Exercise.probes``: its judge on input sizes the check does not try, for example);
every answer whose check read a model also meets :func:`any_batch_size`. A probe is a judge: a function of the
answer and a :class:`~fapi_lab._judges.Context` (holding the models the check read) that returns problems.
"""

from __future__ import annotations

from typing import Any

from ._exercises import CheckResult, Exercise
from ._judges import Context, Judge, Problem, explain_raised

__all__ = ["any_batch_size", "probes_for"]

_BATCHES = (1, 3)
_FREE_AXIS = 5  # the size given to an axis a model leaves open (None), e.g. a sentence's length


def probes_for(ex: Exercise, result: CheckResult) -> list[Judge]:
    """The hidden probes for an answer that passed: the exercise's own, then :func:`any_batch_size` when the
    check read a model."""
    return [*ex.probes, *([any_batch_size] if result.models else [])]


class _NoData(Exception):
    """An input this probe cannot make random data for (strings, say)."""


def _random_batch(model: Any, n: int, seed: int) -> Any:
    import keras
    import numpy as np

    rng = np.random.default_rng(seed)

    def data(tensor: Any) -> Any:
        shape = (n, *(_FREE_AXIS if d is None else d for d in tuple(tensor.shape)[1:]))
        dtype = str(tensor.dtype)
        if dtype.startswith(("int", "uint")):
            return rng.integers(0, 10, shape).astype(dtype)
        if dtype.startswith(("float", "bfloat")):
            return rng.standard_normal(shape).astype("float32" if dtype == "bfloat16" else dtype)
        if dtype == "bool":
            return rng.integers(0, 2, shape).astype(bool)
        raise _NoData(dtype)

    return keras.tree.map_structure(data, model.input)


def any_batch_size(answer: Any, ctx: Context) -> list[Problem]:
    """Every model the check read takes batches of 1 and of 3 samples of random data, one output row per sample
    (a batch size written into a layer, a reshape or a state passes a check that uses one batch size only)."""
    import keras
    import numpy as np

    seen: set[int] = set()
    for model in ctx.models:
        if id(model) in seen or not isinstance(model, keras.Model):
            continue
        seen.add(id(model))
        for n in _BATCHES:
            try:
                batch = _random_batch(model, n, seed=n)
            except _NoData:
                break
            samples = f"{n} sample{'s' * (n != 1)}"
            try:
                out = model.predict(batch, verbose=0)
            except Exception as exc:
                return [Problem(explain_raised(exc, f"On a batch of {samples} of random data, your model "
                                                    f"{model.name!r}", with_fix=False)
                                + " A model takes any number of samples: leave the batch size open.",
                                code="batch-size")]
            rows = {int(np.shape(o)[0]) for o in keras.tree.flatten(out) if np.ndim(o)}
            if rows != {n}:
                return [Problem(f"On a batch of {samples}, your model {model.name!r} returned "
                                f"{sorted(rows)} rows: a model gives one row of output per sample.",
                                code="batch-size")]
    return []
