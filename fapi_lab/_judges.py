"""The building blocks of exercise judges: :class:`Problem`, :class:`Stop`, :class:`Context`, and the helpers a
judge uses to read an answer (:func:`need_model`, :func:`expect_inputs`, :func:`expect_outputs`,
:func:`expect_shared`, :func:`expect_params`, :func:`run_forward` …). Each helper returns a list of
:class:`Problem`; one that finds the answer unusable raises :class:`Stop` so later checks are skipped.

Every problem carries a ``code``: what kind of problem it is, the same for every answer that has it, whatever the
student named their layers (``"input-shape"``, ``"wrong-kind:layer"``). A report counts problems by
``exercise id/code`` (see :mod:`fapi_lab._grading`). Codes before a ``:`` name the family: ``wrong-kind`` (the
answer is not what the task asks for), ``raised`` (the student's code raised an error the check could not
explain further) and ``not-answered`` score no points.

Nothing here knows about a grader: the judges and these helpers are plain functions of the student's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._i18n import N_, _, current, ngettext
from ._layergraph import LayerGraph, Node, Shape
from ._render_dot import format_shape

__all__ = [
    "Context",
    "Judge",
    "Problem",
    "Stop",
    "computes_like",
    "expect_class_count",
    "expect_inputs",
    "expect_outputs",
    "expect_params",
    "expect_shared",
    "explain_raised",
    "need_callable",
    "need_functional",
    "need_model",
    "nodes_of",
    "output_map",
    "run_forward",
    "shapes_text",
    "total_params",
    "unconnected_inputs",
    "weight_ids",
]


# -- data ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answer, in the student's terms; ``keys``: layer keys to mark on their graph;
    ``code``: the kind of problem, the same for every answer that has it (see the module docstring)."""

    message: str
    keys: tuple[str, ...] = ()
    code: str = ""


class Stop(Exception):
    """Raised by a judge helper when the answer cannot be checked further; carries the one problem (``code``
    names its kind when ``problem`` is a message)."""

    def __init__(self, problem: Problem | str, *, answered: bool = True, code: str = "") -> None:
        if not isinstance(problem, Problem):
            problem = Problem(problem, code=code)
        elif code:
            problem = replace(problem, code=code)
        self.problem = problem
        self.answered = answered  # False: the answer is still the starter code (e.g. a model not compiled yet)
        super().__init__(self.problem.message)


@dataclass
class Context:
    """What a judge learned on its way, for the result: the student's graph, what was verified, and the models
    it read (hidden probes of the autograder look at them again)."""

    graph: LayerGraph | None = None
    verified: list[str] = field(default_factory=list)
    models: list[Any] = field(default_factory=list)


Judge = Callable[[Any, Context], list[Problem]]


def explain_raised(exc: BaseException, what: str, *, with_fix: bool = True) -> str:
    """One line for an error the student's code raised: ``lab.explain``'s title and why, and its fix unless
    ``with_fix=False`` (explain's fixes are general code, e.g. a residual projection for any merge of unequal
    shapes, which can mislead in another task's context)."""
    from ._explain import explain

    explanation = explain(exc)
    error = type(exc).__name__
    if explanation.recognised:
        text = _("{what} raised {error}: {title}. {why}").format(what=what, error=error, title=explanation.title,
                                                                why=explanation.why)
        return _("{text} Fix: {fix}").format(text=text, fix=explanation.fix) if with_fix else text
    message = explanation.original  # explain's reading of str(exc), which never raises
    first = message.splitlines()[0][:300] if message else ""
    if not first:
        return _("{what} raised {error}.").format(what=what, error=error)
    first += "" if first.endswith(('.', '!', '?')) else "."
    return _("{what} raised {error}: {message}").format(what=what, error=error, message=first)


_raised = explain_raised


