"""Exercises for lessons 6 and 6b: residual connections, Inception modules, merges, 1×1 bottlenecks.

Two answers are functions from a tensor to a tensor (a block); their judges call them on fresh ``keras.Input``
tensors of several shapes, so a block that only fits one input shape does not pass. When the student's block
raises while it is being built (the usual failure of a merge), the layer calls made up to that point are read
back as a graph, so the message can name the branches by their layer names and shapes.

The judges also check what the numbers cannot see (issue 15, class 8: an answer that passes the shape and
parameter checks but is not the block the task asks for): ex4.1's main path is two 3×3 convolutions, the first
with the strides and relu; ex4.2 keeps every branch's layers, windows and strides (a max pooling for the average
one, or a stride moved to another layer, keeps the shapes and the parameter count); ex4.4 has relu after the
squeeze and the 3×3 and a linear expansion. ex4.5 is an open-ended design task, judged on shapes and
connectivity only: a residual add and a concatenate of parallel branches somewhere between the photo and the
scores. ex4.6 is a migration task (Keras 1's ``merge(mode='cos')``), judged on behaviour: with the student's own
weights, the output is the cosine of the two shared projections.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _keras_adapter as adapter
from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_depends,
    expect_inputs,
    expect_outputs,
    expect_params,
    expect_shared,
    explain_raised,
    match_inputs,
    match_outputs,
    need_callable,
    need_functional,
    need_model,
    output_map,
    run_forward,
)
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape

LESSON_6 = "lesson 6"
LESSON_6B = "lesson 6b"
LESSONS_6_6B = "lessons 6 and 6b"
_MERGE_MISMATCH = re.compile(r"Inputs have incompatible shapes|Cannot broadcast shape")
_CONCAT_MISMATCH = re.compile(r"`Concatenate` layer requires inputs with matching shapes")
_SHAPE_TEXT = re.compile(r"\((?:None|\d+)(?:, *(?:None|\d+))*,?\)|\[(?:None|\d+)(?:, *(?:None|\d+))*\]")


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
def _raised(exc: BaseException, what: str) -> str:
    """lab.explain's reading of the error without its general fix: a judge's message shows no code."""
    return explain_raised(exc, what, with_fix=False)


@dataclass
class _Call:
    """One call of the student's block on a fresh input: the input, the result or the error, and (after an
    error) the graph of the layer calls made before it."""

    x: Any
    result: Any = None
    error: BaseException | None = None
    partial: LayerGraph | None = None

    def leaves(self) -> list[tuple[str, Shape]]:
        """(layer key, shape) of the tensors made but not used yet when the error came: the merge's inputs."""
        if self.partial is None:
            return []
        found = []
        for key, index in self.partial.outputs:
            node = self.partial.node(key)
            if node.kind != "input" and index < len(node.output_shapes):
                found.append((key, node.output_shapes[index]))
        return found


def _call_block(fn: Callable[..., Any], shape: Shape, *args: Any, **kwargs: Any) -> _Call:
    import keras

    call = _Call(keras.Input(shape=tuple(shape), name="x"))
    made: list[Any] = []

    def note(leaves: list[Any]) -> None:
        made[:] = leaves

    with adapter.record_calls(note):
        try:
            call.result = fn(call.x, *args, **kwargs)
        except Exception as exc:
            call.error = exc
    if call.error is not None and made:
        try:
            call.partial = adapter.read(list(made))
        except Exception:
            call.partial = None
    return call


def _need_signature(fn: Callable[..., Any], signature: str, *args: Any, **kwargs: Any) -> None:
    try:
        inspect.signature(fn).bind(None, *args, **kwargs)
    except TypeError as exc:
        raise Stop(f"The check calls your function like the task's {signature}, and Python says: {exc}. Give "
                   f"it exactly the task's arguments.", code="wrong-kind:signature") from None
    except ValueError:  # no signature to read (a builtin): let the call itself tell
        return


def _need_tensor(result: Any, case: str) -> Any:
    import keras

    if isinstance(result, keras.KerasTensor):
        return result
    if result is None:
        raise Stop(f"Called on {case}, your function returned None: it must end by returning the block's output "
                   f"tensor (the result of its last layer call), so that blocks can be chained.",
                   code="not-answered:returned-none")
    if isinstance(result, keras.Model):
        raise Stop(f"Called on {case}, your function returned a model ({result.name!r}); the task's block returns "
                   f"the output tensor, so it can be used in the middle of a bigger model. Return the tensor "
                   f"and leave keras.Model to whoever calls the block.", code="wrong-kind:returned-model")
    if isinstance(result, list | tuple):
        raise Stop(f"Called on {case}, your function returned a {type(result).__name__} of {len(result)} items; "
                   f"the task's block returns one tensor.", code="wrong-kind:returned-list")
    raise Stop(f"Called on {case}, your function returned a {type(result).__name__}, not a symbolic tensor: "
               f"return the output of the block's last layer call.", code="wrong-kind:returned-other")


def _as_model(call: _Call, ctx: Context, case: str, name: str) -> tuple[Any, LayerGraph]:
    import keras

    y = _need_tensor(call.result, case)
    try:
        model = keras.Model(call.x, y, name=name)
    except ValueError as exc:
        if "not connected" not in str(exc):
            raise Stop(_raised(exc, f"Making a model of your block on {case}"), code="raised:model") from None
        raise Stop(f"Called on {case}, your function returned a tensor that is not computed from the x it was "
                   f"given. Build the block on the argument x: don't make a new keras.Input inside the "
                   f"function, and don't use a tensor from an earlier cell.", code="block-not-on-x") from None
    return need_model(model, ctx)


