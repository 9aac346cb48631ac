"""ex1.5: predict the shapes and parameter counts of a printed model; the model, its code and the judge."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from numbers import Integral
from typing import Any

import numpy as np

from .._exercises import Context, Problem, Stop
from .._i18n import _
from .._render_dot import format_shape

__all__ = [
    "PREDICT_CODE",
    "_judge_predict",
    "predict_model",
]


# -- ex1.5: predict shapes and parameter counts ---------------------------------------------------------------
# The model the task prints. The judge builds it from this very text, so the notebook and the check cannot
# disagree (tests/test_exercises_ex1.py checks that the notebook shows exactly this code).
PREDICT_CODE = """\
photo = keras.Input(shape=(32, 32, 3), name="photo")
x = layers.Conv2D(16, 3, activation="relu", name="conv")(photo)
x = layers.MaxPooling2D(2, name="pool")(x)
x = layers.Flatten(name="flatten")(x)
x = layers.Dense(32, activation="relu", name="hidden")(x)
logits = layers.Dense(10, name="logits")(x)
predict_me = keras.Model(photo, logits, name="predict_me")"""


def predict_model() -> Any:
    """The model of :data:`PREDICT_CODE`, built from that text."""
    import keras
    from keras import layers

    scope: dict[str, Any] = {"keras": keras, "layers": layers}
    exec(PREDICT_CODE, scope)  # our own constant: the code the task shows
    return scope["predict_me"]


def _as_shape(value: Any) -> tuple[Any, ...] | None:
    if isinstance(value, str | bytes) or not isinstance(value, tuple | list):
        return None
    if not all(d is None or (isinstance(d, Integral) and not isinstance(d, bool)) for d in value):
        return None
    return tuple(None if d is None else int(d) for d in value)


def _parse_prediction(name: str, value: Any) -> tuple[tuple[Any, ...], int] | Problem:
    pair = value if isinstance(value, tuple | list) and len(value) == 2 else None
    shape = _as_shape(pair[0]) if pair else None
    count = pair[1] if pair else None
    if shape is None or not isinstance(count, Integral) or isinstance(count, bool):
        text = repr(value)
        return Problem(_("Your entry for {name!r} is {value}; each entry is a pair: the output shape as a tuple "
                         "(with None for the batch axis), then the number of parameters as a whole number, "
                         "e.g. ((None, 5), 12).").format(name=name, value=text[:60]), code="prediction-format")
    return shape, int(count)


def _fresh_params(layer: Any, input_shape: tuple[Any, ...]) -> int | None:
    """What Keras counts for a new layer with ``layer``'s settings, built for ``input_shape``."""
    try:
        fresh = type(layer).from_config(layer.get_config())
        fresh.build(input_shape)
        return int(fresh.count_params())
    except Exception:
        return None