# -- judge helpers ------------------------------------------------------------------------------------------
def need_model(answer: Any, ctx: Context, *, what: str = N_("a functional keras.Model")) -> tuple[Any, LayerGraph]:
    """The answer as a model and its layer graph, or :class:`Stop` with a friendly message.

    Accepts a model, or a function of no arguments that returns one (its errors are explained). ``what`` is
    translated here (pass a text marked with ``N_`` or already translated)."""
    import keras

    from . import _keras_adapter as adapter

    what = _(what)
    if callable(answer) and not isinstance(answer, keras.Model | keras.layers.Layer | type):
        try:
            answer = answer()
        except Exception as exc:
            raise Stop(_raised(exc, _("Calling your function")), code="raised") from None
        if answer is None or answer is ...:
            raise Stop(_("Your function returned nothing yet: end it with return and the model it builds."),
                       answered=False, code="not-answered")
    if isinstance(answer, keras.KerasTensor):
        raise Stop(_("This is a symbolic tensor, not a model yet: wrap it, e.g. "
                     "keras.Model(inputs=your_input, outputs=this_tensor, name=...), and check that model."),
                   code="wrong-kind:tensor")
    if isinstance(answer, keras.layers.Layer) and not isinstance(answer, keras.Model):
        raise Stop(_("This is a single layer ({cls} {name!r}), not a model: call your layers on keras.Input(...) "
                     "tensors and wrap them in keras.Model(inputs, outputs).").format(
                         cls=type(answer).__name__, name=answer.name), code="wrong-kind:layer")
    if not isinstance(answer, keras.Model):
        raise Stop(_("The check needs {what}; you passed {passed}. Pass the model itself, e.g. "
                     "lab.check(..., model).").format(what=what, passed=_describe(answer)), code="wrong-kind")
    try:
        graph = adapter.read(answer)
    except adapter.GraphReadError as exc:
        raise Stop(str(exc), code="wrong-kind:unreadable") from None
    if graph.subclassed and isinstance(answer, keras.Sequential):  # built by running it on data, no Input
        ctx.graph = graph
        raise Stop(graph.message + " " + _("This exercise asks for {what} built with keras.Input and layer "
                                           "calls.").format(what=what), code="wrong-kind:unbuilt")
    if graph.subclassed:
        ctx.graph = graph
        raise Stop(_("{name!r} is a subclassed model (a class with call()): it has no graph of layers that a check "
                     "could read. This exercise asks for {what} built with keras.Input and layer calls; lesson 10 "
                     "compares the two ways.").format(name=answer.name, what=what), code="wrong-kind:subclassed")
    ctx.graph = graph
    ctx.models.append(answer)
    return answer, graph


def need_functional(answer: Any, ctx: Context, *, why: str = "",
                    what: str = N_("a functional keras.Model")) -> tuple[Any, LayerGraph]:
    """:func:`need_model`, refusing a ``keras.Sequential`` model where the task asks for the functional API.
    ``why``: the task's reason, added to the message (translated here, like ``what``)."""
    model, graph = need_model(answer, ctx, what=what)
    if graph.class_name == "Sequential":
        raise Stop(_("{name!r} is a keras.Sequential model: the task asks for the functional API, and this is still "
                     "a keras.Sequential stack of layers.").format(name=model.name)
                   + (f" {_(why)}" if why else "") + " "
                   + _("Write it with keras.Input, then call each layer on the previous tensor, then "
                       "keras.Model(inputs, outputs)."), code="wrong-kind:sequential")
    return model, graph


def computes_like(model: Any, reference: Any, x: Any, *, what: str) -> list[Problem]:
    """With ``reference``'s weights copied in, does ``model`` compute what ``reference`` computes on ``x``?

    The student's weights are put back afterwards. ``what`` names the reference in the messages (translated
    here)."""
    import numpy as np

    what = _(what)
    theirs, ours = model.get_weights(), reference.get_weights()
    if [w.shape for w in theirs] != [w.shape for w in ours]:
        return [Problem(_("Your layers are in a different order from {what}'s (their weight shapes differ: "
                          "{theirs} against {ours}).").format(what=what, theirs=[tuple(w.shape) for w in theirs],
                                                              ours=[tuple(w.shape) for w in ours]),
                        code="layer-order")]
    try:
        model.set_weights(ours)
        same = np.allclose(run_forward(model, x), reference.predict(x, verbose=0), atol=1e-5)
    finally:
        model.set_weights(theirs)
    if same:
        return []
    return [Problem(_("With {what}'s weights copied in, your model computes something else: check that each layer "
                     "is called on the previous layer's output, in order.").format(what=what),
                    code="computes-otherwise")]