def _built(answer: Any, merge_advice: str) -> Any:
    """A function that builds the model is called here, so that a merge it gets wrong is explained in this
    exercise's terms (``merge_advice``) rather than with the general fix of lab.explain."""
    import keras

    if not callable(answer) or isinstance(answer, keras.Model | keras.layers.Layer | type):
        return answer
    try:
        return answer()
    except Exception as exc:
        if _MERGE_MISMATCH.search(str(exc)):
            met = " and ".join(format_shape(s) for s in _shapes_in(exc)[:2]) or "two different shapes"
            raise Stop(f"Calling your function raised {type(exc).__name__}: an add got {met}. An add sums value "
                       f"by value, so both tensors need the same shape. {merge_advice}",
                       code="raised:add-shapes") from None
        raise Stop(_raised(exc, "Calling your function"), code="raised") from None



def _merge_inputs(graph: LayerGraph, key: str) -> list[str]:
    """The keys feeding a merge, in the order of its inputs (a key twice if the same tensor is used twice)."""
    return [e.src for e in sorted((e for e in graph.edges if e.dst == key), key=lambda e: e.dst_index)]


def _in_order(graph: LayerGraph, keys: set[str]) -> list[str]:
    return [k for k in graph.keys if k in keys]


def _kernel(node: Node) -> tuple[int, ...]:
    size = node.layer.config.get("kernel_size", ())
    return tuple(size) if isinstance(size, list | tuple) else (size, size)


def _is_conv(node: Node) -> bool:
    return node.class_name == "Conv2D"


def _is_pointwise(node: Node) -> bool:
    """A 1×1 convolution, or a Dense layer on a feature map (the same thing: it mixes each pixel's channels)."""
    return (_is_conv(node) and _kernel(node) == (1, 1)) or node.class_name == "Dense"


def _strides(node: Node) -> tuple[int, ...]:
    value = node.layer.config.get("strides", 1)
    return tuple(value) if isinstance(value, list | tuple) else (value, value)


def _relu_follows(graph: LayerGraph, node: Node) -> bool:
    """``node`` ends in relu: its own activation, or a ReLU layer, relu activation or relu operation right after."""
    if node.layer.activation == "relu":
        return True
    for key in graph.successors(node.key):
        after = graph.node(key)
        if after.class_name in ("ReLU", "Relu"):
            return True
        if after.class_name == "Activation" and after.layer.activation == "relu":
            return True
    return False


def _adds(graph: LayerGraph) -> list[Node]:
    return [n for n in graph.nodes if n.class_name == "Add"]


def _residual_pair(graph: LayerGraph, add: Node, in_key: str) -> tuple[str, str] | None:
    """(shortcut, main) feeding ``add``: both computed from the input, sharing nothing else, and the main path
    has a convolution. The shortcut is the input itself or a path beside the main one (a projection)."""
    srcs = _merge_inputs(graph, add.key)
    ancestry = {s: graph.ancestors(s) for s in srcs}

    def wide(key: str) -> int:
        return sum(1 for k in ancestry[key] if _is_conv(graph.node(k)) and _kernel(graph.node(k)) != (1, 1))

    pairs = []
    for i, shortcut in enumerate(srcs):
        for j, main in enumerate(srcs):
            if i == j or in_key not in ancestry[shortcut] or in_key not in ancestry[main]:
                continue
            if ancestry[shortcut] & ancestry[main] != {in_key}:
                continue
            if any(_is_conv(graph.node(k)) for k in ancestry[main]):
                pairs.append((shortcut, main))
    # of two paths beside each other, the shortcut is the plainer one: x itself, else the one with fewer
    # wide (3×3) convolutions, else the shorter one
    pairs.sort(key=lambda p: (p[0] != in_key, wide(p[0]) - wide(p[1]), len(ancestry[p[0]])))
    return pairs[0] if pairs else None


def _no_skip_message(graph: LayerGraph, add: Node, in_key: str) -> Problem:
    srcs = _merge_inputs(graph, add.key)
    names = " and ".join(repr(s) for s in srcs)
    if set(srcs) == {in_key}:
        what = "adds the block input to itself: the convolutions are not on any path to it"
    else:
        what = (f"adds {names}, which are all computed through the same convolutions, so nothing skips "
                f"them and this is not a residual connection (the gradient gets no short path back)")
    return Problem(f"Your add {add.key!r} {what}. One input of the add must be the main path's output, the "
                   f"other the block's input {in_key!r} itself, or, when the shapes differ, {in_key!r} through "
                   f"a 1×1 convolution of its own (beside the main path, not after it).",
                   (add.key, *dict.fromkeys(srcs)), code="no-skip")


def _shape_of(text: str) -> Shape | None:
    try:
        value = ast.literal_eval(text.replace("[", "(").replace("]", ")"))
    except (ValueError, SyntaxError):
        return None
    return tuple(value) if isinstance(value, tuple) else None


def _shapes_in(exc: BaseException) -> list[Shape]:
    found = [_shape_of(s) for s in _SHAPE_TEXT.findall(str(exc))]
    return [s for s in found if s is not None]


def _listing(items: Sequence[tuple[str, Shape]]) -> str:
    return ", ".join(f"{key!r} {format_shape(shape)}" for key, shape in items)


