"""Classroom exercises: ``lab.check(exercise_id, answer)`` judges an answer, ``lab.hint(exercise_id)`` helps.

An exercise is data (id, title, hints) and a *judge*: a function of the student's answer that returns the
problems it finds, in the student's own terms (their layer names, their shapes). Judges look at structure and
behaviour through the same layer graph as the pictures (inputs, outputs, shapes, shared weights, parameter
counts, a forward pass, a short fit), never at variable names or code text, and never build the answer
themselves: a wrong answer is told what is wrong, not shown the solution.

The exercise sets are ``fapi_lab/_exercise_sets/exN.py``. The solutions are notebooks in ``solutions/`` at the
top of the repository, which nothing in the package imports; ``fapi-lab student`` turns them into the student
notebooks of ``notebooks/exercises/`` (see :mod:`fapi_lab._student`).

Writing a judge: use the helpers below (:func:`need_model`, :func:`expect_inputs`, :func:`expect_outputs`,
:func:`expect_shared`, :func:`expect_params`, :func:`run_forward` …). Each returns a list of
:class:`Problem`; a helper that finds the answer unusable raises :class:`Stop` so later checks are skipped.
"""

from __future__ import annotations

import difflib
import html
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._layergraph import LayerGraph, Node, Shape, flatten
from ._render_dot import GraphOptions, NodeColours, format_shape

__all__ = [
    "CheckResult",
    "Exercise",
    "Hint",
    "Problem",
    "Stop",
    "check",
    "computes_like",
    "exercise",
    "exercises",
    "expect_class_count",
    "expect_depends",
    "expect_inputs",
    "expect_outputs",
    "expect_params",
    "expect_shared",
    "explain_raised",
    "hint",
    "inputs_reaching",
    "match_inputs",
    "match_outputs",
    "need_callable",
    "need_functional",
    "need_model",
    "nodes_of",
    "output_map",
    "registry",
    "run_forward",
    "shape_fits",
    "total_params",
    "unconnected_inputs",
    "weight_ids",
]

_PROBLEM_FILL = "#fecaca"  # nodes a problem is about, on the student's graph


# -- data ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answer, in the student's terms; ``keys``: layer keys to mark on their graph."""

    message: str
    keys: tuple[str, ...] = ()


class Stop(Exception):
    """Raised by a judge helper when the answer cannot be checked further; carries the one problem."""

    def __init__(self, problem: Problem | str, *, answered: bool = True) -> None:
        self.problem = problem if isinstance(problem, Problem) else Problem(problem)
        self.answered = answered  # False: the answer is still the starter code (e.g. a model not compiled yet)
        super().__init__(self.problem.message)


@dataclass
class Context:
    """What a judge learned on its way, for the result: the student's graph, and what was verified."""

    graph: LayerGraph | None = None
    verified: list[str] = field(default_factory=list)


Judge = Callable[[Any, Context], list[Problem]]


@dataclass(frozen=True)
class Exercise:
    """``id`` like ``"ex3.1"``; ``answer``: what the check expects, said in the messages ("a model", "a
    function ``block(x)``", …); ``outline``: the expected structure as DOT edges between plain descriptions
    (what the task text already says), drawn beside the student's graph when the answer is wrong."""

    id: str
    title: str
    lesson: str
    judge: Judge
    hints: tuple[str, ...]
    answer: str = "a functional keras.Model"
    outline: tuple[tuple[str, str], ...] = ()


# -- registry -----------------------------------------------------------------------------------------------
_REGISTRY: dict[str, Exercise] = {}