def need_callable(answer: Any, *, what: str) -> Callable[..., Any]:
    if isinstance(answer, type) or not callable(answer):
        raise Stop(_("The check needs {what}; you passed {passed}. Pass the function itself, without calling it "
                     "(no parentheses).").format(what=_(what), passed=_describe(answer)),
                   code="wrong-kind:not-callable")
    return answer


def _describe(value: Any) -> str:
    if value is None:
        return _("None (did the cell that makes it end with a print, or with no return?)")
    name = type(value).__name__
    text = repr(value)
    text = text[:60] + ("…" if len(text) > 60 else "")
    if name[:1].lower() in "aeiou":
        return _("an {cls} ({value})").format(cls=name, value=text)
    return _("a {cls} ({value})").format(cls=name, value=text)


def _in_shape(node: Node) -> Shape:
    return node.output_shapes[0] if node.output_shapes else ()


def shapes_text(shapes: Iterable[Shape]) -> str:
    return ", ".join(format_shape(s) for s in shapes)


def expect_inputs(graph: LayerGraph, shapes: Sequence[Shape], *, names: Sequence[str] | None = None,
                  dtypes: Sequence[str] | None = None) -> list[Problem]:
    """The model has these inputs (in this order, or matched by ``names`` when given)."""
    found = [graph.node(k) for k in graph.inputs]
    have = [(n.key, _in_shape(n)) for n in found]
    if len(found) != len(shapes):
        listing = ", ".join(f"{k} {format_shape(s)}" for k, s in have) or _("none")
        want = (", ".join(f"{nm} {format_shape(s)}" for nm, s in zip(names, shapes, strict=True)) if names
                else shapes_text(shapes))
        return [Problem(ngettext(
            "Your model has {n} input ({listing}); the task needs {needed}: {want}. Every keras.Input the model "
            "reads goes in the list of inputs of keras.Model(inputs=[...], ...).",
            "Your model has {n} inputs ({listing}); the task needs {needed}: {want}. Every keras.Input the model "
            "reads goes in the list of inputs of keras.Model(inputs=[...], ...).", len(found)).format(
                n=len(found), listing=listing, needed=len(shapes), want=want), tuple(graph.inputs), code="input-count")]
    problems = []
    order = list(range(len(shapes)))
    if names:
        by_name = {n.key: i for i, n in enumerate(found)}
        missing = [nm for nm in names if nm not in by_name]
        if missing:
            return [Problem(ngettext(
                "The task's input {missing} is missing: your inputs are called {have}. Name them with "
                "keras.Input(..., name=...).",
                "The task's inputs {missing} are missing: your inputs are called {have}. Name them with "
                "keras.Input(..., name=...).", len(missing)).format(
                    missing=", ".join(repr(m) for m in missing), have=", ".join(repr(k) for k, _s in have)),
                tuple(graph.inputs), code="input-names")]
        order = [by_name[nm] for nm in names]
    for want_i, have_i in enumerate(order):
        key, shape = have[have_i]
        want = tuple(shapes[want_i])
        if tuple(shape) != want:
            problems.append(Problem(
                _("Input {key!r} has shape {shape}; the task needs {want}. keras.Input(shape=...) takes the shape "
                  "of ONE sample, without the batch axis: shape={sample!r}.").format(
                      key=key, shape=format_shape(shape), want=format_shape(want), sample=tuple(want[1:])),
                (key,), code="input-shape"))
        if dtypes and dtypes[want_i] and found[have_i].output_dtypes and \
                found[have_i].output_dtypes[0] != dtypes[want_i]:
            problems.append(Problem(_("Input {key!r} has dtype {dtype}; the task needs {want} "
                                      "(keras.Input(..., dtype={want!r}))."). format(
                                          key=key, dtype=found[have_i].output_dtypes[0], want=dtypes[want_i]),
                                    (key,), code="input-dtype"))
    return problems


