"""The judges of ex4.5 (design a block) and ex4.6 (migrate Keras 1's cosine merge)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Problem,
    Stop,
    expect_depends,
    expect_inputs,
    expect_shared,
    match_inputs,
    match_outputs,
    need_functional,
    output_map,
    run_forward,
)
from .._i18n import _, ngettext
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape
from .ex4_common import _adds, _built, _in_order, _is_pointwise, _merge_inputs

__all__ = [
    "_judge_cosine_migration",
    "_judge_design_blocks",
]


# -- ex4.5 --------------------------------------------------------------------------------------------------------
_DESIGN_PHOTO: Shape = (None, 32, 32, 3)
_DESIGN_SCORES: Shape = (None, 10)


def _weighted(graph: LayerGraph, keys: set[str]) -> list[Node]:
    return [graph.node(k) for k in _in_order(graph, keys) if graph.node(k).layer.params > 0]


def _residual_adds(graph: LayerGraph) -> tuple[list[tuple[Node, str, str]], list[Node]]:
    """The adds that are residual connections, as (add, shortcut, main), and the adds that are not. An add is
    residual when one input skips layers with weights that the other goes through: it is the tensor the other
    was computed from (an identity shortcut), or it reaches the add through one pointwise layer (1×1 convolution
    or Dense, a projection) beside a main path with more."""
    found, others = [], []
    for add in _adds(graph):
        srcs = list(dict.fromkeys(_merge_inputs(graph, add.key)))
        pair = None
        for shortcut in srcs:
            for main in srcs:
                if shortcut == main:
                    continue
                own_s = _weighted(graph, graph.ancestors(shortcut) - graph.ancestors(main))
                own_m = _weighted(graph, graph.ancestors(main) - graph.ancestors(shortcut))
                identity = shortcut in graph.ancestors(main) and own_m
                projection = (len(own_s) == 1 and _is_pointwise(own_s[0]) and own_m
                              and (len(own_m) > 1 or not _is_pointwise(own_m[0])))
                if identity or projection:
                    pair = pair or (shortcut, main)
        if pair:
            found.append((add, *pair))
        else:
            others.append(add)
    return found, others


def _branch_concats(graph: LayerGraph) -> tuple[list[tuple[Node, list[str]]], list[Node]]:
    """The concatenates that join parallel branches (at least two inputs of which neither is computed from the
    other), with those inputs; and the concatenates that do not."""
    found, others = [], []
    for node in graph.nodes:
        if node.class_name != "Concatenate":
            continue
        srcs = list(dict.fromkeys(_merge_inputs(graph, node.key)))
        parallel = [a for a in srcs if any(b != a and a not in graph.ancestors(b) and b not in graph.ancestors(a)
                                           for b in srcs)]
        if len(parallel) >= 2:
            found.append((node, parallel))
        else:
            others.append(node)
    return found, others


def _judge_design_blocks(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(_built(answer, _("An add needs both tensors in the same shape: bring the "
                                                    "shortcut to the main path's shape with a 1×1 convolution.")),
                                   ctx, why=_("The design task practises the functional API's graphs."))
    found, problems = match_inputs(graph, {"photo": _DESIGN_PHOTO}, dtypes={"photo": "float"})
    outputs, more = match_outputs(graph, {"scores": _DESIGN_SCORES})
    problems += more
    if problems:
        return problems
    photo, scores = found["photo"], outputs["scores"]
    problems = expect_depends(graph, scores, [photo])
    if problems:
        return problems
    residuals, plain_adds = _residual_adds(graph)
    if not residuals:
        if plain_adds:
            add = plain_adds[0]
            srcs = _merge_inputs(graph, add.key)
            return [Problem(_("Your add {add!r} adds {names}, which both go through layers of their own: nothing "
                              "skips them, so it is not a residual connection. A residual connection adds a tensor "
                              "to what layers computed from it (x + f(x)), or, when the shapes differ, x through a "
                              "1×1 convolution of its own.").format(add=add.key,
                                                                    names=_(" and ").join(map(repr, srcs))),
                            (add.key, *dict.fromkeys(srcs)), code="no-skip")]
        return [Problem(_("Your model has no residual connection: no add carries a tensor around the layers that "
                          "work on it. The task asks for at least one (x + f(x), lesson 6), so that the signal and "
                          "its gradient have a short way through (lesson 6b)."), tuple(k for k, _i in graph.outputs),
                        code="no-residual")]
    branches, plain_concats = _branch_concats(graph)
    if not branches:
        if plain_concats:
            cat = plain_concats[0]
            srcs = _merge_inputs(graph, cat.key)
            return [Problem(_("Your concatenate {cat!r} joins {names}, but they are not parallel branches: each is "
                              "computed from the one before (or is that tensor itself). The task's block splits one "
                              "tensor into at least two branches, each with a layer of its own (different windows, "
                              "say), and concatenates their ends, as an Inception module does.").format(
                                  cat=cat.key, names=", ".join(map(repr, srcs))),
                            (cat.key, *dict.fromkeys(srcs)), code="not-parallel")]
        return [Problem(_("Your model has no block of parallel branches: no concatenate joins branches that start "
                          "from the same tensor. The task asks for one, as in an Inception module (lesson 6): at "
                          "least two branches side by side, each with a layer of its own, concatenated along the "
                          "channels."),
                        tuple(k for k, _i in graph.outputs), code="no-branches")]
    photos = np.random.default_rng(45).random((3, 32, 32, 3), dtype="float32")
    out = np.asarray(run_forward(model, photos))
    if out.shape != (3, _DESIGN_SCORES[-1]):
        raise Stop(_("On 3 photos your model returned shape {got}, not (3, {n}).").format(got=out.shape,
                                                                                         n=_DESIGN_SCORES[-1]),
                   code="forward-shape")
    add, shortcut, main = residuals[0]
    cat, parallel = branches[0]
    kinds = sorted({n.class_name for n in graph.nodes if n.kind != "input"})
    ctx.verified += [_("input {photo!r} {photo_shape}; output {scores!r} {scores_shape}, computed from the "
                       "photo").format(photo=photo, photo_shape=format_shape(_DESIGN_PHOTO), scores=scores,
                                       scores_shape=format_shape(_DESIGN_SCORES)),
                     _("a residual connection: {add!r} adds the main path {main!r} and the shortcut {shortcut!r}, "
                       "which skips the main path's layers").format(add=add.key, main=main, shortcut=shortcut),
                     _("parallel branches: {cat!r} concatenates {names}").format(
                         cat=cat.key, names=", ".join(map(repr, parallel))),
                     _("your layers: {kinds}; any layers are fine here").format(kinds=", ".join(kinds)),
                     _("a forward pass on 3 photos gives (3, 10)")]
    return []


# -- ex4.6 --------------------------------------------------------------------------------------------------------
_COS_FEATURES = 16
_COS_UNITS = 8


def _cosine(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    dot = np.sum(u * v, axis=-1, keepdims=True)
    return dot / (np.linalg.norm(u, axis=-1, keepdims=True) * np.linalg.norm(v, axis=-1, keepdims=True))


def _judge_cosine_migration(answer: Any, ctx: Context) -> list[Problem]:
    """Behaviour: with the student's own weights, the output is the cosine of the two shared projections."""
    model, graph = need_functional(_built(answer, _("The two tensors a merge reads need the same shape.")), ctx,
                                   why=_("The Keras 1 code is functional; so is its Keras 3 version."))
    problems = expect_inputs(graph, [(None, _COS_FEATURES)] * 2, names=["query", "document"])
    if problems:
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(ngettext("Your model has {n} output; the Keras 1 model has one, the similarity of the two "
                                 "texts.",
                                 "Your model has {n} outputs; the Keras 1 model has one, the similarity of the two "
                                 "texts.", len(outputs)).format(n=len(outputs)), code="output-count")]
    if not any(n.class_name == "Dense" for n in graph.nodes):
        return [Problem(_("Your model has no Dense layer on the way to its output: the Keras 1 code projects each "
                          "input with one shared Dense layer ({units} units, tanh) and merges the two projections, "
                          "not the raw inputs.").format(units=_COS_UNITS), tuple(k for k, _i in graph.outputs),
                        code="no-dense")]
    problems = expect_shared(graph, "Dense", 2, what=_("the projection"))
    if problems:
        return problems
    objects = {id(layer): layer for layer in model.layers}
    dense = next(n for n in graph.nodes if n.class_name == "Dense" and n.n_calls >= 2)
    layer = objects.get(dense.layer.uid)
    kernel = np.asarray(layer.kernel.numpy()) if layer is not None and getattr(layer, "kernel", None) is not None \
        else None
    if kernel is None or kernel.shape != (_COS_FEATURES, _COS_UNITS) or dense.layer.activation != "tanh":
        return [Problem(_("The shared Dense layer {key!r} should be the Keras 1 code's projection: {units} units "
                          "with tanh, on the {features} numbers of each input.").format(
                              key=dense.key, units=_COS_UNITS, features=_COS_FEATURES), (dense.key,),
                        code="projection-config")]
    bias = np.asarray(layer.bias.numpy()) if layer.use_bias else 0.0
    rng = np.random.default_rng(46)
    query = rng.standard_normal((5, _COS_FEATURES)).astype("float32")
    document = rng.standard_normal((5, _COS_FEATURES)).astype("float32")
    out = run_forward(model, {"query": query, "document": document})
    (_n, (out_key, _i)), = outputs.items()
    if np.shape(out) != (5, 1):
        return [Problem(_("On 5 pairs your model returns shape {got}; the task's output is one number per pair, "
                          "shape (5, 1), as a Keras 3 merge layer that takes the dot product along the last axis "
                          "gives it (it keeps that axis, with size 1).").format(got=np.shape(out)), (out_key,),
                        code="output-shape")]
    pq, pd = np.tanh(query @ kernel + bias), np.tanh(document @ kernel + bias)
    want = _cosine(pq, pd)
    out = np.asarray(out, "float64")
    if np.allclose(out, want, atol=1e-5):
        ctx.verified += [_("inputs 'query' and 'document' {shape}; one output {out}").format(
                             shape=format_shape((None, _COS_FEATURES)), out=format_shape((None, 1))),
                         _("one Dense projection ({units} units, tanh), {name!r}, called on both inputs").format(
                             units=_COS_UNITS, name=dense.name),
                         _("with your model's own weights, the output is the cosine of the two projections, as "
                           "Keras 1's mode='cos' computed (checked on 5 random pairs)")]
        return []
    if np.allclose(out, np.sum(pq * pd, axis=-1, keepdims=True), atol=1e-4):
        return [Problem(_("Your output is the plain dot product of the two projections, not their cosine: values "
                          "grow with the vectors' lengths. mode='cos' divides the dot product by both lengths; the "
                          "Keras 3 merge layer does that when you ask it to normalize."), (out_key,),
                        code="dot-not-cosine")]
    if np.allclose(out, -want, atol=1e-5):
        return [Problem(_("Your output is minus the cosine of the two projections: keras.losses.cosine_similarity "
                          "is a loss, made to be minimised, so it returns the negative. mode='cos' computed the "
                          "cosine itself; use a merge layer for it."), (out_key,), code="negative-cosine")]
    if np.allclose(out, _cosine(query.astype("float64"), document.astype("float64")), atol=1e-5):
        return [Problem(_("Your output is the cosine of the two inputs themselves: the Keras 1 code merges the two "
                          "projections (the shared Dense layer's outputs), not the raw inputs."), (out_key,),
                        code="cosine-of-inputs")]
    return [Problem(_("With your model's own weights, the output is not the cosine of the two projections that the "
                      "Keras 1 code computes (checked on 5 random pairs): the shared Dense layer on each input, then "
                      "the cosine of the two results, one number per pair."), (out_key,), code="computes-otherwise")]