def registry() -> dict[str, Exercise]:
    """Every exercise, by id, in order (ex1.1, ex1.2 … ex6.3). Loads the exercise sets on first use."""
    if not _REGISTRY:
        from . import _exercise_sets

        found: list[Exercise] = []
        for info in sorted(pkgutil.iter_modules(_exercise_sets.__path__), key=lambda m: _natural(m.name)):
            module = importlib.import_module(f"{_exercise_sets.__name__}.{info.name}")
            found.extend(getattr(module, "EXERCISES", ()))
        for ex in sorted(found, key=lambda e: _natural(e.id)):
            if ex.id in _REGISTRY:
                raise RuntimeError(f"two exercises have the id {ex.id!r}")
            _REGISTRY[ex.id] = ex
    return _REGISTRY


def _natural(text: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for piece in text.replace(".", " ").replace("ex", "").split():
        parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; a clear error naming the close ids for a typo."""
    exercises_ = registry()
    key = str(exercise_id).strip().lower()
    if key in exercises_:
        return exercises_[key]
    close = difflib.get_close_matches(key, list(exercises_), n=3, cutoff=0.5)
    suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"There is no exercise {exercise_id!r}.{suggestion} The exercises are "
                     f"{', '.join(exercises_)}; the id is written in the exercise's check cell.")


class ExerciseList(list):
    """The exercises as a table (``lab.exercises()``)."""

    def __str__(self) -> str:
        return "\n".join(f"{e.id:7} {e.lesson:18} {e.title}" for e in self)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(e.id)}</code></td><td>{html.escape(e.lesson)}</td>"
                       f"<td style='text-align:left'>{html.escape(e.title)}</td></tr>" for e in self)
        return (f"<table><thead><tr><th>id</th><th>lessons</th><th style='text-align:left'>task</th></tr>"
                f"</thead><tbody>{rows}</tbody></table>")


def exercises() -> ExerciseList:
    """Every exercise: id, the lessons it practises, and its one-line task."""
    return ExerciseList(registry().values())


# -- checking -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    """What ``lab.check`` found. True when the answer passes. Shows as a short verdict; on a wrong answer,
    the problems, where to get a hint, and the student's graph with the layers the problems are about marked,
    beside the expected structure when the exercise has one."""

    exercise: Exercise
    passed: bool
    problems: tuple[Problem, ...] = ()
    answered: bool = True
    verified: tuple[str, ...] = ()
    graph: LayerGraph | None = None

    def __bool__(self) -> bool:
        return self.passed

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else ("not answered" if not self.answered else "not yet")
        return f"CheckResult({self.exercise.id!r}: {verdict})"

    def __str__(self) -> str:
        ex = self.exercise
        if self.passed:
            lines = [f"✔ {ex.id} passed: {ex.title}"]
            lines += [f"  ✓ {v}" for v in self.verified]
            return "\n".join(lines)
        head = "not answered yet" if not self.answered else "not yet"
        lines = [f"✘ {ex.id} {head}: {ex.title}"]
        lines += [f"  • {m}" for m in self.messages]
        lines.append(f"  A hint: lab.hint({ex.id!r})")
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": str(self), "text/html": self._html()}

    def _html(self) -> str:
        esc = html.escape
        ex = self.exercise
        if self.passed:
            items = "".join(f"<li>{esc(v)}</li>" for v in self.verified)
            return (f"<div style='border-left:5px solid #16a34a;padding:4px 12px'>"
                    f"<b style='color:#15803d'>✔ {esc(ex.id)} passed</b>: {esc(ex.title)}"
                    f"<ul style='margin:4px 0'>{items}</ul></div>")
        colour = "#b45309" if not self.answered else "#b91c1c"
        head = "not answered yet" if not self.answered else "not yet"
        items = "".join(f"<li>{esc(m)}</li>" for m in self.messages)
        parts = [f"<div style='border-left:5px solid {colour};padding:4px 12px'>",
                 f"<b style='color:{colour}'>✘ {esc(ex.id)} {head}</b>: {esc(ex.title)}",
                 f"<ul style='margin:4px 0'>{items}</ul>",
                 f"<div>A hint is one call away: <code>lab.hint({esc(repr(ex.id))})</code></div>"]
        pictures = self._pictures()
        if pictures:
            parts.append(pictures)
        parts.append("</div>")
        return "".join(parts)

    def _pictures(self) -> str:
        if not self.answered or (self.graph is None and not self.exercise.outline):
            return ""
        cells = []
        if self.graph is not None and not self.graph.subclassed:
            marked = {k for p in self.problems for k in p.keys}
            cells.append(("your model" + (" (the layers the problems are about in red)" if marked else ""),
                          _graph_svg(self.graph, marked)))
        if self.exercise.outline:
            cells.append(("the structure the task asks for", _outline_svg(self.exercise.outline)))
        if not cells:
            return ""
        body = "".join(
            f"<div style='flex:1 1 280px;min-width:0'><div><i>{html.escape(title)}</i></div>"
            f"<div style='max-height:520px;overflow:auto'>{svg}</div></div>" for title, svg in cells)
        return f"<div style='display:flex;gap:16px;align-items:flex-start;margin-top:6px'>{body}</div>"


def _graph_svg(graph: LayerGraph, marked: set[str]) -> str:
    from ._graph_view import _fit_width, render_svg

    flat = flatten(graph, None if any(k for k in marked if "/" in k) else 0)
    fills = {k: _PROBLEM_FILL for k in marked if k in flat.keys}
    try:
        svg, _ = render_svg(flat, GraphOptions(show_shapes=True), NodeColours(fills=fills))
    except Exception as exc:  # a picture must never hide the verdict
        return f"<pre>(the picture could not be drawn: {html.escape(str(exc))})</pre>"
    return _fit_width(svg)


def _outline_svg(edges: Sequence[tuple[str, str]]) -> str:
    from ._graph_view import _fit_width
    from ._render_dot import DotNotFound, dot_to_svg

    names: dict[str, str] = {}
    for a, b in edges:
        for label in (a, b):
            names.setdefault(label, f"o{len(names)}")
    lines = ["digraph outline {", '  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, bgcolor="transparent"];',
             '  node [shape=box, style="rounded,dashed", fontname="Helvetica", fontsize=11, color="#475569"];',
             '  edge [color="#64748b", arrowsize=0.7];']
    for label, ident in names.items():
        text = label.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'  {ident} [label="{text}"];')
    lines += [f"  {names[a]} -> {names[b]};" for a, b in edges]
    lines.append("}")
    try:
        return _fit_width(dot_to_svg("\n".join(lines)))
    except DotNotFound:
        items = "".join(f"<li>{html.escape(a)} → {html.escape(b)}</li>" for a, b in edges)
        return f"<ul>{items}</ul>"


def check(exercise_id: str, answer: Any = ...) -> CheckResult:
    """Check an answer to an exercise. Says pass, or what is wrong in your own model's terms; never the solution.

    ``answer`` is what the exercise asks for: usually your model (or a function with no arguments that
    returns it), sometimes a function, a dict or a layer class, as the task says. An answer that is still
    ``...`` (the exercise's placeholder) is "not answered yet". Errors raised by your code are explained,
    not thrown at you.
    """
    ex = exercise(exercise_id)
    if answer is ...:
        return CheckResult(ex, passed=False, answered=False, problems=(Problem(
            f"Replace the ... in the exercise cell with {ex.answer}, run that cell, then run this check again."),))
    ctx = Context()
    answered = True
    try:
        problems = list(ex.judge(answer, ctx))
    except Stop as stop:
        problems, answered = [stop.problem], stop.answered
    except Exception as exc:  # the student's code raised inside the judge: explain, don't throw
        problems = [Problem(_raised(exc, "Running your answer"))]
    return CheckResult(ex, passed=not problems, problems=tuple(problems), answered=answered,
                       verified=tuple(ctx.verified), graph=ctx.graph)


def explain_raised(exc: BaseException, what: str, *, with_fix: bool = True) -> str:
    """One line for an error the student's code raised: ``lab.explain``'s title and why, and its fix unless
    ``with_fix=False`` (explain's fixes are general code, e.g. a residual projection for any merge of unequal
    shapes, which can mislead in another task's context)."""
    from ._explain import explain

    explanation = explain(exc)
    if explanation.recognised:
        text = f"{what} raised {type(exc).__name__}: {explanation.title}. {explanation.why}"
        return f"{text} Fix: {explanation.fix}" if with_fix else text
    message = explanation.original  # explain's reading of str(exc), which never raises
    first = message.splitlines()[0][:300] if message else ""
    if not first:
        return f"{what} raised {type(exc).__name__}."
    return f"{what} raised {type(exc).__name__}: {first}{'' if first.endswith(('.', '!', '?')) else '.'}"


_raised = explain_raised


# -- hints --------------------------------------------------------------------------------------------------
_HINTS_SHOWN: dict[str, int] = {}


@dataclass(frozen=True)
class Hint:
    exercise: Exercise
    number: int  # 1-based

    @property
    def text(self) -> str:
        return self.exercise.hints[self.number - 1]

    def __str__(self) -> str:
        total = len(self.exercise.hints)
        more = (f" (run lab.hint({self.exercise.id!r}) again for hint {self.number + 1})" if self.number < total
                else f" (the last hint; {self.exercise.lesson} shows the pattern)")
        return f"{self.exercise.id} hint {self.number} of {total}: {self.text}{more}"

    def __repr__(self) -> str:
        return f"Hint({self.exercise.id!r}, {self.number})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        total = len(self.exercise.hints)
        return {"text/plain": str(self),
                "text/html": (f"<div style='border-left:5px solid #2563eb;padding:4px 12px'><b>"
                              f"{html.escape(self.exercise.id)} hint {self.number} of {total}</b>: "
                              f"{html.escape(self.text)}</div>")}


def hint(exercise_id: str, number: int | None = None) -> Hint:
    """The next hint for an exercise (each call gives one more), or hint ``number`` (1, 2, …)."""
    ex = exercise(exercise_id)
    total = len(ex.hints)
    if number is None:
        number = min(_HINTS_SHOWN.get(ex.id, 0) + 1, total)
    elif isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= total:
        raise ValueError(f"{ex.id} has hints 1 to {total}; got {number!r}")
    _HINTS_SHOWN[ex.id] = max(_HINTS_SHOWN.get(ex.id, 0), number)
    return Hint(ex, number)


# -- judge helpers ------------------------------------------------------------------------------------------
def need_model(answer: Any, ctx: Context, *, what: str = "a functional keras.Model") -> tuple[Any, LayerGraph]:
    """The answer as a model and its layer graph, or :class:`Stop` with a friendly message.

    Accepts a model, or a function of no arguments that returns one (its errors are explained)."""
    import keras

    from . import _keras_adapter as adapter

    if callable(answer) and not isinstance(answer, keras.Model | keras.layers.Layer | type):
        try:
            answer = answer()
        except Exception as exc:
            raise Stop(_raised(exc, "Calling your function")) from None
        if answer is None or answer is ...:
            raise Stop("Your function returned nothing yet: end it with return and the model it builds.",
                       answered=False)
    if isinstance(answer, keras.KerasTensor):
        raise Stop("This is a symbolic tensor, not a model yet: wrap it, e.g. "
                   "keras.Model(inputs=your_input, outputs=this_tensor, name=...), and check that model.")
    if isinstance(answer, keras.layers.Layer) and not isinstance(answer, keras.Model):
        raise Stop(f"This is a single layer ({type(answer).__name__} {answer.name!r}), not a model: call your "
                   f"layers on keras.Input(...) tensors and wrap them in keras.Model(inputs, outputs).")
    if not isinstance(answer, keras.Model):
        raise Stop(f"The check needs {what}; you passed {_describe(answer)}. Pass the model itself, "
                   f"e.g. lab.check(..., model).")
    try:
        graph = adapter.read(answer)
    except adapter.GraphReadError as exc:
        raise Stop(str(exc)) from None
    if graph.subclassed and isinstance(answer, keras.Sequential):  # built by running it on data, no Input
        ctx.graph = graph
        raise Stop(f"{graph.message} This exercise asks for {what} built with keras.Input and layer calls.")
    if graph.subclassed:
        ctx.graph = graph
        raise Stop(f"{answer.name!r} is a subclassed model (a class with call()): it has no graph of layers "
                   f"that a check could read. This exercise asks for {what} built with keras.Input and layer "
                   f"calls; lesson 10 compares the two ways.")
    ctx.graph = graph
    return answer, graph


def need_functional(answer: Any, ctx: Context, *, why: str = "",
                    what: str = "a functional keras.Model") -> tuple[Any, LayerGraph]:
    """:func:`need_model`, refusing a ``keras.Sequential`` model where the task asks for the functional API.
    ``why``: the task's reason, added to the message."""
    model, graph = need_model(answer, ctx, what=what)
    if graph.class_name == "Sequential":
        raise Stop(f"{model.name!r} is a keras.Sequential model: the task asks for the functional API, and this is "
                   f"still a keras.Sequential stack of layers." + (f" {why}" if why else "") + " Write it with "
                   "keras.Input, then call each layer on the previous tensor, then keras.Model(inputs, outputs).")
    return model, graph


def computes_like(model: Any, reference: Any, x: Any, *, what: str) -> list[Problem]:
    """With ``reference``'s weights copied in, does ``model`` compute what ``reference`` computes on ``x``?

    The student's weights are put back afterwards. ``what`` names the reference in the messages."""
    import numpy as np

    theirs, ours = model.get_weights(), reference.get_weights()
    if [w.shape for w in theirs] != [w.shape for w in ours]:
        return [Problem(f"Your layers are in a different order from {what}'s (their weight shapes differ: "
                        f"{[tuple(w.shape) for w in theirs]} against {[tuple(w.shape) for w in ours]}).")]
    try:
        model.set_weights(ours)
        same = np.allclose(run_forward(model, x), reference.predict(x, verbose=0), atol=1e-5)
    finally:
        model.set_weights(theirs)
    if same:
        return []
    return [Problem(f"With {what}'s weights copied in, your model computes something else: check that each layer "
                    f"is called on the previous layer's output, in order.")]


def need_callable(answer: Any, *, what: str) -> Callable[..., Any]:
    if isinstance(answer, type) or not callable(answer):
        raise Stop(f"The check needs {what}; you passed {_describe(answer)}. Pass the function itself, without "
                   f"calling it (no parentheses).")
    return answer


def _describe(value: Any) -> str:
    if value is None:
        return "None (did the cell that makes it end with a print, or with no return?)"
    name = type(value).__name__
    text = repr(value)
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name} ({text[:60]}{'…' if len(text) > 60 else ''})"


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
        listing = ", ".join(f"{k} {format_shape(s)}" for k, s in have) or "none"
        want = (", ".join(f"{nm} {format_shape(s)}" for nm, s in zip(names, shapes, strict=True)) if names
                else shapes_text(shapes))
        return [Problem(f"Your model has {len(found)} input{'s' * (len(found) != 1)} ({listing}); the task needs "
                        f"{len(shapes)}: {want}. Every keras.Input the model reads goes in the list of inputs "
                        f"of keras.Model(inputs=[...], ...).", tuple(graph.inputs))]
    problems = []
    order = list(range(len(shapes)))
    if names:
        by_name = {n.key: i for i, n in enumerate(found)}
        missing = [nm for nm in names if nm not in by_name]
        if missing:
            return [Problem(f"The task's input{'s' * (len(missing) > 1)} {', '.join(repr(m) for m in missing)} "
                            f"{'are' if len(missing) > 1 else 'is'} missing: your inputs are called "
                            f"{', '.join(repr(k) for k, _ in have)}. Name them with keras.Input(..., name=...).",
                            tuple(graph.inputs))]
        order = [by_name[nm] for nm in names]
    for want_i, have_i in enumerate(order):
        key, shape = have[have_i]
        want = tuple(shapes[want_i])
        if tuple(shape) != want:
            problems.append(Problem(
                f"Input {key!r} has shape {format_shape(shape)}; the task needs {format_shape(want)}. "
                f"keras.Input(shape=...) takes the shape of ONE sample, without the batch axis: "
                f"shape={tuple(want[1:])!r}.",
                (key,)))
        if dtypes and dtypes[want_i] and found[have_i].output_dtypes and \
                found[have_i].output_dtypes[0] != dtypes[want_i]:
            problems.append(Problem(f"Input {key!r} has dtype {found[have_i].output_dtypes[0]}; the task needs "
                                    f"{dtypes[want_i]} (keras.Input(..., dtype={dtypes[want_i]!r})).", (key,)))
    return problems


def output_map(graph: LayerGraph) -> dict[str, tuple[str, Shape]]:
    """output name -> (key of the layer call that makes it, shape)."""
    result = {}
    for name, (key, index) in zip(graph.output_names or [k for k, _ in graph.outputs], graph.outputs, strict=False):
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
                    f"Output {name!r} has shape {format_shape(got)}; the task needs {format_shape(shape)}."
                    + _last_axis_advice(got, shape), (key,)))
            continue
        same_shape = [n for n, (_, s) in unnamed.items() if tuple(s) == tuple(shape)]
        if same_shape:
            problems.append(Problem(
                f"No output is called {name!r}, but your output {same_shape[0]!r} has the shape it needs, "
                f"{format_shape(shape)}: give the layer that makes it name={name!r}. Keras names each output "
                f"after its layer, and compile(loss={{...}}) finds outputs by those names.",
                (have[same_shape[0]][0],)))
            unnamed.pop(same_shape[0])
        else:
            listing = ", ".join(f"{n} {format_shape(s)}" for n, (_, s) in have.items())
            problems.append(Problem(
                f"Output {name!r} {format_shape(shape)} is missing: your model's outputs are {listing}. Add the "
                f"layer that makes it (named {name!r}) to keras.Model(..., outputs=[...]).",
                tuple(k for k, _ in have.values())))
    if exact and not problems and len(have) != len(wanted):
        extra = [n for n in have if n not in wanted]
        problems.append(Problem(f"Your model has extra output{'s' * (len(extra) > 1)} {', '.join(map(repr, extra))}"
                                f"; the task asks for {', '.join(map(repr, wanted))} only.",
                                tuple(have[n][0] for n in extra)))
    return problems


