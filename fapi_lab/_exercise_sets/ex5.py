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

from typing import Any

import numpy as np

from .._exercise_parts.ex5_common import (
    _calls_by_weights,
    _concatenated,
    _equal_halves,
    _merge_inputs,
    _names,
    _raised,
    _reads_each_input_once,
    _sigmoid_output,
)
from .._exercise_parts.ex5_conv import _judge_conv_features
from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_depends,
    expect_inputs,
    expect_outputs,
    expect_params,
    inputs_reaching,
    match_inputs,
    need_functional,
    need_model,
    output_map,
    unconnected_inputs,
)
from .._i18n import N_, _, ngettext
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape

LESSON_7 = N_("lesson 7")
LESSON_8 = N_("lesson 8")


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
        return [Problem(_("Your model has no LSTM layer: the task encodes each tweet (140 steps of 256 numbers) with "
                          "an LSTM of 64 units, the same LSTM for both tweets."), code="layer-missing")]
    if len(lstm_calls) >= 2:
        firsts = [calls[0] for calls in lstm_calls.values()]
        params = sum(n.layer.params for n in firsts)
        return [Problem(_("The LSTM should be shared, but your model has {n} separate LSTM layers ({names}): {n} sets "
                          "of weights ({params:,} parameters in all), which learn different things, so the same tweet "
                          "would get a different encoding as tweet_a and as tweet_b. Make the LSTM once, keep it in a "
                          "variable, and call that one layer on each tweet.").format(
                              n=len(firsts), names=_names([n.name for n in firsts]), params=params),
                        tuple(n.key for n in firsts), code="not-shared")]
    calls = next(iter(lstm_calls.values()))
    lstm = calls[0]
    if len(calls) == 1:
        read = _names(_merge_inputs(graph, lstm.key))
        return [Problem(_("LSTM {name!r} is called once (on {read}); the task calls the one LSTM twice, once on each "
                          "tweet, so that each tweet gets its own encoding from the same weights.").format(
                              name=lstm.name, read=read), (lstm.key,), code="call-count")]
    problems = _reads_each_input_once(graph, calls, _("The shared LSTM {name!r}").format(name=lstm.name))
    units = lstm.layer.config.get("units")
    if units != _LSTM_UNITS:
        problems.append(Problem(_("LSTM {name!r} has {units} units, so each tweet is encoded as {units} numbers; the "
                                  "task's encodings have {want} (document 001's shared LSTM).").format(
                                      name=lstm.name, units=units, want=_LSTM_UNITS), (lstm.key,), code="lstm-units"))
    if problems:
        return problems
    merge, problems = _concatenated(graph, calls, _LSTM_UNITS, N_("encodings"))
    problems += _sigmoid_output(graph, "same_author", N_("the two tweets have the same author"))
    if problems:
        return problems
    problems = expect_params(graph, _TWEET_PARAMS, explain=_("The shared LSTM has {lstm:,} (counted once) and the "
                                                             "output layer {head}.").format(
                                                                 lstm=_LSTM_PARAMS, head=2 * _LSTM_UNITS + 1))
    if problems or merge is None:
        return problems
    tweet = np.random.default_rng(0).standard_normal((2, 140, 256)).astype("float32")
    _equal_halves(model, merge, output_map(graph)["same_author"][0], {"tweet_a": tweet, "tweet_b": tweet},
                  N_("encodings"))
    ctx.verified += [_("inputs 'tweet_a' and 'tweet_b' (None, 140, 256); output 'same_author' (None, 1) with "
                       "sigmoid"),
                     _("one LSTM of 64 units ({name!r}) called once on each tweet: one set of weights").format(
                         name=lstm.name),
                     _("the two encodings concatenated: {params:,} parameters, the LSTM's {lstm:,} counted "
                       "once").format(params=_TWEET_PARAMS, lstm=_LSTM_PARAMS),
                     _("the same tweet on both inputs gives two equal encodings")]
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
            return [Problem(_("Your model calls the encoder's layers ({names} and the others) one by one on each "
                              "image. Their weights are shared, but the encoder model itself is not used: the task "
                              "calls the whole encoder model on each image, as if it were one layer, so that your "
                              "graph shows one box for the encoder, called twice.").format(
                                  names=_names([n.name for n in shared])),
                            tuple(n.key for n in shared), code="layers-not-nested")]
        inner = [n.key for n in graph.nodes if n.kind != "input" and n.layer.params > 0]
        return [Problem(_("Your model has no nested model: its layers ({names}) sit directly in it. The task's encoder "
                          "is a whole model, made once by make_encoder(), and called on each image as if it were one "
                          "layer.").format(names=_names(inner[:4]) + " …" * (len(inner) > 4)), tuple(inner),
                        code="no-nested-model")]
    if len(nested) >= 2:
        firsts = [calls[0] for calls in nested.values()]
        params = sum(n.layer.params for n in firsts)
        return [Problem(_("The encoder should be shared, but your model uses {n} separate encoder models ({names}): "
                          "{n} sets of weights ({params:,} parameters in all), so the same picture would get "
                          "different features on the left and on the right. Make the encoder once and call that one "
                          "model on both images.").format(n=len(firsts), names=_names([n.name for n in firsts]),
                                                          params=params),
                        tuple(n.key for n in firsts), code="not-shared")]
    calls = next(iter(nested.values()))
    encoder = calls[0]
    if len(calls) == 1:
        read = _names(_merge_inputs(graph, encoder.key))
        return [Problem(_("The encoder model {name!r} is called once (on {read}); the task calls the one encoder on "
                          "each image.").format(name=encoder.name, read=read), (encoder.key,), code="call-count")]
    problems = _reads_each_input_once(graph, calls, _("The encoder model {name!r}").format(name=encoder.name))
    features = encoder.output_shapes[0] if encoder.output_shapes else ()
    if encoder.layer.params != _ENCODER_PARAMS or tuple(features) != (None, _ENCODER_FEATURES):
        problems.append(Problem(
            _("The shared model {name!r} has {params:,} parameters and gives {shape} per image; the task's encoder is "
              "the one make_encoder() builds ({want:,} parameters, {features} features per image). Use that model, "
              "unchanged.").format(name=encoder.name, params=encoder.layer.params, shape=format_shape(features),
                                   want=_ENCODER_PARAMS, features=_ENCODER_FEATURES),
            (encoder.key,), code="encoder-changed"))
    if problems:
        return problems
    merge, problems = _concatenated(graph, calls, _ENCODER_FEATURES, N_("feature vectors"))
    problems += _sigmoid_output(graph, "same_scene", N_("the two images show the same scene"))
    if problems:
        return problems
    problems = expect_params(graph, _SCENE_PARAMS, explain=_("The encoder has {encoder:,} (counted once) and the "
                                                             "output layer {head}.").format(
                                                                 encoder=_ENCODER_PARAMS,
                                                                 head=2 * _ENCODER_FEATURES + 1))
    if problems or merge is None:
        return problems
    images = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    _equal_halves(model, merge, output_map(graph)["same_scene"][0], {"left_image": images, "right_image": images},
                  N_("feature vectors"))
    ctx.verified += [_("inputs 'left_image' and 'right_image' (None, 32, 32, 3); output 'same_scene' (None, 1) "
                       "with sigmoid"),
                     _("one encoder model ({name!r}) called as a layer on each image: one set of weights").format(
                         name=encoder.name),
                     _("{params:,} parameters: the encoder's {encoder:,} counted once").format(
                         params=_SCENE_PARAMS, encoder=_ENCODER_PARAMS),
                     _("the same image on both sides gives two equal feature vectors")]
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
        if first is not None:
            said = _("Your model mixes the two photos ({kind} {key!r}) before any layer with weights has seen one "
                     "photo alone, so nothing encodes a photo on its own.").format(kind=first.class_name, key=first.key)
        else:
            said = _("Your model mixes the two photos before any layer with weights has seen one photo alone, so "
                     "nothing encodes a photo on its own.")
        return [Problem(said + " " + _("The task encodes each photo separately, with one encoder shared by both, so "
                                       "that the same photo gets the same encoding on either side; the comparison "
                                       "comes after."), (first.key,) if first is not None else (),
                        code="photos-mixed")]
    covered: dict[int, set[str]] = {}
    for node, photo in calls:
        covered.setdefault(node.layer.uid, set()).add(photo)
    lonely = [(node, photo) for node, photo in calls if covered[node.layer.uid] != set(photos)]
    if not lonely:
        return []
    by_photo = {p: [n.key for n, q in lonely if q == p] for p in photos}
    said = "; ".join(ngettext("{keys} reads {photo!r} only", "{keys} read {photo!r} only", len(keys)).format(
        keys=", ".join(map(repr, keys)), photo=p) for p, keys in by_photo.items() if keys)
    return [Problem(ngettext("The photos are not encoded by one shared encoder: {said}, and no call of that layer "
                             "reads the other photo.",
                             "The photos are not encoded by one shared encoder: {said}, and no call of those layers "
                             "reads the other photo.", len(lonely)).format(said=said) + " "
                    + _("Separate weights learn different things, so the same photo would get a different encoding "
                        "as {a!r} and as {b!r}. Make the encoder once (a layer, or a model of its own) and call that "
                        "same object on each photo.").format(a=photos[0], b=photos[1]),
                    tuple(n.key for n, _p in lonely), code="not-shared")]


