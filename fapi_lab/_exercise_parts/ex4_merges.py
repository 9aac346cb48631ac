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
                f"Output 'summed' is made by a concatenate ({key!r}, {format_shape(shape)}): that stacks the "
                f"channels side by side instead of adding values. An add needs both tensors in the same shape, "
                f"so b has to be brought to a's 32 channels first.", (key,), code="summed-concatenate"))
        elif node.class_name == "Add" and shape and shape[-1] != 32:
            problems.append(Problem(
                f"Output 'summed' has {shape[-1]} channels, shape {format_shape(shape)}; the task keeps a's 32: bring "
                f"b up to 32 channels with a 1×1 convolution and add a as it is, rather than squeezing a down.",
                (key,), code="summed-channels"))
    if "stacked" in have:
        key, shape = have["stacked"]
        node = graph.node(key)
        if node.is_merge and node.class_name != "Concatenate":
            problems.append(Problem(
                f"Output 'stacked' is made by {node.class_name} {key!r} ({format_shape(shape)}), which combines "
                f"values one by one. 'stacked' keeps every channel of a and of b side by side: "
                f"32 + 16 = 48 channels.", (key,), code="stacked-by-value"))
    return problems


def _judge_merges(answer: Any, ctx: Context) -> list[Problem]:
    answer = _built(answer, "b has 16 channels and a has 32: bring b to 32 channels with a 1×1 convolution "
                            "before adding it to a.")
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
        return [Problem(f"Output 'stacked' is made by {stacked.class_name} {stacked.key!r}; the task makes it by "
                        f"concatenating a and b along the channels, which needs no weights.", (stacked.key,),
                        code="stacked-layer")]
    srcs = _merge_inputs(graph, stacked.key)
    if srcs == ["b", "a"]:
        return [Problem("Output 'stacked' puts b's channels first. The task asks for a's 32 channels, then b's "
                        "16: a concatenate keeps the order of the tensors it is given.", (stacked.key,),
                        code="stacked-order")]
    if srcs != ["a", "b"]:
        return [Problem(f"Output 'stacked' concatenates {', '.join(map(repr, srcs))}; the task concatenates the "
                        f"inputs a and b themselves, unchanged.", (stacked.key, *srcs), code="stacked-inputs")]
    summed = graph.node(have["summed"][0])
    if summed.class_name != "Add":
        return [Problem(f"Output 'summed' is made by {summed.class_name} {summed.key!r}; the task makes it with "
                        f"an add.", (summed.key,), code="summed-layer")]
    parts = _merge_inputs(graph, summed.key)
    others = [s for s in parts if s != "a"]
    if "a" not in parts:
        return [Problem(f"Output 'summed' adds {', '.join(map(repr, parts))}, but not a itself: a already has "
                        f"the 32 channels the sum needs, so it goes into the add unchanged; only b is projected.",
                        (summed.key, *parts), code="summed-without-a")]
    if len(others) != 1 or "b" not in graph.ancestors(others[0]) or "a" in graph.ancestors(others[0]):
        return [Problem(f"Output 'summed' adds {', '.join(map(repr, parts))}; the task adds a and b brought to "
                        f"32 channels, nothing else.", (summed.key, *parts), code="summed-inputs")]
    on_path = [graph.node(k) for k in _in_order(graph, graph.ancestors(others[0]) - {"b"})]
    wide = [n for n in on_path if _is_conv(n) and _kernel(n) != (1, 1)]
    if wide:
        size = "×".join(map(str, _kernel(wide[0])))
        return [Problem(f"b is brought to 32 channels by {wide[0].key!r}, a {size} convolution. The task asks for "
                        f"a 1×1 convolution: it only changes the number of channels (each pixel's 16 numbers "
                        f"become 32) without mixing neighbouring pixels, with far fewer weights.", (wide[0].key,),
                        code="projection-window")]
    projections = [n for n in on_path if _is_pointwise(n)]
    if not projections:
        return [Problem(f"b reaches 'summed' through {', '.join(repr(n.key) for n in on_path)}, with no 1×1 "
                        f"convolution to bring its 16 channels to 32.", tuple(n.key for n in on_path),
                        code="projection-missing")]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 8, 8, 32)).astype("float32")
    b = rng.standard_normal((2, 8, 8, 16)).astype("float32")
    out = run_forward(model, {"a": a, "b": b})
    values = out if isinstance(out, dict) else dict(zip(have, out, strict=True))
    if not np.allclose(values["stacked"], np.concatenate([a, b], axis=-1), atol=1e-6):
        return [Problem("On random a and b, 'stacked' is not a's values followed by b's: concatenate the inputs "
                        "as they are.", (stacked.key,), code="stacked-values")]
    proj = projections[0]
    kind = "a 1×1 convolution" if _is_conv(proj) else "a Dense layer (on a feature map, the same as a 1×1 convolution)"
    ctx.verified += ["inputs a (None, 8, 8, 32) and b (None, 8, 8, 16)",
                     "'stacked' (None, 8, 8, 48): a's channels, then b's (checked on random data)",
                     f"'summed' (None, 8, 8, 32): a plus b brought to 32 channels by {kind}, {proj.key!r}"]
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
        return [Problem(f"Your squeeze convolution {squeeze.key!r} has no relu after it, so it and the 3×3 "
                        f"{middle.key!r} make one linear map in a row; the task's squeeze uses relu.",
                        (squeeze.key,), code="squeeze-relu")]
    if not _relu_follows(graph, middle):
        return [Problem(f"Your 3×3 convolution {middle.key!r} has no relu after it, so it and the 1×1 expansion make "
                        f"one linear map in a row; the task's 3×3 convolution uses relu.", (middle.key,),
                        code="middle-relu")]
    expansions = [graph.node(k) for k in graph.keys if k != middle.key and middle.key in graph.ancestors(k)
                  and _is_pointwise(graph.node(k))]
    if expansions:
        expand = expansions[0]
        if _relu_follows(graph, expand):
            return [Problem(f"Your expansion {expand.key!r} ends in relu, so the block can only add non-negative "
                            f"values to feature_map: it can raise a feature but never lower it. The task's "
                            f"expansion is linear (no activation), as in a ResNet bottleneck.", (expand.key,),
                            code="expand-relu")]
        if expand.layer.activation is not None:
            return [Problem(f"Your expansion {expand.key!r} has activation {expand.layer.activation!r}; the task's "
                            f"expansion is linear (no activation): it only maps the 32 channels back to 128 "
                            f"before the add.", (expand.key,), code="expand-activation")]
    return []