def output_map(graph: LayerGraph) -> dict[str, tuple[str, Shape]]:
    """output name -> (key of the layer call that makes it, shape)."""
    result = {}
    for name, (key, index) in zip(graph.output_names or [k for k, _i in graph.outputs], graph.outputs, strict=False):
        node = graph.node(key)
        shape = node.output_shapes[index] if index < len(node.output_shapes) else ()
        result[name] = (key, shape)
    return result


def expect_outputs(graph: LayerGraph, wanted: dict[str, Shape], *, exact: bool = True) -> list[Problem]:
    """The model's outputs carry these names (the names of the layers that make them) and shapes."""
    have = output_map(graph)
    problems = []
    unnamed = {n: ks for n, ks in have.items() if n not in wanted}
    for name, shape in wanted.items():
        if name in have:
            key, got = have[name]
            if tuple(got) != tuple(shape):
                problems.append(Problem(
                    _("Output {name!r} has shape {got}; the task needs {want}.").format(
                        name=name, got=format_shape(got), want=format_shape(shape))
                    + _last_axis_advice(got, shape), (key,), code="output-shape"))
            continue
        same_shape = [n for n, (_k, s) in unnamed.items() if tuple(s) == tuple(shape)]
        if same_shape:
            problems.append(Problem(
                _("No output is called {name!r}, but your output {other!r} has the shape it needs, {shape}: give "
                  "the layer that makes it name={name!r}. Keras names each output after its layer, and "
                  "compile(loss={{...}}) finds outputs by those names.").format(
                      name=name, other=same_shape[0], shape=format_shape(shape)),
                (have[same_shape[0]][0],), code="output-name"))
            unnamed.pop(same_shape[0])
        else:
            listing = ", ".join(f"{n} {format_shape(s)}" for n, (_k, s) in have.items())
            problems.append(Problem(
                _("Output {name!r} {shape} is missing: your model's outputs are {listing}. Add the layer that makes "
                  "it (named {name!r}) to keras.Model(..., outputs=[...]).").format(
                      name=name, shape=format_shape(shape), listing=listing),
                tuple(k for k, _s in have.values()), code="output-missing"))
    if exact and not problems and len(have) != len(wanted):
        extra = [n for n in have if n not in wanted]
        problems.append(Problem(ngettext("Your model has extra output {extra}; the task asks for {wanted} only.",
                                         "Your model has extra outputs {extra}; the task asks for {wanted} only.",
                                         len(extra)).format(extra=", ".join(map(repr, extra)),
                                                            wanted=", ".join(map(repr, wanted))),
                                tuple(have[n][0] for n in extra), code="output-extra"))
    return problems


def _last_axis_advice(got: Shape, want: Shape) -> str:
    if len(got) == len(want) and tuple(got[:-1]) == tuple(want[:-1]):
        return " " + _("The last axis is set by the layer that makes it (the units of a Dense layer, the filters of "
                       "a convolution, the sum of the parts of a concatenate): it should be {size}.").format(
                           size=want[-1])
    if len(got) > len(want):
        return " " + _("It still has an extra axis: a Dense layer works on the last axis only, so flatten or pool "
                       "the earlier axes before it.")
    return ""


def unconnected_inputs(graph: LayerGraph) -> list[Problem]:
    """Inputs from which no path leads to an output."""
    reach = set().union(*(graph.ancestors(k) for k, _i in graph.outputs))
    return [Problem(_("Input {key!r} is not connected to any output: no layer reads it on the way to an output, so it "
                      "would be fed data that nothing uses. Call a layer on it and let the result reach an output "
                      "(e.g. through the concatenate).").format(key=k), (k,),
                    code="input-unconnected") for k in graph.inputs if k not in reach]


def nodes_of(graph: LayerGraph, class_name: str, *, deep: bool = True) -> list[Node]:
    """Layer calls of one class (``deep``: also inside nested models)."""
    nodes = graph.walk() if deep else iter(graph.nodes)
    return [n for n in nodes if n.class_name == class_name]