def _last_axis_advice(got: Shape, want: Shape) -> str:
    if len(got) == len(want) and tuple(got[:-1]) == tuple(want[:-1]):
        return (f" The last axis is set by the layer that makes it (the units of a Dense layer, the filters of a "
                f"convolution, the sum of the parts of a concatenate): it should be {want[-1]}.")
    if len(got) > len(want):
        return (" It still has an extra axis: a Dense layer works on the last axis only, so flatten or pool "
                "the earlier axes before it.")
    return ""


def unconnected_inputs(graph: LayerGraph) -> list[Problem]:
    """Inputs from which no path leads to an output."""
    reach = set().union(*(graph.ancestors(k) for k, _ in graph.outputs))
    return [Problem(f"Input {k!r} is not connected to any output: no layer reads it on the way to an output, so "
                    f"it would be fed data that nothing uses. Call a layer on it and let the result reach an "
                    f"output (e.g. through the concatenate).", (k,)) for k in graph.inputs if k not in reach]


def nodes_of(graph: LayerGraph, class_name: str, *, deep: bool = True) -> list[Node]:
    """Layer calls of one class (``deep``: also inside nested models)."""
    nodes = graph.walk() if deep else iter(graph.nodes)
    return [n for n in nodes if n.class_name == class_name]


def expect_class_count(graph: LayerGraph, class_name: str, at_least: int, *, why: str = "") -> list[Problem]:
    calls = nodes_of(graph, class_name)
    if len(calls) >= at_least:
        return []
    return [Problem(f"The task needs {'at least ' if at_least > 1 else ''}{at_least} {class_name} layer call"
                    f"{'s' * (at_least > 1)}; your model has {len(calls)}." + (f" {why}" if why else ""))]


