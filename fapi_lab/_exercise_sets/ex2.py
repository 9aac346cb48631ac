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

from typing import Any

import numpy as np

from .._exercise_parts.ex2_models import _judge_encoder, _judge_ensemble, _sample, _size, _unpack
from .._exercise_parts.ex2_saving import _judge_migration, _judge_round_trip
from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_inputs,
    match_inputs,
    match_outputs,
    need_functional,
    need_model,
    output_map,
    run_forward,
    total_params,
    weight_ids,
)
from .._i18n import N_, _
from .._render_dot import format_shape

LESSON_3 = N_("lesson 3")
LESSON_4 = N_("lesson 4")


# -- ex2.4: encoder and decoder models nested in an autoencoder --------------------------------------------------
def _judge_nested(answer: Any, ctx: Context) -> list[Problem]:
    encoder, decoder, autoencoder = _unpack(answer, ("encoder_model", "decoder_model", "nested_autoencoder"),
                                            "ex2.4")
    encoder, enc_graph = need_model(encoder, ctx, what=N_("the encoder_model the task gives (keep its cell as is)"))
    decoder, dec_graph = need_model(decoder, ctx, what=N_("the decoder_model the task gives (keep its cell as is)"))
    model, graph = need_model(autoencoder, ctx, what=N_("nested_autoencoder: a functional keras.Model"))
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
                _("The layers of {model} ({names}) sit directly in your model, one by one, instead of {model} as one "
                  "call: your model starts from {model}'s own input tensor, so Keras sees its layers, not the model. "
                  "Make a new keras.Input and call the model {model} on it, like a layer.").format(
                      model=label, names=", ".join(map(repr, inlined))), tuple(inlined), code="layers-not-nested"))
            continue
        want = (in_shape, code_shape) if given is encoder else (code_shape, out_shape)
        lookalike = [k for k, n in calls.items() if called[k] is not encoder and called[k] is not decoder
                     and n.input_shapes[:1] == (want[0],) and n.output_shapes[:1] == (want[1],)]
        if lookalike:
            if calls[lookalike[0]].name == given.name:
                said = _("Your model calls model {key!r}, which is not the {model} the task gives but a separate "
                         "model with its own weights (it has the same name, but a name is only a label): training "
                         "your autoencoder would not train {model}. Call {model} itself.")
            else:
                said = _("Your model calls model {key!r}, which is not the {model} the task gives but a separate "
                         "model with its own weights: training your autoencoder would not train {model}. Call "
                         "{model} itself.")
            problems.append(Problem(said.format(key=lookalike[0], model=label), (lookalike[0],),
                                    code="lookalike-model"))
        else:
            problems.append(Problem(_("Your model never calls {model}: the task chains the two given models, "
                                      "encoder_model then decoder_model, each called like a layer.").format(
                                          model=label), code="model-not-called"))
    if problems:
        return problems
    enc_key, dec_key = found["encoder_model"], found["decoder_model"]
    if graph.predecessors(dec_key) != [enc_key]:
        before = ", ".join(repr(k) for k in graph.predecessors(dec_key))
        return [Problem(_("decoder_model ({key!r}) is called on {before}, not on the output of encoder_model "
                          "({encoder!r}): the decoder rebuilds the image from the encoder's code {shape}.").format(
                              key=dec_key, before=before, encoder=enc_key, shape=format_shape(code_shape)),
                        (dec_key,), code="decoder-input")]
    outputs = output_map(graph)
    if len(outputs) != 1 or next(iter(outputs.values()))[0] != dec_key:
        listing = ", ".join(f"{n} {format_shape(s)}" for n, (_k, s) in outputs.items())
        return [Problem(_("Your model's outputs are {listing}; the task's one output is what decoder_model ({key!r}) "
                          "gives, {shape}.").format(listing=listing, key=dec_key, shape=format_shape(out_shape)),
                        tuple(k for k, _s in outputs.values()), code="output-wrong")]
    extra = [n.key for n in graph.nodes if n.kind not in ("input", "model")]
    if extra:
        return [Problem(_("Your model has layers of its own besides the two models ({names}); the task's autoencoder "
                          "is only the two given models, one after the other.").format(
                              names=", ".join(map(repr, extra))), tuple(extra), code="extra-layers")]
    x = _sample(graph, 4, seed=24)
    chained = run_forward(decoder, run_forward(encoder, x, what="encoder_model"), what="decoder_model")
    if not np.allclose(run_forward(model, x, what=N_("Your autoencoder")), chained, atol=1e-5):
        raise Stop(_("On 4 images your autoencoder computes something else than the two models one after the "
                     "other."), code="computes-otherwise")
    params = total_params(graph)
    if params != encoder.count_params() + decoder.count_params():
        raise Stop(_("Your autoencoder has {params:,} parameters, not the {encoder:,} + {decoder:,} of the two "
                     "models.").format(params=params, encoder=encoder.count_params(),
                                       decoder=decoder.count_params()), code="param-count")
    ctx.verified += [_("one new input {shape}").format(shape=format_shape(in_shape)),
                     _("calls encoder_model as one layer: {before} → {after}").format(
                         before=format_shape(in_shape), after=format_shape(code_shape)),
                     _("then decoder_model as one layer on its output: {before} → {after}").format(
                         before=format_shape(code_shape), after=format_shape(out_shape)),
                     _("{params:,} parameters = encoder_model's + decoder_model's: the same weights, not "
                       "copies").format(params=params),
                     _("on 4 images it gives exactly what the two models give one after the other")]
    return []