def _judge_design_two_photos(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why=N_("The design task practises sharing in the functional API."))
    found, problems = match_inputs(graph, {"photo_a": _PHOTO, "photo_b": _PHOTO, "caption": _CAPTION},
                                   dtypes={"caption": "int"})
    problems += expect_outputs(graph, _DESIGN_OUTPUTS)
    if problems:
        return problems
    photo_a, photo_b, caption = found["photo_a"], found["photo_b"], found["caption"]
    caption_shape = graph.node(caption).output_shapes[0]
    if caption_shape[1] is not None:
        return [Problem(_("Input {name!r} has shape {shape}: it takes captions of exactly {words} words. The task's "
                          "captions have any length: leave the number of words open (None) in keras.Input's "
                          "shape.").format(name=caption, shape=format_shape(caption_shape), words=caption_shape[1]),
                        (caption,), code="caption-length")]
    problems = expect_depends(graph, "same_place", [photo_a, photo_b], not_on=[caption],
                              why=N_("Whether two photos show the same place is a question about the photos alone."))
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
            raise Stop(_raised(exc, _("On 3 photo pairs with captions of {words} words, your model").format(
                words=words)), code="raised:forward") from None
        values = out if isinstance(out, dict) else dict(zip(model.output_names, out, strict=True))
        for name in _DESIGN_OUTPUTS:
            if np.shape(values[name]) != (3, 1):
                raise Stop(_("On 3 photo pairs with captions of {words} words, output {name!r} has shape {shape}, "
                             "not (3, 1).").format(words=words, name=name, shape=np.shape(values[name])),
                           code="forward-shape")
    shared = {n.layer.uid: n for n, _p in _photo_only_calls(graph, (photo_a, photo_b), caption)}
    names = ", ".join(repr(n.name) for n in shared.values())
    ctx.verified += [
        _("inputs {a!r} and {b!r} {shape}, {caption!r} (None, None) of word ids").format(
            a=photo_a, b=photo_b, shape=format_shape(_PHOTO), caption=caption),
        _("'same_place' (None, 1) from the two photos only; 'caption_fits' (None, 1) from all three inputs"),
        _("one encoder for both photos: {names}, each called once on each photo").format(names=names),
        _("captions of 7 and of 12 words give one value per pair in each output; any layers are fine here"),
    ]
    return []


