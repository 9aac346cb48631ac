"""Exercises for lessons 7 and 8: sharing a layer, sharing a whole model, and reading a model's feature maps.

ex5.4 is an open-ended design task, judged on shapes, connectivity and sharing only: which outputs read which
inputs, and whether every layer that encodes one photo alone is also called on the other (one set of weights).

The first two judges read the student's model through the layer graph: a shared layer or model is one
:class:`~fapi_lab._layergraph.LayerInfo` (one ``uid``) behind several calls. The third answer is a function
``conv_features(model)``; its judge calls it on two small convolutional networks of its own (different layer
names, different numbers of convolutions), so it can check that the returned model reuses *that* model's layers
and computes exactly their feature maps (compared with ``lab.get_activations``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_depends,
    expect_inputs,
    expect_outputs,
    expect_params,
    explain_raised,
    inputs_reaching,
    match_inputs,
    need_functional,
    need_model,
    output_map,
    unconnected_inputs,
)
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape

LESSON_7 = "lesson 7"
LESSON_8 = "lesson 8"


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
def _raised(exc: BaseException, what: str) -> str:
    """lab.explain's reading of the error without its general fix: a judge's message shows no code."""
    return explain_raised(exc, what, with_fix=False)


def _names(items: Sequence[str]) -> str:
    return ", ".join(repr(i) for i in items)


def _merge_inputs(graph: LayerGraph, key: str) -> list[str]:
    """The keys feeding a layer call, in the order of its inputs."""
    return [e.src for e in sorted((e for e in graph.edges if e.dst == key), key=lambda e: e.dst_index)]


def _calls_by_weights(nodes: Sequence[Node]) -> dict[int, list[Node]]:
    """Layer calls grouped by the layer (the set of weights) they call, in graph order."""
    groups: dict[int, list[Node]] = {}
    for n in nodes:
        groups.setdefault(n.layer.uid, []).append(n)
    return groups


def _reads_each_input_once(graph: LayerGraph, calls: Sequence[Node], what: str) -> list[Problem]:
    """The calls of a shared layer or model read the model's inputs directly, one call per input."""
    read = [_merge_inputs(graph, n.key) for n in calls]
    if sorted(k for r in read for k in r) == sorted(graph.inputs) and all(len(r) == 1 for r in read):
        return []
    said = "; ".join(f"{n.key!r} reads {_names(r) or 'nothing'}" for n, r in zip(calls, read, strict=True))
    return [Problem(f"{what} is called {len(calls)} times, but the calls do not read one input each ({said}). "
                    f"Call it exactly once on each of the inputs {_names(graph.inputs)}, directly on the input "
                    f"tensor.", tuple(n.key for n in calls), code="calls-not-one-per-input")]


def _concatenated(graph: LayerGraph, calls: Sequence[Node], each: int, what: str) -> tuple[Node | None, list[Problem]]:
    """The Concatenate that joins the calls' results; or a problem naming what joins them instead."""
    keys = {n.key for n in calls}
    for node in graph.nodes:
        if node.class_name == "Concatenate" and keys <= set(_merge_inputs(graph, node.key)):
            return node, []
    readers = [graph.node(k) for k in dict.fromkeys(s for n in calls for s in graph.successors(n.key))]
    found = ", ".join(f"{r.class_name} {r.key!r}" for r in readers) or "nothing"
    return None, [Problem(
        f"The two {what} go into {found}; the task joins them side by side with a concatenate, into one vector "
        f"of {2 * each} numbers, so that the output layer sees both and can compare them.",
        tuple(r.key for r in readers) or tuple(keys), code="not-concatenated")]


def _sigmoid_output(graph: LayerGraph, name: str, meaning: str) -> list[Problem]:
    key = output_map(graph)[name][0]
    activation = graph.node(key).layer.activation or "linear"
    if activation == "sigmoid":
        return []
    return [Problem(f"Output {name!r} has activation {activation!r}; the task's output is one probability "
                    f"({meaning}), so it uses 'sigmoid'.", (key,), code="output-activation")]


