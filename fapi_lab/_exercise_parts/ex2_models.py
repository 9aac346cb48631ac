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