def expect_shared(graph: LayerGraph, class_name: str, calls: int = 2, *, what: str = "") -> list[Problem]:
    """One layer (one set of weights) of ``class_name`` is called at least ``calls`` times."""
    found = nodes_of(graph, class_name)
    by_layer: dict[int, list[Node]] = {}
    for n in found:
        by_layer.setdefault(n.layer.uid, []).append(n)
    if any(len(v) >= calls for v in by_layer.values()):
        return []
    what = what or f"one {class_name}"
    if len(by_layer) >= 2:
        names = [v[0].name for v in by_layer.values()]
        params = sum(v[0].layer.params for v in by_layer.values())
        return [Problem(f"{what.capitalize()} should be shared, but your model has {len(by_layer)} separate "
                        f"{class_name} layers ({', '.join(map(repr, names))}): {len(by_layer)} sets of weights "
                        f"({params:,} parameters in all), which learn different things. Make the layer once and "
                        f"call that same layer object on each input.", tuple(v[0].key for v in by_layer.values()))]
    if not by_layer:
        return [Problem(f"The task needs {what}, called on each input; your model has no {class_name} layer.")]
    only = next(iter(by_layer.values()))
    return [Problem(f"{class_name} {only[0].name!r} is called {len(only)} time{'s' * (len(only) != 1)}; the task "
                    f"calls it {calls} times (once per input).", (only[0].key,))]


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
    more = "more" if got > expected else "fewer"
    return [Problem(f"Your model has {got:,} parameters, {abs(got - expected):,} {more} than the task's "
                    f"{expected:,}." + (f" {explain}" if explain else
                                        " lab.shapes(model) shows where each layer's count comes from."))]


