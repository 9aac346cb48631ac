"""Judge helpers for open-ended design tasks: connectivity and shapes.

A design task says what goes in and what comes out, and which outputs must see which inputs; any layers in
between are fine. These helpers find the student's inputs and outputs by name, else by shape, and check the
paths between them, in the student's own terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._i18n import N_, _, ngettext
from ._judges import Problem, _in_shape, _last_axis_advice, output_map
from ._layergraph import LayerGraph, Shape
from ._render_dot import format_shape

__all__ = ["expect_depends", "inputs_reaching", "match_inputs", "match_outputs", "shape_fits"]


def shape_fits(got: Shape, want: Shape) -> bool:
    """``got`` has ``want``'s rank and sizes; ``None`` in ``want`` after the batch axis accepts any size there."""
    got, want = tuple(got), tuple(want)
    return len(got) == len(want) and all(w is None or g == w for g, w in zip(got[1:], want[1:], strict=True))


def inputs_reaching(graph: LayerGraph, key: str) -> list[str]:
    """The model inputs (their keys, in the model's order) from which a path leads to the layer call ``key``."""
    seen = graph.ancestors(key)
    return [k for k in graph.inputs if k in seen]


def _size_of(shape: Shape) -> int | None:
    size = 1
    for d in tuple(shape)[1:]:
        if d is None:
            return None
        size *= d
    return size


def _dtype_fits(got: str, want: str | None) -> bool:
    if not want:
        return True
    return got == want if want[-1].isdigit() else got.startswith(want)


_DTYPE_WORDS = {"int": N_("an integer dtype"), "float": N_("a float dtype")}


def _dtype_words(want: str) -> str:
    return _(_DTYPE_WORDS[want]) if want in _DTYPE_WORDS else want


def _exact_dtype(want: str) -> str:
    return want if want[-1].isdigit() else want + "32"


def _describe_inputs(graph: LayerGraph) -> str:
    parts = []
    for k in graph.inputs:
        node = graph.node(k)
        dtype = node.output_dtypes[0] if node.output_dtypes else ""
        parts.append(f"{k} {format_shape(_in_shape(node))}" + (f" {dtype}" if dtype and dtype != "float32" else ""))
    return ", ".join(parts) or _("none")


def _pair_leftovers(words: dict[str, Shape], keys: list[str], shape_of: Callable[[str], Shape],
                    found: dict[str, str], used: set[str]) -> None:
    """Pair the task's unmatched words with the model's unused inputs or outputs, the closest shapes first (same
    rank, then the same number of values), so a wrong shape is reported on the input or output it belongs to."""
    for word, shape in words.items():
        if word in found:
            continue
        left = [k for k in keys if k not in used]
        if not left:
            return
        best = max(left, key=lambda k: (len(shape_of(k)) == len(shape),
                                        _size_of(shape_of(k)) == _size_of(shape) is not None, -left.index(k)))
        found[word] = best
        used.add(best)


def match_inputs(graph: LayerGraph, wanted: dict[str, Shape], *,
                 dtypes: dict[str, str] | None = None) -> tuple[dict[str, str], list[Problem]]:
    """For a design task: which of the model's inputs is each input the task describes.

    ``wanted``: the task's word for an input (``"image"``) -> its shape with the batch axis (``None`` after the
    batch axis: any size); ``dtypes``: word -> ``"int"``, ``"float"`` or an exact dtype (``"int32"``). An input
    of that name is taken first, else an unused one of a fitting shape and dtype, else the closest one left.
    Returns word -> the student's input key, and the problems (an input missing, of the wrong shape or dtype,
    or an extra one)."""
    dtypes = dtypes or {}
    found: dict[str, str] = {}
    problems: list[Problem] = []
    used: set[str] = set()

    def dtype_of(key: str) -> str:
        node = graph.node(key)
        return node.output_dtypes[0] if node.output_dtypes else "float32"

    def shape_of(key: str) -> Shape:
        return _in_shape(graph.node(key))

    for word in wanted:
        if word in graph.inputs:
            found[word] = word
            used.add(word)
    for word, shape in wanted.items():
        if word in found:
            continue
        fitting = [k for k in graph.inputs if k not in used and shape_fits(shape_of(k), shape)
                   and _dtype_fits(dtype_of(k), dtypes.get(word))]
        if fitting:
            found[word] = fitting[0]
            used.add(fitting[0])
    _pair_leftovers(wanted, list(graph.inputs), shape_of, found, used)
    for word, shape in wanted.items():
        want_dtype = dtypes.get(word)
        if word not in found:
            what = f"{format_shape(shape)}" + (f" {want_dtype}" if want_dtype else "")
            problems.append(Problem(
                _("The task's {word} input {what} is missing: your model has no input for it (your inputs: "
                  "{inputs}). Every keras.Input the model reads goes in the list of inputs of "
                  "keras.Model(inputs=[...], ...).").format(word=word, what=what, inputs=_describe_inputs(graph)),
                code="input-missing"))
            continue
        key = found[word]
        got = shape_of(key)
        if not shape_fits(got, shape):
            if _size_of(got) is not None and _size_of(got) == _size_of(shape):
                text = _("Input {key!r} has shape {got}; the task's {word} is {want}. It holds as many numbers, in "
                         "another shape: take the data as it comes, keras.Input(shape={sample!r}), and let the model "
                         "reshape it if it must.")
            else:
                text = _("Input {key!r} has shape {got}; the task's {word} is {want}{any_size}. keras.Input(shape=...) "
                         "takes the shape of ONE sample, without the batch axis.")
            any_size = " " + _("(None: any size)") if any(d is None for d in tuple(shape)[1:]) else ""
            problems.append(Problem(text.format(key=key, got=format_shape(got), word=word, want=format_shape(shape),
                                                sample=tuple(shape[1:]), any_size=any_size), (key,),
                                    code="input-shape"))
        elif not _dtype_fits(dtype_of(key), want_dtype):
            ids = " " + _("Word ids are whole numbers.") if want_dtype and want_dtype.startswith("int") else ""
            problems.append(Problem(
                _("Input {key!r} has dtype {dtype}; the task's {word} needs {words}.").format(
                    key=key, dtype=dtype_of(key), word=word, words=_dtype_words(want_dtype)) + ids + " "
                + _("keras.Input(..., dtype={dtype!r}).").format(dtype=_exact_dtype(want_dtype)), (key,),
                code="input-dtype"))
    extra = [k for k in graph.inputs if k not in used]
    if extra and not problems:
        problems.append(Problem(ngettext(
            "Your model has an input the task does not describe ({extra}): it would have to be fed data nobody has. "
            "The task's inputs are {wanted}.",
            "Your model has inputs the task does not describe ({extra}): it would have to be fed data nobody has. "
            "The task's inputs are {wanted}.", len(extra)).format(extra=", ".join(map(repr, extra)),
                                                                  wanted=", ".join(wanted)),
            tuple(extra), code="input-extra"))
    return found, problems


