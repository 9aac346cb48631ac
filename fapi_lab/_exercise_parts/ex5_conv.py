"""ex5.3's judge: a function that reads every convolution's features out of a model."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._exercises import Context, Problem, Stop, expect_inputs, need_model, output_map
from .._i18n import _, ngettext
from .._render_dot import format_shape
from .ex5_common import _names, _raised

__all__ = [
    "_judge_conv_features",
]


# -- ex5.3 ----------------------------------------------------------------------------------------------------
def _check_nets() -> list[Any]:
    """The judge's own convolutional networks: different sizes, layer names and numbers of convolutions."""
    import keras
    from keras import layers

    image = keras.Input(shape=(28, 28, 1), name="digit")
    x = layers.Conv2D(8, 3, activation="relu", name="conv_1")(image)
    x = layers.MaxPooling2D(2, name="pool_1")(x)
    x = layers.Conv2D(16, 3, activation="relu", name="conv_2")(x)
    x = layers.Flatten(name="flatten")(x)
    first = keras.Model(image, layers.Dense(10, name="scores")(x), name="check_net_a")

    photo = keras.Input(shape=(24, 24, 3), name="photo")
    y = layers.Conv2D(4, 3, padding="same", activation="relu", name="edges")(photo)
    y = layers.Conv2D(8, 3, activation="relu", name="corners")(y)
    y = layers.MaxPooling2D(2, name="pool")(y)
    y = layers.Conv2D(8, 3, activation="relu", name="parts")(y)
    y = layers.GlobalAveragePooling2D(name="average")(y)
    second = keras.Model(photo, layers.Dense(3, activation="softmax", name="label")(y), name="check_net_b")
    return [first, second]


def _all_layers(model: Any) -> list[Any]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers") and layer is not model:
            found.extend(_all_layers(layer))
    return found


def _starter(model: Any) -> None:
    ...


def _empty_body(fn: Any) -> bool:
    """True for a function whose body does nothing (the starter code's ``...``, or ``pass``)."""
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_code == _starter.__code__.co_code


def _call_function(fn: Callable[[Any], Any], net: Any, about: str, first: bool) -> Any:
    import keras

    try:
        inspect.signature(fn).bind(net)
    except TypeError as exc:
        raise Stop(_("The check calls your function with one model, conv_features(model), and Python says: "
                     "{error}. Give it exactly one argument, the model.").format(error=exc),
                   code="wrong-kind:signature") from None
    except ValueError:  # no signature to read: let the call itself tell
        pass
    try:
        result = fn(net)
    except Exception as exc:
        if "cannot be empty" in str(exc):
            text = _("Called on {about}, your function built a model with no outputs: it found no layer to "
                     "return.").format(about=about)
            if not first:
                text += " " + _("It worked on the first model; this one names its convolutions differently, so pick "
                                "the layers by what they are (Conv2D layers), not by their names.")
            raise Stop(text, code="raised:no-outputs") from None
        raise Stop(_raised(exc, _("Calling your function on {about}").format(about=about)), code="raised") from None
    if isinstance(result, keras.Model):
        return result
    if result is None and _empty_body(fn):
        raise Stop(_("Your conv_features still has the starter's empty body: write the function (it returns the "
                     "new model), run that cell, then run this check again."), answered=False,
                   code="not-answered:starter")
    if result is None:
        raise Stop(_("Called on {about}, your function returned None: it must end by returning the new model (did "
                     "it build the model but not return it?).").format(about=about), code="not-answered:returned-none")
    if isinstance(result, keras.KerasTensor) or (isinstance(result, list | tuple | dict) and result and all(
            isinstance(t, keras.KerasTensor) for t in (result.values() if isinstance(result, dict) else result))):
        count = 1 if isinstance(result, keras.KerasTensor) else len(result)
        raise Stop(ngettext(
            "Called on {about}, your function returned {n} symbolic tensor, not a model: they are the right kind of "
            "thing to be the outputs, but the task's function returns a keras.Model built from the model's input and "
            "these tensors, which can then be called on images.",
            "Called on {about}, your function returned {n} symbolic tensors, not a model: they are the right kind of "
            "thing to be the outputs, but the task's function returns a keras.Model built from the model's input and "
            "these tensors, which can then be called on images.", count).format(about=about, n=count),
            code="wrong-kind:returned-tensors")
    raise Stop(_("Called on {about}, your function returned a {cls}, not a keras.Model: it must return the new "
                 "model.").format(about=about, cls=type(result).__name__), code="wrong-kind:returned-other")


