"""The catalogue of errors ``lab.explain`` knows: one rule per Keras 3 message, every text in one place.

A rule is a regular expression over Keras's real message (measured on Keras 3.15) and a function that writes the
explanation from what the message contains: the layer, the shapes that met. Advice depends on the tensors:
a vector, a sequence and a feature map each get the fix that fits them. ``Facts`` carries what the caller gave
besides the error (the inputs an output really comes from), so a rule can name them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ._i18n import _, ngettext

__all__ = ["RULES", "Facts", "Found", "join_and", "parse_shape", "rank_name"]

_SHAPE = r"\((?:[^()]|\([^()]*\))*\)"  # a shape tuple such as (None, 8, 8, 4)


@dataclass(frozen=True)
class Found:
    """What a rule says: the parts of an explanation."""

    title: str
    why: str
    fix: str
    layer: str = ""
    shapes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    """What the caller knows besides the message: the Input layers (name, shape) the outputs come from."""

    sources: tuple[tuple[str, str], ...] = ()
    not_inputs: tuple[tuple[int, str], ...] = ()  # (position in inputs=, the layer that made that tensor)


Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Facts], Found]]
RULES: list[Rule] = []


def _rule(pattern: str) -> Callable[[Callable[[re.Match[str], Facts], Found]], Callable[..., Found]]:
    def register(fn: Callable[[re.Match[str], Facts], Found]) -> Callable[..., Found]:
        RULES.append((re.compile(pattern, re.S), fn))
        return fn
    return register


def parse_shape(text: str) -> tuple[int | None, ...] | None:
    """'(None, 8, 8, 4)' -> (None, 8, 8, 4); anything that is not a flat shape tuple -> None."""
    inner = text.strip()[1:-1].strip().rstrip(",")
    if not inner:
        return ()
    sizes: list[int | None] = []
    for part in inner.split(","):
        part = part.strip()
        if part == "None":
            sizes.append(None)
        elif re.fullmatch(r"-?\d+", part):
            sizes.append(int(part))
        else:
            return None
    return tuple(sizes)


def rank_name(per_sample_rank: int) -> str:
    """What a tensor of this rank per sample is, in words (a noun phrase substituted into messages)."""
    names = {0: _("a single number"), 1: _("a vector"), 2: _("a sequence (steps, features)"),
             3: _("a feature map (height, width, channels)")}
    return names.get(per_sample_rank) or _("a rank-{rank} tensor").format(rank=per_sample_rank)


def join_and(items: list[str]) -> str:
    """'A and B (and C …)': shapes or code joined in the current language."""
    return _(" and ").join(items)


def _axes(numbers: list[int]) -> str:
    words = [str(a) for a in numbers]
    return words[0] if len(words) == 1 else _("{axes} and {last}").format(axes=", ".join(words[:-1]),
                                                                          last=words[-1])


def _prod(values: list[int]) -> int:
    total = 1
    for v in values:
        total *= v
    return total


# -- merges -----------------------------------------------------------------------------------------------
def _elementwise_fix(a: tuple[int | None, ...], b: tuple[int | None, ...]) -> str:
    """Per-sample shapes (no batch axis) -> the fix that fits their rank."""
    if len(a) != len(b):
        return _("The two tensors do not even have the same rank ({first} and {second}): reshape one, or merge "
                 "tensors taken at matching points of the two paths.").format(first=rank_name(len(a)),
                                                                              second=rank_name(len(b)))
    if len(a) == 1:
        return _("Project one vector to the other's size with a Dense layer, e.g. layers.Dense({a})(the {b}-wide "
                 "tensor), or change the units of the layer that made it.").format(a=a[0], b=b[0])
    same_but_last = a[:-1] == b[:-1]
    if len(a) == 2:
        if same_but_last:
            return _("Both sequences have {steps} steps but {a} and {b} features per step: project one with "
                     "layers.Dense({a}) (a Dense works on the last axis, so on each step) or "
                     "layers.Conv1D({a}, 1).").format(steps=a[0], a=a[1], b=b[1])
        return _("The sequences have different numbers of steps: give the Conv1D and pooling layers on the "
                 "longer path padding='same' and strides=1, or make both paths shrink the steps alike.")
    if len(a) == 3:
        if same_but_last:
            return _("The maps have the same height and width but {a} and {b} channels: project one with a "
                     "1×1 convolution, e.g. layers.Conv2D({a}, 1, padding='same')(shortcut), as a residual "
                     "block with a projection does.").format(a=a[-1], b=b[-1])
        return _("The maps have different heights or widths: give the main path's convolutions padding='same' "
                 "(and the shortcut the same strides, e.g. a 1×1 Conv2D with strides=2 when the main path halves "
                 "the size).")
    return _("Make the shapes after the batch axis equal (reshape or project one tensor) before merging.")


@_rule(rf"Inputs have incompatible shapes\. Received shapes ({_SHAPE}) and ({_SHAPE})")
def _merge_unequal(m: re.Match[str], facts: Facts) -> Found:
    a_text, b_text = m.group(1), m.group(2)
    a, b = parse_shape(a_text), parse_shape(b_text)
    kind = "" if a is None else _(" ({kind} per sample)").format(kind=rank_name(len(a)))
    fix = _elementwise_fix(a, b) if a is not None and b is not None else \
        _("Make the shapes after the batch axis equal before merging.")
    return Found(
        title=_("A merge (Add, Multiply, …) got tensors of different shapes"),
        why=_("Add, Subtract, Multiply, Average, Maximum and Minimum combine their inputs value by value, so the "
              "shapes after the batch axis must be equal (or 1 where they differ); here they are {a} and "
              "{b}{kind}.").format(a=a_text, b=b_text, kind=kind),
        fix=fix, shapes=[a_text, b_text])


@_rule(r"A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis\. "
       r"Received: input_shape=\[(.*?)\]")
def _concat_mismatch(m: re.Match[str], facts: Facts) -> Found:
    texts = re.findall(_SHAPE, m.group(1))
    shapes = [parse_shape(t) for t in texts]
    why = _("Concatenate glues tensors along one axis (the last, axis=-1, unless you set axis=); every other axis "
            "must match. The shapes here are {shapes}.").format(shapes=join_and(texts))
    fix = _("Make every axis except the concatenation axis equal.")
    if all(s is not None for s in shapes) and len({len(s) for s in shapes}) == 1:  # type: ignore[arg-type]
        rank = len(shapes[0])  # type: ignore[arg-type]
        differ = [axis for axis in range(1, rank) if len({s[axis] for s in shapes}) > 1]  # type: ignore[index]
        if differ:
            why += ngettext(" They differ on axis {axes} (axis 0 is the batch).",
                            " They differ on axes {axes} (axis 0 is the batch).", len(differ)).format(
                                axes=_axes(differ))
            if len(differ) == 1:
                fix = _("If you meant to join them along axis {axis}, say so: layers.Concatenate(axis={axis}). "
                        "Otherwise make axis {axis} equal on every input.").format(axis=differ[0])
            else:
                spatial = [axis for axis in differ if axis < rank - 1]
                if rank == 4 and spatial:
                    fix = _("Only one axis may differ, the one you join along. Here axes {axes} differ: make all "
                            "but the concatenation axis equal, typically by giving every branch's convolutions and "
                            "pooling padding='same' and the same strides, so the branches keep the same height and "
                            "width (as an Inception module needs).")
                elif rank == 3 and spatial:
                    fix = _("Only one axis may differ, the one you join along. Here axes {axes} differ: make all "
                            "but the concatenation axis equal: the sequences have different numbers of steps; give "
                            "the Conv1D and pooling layers padding='same' and equal strides on every branch.")
                else:
                    fix = _("Only one axis may differ, the one you join along. Here axes {axes} differ: make all "
                            "but the concatenation axis equal.")
                fix = fix.format(axes=_axes(differ))
    elif all(s is not None for s in shapes):
        why += _(" They do not even have the same rank.")
        fix = _("Reshape the inputs to the same rank (Flatten, Reshape or RepeatVector), then concatenate.")
    return Found(title=_("Concatenate got tensors whose other axes do not line up"), why=why, fix=fix,
                 shapes=texts)


@_rule(r"Incompatible input shapes: axis values (\d+) \(at axis (\d+)\) != (\d+) \(at axis (\d+)\)\. "
       rf"Full input shapes: ({_SHAPE}), ({_SHAPE})")
def _dot_mismatch(m: re.Match[str], facts: Facts) -> Found:
    n1, ax1, n2, ax2, s1, s2 = m.groups()
    return Found(
        title=_("Dot got tensors of different lengths along the axes it multiplies"),
        why=_("Dot multiplies the values along axis {ax1} of the first input with those along axis {ax2} of the "
              "second and sums them, so both axes need the same size; here they have {n1} and {n2}.").format(
                  ax1=ax1, ax2=ax2, n1=n1, n2=n2),
        fix=_("Project one input to the other's size first (e.g. layers.Dense({n1})), or choose other axes with "
              "layers.Dot(axes=...).").format(n1=n1),
        shapes=[s1, s2])


# -- losses and labels ------------------------------------------------------------------------------------
def _shapes_why(output_text: str, target_text: str) -> str:
    """The first sentence of a label explanation (the next one follows it directly)."""
    return _("The model's output has shape {output} and the labels have shape {target}. ").format(
        output=output_text, target=target_text)


_TARGET_OUTPUT = rf"Received: target\.shape=({_SHAPE}), output\.shape=({_SHAPE})"


@_rule(rf"Argument `output` must have rank \(ndim\) `target\.ndim - 1`\. {_TARGET_OUTPUT}")
def _sparse_rank(m: re.Match[str], facts: Facts) -> Found:
    target_text, output_text = m.group(1), m.group(2)
    target, output = parse_shape(target_text), parse_shape(output_text)
    why = _shapes_why(output_text, target_text)
    if target is not None and output is not None and len(target) == len(output) and target[-1] == output[-1]:
        return Found(
            title=_("One-hot labels with a sparse loss"),
            why=why + _("A sparse cross-entropy wants each label as one class number (shape (batch,)), but these "
                        "labels are one-hot rows of {n} values.").format(n=target[-1]),
            fix=_("Use loss=keras.losses.CategoricalCrossentropy(...) (or 'categorical_crossentropy') with one-hot "
                  "labels, or keep the sparse loss and give class numbers: y.argmax(axis=-1)."),
            shapes=[output_text, target_text])
    if target is not None and output is not None and len(output) > len(target) + 1:
        per_sample = output[1:-1]
        return Found(
            title=_("The model predicts many vectors per sample: a Dense layer on an input that was not flattened"),
            why=why + _("A Dense layer works on the last axis only, so it kept the axes {axes} of each sample: the "
                        "model predicts {n:,} vectors per sample instead of one.").format(
                            axes=per_sample, n=_prod([s or 1 for s in per_sample])),
            fix=_("Put layers.Flatten() (or a global pooling layer, e.g. GlobalAveragePooling2D() for images) before "
                  "the Dense layers so each sample becomes one vector: x = layers.Flatten()(x)."),
            shapes=[output_text, target_text])
    return Found(
        title=_("The model's output and the labels have different ranks"),
        why=why + _("A sparse cross-entropy wants one class number per sample and one score per class in the "
                    "output."),
        fix=_("Make the last layer produce one score per class, or reshape the labels to one class number per "
              "sample."),
        shapes=[output_text, target_text])


@_rule(rf"Arguments `target` and `output` must have the same (rank \(ndim\)|shape)\. {_TARGET_OUTPUT}")
def _categorical_labels(m: re.Match[str], facts: Facts) -> Found:
    target_text, output_text = m.group(2), m.group(3)
    target, output = parse_shape(target_text), parse_shape(output_text)
    why = _shapes_why(output_text, target_text)
    if target is not None and output is not None and (len(target) == 1 or (len(target) == 2 and target[-1] == 1)) \
            and len(output) == 2 and (output[-1] or 0) > 1:
        return Found(
            title=_("Class numbers as labels with a categorical loss"),
            why=why + _("A categorical cross-entropy wants one-hot labels ({n} values per sample), but these labels "
                        "are one class number per sample.").format(n=output[-1]),
            fix=_("Use loss=keras.losses.SparseCategoricalCrossentropy(...) (or 'sparse_categorical_crossentropy') "
                  "with class numbers, or make one-hot labels: keras.utils.to_categorical(y, {n}).").format(
                      n=output[-1]),
            shapes=[output_text, target_text])
    return Found(
        title=_("The model's output and the labels have different shapes"),
        why=why + _("This loss compares them value by value, so they must have the same shape."),
        fix=_("Make the last layer produce one value per label value, or reshape the labels to the output's "
              "shape."),
        shapes=[output_text, target_text])


# -- layers given the wrong kind of tensor ----------------------------------------------------------------
@_rule(rf"Input (\d+) with name '([^']*)' of layer '([^']*)' is incompatible with the layer: expected "
       rf"(min_)?ndim=(\d+), found ndim=(\d+)\. Full shape received: ({_SHAPE})")
def _wrong_rank(m: re.Match[str], facts: Facts) -> Found:
    _index, _name, layer, minimum, want_text, got_text, shape = m.groups()
    want, got = int(want_text), int(got_text)
    expects = rank_name(want - 1)
    gets = rank_name(got - 1)
    parsed = parse_shape(shape)
    if want == 3 and got == 2:
        fix = _("Give it a time axis: an Embedding layer for integer word ids (it turns (batch, steps) into "
                "(batch, steps, features)), or layers.Reshape(({steps}, 1)) to read each value as one step, or "
                "layers.RepeatVector(n) to repeat a vector n times.").format(
                    steps=parsed[-1] if parsed else "steps")
    elif want == 4 and got == 3 and parsed:
        fix = _("A grayscale image needs a channel axis: keras.Input(shape={shape}) with the data reshaped to match "
                "(x[..., None]), or layers.Reshape({shape}) before this layer.").format(shape=(*parsed[1:], 1))
    elif want < got:
        fix = _("Flatten or pool the extra axes first (layers.Flatten(), GlobalAveragePooling…), or use the layer "
                "made for this rank (Conv2D for images, Conv1D/LSTM for sequences).")
    else:
        fix = _("Reshape the tensor to the rank this layer reads, or use a layer made for the rank you have.")
    if minimum:
        why = _("{layer!r} needs inputs of rank at least {want} counting the batch axis ({expects} per sample); "
                "{shape} has rank {got}.")
    else:
        why = _("{layer!r} needs inputs of rank {want} counting the batch axis ({expects} per sample); {shape} has "
                "rank {got}.")
    return Found(
        title=_("Layer {layer!r} reads {expects} per sample, and got {gets}").format(layer=layer, expects=expects,
                                                                                    gets=gets),
        why=why.format(layer=layer, want=want, expects=expects, shape=shape, got=got),
        fix=fix, layer=layer, shapes=[shape])


@_rule(rf"Input (\d+) with name '([^']*)' of layer '([^']*)' is incompatible with the layer: expected "
       rf"shape=({_SHAPE}), found shape=({_SHAPE})")
def _wrong_shape(m: re.Match[str], facts: Facts) -> Found:
    _index, name, layer, want, got = m.groups()
    return Found(
        title=_("Input {name!r} of {layer!r} got data of the wrong shape").format(name=name, layer=layer),
        why=_("The model declares this input with shape {want} (None is the batch), but the data has shape "
              "{got}.").format(want=want, got=got),
        fix=_("Give data of shape {want} per batch (e.g. x.reshape(len(x), …)), or rebuild the model with "
              "keras.Input(shape=…) matching the data.").format(want=want),
        layer=layer, shapes=[want, got])


@_rule(rf"of layer '([^']*)' is incompatible with the layer: expected axis (-?\d+) of input shape to have value "
       rf"(\d+), but received input with shape ({_SHAPE})")
def _axis_value(m: re.Match[str], facts: Facts) -> Found:
    layer, axis, want, got = m.groups()
    return Found(
        title=_("Layer {layer!r} was built for inputs of size {want}, and got {got}").format(layer=layer, want=want,
                                                                                            got=got),
        why=_("A layer makes its weights the first time it is called, sized for that input: {layer!r} expects "
              "{want} values on axis {axis}. Calling the same layer object again on a tensor of another size "
              "(here {got}) cannot use those weights.").format(layer=layer, want=want, axis=axis, got=got),
        fix=_("Call {layer!r} only on tensors with {want} values on axis {axis} (reshape or project them first, "
              "e.g. with a Dense({want}) layer), or make a new layer for the other size if it should not share "
              "weights.").format(layer=layer, want=want, axis=axis),
        layer=layer, shapes=[got])


# -- reshape ---------------------------------------------------------------------------------------------
@_rule(rf"The total size of the tensor must be unchanged\. Received: input_shape=({_SHAPE}), "
       rf"target_shape=({_SHAPE})")
def _reshape_size(m: re.Match[str], facts: Facts) -> Found:
    src, dst = m.group(1), m.group(2)
    nums = [int(x) for x in re.findall(r"\d+", src)]
    tgt = [int(x) for x in re.findall(r"-?\d+", dst)]
    have, want = _prod(nums), _prod(tgt)
    return Found(
        title=_("Reshape to a shape with a different number of elements"),
        why=_("Reshape only rearranges values: each sample has {sizes} = {have:,} values, but the target {target} "
              "holds {target_sizes} = {want:,}.").format(sizes="·".join(map(str, nums)), have=have, target=dst,
                                                         target_sizes="·".join(map(str, tgt)), want=want),
        fix=_("Choose a target shape whose sizes multiply to {have:,} (one size may be -1 to let Keras work it "
              "out), or change the layer before so it produces {want:,} values.").format(have=have, want=want),
        shapes=[src, dst])


@_rule(rf"the input size cannot by divided by the specified dimensions in target_shape\. Received: "
       rf"input_shape=({_SHAPE}), target_shape=({_SHAPE})")
def _reshape_unknown(m: re.Match[str], facts: Facts) -> Found:
    src, dst = m.group(1), m.group(2)
    have = _prod([int(x) for x in re.findall(r"\d+", src)])
    known = _prod([int(x) for x in re.findall(r"(?<!-)\b\d+", dst)])
    return Found(
        title=_("Reshape with -1: the known sizes do not divide the number of values"),
        why=_("-1 asks Keras to work out one size, so that the sizes multiply to the {have:,} values of each "
              "sample; the other sizes of {target} multiply to {known:,}, and {have:,} is not a multiple of "
              "{known:,}.").format(have=have, target=dst, known=known),
        fix=_("Choose known sizes whose product divides {have:,} (for example {divisors}), or change the layer "
              "before so it produces a multiple of {known:,} values.").format(have=have, divisors=_divisor_hint(have),
                                                                             known=known),
        shapes=[src, dst])


def _divisor_hint(n: int) -> str:
    divisors = [d for d in range(2, min(n, 64) + 1) if n % d == 0]
    return ", ".join(str(d) for d in divisors[:4]) if divisors else "1"


@_rule(r"There must be at most one unknown dimension \(-1\) in `target_shape`\. Received: target_shape=(\(.*?\))")
def _reshape_two_unknowns(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("Reshape with more than one -1"),
        why=_("-1 means 'work this size out from the others'; with two of them in {target} there is no single "
              "answer.").format(target=m.group(1)),
        fix=_("Write every size but one as a number, e.g. layers.Reshape((-1, 7))."),
        shapes=[m.group(1)])


# -- models and graphs ------------------------------------------------------------------------------------
@_rule(r"Output with path `(.*?)` is not connected to `inputs`")
def _disconnected(m: re.Match[str], facts: Facts) -> Found:
    why = _("keras.Model(inputs, outputs) follows the arrows back from each output; here they never reach the "
            "inputs you passed, so the output was computed from another Input.")
    if facts.not_inputs:
        said = _("; ").join(_("inputs[{i}] is not an Input: it is the output of layer {layer!r}").format(
            i=i, layer=layer) for i, layer in facts.not_inputs)
        why = _("Every tensor in inputs= must come straight from keras.Input; {said}. Was the variable that held "
                "the Input given a new value (right_input = base(right_input))?").format(said=said)
        fix = _("Keep the Input in its own variable and give the layer's output another name (right_features = "
                "base(right_input)); then pass the Inputs to keras.Model.")
        if facts.sources:
            fix += _(" The outputs come from {names}.").format(
                names=", ".join(repr(name) for name, _shape in facts.sources))
        return Found(title=_("An input of the model is not an Input (graph disconnected)"), why=why, fix=fix)
    if facts.sources:
        count = len(facts.sources)
        names = ", ".join(f"{name!r} {shape}" for name, shape in facts.sources)
        why += ngettext(" The outputs come from the Input {names}.", " The outputs come from the Inputs {names}.",
                        count).format(names=names)
        fix = ngettext("Pass the Input the outputs really come from ({names}) as the model's inputs, or build the "
                       "outputs by calling layers on the inputs you meant.",
                       "Pass the Inputs the outputs really come from ({names}) as the model's inputs, or build the "
                       "outputs by calling layers on the inputs you meant.", count).format(names=names)
    else:
        fix = _("Build the outputs by calling layers on these inputs (x = layer(inputs) …), or pass the Input the "
                "outputs really come from; lab.explain(error, outputs) names it, and lab.graph(outputs) draws what "
                "an output depends on.")
    return Found(title=_("The model's output does not come from its inputs (graph disconnected)"), why=why, fix=fix)


@_rule(r'Layer "(\w+)" expects (\d+) (?:named )?input\(s\)(?: with keys (\[.*?\]))?, but it received (\d+) input '
       r"tensors")
def _wrong_count(m: re.Match[str], facts: Facts) -> Found:
    layer, want, keys, got = m.group(1), m.group(2), m.group(3), m.group(4)
    why = _("It was built with {want} input(s) named {keys}, and received {got}.") if keys else \
        _("It was built with {want} input(s), and received {got}.")
    return Found(
        title=_("Model {layer!r} was called with the wrong number of inputs").format(layer=layer),
        why=why.format(want=want, keys=keys, got=got),
        fix=_("Pass exactly one array per model input, as a list in the order of model.inputs or as a dict keyed "
              "by the input names: model.predict({{'name': array, …}}).").format(),
        layer=layer)


@_rule(r"Unrecognized keyword arguments passed to Model: \{'(input|output)s?'")
def _keras1_keywords(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("Keras 1 keywords: Model(input=…, output=…)"),
        why=_("Keras 1 spelled them input= and output=; Keras 2 and 3 spell them inputs= and outputs=."),
        fix=_("keras.Model(inputs=…, outputs=…), or simply keras.Model(inputs, outputs)."))


@_rule(r"cannot import name 'merge' from 'keras\.layers'|module 'keras\.layers' has no attribute 'merge'")
def _keras1_merge(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("Keras 1's merge(mode=...) is gone"),
        why=_("Keras 2 replaced merge(..., mode='concat'/'sum'/...) with one function per operation."),
        fix=_("layers.concatenate, add, multiply, average, subtract, maximum, minimum, or dot(axes=-1, "
              "normalize=True) for cosine similarity."))


# -- saving and loading ----------------------------------------------------------------------------------
@_rule(r"Could not locate class '([^']+)'")
def _unknown_class(m: re.Match[str], facts: Facts) -> Found:
    name = m.group(1)
    return Found(
        title=_("Loading a model that uses {name!r}, a class Keras does not know here").format(name=name),
        why=_("A saved model stores the name of each layer class, not its code. To rebuild {name!r}, Keras must "
              "find the class in this Python session.").format(name=name),
        fix=_("Run the cell that defines {name} first, then load with custom_objects={{{name!r}: {name}}}, or "
              "decorate the class with @keras.saving.register_keras_serializable() before saving and "
              "loading.").format(name=name),
        layer=name)


@_rule(r"Invalid filepath extension for saving\. .*?Received: filepath=(\S*)")
def _save_extension(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("model.save needs a file name ending in .keras"),
        why=_("Keras 3 picks the format from the extension: .keras (the native format) or .h5 (legacy). A name "
              "without one was a SavedModel folder in TensorFlow 2, which Keras 3 writes with model.export()."),
        fix=_("model.save('my_model.keras'); for a SavedModel to serve, model.export('my_model_dir'), reloaded "
              "for inference with keras.layers.TFSMLayer('my_model_dir', call_endpoint='serve')."))


@_rule(r"The filename must end in `\.weights\.h5`\. Received: filepath=(\S*)")
def _weights_extension(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("save_weights needs a file name ending in .weights.h5"),
        why=_("Keras 3 writes weights only in its own HDF5 layout, and recognises the file by that double "
              "extension; TensorFlow checkpoints (a name without extension) are gone."),
        fix=_("model.save_weights('my_model.weights.h5') and model.load_weights('my_model.weights.h5')."))


@_rule(r"Unknown variable: <Variable path=([^,]+),.*?This optimizer can only be called for the variables it was "
       r"originally built with")
def _stale_optimizer(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("The optimizer belongs to other variables (a model loaded from .h5, or a rebuilt model)"),
        why=_("An optimizer keeps state for the exact variables it was built with; {variable} is not one of "
              "them. A model loaded from a legacy .h5 file comes back with an optimizer built for the saved "
              "variables, not the new ones.").format(variable=m.group(1)),
        fix=_("Load with keras.models.load_model(path, compile=False) and compile again, or save and load the "
              ".keras format, which restores the optimizer properly."))


@_rule(r"Could not deserialize '([\w.]+)' because it is not a KerasSaveable subclass")
def _short_metric_name(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("A legacy .h5 file cannot bring back {name!r}").format(name=m.group(1)),
        why=_("The .h5 format stores the compile settings as names; short names such as 'mse' or 'mae' are "
              "written as keras.metrics.mse, which Keras 3 cannot rebuild."),
        fix=_("Save as .keras (model.save('m.keras')), or compile with the full name (loss='mean_squared_error'), "
              "or load with compile=False and compile again."))


@_rule(r"Could not automatically infer the output shape / dtype of '([^']+)' \(of type (\w+)\)\..*?"
       r"Error encountered:\s*(.*?)(?:\n\s*\n|Arguments received|$)")
def _call_failed_on_symbolic_input(m: re.Match[str], facts: Facts) -> Found:
    layer, cls, inner = m.group(1), m.group(2), m.group(3).strip()
    why = _("To learn the shape of {layer!r}'s output, Keras ran {cls}.call() on a symbolic input, whose batch "
            "size is None, and call() failed with: {error}").format(layer=layer, cls=cls, error=inner)
    if "got None" in inner or "NoneType" in inner:
        fix = _("A size read with x.shape[i] is None while the model is built (the batch axis is unknown). Read it "
                "when the layer runs: keras.ops.shape(x)[0] instead of x.shape[0], e.g. "
                "keras.ops.zeros((keras.ops.shape(x)[0], units)).")
    elif "Dimensions must be equal" in inner or "Incompatible shapes" in inner or "incompatible" in inner:
        fix = _("A product or sum in call() met two tensors whose sizes do not fit: check the weights' shapes "
                "made in build() against the input (for a matmul, the input's last axis must equal the kernel's "
                "first), and use input_shape[-1] rather than input_shape[1] for the feature size.")
    else:
        fix = _("The line of call() that failed is the one this message is about; run {cls}()(keras.Input(...)) "
                "alone to see it, or give the layer a compute_output_shape() method.").format(cls=cls)
    return Found(title=_("{cls}.call() failed while Keras worked out its output shape").format(cls=cls), why=why,
                 fix=fix, layer=layer)


@_rule(r"`loss_weights` must match the number of losses, got (\d+) losses and (\d+) weights")
def _one_loss_many_weights(m: re.Match[str], facts: Facts) -> Found:
    losses, weights = m.group(1), m.group(2)
    return Found(
        title=_("{losses} loss for {weights} loss weights (Keras 1's one loss string with a list of "
                "weights)").format(losses=losses, weights=weights),
        why=_("A single loss is applied to every output and the results are summed, but then there is nothing to "
              "pair the weights with: Keras needs one loss per weight."),
        fix=_("Give one loss per output, as a list in output order or a dict keyed by output name, e.g. "
              "loss=['binary_crossentropy', 'categorical_crossentropy'] with loss_weights=[1.0, 0.2] ({weights} "
              "of each); or drop loss_weights to weigh every output equally.").format(weights=weights))


@_rule(r"has no attribute '(to_yaml|model_from_yaml)'")
def _yaml_gone(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("{name} is gone (Keras 2.6 removed YAML)").format(name=m.group(1)),
        why=_("Keras stores a model's architecture as JSON only; YAML could run arbitrary code when loaded."),
        fix=_("model.to_json() and keras.models.model_from_json(text); for YAML on disk, "
              "yaml.safe_dump(json.loads(model.to_json())) and json.dumps(yaml.safe_load(text)) back."))


@_rule(r"File format not supported: filepath=(\S+?)\. Keras 3 only supports V3 `\.keras` files")
def _savedmodel_folder(m: re.Match[str], facts: Facts) -> Found:
    return Found(
        title=_("load_model cannot read a SavedModel folder"),
        why=_("Keras 3's load_model reads .keras files (and legacy .h5). A folder written by TensorFlow 2's "
              "model.save('name') or by model.export() is a SavedModel, which Keras 3 can only run, not rebuild."),
        fix=_("Save with model.save('name.keras') to get the whole model back; to run a SavedModel, "
              "keras.layers.TFSMLayer({folder!r}, call_endpoint='serve') (or 'serving_default' for a folder "
              "made by TensorFlow 2).").format(folder=m.group(1)))
