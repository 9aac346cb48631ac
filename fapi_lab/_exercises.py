"""Classroom exercises: ``lab.check(exercise_id, answer)`` judges an answer, ``lab.hint(exercise_id)`` helps.

An exercise is data (id, title, hints) and a *judge*: a function of the student's answer that returns the
problems it finds, in the student's own terms (their layer names, their shapes). Judges look at structure and
behaviour through the same layer graph as the pictures (inputs, outputs, shapes, shared weights, parameter
counts, a forward pass, a short fit), never at variable names or code text, and never build the answer
themselves: a wrong answer is told what is wrong, not shown the solution.

The exercise sets are ``fapi_lab/_exercise_sets/exN.py``. The solutions are notebooks in ``solutions/`` at the
top of the repository, which nothing in the package imports; ``fapi-lab student`` turns them into the student
notebooks of ``notebooks/exercises/`` (see :mod:`fapi_lab._student`).

Writing a judge: use the helpers of :mod:`fapi_lab._judges` and :mod:`fapi_lab._judges_design` (re-exported
here: :func:`need_model`, :func:`expect_inputs`, :func:`expect_outputs`, :func:`expect_shared`,
:func:`expect_params`, :func:`run_forward` …). Each returns a list of :class:`Problem`, each with a stable
``code``; a helper that finds the answer unusable raises :class:`Stop` so later checks are skipped.
"""

from __future__ import annotations

import difflib
import html
import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._i18n import N_, _
from ._judges import (
    Context,
    Judge,
    Problem,
    Stop,
    computes_like,
    expect_class_count,
    expect_inputs,
    expect_outputs,
    expect_params,
    expect_shared,
    explain_raised,
    need_callable,
    need_functional,
    need_model,
    nodes_of,
    output_map,
    run_forward,
    shapes_text,
    total_params,
    unconnected_inputs,
    weight_ids,
)
from ._judges_design import expect_depends, inputs_reaching, match_inputs, match_outputs, shape_fits
from ._layergraph import LayerGraph, flatten
from ._render_dot import GraphOptions, NodeColours

__all__ = [
    "CheckResult",
    "Context",
    "Exercise",
    "Hint",
    "Judge",
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
    "judge_answer",
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
    "shapes_text",
    "total_params",
    "unconnected_inputs",
    "weight_ids",
]

UNCLASSIFIED = "unclassified"  # the code of a problem a judge made without one (a test keeps it from happening)
_PROBLEM_FILL = "#fecaca"  # nodes a problem is about, on the student's graph


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
    answer: str = N_("a functional keras.Model")
    outline: tuple[tuple[str, str], ...] = ()
    probes: tuple[Judge, ...] = ()  # extra judges only an autograder runs, on an answer that passed (hidden tests)



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
    parts = [_("There is no exercise {id!r}.").format(id=exercise_id)]
    if close:
        parts.append(_("Did you mean {names}?").format(names=", ".join(repr(c) for c in close)))
    parts.append(_("The exercises are {ids}; the id is written in the exercise's check cell.").format(
        ids=", ".join(exercises_)))
    raise ValueError(" ".join(parts))