def _batch(shape: Shape, n: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype("float32")


# -- ex4.1 --------------------------------------------------------------------------------------------------------
_RESIDUAL_SIGNATURE = "residual_block(x, filters, strides=1)"
# (x's shape without the batch axis, filters, strides, the block's output shape)
_RESIDUAL_CASES: tuple[tuple[Shape, int, int, Shape], ...] = (
    ((16, 16, 32), 32, 1, (None, 16, 16, 32)),  # same shape: the identity shortcut
    ((16, 16, 16), 32, 1, (None, 16, 16, 32)),  # more channels: a 1×1 projection
    ((16, 16, 32), 64, 2, (None, 8, 8, 64)),    # strides=2 and more channels: a strided 1×1 projection
    ((15, 15, 32), 32, 2, (None, 8, 8, 32)),    # odd size, strides=2: a projection although the channels agree
)


def _residual_case_text(shape: Shape, filters: int, strides: int) -> str:
    text = f"x of shape {format_shape((None, *shape))} with filters={filters}"
    return text + (f" and strides={strides}" if strides != 1 else "")


def _residual_raised(call: _Call, case: str, want: Shape) -> Problem:
    exc = call.error
    assert exc is not None
    keys = tuple(k for k, _ in call.leaves())
    if _MERGE_MISMATCH.search(str(exc)):
        met = _shapes_in(exc)
        shapes = " and ".join(format_shape(s) for s in met[:2]) if met else "two different shapes"
        x_shape = tuple(call.x.shape)
        if want[-1] != x_shape[-1] and tuple(want[1:3]) != tuple(x_shape[1:3]):
            differ = "channels and its height and width"
        elif want[-1] != x_shape[-1]:
            differ = "channels"
        else:
            differ = "height and width"
        return Problem(
            f"Called on {case}, your block's add raised: it got {shapes}. An add sums value by value, so both "
            f"inputs need the same shape, but here the main path changes the {differ} of x and the shortcut "
            f"does not. When x does not have the main path's shape, bring the shortcut to it with a 1×1 "
            f"convolution ({want[-1]} filters, with the block's strides) before adding: a linear projection.",
            keys, code="raised:add-shapes")
    return Problem(_raised(exc, f"Calling your residual_block on {case}"), keys, code="raised")


def _residual_shape_problem(got: Shape, want: Shape, case: str, key: str, strides: int) -> Problem:
    text = f"Called on {case}, your block returns {format_shape(got)}; the task needs {format_shape(want)}."
    if len(got) != len(want):
        text += " The block must keep the feature map's four axes (batch, height, width, channels)."
    elif got[-1] != want[-1]:
        text += f" The block's output has `filters` channels: {want[-1]} here."
    elif tuple(got[1:3]) != tuple(want[1:3]) and (got[1] or 0) < (want[1] or 0):
        text += " The map shrank: a 3×3 window without padding='same' loses a pixel on each border"
        text += (", and with strides=2 and padding='same' a map becomes half as high and wide, rounded up."
                 if strides != 1 else ".")
    else:
        text += (" With strides=2 the block halves the height and width (rounded up): the main path's first "
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
        return Problem(f"Called on {case}, your main path has {len(convs)} convolution{'s' * (len(convs) != 1)} "
                       f"({listing}); the task's main path has two 3×3 convolutions, the first with the block's "
                       f"strides and relu, then the second. Keep the shortcut as it is and give the main path "
                       f"exactly those two.", tuple(on_main), code="main-path-convs")
    wide = [n for n in convs if _kernel(n) != (3, 3)]
    if wide:
        size = "×".join(map(str, _kernel(wide[0])))
        return Problem(f"Called on {case}, your main path's convolution {wide[0].key!r} has a {size} window; both "
                       f"convolutions of the task's main path are 3×3.", (wide[0].key,), code="main-path-window")
    off = [n for n in convs if n.layer.config.get("filters") != filters]
    if off:
        return Problem(f"Called on {case}, your main path's convolution {off[0].key!r} has "
                       f"{off[0].layer.config.get('filters')} filters; both convolutions of the task's main path have "
                       f"`filters` filters ({filters} here).", (off[0].key,), code="main-path-filters")
    first, second = convs
    if _strides(first) != (strides, strides):
        return Problem(f"Called on {case}, your main path's first convolution {first.key!r} has strides "
                       f"{_strides(first)[0]} and the second {second.key!r} strides {_strides(second)[0]}; the task "
                       f"gives the block's strides ({strides}) to the first convolution and 1 to the second.",
                       (first.key, second.key), code="main-path-strides")
    if not _relu_follows(graph, first):
        return Problem(f"Called on {case}, your main path's first convolution {first.key!r} has no relu after it, "
                       f"so the two convolutions in a row make one linear map (one 5×5 convolution could compute "
                       f"it). The task's first convolution uses relu.", (first.key,), code="main-path-relu")
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
        return [Problem(f"Your block joins the paths with a concatenate ({concat[0].key!r}), which stacks their "
                        f"channels side by side. A residual connection adds them: output = x + f(x), so the "
                        f"layers only learn a correction to x.", (concat[0].key,), code="merge-concatenate")], "", None
    if got != want:
        return [_residual_shape_problem(got, want, case, out_key, strides)], "", None
    if not adds:
        return [Problem(f"Called on {case}, your block has no add: nothing carries x around the convolutions. A "
                        f"residual connection adds the block's input (the shortcut) to the output of the main "
                        f"path.", (out_key,), code="no-add")], "", None
    found = [(add, _residual_pair(graph, add, in_key)) for add in adds]
    good = [(add, pair) for add, pair in found if pair is not None]
    if not good:
        return [_no_skip_message(graph, adds[-1], in_key)], "", None
    identity = (None, *shape) == want
    problems: list[Problem] = []
    for _, (shortcut, main) in good:
        on_shortcut = _in_order(graph, graph.ancestors(shortcut) - {in_key})
        on_main = [k for k in _in_order(graph, graph.ancestors(main) - {in_key}) if _is_conv(graph.node(k))]
        if identity and on_shortcut:
            params = sum(graph.node(k).layer.params for k in on_shortcut)
            problems.append(Problem(
                f"Called on {case}: x already has the shape of the main path's output {format_shape(want)}, so "
                f"the shortcut should be x itself (an identity shortcut: no weights, and the cleanest path for "
                f"the gradient). Yours goes through {', '.join(map(repr, on_shortcut))} ({params:,} parameters). "
                f"Project the shortcut only when the shapes differ.", tuple(on_shortcut), code="shortcut-not-identity"))
            continue
        if not identity:
            convs = [k for k in on_shortcut if _is_conv(graph.node(k))]
            wide = [k for k in convs if _kernel(graph.node(k)) != (1, 1)]
            if wide:
                size = "×".join(map(str, _kernel(graph.node(wide[0]))))
                problems.append(Problem(
                    f"Called on {case}: the shortcut's convolution {wide[0]!r} has a {size} window. A projection "
                    f"shortcut is a 1×1 convolution: it only maps x's channels (and, with strides, its size) to "
                    f"the main path's, so the shortcut stays cheap and almost direct. Looking at neighbours is the "
                    f"main path's job.", (wide[0],), code="shortcut-window"))
                continue
            if not convs:
                problems.append(Problem(
                    f"Called on {case}: your shortcut reshapes x with {', '.join(map(repr, on_shortcut))} only. "
                    f"The task's projection is a 1×1 convolution with the block's strides, a linear map that "
                    f"learns how x's channels become the main path's.", tuple(on_shortcut),
                                        code="shortcut-no-projection"))
                continue
        main_problem = _main_path_problem(graph, on_main, case, filters, strides)
        if main_problem is not None:
            problems.append(main_problem)
            continue
        kind = "identity shortcut" if identity else "1×1 projection shortcut"
        line = (f"{_residual_case_text(shape, filters, strides)}: {kind}, {len(on_main)} convolution"
                f"{'s' * (len(on_main) != 1)} on the main path, output {format_shape(want)}")
        return [], line, model
    return problems[:1], "", None


def _judge_residual(answer: Any, ctx: Context) -> list[Problem]:
    fn = need_callable(answer, what=f"a function {_RESIDUAL_SIGNATURE}")
    _need_signature(fn, _RESIDUAL_SIGNATURE, 32, strides=2)
    lines = []
    model = None
    for spec in _RESIDUAL_CASES:
        problems, line, model = _residual_case(fn, ctx, spec)
        if problems:
            return problems
        lines.append(line)
    # one forward pass (on the last case: strided, odd-sized) is enough to show the block computes
    shape, _, _, want = _RESIDUAL_CASES[-1]
    out = run_forward(model, _batch(shape))
    if np.shape(out) != (2, *want[1:]):
        raise Stop(f"On a batch of 2 maps of {format_shape((None, *shape))}, your block returned "
                   f"{np.shape(out)}, not {(2, *want[1:])}.", code="forward-shape")
    ctx.verified += lines
    ctx.verified.append("each time an add reads the shortcut by a path that skips the main path's convolutions; "
                        "a forward pass on a batch of 2")
    return []


# -- ex4.2 --------------------------------------------------------------------------------------------------------
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
    what = f"{size} convolution, {filters} filters" if kind == "Conv2D" else \
        f"{size} {'average' if kind.startswith('Average') else 'max' if kind.startswith('Max') else kind} pooling"
    return what + (f", stride {strides[0]}" if strides != (1, 1) else "")


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
    task = ", then ".join(_step_text(st) for st in want)
    keep = " Keep each branch's layers, windows and strides as the starter has them: the fix is in the padding only."
    if len(want) == len(steps):
        for node, got, wanted in zip(nodes, steps, want, strict=True):
            if got[0] != wanted[0]:
                return [Problem(f"The branch that ends in {src!r} has {node.class_name} {node.key!r} where the "
                                f"task's branch {name} ({task}) has {_step_text(wanted)}: a "
                                f"{'max' if 'Max' in got[0] else got[0]} pooling keeps other values than the "
                                f"average the task asks for, with the same shapes and parameters.{keep}",
                                (node.key,), code="branch-layer-kind")]
            if got[1] != wanted[1]:
                return [Problem(f"In the branch that ends in {src!r}, {node.key!r} has a "
                                f"{'×'.join(map(str, got[1]))} window; in the task's branch {name} ({task}) that "
                                f"layer's window is {'×'.join(map(str, wanted[1]))}.{keep}", (node.key,),
                                code="branch-window")]
        moved = [(n, g, w) for n, g, w in zip(nodes, steps, want, strict=True) if g[2] != w[2]]
        if moved:
            node, got, wanted = moved[0]
            return [Problem(f"In the branch that ends in {src!r}, {node.key!r} has stride {got[2][0]}, where the "
                            f"task's branch {name} ({task}) has stride {wanted[2][0]}: the output has the same "
                            f"shape and parameters, but the branch computes something else, since the layer that "
                            f"takes the stride decides which pixels the layers after it see.{keep}",
                            tuple(n.key for n, _, _ in moved), code="branch-stride")]
    return [Problem(f"The branch that ends in {src!r} is {listing or 'the input itself'}; the task's branch {name} "
                    f"is {task}.{keep}", tuple(n.key for n in nodes) or (src,), code="branch-layers")]


def _inception_raised(call: _Call, case: str) -> Problem:
    exc = call.error
    assert exc is not None
    branches = call.leaves()
    keys = tuple(k for k, _ in branches)
    listing = _listing(branches) if branches else ", ".join(format_shape(s) for s in _shapes_in(exc))
    if _CONCAT_MISMATCH.search(str(exc)):
        met = _shapes_in(exc)
        sizes = {tuple(s[-3:-1]) for s in met if len(s) >= 3}
        if len(sizes) <= 1 and met:
            return Problem(
                f"Called on {case}, your concatenate raised although the branches ({listing}) have the same "
                f"height and width: it joins them along another axis than the channels. An Inception block "
                f"stacks the branches' channels: the last axis (the default).", keys, code="raised:concat-axis")
        return Problem(
            f"Called on {case}, the concatenate raised: your branches end in {listing}. A concatenate stacks "
            f"the branches' channels, so all other axes must agree: every branch must end at the same height "
            f"and width. A 3×3 window (convolution or pooling) without padding='same' loses a pixel on each "
            f"border, so branches with different numbers of 3×3 layers drift apart; with padding='same', a "
            f"stride-1 layer keeps the size and a stride-2 layer halves it (rounded up), in every branch alike.",
            keys, code="raised:concat-shapes")
    if _MERGE_MISMATCH.search(str(exc)):
        return Problem(
            f"Called on {case}, your block adds the branches ({listing}), and the add raised: adding needs "
            f"equal shapes, and it would mix the branches into one. An Inception block concatenates them along "
            f"the channels instead, so the output keeps what every branch found: "
            f"{' + '.join(map(str, _BRANCH_CHANNELS))} = {sum(_BRANCH_CHANNELS)} channels.", keys,
                       code="raised:add-branches")
    return Problem(_raised(exc, f"Calling your inception_block on {case}"), keys, code="raised")


def _inception_case(fn: Callable[..., Any], ctx: Context, shape: Shape, want: Shape
                    ) -> tuple[list[Problem], Any]:
    """The problems with one call of the block (at most one), and the model around it."""
    model = None
    case = f"x of shape {format_shape((None, *shape))}"
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
            return [Problem(f"Your block joins the branches with {m.class_name} {m.key!r}, which combines them "
                            f"value by value into {format_shape(m.output_shapes[0])}. An Inception block "
                            f"concatenates them along the channels, so the output keeps what every branch "
                            f"found: {' + '.join(map(str, _BRANCH_CHANNELS))} = {sum(_BRANCH_CHANNELS)} "
                            f"channels.", (m.key,), code="merge-by-value")], model
        return [Problem("Your block has no concatenate: the task's four branches are joined by concatenating "
                        "them along the channels.", tuple(k for k, _ in graph.outputs), code="no-concatenate")], model
    cat = concats[-1]
    edges = sorted((e for e in graph.edges if e.dst == cat.key), key=lambda e: e.dst_index)
    srcs = [e.src for e in edges]
    shapes = [tuple(e.shape or ()) for e in edges]
    branches = list(zip(srcs, shapes, strict=True))
    if len(srcs) != 4:
        return [Problem(f"Your concatenate {cat.key!r} joins {len(srcs)} tensor{'s' * (len(srcs) != 1)} "
                        f"({_listing(branches)}); the task's block has four branches, a, b, c and d.",
                        (cat.key, *srcs), code="branch-count")], model
    cut_off = [s for s in srcs if in_key not in graph.ancestors(s)]
    if cut_off:
        return [Problem(f"Branch {cut_off[0]!r} does not start from the block's input x: every branch reads x.",
                        (cut_off[0],), code="branch-not-from-x")], model
    axis = cat.layer.config.get("axis", -1)
    if axis not in (-1, 3):
        return [Problem(f"Your concatenate {cat.key!r} joins the branches along axis {axis}; an Inception block "
                        f"stacks their channels, the last axis (the default).", (cat.key,), code="concat-axis")], model
    got = tuple(model.output.shape)
    out_key = graph.outputs[0][0]
    if tuple(got[1:3]) != tuple(want[1:3]):
        return [Problem(f"Called on {case}, your block gives {format_shape(got)}; the task's block halves the "
                        f"height and width (rounded up) to {format_shape(want)}. Keep each branch's stride-2 "
                        f"layer: padding='same' lines the branches up without changing what the strides do.",
                        (out_key, *srcs), code="block-output-shape")], model
    channels = [s[-1] for s in shapes]
    if sorted(channels) != sorted(_BRANCH_CHANNELS) or got[-1] != want[-1]:
        return [Problem(f"Your branches end with {', '.join(map(str, channels))} channels ({_listing(branches)}), "
                        f"{sum(c or 0 for c in channels)} in all; the task's give "
                        f"{', '.join(map(str, _BRANCH_CHANNELS))}, so the block's output has {want[-1]} channels.",
                        tuple(srcs), code="branch-channels")], model
    params = expect_params(graph, _inception_params(shape[-1]), explain=(
        "Keep the task's layers and windows (1×1 and 3×3 convolutions, a 3×3 pool): the fix is in the padding, "
        "not in the window sizes. A 1×1 window lines up trivially, but it no longer looks at any neighbours."))
    if params:
        return params, model
    return _branch_problems(graph, in_key, srcs), model


def _judge_inception(answer: Any, ctx: Context) -> list[Problem]:
    fn = need_callable(answer, what=f"a function {_INCEPTION_SIGNATURE}")
    _need_signature(fn, _INCEPTION_SIGNATURE)
    model = None
    for shape, want in _INCEPTION_CASES:
        problems, model = _inception_case(fn, ctx, shape, want)
        if problems:
            return problems
    shape, want = _INCEPTION_CASES[-1]
    out = run_forward(model, _batch(shape))
    if np.shape(out) != (2, *want[1:]):
        raise Stop(f"On a batch of 2 maps of {format_shape((None, *shape))}, your block returned "
                   f"{np.shape(out)}, not {(2, *want[1:])}.", code="forward-shape")
    ctx.verified += [
        "on x (None, 32, 32, 64): four branches of 16, 32, 16 and 32 channels, all 16×16, concatenated to "
        "(None, 16, 16, 96)",
        "on x (None, 15, 15, 8): the branches line up at 8×8 too, output (None, 8, 8, 96)",
        "the task's layers and window sizes (the parameter count matches); a forward pass on a batch of 2",
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
        problems, _, _ = _residual_case(answer, ctx, spec)
        if problems:
            return problems
    return []


def _probe_inception(answer: Any, ctx: Context) -> list[Problem]:
    problems, _ = _inception_case(answer, ctx, *_INCEPTION_PROBE)
    return problems


# -- ex4.3 --------------------------------------------------------------------------------------------------------
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
    model, graph = need_functional(_built(answer, "An add needs both tensors in the same shape: bring the shortcut "
                                                  "to the main path's shape with a 1×1 convolution."), ctx,
                                   why="The design task practises the functional API's graphs.")
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
            return [Problem(f"Your add {add.key!r} adds {' and '.join(map(repr, srcs))}, which both go through "
                            f"layers of their own: nothing skips them, so it is not a residual connection. A "
                            f"residual connection adds a tensor to what layers computed from it (x + f(x)), or, when "
                            f"the shapes differ, x through a 1×1 convolution of its own.",
                            (add.key, *dict.fromkeys(srcs)), code="no-skip")]
        return [Problem("Your model has no residual connection: no add carries a tensor around the layers that "
                        "work on it. The task asks for at least one (x + f(x), lesson 6), so that the signal and "
                        "its gradient have a short way through (lesson 6b).", tuple(k for k, _ in graph.outputs),
                        code="no-residual")]
    branches, plain_concats = _branch_concats(graph)
    if not branches:
        if plain_concats:
            cat = plain_concats[0]
            srcs = _merge_inputs(graph, cat.key)
            return [Problem(f"Your concatenate {cat.key!r} joins {', '.join(map(repr, srcs))}, but they are not "
                            f"parallel branches: each is computed from the one before (or is that tensor itself). "
                            f"The task's block splits one tensor into at least two branches, each with a layer of "
                            f"its own (different windows, say), and concatenates their ends, as an Inception "
                            f"module does.", (cat.key, *dict.fromkeys(srcs)), code="not-parallel")]
        return [Problem("Your model has no block of parallel branches: no concatenate joins branches that start "
                        "from the same tensor. The task asks for one, as in an Inception module (lesson 6): at least "
                        "two branches side by side, each with a layer of its own, concatenated along the channels.",
                        tuple(k for k, _ in graph.outputs), code="no-branches")]
    photos = np.random.default_rng(45).random((3, 32, 32, 3), dtype="float32")
    out = np.asarray(run_forward(model, photos))
    if out.shape != (3, _DESIGN_SCORES[-1]):
        raise Stop(f"On 3 photos your model returned shape {out.shape}, not (3, {_DESIGN_SCORES[-1]}).",
                   code="forward-shape")
    add, shortcut, main = residuals[0]
    cat, parallel = branches[0]
    kinds = sorted({n.class_name for n in graph.nodes if n.kind != "input"})
    ctx.verified += [f"input {photo!r} {format_shape(_DESIGN_PHOTO)}; output {scores!r} "
                     f"{format_shape(_DESIGN_SCORES)}, computed from the photo",
                     f"a residual connection: {add.key!r} adds the main path {main!r} and the shortcut "
                     f"{shortcut!r}, which skips the main path's layers",
                     f"parallel branches: {cat.key!r} concatenates {', '.join(map(repr, parallel))}",
                     f"your layers: {', '.join(kinds)}; any layers are fine here",
                     "a forward pass on 3 photos gives (3, 10)"]
    return []


# -- ex4.6 --------------------------------------------------------------------------------------------------------
_COS_FEATURES = 16
_COS_UNITS = 8


def _cosine(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    dot = np.sum(u * v, axis=-1, keepdims=True)
    return dot / (np.linalg.norm(u, axis=-1, keepdims=True) * np.linalg.norm(v, axis=-1, keepdims=True))


def _judge_cosine_migration(answer: Any, ctx: Context) -> list[Problem]:
    """Behaviour: with the student's own weights, the output is the cosine of the two shared projections."""
    model, graph = need_functional(_built(answer, "The two tensors a merge reads need the same shape."), ctx,
                                   why="The Keras 1 code is functional; so is its Keras 3 version.")
    problems = expect_inputs(graph, [(None, _COS_FEATURES)] * 2, names=["query", "document"])
    if problems:
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(f"Your model has {len(outputs)} outputs; the Keras 1 model has one, the similarity of the "
                        f"two texts.", code="output-count")]
    if not any(n.class_name == "Dense" for n in graph.nodes):
        return [Problem(f"Your model has no Dense layer on the way to its output: the Keras 1 code projects each "
                        f"input with one shared Dense layer ({_COS_UNITS} units, tanh) and merges the two "
                        f"projections, not the raw inputs.", tuple(k for k, _ in graph.outputs), code="no-dense")]
    problems = expect_shared(graph, "Dense", 2, what="the projection")
    if problems:
        return problems
    objects = {id(layer): layer for layer in model.layers}
    dense = next(n for n in graph.nodes if n.class_name == "Dense" and n.n_calls >= 2)
    layer = objects.get(dense.layer.uid)
    kernel = np.asarray(layer.kernel.numpy()) if layer is not None and getattr(layer, "kernel", None) is not None \
        else None
    if kernel is None or kernel.shape != (_COS_FEATURES, _COS_UNITS) or dense.layer.activation != "tanh":
        return [Problem(f"The shared Dense layer {dense.key!r} should be the Keras 1 code's projection: {_COS_UNITS} "
                        f"units with tanh, on the {_COS_FEATURES} numbers of each input.", (dense.key,),
                        code="projection-config")]
    bias = np.asarray(layer.bias.numpy()) if layer.use_bias else 0.0
    rng = np.random.default_rng(46)
    query = rng.standard_normal((5, _COS_FEATURES)).astype("float32")
    document = rng.standard_normal((5, _COS_FEATURES)).astype("float32")
    out = run_forward(model, {"query": query, "document": document})
    (_, (out_key, _)), = outputs.items()
    if np.shape(out) != (5, 1):
        return [Problem(f"On 5 pairs your model returns shape {np.shape(out)}; the task's output is one number per "
                        f"pair, shape (5, 1), as a Keras 3 merge layer that takes the dot product along the last "
                        f"axis gives it (it keeps that axis, with size 1).", (out_key,), code="output-shape")]
    pq, pd = np.tanh(query @ kernel + bias), np.tanh(document @ kernel + bias)
    want = _cosine(pq, pd)
    out = np.asarray(out, "float64")
    if np.allclose(out, want, atol=1e-5):
        ctx.verified += [f"inputs 'query' and 'document' {format_shape((None, _COS_FEATURES))}; one output "
                         f"{format_shape((None, 1))}",
                         f"one Dense projection ({_COS_UNITS} units, tanh), {dense.name!r}, called on both inputs",
                         "with your model's own weights, the output is the cosine of the two projections, as "
                         "Keras 1's mode='cos' computed (checked on 5 random pairs)"]
        return []
    if np.allclose(out, np.sum(pq * pd, axis=-1, keepdims=True), atol=1e-4):
        return [Problem("Your output is the plain dot product of the two projections, not their cosine: values "
                        "grow with the vectors' lengths. mode='cos' divides the dot product by both lengths; the "
                        "Keras 3 merge layer does that when you ask it to normalize.", (out_key,),
                        code="dot-not-cosine")]
    if np.allclose(out, -want, atol=1e-5):
        return [Problem("Your output is minus the cosine of the two projections: keras.losses.cosine_similarity is "
                        "a loss, made to be minimised, so it returns the negative. mode='cos' computed the cosine "
                        "itself; use a merge layer for it.", (out_key,), code="negative-cosine")]
    if np.allclose(out, _cosine(query.astype("float64"), document.astype("float64")), atol=1e-5):
        return [Problem("Your output is the cosine of the two inputs themselves: the Keras 1 code merges the two "
                        "projections (the shared Dense layer's outputs), not the raw inputs.", (out_key,),
                        code="cosine-of-inputs")]
    return [Problem("With your model's own weights, the output is not the cosine of the two projections that the "
                    "Keras 1 code computes (checked on 5 random pairs): the shared Dense layer on each input, then "
                    "the cosine of the two results, one number per pair.", (out_key,), code="computes-otherwise")]


EXERCISES = [
    Exercise(
        id="ex4.1", title="Add a residual connection that fits", lesson=LESSON_6, judge=_judge_residual,
        probes=(_probe_residual,),
        answer="your function residual_block (the function itself, without calling it)",
        hints=("The add needs its two inputs in the same shape. Work out the main path's output shape for each of "
               "the check's cases: when does x already have it, and when not?",
               "x fits as it is only when strides=1 and x has `filters` channels. Otherwise pass x through a layer "
               "of its own that changes the channels and, with strides=2, halves the height and width.",
               "That layer is a Conv2D with `filters` filters, kernel size 1 and the block's strides, applied to x "
               "(not to the main path); compare tuple(x.shape) with the main path's output shape to decide. "
               "Lesson 6, 'Identity or projection shortcut', shows one."),
        outline=(("x", "3×3 conv, filters, strides"), ("3×3 conv, filters, strides", "3×3 conv, filters"),
                 ("3×3 conv, filters", "add"),
                 ("x", "shortcut: x itself if the shapes agree, else 1×1 conv (filters, strides)"),
                 ("shortcut: x itself if the shapes agree, else 1×1 conv (filters, strides)", "add"))),
    Exercise(
        id="ex4.2", title="Make this Inception block's branches line up", lesson=LESSON_6, judge=_judge_inception,
        probes=(_probe_inception,),
        answer="your function inception_block (the function itself, without calling it)",
        hints=("Run the check (or lab.shapes on a model around the block, branch by branch): which branch ends at "
               "which height and width?",
               "A 3×3 window without padding loses a pixel on each border, so each 3×3 convolution or pooling "
               "changes the size differently. Keep the windows and strides; change how the borders are treated.",
               "Give every convolution and the pooling padding='same': a stride-1 layer then keeps the size, and a "
               "stride-2 layer halves it, rounded up, in every branch."),
        outline=(("x", "a: 1×1 conv 16, stride 2"), ("a: 1×1 conv 16, stride 2", "concatenate (channels)"),
                 ("x", "b: 1×1 conv 32"), ("b: 1×1 conv 32", "b: 3×3 conv 32, stride 2"),
                 ("b: 3×3 conv 32, stride 2", "concatenate (channels)"),
                 ("x", "c: 3×3 average pool, stride 2"), ("c: 3×3 average pool, stride 2", "c: 3×3 conv 16"),
                 ("c: 3×3 conv 16", "concatenate (channels)"),
                 ("x", "d: 1×1 conv 32"), ("d: 1×1 conv 32", "d: 3×3 conv 32"),
                 ("d: 3×3 conv 32", "d: 3×3 conv 32, stride 2"), ("d: 3×3 conv 32, stride 2", "concatenate (channels)"),
                 ("concatenate (channels)", "half the height and width, 96 channels"))),
    Exercise(
        id="ex4.3", title="Choose the merge: concatenate or add", lesson=LESSON_6, judge=_judge_merges,
        hints=("Look at the shapes: a is (None, 8, 8, 32), b is (None, 8, 8, 16). Which merge accepts different "
               "channel counts, and which one needs equal shapes?",
               "'stacked' keeps every channel of both (32 + 16). 'summed' adds values, so b needs 32 channels "
               "first: a 1×1 convolution changes the channels without touching height and width.",
               "layers.concatenate keeps the order of its list. For 'summed': a Conv2D with 32 filters and kernel "
               "size 1 on b, then layers.add with a. Name the two merges 'stacked' and 'summed', and give both to "
               "keras.Model as outputs."),
        outline=(("a (None, 8, 8, 32)", "stacked: concatenate (None, 8, 8, 48)"),
                 ("b (None, 8, 8, 16)", "stacked: concatenate (None, 8, 8, 48)"),
                 ("b (None, 8, 8, 16)", "1×1 conv, 32 filters"),
                 ("1×1 conv, 32 filters", "summed: add (None, 8, 8, 32)"),
                 ("a (None, 8, 8, 32)", "summed: add (None, 8, 8, 32)"))),
    Exercise(
        id="ex4.4", title="Make a 3×3 convolution cheaper with a 1×1 bottleneck", lesson=LESSON_6B,
        judge=_judge_bottleneck,
        hints=("The cost of a 3×3 convolution grows with (channels in) × (channels out). Where in the block are "
               "there only 32 channels?",
               "Squeeze first: a 1×1 convolution from 128 to 32 channels; then the 3×3 on those 32 (padding='same'); "
               "then a 1×1 convolution back to 128.",
               "Then add feature_map back to the expanded map, and count: 4,128 + 9,248 + 4,224 parameters. "
               "lab.patterns.pointwise_bottleneck() in lesson 6 is the same idea at 256 channels."),
        outline=(("feature_map (None, 8, 8, 128)", "1×1 conv, 32 filters, relu"),
                 ("1×1 conv, 32 filters, relu", "3×3 conv, 32 filters, relu"),
                 ("3×3 conv, 32 filters, relu", "1×1 conv, 128 filters"), ("1×1 conv, 128 filters", "add"),
                 ("feature_map (None, 8, 8, 128)", "add"))),
    Exercise(
        id="ex4.5", title="Design a photo classifier with a residual connection and parallel branches",
        lesson=LESSONS_6_6B, judge=_judge_design_blocks,
        hints=("Start from keras.Input(shape=(32, 32, 3)) and end with 10 scores per photo (pool or flatten the "
               "map before the last Dense layer). In between, the graph is yours.",
               "A residual connection: keep a tensor x, compute y from it with a layer or two (padding='same' "
               "keeps the shape), and add x and y. Parallel branches: call two different layers on the same "
               "tensor and concatenate the results.",
               "One way: a convolution, a residual block of two 3×3 convolutions around it, two branches (a 1×1 "
               "and a 3×3 convolution, both with strides 2 and padding='same') concatenated, global average "
               "pooling, Dense(10). lab.graph(model) should show the skip arrow and the two branches."),
        outline=(("photo (None, 32, 32, 3)", "any layers"), ("any layers", "x"), ("x", "layers: f(x)"),
                 ("x", "add: x + f(x)"), ("layers: f(x)", "add: x + f(x)"),
                 ("add: x + f(x)", "branch 1"), ("add: x + f(x)", "branch 2"),
                 ("branch 1", "concatenate"), ("branch 2", "concatenate"),
                 ("concatenate", "any layers "), ("any layers ", "scores (None, 10)"))),
    Exercise(
        id="ex4.6", title="Translate a Keras 1 merge(mode='cos') model to Keras 3", lesson=LESSON_6,
        judge=_judge_cosine_migration,
        hints=("Keep what still works: the Input layers and the shared Dense layer are the same in Keras 3 "
               "(from keras import layers). Three things changed: merge, and Model's two arguments.",
               "Keras 3 has one merge layer per operation; lesson 6's table says which one replaces mode='cos'. "
               "keras.Model takes inputs= and outputs=, with an s.",
               "layers.Dot(axes=-1, normalize=True) on the two projections computes their cosine: (None, 1)."),
        outline=(("query (None, 16)", "one Dense 8, tanh (called twice)"),
                 ("document (None, 16)", "one Dense 8, tanh (called twice)"),
                 ("one Dense 8, tanh (called twice)", "cosine of the two projections (None, 1)"))),
]