def expect_class_count(graph: LayerGraph, class_name: str, at_least: int, *, why: str = "") -> list[Problem]:
    calls = nodes_of(graph, class_name)
    if len(calls) >= at_least:
        return []
    return [Problem(ngettext("The task needs {n} {cls} layer call; your model has {got}.",
                             "The task needs at least {n} {cls} layer calls; your model has {got}.", at_least).format(
                                 n=at_least, cls=class_name, got=len(calls)) + (f" {_(why)}" if why else ""),
                    code="layer-count")]


def expect_shared(graph: LayerGraph, class_name: str, calls: int = 2, *, what: str = "") -> list[Problem]:
    """One layer (one set of weights) of ``class_name`` is called at least ``calls`` times."""
    found = nodes_of(graph, class_name)
    by_layer: dict[int, list[Node]] = {}
    for n in found:
        by_layer.setdefault(n.layer.uid, []).append(n)
    if any(len(v) >= calls for v in by_layer.values()):
        return []
    what = _(what) if what else _("one {cls}").format(cls=class_name)
    if len(by_layer) >= 2:
        names = [v[0].name for v in by_layer.values()]
        params = sum(v[0].layer.params for v in by_layer.values())
        # English keeps str.capitalize (its output is pinned); elsewhere only the first letter changes, so code
        # names inside a translation keep their case
        head = what.capitalize() if current() == "en" else what[:1].upper() + what[1:]
        return [Problem(_("{what} should be shared, but your model has {n} separate {cls} layers ({names}): {n} sets "
                          "of weights ({params:,} parameters in all), which learn different things. Make the layer "
                          "once and call that same layer object on each input.").format(
                              what=head, n=len(by_layer), cls=class_name, names=", ".join(map(repr, names)),
                              params=params), tuple(v[0].key for v in by_layer.values()), code="not-shared")]
    if not by_layer:
        return [Problem(_("The task needs {what}, called on each input; your model has no {cls} layer.").format(
            what=what, cls=class_name), code="layer-missing")]
    only = next(iter(by_layer.values()))
    return [Problem(ngettext("{cls} {name!r} is called {n} time; the task calls it {calls} times (once per input).",
                             "{cls} {name!r} is called {n} times; the task calls it {calls} times (once per input).",
                             len(only)).format(cls=class_name, name=only[0].name, n=len(only), calls=calls),
                    (only[0].key,), code="call-count")]


def total_params(graph: LayerGraph) -> int:
    """Distinct weights in the whole model (a shared layer counts once)."""
    seen: dict[int, int] = {}
    for n in graph.walk():
        if n.kind in ("layer", "op") and n.subgraph is None:
            seen[n.layer.uid] = n.layer.params
    return sum(seen.values())


def expect_params(graph: LayerGraph, expected: int, *, explain: str = "") -> list[Problem]:
    got = total_params(graph)
    if got == expected:
        return []
    if got > expected:
        text = _("Your model has {got:,} parameters, {diff:,} more than the task's {expected:,}.")
    else:
        text = _("Your model has {got:,} parameters, {diff:,} fewer than the task's {expected:,}.")
    text = text.format(got=got, diff=abs(got - expected), expected=expected)
    more = _(explain) if explain else _("lab.shapes(model) shows where each layer's count comes from.")
    return [Problem(f"{text} {more}", code="param-count")]


def run_forward(model: Any, x: Any, *, what: str = N_("A forward pass")) -> Any:
    """``model.predict`` on ``x`` quietly; a Keras error becomes a :class:`Stop` with the explanation (``what``
    is translated here)."""
    try:
        return model.predict(x, verbose=0)
    except Exception as exc:
        raise Stop(_raised(exc, _("{what} on a batch of data").format(what=_(what))), code="raised:forward") from None




def weight_ids(model: Any) -> set[int]:
    """The identities of a model's variables: two models share weights exactly where these sets meet (the same
    layer objects), not where the numbers happen to be equal."""
    return {id(v) for v in model.weights}