class ExerciseList(list):
    """The exercises as a table (``lab.exercises()``)."""

    def __str__(self) -> str:
        return "\n".join(f"{e.id:7} {_(e.lesson):18} {_(e.title)}" for e in self)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(e.id)}</code></td><td>{html.escape(_(e.lesson))}</td>"
                       f"<td style='text-align:left'>{html.escape(_(e.title))}</td></tr>" for e in self)
        lessons, task = html.escape(_("lessons")), html.escape(_("task"))
        return (f"<table><thead><tr><th>id</th><th>{lessons}</th><th style='text-align:left'>{task}</th></tr>"
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
    models: tuple[Any, ...] = field(default=(), repr=False, compare=False)  # the models the judge read

    def __bool__(self) -> bool:
        return self.passed

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else ("not answered" if not self.answered else "not yet")
        return f"CheckResult({self.exercise.id!r}: {verdict})"

    def _head(self) -> str:
        if self.passed:
            return _("{id} passed").format(id=self.exercise.id)
        if not self.answered:
            return _("{id} not answered yet").format(id=self.exercise.id)
        return _("{id} not yet").format(id=self.exercise.id)

    def _titled(self) -> str:
        """'ex3.1 passed: Build the ticket model' (the colon is the language's: 'ex3.1 通过：…')."""
        return _("{head}: {title}").format(head=self._head(), title=_(self.exercise.title))

    def __str__(self) -> str:
        ex = self.exercise
        if self.passed:
            lines = ["✔ " + self._titled()]
            lines += [f"  ✓ {v}" for v in self.verified]
            return "\n".join(lines)
        lines = ["✘ " + self._titled()]
        lines += [f"  • {m}" for m in self.messages]
        lines.append("  " + _("A hint: lab.hint({id!r})").format(id=ex.id))
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": str(self), "text/html": self._html()}

    def _html(self) -> str:
        esc = html.escape
        ex = self.exercise
        if self.passed:
            items = "".join(f"<li>{esc(v)}</li>" for v in self.verified)
            return ("<div style='border-left:5px solid #16a34a;padding:4px 12px'>"
                    + _("{head}: {title}").format(head=f"<b style='color:#15803d'>✔ {esc(self._head())}</b>",
                                                  title=esc(_(ex.title)))
                    + f"<ul style='margin:4px 0'>{items}</ul></div>")
        colour = "#b45309" if not self.answered else "#b91c1c"
        items = "".join(f"<li>{esc(m)}</li>" for m in self.messages)
        call = f"<code>lab.hint({esc(repr(ex.id))})</code>"
        parts = [f"<div style='border-left:5px solid {colour};padding:4px 12px'>",
                 _("{head}: {title}").format(head=f"<b style='color:{colour}'>✘ {esc(self._head())}</b>",
                                             title=esc(_(ex.title))),
                 f"<ul style='margin:4px 0'>{items}</ul>",
                 "<div>" + esc(_("A hint is one call away: {call}")).format(call=call) + "</div>"]
        pictures = self._pictures()
        if pictures:
            parts.append(pictures)
        parts.append("</div>")
        return "".join(parts)

    def graph_svg(self) -> str:
        """The student's model as SVG, the layers the problems are about marked ("" when there is no graph)."""
        if self.graph is None or self.graph.subclassed:
            return ""
        return _graph_svg(self.graph, {k for p in self.problems for k in p.keys})

    def _pictures(self) -> str:
        if not self.answered or (self.graph is None and not self.exercise.outline):
            return ""
        cells = []
        if self.graph is not None and not self.graph.subclassed:
            marked = {k for p in self.problems for k in p.keys}
            cells.append((_("your model (the layers the problems are about in red)") if marked else _("your model"),
                          _graph_svg(self.graph, marked)))
        if self.exercise.outline:
            cells.append((_("the structure the task asks for"), _outline_svg(self.exercise.outline)))
        if not cells:
            return ""
        from ._pictures import picture_html

        def shown(svg: str, title: str) -> str:  # an <img>, which an untrusted notebook keeps (an <svg> it drops)
            if svg.lstrip().startswith(("<svg", "<?xml")):
                return picture_html(svg, alt=title, max_height=520)
            return f"<div style='max-height:520px;overflow:auto'>{svg}</div>"

        body = "".join(
            f"<div style='flex:1 1 280px;min-width:0'><div><i>{html.escape(title)}</i></div>"
            f"{shown(svg, title)}</div>" for title, svg in cells)
        return f"<div style='display:flex;gap:16px;align-items:flex-start;margin-top:6px'>{body}</div>"


def _graph_svg(graph: LayerGraph, marked: set[str]) -> str:
    from ._graph_view import _fit_width, render_svg

    flat = flatten(graph, None if any(k for k in marked if "/" in k) else 0)
    fills = {k: _PROBLEM_FILL for k in marked if k in flat.keys}
    try:
        svg, _layout = render_svg(flat, GraphOptions(show_shapes=True), NodeColours(fills=fills))
    except Exception as exc:  # a picture must never hide the verdict
        said = _("(the picture could not be drawn: {error})").format(error=exc)
        return f"<pre>{html.escape(said)}</pre>"

    return _fit_width(svg)


def _outline_svg(edges: Sequence[tuple[str, str]]) -> str:
    from ._graph_view import _fit_width
    from ._render_dot import DotNotFound, dot_to_svg

    edges = [(_(a), _(b)) for a, b in edges]  # the outline's labels, in the current language
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
            _("Replace the ... in the exercise cell with {answer}, run that cell, then run this check again.")
            .format(answer=_(ex.answer)), code="not-answered"),))
    ctx = Context()
    problems, answered = judge_answer(ex.judge, answer, ctx)
    return CheckResult(ex, passed=not problems, problems=tuple(problems), answered=answered,
                       verified=tuple(ctx.verified), graph=ctx.graph, models=tuple(ctx.models))