# -- ex2.6: design an autoencoder as three models that share their layers --------------------------------------
DESIGN_IMAGE = (None, 28, 28)
DESIGN_CODE_MAX = 16


def _judge_three_models(answer: Any, ctx: Context) -> list[Problem]:
    autoencoder, encoder, decoder = _unpack(answer, ("autoencoder", "encoder", "decoder"), "ex2.6")
    decoder, dec_graph = need_functional(decoder, ctx, what=N_("decoder: a functional keras.Model"))
    encoder, enc_graph = need_functional(encoder, ctx, what=N_("encoder: a functional keras.Model"))
    autoencoder, graph = need_functional(autoencoder, ctx, what=N_("autoencoder: a functional keras.Model"))
    problems: list[Problem] = []
    for label, g in (("autoencoder", graph), ("encoder", enc_graph)):
        _found, more = match_inputs(g, {"image": DESIGN_IMAGE}, dtypes={"image": "float"})
        problems += [Problem(f"{label}: {p.message}", p.keys if label == "autoencoder" else (),
                             code=f"{label}-{p.code}") for p in more]
    _found, more = match_outputs(graph, {"reconstruction": DESIGN_IMAGE})
    problems += [Problem(f"autoencoder: {p.message}", p.keys, code=f"autoencoder-{p.code}") for p in more]
    _found, more = match_outputs(dec_graph, {"reconstruction": DESIGN_IMAGE})
    problems += [Problem(f"decoder: {p.message}", code=f"decoder-{p.code}") for p in more]
    enc_out = output_map(enc_graph)
    if len(enc_out) != 1:
        problems.append(Problem(_("encoder has {n} outputs; an encoder gives one code per image.").format(
            n=len(enc_out)), code="output-count"))
    if problems:
        return problems
    _key, code_shape = next(iter(enc_out.values()))
    code_size = _size(code_shape) if all(d is not None for d in code_shape[1:]) else None
    if code_size is None or code_size > DESIGN_CODE_MAX:
        size = (_("{n} numbers per image").format(n=code_size) if code_size
                else _("a size that depends on the input"))
        return [Problem(_("encoder's code has shape {shape}: {size}; the task squeezes each image into at most {max} "
                          "numbers. Make the layer that gives the code smaller.").format(
                              shape=format_shape(code_shape), size=size, max=DESIGN_CODE_MAX),
                        code="code-too-large")]
    dec_in = dec_graph.node(dec_graph.inputs[0]).output_shapes[0] if len(dec_graph.inputs) == 1 else None
    if dec_in is None or tuple(dec_in) != tuple(code_shape):
        listing = ", ".join(format_shape(dec_graph.node(k).output_shapes[0]) for k in dec_graph.inputs)
        return [Problem(_("decoder takes {listing}, but the encoder's code is {shape}: the decoder reads exactly what "
                          "the encoder gives, so its one input has the code's shape.").format(
                              listing=listing, shape=format_shape(code_shape)), code="decoder-input")]
    whole = weight_ids(autoencoder)
    for label, part in (("encoder", encoder), ("decoder", decoder)):
        own = weight_ids(part)
        if not own:
            problems.append(Problem(_("{model} has no weights at all, so there is nothing it could learn: give it at "
                                      "least one layer with weights (a Dense layer or a convolution).").format(
                                          model=label), code="no-weights"))
        elif not own <= whole:
            problems.append(Problem(
                _("{model} has weights of its own that the autoencoder does not use: its layers are new ones, not "
                  "the autoencoder's, so training the autoencoder would not train it (the same names do not make "
                  "the same layers). Build {model} from the very layers the autoencoder uses: call the same layer "
                  "objects, or call the {model} model inside the autoencoder.").format(model=label),
                code="new-weights"))
    if problems:
        return problems
    if not (weight_ids(encoder) | weight_ids(decoder)) >= whole:
        return [Problem(_("The autoencoder has weights that are in neither the encoder nor the decoder: the two "
                          "halves together should make up the whole autoencoder."), code="weights-outside")]
    images = np.random.default_rng(26).random((4, 28, 28), dtype="float32")
    chained = run_forward(decoder, run_forward(encoder, images, what="encoder"), what="decoder")
    if not np.allclose(run_forward(autoencoder, images, what="autoencoder"), chained, atol=1e-5):
        return [Problem(_("On 4 images the autoencoder computes something else than the decoder applied to the "
                          "encoder's code: the autoencoder should be exactly the encoder, then the decoder."),
                        code="computes-otherwise")]
    ctx.verified += [_("autoencoder: (None, 28, 28) → (None, 28, 28); any layers in between"),
                     _("encoder: (None, 28, 28) → a code of {n} numbers per image, {shape}").format(
                         n=code_size, shape=format_shape(code_shape)),
                     _("decoder: {shape} → (None, 28, 28)").format(shape=format_shape(code_shape)),
                     _("encoder and decoder are made of the autoencoder's own weights, not copies: one set of "
                       "weights, three models"),
                     _("on 4 images the autoencoder gives exactly decoder(encoder(image))")]
    return []


