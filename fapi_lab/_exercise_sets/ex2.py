"""Exercises for lessons 3 and 4: saving and loading; one graph, many models; models called like layers.

ex2.5 is a migration task: the documents' Keras 1/2 code (``Model(input=, output=)``, ``to_yaml``, ``save`` to a
name without extension) made to run in Keras 3. Its judge calls the student's function with a fresh folder,
explains each old-API error as Keras 3 raises it (with ``lab.explain`` where it knows the error), and checks what
the three returned models are: the trained model, its architecture alone (new weights), and the whole model back
from a ``.keras`` file. ex2.6 is an open-ended design task judged on shapes, connectivity and shared weights only.

Two answers are judged together with the models the task hands out: ex2.1 gets ``(autoencoder, encoder)`` and
ex2.4 gets ``(encoder_model, decoder_model, nested_autoencoder)``, so the judge can tell the student's model
*reuses* the given layers (the same weights) from a copy that merely looks the same. Layer identity is read from
the layer graphs (:attr:`LayerInfo.uid`, one per set of weights) or, for a nested model, by comparing the called
model with the given one through public Keras API (``model.get_layer``).

ex2.3's answer is a function ``round_trip(model, folder)``; its judge trains a tiny model, calls the function with
a fresh temporary folder, and looks at what was written there and at what came back.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_inputs,
    explain_raised,
    match_inputs,
    match_outputs,
    need_callable,
    need_functional,
    need_model,
    nodes_of,
    output_map,
    run_forward,
    total_params,
    weight_ids,
)
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape

LESSON_3 = "lesson 3"
LESSON_4 = "lesson 4"


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
_raised = explain_raised


def _unpack(answer: Any, names: tuple[str, ...], exercise_id: str) -> tuple[Any, ...]:
    """An answer that is a tuple of models (the given ones and the student's): each checked for a placeholder."""
    if not isinstance(answer, tuple | list) or len(answer) != len(names):
        together = ", ".join(names)
        raise Stop(f"This check needs {len(names)} models together, in this order: "
                   f"lab.check({exercise_id!r}, ({together})). Run the check cell as it is given.",
                   code="wrong-kind:not-a-tuple")
    for name, value in zip(names, answer, strict=True):
        if value is ...:
            raise Stop(f"Replace the ... in the exercise cell with your model {name}, run that cell, then run this "
                       f"check again.", answered=False, code="not-answered")
    return tuple(answer)


def _size(shape: Shape) -> int:
    size = 1
    for d in shape[1:]:
        size *= d if d is not None else 1
    return size


def _weighted_nodes(graph: LayerGraph) -> list[Node]:
    """Calls of layers that own weights, at the top level of the graph (nested models count as one)."""
    return [n for n in graph.nodes if n.kind in ("layer", "op", "model") and n.layer.params > 0]


def _sample(graph: LayerGraph, count: int, seed: int) -> np.ndarray:
    shape = graph.node(graph.inputs[0]).output_shapes[0]
    if any(d is None for d in shape[1:]):
        raise Stop(f"The input has shape {format_shape(shape)}; the check needs a fixed shape for one sample.",
                   code="input-shape")
    return np.random.default_rng(seed).random((count, *shape[1:]), dtype="float32")


# -- ex2.1: the encoder out of the (loaded) autoencoder ---------------------------------------------------------
def _bottleneck(graph: LayerGraph) -> tuple[int, Node]:
    """(position, node) of the narrowest layer call of an autoencoder: where the encoder half ends."""
    candidates = [(i, n) for i, n in enumerate(graph.nodes)
                  if n.kind != "input" and n.output_shapes and n.key not in graph.output_keys]
    if not candidates:
        raise Stop("The autoencoder has no layer between its input and its output, so it has no bottleneck. Run "
                   "the cell that loads it again, unchanged.", code="model-changed")
    return min(candidates, key=lambda item: (_size(item[1].output_shapes[0]), item[0]))


def _judge_encoder(answer: Any, ctx: Context) -> list[Problem]:
    from .. import get_activations

    autoencoder, encoder = _unpack(answer, ("autoencoder", "encoder"), "ex2.1")
    autoencoder, whole = need_model(autoencoder, ctx, what="the autoencoder the task loads (keep its cell as is)")
    encoder, graph = need_model(encoder, ctx, what="the encoder: a functional keras.Model")
    position, bottleneck = _bottleneck(whole)
    code_shape = bottleneck.output_shapes[0]
    if encoder is autoencoder:
        end = whole.node(whole.output_keys[0]).output_shapes[0]
        raise Stop(f"encoder is the autoencoder itself (it ends at {format_shape(end)}, the reconstruction). The "
                   f"task asks for a second model: the same input, but ending at the bottleneck {bottleneck.key!r} "
                   f"{format_shape(code_shape)}.", code="encoder-is-autoencoder")
    known = {n.layer.uid: n for n in whole.nodes}
    copies = [n for n in _weighted_nodes(graph) if n.layer.uid not in known]
    if copies:
        listing = ", ".join(repr(n.key) for n in copies)
        same_names = [n.key for n in copies if n.name in {m.name for m in whole.nodes}]
        names_note = (" They have the autoencoder's layer names, but a name is only a label: a new layer object "
                      "is a new set of weights." if same_names else "")
        many = len(copies) > 1
        return [Problem(
            f"Layer{'s' * many} {listing} of your encoder {'are' if many else 'is a'} new layer{'s' * many} with "
            f"{'their' if many else 'its'} own weights, not the autoencoder's trained layer{'s' * many}: even with "
            f"the same numbers copied in, training one model would no longer change the other.{names_note} "
            f"keras.Model(inputs, outputs) copies nothing: build the encoder from tensors of the autoencoder's own "
            f"graph (its input, and the output of one of its layers), so the encoder reuses the layers that "
            f"training changed.", tuple(n.key for n in copies), code="encoder-new-layers")]
    problems = expect_inputs(graph, [whole.node(whole.inputs[0]).output_shapes[0]])
    outputs = output_map(graph)
    if len(outputs) != 1:
        listing = ", ".join(f"{n} {format_shape(s)}" for n, (_, s) in outputs.items())
        problems.append(Problem(f"Your encoder has {len(outputs)} outputs ({listing}); an encoder has one: the "
                                f"code at the bottleneck {bottleneck.key!r} {format_shape(code_shape)}.",
                                tuple(k for k, _ in outputs.values()), code="output-count"))
    if problems:
        return problems
    (_, (out_key, out_shape)), = outputs.items()
    out_uid = graph.node(out_key).layer.uid
    if out_uid != bottleneck.layer.uid:
        where = next((i for i, n in enumerate(whole.nodes) if n.layer.uid == out_uid), position)
        side = ("stops before the bottleneck, inside the encoder half" if where < position else
                "goes past the bottleneck into the decoder half")
        return [Problem(f"Your encoder ends at {out_key!r} {format_shape(out_shape)}: it {side}. The encoder ends "
                        f"where the autoencoder is narrowest, at its bottleneck {bottleneck.key!r} "
                        f"{format_shape(code_shape)}: the code that the decoder half rebuilds the image from.",
                        (out_key,), code="encoder-wrong-end")]
    x = _sample(whole, 8, seed=21)
    saved = autoencoder.get_weights()
    try:
        reference = np.asarray(get_activations(autoencoder, x, layers=[bottleneck.key])[bottleneck.key])
        same = np.allclose(run_forward(encoder, x, what="Your encoder"), reference, atol=1e-5)
        autoencoder.set_weights([w + 0.05 for w in saved])
        moved = np.asarray(get_activations(autoencoder, x, layers=[bottleneck.key])[bottleneck.key])
        follows = np.allclose(run_forward(encoder, x, what="Your encoder"), moved, atol=1e-5)
    finally:
        autoencoder.set_weights(saved)
    if not same or not follows:
        return [Problem(f"On 8 images your encoder's output differs from the autoencoder's {bottleneck.key!r} "
                        f"output: check that the encoder starts at the autoencoder's input and takes the path "
                        f"through the autoencoder's layers.", (out_key,), code="computes-otherwise")]
    layer_names = ", ".join(repr(n.key) for n in _weighted_nodes(graph))
    in_shape = graph.node(graph.inputs[0]).output_shapes[0]
    ctx.verified += [f"input {format_shape(in_shape)}, the autoencoder's own input shape",
                     f"it ends at the bottleneck {bottleneck.key!r} {format_shape(code_shape)}",
                     f"its layers ({layer_names}) are the autoencoder's own layers, not copies",
                     f"on 8 images it computes exactly the autoencoder's {bottleneck.key!r} output",
                     "changing the autoencoder's weights changes the encoder's output the same way: one set of "
                     "weights, two models"]
    return []


# -- ex2.2: an ensemble that averages three models ---------------------------------------------------------------
def _judge_ensemble(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    model, graph = need_model(answer, ctx, what="the ensemble: a functional keras.Model")
    if len(graph.inputs) != 1:
        listing = ", ".join(repr(k) for k in graph.inputs)
        return [Problem(f"Your ensemble has {len(graph.inputs)} inputs ({listing}): each member would look at a "
                        f"different sample, so their predictions are not about the same thing and their average "
                        f"means nothing. An ensemble feeds ONE sample to every member: make one keras.Input and "
                        f"call each of the three models on that same tensor.", tuple(graph.inputs), code="input-count")]
    problems = expect_inputs(graph, [(None, 128)])
    if problems:
        return problems
    calls = [n for n in graph.nodes if n.kind == "model"]
    members: dict[int, list[Node]] = {}
    for n in calls:
        members.setdefault(n.layer.uid, []).append(n)
    if not calls:
        dense = nodes_of(graph, "Dense", deep=False)
        extra = (f" Your model calls {len(dense)} Dense layer{'s' * (len(dense) != 1)} directly instead."
                 if dense else "")
        return [Problem(f"Your ensemble calls no model: the task averages three whole models, each made by "
                        f"get_model(), each called on the input like a layer.{extra}",
                        tuple(n.key for n in dense), code="no-member-models")]
    if len(members) == 1 and len(calls) > 1:
        name = calls[0].key
        return [Problem(f"Your ensemble calls the same model {name!r} {len(calls)} times: one set of weights, so "
                        f"the {len(calls)} predictions are identical and their average is just that model's "
                        f"prediction. Make three separate models (three get_model() calls), each with its own "
                        f"weights, and call each one once.", tuple(n.key for n in calls), code="same-member-model")]
    if len(members) != 3:
        listing = ", ".join(repr(v[0].key) for v in members.values())
        return [Problem(f"Your ensemble calls {len(members)} model{'s' * (len(members) != 1)} ({listing}); the "
                        f"task averages three.", tuple(n.key for n in calls), code="member-count")]
    outputs = output_map(graph)
    if len(outputs) != 1:
        listing = ", ".join(f"{n} {format_shape(s)}" for n, (_, s) in outputs.items())
        return [Problem(f"Your ensemble has {len(outputs)} outputs ({listing}): the three predictions side by "
                        f"side. An ensemble gives one prediction per sample: merge the three into their average "
                        f"and make that the only output.", tuple(k for k, _ in outputs.values()), code="output-count")]
    (out_name, (out_key, out_shape)), = outputs.items()
    merge = graph.node(out_key)
    if merge.class_name == "Concatenate":
        return [Problem(f"Your output {out_name!r} {format_shape(out_shape)} is a Concatenate: it puts the three "
                        f"predictions side by side, 3 numbers per sample, instead of combining them into one. "
                        f"Merge them with an average, which keeps the members' shape (None, 1).", (out_key,),
                        code="merge-concatenate")]
    if merge.class_name == "Add":
        return [Problem(f"Your output {out_name!r} is an Add: the sum of three predictions is about three times "
                        f"too large. An ensemble averages them: use the merge that divides by the number of "
                        f"members.", (out_key,), code="merge-add")]
    if merge.kind == "model":
        return [Problem(f"Your output is model {out_key!r} itself: the three predictions are never merged. Merge "
                        f"the three members' outputs with an average and make that the output.", (out_key,),
                        code="not-merged")]
    if tuple(out_shape) != (None, 1):
        return [Problem(f"Your output {out_name!r} has shape {format_shape(out_shape)}; the average of three "
                        f"(None, 1) predictions is (None, 1).", (out_key,), code="output-shape")]
    feeding = set(graph.predecessors(out_key))
    unmerged = [v[0].key for v in members.values() if v[0].key not in feeding]
    if unmerged:
        return [Problem(f"Model{'s' * (len(unmerged) > 1)} {', '.join(map(repr, unmerged))} "
                        f"{'are' if len(unmerged) > 1 else 'is'} called but not merged into the output: the "
                        f"average must take all three members' predictions.", tuple(unmerged),
                        code="member-not-merged")]
    objects = [model.get_layer(v[0].name) for v in members.values()]
    if not all(isinstance(m, keras.Model) for m in objects):
        raise Stop("The check could not find your three member models by their names: give each a different name.",
                   code="member-names")
    x = _sample(graph, 4, seed=22)
    mean = np.mean([run_forward(m, x, what=f"Member {m.name!r}") for m in objects], axis=0)
    if not np.allclose(run_forward(model, x, what="Your ensemble"), mean, atol=1e-5):
        return [Problem(f"On 4 samples your output {out_name!r} is not the mean of the three members' "
                        f"predictions: the merge must average them, with nothing after it.", (out_key,),
                        code="not-an-average")]
    params = total_params(graph)
    ctx.verified += ["one input (None, 128), shared by all members",
                     f"three separate models ({', '.join(repr(m.name) for m in objects)}), each called once",
                     f"one output {out_name!r} (None, 1), made by {merge.class_name}",
                     "on 4 samples the ensemble's prediction is the mean of the members' predictions",
                     f"{params:,} parameters: three members with their own weights"]
    return []


# -- ex2.3: save and load without losing anything ----------------------------------------------------------------
def _tiny_trained_model() -> tuple[Any, np.ndarray]:
    """The model the check hands to round_trip: small, compiled, trained two steps (so the optimizer has state)."""
    import keras
    from keras import layers

    features = keras.Input(shape=(8,), name="features")
    hidden = layers.Dense(4, activation="relu", name="hidden")(features)
    scores = layers.Dense(3, name="scores")(hidden)
    model = keras.Model(features, scores, name="tiny_classifier")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    rng = np.random.default_rng(23)
    x = rng.random((16, 8), dtype="float32")
    model.fit(x, rng.integers(0, 3, size=16), epochs=1, batch_size=8, verbose=0)
    return model, x


def _saving_error(exc: BaseException, folder: str) -> str:
    text = str(exc).replace(folder + os.sep, "").replace(folder, "<folder>")
    if "Invalid filepath extension for saving" in text:
        received = text.rsplit("filepath=", 1)[-1].rstrip(". ") if "filepath=" in text else ""
        name = f" {received!r}" if received else ""
        return (f"Saving raised ValueError: Keras 3 refuses the file name{name}. A whole model is saved to ONE file "
                f"whose name ends in .keras. A name without that extension meant a SavedModel folder in "
                f"TensorFlow 2 (documents 000 and 003); Keras 3 writes one only with model.export(), for serving, "
                f"and cannot load it back as a Keras model. Give the file a name that ends in .keras, inside the "
                f"folder the function is given.")
    if "save_format" in text:
        return ("Saving raised ValueError: the save_format argument is gone in Keras 3: the end of the file name "
                "chooses the format now. Remove the argument and give the file a name that ends in .keras.")
    if "No model config found" in text:
        return ("Loading raised ValueError: the file holds weights only (save_weights), no architecture, so "
                "load_model cannot rebuild a model from it. Save the whole model, architecture and weights and "
                "compile settings together, in one .keras file, and load that.")
    if "File format not supported" in text:
        return ("Loading raised ValueError: keras.models.load_model reads .keras files (and legacy .h5 ones), not "
                "the SavedModel folder that model.export() writes: an export is for serving and comes back only as "
                "an inference layer. Save the whole model to a .keras file instead, and load that.")
    if "File not found" in text:
        return (f"Loading raised ValueError: {text.splitlines()[0][:200]} Load the same file name that the "
                f"function saved to.")
    if "filename must end in `.weights.h5`" in text:
        return ("Saving raised ValueError: save_weights writes weights only, to a name ending in .weights.h5; but "
                "weights alone lose the architecture and the training state. Save the whole model to one .keras "
                "file.")
    return _raised(exc, "Your round_trip(model, folder)")


def _files(folder: str) -> list[str]:
    """Every file written under ``folder``, as a relative path with forward slashes."""
    top = Path(folder)
    return sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file())


def _judge_round_trip(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    what = "a function round_trip(model, folder) that returns the loaded model"
    if isinstance(answer, keras.layers.Layer):  # a model is callable too: the result of calling round_trip
        raise Stop(f"The check needs {what}; you passed a model ({type(answer).__name__} {answer.name!r}). Pass the "
                   f"function itself, without calling it (no parentheses): the check calls it on a model of its own.",
                   code="wrong-kind:called")
    round_trip = need_callable(answer, what=what)
    model, x = _tiny_trained_model()
    before = model.predict(x, verbose=0)
    steps = int(model.optimizer.iterations.numpy())
    with tempfile.TemporaryDirectory(prefix="fapi_lab_ex2_3_") as folder:
        try:
            loaded = round_trip(model, folder)
        except Exception as exc:
            raise Stop(_saving_error(exc, folder), code="raised:saving") from None
        files = _files(folder)
    if loaded is None:
        return [Problem("Your round_trip returned None: it must end by returning the model that loading gave back "
                        "(a function without return gives None).", code="returned-none")]
    if loaded is model:
        return [Problem("Your round_trip returned the very model it was given, not the one loaded from the file: "
                        "that proves nothing about what the file holds. Return the model that loading gives back.",
                        code="returned-original")]
    if not isinstance(loaded, keras.Model):
        text = repr(loaded)
        return [Problem(f"Your round_trip returned a {type(loaded).__name__} ({text[:60]}); it should return the "
                        f"model loaded back from the file (a keras.Model).", code="returned-wrong-kind")]
    if not files:
        return [Problem("Your round_trip wrote nothing inside the folder it was given: save the model into that "
                        "folder (the check gives a new, empty one each time and looks there for the file).",
                        code="nothing-saved")]
    keras_files = [f for f in files if f.endswith(".keras")]
    if not keras_files:
        weights = [f for f in files if f.endswith(".weights.h5")]
        legacy = [f for f in files if f.endswith(".h5") and f not in weights]
        if legacy:
            return [Problem(f"Your round_trip saved {legacy[0]!r}: HDF5, Keras 2's format, which Keras 3 still "
                            f"reads and writes but calls legacy (model.save warns about it, and some models do "
                            f"not load back from it). The native format is one .keras file: name the file so.",
                            code="saved-hdf5")]
        if weights:
            return [Problem(f"Your round_trip saved the weights only ({weights[0]!r}): no architecture, no compile "
                            f"settings, no optimizer state. Rebuilding the model around them needs the code that "
                            f"built it; the task asks to save the whole model, in one .keras file.",
                            code="saved-weights-only")]
        listing = ", ".join(repr(f) for f in files[:4])
        return [Problem(f"Your round_trip wrote {listing} but no .keras file: save the whole model to one file "
                        f"whose name ends in .keras.", code="no-keras-file")]
    problems = []
    if loaded.name != model.name or [la.name for la in loaded.layers] != [la.name for la in model.layers]:
        problems.append(Problem(f"The loaded model is {loaded.name!r} with layers "
                                f"{[la.name for la in loaded.layers]}; the model given to round_trip is "
                                f"{model.name!r} with {[la.name for la in model.layers]}: return the model loaded "
                                f"from the file you saved, unchanged.", code="loaded-other-model"))
    try:
        after = loaded.predict(x, verbose=0)
    except Exception as exc:
        raise Stop(_raised(exc, "Predicting with the loaded model"), code="raised:forward") from None
    if np.shape(after) != np.shape(before) or not np.allclose(after, before, atol=1e-6):
        problems.append(Problem("The loaded model's predictions differ from the original's on the same 16 samples: "
                                "the trained weights did not survive the round trip. A whole-model .keras file "
                                "keeps them.", code="weights-lost"))
    if getattr(loaded, "optimizer", None) is None or not getattr(loaded, "compiled", True):
        problems.append(Problem("The loaded model is not compiled: its loss, metrics and optimizer were lost, so "
                                "training cannot simply continue. Saving the whole model keeps the compile "
                                "settings; rebuilding from a config or weights does not.", code="compile-lost"))
    elif int(loaded.optimizer.iterations.numpy()) != steps:
        problems.append(Problem("The loaded model's optimizer starts from scratch (its step count was reset): the "
                                "optimizer's state was not saved with the model. A whole-model .keras file keeps it.",
                                code="optimizer-state-lost"))
    if problems:
        return problems
    ctx.verified += [f"saved one .keras file inside the folder it was given ({len(files)} file"
                     f"{'s' * (len(files) != 1)} written)",
                     "returned a new model, loaded from that file (not the one it was given)",
                     "the same model name and layer names",
                     "the same predictions as the trained original, on 16 samples",
                     "still compiled, with the optimizer's state kept: training can continue where it stopped"]
    return []


# -- ex2.4: encoder and decoder models nested in an autoencoder --------------------------------------------------
def _judge_nested(answer: Any, ctx: Context) -> list[Problem]:
    encoder, decoder, autoencoder = _unpack(answer, ("encoder_model", "decoder_model", "nested_autoencoder"),
                                            "ex2.4")
    encoder, enc_graph = need_model(encoder, ctx, what="the encoder_model the task gives (keep its cell as is)")
    decoder, dec_graph = need_model(decoder, ctx, what="the decoder_model the task gives (keep its cell as is)")
    model, graph = need_model(autoencoder, ctx, what="nested_autoencoder: a functional keras.Model")
    in_shape = enc_graph.node(enc_graph.inputs[0]).output_shapes[0]
    code_shape = output_map(enc_graph)[next(iter(output_map(enc_graph)))][1]
    out_shape = output_map(dec_graph)[next(iter(output_map(dec_graph)))][1]
    problems = expect_inputs(graph, [in_shape])
    if problems:
        return problems
    calls = {n.key: n for n in graph.nodes if n.kind == "model"}
    called = {key: model.get_layer(n.name) for key, n in calls.items()}
    found: dict[str, str] = {}
    for given, label in ((encoder, "encoder_model"), (decoder, "decoder_model")):
        keys = [k for k, obj in called.items() if obj is given]
        if keys:
            found[label] = keys[0]
            continue
        given_layers = {id(la) for la in given.layers}
        inlined = [n.key for n in graph.nodes if n.kind == "layer" and n.layer.params > 0
                   and id(model.get_layer(n.name)) in given_layers]
        if inlined:
            problems.append(Problem(
                f"The layers of {label} ({', '.join(map(repr, inlined))}) sit directly in your model, one by one, "
                f"instead of {label} as one call: your model starts from {label}'s own input tensor, so Keras sees "
                f"its layers, not the model. Make a new keras.Input and call the model {label} on it, like a "
                f"layer.", tuple(inlined), code="layers-not-nested"))
            continue
        want = (in_shape, code_shape) if given is encoder else (code_shape, out_shape)
        lookalike = [k for k, n in calls.items() if called[k] is not encoder and called[k] is not decoder
                     and n.input_shapes[:1] == (want[0],) and n.output_shapes[:1] == (want[1],)]
        if lookalike:
            same_name = " (it has the same name, but a name is only a label)" if calls[lookalike[0]].name == \
                given.name else ""
            problems.append(Problem(
                f"Your model calls model {lookalike[0]!r}, which is not the {label} the task gives but a separate "
                f"model with its own weights{same_name}: training your autoencoder would not train {label}. Call "
                f"{label} itself.", (lookalike[0],), code="lookalike-model"))
        else:
            problems.append(Problem(f"Your model never calls {label}: the task chains the two given models, "
                                    f"encoder_model then decoder_model, each called like a layer.",
                                    code="model-not-called"))
    if problems:
        return problems
    enc_key, dec_key = found["encoder_model"], found["decoder_model"]
    if graph.predecessors(dec_key) != [enc_key]:
        before = ", ".join(repr(k) for k in graph.predecessors(dec_key))
        return [Problem(f"decoder_model ({dec_key!r}) is called on {before}, not on the output of encoder_model "
                        f"({enc_key!r}): the decoder rebuilds the image from the encoder's code "
                        f"{format_shape(code_shape)}.", (dec_key,), code="decoder-input")]
    outputs = output_map(graph)
    if len(outputs) != 1 or next(iter(outputs.values()))[0] != dec_key:
        listing = ", ".join(f"{n} {format_shape(s)}" for n, (_, s) in outputs.items())
        return [Problem(f"Your model's outputs are {listing}; the task's one output is what decoder_model "
                        f"({dec_key!r}) gives, {format_shape(out_shape)}.", tuple(k for k, _ in outputs.values()),
                        code="output-wrong")]
    extra = [n.key for n in graph.nodes if n.kind not in ("input", "model")]
    if extra:
        return [Problem(f"Your model has layers of its own besides the two models ({', '.join(map(repr, extra))}); "
                        f"the task's autoencoder is only the two given models, one after the other.", tuple(extra),
                        code="extra-layers")]
    x = _sample(graph, 4, seed=24)
    chained = run_forward(decoder, run_forward(encoder, x, what="encoder_model"), what="decoder_model")
    if not np.allclose(run_forward(model, x, what="Your autoencoder"), chained, atol=1e-5):
        raise Stop("On 4 images your autoencoder computes something else than the two models one after the other.",
                   code="computes-otherwise")
    params = total_params(graph)
    if params != encoder.count_params() + decoder.count_params():
        raise Stop(f"Your autoencoder has {params:,} parameters, not the {encoder.count_params():,} + "
                   f"{decoder.count_params():,} of the two models.", code="param-count")
    ctx.verified += [f"one new input {format_shape(in_shape)}",
                     f"calls encoder_model as one layer: {format_shape(in_shape)} → {format_shape(code_shape)}",
                     f"then decoder_model as one layer on its output: {format_shape(code_shape)} → "
                     f"{format_shape(out_shape)}",
                     f"{params:,} parameters = encoder_model's + decoder_model's: the same weights, not copies",
                     "on 4 images it gives exactly what the two models give one after the other"]
    return []


# -- ex2.5: migrate the documents' saving code to Keras 3 ------------------------------------------------------
MIGRATE_PARAMS = 32 * 10 + 10 + 10 * 10 + 10  # document 003's model: 32 -> Dense 10 relu -> Dense 10


def _migration_error(exc: BaseException, folder: str) -> str:
    text = str(exc)
    if "Unrecognized keyword arguments passed to Model" in text and ("'input'" in text or "'output'" in text):
        return (explain_raised(exc, "Your function", with_fix=False)
                + " Document 001 is Keras 1 code: rename the two keywords, and keep the model as it is.")
    if isinstance(exc, AttributeError) and "yaml" in text.lower():
        return (f"Your function raised AttributeError: {text.splitlines()[0][:120]}. YAML is gone from Keras: "
                f"TensorFlow 2.6 removed to_yaml and model_from_yaml (loading YAML could run arbitrary code), and "
                f"Keras 3 did not bring them back. The architecture as text is JSON now, with a pair of functions "
                f"named after it (lesson 3, 'The architecture only'); like document 003's YAML pair, it keeps the "
                f"layers and not the weights.")
    if isinstance(exc, AttributeError) and "merge" in text:
        return (f"Your function raised AttributeError: {text.splitlines()[0][:120]}. Keras 1's merge(mode=...) is "
                f"gone: each mode is a layer of its own now.")
    saving = _saving_error(exc, folder)
    return saving.replace("Your round_trip(model, folder)", "Your function")


def _architecture(model: Any) -> list[tuple[str, dict[str, Any]]]:
    """Each layer's class and settings, names left out, in order (lesson 1b's comparison)."""
    import keras

    return [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "name"})
            for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _kind(value: Any) -> str:
    if value is None:
        return "None (a function without return gives None)"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _judge_migration(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    what = "the function save_and_restore(folder) that returns (model, fresh_model, restored)"
    if isinstance(answer, tuple | list | keras.layers.Layer):
        raise Stop(f"The check needs {what}; you passed what it returned. Pass the function itself, without "
                   f"calling it (no parentheses): the check calls it with a new, empty folder of its own.",
                   code="wrong-kind:called")
    function = need_callable(answer, what=what)
    with tempfile.TemporaryDirectory(prefix="fapi_lab_ex2_5_") as folder:
        try:
            returned = function(folder)
        except Exception as exc:
            raise Stop(_migration_error(exc, folder), code="raised:migration") from None
        files = _files(folder)
    if not isinstance(returned, tuple | list) or len(returned) != 3:
        raise Stop(f"Your function returned {_kind(returned)}; it should return the three models, in this order: "
                   f"model, fresh_model, restored (as the starter code's last line does).", code="returned-wrong-kind")
    named = dict(zip(("model", "fresh_model", "restored"), returned, strict=True))
    for name, value in named.items():
        if not isinstance(value, keras.Model):
            raise Stop(f"{name} is {_kind(value)}, not a keras.Model: return the three models, in this order: "
                       f"model, fresh_model, restored.", code="returned-wrong-kind")
    fresh, restored = named["fresh_model"], named["restored"]
    model, graph = need_model(named["model"], ctx, what="model: the document's model")
    problems = expect_inputs(graph, [(None, 32)])
    outputs = output_map(graph)
    if problems or len(outputs) != 1 or tuple(next(iter(outputs.values()))[1]) != (None, 10) or \
            total_params(graph) != MIGRATE_PARAMS:
        return [Problem(f"model is not the document's model any more: that one takes 32 numbers, has a Dense "
                        f"layer of 10 units with relu, then one of 10 units without activation "
                        f"({MIGRATE_PARAMS} parameters). Keep the model as the starter code builds it: the task "
                        f"only makes the code run in Keras 3.", code="model-changed")]
    x = np.random.default_rng(25).random((8, 32), dtype="float32")
    trained = model.predict(x, verbose=0)
    if fresh is model:
        problems.append(Problem("fresh_model is model itself. Document 003's fresh_model is rebuilt from the "
                                "architecture alone: a second model with the same layers and new weights.",
                                code="fresh-is-model"))
    elif weight_ids(fresh) & weight_ids(model):
        problems.append(Problem("fresh_model uses model's own layers (the same weights, as a model made from "
                                "model's tensors would): training one would change the other. Document 003 rebuilds "
                                "it from the architecture alone: new layers, new weights.",
                                code="fresh-shares-weights"))
    elif _architecture(fresh) != _architecture(model):
        problems.append(Problem("fresh_model has other layers or settings than model: rebuilt from model's "
                                "architecture, it has exactly the same layers, in the same order.",
                                code="fresh-differs"))
    elif np.allclose(run_forward(fresh, x, what="fresh_model"), trained, atol=1e-6):
        problems.append(Problem("fresh_model computes exactly what the trained model computes: it has the trained "
                                "weights, so it is the whole model again (loaded from the file, or copied). "
                                "Document 003's fresh_model is the architecture only, with new weights: the "
                                "architecture written as text, and a model rebuilt from that text.",
                                code="fresh-has-weights"))
    if restored is model:
        problems.append(Problem("restored is model itself, not a model loaded from a file: that proves nothing "
                                "about what was saved. Return what loading the file gives back.",
                                code="restored-is-model"))
    elif not [f for f in files if f.endswith(".keras")]:
        legacy = [f for f in files if f.endswith(".h5")]
        problems.append(Problem(
            f"Your function wrote {', '.join(repr(f) for f in files[:3]) or 'no file'} in the folder it was "
            f"given, but no .keras file" + (": .h5 is Keras 2's HDF5 format, which Keras 3 calls legacy "
                                            "(lesson 3)" if legacy else "")
            + ". Save the whole model, inside the folder, to one file whose name ends in .keras, and load that.",
                                code="no-keras-file"))
    else:
        after = run_forward(restored, x, what="restored")
        if np.shape(after) != np.shape(trained) or not np.allclose(after, trained, atol=1e-6):
            problems.append(Problem("restored computes something else than the trained model on the same 8 "
                                    "samples: the trained weights did not come back. Load the file the whole model "
                                    "was saved to.", code="weights-lost"))
        elif getattr(restored, "optimizer", None) is None or not getattr(restored, "compiled", False):
            problems.append(Problem("restored is not compiled: the compile settings and the optimizer were lost. "
                                    "Load the whole-model .keras file, which keeps them.", code="compile-lost"))
        elif int(restored.optimizer.iterations.numpy()) != int(model.optimizer.iterations.numpy()):
            problems.append(Problem("restored's optimizer starts again from step 0: its state was not saved with "
                                    "the model. Load the whole-model .keras file, which keeps it.",
                                    code="optimizer-state-lost"))
    if problems:
        return problems
    ctx.verified += ["the old code runs in Keras 3 (documents 001, 003 and 000 mended)",
                     f"model: the document's model, {MIGRATE_PARAMS} parameters, trained",
                     "fresh_model: the same layers and settings, new weights of its own (the architecture only)",
                     "restored: loaded from the .keras file written in the folder given; the same predictions as "
                     "the trained model, still compiled, the optimizer at the same step"]
    return []


# -- ex2.6: design an autoencoder as three models that share their layers --------------------------------------
DESIGN_IMAGE = (None, 28, 28)
DESIGN_CODE_MAX = 16


def _judge_three_models(answer: Any, ctx: Context) -> list[Problem]:
    autoencoder, encoder, decoder = _unpack(answer, ("autoencoder", "encoder", "decoder"), "ex2.6")
    decoder, dec_graph = need_functional(decoder, ctx, what="decoder: a functional keras.Model")
    encoder, enc_graph = need_functional(encoder, ctx, what="encoder: a functional keras.Model")
    autoencoder, graph = need_functional(autoencoder, ctx, what="autoencoder: a functional keras.Model")
    problems: list[Problem] = []
    for label, g in (("autoencoder", graph), ("encoder", enc_graph)):
        _, more = match_inputs(g, {"image": DESIGN_IMAGE}, dtypes={"image": "float"})
        problems += [Problem(f"{label}: {p.message}", p.keys if label == "autoencoder" else (),
                             code=f"{label}-{p.code}") for p in more]
    _, more = match_outputs(graph, {"reconstruction": DESIGN_IMAGE})
    problems += [Problem(f"autoencoder: {p.message}", p.keys, code=f"autoencoder-{p.code}") for p in more]
    _, more = match_outputs(dec_graph, {"reconstruction": DESIGN_IMAGE})
    problems += [Problem(f"decoder: {p.message}", code=f"decoder-{p.code}") for p in more]
    enc_out = output_map(enc_graph)
    if len(enc_out) != 1:
        problems.append(Problem(f"encoder has {len(enc_out)} outputs; an encoder gives one code per image.",
                                code="output-count"))
    if problems:
        return problems
    _, code_shape = next(iter(enc_out.values()))
    code_size = _size(code_shape) if all(d is not None for d in code_shape[1:]) else None
    if code_size is None or code_size > DESIGN_CODE_MAX:
        size = f"{code_size} numbers per image" if code_size else "a size that depends on the input"
        return [Problem(f"encoder's code has shape {format_shape(code_shape)}: {size}; the task squeezes each image "
                        f"into at most {DESIGN_CODE_MAX} numbers. Make the layer that gives the code smaller.",
                        code="code-too-large")]
    dec_in = dec_graph.node(dec_graph.inputs[0]).output_shapes[0] if len(dec_graph.inputs) == 1 else None
    if dec_in is None or tuple(dec_in) != tuple(code_shape):
        listing = ", ".join(format_shape(dec_graph.node(k).output_shapes[0]) for k in dec_graph.inputs)
        return [Problem(f"decoder takes {listing}, but the encoder's code is {format_shape(code_shape)}: the decoder "
                        f"reads exactly what the encoder gives, so its one input has the code's shape.",
                        code="decoder-input")]
    whole = weight_ids(autoencoder)
    for label, part in (("encoder", encoder), ("decoder", decoder)):
        own = weight_ids(part)
        if not own:
            problems.append(Problem(f"{label} has no weights at all, so there is nothing it could learn: give it at "
                                    f"least one layer with weights (a Dense layer or a convolution).",
                                    code="no-weights"))
        elif not own <= whole:
            problems.append(Problem(
                f"{label} has weights of its own that the autoencoder does not use: its layers are new ones, not "
                f"the autoencoder's, so training the autoencoder would not train it (the same names do not make "
                f"the same layers). Build {label} from the very layers the autoencoder uses: call the same layer "
                f"objects, or call the {label} model inside the autoencoder.", code="new-weights"))
    if problems:
        return problems
    if not (weight_ids(encoder) | weight_ids(decoder)) >= whole:
        return [Problem("The autoencoder has weights that are in neither the encoder nor the decoder: the two "
                        "halves together should make up the whole autoencoder.", code="weights-outside")]
    images = np.random.default_rng(26).random((4, 28, 28), dtype="float32")
    chained = run_forward(decoder, run_forward(encoder, images, what="encoder"), what="decoder")
    if not np.allclose(run_forward(autoencoder, images, what="autoencoder"), chained, atol=1e-5):
        return [Problem("On 4 images the autoencoder computes something else than the decoder applied to the "
                        "encoder's code: the autoencoder should be exactly the encoder, then the decoder.",
                        code="computes-otherwise")]
    ctx.verified += ["autoencoder: (None, 28, 28) → (None, 28, 28); any layers in between",
                     f"encoder: (None, 28, 28) → a code of {code_size} numbers per image, {format_shape(code_shape)}",
                     f"decoder: {format_shape(code_shape)} → (None, 28, 28)",
                     "encoder and decoder are made of the autoencoder's own weights, not copies: one set of weights, "
                     "three models",
                     "on 4 images the autoencoder gives exactly decoder(encoder(image))"]
    return []


EXERCISES = [
    Exercise(
        id="ex2.1", title="Take the encoder out of a loaded autoencoder", lesson=LESSON_4,
        judge=_judge_encoder, answer="your encoder model (in encoder)",
        hints=("keras.Model(inputs, outputs) copies no layer: any two tensors of the autoencoder's graph make a "
               "model that uses the autoencoder's own, trained layers.",
               "The loaded model still knows its graph: model.inputs gives its input tensor(s), and "
               "model.get_layer(name).output the tensor a layer made (lesson 4's 'Try this' builds a model that way).",
               "The encoder goes from the autoencoder's input to the output of its narrowest layer, 'code'; "
               "lab.shapes(autoencoder) shows where that is."),
        outline=(("the autoencoder's input (None, 784)", "the autoencoder's own first layer"),
                 ("the autoencoder's own first layer", "its bottleneck 'code' (None, 32) = the encoder's output"))),
    Exercise(
        id="ex2.2", title="Average three models into an ensemble", lesson=LESSON_4,
        judge=_judge_ensemble, answer="your ensemble model (in ensemble)",
        hints=("Make the three members first, with three get_model() calls: three models, three sets of weights.",
               "A model is called like a layer: one keras.Input of 128 features, and each member called on that "
               "same tensor gives its (None, 1) prediction.",
               "layers.average (or layers.Average) merges a list of same-shaped tensors into their mean; that "
               "mean is the ensemble's output."),
        outline=(("one input (None, 128)", "model 1"), ("one input (None, 128)", "model 2"),
                 ("one input (None, 128)", "model 3"), ("model 1", "their average (None, 1)"),
                 ("model 2", "their average (None, 1)"), ("model 3", "their average (None, 1)"))),
    Exercise(
        id="ex2.3", title="Save a model and load it back without losing anything", lesson=LESSON_3,
        judge=_judge_round_trip, answer="a function round_trip(model, folder) that returns the loaded model",
        hints=("Run the check and read the error: Keras 3 decides the format by the end of the file name.",
               "Lesson 3, 'The whole model in one file': one file keeps the architecture, the weights, the "
               "compile settings and the optimizer's state.",
               "Build the path with os.path.join(folder, a name ending in '.keras'), save the model there, and "
               "return what keras.models.load_model gives for the same path.")),
    Exercise(
        id="ex2.4", title="Nest the encoder and the decoder in one autoencoder", lesson=LESSON_4,
        judge=_judge_nested, answer="your nested_autoencoder model",
        hints=("A model takes tensors and returns tensors, so it can be called on a tensor exactly like a layer; "
               "its layers, and their weights, come with it.",
               "Start from a NEW keras.Input of one image (784 numbers): starting from encoder_model's own input "
               "would put the encoder's layers into your model one by one.",
               "Call encoder_model on the new input, decoder_model on the result, and wrap input and output in "
               "keras.Model(..., name=...)."),
        outline=(("a new input (None, 784)", "encoder_model, called as one layer (None, 32)"),
                 ("encoder_model, called as one layer (None, 32)", "decoder_model, called as one layer (None, 784)"))),
    Exercise(
        id="ex2.5", title="Make the documents' saving code run in Keras 3", lesson=LESSON_3,
        judge=_judge_migration,
        answer="the function save_and_restore(folder), not called: the check calls it",
        hints=("Run the check: it runs your function and explains the first line that Keras 3 refuses. Mend that "
               "line, run the check again, and go on to the next.",
               "Lesson 3 has each piece: the keywords of keras.Model are inputs= and outputs=; YAML is gone, the "
               "architecture as text is JSON; a whole model is saved to a name that ends in .keras.",
               "model.to_json() and keras.models.model_from_json(...) replace the YAML pair; save to "
               "os.path.join(folder, 'my_model.keras') and load that same path.")),
    Exercise(
        id="ex2.6", title="Design an autoencoder as three models that share their layers", lesson=LESSON_4,
        judge=_judge_three_models, answer="the three models together: (autoencoder, encoder, decoder)",
        hints=("Draw it first: image → encoder layers → code → decoder layers → image. The encoder is the graph "
               "from the image to the code; the decoder the graph from the code to the image.",
               "Two ways share the layers: build encoder and decoder as models and call them on a new input "
               "(lesson 4, ex2.4), or make each decoder layer once and call it twice: on the code inside the "
               "autoencoder, and on a new keras.Input of the code's shape for the decoder.",
               "28×28 in, 28×28 out: Flatten and Reshape((28, 28)) turn images into vectors and back; a Dense "
               "layer of at most 16 units gives the code."),
        outline=(("image (None, 28, 28)", "encoder: any layers"), ("encoder: any layers", "code (≤ 16 numbers)"),
                 ("code (≤ 16 numbers)", "decoder: any layers"), ("decoder: any layers", "image (None, 28, 28)"))),
]