def _predict_list(model: Any, x: np.ndarray) -> list[np.ndarray]:
    """``model.predict`` as a list of arrays, one per output (a single output too)."""
    values = model.predict(x, verbose=0)
    if isinstance(values, dict):
        values = [values[name] for name in model.output_names]
    return [np.asarray(v) for v in values] if isinstance(values, list | tuple) else [np.asarray(values)]


def _about(net: Any, convs: Sequence[Any]) -> str:
    return _("the check's model {name!r} (input {shape}, Conv2D layers {convs})").format(
        name=net.name, shape=format_shape(tuple(net.inputs[0].shape)), convs=_names([c.name for c in convs]))


def _conv_case(fn: Callable[[Any], Any], net: Any, ctx: Context, first: bool) -> list[Problem]:
    import keras

    from .._activations import get_activations

    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    wanted = [c.name for c in convs]
    about = _about(net, convs)
    feature_model = _call_function(fn, net, about, first)
    _model, graph = need_model(feature_model, ctx, what="a functional keras.Model")
    own = {id(layer) for layer in net.layers}
    names = {layer.name for layer in net.layers}
    foreign = [layer for layer in _all_layers(feature_model)
               if isinstance(layer, keras.layers.Conv2D) and id(layer) not in own]
    if foreign and all(layer.name in names for layer in foreign):
        x = np.random.default_rng(1).random((2, *net.inputs[0].shape[1:])).astype("float32")
        copies = _names([layer.name for layer in foreign])
        marked = tuple(layer.name for layer in foreign if layer.name in graph.keys)
        reference = get_activations(net, x, layers=[layer.name for layer in foreign])
        try:
            theirs = _predict_list(feature_model, x)
        except Exception:
            theirs = []
        outs = [graph.node(key).name for key, _i in output_map(graph).values()]
        same = bool(theirs) and all(
            name not in reference or np.allclose(value, reference[name], atol=1e-5)
            for name, value in zip(outs, theirs, strict=False))
        if same:
            return [Problem(_("Called on {about}, your function returns a model with copies of its layers "
                              "({copies}), not the layers themselves. The copies hold the same numbers today, but "
                              "they are separate weights: train the model, and the feature model would go on showing "
                              "the old filters. Build the new model from the given model's own layer outputs, so it "
                              "shares their weights.").format(about=about, copies=copies), marked,
                            code="copied-layers")]
        return [Problem(_("Called on {about}, your function returns a model with new layers of the same names "
                          "({copies}): a new model with the same architecture, whose weights are new and random, so "
                          "its feature maps are not the given model's. Do not rebuild or clone the model: take the "
                          "outputs of the given model's own Conv2D layers, so the new model shares their "
                          "weights.").format(about=about, copies=copies),
                        marked, code="new-layers")]
    if foreign:
        return [Problem(_("Called on {about}, your function returns a model whose Conv2D layers ({names}) are not "
                          "layers of the model it was given. Build the new model from the function's argument, not "
                          "from a model made in another cell: the check passes its own models.").format(
                              about=about, names=_names([layer.name for layer in foreign])),
                        tuple(n.key for n in graph.nodes if n.name in {f.name for f in foreign}),
                        code="foreign-layers")]
    in_shape = tuple(net.inputs[0].shape)
    problems = expect_inputs(graph, [in_shape])
    if problems:
        return [Problem(_("Called on {about}: {problem}").format(
                            about=about, problem=problems[0].message[0].lower() + problems[0].message[1:])
                        + " " + _("The feature model takes the same images as the model it comes from."),
                        problems[0].keys,
                        code=problems[0].code)]
    outputs = [(name, key, shape) for name, (key, shape) in output_map(graph).items()]
    got = [graph.node(key).name for _n, key, _s in outputs]
    listing = ", ".join(f"{graph.node(key).name!r} {format_shape(shape)}" for _n, key, shape in outputs)
    keys = tuple(key for _n, key, _s in outputs)
    others = [(graph.node(key).name, graph.node(key).class_name) for _n, key, _s in outputs
              if graph.node(key).name not in wanted]
    if others:
        said = ", ".join(f"{name!r} ({cls})" for name, cls in others)
        return [Problem(_("Called on {about}, your model also returns the outputs of layers that are not Conv2D "
                          "layers: {said}. The task asks for the feature maps of the convolutions only, one output "
                          "per Conv2D layer: leave the other layers out.").format(about=about, said=said),
                        tuple(key for _n, key, _s in outputs if graph.node(key).name not in wanted),
                        code="extra-outputs")]
    missing = [w for w in wanted if w not in got]
    if missing:
        count = len(outputs)
        text = ngettext(
            "Called on {about}, your model returns {n} feature map ({listing}); the task asks for every Conv2D "
            "layer's output, {wanted_n} here, in order: {wanted}. Missing: {missing}.",
            "Called on {about}, your model returns {n} feature maps ({listing}); the task asks for every Conv2D "
            "layer's output, {wanted_n} here, in order: {wanted}. Missing: {missing}.", count).format(
                about=about, n=count, listing=listing, wanted_n=len(wanted), wanted=_names(wanted),
                missing=_names(missing))
        if not first:
            text += " " + _("This model names its convolutions differently from the first one, so pick the layers "
                            "by what they are (Conv2D layers), not by their names.")
        return [Problem(text, keys, code="missing-outputs")]
    if got != wanted:
        return [Problem(_("Called on {about}, your model returns the right feature maps but in the order {got}; the "
                          "task keeps the model's order: {wanted}. Then the first output is the first convolution's "
                          "map.").format(about=about, got=_names(got), wanted=_names(wanted)), keys,
                        code="output-order")]
    for (_n, key, shape), conv in zip(outputs, convs, strict=True):
        if tuple(shape) != tuple(conv.output.shape):
            return [Problem(_("Called on {about}, your output {name!r} has shape {got}; in the model that layer gives "
                              "{want}.").format(about=about, name=graph.node(key).name, got=format_shape(shape),
                                                want=format_shape(tuple(conv.output.shape))), (key,),
                            code="output-shape")]
    x = np.random.default_rng(2).random((2, *in_shape[1:])).astype("float32")
    try:
        values = _predict_list(feature_model, x)
    except Exception as exc:
        raise Stop(_raised(exc, _("A forward pass of your feature model for {name!r}").format(name=net.name)),
                   code="raised:forward") from None
    reference = get_activations(net, x, layers=wanted)
    for name, value in zip(wanted, values, strict=True):
        if not np.allclose(np.asarray(value), np.asarray(reference[name]), atol=1e-5):
            return [Problem(_("Called on {about}, your output {name!r} differs from what layer {name!r} computes "
                              "inside the model on the same images: the feature model must use the model's own "
                              "layers, with their weights.").format(about=about, name=name), (name,),
                            code="computes-otherwise")]
    ctx.verified.append(_("on the check's model {name!r}: one output per Conv2D layer, in order ({wanted}), with the "
                          "layers' shapes").format(name=net.name, wanted=_names(wanted)))
    return []


def _judge_conv_features(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    if isinstance(answer, keras.Model):
        raise Stop(_("This is a model ({name!r}); the check needs the function that builds it: pass conv_features "
                     "itself, without calling it, so the check can try it on models of its own.").format(
                         name=answer.name), code="wrong-kind:model")
    if isinstance(answer, type) or not callable(answer):
        text = repr(answer)
        raise Stop(_("The check needs the function conv_features(model); you passed a {cls} ({value}). Pass the "
                     "function itself, without calling it.").format(
                         cls=type(answer).__name__, value=text[:60] + ("…" if len(text) > 60 else "")),
                   code="wrong-kind")
    for index, net in enumerate(_check_nets()):
        problems = _conv_case(answer, net, ctx, first=index == 0)
        if problems:
            return problems
    ctx.verified += [_("the returned models use the given model's own layers (shared weights, nothing copied)"),
                     _("their feature maps equal what lab.get_activations reads inside each model")]
    return []