def match_outputs(graph: LayerGraph, wanted: dict[str, Shape]) -> tuple[dict[str, str], list[Problem]]:
    """For a design task: which of the model's outputs (by output name) is each output the task describes.

    Like :func:`match_inputs`: the output of that name first, else an unused one of a fitting shape, else the
    closest one left. Returns word -> the student's output name, and the problems."""
    have = output_map(graph)
    found: dict[str, str] = {}
    used: set[str] = set()
    problems: list[Problem] = []
    for word in wanted:
        if word in have:
            found[word] = word
            used.add(word)
    for word, shape in wanted.items():
        if word in found:
            continue
        fitting = [n for n, (_k, s) in have.items() if n not in used and shape_fits(s, shape)]
        if fitting:
            found[word] = fitting[0]
            used.add(fitting[0])
    _pair_leftovers(wanted, list(have), lambda n: have[n][1], found, used)
    listing = ", ".join(f"{n} {format_shape(s)}" for n, (_k, s) in have.items())
    for word, shape in wanted.items():
        if word not in found:
            problems.append(Problem(
                _("The task's {word} output {shape} is missing: your model's outputs are {listing}. Add the layer "
                  "that makes it to keras.Model(..., outputs=[...]).").format(
                      word=word, shape=format_shape(shape), listing=listing),
                tuple(k for k, _i in have.values()), code="output-missing"))
            continue
        key, got = have[found[word]]
        if not shape_fits(got, shape):
            problems.append(Problem(_("Output {name!r} has shape {got}; the task's {word} is {want}.").format(
                name=found[word], got=format_shape(got), word=word, want=format_shape(shape))
                                    + _last_axis_advice(got, shape), (key,),
                                    code="output-shape"))
    extra = [n for n in have if n not in used]
    if extra and not problems:
        problems.append(Problem(ngettext(
            "Your model has an output the task does not ask for ({extra}); the task's outputs are {wanted}.",
            "Your model has outputs the task does not ask for ({extra}); the task's outputs are {wanted}.",
            len(extra)).format(extra=", ".join(map(repr, extra)), wanted=", ".join(wanted)),
            tuple(have[n][0] for n in extra), code="output-extra"))
    return found, problems


def expect_depends(graph: LayerGraph, output: str, on: Sequence[str], *, not_on: Sequence[str] = (),
                   why: str = "") -> list[Problem]:
    """Connectivity: ``output`` (an output name, or a layer key) is computed from every input key in ``on``, and
    from none in ``not_on``. ``why`` is added to a message (the task's reason for the path)."""
    have = output_map(graph)
    key = have[output][0] if output in have else output
    reaching = inputs_reaching(graph, key)
    problems = []
    missing = [k for k in on if k not in reaching]
    if missing:
        # NOTE: the clause in brackets of the message below
        sees = (_("it is computed from {inputs} only").format(inputs=", ".join(map(repr, reaching))) if reaching
                else _("it is computed from no input at all"))
        problems.append(Problem(ngettext(
            "Output {output!r} never sees input {missing}: no path leads from it to {output!r} ({sees}). Let a path "
            "from it reach {output!r}: call a layer on the input and bring the result into the tensors {output!r} "
            "is computed from.",
            "Output {output!r} never sees inputs {missing}: no path leads from them to {output!r} ({sees}). Let a "
            "path from each of them reach {output!r}: call a layer on the input and bring the result into the "
            "tensors {output!r} is computed from.", len(missing)).format(
                output=output, missing=", ".join(map(repr, missing)), sees=sees)
            + (f" {_(why)}" if why else ""), (key,), code="path-missing"))
    wrong = [k for k in not_on if k in reaching]
    if wrong:
        problems.append(Problem(
            _("Output {output!r} is computed from {wrong} too, but the task asks that it read {on} only.").format(
                output=output, wrong=", ".join(map(repr, wrong)), on=", ".join(map(repr, on)) or _("other inputs"))
            + (f" {_(why)}" if why else ""), (key,),
                                code="path-extra"))
    return problems