def _equal_halves(model: Any, merge: Node, out_key: str, batch: dict[str, np.ndarray], what: str) -> None:
    """Feed the same data to both inputs: the two halves of the concatenated vector must be equal. The values are
    read with lab.get_activations (by graph key), so a concatenate written as an operation works too."""
    from .._activations import get_activations

    n = len(next(iter(batch.values())))
    try:
        values = get_activations(model, batch, layers=[merge.key, out_key])
    except Exception as exc:
        raise Stop(_raised(exc, "A forward pass on a batch of data"), code="raised:forward") from None
    joined, out = np.asarray(values[merge.key]), np.asarray(values[out_key])
    half = joined.shape[-1] // 2
    if not np.allclose(joined[..., :half], joined[..., half:], atol=1e-5):
        raise Stop(Problem(f"With the same data on both inputs, the two halves of {merge.key!r} differ: the two "
                           f"{what} do not come from the same weights.", (merge.key,), code="halves-differ"))
    if out.shape != (n, 1):
        raise Stop(f"On a batch of {n} pairs the model returned shape {out.shape}, not ({n}, 1).", code="forward-shape")


# -- ex5.1 ----------------------------------------------------------------------------------------------------
_TWEET: Shape = (None, 140, 256)
_LSTM_UNITS = 64
_LSTM_PARAMS = 4 * (_LSTM_UNITS * (256 + _LSTM_UNITS) + _LSTM_UNITS)  # 82,176
_TWEET_PARAMS = _LSTM_PARAMS + 2 * _LSTM_UNITS + 1  # 82,305


def _judge_shared_lstm(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [_TWEET, _TWEET], names=["tweet_a", "tweet_b"])
    problems += expect_outputs(graph, {"same_author": (None, 1)})
    if problems:
        return problems
    problems = unconnected_inputs(graph)
    if problems:
        return problems
    lstm_calls = _calls_by_weights([n for n in graph.walk() if n.class_name == "LSTM"])
    if not lstm_calls:
        return [Problem("Your model has no LSTM layer: the task encodes each tweet (140 steps of 256 numbers) with "
                        "an LSTM of 64 units, the same LSTM for both tweets.", code="layer-missing")]
    if len(lstm_calls) >= 2:
        firsts = [calls[0] for calls in lstm_calls.values()]
        params = sum(n.layer.params for n in firsts)
        return [Problem(f"The LSTM should be shared, but your model has {len(firsts)} separate LSTM layers "
                        f"({_names([n.name for n in firsts])}): {len(firsts)} sets of weights ({params:,} "
                        f"parameters in all), which learn different things, so the same tweet would get a "
                        f"different encoding as tweet_a and as tweet_b. Make the LSTM once, keep it in a variable, "
                        f"and call that one layer on each tweet.", tuple(n.key for n in firsts), code="not-shared")]
    calls = next(iter(lstm_calls.values()))
    lstm = calls[0]
    if len(calls) == 1:
        read = _names(_merge_inputs(graph, lstm.key))
        return [Problem(f"LSTM {lstm.name!r} is called once (on {read}); the task calls the one LSTM twice, once on "
                        f"each tweet, so that each tweet gets its own encoding from the same weights.", (lstm.key,),
                        code="call-count")]
    problems = _reads_each_input_once(graph, calls, f"The shared LSTM {lstm.name!r}")
    units = lstm.layer.config.get("units")
    if units != _LSTM_UNITS:
        problems.append(Problem(f"LSTM {lstm.name!r} has {units} units, so each tweet is encoded as {units} numbers; "
                                f"the task's encodings have {_LSTM_UNITS} (document 001's shared LSTM).",
                                (lstm.key,), code="lstm-units"))
    if problems:
        return problems
    merge, problems = _concatenated(graph, calls, _LSTM_UNITS, "encodings")
    problems += _sigmoid_output(graph, "same_author", "the two tweets have the same author")
    if problems:
        return problems
    problems = expect_params(graph, _TWEET_PARAMS, explain=f"The shared LSTM has {_LSTM_PARAMS:,} (counted once) "
                             f"and the output layer {2 * _LSTM_UNITS + 1}.")
    if problems or merge is None:
        return problems
    tweet = np.random.default_rng(0).standard_normal((2, 140, 256)).astype("float32")
    _equal_halves(model, merge, output_map(graph)["same_author"][0], {"tweet_a": tweet, "tweet_b": tweet}, "encodings")
    ctx.verified += ["inputs 'tweet_a' and 'tweet_b' (None, 140, 256); output 'same_author' (None, 1) with sigmoid",
                     f"one LSTM of 64 units ({lstm.name!r}) called once on each tweet: one set of weights",
                     f"the two encodings concatenated: {_TWEET_PARAMS:,} parameters, the LSTM's "
                     f"{_LSTM_PARAMS:,} counted once",
                     "the same tweet on both inputs gives two equal encodings"]
    return []


