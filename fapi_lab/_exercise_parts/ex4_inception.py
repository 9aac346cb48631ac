"""ex4.2's judge (an Inception block) and the hidden probes of ex4.1 and ex4.2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._exercises import Context, Problem, Stop, expect_params, need_callable, run_forward
from .._i18n import _, ngettext
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape
from .ex4_common import (
    _CONCAT_MISMATCH,
    _MERGE_MISMATCH,
    _as_model,
    _batch,
    _Call,
    _call_block,
    _in_order,
    _is_conv,
    _kernel,
    _listing,
    _need_signature,
    _raised,
    _shapes_in,
    _strides,
)
from .ex4_residual import _residual_case

__all__ = [
    "_judge_inception",
    "_probe_inception",
    "_probe_residual",
]


_INCEPTION_SIGNATURE = "inception_block(x)"
_BRANCH_CHANNELS = (16, 32, 16, 32)  # a, b, c, d
_INCEPTION_CASES: tuple[tuple[Shape, Shape], ...] = (
    ((32, 32, 64), (None, 16, 16, 96)),
    ((15, 15, 8), (None, 8, 8, 96)),
)


def _inception_params(channels: int) -> int:
    """The task's block on ``channels`` input channels: a 1×1→16; b 1×1→32, 3×3→32; c pool, 3×3→16;
    d 1×1→32, 3×3→32, 3×3→32 (each convolution with a bias)."""
    def conv(k: int, c_in: int, c_out: int) -> int:
        return k * k * c_in * c_out + c_out

    return (conv(1, channels, 16) + conv(1, channels, 32) + conv(3, 32, 32) + conv(3, channels, 16)
            + conv(1, channels, 32) + conv(3, 32, 32) + conv(3, 32, 32))


# the task's branches, layer by layer: (class, window, strides, filters); a pooling has no filters
_Step = tuple[str, tuple[int, ...], tuple[int, ...], int | None]
_TASK_BRANCHES: dict[str, tuple[_Step, ...]] = {
    "a": (("Conv2D", (1, 1), (2, 2), 16),),
    "b": (("Conv2D", (1, 1), (1, 1), 32), ("Conv2D", (3, 3), (2, 2), 32)),
    "c": (("AveragePooling2D", (3, 3), (2, 2), None), ("Conv2D", (3, 3), (1, 1), 16)),
    "d": (("Conv2D", (1, 1), (1, 1), 32), ("Conv2D", (3, 3), (1, 1), 32), ("Conv2D", (3, 3), (2, 2), 32)),
}


def _step_of(node: Node) -> _Step:
    if _is_conv(node):
        return ("Conv2D", _kernel(node), _strides(node), node.layer.config.get("filters"))
    size = node.layer.config.get("pool_size", ())
    window = tuple(size) if isinstance(size, list | tuple) else (size, size)
    return (node.class_name, window, _strides(node), None)


def _step_text(step: _Step) -> str:
    kind, window, strides, filters = step
    size = "×".join(map(str, window))
    if kind == "Conv2D":
        what = _("{size} convolution, {filters} filters").format(size=size, filters=filters)
    elif kind.startswith("Average"):
        what = _("{size} average pooling").format(size=size)
    elif kind.startswith("Max"):
        what = _("{size} max pooling").format(size=size)
    else:
        what = _("{size} {kind} pooling").format(size=size, kind=kind)
    return what + (_(", stride {stride}").format(stride=strides[0]) if strides != (1, 1) else "")


def _branch_problems(graph: LayerGraph, in_key: str, srcs: list[str]) -> list[Problem]:
    """Every branch keeps the task's layers, windows, strides and filters (only the padding is the fix). The shape
    and parameter checks cannot see a max pooling for the average one, another pooling window, or a stride moved
    to another layer of its branch; this can."""
    def structural(key: str) -> list[Node]:
        nodes = [graph.node(k) for k in _in_order(graph, graph.ancestors(key) - {in_key})]
        return [n for n in nodes if _is_conv(n) or n.class_name.endswith(("Pooling2D",))]

    left = dict(_TASK_BRANCHES)
    unmatched = []
    for src in srcs:
        steps = tuple(_step_of(n) for n in structural(src))
        name = next((k for k, v in left.items() if v == steps), None)
        if name is None:
            unmatched.append(src)
        else:
            left.pop(name)
    if not unmatched:
        return []
    src = unmatched[0]
    nodes = structural(src)
    steps = [_step_of(n) for n in nodes]

    def closeness(item: tuple[str, tuple[_Step, ...]]) -> tuple[int, int]:
        want = item[1]
        same_end = bool(steps) and want[-1][3] == steps[-1][3]
        return (len(want) == len(steps), same_end + sum(a[0] == b[0] for a, b in zip(want, steps, strict=False)))

    name, want = max(left.items(), key=closeness)
    listing = ", ".join(f"{n.key!r} ({_step_text(st)})" for n, st in zip(nodes, steps, strict=True))
    task = _(", then ").join(_step_text(st) for st in want)
    keep = " " + _("Keep each branch's layers, windows and strides as the starter has them: the fix is in the "
                   "padding only.")
    if len(want) == len(steps):
        for node, got, wanted in zip(nodes, steps, want, strict=True):
            if got[0] != wanted[0]:
                pooling = _("a max pooling") if "Max" in got[0] else _("a {kind} pooling").format(kind=got[0])
                return [Problem(_("The branch that ends in {src!r} has {cls} {key!r} where the task's branch {name} "
                                  "({task}) has {step}: {pooling} keeps other values than the average the task asks "
                                  "for, with the same shapes and parameters.").format(
                                      src=src, cls=node.class_name, key=node.key, name=name, task=task,
                                      step=_step_text(wanted), pooling=pooling) + keep,
                                (node.key,), code="branch-layer-kind")]
            if got[1] != wanted[1]:
                return [Problem(_("In the branch that ends in {src!r}, {key!r} has a {got} window; in the task's "
                                  "branch {name} ({task}) that layer's window is {want}.").format(
                                      src=src, key=node.key, got="×".join(map(str, got[1])), name=name, task=task,
                                      want="×".join(map(str, wanted[1]))) + keep, (node.key,),
                                code="branch-window")]
        moved = [(n, g, w) for n, g, w in zip(nodes, steps, want, strict=True) if g[2] != w[2]]
        if moved:
            node, got, wanted = moved[0]
            return [Problem(_("In the branch that ends in {src!r}, {key!r} has stride {got}, where the task's branch "
                              "{name} ({task}) has stride {want}: the output has the same shape and parameters, but "
                              "the branch computes something else, since the layer that takes the stride decides "
                              "which pixels the layers after it see.").format(
                                  src=src, key=node.key, got=got[2][0], name=name, task=task, want=wanted[2][0])
                            + keep,
                            tuple(n.key for n, _g, _w in moved), code="branch-stride")]
    return [Problem(_("The branch that ends in {src!r} is {listing}; the task's branch {name} is {task}.").format(
                        src=src, listing=listing or _("the input itself"), name=name, task=task) + keep,
                    tuple(n.key for n in nodes) or (src,), code="branch-layers")]


def _inception_raised(call: _Call, case: str) -> Problem:
    exc = call.error
    assert exc is not None
    branches = call.leaves()
    keys = tuple(k for k, _i in branches)
    listing = _listing(branches) if branches else ", ".join(format_shape(s) for s in _shapes_in(exc))
    if _CONCAT_MISMATCH.search(str(exc)):
        met = _shapes_in(exc)
        sizes = {tuple(s[-3:-1]) for s in met if len(s) >= 3}
        if len(sizes) <= 1 and met:
            return Problem(
                _("Called on {case}, your concatenate raised although the branches ({listing}) have the same height "
                  "and width: it joins them along another axis than the channels. An Inception block stacks the "
                  "branches' channels: the last axis (the default).").format(case=case, listing=listing),
                keys, code="raised:concat-axis")
        return Problem(
            _("Called on {case}, the concatenate raised: your branches end in {listing}. A concatenate stacks the "
              "branches' channels, so all other axes must agree: every branch must end at the same height and "
              "width. A 3×3 window (convolution or pooling) without padding='same' loses a pixel on each border, so "
              "branches with different numbers of 3×3 layers drift apart; with padding='same', a stride-1 layer "
              "keeps the size and a stride-2 layer halves it (rounded up), in every branch alike.").format(
                  case=case, listing=listing),
            keys, code="raised:concat-shapes")
    if _MERGE_MISMATCH.search(str(exc)):
        return Problem(
            _("Called on {case}, your block adds the branches ({listing}), and the add raised: adding needs equal "
              "shapes, and it would mix the branches into one. An Inception block concatenates them along the "
              "channels instead, so the output keeps what every branch found: {sum} = {total} channels.").format(
                  case=case, listing=listing, sum=" + ".join(map(str, _BRANCH_CHANNELS)), total=sum(_BRANCH_CHANNELS)),
            keys, code="raised:add-branches")
    return Problem(_raised(exc, _("Calling your inception_block on {case}").format(case=case)), keys, code="raised")


def _inception_case(fn: Callable[..., Any], ctx: Context, shape: Shape, want: Shape
                    ) -> tuple[list[Problem], Any]:
    """The problems with one call of the block (at most one), and the model around it."""
    model = None
    case = _("x of shape {shape}").format(shape=format_shape((None, *shape)))
    call = _call_block(fn, shape)
    if call.error is not None:
        ctx.graph = call.partial or ctx.graph
        return [_inception_raised(call, case)], model
    model, graph = _as_model(call, ctx, case, "inception_check")
    in_key = graph.inputs[0]
    concats = [n for n in graph.nodes if n.class_name == "Concatenate"]
    if not concats:
        merges = [n for n in graph.nodes if n.is_merge]
        if merges:
            m = merges[-1]
            return [Problem(_("Your block joins the branches with {cls} {key!r}, which combines them value by value "
                              "into {shape}. An Inception block concatenates them along the channels, so the output "
                              "keeps what every branch found: {sum} = {total} channels.").format(
                                  cls=m.class_name, key=m.key, shape=format_shape(m.output_shapes[0]),
                                  sum=" + ".join(map(str, _BRANCH_CHANNELS)), total=sum(_BRANCH_CHANNELS)),
                            (m.key,), code="merge-by-value")], model
        return [Problem(_("Your block has no concatenate: the task's four branches are joined by concatenating "
                          "them along the channels."), tuple(k for k, _i in graph.outputs),
                        code="no-concatenate")], model
    cat = concats[-1]
    edges = sorted((e for e in graph.edges if e.dst == cat.key), key=lambda e: e.dst_index)
    srcs = [e.src for e in edges]
    shapes = [tuple(e.shape or ()) for e in edges]
    branches = list(zip(srcs, shapes, strict=True))
    if len(srcs) != 4:
        return [Problem(ngettext("Your concatenate {cat!r} joins {n} tensor ({listing}); the task's block has four "
                                 "branches, a, b, c and d.",
                                 "Your concatenate {cat!r} joins {n} tensors ({listing}); the task's block has four "
                                 "branches, a, b, c and d.", len(srcs)).format(
                                     cat=cat.key, n=len(srcs), listing=_listing(branches)),
                        (cat.key, *srcs), code="branch-count")], model
    cut_off = [s for s in srcs if in_key not in graph.ancestors(s)]
    if cut_off:
        return [Problem(_("Branch {key!r} does not start from the block's input x: every branch reads x.").format(
                            key=cut_off[0]),
                        (cut_off[0],), code="branch-not-from-x")], model
    axis = cat.layer.config.get("axis", -1)
    if axis not in (-1, 3):
        return [Problem(_("Your concatenate {cat!r} joins the branches along axis {axis}; an Inception block "
                          "stacks their channels, the last axis (the default).").format(cat=cat.key, axis=axis),
                        (cat.key,), code="concat-axis")], model
    got = tuple(model.output.shape)
    out_key = graph.outputs[0][0]
    if tuple(got[1:3]) != tuple(want[1:3]):
        return [Problem(_("Called on {case}, your block gives {got}; the task's block halves the height and width "
                          "(rounded up) to {want}. Keep each branch's stride-2 layer: padding='same' lines the "
                          "branches up without changing what the strides do.").format(
                              case=case, got=format_shape(got), want=format_shape(want)),
                        (out_key, *srcs), code="block-output-shape")], model
    channels = [s[-1] for s in shapes]
    if sorted(channels) != sorted(_BRANCH_CHANNELS) or got[-1] != want[-1]:
        return [Problem(_("Your branches end with {channels} channels ({listing}), {total} in all; the task's give "
                          "{task}, so the block's output has {want} channels.").format(
                              channels=", ".join(map(str, channels)), listing=_listing(branches),
                              total=sum(c or 0 for c in channels), task=", ".join(map(str, _BRANCH_CHANNELS)),
                              want=want[-1]),
                        tuple(srcs), code="branch-channels")], model
    params = expect_params(graph, _inception_params(shape[-1]), explain=_(
        "Keep the task's layers and windows (1×1 and 3×3 convolutions, a 3×3 pool): the fix is in the padding, "
        "not in the window sizes. A 1×1 window lines up trivially, but it no longer looks at any neighbours."))
    if params:
        return params, model
    return _branch_problems(graph, in_key, srcs), model


def _judge_inception(answer: Any, ctx: Context) -> list[Problem]:
    fn = need_callable(answer, what=_("a function {signature}").format(signature=_INCEPTION_SIGNATURE))
    _need_signature(fn, _INCEPTION_SIGNATURE)
    model = None
    for shape, want in _INCEPTION_CASES:
        problems, model = _inception_case(fn, ctx, shape, want)
        if problems:
            return problems
    shape, want = _INCEPTION_CASES[-1]
    out = run_forward(model, _batch(shape))
    if np.shape(out) != (2, *want[1:]):
        raise Stop(_("On a batch of 2 maps of {shape}, your block returned {got}, not {want}.").format(
            shape=format_shape((None, *shape)), got=np.shape(out), want=(2, *want[1:])), code="forward-shape")
    ctx.verified += [
        _("on x (None, 32, 32, 64): four branches of 16, 32, 16 and 32 channels, all 16×16, concatenated to "
          "(None, 16, 16, 96)"),
        _("on x (None, 15, 15, 8): the branches line up at 8×8 too, output (None, 8, 8, 96)"),
        _("the task's layers and window sizes (the parameter count matches); a forward pass on a batch of 2"),
    ]
    return []


# -- hidden probes (only an autograder runs them): input shapes the checks above do not try ---------------------
_RESIDUAL_PROBES: tuple[tuple[Shape, int, int, Shape], ...] = (
    ((16, 16, 64), 32, 1, (None, 16, 16, 32)),  # fewer channels: a projection too, not only when they grow
    ((7, 7, 3), 5, 2, (None, 4, 4, 5)),         # a small odd map with few channels, strides=2
)
_INCEPTION_PROBE: tuple[Shape, Shape] = ((9, 9, 3), (None, 5, 5, 96))


def _probe_residual(answer: Any, ctx: Context) -> list[Problem]:
    for spec in _RESIDUAL_PROBES:
        problems, _line, _model = _residual_case(answer, ctx, spec)
        if problems:
            return problems
    return []


def _probe_inception(answer: Any, ctx: Context) -> list[Problem]:
    problems, _model = _inception_case(answer, ctx, *_INCEPTION_PROBE)
    return problems


# -- ex4.3 --------------------------------------------------------------------------------------------------------