def _follows(layer: Any, their_input: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """The output shape Keras gives ``layer`` for the student's own (wrong) input shape, if it can."""
    if their_input is None:
        return None
    try:
        return tuple(layer.compute_output_shape(their_input))
    except Exception:
        return None


def _shape_advice(layer: Any, true_in: tuple[Any, ...], theirs: tuple[Any, ...]) -> str:
    kind = type(layer).__name__
    config = layer.get_config()
    if kind.startswith("Conv"):
        if len(theirs) == len(true_in) and theirs[1:-1] == true_in[1:-1] and config.get("padding") == "valid":
            size = "×".join(str(k) for k in config["kernel_size"])
            return _("With padding='valid' (the default) a {size} filter is only placed where it lies wholly inside "
                     "the image, so the map comes out smaller than its input: count the places where it fits.").format(
                         size=size)
        if theirs and theirs[-1] != config["filters"]:
            return _("The last axis of a convolution's output has one number per filter.")
        return _("Work it out from the layer's input shape, the size of its filters and its padding.")
    if "Pooling" in kind:
        if len(theirs) == len(true_in) and theirs[1:-1] == true_in[1:-1]:
            return _("Pooling keeps one number from each window (2×2 here), so each side of the map shrinks; "
                     "nothing is padded.")
        if theirs and theirs[-1] != true_in[-1]:
            return _("Pooling works on each channel on its own: the number of channels stays as it was.")
        return _("Each side of the map is divided by the pool size (rounded down).")
    if kind == "Flatten":
        spatial = math.prod(d for d in true_in[1:-1] if d)
        if len(theirs) == 2 and theirs[1] == spatial:
            return _("Flatten puts every number of a sample into one row: the sizes of all axes after the batch "
                     "axis multiplied together, the channels too.")
        return _("Flatten multiplies the sizes of all axes after the batch axis; the batch axis stays.")
    if kind == "Dense":
        return _("A Dense layer gives one number per unit on the last axis, and keeps the axes before it.")
    return _("Work it out from the layer's input shape and its settings in the code.")


def _params_advice(layer: Any, truth: int, theirs: int, true_in: tuple[Any, ...]) -> str:
    kind = type(layer).__name__
    config = layer.get_config()
    if truth == 0:
        return _("{kind} has no weights at all: it only moves or picks numbers, so it has 0 parameters.").format(
            kind=kind)
    bias = int(np.prod(layer.bias.shape)) if getattr(layer, "bias", None) is not None else 0
    if bias and theirs == truth - bias:
        if kind.startswith("Conv"):
            return _("You left out the biases: one per filter, added to the weights.")
        return _("You left out the biases: one per unit, added to the weights.")
    if kind.startswith("Conv"):
        kernel = math.prod(config["kernel_size"])
        channels = true_in[-1]
        if channels and channels > 1 and theirs in (kernel * config["filters"], kernel * config["filters"] + bias):
            return _("Each filter is not one {size} grid but one grid per input channel: the input of this layer "
                     "has {channels} channels.").format(size="×".join(map(str, config["kernel_size"])),
                                                        channels=channels)
        return _("A convolution has, per filter, one weight for each position of its window in each input "
                 "channel, plus one bias.")
    if kind == "Dense":
        return _("A Dense layer has one weight for each pair (input number, unit), plus one bias per unit.")
    return _("Count the numbers in each of the layer's weight arrays (its kernel, then its bias).")


def _judge_predict(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    from .. import _keras_adapter as adapter

    model = predict_model()
    graph = adapter.read(model)
    truth: dict[str, tuple[tuple[Any, ...], int]] = {}
    layer_of: dict[str, Any] = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        truth[layer.name] = (tuple(layer.output.shape), int(layer.count_params()))
        layer_of[layer.name] = layer
    input_name = graph.inputs[0]
    names = list(truth)
    if not isinstance(answer, Mapping):
        raise Stop(_("The check needs a dict with one entry per layer of predict_me ({names}): the layer's name, "
                     "then the pair (output shape, number of parameters). You passed {kind}.").format(
                         names=", ".join(map(repr, names)), kind=type(answer).__name__), code="wrong-kind:not-a-dict")
    problems: list[Problem] = []
    for key in answer:
        if key in truth or key == input_name:
            continue
        close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.5)
        layers_ = ", ".join(map(repr, names))
        if close:
            said = _("Your dict has the key {key!r}, but predict_me has no layer of that name (did you mean "
                     "{close!r}?). Its layers are {layers}.").format(key=key, close=close[0], layers=layers_)
        else:
            said = _("Your dict has the key {key!r}, but predict_me has no layer of that name. Its layers are "
                     "{layers}.").format(key=key, layers=layers_)
        problems.append(Problem(said, code="prediction-unknown-layer"))
    missing = [n for n in names if n not in answer]
    if missing:
        problems.append(Problem(_("Your dict has nothing for {names}: give every layer of predict_me its (output "
                                  "shape, parameters), in the order of the code.").format(
                                      names=", ".join(map(repr, missing))), code="prediction-missing-layer"))
    if problems:
        return problems
    parsed: dict[str, tuple[tuple[Any, ...], int]] = {}
    for name in names:
        entry = _parse_prediction(name, answer[name])
        if isinstance(entry, Problem):
            problems.append(entry)
        else:
            parsed[name] = entry
    if problems:
        return problems
    true_input = tuple(model.inputs[0].shape)
    no_batch = [n for n in names if parsed[n][0] == truth[n][0][1:]]
    if no_batch:
        return [Problem(_("Your shapes for {names} leave out the batch axis. Keras writes every shape with the "
                          "batch axis first, as None (any number of samples), the way summary() prints it: put None "
                          "in front and check again.").format(names=", ".join(map(repr, no_batch))),
                        code="prediction-no-batch-axis")]
    wrong_shapes, wrong_params = 0, 0
    for name in names:
        layer = layer_of[name]
        (their_shape, their_params), (true_shape, true_params) = parsed[name], truth[name]
        before = graph.predecessors(name)[0]
        true_in = true_input if before == input_name else truth[before][0]
        their_in = true_input if before == input_name else parsed[before][0]
        if their_shape != true_shape:
            wrong_shapes += 1
            if their_in != true_in and _follows(layer, their_in) == their_shape:
                problems.append(Problem(_("{name!r}: your shape {shape} follows correctly from your shape for "
                                          "{before!r}; it will come right once {before!r} is right.").format(
                                              name=name, shape=format_shape(their_shape), before=before),
                                        (name,), code="prediction-shape-carried"))
            else:
                problems.append(Problem(_("{name!r}: the output shape is not {shape}.").format(
                    name=name, shape=format_shape(their_shape)) + " " + _shape_advice(layer, true_in, their_shape),
                    (name,), code="prediction-shape"))
        if their_params != true_params:
            wrong_params += 1
            if their_in != true_in and _fresh_params(layer, their_in) == their_params:
                problems.append(Problem(_("{name!r}: {params:,} parameters follows correctly from your shape for "
                                          "{before!r}; it will come right once {before!r} is right.").format(
                                              name=name, params=their_params, before=before), (name,),
                                        code="prediction-params-carried"))
            else:
                problems.append(Problem(_("{name!r}: the layer does not have {params:,} parameters.").format(
                    name=name, params=their_params) + " " + _params_advice(layer, true_params, their_params, true_in),
                    (name,), code="prediction-params"))
    if problems:
        return problems
    total = sum(p for _shape, p in truth.values())
    ctx.verified += [_("the output shape of all {n} layers, batch axis included, as Keras computes them").format(
                         n=len(names)),
                     _("the parameters of each layer, {total:,} in all, as Keras counts them").format(total=total),
                     _("now run the code: its summary() shows the same numbers")]

    return []
