"""``lab.explain(error)``: the graph and shape errors students hit, in plain words, with a fix.

Each known error is one rule: a regular expression over Keras 3's real message and a function that writes
the explanation from what the message contains (the layer, the shapes that met). An error no rule knows is
shown unchanged, with a note: nothing is hidden.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    title: str
    why: str
    fix: str
    original: str
    layer: str = ""
    shapes: list[str] = field(default_factory=list)
    recognised: bool = True

    def __repr__(self) -> str:
        return f"Explanation({self.title!r})"

    def __str__(self) -> str:
        lines = [self.title]
        if self.layer:
            lines.append(f"layer: {self.layer}")
        if self.shapes:
            lines.append("shapes that met: " + " and ".join(self.shapes))
        lines += [f"why: {self.why}", f"fix: {self.fix}", f"Keras said: {self.original}"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = "#b91c1c" if self.recognised else "#92400e"
        parts = [f"<div style='border-left:4px solid {colour};padding:4px 10px'>",
                 f"<b style='color:{colour}'>{esc(self.title)}</b>"]
        if self.layer:
            parts.append(f"<div>layer: <code>{esc(self.layer)}</code></div>")
        if self.shapes:
            parts.append("<div>shapes that met: " + " and ".join(f"<code>{esc(s)}</code>" for s in self.shapes)
                         + "</div>")
        parts += [f"<div><b>why:</b> {esc(self.why)}</div>", f"<div><b>fix:</b> {esc(self.fix)}</div>",
                  f"<details><summary>Keras said</summary><pre>{esc(self.original)}</pre></details></div>"]
        return "".join(parts)


_SHAPE = r"\((?:[^()]|\([^()]*\))*\)"  # a shape tuple such as (None, 8, 8, 4)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

Rule = tuple[re.Pattern[str], Callable[[re.Match[str], str], Explanation]]
_RULES: list[Rule] = []


def _rule(pattern: str) -> Callable[[Callable[[re.Match[str], str], Explanation]], Callable[..., Explanation]]:
    def register(fn: Callable[[re.Match[str], str], Explanation]) -> Callable[..., Explanation]:
        _RULES.append((re.compile(pattern, re.S), fn))
        return fn
    return register


@_rule(rf"Inputs have incompatible shapes\. Received shapes ({_SHAPE}) and ({_SHAPE})")
def _merge_unequal(m: re.Match[str], original: str) -> Explanation:
    a, b = m.group(1), m.group(2)
    return Explanation(
        title="A merge (Add, Multiply, …) got tensors of different shapes",
        why=(f"Add, Subtract, Multiply, Average, Maximum and Minimum combine their inputs value by value, so the "
             f"shapes after the batch axis must be equal; here they are {a} and {b}."),
        fix=("Make the shortcut match the main path: project it with a 1×1 convolution, e.g. "
             "shortcut = layers.Conv2D(channels, 1, strides=stride, padding='same')(shortcut), as the residual "
             "lesson does; or give the main path padding='same' so the spatial size is kept."),
        original=original, shapes=[a, b])


@_rule(r"A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis\. "
       r"Received: input_shape=\[(.*?)\]")
def _concat_mismatch(m: re.Match[str], original: str) -> Explanation:
    shapes = re.findall(_SHAPE, m.group(1))
    return Explanation(
        title="Concatenate got tensors whose other axes do not line up",
        why=(f"Concatenate glues tensors along one axis (the last by default); every other axis must match. "
             f"The shapes here are {' and '.join(shapes)}: their spatial sizes differ, typically because the "
             f"branches use different kernel sizes or strides with padding='valid'."),
        fix=("Give every branch's convolutions and pooling padding='same' (and the same strides) so the branches "
             "keep the same height and width, as the Inception lesson needs."),
        original=original, shapes=shapes)


@_rule(rf"The total size of the tensor must be unchanged\. Received: input_shape=({_SHAPE}), "
       rf"target_shape=({_SHAPE})")
def _reshape_size(m: re.Match[str], original: str) -> Explanation:
    src, dst = m.group(1), m.group(2)
    nums = [int(x) for x in re.findall(r"\d+", src)]
    tgt = [int(x) for x in re.findall(r"-?\d+", dst)]
    have = _prod(nums)
    want = _prod(tgt)
    return Explanation(
        title="Reshape to a shape with a different number of elements",
        why=(f"Reshape only rearranges values: each sample has {'·'.join(map(str, nums))} = {have:,} values, "
             f"but the target {dst} holds {'·'.join(map(str, tgt))} = {want:,}."),
        fix=(f"Choose a target shape whose sizes multiply to {have:,} (one size may be -1 to let Keras work it "
             f"out), or change the layer before so it produces {want:,} values."),
        original=original, shapes=[src, dst])


@_rule(r"(?:Argument `output` must have rank \(ndim\) `target\.ndim - 1`|Arguments `target` and `output` must "
       rf"have the same rank \(ndim\))\. Received: target\.shape=({_SHAPE}), output\.shape=({_SHAPE})")
def _rank_mismatch(m: re.Match[str], original: str) -> Explanation:
    target, output = m.group(1), m.group(2)
    image_like = output.count(",") >= 3
    why = (f"The model's output has shape {output} but the labels have shape {target}. ")
    if image_like:
        why += ("A Dense layer applied to an image works on the last axis only, so it keeps the height and width: "
                "the model predicts one vector per pixel instead of one per image.")
        fix = ("Put layers.Flatten() (or GlobalAveragePooling2D()) before the Dense classifier so each image becomes "
               "one vector: x = layers.Flatten()(x); outputs = layers.Dense(10)(x).")
    else:
        fix = "Make the last layer produce one prediction per label, or reshape the labels to match the output."
    return Explanation(title="The model's output and the labels have different ranks", why=why, fix=fix,
                       original=original, shapes=[output, target])


@_rule(r"Output with path `(.*?)` is not connected to `inputs`")
def _disconnected(m: re.Match[str], original: str) -> Explanation:
    return Explanation(
        title="The model's output does not come from its inputs (graph disconnected)",
        why=("keras.Model(inputs, outputs) follows the arrows back from each output; here they never reach the "
             "inputs you passed, so the output was computed from another Input."),
        fix=("Build the outputs by calling layers on these inputs (x = layer(inputs) …), or pass the Input the "
             "outputs really come from; lab.graph(outputs) draws what an output depends on."),
        original=original)


@_rule(r'Layer "(\w+)" expects (\d+) (?:named )?input\(s\)(?: with keys (\[.*?\]))?, but it received (\d+) input '
       r"tensors")
def _wrong_count(m: re.Match[str], original: str) -> Explanation:
    layer, want, keys, got = m.group(1), m.group(2), m.group(3), m.group(4)
    names = f" named {keys}" if keys else ""
    return Explanation(
        title=f"Model {layer!r} was called with the wrong number of inputs",
        why=f"It was built with {want} input(s){names}, and received {got}.",
        fix=("Pass exactly one array per model input, as a list in the order of model.inputs or as a dict keyed "
             "by the input names: model.predict({'name': array, …})."),
        original=original, layer=layer)


@_rule(rf"Input (\d+) with name '([^']*)' of layer '([^']*)' is incompatible with the layer: expected "
       rf"shape=({_SHAPE}), found shape=({_SHAPE})")
def _wrong_shape(m: re.Match[str], original: str) -> Explanation:
    _index, name, layer, want, got = m.groups()
    return Explanation(
        title=f"Input {name!r} of {layer!r} got data of the wrong shape",
        why=f"It was declared as keras.Input with shape {want} (None is the batch), but the data has shape {got}.",
        fix=(f"Reshape or preprocess the data to {want} per batch (e.g. x.reshape(-1, …)), or rebuild the model "
             f"with keras.Input(shape=…) matching the data."),
        original=original, layer=layer, shapes=[want, got])


@_rule(rf"of layer '([^']*)' is incompatible with the layer: expected axis (-?\d+) of input shape to have value "
       rf"(\d+), but received input with shape ({_SHAPE})")
def _axis_value(m: re.Match[str], original: str) -> Explanation:
    layer, axis, want, got = m.groups()
    return Explanation(
        title=f"Layer {layer!r} was built for inputs of size {want}, and got {got}",
        why=(f"A layer makes its weights the first time it is called, sized for that input: {layer!r} expects "
             f"{want} values on axis {axis}. Calling the same layer object again on a tensor of another size "
             f"(here {got}) cannot use those weights."),
        fix=(f"Call {layer!r} only on tensors with {want} values on axis {axis} (reshape or project them first, "
             f"e.g. with a Dense({want}) layer), or make a new layer for the other size if it should not share "
             f"weights."),
        original=original, layer=layer, shapes=[got])


@_rule(r"Unrecognized keyword arguments passed to Model: \{'(input|output)s?'")
def _keras1_keywords(m: re.Match[str], original: str) -> Explanation:
    return Explanation(
        title="Keras 1 keywords: Model(input=…, output=…)",
        why="Keras 1 spelled them input= and output=; Keras 2 and 3 spell them inputs= and outputs=.",
        fix="keras.Model(inputs=…, outputs=…), or simply keras.Model(inputs, outputs).",
        original=original)


@_rule(r"cannot import name 'merge' from 'keras\.layers'")
def _keras1_merge(m: re.Match[str], original: str) -> Explanation:
    return Explanation(
        title="Keras 1's merge(mode=...) is gone",
        why="Keras 2 replaced merge(..., mode='concat'/'sum'/...) with one function per operation.",
        fix=("layers.concatenate, add, multiply, average, subtract, maximum, minimum, or dot(axes=-1, "
             "normalize=True) for cosine similarity."),
        original=original)


def _prod(values: list[int]) -> int:
    total = 1
    for v in values:
        total *= v
    return total


def explain(error: BaseException | str) -> Explanation:
    """Turn a Keras graph or shape error into what went wrong, the shapes that met, and a concrete fix.

    Accepts the exception (``except Exception as err: lab.explain(err)``) or its message. Never raises.
    """
    try:
        original = _ANSI.sub("", str(error)).strip()
        kind = type(error).__name__ if isinstance(error, BaseException) else "Error"
        for pattern, build in _RULES:
            match = pattern.search(original)
            if match:
                return build(match, original)
        return Explanation(
            title=f"{kind}: fapi_lab does not know this error yet",
            why="It is shown unchanged below; read the last line of Keras's message first.",
            fix="If it is about shapes, lab.shapes(model) or lab.graph(tensor) shows every shape up to this point.",
            original=original, recognised=False)
    except Exception as exc:  # explain must never hide the student's error behind its own
        return Explanation(title="Could not explain this error", why=f"(explain failed: {exc!r})", fix="",
                           original=str(error), recognised=False)