EXERCISES = [
    Exercise(
        id="ex2.1", title=N_("Take the encoder out of a loaded autoencoder"), lesson=LESSON_4,
        judge=_judge_encoder, answer=N_("your encoder model (in encoder)"),
        hints=(N_("keras.Model(inputs, outputs) copies no layer: any two tensors of the autoencoder's graph make a "
               "model that uses the autoencoder's own, trained layers."),
               N_("The loaded model still knows its graph: model.inputs gives its input tensor(s), and "
               "model.get_layer(name).output the tensor a layer made (lesson 4's 'Try this' builds a model that way)."),
               N_("The encoder goes from the autoencoder's input to the output of its narrowest layer, 'code'; "
               "lab.shapes(autoencoder) shows where that is.")),
        outline=((N_("the autoencoder's input (None, 784)"), N_("the autoencoder's own first layer")),
                 (N_("the autoencoder's own first layer"),
                  N_("its bottleneck 'code' (None, 32) = the encoder's output")))),
    Exercise(
        id="ex2.2", title=N_("Average three models into an ensemble"), lesson=LESSON_4,
        judge=_judge_ensemble, answer=N_("your ensemble model (in ensemble)"),
        hints=(N_("Make the three members first, with three get_model() calls: three models, three sets of weights."),
               N_("A model is called like a layer: one keras.Input of 128 features, and each member called on that "
               "same tensor gives its (None, 1) prediction."),
               N_("layers.average (or layers.Average) merges a list of same-shaped tensors into their mean; that "
               "mean is the ensemble's output.")),
        outline=((N_("one input (None, 128)"), N_("model 1")), (N_("one input (None, 128)"), N_("model 2")),
                 (N_("one input (None, 128)"), N_("model 3")), (N_("model 1"), N_("their average (None, 1)")),
                 (N_("model 2"), N_("their average (None, 1)")), (N_("model 3"), N_("their average (None, 1)")))),
    Exercise(
        id="ex2.3", title=N_("Save a model and load it back without losing anything"), lesson=LESSON_3,
        judge=_judge_round_trip, answer=N_("a function round_trip(model, folder) that returns the loaded model"),
        hints=(N_("Run the check and read the error: Keras 3 decides the format by the end of the file name."),
               N_("Lesson 3, 'The whole model in one file': one file keeps the architecture, the weights, the "
               "compile settings and the optimizer's state."),
               N_("Build the path with os.path.join(folder, a name ending in '.keras'), save the model there, and "
               "return what keras.models.load_model gives for the same path."))),
    Exercise(
        id="ex2.4", title=N_("Nest the encoder and the decoder in one autoencoder"), lesson=LESSON_4,
        judge=_judge_nested, answer=N_("your nested_autoencoder model"),
        hints=(N_("A model takes tensors and returns tensors, so it can be called on a tensor exactly like a layer; "
               "its layers, and their weights, come with it."),
               N_("Start from a NEW keras.Input of one image (784 numbers): starting from encoder_model's own input "
               "would put the encoder's layers into your model one by one."),
               N_("Call encoder_model on the new input, decoder_model on the result, and wrap input and output in "
               "keras.Model(..., name=...).")),
        outline=((N_("a new input (None, 784)"), N_("encoder_model, called as one layer (None, 32)")),
                 (N_("encoder_model, called as one layer (None, 32)"),
                  N_("decoder_model, called as one layer (None, 784)")))),
    Exercise(
        id="ex2.5", title=N_("Make the documents' saving code run in Keras 3"), lesson=LESSON_3,
        judge=_judge_migration,
        answer=N_("the function save_and_restore(folder), not called: the check calls it"),
        hints=(N_("Run the check: it runs your function and explains the first line that Keras 3 refuses. Mend that "
               "line, run the check again, and go on to the next."),
               N_("Lesson 3 has each piece: the keywords of keras.Model are inputs= and outputs=; YAML is gone, the "
               "architecture as text is JSON; a whole model is saved to a name that ends in .keras."),
               N_("model.to_json() and keras.models.model_from_json(...) replace the YAML pair; save to "
               "os.path.join(folder, 'my_model.keras') and load that same path."))),
    Exercise(
        id="ex2.6", title=N_("Design an autoencoder as three models that share their layers"), lesson=LESSON_4,
        judge=_judge_three_models, answer=N_("the three models together: (autoencoder, encoder, decoder)"),
        hints=(N_("Draw it first: image → encoder layers → code → decoder layers → image. The encoder is the graph "
               "from the image to the code; the decoder the graph from the code to the image."),
               N_("Two ways share the layers: build encoder and decoder as models and call them on a new input "
               "(lesson 4, ex2.4), or make each decoder layer once and call it twice: on the code inside the "
               "autoencoder, and on a new keras.Input of the code's shape for the decoder."),
               N_("28×28 in, 28×28 out: Flatten and Reshape((28, 28)) turn images into vectors and back; a Dense "
               "layer of at most 16 units gives the code.")),
        outline=((N_("image (None, 28, 28)"), N_("encoder: any layers")),
                 (N_("encoder: any layers"), N_("code (≤ 16 numbers)")),
                 (N_("code (≤ 16 numbers)"), N_("decoder: any layers")),
                 (N_("decoder: any layers"), N_("image (None, 28, 28)")))),
]