# -- ex5.2 ----------------------------------------------------------------------------------------------------
_IMAGE: Shape = (None, 32, 32, 3)
_ENCODER_FEATURES = 32
_ENCODER_PARAMS = (3 * 3 * 3 * 16 + 16) + (3 * 3 * 16 * 32 + 32)  # 5,088
_SCENE_PARAMS = _ENCODER_PARAMS + 2 * _ENCODER_FEATURES + 1  # 5,153


def _judge_shared_model(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [_IMAGE, _IMAGE], names=["left_image", "right_image"])
    problems += expect_outputs(graph, {"same_scene": (None, 1)})
    if problems:
        return problems
    problems = unconnected_inputs(graph)
    if problems:
        return problems
    nested = _calls_by_weights([n for n in graph.nodes if n.kind == "model"])
    if not nested:
        shared = [n for n in graph.nodes if n.shared and n.call_index == 0 and n.layer.params > 0]
        if shared:
            return [Problem(f"Your model calls the encoder's layers ({_names([n.name for n in shared])} and the "
                            f"others) one by one on each image. Their weights are shared, but the encoder model "
                            f"itself is not used: the task calls the whole encoder model on each image, as if it "
                            f"were one layer, so that your graph shows one box for the encoder, called twice.",
                            tuple(n.key for n in shared), code="layers-not-nested")]
        inner = [n.key for n in graph.nodes if n.kind != "input" and n.layer.params > 0]
        return [Problem(f"Your model has no nested model: its layers ({_names(inner[:4])}{' …' * (len(inner) > 4)}) "
                        f"sit directly in it. The task's encoder is a whole model, made once by make_encoder(), and "
                        f"called on each image as if it were one layer.", tuple(inner), code="no-nested-model")]
    if len(nested) >= 2:
        firsts = [calls[0] for calls in nested.values()]
        params = sum(n.layer.params for n in firsts)
        return [Problem(f"The encoder should be shared, but your model uses {len(firsts)} separate encoder models "
                        f"({_names([n.name for n in firsts])}): {len(firsts)} sets of weights ({params:,} parameters "
                        f"in all), so the same picture would get different features on the left and on the right. "
                        f"Make the encoder once and call that one model on both images.",
                        tuple(n.key for n in firsts), code="not-shared")]
    calls = next(iter(nested.values()))
    encoder = calls[0]
    if len(calls) == 1:
        read = _names(_merge_inputs(graph, encoder.key))
        return [Problem(f"The encoder model {encoder.name!r} is called once (on {read}); the task calls the one "
                        f"encoder on each image.", (encoder.key,), code="call-count")]
    problems = _reads_each_input_once(graph, calls, f"The encoder model {encoder.name!r}")
    features = encoder.output_shapes[0] if encoder.output_shapes else ()
    if encoder.layer.params != _ENCODER_PARAMS or tuple(features) != (None, _ENCODER_FEATURES):
        problems.append(Problem(
            f"The shared model {encoder.name!r} has {encoder.layer.params:,} parameters and gives "
            f"{format_shape(features)} per image; the task's encoder is the one make_encoder() builds "
            f"({_ENCODER_PARAMS:,} parameters, {_ENCODER_FEATURES} features per image). Use that model, unchanged.",
            (encoder.key,), code="encoder-changed"))
    if problems:
        return problems
    merge, problems = _concatenated(graph, calls, _ENCODER_FEATURES, "feature vectors")
    problems += _sigmoid_output(graph, "same_scene", "the two images show the same scene")
    if problems:
        return problems
    problems = expect_params(graph, _SCENE_PARAMS, explain=f"The encoder has {_ENCODER_PARAMS:,} (counted once) and "
                             f"the output layer {2 * _ENCODER_FEATURES + 1}.")
    if problems or merge is None:
        return problems
    images = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    _equal_halves(model, merge, output_map(graph)["same_scene"][0], {"left_image": images, "right_image": images},
                  "feature vectors")
    ctx.verified += ["inputs 'left_image' and 'right_image' (None, 32, 32, 3); output 'same_scene' (None, 1) "
                     "with sigmoid",
                     f"one encoder model ({encoder.name!r}) called as a layer on each image: one set of weights",
                     f"{_SCENE_PARAMS:,} parameters: the encoder's {_ENCODER_PARAMS:,} counted once",
                     "the same image on both sides gives two equal feature vectors"]
    return []


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
        raise Stop(f"The check calls your function with one model, conv_features(model), and Python says: {exc}. "
                   f"Give it exactly one argument, the model.", code="wrong-kind:signature") from None
    except ValueError:  # no signature to read: let the call itself tell
        pass
    try:
        result = fn(net)
    except Exception as exc:
        if "cannot be empty" in str(exc):
            text = (f"Called on {about}, your function built a model with no outputs: it found no layer to "
                    f"return.")
            if not first:
                text += (" It worked on the first model; this one names its convolutions differently, so pick the "
                         "layers by what they are (Conv2D layers), not by their names.")
            raise Stop(text, code="raised:no-outputs") from None
        raise Stop(_raised(exc, f"Calling your function on {about}"), code="raised") from None
    if isinstance(result, keras.Model):
        return result
    if result is None and _empty_body(fn):
        raise Stop("Your conv_features still has the starter's empty body: write the function (it returns the new "
                   "model), run that cell, then run this check again.", answered=False, code="not-answered:starter")
    if result is None:
        raise Stop(f"Called on {about}, your function returned None: it must end by returning the new model "
                   f"(did it build the model but not return it?).", code="not-answered:returned-none")
    if isinstance(result, keras.KerasTensor) or (isinstance(result, list | tuple | dict) and result and all(
            isinstance(t, keras.KerasTensor) for t in (result.values() if isinstance(result, dict) else result))):
        count = 1 if isinstance(result, keras.KerasTensor) else len(result)
        raise Stop(f"Called on {about}, your function returned {count} symbolic tensor{'s' * (count != 1)}, not a "
                   f"model: they are the right kind of thing to be the outputs, but the task's function returns a "
                   f"keras.Model built from the model's input and these tensors, which can then be called on "
                   f"images.", code="wrong-kind:returned-tensors")
    raise Stop(f"Called on {about}, your function returned a {type(result).__name__}, not a keras.Model: it must "
               f"return the new model.", code="wrong-kind:returned-other")


