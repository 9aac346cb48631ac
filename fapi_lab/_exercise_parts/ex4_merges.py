"""The judges of ex4.3 (add and concatenate) and ex4.4 (a 1×1 bottleneck)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Problem,
    Stop,
    expect_inputs,
    expect_outputs,
    expect_params,
    need_model,
    output_map,
    run_forward,
)
from .._i18n import _, ngettext
from .._layergraph import LayerGraph, Node
from .._render_dot import format_shape
from .ex4_common import (
    _adds,
    _batch,
    _built,
    _in_order,
    _is_conv,
    _is_pointwise,
    _kernel,
    _merge_inputs,
    _no_skip_message,
    _relu_follows,
    _residual_pair,
)

__all__ = [
    "_judge_bottleneck",
    "_judge_merges",
]


_MERGE_OUTPUTS = {"stacked": (None, 8, 8, 48), "summed": (None, 8, 8, 32)}


def _merge_kind_problems(graph: LayerGraph) -> list[Problem]:
    have = output_map(graph)
    problems = []
    if "summed" in have:
        key, shape = have["summed"]
        node = graph.node(key)
        if node.class_name == "Concatenate":
            problems.append(Problem(
                _("Output 'summed' is made by a concatenate ({key!r}, {shape}): that stacks the channels side by "
                  "side instead of adding values. An add needs both tensors in the same shape, so b has to be "
                  "brought to a's 32 channels first.").format(key=key, shape=format_shape(shape)), (key,),
                code="summed-concatenate"))
        elif node.class_name == "Add" and shape and shape[-1] != 32:
            problems.append(Problem(
                _("Output 'summed' has {channels} channels, shape {shape}; the task keeps a's 32: bring b up to 32 "
                  "channels with a 1×1 convolution and add a as it is, rather than squeezing a down.").format(
                      channels=shape[-1], shape=format_shape(shape)),
                (key,), code="summed-channels"))
    if "stacked" in have:
        key, shape = have["stacked"]
        node = graph.node(key)
        if node.is_merge and node.class_name != "Concatenate":
            problems.append(Problem(
                _("Output 'stacked' is made by {cls} {key!r} ({shape}), which combines values one by one. 'stacked' "
                  "keeps every channel of a and of b side by side: 32 + 16 = 48 channels.").format(
                      cls=node.class_name, key=key, shape=format_shape(shape)), (key,), code="stacked-by-value"))
    return problems


def _judge_merges(answer: Any, ctx: Context) -> list[Problem]:
    answer = _built(answer, _("b has 16 channels and a has 32: bring b to 32 channels with a 1×1 convolution "
                              "before adding it to a."))
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 8, 8, 32), (None, 8, 8, 16)], names=["a", "b"])
    if problems:
        return problems
    problems = _merge_kind_problems(graph) or expect_outputs(graph, _MERGE_OUTPUTS)
    if problems:
        return problems
    have = output_map(graph)
    stacked = graph.node(have["stacked"][0])
    if stacked.class_name != "Concatenate":
        return [Problem(_("Output 'stacked' is made by {cls} {key!r}; the task makes it by concatenating a and b "
                          "along the channels, which needs no weights.").format(
                              cls=stacked.class_name, key=stacked.key), (stacked.key,),
                        code="stacked-layer")]
    srcs = _merge_inputs(graph, stacked.key)
    if srcs == ["b", "a"]:
        return [Problem(_("Output 'stacked' puts b's channels first. The task asks for a's 32 channels, then b's "
                          "16: a concatenate keeps the order of the tensors it is given."), (stacked.key,),
                        code="stacked-order")]
    if srcs != ["a", "b"]:
        return [Problem(_("Output 'stacked' concatenates {names}; the task concatenates the inputs a and b "
                          "themselves, unchanged.").format(names=", ".join(map(repr, srcs))), (stacked.key, *srcs),
                        code="stacked-inputs")]
    summed = graph.node(have["summed"][0])
    if summed.class_name != "Add":
        return [Problem(_("Output 'summed' is made by {cls} {key!r}; the task makes it with an add.").format(
                            cls=summed.class_name, key=summed.key), (summed.key,), code="summed-layer")]
    parts = _merge_inputs(graph, summed.key)
    others = [s for s in parts if s != "a"]
    if "a" not in parts:
        return [Problem(_("Output 'summed' adds {names}, but not a itself: a already has the 32 channels the sum "
                          "needs, so it goes into the add unchanged; only b is projected.").format(
                              names=", ".join(map(repr, parts))),
                        (summed.key, *parts), code="summed-without-a")]
    if len(others) != 1 or "b" not in graph.ancestors(others[0]) or "a" in graph.ancestors(others[0]):
        return [Problem(_("Output 'summed' adds {names}; the task adds a and b brought to 32 channels, nothing "
                          "else.").format(names=", ".join(map(repr, parts))), (summed.key, *parts),
                        code="summed-inputs")]
    on_path = [graph.node(k) for k in _in_order(graph, graph.ancestors(others[0]) - {"b"})]
    wide = [n for n in on_path if _is_conv(n) and _kernel(n) != (1, 1)]
    if wide:
        size = "×".join(map(str, _kernel(wide[0])))
        return [Problem(_("b is brought to 32 channels by {key!r}, a {size} convolution. The task asks for a 1×1 "
                          "convolution: it only changes the number of channels (each pixel's 16 numbers become 32) "
                          "without mixing neighbouring pixels, with far fewer weights.").format(
                              key=wide[0].key, size=size), (wide[0].key,),
                        code="projection-window")]
    projections = [n for n in on_path if _is_pointwise(n)]
    if not projections:
        return [Problem(_("b reaches 'summed' through {names}, with no 1×1 convolution to bring its 16 channels to "
                          "32.").format(names=", ".join(repr(n.key) for n in on_path)), tuple(n.key for n in on_path),
                        code="projection-missing")]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 8, 8, 32)).astype("float32")
    b = rng.standard_normal((2, 8, 8, 16)).astype("float32")
    out = run_forward(model, {"a": a, "b": b})
    values = out if isinstance(out, dict) else dict(zip(have, out, strict=True))
    if not np.allclose(values["stacked"], np.concatenate([a, b], axis=-1), atol=1e-6):
        return [Problem(_("On random a and b, 'stacked' is not a's values followed by b's: concatenate the inputs "
                          "as they are."), (stacked.key,), code="stacked-values")]
    proj = projections[0]
    kind = (_("a 1×1 convolution") if _is_conv(proj)
            else _("a Dense layer (on a feature map, the same as a 1×1 convolution)"))
    ctx.verified += [_("inputs a (None, 8, 8, 32) and b (None, 8, 8, 16)"),
                     _("'stacked' (None, 8, 8, 48): a's channels, then b's (checked on random data)"),
                     _("'summed' (None, 8, 8, 32): a plus b brought to 32 channels by {kind}, {key!r}").format(
                         kind=kind, key=proj.key)]
    return []


# -- ex4.4 --------------------------------------------------------------------------------------------------------
_BOTTLENECK_PARAMS = 17_600
_PLAIN_PARAMS = 147_584


def _bottleneck_activation_problems(graph: LayerGraph, middle: Node, squeezes: list[Node]) -> list[Problem]:
    """relu after the squeeze and after the 3×3, none on the expansion: the parameter count is the same without
    them, but the block is not the task's (two linear maps in a row are one; a relu before the add can only add
    non-negative values to the input)."""
    if squeezes and not _relu_follows(graph, squeezes[-1]):
        squeeze = squeezes[-1]
        return [Problem(_("Your squeeze convolution {key!r} has no relu after it, so it and the 3×3 {middle!r} make "
                          "one linear map in a row; the task's squeeze uses relu.").format(
                              key=squeeze.key, middle=middle.key),
                        (squeeze.key,), code="squeeze-relu")]
    if not _relu_follows(graph, middle):
        return [Problem(_("Your 3×3 convolution {key!r} has no relu after it, so it and the 1×1 expansion make one "
                          "linear map in a row; the task's 3×3 convolution uses relu.").format(key=middle.key),
                        (middle.key,),
                        code="middle-relu")]
    expansions = [graph.node(k) for k in graph.keys if k != middle.key and middle.key in graph.ancestors(k)
                  and _is_pointwise(graph.node(k))]
    if expansions:
        expand = expansions[0]
        if _relu_follows(graph, expand):
            return [Problem(_("Your expansion {key!r} ends in relu, so the block can only add non-negative values to "
                              "feature_map: it can raise a feature but never lower it. The task's expansion is "
                              "linear (no activation), as in a ResNet bottleneck.").format(key=expand.key),
                            (expand.key,),
                            code="expand-relu")]
        if expand.layer.activation is not None:
            return [Problem(_("Your expansion {key!r} has activation {activation!r}; the task's expansion is linear "
                              "(no activation): it only maps the 32 channels back to 128 before the add.").format(
                                  key=expand.key, activation=expand.layer.activation), (expand.key,),
                            code="expand-activation")]
    return []


def _judge_bottleneck(answer: Any, ctx: Context) -> list[Problem]:
    answer = _built(answer, _("The map added back to feature_map must have its shape (8, 8, 128): the last 1×1 "
                              "convolution expands the 32 channels back to 128, and padding='same' keeps 8×8."))
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 8, 8, 128)], names=["feature_map"])
    if problems:
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(ngettext("Your model has {n} output; the task's block has one, (None, 8, 8, 128).",
                                 "Your model has {n} outputs; the task's block has one, (None, 8, 8, 128).",
                                 len(outputs)).format(n=len(outputs)), code="output-count")]
    (_n, (out_key, got)), = outputs.items()
    if tuple(got) != (None, 8, 8, 128):
        extra = ""
        if len(got) == 4 and got[-1] != 128:
            extra = " " + _("The last 1×1 convolution brings the 32 channels back to 128, so the block can replace "
                            "the plain convolution (and its input can be added back).")
        elif len(got) == 4:
            extra = " " + _("A 3×3 window without padding='same' shrinks the map by a pixel on each border.")
        return [Problem(_("Your block's output has shape {got}; the task needs (None, 8, 8, 128), the shape of its "
                          "input.").format(got=format_shape(got)) + extra, (out_key,), code="output-shape")]
    convs = [n for n in graph.nodes if _is_conv(n)]
    wide = [n for n in convs if _kernel(n) == (3, 3)]
    if len(wide) != 1:
        return [Problem(_("Your block has {n} 3×3 convolutions; the task keeps exactly one (the layer that looks at "
                          "neighbouring pixels) and makes it cheap with 1×1 convolutions around it.").format(
                              n=len(wide)),
                        tuple(n.key for n in wide), code="wide-conv-count")]
    middle = wide[0]
    reads = middle.input_shapes[0][-1] if middle.input_shapes else None
    if reads != 32:
        return [Problem(_("Your 3×3 convolution {key!r} reads {reads} channels. A 3×3 window costs 9 × (channels "
                          "in) × (channels out) weights, so the bottleneck squeezes the 128 channels to 32 with a "
                          "1×1 convolution first, and the 3×3 works on those 32.").format(key=middle.key, reads=reads),
                        (middle.key,),
                        code="middle-input-channels")]
    if middle.layer.config.get("filters") != 32:
        return [Problem(_("Your 3×3 convolution {key!r} gives {filters} channels; in the bottleneck it stays at 32, "
                          "and a 1×1 convolution after it expands back to 128.").format(
                              key=middle.key, filters=middle.layer.config.get("filters")),
                        (middle.key,), code="middle-output-channels")]
    before = [graph.node(k) for k in graph.ancestors(middle.key)]
    if not any(_is_pointwise(n) for n in before):
        return [Problem(_("{key!r} should work on the output of the 1×1 squeeze convolution (128 → 32 "
                          "channels).").format(key=middle.key), (middle.key,), code="middle-not-after-squeeze")]
    adds = _adds(graph)
    in_key = graph.inputs[0]
    if not adds:
        return [Problem(_("Your block has no add: the task adds the input feature_map back to the expanded output "
                          "(a residual connection), so what the 32-channel bottleneck cannot carry still reaches "
                          "the next layer."), (out_key,), code="no-add")]
    pairs = [(add, _residual_pair(graph, add, in_key)) for add in adds]
    if not any(pair is not None and pair[0] == in_key for _add, pair in pairs):
        projected = [(add, pair) for add, pair in pairs if pair is not None]
        if projected:
            add, (shortcut, _main) = projected[0]
            return [Problem(_("Your add {add!r} adds the input back through {shortcut!r}. feature_map already has the "
                              "block's output shape, so it goes into the add as it is (an identity shortcut, no "
                              "weights).").format(add=add.key, shortcut=shortcut), (shortcut,),
                            code="shortcut-not-identity")]
        return [_no_skip_message(graph, adds[-1], in_key)]
    problems = expect_params(graph, _BOTTLENECK_PARAMS, explain=_(
        "The task's block: a 1×1 convolution from 128 to 32 channels (with relu), a 3×3 convolution from 32 to 32 "
        "(relu, padding='same'), a 1×1 convolution from 32 back to 128, then the add; each convolution has a bias. "
        "lab.shapes(model) shows each layer's count."))
    if problems:
        return problems
    problems = _bottleneck_activation_problems(graph, middle, [n for n in before if _is_pointwise(n)])
    if problems:
        return problems
    out = run_forward(model, _batch((8, 8, 128)))
    if np.shape(out) != (2, 8, 8, 128):
        raise Stop(_("On a batch of 2 feature maps your model returned {got}, not (2, 8, 8, 128).").format(
            got=np.shape(out)),
                   code="forward-shape")
    ctx.verified += [_("input feature_map (None, 8, 8, 128) → output (None, 8, 8, 128)"),
                     _("the 3×3 convolution {key!r} works on 32 channels, between a 1×1 squeeze and a 1×1 "
                       "expansion").format(key=middle.key),
                     _("the input is added back (a residual connection around the bottleneck)"),
                     _("{params:,} parameters, against {plain:,} for one plain 3×3 convolution from 128 to 128 "
                       "channels").format(params=_BOTTLENECK_PARAMS, plain=_PLAIN_PARAMS),
                     _("a forward pass on a batch of 2")]
    return []
