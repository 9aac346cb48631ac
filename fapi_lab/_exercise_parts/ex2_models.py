"""Helpers of the ex2 judges, and the judges of ex2.1 (the encoder out of an autoencoder) and ex2.2 (an ensemble)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Problem,
    Stop,
    expect_inputs,
    explain_raised,
    need_model,
    nodes_of,
    output_map,
    run_forward,
    total_params,
)
from .._i18n import N_, _, ngettext
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape

__all__ = [
    "_judge_encoder",
    "_judge_ensemble",
    "_raised",
    "_sample",
    "_size",
    "_unpack",
]


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
_raised = explain_raised


def _unpack(answer: Any, names: tuple[str, ...], exercise_id: str) -> tuple[Any, ...]:
    """An answer that is a tuple of models (the given ones and the student's): each checked for a placeholder."""
    if not isinstance(answer, tuple | list) or len(answer) != len(names):
        together = ", ".join(names)
        raise Stop(_("This check needs {n} models together, in this order: lab.check({id!r}, ({together})). Run "
                     "the check cell as it is given.").format(n=len(names), id=exercise_id, together=together),
                   code="wrong-kind:not-a-tuple")
    for name, value in zip(names, answer, strict=True):
        if value is ...:
            raise Stop(_("Replace the ... in the exercise cell with your model {name}, run that cell, then run this "
                         "check again.").format(name=name), answered=False, code="not-answered")
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
        raise Stop(_("The input has shape {shape}; the check needs a fixed shape for one sample.").format(
            shape=format_shape(shape)), code="input-shape")
    return np.random.default_rng(seed).random((count, *shape[1:]), dtype="float32")


# -- ex2.1: the encoder out of the (loaded) autoencoder ---------------------------------------------------------
def _bottleneck(graph: LayerGraph) -> tuple[int, Node]:
    """(position, node) of the narrowest layer call of an autoencoder: where the encoder half ends."""
    candidates = [(i, n) for i, n in enumerate(graph.nodes)
                  if n.kind != "input" and n.output_shapes and n.key not in graph.output_keys]
    if not candidates:
        raise Stop(_("The autoencoder has no layer between its input and its output, so it has no bottleneck. Run "
                     "the cell that loads it again, unchanged."), code="model-changed")
    return min(candidates, key=lambda item: (_size(item[1].output_shapes[0]), item[0]))


def _judge_encoder(answer: Any, ctx: Context) -> list[Problem]:
    from .. import get_activations

    autoencoder, encoder = _unpack(answer, ("autoencoder", "encoder"), "ex2.1")
    autoencoder, whole = need_model(autoencoder, ctx, what=N_("the autoencoder the task loads (keep its cell as is)"))
    encoder, graph = need_model(encoder, ctx, what=N_("the encoder: a functional keras.Model"))
    position, bottleneck = _bottleneck(whole)
    code_shape = bottleneck.output_shapes[0]
    if encoder is autoencoder:
        end = whole.node(whole.output_keys[0]).output_shapes[0]
        raise Stop(_("encoder is the autoencoder itself (it ends at {end}, the reconstruction). The task asks for a "
                     "second model: the same input, but ending at the bottleneck {key!r} {shape}.").format(
                         end=format_shape(end), key=bottleneck.key, shape=format_shape(code_shape)),
                   code="encoder-is-autoencoder")
    known = {n.layer.uid: n for n in whole.nodes}
    copies = [n for n in _weighted_nodes(graph) if n.layer.uid not in known]
    if copies:
        listing = ", ".join(repr(n.key) for n in copies)
        same_names = [n.key for n in copies if n.name in {m.name for m in whole.nodes}]
        names_note = (" " + _("They have the autoencoder's layer names, but a name is only a label: a new layer "
                              "object is a new set of weights.") if same_names else "")
        return [Problem(
            ngettext("Layer {listing} of your encoder is a new layer with its own weights, not the autoencoder's "
                     "trained layer: even with the same numbers copied in, training one model would no longer "
                     "change the other.",
                     "Layers {listing} of your encoder are new layers with their own weights, not the autoencoder's "
                     "trained layers: even with the same numbers copied in, training one model would no longer "
                     "change the other.", len(copies)).format(listing=listing)
            + names_note + " "
            + _("keras.Model(inputs, outputs) copies nothing: build the encoder from tensors of the autoencoder's own "
                "graph (its input, and the output of one of its layers), so the encoder reuses the layers that "
                "training changed."), tuple(n.key for n in copies), code="encoder-new-layers")]
    problems = expect_inputs(graph, [whole.node(whole.inputs[0]).output_shapes[0]])
    outputs = output_map(graph)
    if len(outputs) != 1:
        listing = ", ".join(f"{n} {format_shape(s)}" for n, (_k, s) in outputs.items())
        problems.append(Problem(_("Your encoder has {n} outputs ({listing}); an encoder has one: the code at the "
                                  "bottleneck {key!r} {shape}.").format(n=len(outputs), listing=listing,
                                                                        key=bottleneck.key,
                                                                        shape=format_shape(code_shape)),
                                tuple(k for k, _k in outputs.values()), code="output-count"))
    if problems:
        return problems
    (_name, (out_key, out_shape)), = outputs.items()
    out_uid = graph.node(out_key).layer.uid
    if out_uid != bottleneck.layer.uid:
        where = next((i for i, n in enumerate(whole.nodes) if n.layer.uid == out_uid), position)
        if where < position:
            said = _("Your encoder ends at {key!r} {shape}: it stops before the bottleneck, inside the encoder half.")
        else:
            said = _("Your encoder ends at {key!r} {shape}: it goes past the bottleneck into the decoder half.")
        return [Problem(said.format(key=out_key, shape=format_shape(out_shape)) + " "
                        + _("The encoder ends where the autoencoder is narrowest, at its bottleneck {key!r} {shape}: "
                            "the code that the decoder half rebuilds the image from.").format(
                                key=bottleneck.key, shape=format_shape(code_shape)),
                        (out_key,), code="encoder-wrong-end")]
    x = _sample(whole, 8, seed=21)
    saved = autoencoder.get_weights()
    try:
        reference = np.asarray(get_activations(autoencoder, x, layers=[bottleneck.key])[bottleneck.key])
        same = np.allclose(run_forward(encoder, x, what=N_("Your encoder")), reference, atol=1e-5)
        autoencoder.set_weights([w + 0.05 for w in saved])
        moved = np.asarray(get_activations(autoencoder, x, layers=[bottleneck.key])[bottleneck.key])
        follows = np.allclose(run_forward(encoder, x, what=N_("Your encoder")), moved, atol=1e-5)
    finally:
        autoencoder.set_weights(saved)
    if not same or not follows:
        return [Problem(_("On 8 images your encoder's output differs from the autoencoder's {key!r} output: check "
                          "that the encoder starts at the autoencoder's input and takes the path through the "
                          "autoencoder's layers.").format(key=bottleneck.key), (out_key,), code="computes-otherwise")]
    layer_names = ", ".join(repr(n.key) for n in _weighted_nodes(graph))
    in_shape = graph.node(graph.inputs[0]).output_shapes[0]
    ctx.verified += [_("input {shape}, the autoencoder's own input shape").format(shape=format_shape(in_shape)),
                     _("it ends at the bottleneck {key!r} {shape}").format(key=bottleneck.key,
                                                                           shape=format_shape(code_shape)),
                     _("its layers ({names}) are the autoencoder's own layers, not copies").format(names=layer_names),
                     _("on 8 images it computes exactly the autoencoder's {key!r} output").format(key=bottleneck.key),
                     _("changing the autoencoder's weights changes the encoder's output the same way: one set of "
                       "weights, two models")]
    return []


# -- ex2.2: an ensemble that averages three models ---------------------------------------------------------------
def _judge_ensemble(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    model, graph = need_model(answer, ctx, what=N_("the ensemble: a functional keras.Model"))
    if len(graph.inputs) != 1:
        listing = ", ".join(repr(k) for k in graph.inputs)
        return [Problem(_("Your ensemble has {n} inputs ({listing}): each member would look at a different sample, "
                          "so their predictions are not about the same thing and their average means nothing. An "
                          "ensemble feeds ONE sample to every member: make one keras.Input and call each of the "
                          "three models on that same tensor.").format(n=len(graph.inputs), listing=listing),
                        tuple(graph.inputs), code="input-count")]
    problems = expect_inputs(graph, [(None, 128)])
    if problems:
        return problems
    calls = [n for n in graph.nodes if n.kind == "model"]
    members: dict[int, list[Node]] = {}
    for n in calls:
        members.setdefault(n.layer.uid, []).append(n)
    if not calls:
        dense = nodes_of(graph, "Dense", deep=False)
        extra = (" " + ngettext("Your model calls {n} Dense layer directly instead.",
                                "Your model calls {n} Dense layers directly instead.", len(dense)).format(n=len(dense))
                 if dense else "")
        return [Problem(_("Your ensemble calls no model: the task averages three whole models, each made by "
                          "get_model(), each called on the input like a layer.") + extra,
                        tuple(n.key for n in dense), code="no-member-models")]
    if len(members) == 1 and len(calls) > 1:
        name = calls[0].key
        return [Problem(_("Your ensemble calls the same model {name!r} {n} times: one set of weights, so the {n} "
                          "predictions are identical and their average is just that model's prediction. Make three "
                          "separate models (three get_model() calls), each with its own weights, and call each one "
                          "once.").format(name=name, n=len(calls)), tuple(n.key for n in calls),
                        code="same-member-model")]
    if len(members) != 3:
        listing = ", ".join(repr(v[0].key) for v in members.values())
        return [Problem(ngettext("Your ensemble calls {n} model ({listing}); the task averages three.",
                                 "Your ensemble calls {n} models ({listing}); the task averages three.",
                                 len(members)).format(n=len(members), listing=listing),
                        tuple(n.key for n in calls), code="member-count")]
    outputs = output_map(graph)
    if len(outputs) != 1:
        listing = ", ".join(f"{n} {format_shape(s)}" for n, (_k, s) in outputs.items())
        return [Problem(_("Your ensemble has {n} outputs ({listing}): the three predictions side by side. An "
                          "ensemble gives one prediction per sample: merge the three into their average and make "
                          "that the only output.").format(n=len(outputs), listing=listing),
                        tuple(k for k, _k in outputs.values()), code="output-count")]
    (out_name, (out_key, out_shape)), = outputs.items()
    merge = graph.node(out_key)
    if merge.class_name == "Concatenate":
        return [Problem(_("Your output {name!r} {shape} is a Concatenate: it puts the three predictions side by "
                          "side, 3 numbers per sample, instead of combining them into one. Merge them with an "
                          "average, which keeps the members' shape (None, 1).").format(
                              name=out_name, shape=format_shape(out_shape)), (out_key,), code="merge-concatenate")]
    if merge.class_name == "Add":
        return [Problem(_("Your output {name!r} is an Add: the sum of three predictions is about three times too "
                          "large. An ensemble averages them: use the merge that divides by the number of "
                          "members.").format(name=out_name), (out_key,), code="merge-add")]
    if merge.kind == "model":
        return [Problem(_("Your output is model {key!r} itself: the three predictions are never merged. Merge the "
                          "three members' outputs with an average and make that the output.").format(key=out_key),
                        (out_key,), code="not-merged")]
    if tuple(out_shape) != (None, 1):
        return [Problem(_("Your output {name!r} has shape {shape}; the average of three (None, 1) predictions is "
                          "(None, 1).").format(name=out_name, shape=format_shape(out_shape)), (out_key,),
                        code="output-shape")]
    feeding = set(graph.predecessors(out_key))
    unmerged = [v[0].key for v in members.values() if v[0].key not in feeding]
    if unmerged:
        return [Problem(ngettext("Model {names} is called but not merged into the output: the average must take "
                                 "all three members' predictions.",
                                 "Models {names} are called but not merged into the output: the average must take "
                                 "all three members' predictions.", len(unmerged)).format(
                                     names=", ".join(map(repr, unmerged))), tuple(unmerged),
                        code="member-not-merged")]
    objects = [model.get_layer(v[0].name) for v in members.values()]
    if not all(isinstance(m, keras.Model) for m in objects):
        raise Stop(_("The check could not find your three member models by their names: give each a different "
                     "name."), code="member-names")
    x = _sample(graph, 4, seed=22)
    mean = np.mean([run_forward(m, x, what=_("Member {name!r}").format(name=m.name)) for m in objects], axis=0)
    if not np.allclose(run_forward(model, x, what=N_("Your ensemble")), mean, atol=1e-5):
        return [Problem(_("On 4 samples your output {name!r} is not the mean of the three members' predictions: the "
                          "merge must average them, with nothing after it.").format(name=out_name), (out_key,),
                        code="not-an-average")]
    params = total_params(graph)
    ctx.verified += [_("one input (None, 128), shared by all members"),
                     _("three separate models ({names}), each called once").format(
                         names=", ".join(repr(m.name) for m in objects)),
                     _("one output {name!r} (None, 1), made by {kind}").format(name=out_name, kind=merge.class_name),
                     _("on 4 samples the ensemble's prediction is the mean of the members' predictions"),
                     _("{params:,} parameters: three members with their own weights").format(params=params)]
    return []