def _predict_list(model: Any, x: np.ndarray) -> list[np.ndarray]:
    """``model.predict`` as a list of arrays, one per output (a single output too)."""
    values = model.predict(x, verbose=0)
    if isinstance(values, dict):
        values = [values[name] for name in model.output_names]
    return [np.asarray(v) for v in values] if isinstance(values, list | tuple) else [np.asarray(values)]


def _about(net: Any, convs: Sequence[Any]) -> str:
    return (f"the check's model {net.name!r} (input {format_shape(tuple(net.inputs[0].shape))}, Conv2D layers "
            f"{_names([c.name for c in convs])})")


def _conv_case(fn: Callable[[Any], Any], net: Any, ctx: Context, first: bool) -> list[Problem]:
    import keras

    from .._activations import get_activations

    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    wanted = [c.name for c in convs]
    about = _about(net, convs)
    feature_model = _call_function(fn, net, about, first)
    _, graph = need_model(feature_model, ctx, what="a functional keras.Model")
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
        outs = [graph.node(key).name for key, _ in output_map(graph).values()]
        same = bool(theirs) and all(
            name not in reference or np.allclose(value, reference[name], atol=1e-5)
            for name, value in zip(outs, theirs, strict=False))
        if same:
            return [Problem(f"Called on {about}, your function returns a model with copies of its layers "
                            f"({copies}), not the layers themselves. The copies hold the same numbers today, but "
                            f"they are separate weights: train the model, and the feature model would go on showing "
                            f"the old filters. Build the new model from the given model's own layer outputs, so it "
                            f"shares their weights.", marked, code="copied-layers")]
        return [Problem(f"Called on {about}, your function returns a model with new layers of the same names "
                        f"({copies}): a new model with the same architecture, whose weights are new and random, so "
                        f"its feature maps are not the given model's. Do not rebuild or clone the model: take the "
                        f"outputs of the given model's own Conv2D layers, so the new model shares their weights.",
                        marked, code="new-layers")]
    if foreign:
        return [Problem(f"Called on {about}, your function returns a model whose Conv2D layers "
                        f"({_names([layer.name for layer in foreign])}) are not layers of the model it was given. "
                        f"Build the new model from the function's argument, not from a model made in another cell: "
                        f"the check passes its own models.", tuple(n.key for n in graph.nodes
                                                                   if n.name in {f.name for f in foreign}),
                        code="foreign-layers")]
    in_shape = tuple(net.inputs[0].shape)
    problems = expect_inputs(graph, [in_shape])
    if problems:
        return [Problem(f"Called on {about}: " + problems[0].message[0].lower() + problems[0].message[1:]
                        + " The feature model takes the same images as the model it comes from.", problems[0].keys,
                        code=problems[0].code)]
    outputs = [(name, key, shape) for name, (key, shape) in output_map(graph).items()]
    got = [graph.node(key).name for _, key, _ in outputs]
    listing = ", ".join(f"{graph.node(key).name!r} {format_shape(shape)}" for _, key, shape in outputs)
    keys = tuple(key for _, key, _ in outputs)
    others = [(graph.node(key).name, graph.node(key).class_name) for _, key, _ in outputs
              if graph.node(key).name not in wanted]
    if others:
        said = ", ".join(f"{name!r} ({cls})" for name, cls in others)
        return [Problem(f"Called on {about}, your model also returns the outputs of layers that are not Conv2D "
                        f"layers: {said}. The task asks for the feature maps of the convolutions only, one output "
                        f"per Conv2D layer: leave the other layers out.",
                        tuple(key for _, key, _ in outputs if graph.node(key).name not in wanted),
                        code="extra-outputs")]
    missing = [w for w in wanted if w not in got]
    if missing:
        count = len(outputs)
        text = (f"Called on {about}, your model returns {count} feature map{'s' * (count != 1)} ({listing}); the "
                f"task asks for every Conv2D layer's output, {len(wanted)} here, in order: {_names(wanted)}. "
                f"Missing: {_names(missing)}.")
        if not first:
            text += (" This model names its convolutions differently from the first one, so pick the layers by what "
                     "they are (Conv2D layers), not by their names.")
        return [Problem(text, keys, code="missing-outputs")]
    if got != wanted:
        return [Problem(f"Called on {about}, your model returns the right feature maps but in the order "
                        f"{_names(got)}; the task keeps the model's order: {_names(wanted)}. Then the first output "
                        f"is the first convolution's map.", keys, code="output-order")]
    for (_, key, shape), conv in zip(outputs, convs, strict=True):
        if tuple(shape) != tuple(conv.output.shape):
            return [Problem(f"Called on {about}, your output {graph.node(key).name!r} has shape {format_shape(shape)}; "
                            f"in the model that layer gives {format_shape(tuple(conv.output.shape))}.", (key,),
                            code="output-shape")]
    x = np.random.default_rng(2).random((2, *in_shape[1:])).astype("float32")
    try:
        values = _predict_list(feature_model, x)
    except Exception as exc:
        raise Stop(_raised(exc, f"A forward pass of your feature model for {net.name!r}"),
                   code="raised:forward") from None
    reference = get_activations(net, x, layers=wanted)
    for name, value in zip(wanted, values, strict=True):
        if not np.allclose(np.asarray(value), np.asarray(reference[name]), atol=1e-5):
            return [Problem(f"Called on {about}, your output {name!r} differs from what layer {name!r} computes "
                            f"inside the model on the same images: the feature model must use the model's own layers, "
                            f"with their weights.", (name,), code="computes-otherwise")]
    ctx.verified.append(f"on the check's model {net.name!r}: one output per Conv2D layer, in order ({_names(wanted)}), "
                        f"with the layers' shapes")
    return []


