"""ex4.1's judge: a residual block, with an identity or a projection shortcut."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._exercises import Context, Problem, Stop, need_callable, run_forward
from .._i18n import _, ngettext
from .._layergraph import LayerGraph, Shape
from .._render_dot import format_shape
from .ex4_common import (
    _MERGE_MISMATCH,
    _adds,
    _as_model,
    _batch,
    _Call,
    _call_block,
    _in_order,
    _is_conv,
    _kernel,
    _need_signature,
    _no_skip_message,
    _raised,
    _relu_follows,
    _residual_pair,
    _shapes_in,
    _strides,
)

__all__ = [
    "_judge_residual",
    "_residual_case",
]


_RESIDUAL_SIGNATURE = "residual_block(x, filters, strides=1)"
# (x's shape without the batch axis, filters, strides, the block's output shape)
_RESIDUAL_CASES: tuple[tuple[Shape, int, int, Shape], ...] = (
    ((16, 16, 32), 32, 1, (None, 16, 16, 32)),  # same shape: the identity shortcut
    ((16, 16, 16), 32, 1, (None, 16, 16, 32)),  # more channels: a 1×1 projection
    ((16, 16, 32), 64, 2, (None, 8, 8, 64)),    # strides=2 and more channels: a strided 1×1 projection
    ((15, 15, 32), 32, 2, (None, 8, 8, 32)),    # odd size, strides=2: a projection although the channels agree
)


def _residual_case_text(shape: Shape, filters: int, strides: int) -> str:
    if strides != 1:
        return _("x of shape {shape} with filters={filters} and strides={strides}").format(
            shape=format_shape((None, *shape)), filters=filters, strides=strides)
    return _("x of shape {shape} with filters={filters}").format(shape=format_shape((None, *shape)), filters=filters)


def _residual_raised(call: _Call, case: str, want: Shape) -> Problem:
    exc = call.error
    assert exc is not None
    keys = tuple(k for k, _i in call.leaves())
    if _MERGE_MISMATCH.search(str(exc)):
        met = _shapes_in(exc)
        shapes = _(" and ").join(format_shape(s) for s in met[:2]) if met else _("two different shapes")
        x_shape = tuple(call.x.shape)
        # the noun phrase put into "the main path changes the {differ} of x" below
        if want[-1] != x_shape[-1] and tuple(want[1:3]) != tuple(x_shape[1:3]):
            differ = _("channels and its height and width")
        elif want[-1] != x_shape[-1]:
            differ = _("channels")
        else:
            differ = _("height and width")
        return Problem(
            _("Called on {case}, your block's add raised: it got {shapes}. An add sums value by value, so both "
              "inputs need the same shape, but here the main path changes the {differ} of x and the shortcut does "
              "not. When x does not have the main path's shape, bring the shortcut to it with a 1×1 convolution "
              "({filters} filters, with the block's strides) before adding: a linear projection.").format(
                  case=case, shapes=shapes, differ=differ, filters=want[-1]),
            keys, code="raised:add-shapes")
    return Problem(_raised(exc, _("Calling your residual_block on {case}").format(case=case)), keys, code="raised")


def _residual_shape_problem(got: Shape, want: Shape, case: str, key: str, strides: int) -> Problem:
    text = _("Called on {case}, your block returns {got}; the task needs {want}.").format(
        case=case, got=format_shape(got), want=format_shape(want)) + " "
    if len(got) != len(want):
        text += _("The block must keep the feature map's four axes (batch, height, width, channels).")
    elif got[-1] != want[-1]:
        text += _("The block's output has `filters` channels: {n} here.").format(n=want[-1])
    elif tuple(got[1:3]) != tuple(want[1:3]) and (got[1] or 0) < (want[1] or 0):
        text += (_("The map shrank: a 3×3 window without padding='same' loses a pixel on each border, and with "
                   "strides=2 and padding='same' a map becomes half as high and wide, rounded up.") if strides != 1
                 else _("The map shrank: a 3×3 window without padding='same' loses a pixel on each border."))
    else:
        text += _("With strides=2 the block halves the height and width (rounded up): the main path's first "
                  "convolution takes the strides, and so does the shortcut's projection.")
    return Problem(text, (key,), code="block-output-shape")


def _main_path_problem(graph: LayerGraph, on_main: list[str], case: str, filters: int, strides: int
                       ) -> Problem | None:
    """The task's main path: two 3×3 convolutions with ``filters`` filters, the first with the block's strides and
    relu. A block with another main path can pass the shape checks (one convolution, 5×5 windows, the stride on
    the second convolution, no relu): it is not the block the task asks for."""
    convs = [graph.node(k) for k in on_main]
    if len(convs) != 2:
        listing = ", ".join(repr(n.key) for n in convs)
        return Problem(ngettext(
            "Called on {case}, your main path has {n} convolution ({listing}); the task's main path has two 3×3 "
            "convolutions, the first with the block's strides and relu, then the second. Keep the shortcut as it is "
            "and give the main path exactly those two.",
            "Called on {case}, your main path has {n} convolutions ({listing}); the task's main path has two 3×3 "
            "convolutions, the first with the block's strides and relu, then the second. Keep the shortcut as it is "
            "and give the main path exactly those two.", len(convs)).format(case=case, n=len(convs), listing=listing),
            tuple(on_main), code="main-path-convs")
    wide = [n for n in convs if _kernel(n) != (3, 3)]
    if wide:
        size = "×".join(map(str, _kernel(wide[0])))
        return Problem(_("Called on {case}, your main path's convolution {key!r} has a {size} window; both "
                         "convolutions of the task's main path are 3×3.").format(case=case, key=wide[0].key, size=size),
                       (wide[0].key,), code="main-path-window")
    off = [n for n in convs if n.layer.config.get("filters") != filters]
    if off:
        return Problem(_("Called on {case}, your main path's convolution {key!r} has {got} filters; both "
                         "convolutions of the task's main path have `filters` filters ({filters} here).").format(
                             case=case, key=off[0].key, got=off[0].layer.config.get("filters"), filters=filters),
                       (off[0].key,), code="main-path-filters")
    first, second = convs
    if _strides(first) != (strides, strides):
        return Problem(_("Called on {case}, your main path's first convolution {first!r} has strides {first_strides} "
                         "and the second {second!r} strides {second_strides}; the task gives the block's strides "
                         "({strides}) to the first convolution and 1 to the second.").format(
                             case=case, first=first.key, first_strides=_strides(first)[0], second=second.key,
                             second_strides=_strides(second)[0], strides=strides),
                       (first.key, second.key), code="main-path-strides")
    if not _relu_follows(graph, first):
        return Problem(_("Called on {case}, your main path's first convolution {key!r} has no relu after it, so the "
                         "two convolutions in a row make one linear map (one 5×5 convolution could compute it). The "
                         "task's first convolution uses relu.").format(case=case, key=first.key), (first.key,),
                       code="main-path-relu")
    return None


def _residual_case(fn: Callable[..., Any], ctx: Context, case_spec: tuple[Shape, int, int, Shape]
                   ) -> tuple[list[Problem], str, Any]:
    """The problems with one call of the block (at most one), or the line for ctx.verified and the model."""
    shape, filters, strides, want = case_spec
    case = _residual_case_text(shape, filters, strides)
    kwargs = {"strides": strides} if strides != 1 else {}
    call = _call_block(fn, shape, filters, **kwargs)
    if call.error is not None:
        ctx.graph = call.partial or ctx.graph
        return [_residual_raised(call, case, want)], "", None
    model, graph = _as_model(call, ctx, case, "residual_check")
    in_key = graph.inputs[0]
    out_key = graph.outputs[0][0]
    got = tuple(model.output.shape)
    adds = _adds(graph)
    concat = [n for n in graph.nodes if n.class_name == "Concatenate"]
    if not adds and concat:
        return [Problem(_("Your block joins the paths with a concatenate ({key!r}), which stacks their channels side "
                          "by side. A residual connection adds them: output = x + f(x), so the layers only learn a "
                          "correction to x.").format(key=concat[0].key), (concat[0].key,),
                        code="merge-concatenate")], "", None
    if got != want:
        return [_residual_shape_problem(got, want, case, out_key, strides)], "", None
    if not adds:
        return [Problem(_("Called on {case}, your block has no add: nothing carries x around the convolutions. A "
                          "residual connection adds the block's input (the shortcut) to the output of the main "
                          "path.").format(case=case), (out_key,), code="no-add")], "", None
    found = [(add, _residual_pair(graph, add, in_key)) for add in adds]
    good = [(add, pair) for add, pair in found if pair is not None]
    if not good:
        return [_no_skip_message(graph, adds[-1], in_key)], "", None
    identity = (None, *shape) == want
    problems: list[Problem] = []
    for _add, (shortcut, main) in good:
        on_shortcut = _in_order(graph, graph.ancestors(shortcut) - {in_key})
        on_main = [k for k in _in_order(graph, graph.ancestors(main) - {in_key}) if _is_conv(graph.node(k))]
        if identity and on_shortcut:
            params = sum(graph.node(k).layer.params for k in on_shortcut)
            problems.append(Problem(
                _("Called on {case}: x already has the shape of the main path's output {want}, so the shortcut "
                  "should be x itself (an identity shortcut: no weights, and the cleanest path for the gradient). "
                  "Yours goes through {names} ({params:,} parameters). Project the shortcut only when the shapes "
                  "differ.").format(case=case, want=format_shape(want), names=", ".join(map(repr, on_shortcut)),
                                    params=params), tuple(on_shortcut), code="shortcut-not-identity"))
            continue
        if not identity:
            convs = [k for k in on_shortcut if _is_conv(graph.node(k))]
            wide = [k for k in convs if _kernel(graph.node(k)) != (1, 1)]
            if wide:
                size = "×".join(map(str, _kernel(graph.node(wide[0]))))
                problems.append(Problem(
                    _("Called on {case}: the shortcut's convolution {key!r} has a {size} window. A projection "
                      "shortcut is a 1×1 convolution: it only maps x's channels (and, with strides, its size) to the "
                      "main path's, so the shortcut stays cheap and almost direct. Looking at neighbours is the main "
                      "path's job.").format(case=case, key=wide[0], size=size), (wide[0],), code="shortcut-window"))
                continue
            if not convs:
                problems.append(Problem(
                    _("Called on {case}: your shortcut reshapes x with {names} only. The task's projection is a 1×1 "
                      "convolution with the block's strides, a linear map that learns how x's channels become the "
                      "main path's.").format(case=case, names=", ".join(map(repr, on_shortcut))), tuple(on_shortcut),
                                        code="shortcut-no-projection"))
                continue
        main_problem = _main_path_problem(graph, on_main, case, filters, strides)
        if main_problem is not None:
            problems.append(main_problem)
            continue
        kind = _("identity shortcut") if identity else _("1×1 projection shortcut")
        line = ngettext("{case}: {kind}, {n} convolution on the main path, output {want}",
                        "{case}: {kind}, {n} convolutions on the main path, output {want}", len(on_main)).format(
                            case=_residual_case_text(shape, filters, strides), kind=kind, n=len(on_main),
                            want=format_shape(want))
        return [], line, model
    return problems[:1], "", None


def _judge_residual(answer: Any, ctx: Context) -> list[Problem]:
    fn = need_callable(answer, what=_("a function {signature}").format(signature=_RESIDUAL_SIGNATURE))
    _need_signature(fn, _RESIDUAL_SIGNATURE, 32, strides=2)
    lines = []
    model = None
    for spec in _RESIDUAL_CASES:
        problems, line, model = _residual_case(fn, ctx, spec)
        if problems:
            return problems
        lines.append(line)
    # one forward pass (on the last case: strided, odd-sized) is enough to show the block computes
    shape, _filters, _strides_n, want = _RESIDUAL_CASES[-1]
    out = run_forward(model, _batch(shape))
    if np.shape(out) != (2, *want[1:]):
        raise Stop(_("On a batch of 2 maps of {shape}, your block returned {got}, not {want}.").format(
            shape=format_shape((None, *shape)), got=np.shape(out), want=(2, *want[1:])), code="forward-shape")
    ctx.verified += lines
    ctx.verified.append(_("each time an add reads the shortcut by a path that skips the main path's convolutions; "
                          "a forward pass on a batch of 2"))
    return []


# -- ex4.2 --------------------------------------------------------------------------------------------------------
