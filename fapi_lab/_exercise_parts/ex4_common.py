"""Helpers of the ex4 judges: calling a student's block on fresh inputs, reading layers and shapes."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _keras_adapter as adapter
from .._exercises import Context, Problem, Stop, explain_raised, need_model
from .._i18n import _
from .._layergraph import LayerGraph, Node, Shape
from .._render_dot import format_shape

__all__ = [
    "_CONCAT_MISMATCH",
    "_MERGE_MISMATCH",
    "_Call",
    "_adds",
    "_as_model",
    "_batch",
    "_built",
    "_call_block",
    "_in_order",
    "_is_conv",
    "_is_pointwise",
    "_kernel",
    "_listing",
    "_merge_inputs",
    "_need_signature",
    "_no_skip_message",
    "_raised",
    "_relu_follows",
    "_residual_pair",
    "_shapes_in",
    "_strides",
]


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
        raise Stop(_("The check calls your function like the task's {signature}, and Python says: {error}. Give "
                     "it exactly the task's arguments.").format(signature=signature, error=exc),
                   code="wrong-kind:signature") from None
    except ValueError:  # no signature to read (a builtin): let the call itself tell
        return


def _need_tensor(result: Any, case: str) -> Any:
    import keras

    if isinstance(result, keras.KerasTensor):
        return result
    if result is None:
        raise Stop(_("Called on {case}, your function returned None: it must end by returning the block's output "
                     "tensor (the result of its last layer call), so that blocks can be chained.").format(case=case),
                   code="not-answered:returned-none")
    if isinstance(result, keras.Model):
        raise Stop(_("Called on {case}, your function returned a model ({name!r}); the task's block returns the "
                     "output tensor, so it can be used in the middle of a bigger model. Return the tensor and leave "
                     "keras.Model to whoever calls the block.").format(case=case, name=result.name),
                   code="wrong-kind:returned-model")
    if isinstance(result, list | tuple):
        raise Stop(_("Called on {case}, your function returned a {cls} of {n} items; the task's block returns one "
                     "tensor.").format(case=case, cls=type(result).__name__, n=len(result)),
                   code="wrong-kind:returned-list")
    raise Stop(_("Called on {case}, your function returned a {cls}, not a symbolic tensor: return the output of the "
                 "block's last layer call.").format(case=case, cls=type(result).__name__),
               code="wrong-kind:returned-other")


def _as_model(call: _Call, ctx: Context, case: str, name: str) -> tuple[Any, LayerGraph]:
    import keras

    y = _need_tensor(call.result, case)
    try:
        model = keras.Model(call.x, y, name=name)
    except ValueError as exc:
        if "not connected" not in str(exc):
            raise Stop(_raised(exc, _("Making a model of your block on {case}").format(case=case)),
                       code="raised:model") from None
        raise Stop(_("Called on {case}, your function returned a tensor that is not computed from the x it was "
                     "given. Build the block on the argument x: don't make a new keras.Input inside the function, "
                     "and don't use a tensor from an earlier cell.").format(case=case),
                   code="block-not-on-x") from None
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
            met = _(" and ").join(format_shape(s) for s in _shapes_in(exc)[:2]) or _("two different shapes")
            raise Stop(_("Calling your function raised {error}: an add got {met}. An add sums value by value, so "
                         "both tensors need the same shape.").format(error=type(exc).__name__, met=met)
                       + " " + _(merge_advice), code="raised:add-shapes") from None
        raise Stop(_raised(exc, _("Calling your function")), code="raised") from None



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
    names = _(" and ").join(repr(s) for s in srcs)
    if set(srcs) == {in_key}:
        what = _("Your add {add!r} adds the block input to itself: the convolutions are not on any path to "
                 "it.").format(add=add.key)
    else:
        what = _("Your add {add!r} adds {names}, which are all computed through the same convolutions, so nothing "
                 "skips them and this is not a residual connection (the gradient gets no short path "
                 "back).").format(add=add.key, names=names)
    return Problem(what + " " + _("One input of the add must be the main path's output, the other the block's input "
                                  "{x!r} itself, or, when the shapes differ, {x!r} through a 1×1 convolution of its "
                                  "own (beside the main path, not after it).").format(x=in_key),
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