def run_forward(model: Any, x: Any, *, what: str = "A forward pass") -> Any:
    """``model.predict`` on ``x`` quietly; a Keras error becomes a :class:`Stop` with the explanation."""
    try:
        return model.predict(x, verbose=0)
    except Exception as exc:
        raise Stop(_raised(exc, f"{what} on a batch of data")) from None


# -- open-ended design tasks: connectivity and shapes ------------------------------------------------------------
# A design task says what goes in and what comes out, and which outputs must see which inputs; any layers in
# between are fine. These helpers find the student's inputs and outputs by name, else by shape, and check the
# paths between them, in the student's own terms.
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


def _dtype_words(want: str) -> str:
    return {"int": "an integer dtype", "float": "a float dtype"}.get(want, want)


def _exact_dtype(want: str) -> str:
    return want if want[-1].isdigit() else want + "32"


def _describe_inputs(graph: LayerGraph) -> str:
    parts = []
    for k in graph.inputs:
        node = graph.node(k)
        dtype = node.output_dtypes[0] if node.output_dtypes else ""
        parts.append(f"{k} {format_shape(_in_shape(node))}" + (f" {dtype}" if dtype and dtype != "float32" else ""))
    return ", ".join(parts) or "none"


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
                f"The task's {word} input {what} is missing: your model has no input for it (your inputs: "
                f"{_describe_inputs(graph)}). Every keras.Input the model reads goes in the list of inputs of "
                f"keras.Model(inputs=[...], ...)."))
            continue
        key = found[word]
        got = shape_of(key)
        if not shape_fits(got, shape):
            if _size_of(got) is not None and _size_of(got) == _size_of(shape):
                tail = (f". It holds as many numbers, in another shape: take the data as it comes, "
                        f"keras.Input(shape={tuple(shape[1:])!r}), and let the model reshape it if it must.")
            else:
                any_size = " (None: any size)" if any(d is None for d in tuple(shape)[1:]) else ""
                tail = f"{any_size}. keras.Input(shape=...) takes the shape of ONE sample, without the batch axis."
            problems.append(Problem(f"Input {key!r} has shape {format_shape(got)}; the task's {word} is "
                                    f"{format_shape(shape)}{tail}", (key,)))
        elif not _dtype_fits(dtype_of(key), want_dtype):
            ids = " Word ids are whole numbers." if want_dtype and want_dtype.startswith("int") else ""
            problems.append(Problem(
                f"Input {key!r} has dtype {dtype_of(key)}; the task's {word} needs {_dtype_words(want_dtype)}.{ids} "
                f"keras.Input(..., dtype={_exact_dtype(want_dtype)!r}).", (key,)))
    extra = [k for k in graph.inputs if k not in used]
    if extra and not problems:
        problems.append(Problem(
            f"Your model has {'inputs' if len(extra) > 1 else 'an input'} the task does not describe "
            f"({', '.join(map(repr, extra))}): it would have to be fed data nobody has. The task's inputs are "
            f"{', '.join(wanted)}.", tuple(extra)))
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
        fitting = [n for n, (_, s) in have.items() if n not in used and shape_fits(s, shape)]
        if fitting:
            found[word] = fitting[0]
            used.add(fitting[0])
    _pair_leftovers(wanted, list(have), lambda n: have[n][1], found, used)
    listing = ", ".join(f"{n} {format_shape(s)}" for n, (_, s) in have.items())
    for word, shape in wanted.items():
        if word not in found:
            problems.append(Problem(
                f"The task's {word} output {format_shape(shape)} is missing: your model's outputs are {listing}. "
                f"Add the layer that makes it to keras.Model(..., outputs=[...]).",
                tuple(k for k, _ in have.values())))
            continue
        key, got = have[found[word]]
        if not shape_fits(got, shape):
            problems.append(Problem(f"Output {found[word]!r} has shape {format_shape(got)}; the task's {word} is "
                                    f"{format_shape(shape)}." + _last_axis_advice(got, shape), (key,)))
    extra = [n for n in have if n not in used]
    if extra and not problems:
        problems.append(Problem(
            f"Your model has {'outputs' if len(extra) > 1 else 'an output'} the task does not ask for "
            f"({', '.join(map(repr, extra))}); the task's outputs are {', '.join(wanted)}.",
            tuple(have[n][0] for n in extra)))
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
        sees = (f"it is computed from {', '.join(map(repr, reaching))} only" if reaching else
                "it is computed from no input at all")
        many = len(missing) > 1
        problems.append(Problem(
            f"Output {output!r} never sees input{'s' * many} {', '.join(map(repr, missing))}: no path leads from "
            f"{'them' if many else 'it'} to {output!r} ({sees}). Let a path from "
            f"{'each of them' if many else 'it'} reach {output!r}: call a layer on the input and bring the "
            f"result into the tensors {output!r} is computed from." + (f" {why}" if why else ""), (key,)))
    wrong = [k for k in not_on if k in reaching]
    if wrong:
        problems.append(Problem(
            f"Output {output!r} is computed from {', '.join(map(repr, wrong))} too, but the task asks that it read "
            f"{', '.join(map(repr, on)) or 'other inputs'} only." + (f" {why}" if why else ""), (key,)))
    return problems


def weight_ids(model: Any) -> set[int]:
    """The identities of a model's variables: two models share weights exactly where these sets meet (the same
    layer objects), not where the numbers happen to be equal."""
    return {id(v) for v in model.weights}