def _judge_bottleneck(answer: Any, ctx: Context) -> list[Problem]:
    answer = _built(answer, "The map added back to feature_map must have its shape (8, 8, 128): the last 1×1 "
                            "convolution expands the 32 channels back to 128, and padding='same' keeps 8×8.")
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 8, 8, 128)], names=["feature_map"])
    if problems:
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(f"Your model has {len(outputs)} outputs; the task's block has one, (None, 8, 8, 128).",
                        code="output-count")]
    (_, (out_key, got)), = outputs.items()
    if tuple(got) != (None, 8, 8, 128):
        extra = ""
        if len(got) == 4 and got[-1] != 128:
            extra = (" The last 1×1 convolution brings the 32 channels back to 128, so the block can replace the "
                     "plain convolution (and its input can be added back).")
        elif len(got) == 4:
            extra = " A 3×3 window without padding='same' shrinks the map by a pixel on each border."
        return [Problem(f"Your block's output has shape {format_shape(got)}; the task needs (None, 8, 8, 128), the "
                        f"shape of its input.{extra}", (out_key,), code="output-shape")]
    convs = [n for n in graph.nodes if _is_conv(n)]
    wide = [n for n in convs if _kernel(n) == (3, 3)]
    if len(wide) != 1:
        return [Problem(f"Your block has {len(wide)} 3×3 convolutions; the task keeps exactly one (the layer that "
                        f"looks at neighbouring pixels) and makes it cheap with 1×1 convolutions around it.",
                        tuple(n.key for n in wide), code="wide-conv-count")]
    middle = wide[0]
    reads = middle.input_shapes[0][-1] if middle.input_shapes else None
    if reads != 32:
        return [Problem(f"Your 3×3 convolution {middle.key!r} reads {reads} channels. A 3×3 window costs "
                        f"9 × (channels in) × (channels out) weights, so the bottleneck squeezes the 128 channels "
                        f"to 32 with a 1×1 convolution first, and the 3×3 works on those 32.", (middle.key,),
                        code="middle-input-channels")]
    if middle.layer.config.get("filters") != 32:
        return [Problem(f"Your 3×3 convolution {middle.key!r} gives {middle.layer.config.get('filters')} channels; "
                        f"in the bottleneck it stays at 32, and a 1×1 convolution after it expands back to 128.",
                        (middle.key,), code="middle-output-channels")]
    before = [graph.node(k) for k in graph.ancestors(middle.key)]
    if not any(_is_pointwise(n) for n in before):
        return [Problem(f"{middle.key!r} should work on the output of the 1×1 squeeze convolution (128 → 32 "
                        f"channels).", (middle.key,), code="middle-not-after-squeeze")]
    adds = _adds(graph)
    in_key = graph.inputs[0]
    if not adds:
        return [Problem("Your block has no add: the task adds the input feature_map back to the expanded output "
                        "(a residual connection), so what the 32-channel bottleneck cannot carry still reaches "
                        "the next layer.", (out_key,), code="no-add")]
    pairs = [(add, _residual_pair(graph, add, in_key)) for add in adds]
    if not any(pair is not None and pair[0] == in_key for _, pair in pairs):
        projected = [(add, pair) for add, pair in pairs if pair is not None]
        if projected:
            add, (shortcut, _) = projected[0]
            return [Problem(f"Your add {add.key!r} adds the input back through {shortcut!r}. feature_map already "
                            f"has the block's output shape, so it goes into the add as it is (an identity "
                            f"shortcut, no weights).", (shortcut,), code="shortcut-not-identity")]
        return [_no_skip_message(graph, adds[-1], in_key)]
    problems = expect_params(graph, _BOTTLENECK_PARAMS, explain=(
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
        raise Stop(f"On a batch of 2 feature maps your model returned {np.shape(out)}, not (2, 8, 8, 128).",
                   code="forward-shape")
    ctx.verified += ["input feature_map (None, 8, 8, 128) → output (None, 8, 8, 128)",
                     f"the 3×3 convolution {middle.key!r} works on 32 channels, between a 1×1 squeeze and a 1×1 "
                     f"expansion",
                     "the input is added back (a residual connection around the bottleneck)",
                     f"{_BOTTLENECK_PARAMS:,} parameters, against {_PLAIN_PARAMS:,} for one plain 3×3 "
                     f"convolution from 128 to 128 channels",
                     "a forward pass on a batch of 2"]
    return []