def judge_answer(judge: Judge, answer: Any, ctx: Context) -> tuple[list[Problem], bool]:
    """Run one judge (or hidden probe) on an answer: its problems, each with a code, and whether it was answered.
    A :class:`Stop` becomes its one problem; any other error the student's code raised is explained."""
    answered = True
    try:
        problems = list(judge(answer, ctx))
    except Stop as stop:
        problems, answered = [stop.problem], stop.answered
    except Exception as exc:  # the student's code raised inside the judge: explain, don't throw
        problems = [Problem(explain_raised(exc, _("Running your answer")), code="raised")]
    return [p if p.code else replace(p, code=UNCLASSIFIED) for p in problems], answered


# -- hints --------------------------------------------------------------------------------------------------
_HINTS_SHOWN: dict[str, int] = {}


@dataclass(frozen=True)
class Hint:
    exercise: Exercise
    number: int  # 1-based

    @property
    def text(self) -> str:
        return _(self.exercise.hints[self.number - 1])

    def _head(self) -> str:
        return _("{id} hint {number} of {total}").format(id=self.exercise.id, number=self.number,
                                                          total=len(self.exercise.hints))

    def __str__(self) -> str:
        if self.number < len(self.exercise.hints):
            more = _("(run lab.hint({id!r}) again for hint {number})").format(id=self.exercise.id,
                                                                              number=self.number + 1)
        else:
            more = _("(the last hint; {lesson} shows the pattern)").format(lesson=_(self.exercise.lesson))
        return _("{head}: {title}").format(head=self._head(), title=_("{hint} {more}").format(hint=self.text,
                                                                                               more=more))

    def __repr__(self) -> str:
        return f"Hint({self.exercise.id!r}, {self.number})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": str(self),
                "text/html": ("<div style='border-left:5px solid #2563eb;padding:4px 12px'>"
                              + _("{head}: {title}").format(head=f"<b>{html.escape(self._head())}</b>",
                                                            title=html.escape(self.text)) + "</div>")}


def hint(exercise_id: str, number: int | None = None) -> Hint:
    """The next hint for an exercise (each call gives one more), or hint ``number`` (1, 2, …)."""
    ex = exercise(exercise_id)
    total = len(ex.hints)
    if number is None:
        number = min(_HINTS_SHOWN.get(ex.id, 0) + 1, total)
    elif isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= total:
        raise ValueError(_("{id} has hints 1 to {total}; got {number!r}").format(id=ex.id, total=total,
                                                                                 number=number))

    _HINTS_SHOWN[ex.id] = max(_HINTS_SHOWN.get(ex.id, 0), number)
    return Hint(ex, number)