EXERCISES = [
    Exercise(
        id="ex5.1", title=N_("Share one LSTM between two tweets"), lesson=LESSON_7,
        judge=_judge_shared_lstm,
        hints=(N_("Make the LSTM once, before you use it, and keep it in a variable: every call of that one layer "
               "object uses the same weights."),
               N_("Call that same LSTM on tweet_a and on tweet_b: the two results are the two encodings (64 numbers "
               "each). Then concatenate them."),
               N_("After the concatenate: Dense(1, activation='sigmoid', name='same_author'), and keras.Model with "
               "both inputs. lab.graph(model) should show the LSTM called twice; the model has 82,305 parameters.")),
        outline=(("tweet_a (None, 140, 256)", N_("one LSTM, 64 units (called twice)")),
                 ("tweet_b (None, 140, 256)", N_("one LSTM, 64 units (called twice)")),
                 (N_("one LSTM, 64 units (called twice)"), N_("concatenate the two encodings (None, 128)")),
                 (N_("concatenate the two encodings (None, 128)"), "same_author: Dense 1, sigmoid"))),
    Exercise(
        id="ex5.2", title=N_("Share a whole vision model between two images"), lesson=LESSON_7,
        judge=_judge_shared_model,
        hints=(N_("A keras.Model can be called on a tensor exactly like a layer, and the call reuses the model's "
               "weights."),
               N_("Call make_encoder() once and keep the model; then call that model on left_image and on right_image "
               "(32 features each)."),
               N_("Concatenate the two feature vectors and end with Dense(1, activation='sigmoid', name='same_scene'). "
               "lab.graph(model) should show one box for the encoder, called twice; 5,153 parameters.")),
        outline=(("left_image (None, 32, 32, 3)", N_("one encoder model (called twice)")),
                 ("right_image (None, 32, 32, 3)", N_("one encoder model (called twice)")),
                 (N_("one encoder model (called twice)"), N_("concatenate the two feature vectors (None, 64)")),
                 (N_("concatenate the two feature vectors (None, 64)"), "same_scene: Dense 1, sigmoid"))),
    Exercise(
        id="ex5.3", title=N_("Return every convolution's feature map"), lesson=LESSON_8,
        judge=_judge_conv_features,
        answer=N_("the function conv_features (pass it without calling it)"),
        hints=(N_("model.layers lists a model's layers in order, and each layer's .output is the tensor it computes "
               "inside that model."),
               N_("Keep the layers that are Conv2D layers (isinstance), and build the new model from the model's own "
               "input and their output tensors: then it reuses the same layers and weights."),
               N_("keras.Model(inputs=model.inputs, outputs=[...]) with one output per Conv2D layer, in order. Don't "
               "build new layers, clone the model, or use a model from another cell inside the function.")),
        outline=((N_("the model's input"), N_("its Conv2D layers, in order (the model's own)")),
                 (N_("its Conv2D layers, in order (the model's own)"), N_("one output per Conv2D layer")))),
    Exercise(
        id="ex5.4", title=N_("Design a model for two photos and a caption, with one shared photo encoder"),
        lesson=LESSON_7, judge=_judge_design_two_photos,
        hints=(N_("Three inputs: two photos (32, 32, 3) and a caption of word ids, keras.Input(shape=(None,), "
               "dtype='int32'). Two outputs named same_place and caption_fits, one number each."),
               N_("Make the photo encoder once (a small model, as in ex5.2, or one layer) and call it on each photo. "
               "The caption needs an encoder of its own: word ids go through an Embedding first."),
               N_("same_place reads the two photo encodings only (concatenate them, then Dense(1, sigmoid)); "
               "caption_fits reads both encodings and the caption's. lab.graph(model) should show the encoder "
               "called twice.")),
        outline=(("photo_a (None, 32, 32, 3)", N_("one photo encoder (called twice)")),
                 ("photo_b (None, 32, 32, 3)", N_("one photo encoder (called twice)")),
                 (N_("caption (None, None) word ids"), N_("caption encoder")),
                 (N_("one photo encoder (called twice)"), "same_place (None, 1)"),
                 (N_("one photo encoder (called twice)"), "caption_fits (None, 1)"),
                 (N_("caption encoder"), "caption_fits (None, 1)"))),
]