def _judge_conv_features(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    if isinstance(answer, keras.Model):
        raise Stop(f"This is a model ({answer.name!r}); the check needs the function that builds it: pass "
                   f"conv_features itself, without calling it, so the check can try it on models of its own.",
                   code="wrong-kind:model")
    if isinstance(answer, type) or not callable(answer):
        text = repr(answer)
        raise Stop(f"The check needs the function conv_features(model); you passed a {type(answer).__name__} "
                   f"({text[:60]}{'…' if len(text) > 60 else ''}). Pass the function itself, without calling it.",
                   code="wrong-kind")
    for index, net in enumerate(_check_nets()):
        problems = _conv_case(answer, net, ctx, first=index == 0)
        if problems:
            return problems
    ctx.verified += ["the returned models use the given model's own layers (shared weights, nothing copied)",
                     "their feature maps equal what lab.get_activations reads inside each model"]
    return []


# -- ex5.4 ----------------------------------------------------------------------------------------------------
_PHOTO: Shape = (None, 32, 32, 3)
_CAPTION: Shape = (None, None)  # word ids, any length
_DESIGN_OUTPUTS = {"same_place": (None, 1), "caption_fits": (None, 1)}


def _photo_only_calls(graph: LayerGraph, photos: tuple[str, str], caption: str) -> list[tuple[Node, str]]:
    """The calls of layers (or models) with weights that read exactly one photo and not the caption: the photo
    encoders, with the photo each one reads."""
    found = []
    for node in graph.nodes:
        if node.kind == "input" or node.layer.params == 0:
            continue
        sees = set(inputs_reaching(graph, node.key))
        seen = [p for p in photos if p in sees]
        if len(seen) == 1 and caption not in sees:
            found.append((node, seen[0]))
    return found


def _sharing_problems(graph: LayerGraph, photos: tuple[str, str], caption: str) -> list[Problem]:
    calls = _photo_only_calls(graph, photos, caption)
    if not calls:
        mixers = [n for n in graph.nodes if n.kind != "input" and set(photos) <= set(inputs_reaching(graph, n.key))]
        first = mixers[0] if mixers else None
        where = f" ({first.class_name} {first.key!r})" if first is not None else ""
        return [Problem(f"Your model mixes the two photos{where} before any layer with weights has seen one photo "
                        f"alone, so nothing encodes a photo on its own. The task encodes each photo separately, "
                        f"with one encoder shared by both, so that the same photo gets the same encoding on either "
                        f"side; the comparison comes after.", (first.key,) if first is not None else (),
                        code="photos-mixed")]
    covered: dict[int, set[str]] = {}
    for node, photo in calls:
        covered.setdefault(node.layer.uid, set()).add(photo)
    lonely = [(node, photo) for node, photo in calls if covered[node.layer.uid] != set(photos)]
    if not lonely:
        return []
    by_photo = {p: [n.key for n, q in lonely if q == p] for p in photos}
    said = "; ".join(f"{', '.join(map(repr, keys))} read{'s' * (len(keys) == 1)} {p!r} only"
                     for p, keys in by_photo.items() if keys)
    return [Problem(f"The photos are not encoded by one shared encoder: {said}, and no call of "
                    f"{'that layer' if len(lonely) == 1 else 'those layers'} reads the other photo. Separate weights "
                    f"learn different things, so the same photo would get a different encoding as "
                    f"{photos[0]!r} and as {photos[1]!r}. Make the encoder once (a layer, or a model of its own) and "
                    f"call that same object on each photo.", tuple(n.key for n, _ in lonely), code="not-shared")]


def _judge_design_two_photos(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why="The design task practises sharing in the functional API.")
    found, problems = match_inputs(graph, {"photo_a": _PHOTO, "photo_b": _PHOTO, "caption": _CAPTION},
                                   dtypes={"caption": "int"})
    problems += expect_outputs(graph, _DESIGN_OUTPUTS)
    if problems:
        return problems
    photo_a, photo_b, caption = found["photo_a"], found["photo_b"], found["caption"]
    caption_shape = graph.node(caption).output_shapes[0]
    if caption_shape[1] is not None:
        return [Problem(f"Input {caption!r} has shape {format_shape(caption_shape)}: it takes captions of exactly "
                        f"{caption_shape[1]} words. The task's captions have any length: leave the number of words "
                        f"open (None) in keras.Input's shape.", (caption,), code="caption-length")]
    problems = expect_depends(graph, "same_place", [photo_a, photo_b], not_on=[caption],
                              why="Whether two photos show the same place is a question about the photos alone.")
    problems += expect_depends(graph, "caption_fits", [photo_a, photo_b, caption])
    if problems:
        return problems
    problems = _sharing_problems(graph, (photo_a, photo_b), caption)
    if problems:
        return problems
    rng = np.random.default_rng(54)
    for words in (7, 12):
        batch = {photo_a: rng.random((3, 32, 32, 3), dtype="float32"),
                 photo_b: rng.random((3, 32, 32, 3), dtype="float32"),
                 caption: rng.integers(1, 10, (3, words)).astype("int32")}
        try:
            out = model.predict(batch, verbose=0)
        except Exception as exc:
            raise Stop(_raised(exc, f"On 3 photo pairs with captions of {words} words, your model"),
                       code="raised:forward") from None
        values = out if isinstance(out, dict) else dict(zip(model.output_names, out, strict=True))
        for name in _DESIGN_OUTPUTS:
            if np.shape(values[name]) != (3, 1):
                raise Stop(f"On 3 photo pairs with captions of {words} words, output {name!r} has shape "
                           f"{np.shape(values[name])}, not (3, 1).", code="forward-shape")
    shared = {n.layer.uid: n for n, _ in _photo_only_calls(graph, (photo_a, photo_b), caption)}
    names = ", ".join(repr(n.name) for n in shared.values())
    ctx.verified += [
        f"inputs {photo_a!r} and {photo_b!r} {format_shape(_PHOTO)}, {caption!r} (None, None) of word ids",
        "'same_place' (None, 1) from the two photos only; 'caption_fits' (None, 1) from all three inputs",
        f"one encoder for both photos: {names}, each called once on each photo",
        "captions of 7 and of 12 words give one value per pair in each output; any layers are fine here",
    ]
    return []


EXERCISES = [
    Exercise(
        id="ex5.1", title="Share one LSTM between two tweets", lesson=LESSON_7,
        judge=_judge_shared_lstm,
        hints=("Make the LSTM once, before you use it, and keep it in a variable: every call of that one layer "
               "object uses the same weights.",
               "Call that same LSTM on tweet_a and on tweet_b: the two results are the two encodings (64 numbers "
               "each). Then concatenate them.",
               "After the concatenate: Dense(1, activation='sigmoid', name='same_author'), and keras.Model with both "
               "inputs. lab.graph(model) should show the LSTM called twice; the model has 82,305 parameters."),
        outline=(("tweet_a (None, 140, 256)", "one LSTM, 64 units (called twice)"),
                 ("tweet_b (None, 140, 256)", "one LSTM, 64 units (called twice)"),
                 ("one LSTM, 64 units (called twice)", "concatenate the two encodings (None, 128)"),
                 ("concatenate the two encodings (None, 128)", "same_author: Dense 1, sigmoid"))),
    Exercise(
        id="ex5.2", title="Share a whole vision model between two images", lesson=LESSON_7,
        judge=_judge_shared_model,
        hints=("A keras.Model can be called on a tensor exactly like a layer, and the call reuses the model's "
               "weights.",
               "Call make_encoder() once and keep the model; then call that model on left_image and on right_image "
               "(32 features each).",
               "Concatenate the two feature vectors and end with Dense(1, activation='sigmoid', name='same_scene'). "
               "lab.graph(model) should show one box for the encoder, called twice; 5,153 parameters."),
        outline=(("left_image (None, 32, 32, 3)", "one encoder model (called twice)"),
                 ("right_image (None, 32, 32, 3)", "one encoder model (called twice)"),
                 ("one encoder model (called twice)", "concatenate the two feature vectors (None, 64)"),
                 ("concatenate the two feature vectors (None, 64)", "same_scene: Dense 1, sigmoid"))),
    Exercise(
        id="ex5.3", title="Return every convolution's feature map", lesson=LESSON_8,
        judge=_judge_conv_features,
        answer="the function conv_features (pass it without calling it)",
        hints=("model.layers lists a model's layers in order, and each layer's .output is the tensor it computes "
               "inside that model.",
               "Keep the layers that are Conv2D layers (isinstance), and build the new model from the model's own "
               "input and their output tensors: then it reuses the same layers and weights.",
               "keras.Model(inputs=model.inputs, outputs=[...]) with one output per Conv2D layer, in order. Don't "
               "build new layers, clone the model, or use a model from another cell inside the function."),
        outline=(("the model's input", "its Conv2D layers, in order (the model's own)"),
                 ("its Conv2D layers, in order (the model's own)", "one output per Conv2D layer"))),
    Exercise(
        id="ex5.4", title="Design a model for two photos and a caption, with one shared photo encoder",
        lesson=LESSON_7, judge=_judge_design_two_photos,
        hints=("Three inputs: two photos (32, 32, 3) and a caption of word ids, keras.Input(shape=(None,), "
               "dtype='int32'). Two outputs named same_place and caption_fits, one number each.",
               "Make the photo encoder once (a small model, as in ex5.2, or one layer) and call it on each photo. "
               "The caption needs an encoder of its own: word ids go through an Embedding first.",
               "same_place reads the two photo encodings only (concatenate them, then Dense(1, sigmoid)); "
               "caption_fits reads both encodings and the caption's. lab.graph(model) should show the encoder "
               "called twice."),
        outline=(("photo_a (None, 32, 32, 3)", "one photo encoder (called twice)"),
                 ("photo_b (None, 32, 32, 3)", "one photo encoder (called twice)"),
                 ("caption (None, None) word ids", "caption encoder"),
                 ("one photo encoder (called twice)", "same_place (None, 1)"),
                 ("one photo encoder (called twice)", "caption_fits (None, 1)"),
                 ("caption encoder", "caption_fits (None, 1)"))),
]
