"""Grading an exercise answer for an autograder: ``lab.check``'s verdict, a score, and a reason a student can read.

This module knows no grader. :func:`grade` runs the exercise's judge (the same as ``lab.check``) under a time
limit, quietly (nothing on stderr), and turns the verdict into points; :meth:`Grade.autograde` adds what only an
autograder does (the answer cell left as the starter code scores 0; the task's hidden probes). A :class:`Grade`
shows as ``lab.check``'s verdict with the score; its plain-text form is the score alone and it carries its
:class:`Verdict` as JSON in the output's metadata (``fapi_lab``), which is how nbgrader reads the points and
``fapi-lab report`` the problems (see :mod:`fapi_lab._nbgrader`). Another grader can call :func:`grade` the same way
and read ``Grade.verdict``.

The score, in one sentence: a passing answer gets all the task's points; each problem the check finds takes a
third of them off, down to a third; an answer that is missing, is not the kind of thing the task asks for, raises
an error or runs too long gets 0, with the reason.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from . import _grading_watch as watching
from ._exercises import CheckResult, Problem, _graph_svg, check, exercise, explain_raised, judge_answer
from ._grading_probes import probes_for
from ._i18n import _
from ._judges import Context

__all__ = ["ZERO_FAMILIES", "Grade", "TimeLimit", "Verdict", "grade", "score_for"]

ZERO_FAMILIES = ("not-answered", "not-defined", "wrong-kind", "raised", "timeout")
HIDDEN = "hidden:"  # the code prefix of a problem a hidden probe found
_STOPPED = ("Your answer cell ran too long and the grader stopped it (an endless loop, or far too much work?), so this "
            "task gets no points. Make the cell finish quickly and run the notebook again.")

watching.watch()  # imported in the notebook's set-up cell: from then on the kernel's cells are recorded


class TimeLimit(BaseException):
    """The student's code ran past the grade's time limit (a BaseException: judges catch Exception only)."""


@dataclass(frozen=True)
class Verdict:
    """A graded answer as plain data. ``problems``: (code, message), the code as ``"ex4.1/input-shape"``;
    ``picture``: an SVG of the student's model with the problems' layers marked ("" when there is none)."""

    exercise: str
    title: str
    points: float
    score: float
    passed: bool
    answered: bool
    reason: str
    problems: tuple[tuple[str, str], ...] = ()
    probed: bool = False
    picture: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [{"code": c, "message": m} for c, m in self.problems]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        fields = {**data, "problems": tuple((p["code"], p["message"]) for p in data.get("problems", ()))}
        return cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})


def family(code: str) -> str:
    """``"ex4.1/raised:add-shapes"`` -> ``"raised"``: the kind of problem a code belongs to."""
    return code.split("/", 1)[-1].split(":", 1)[0]


def score_for(points: float, codes: list[str], answered: bool = True) -> float:
    """The score of an answer whose check found problems with these codes (none: it passed)."""
    if not codes:
        return float(points)
    if not answered or any(family(c) in ZERO_FAMILIES for c in codes):
        return 0.0
    return round(points * max(1 / 3, 1 - len(codes) / 3), 2)


def _reason(verdict_score: float, points: float, codes: list[str], answered: bool) -> str:
    if not codes:
        return f"passed: {points:g} of {points:g} points"
    zero = next((family(c) for c in codes if family(c) in ZERO_FAMILIES), "not-answered" if not answered else "")
    why = {"not-answered": "the task is not answered yet", "not-defined": "the answer was never made",
           "wrong-kind": "the answer is not what the task asks for", "raised": "running the answer raised an error",
           "timeout": "the answer ran too long and was stopped"}.get(zero)
    if why:
        return f"0 of {points:g} points: {why}"
    many = len(codes)
    return (f"{verdict_score:g} of {points:g} points: the check found {many} problem{'s' * (many != 1)} "
            f"(each takes a third of the points, down to a third)")


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimit` in this thread after ``seconds`` (the main thread of a Unix kernel only)."""
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TimeLimit

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Nothing reaches stderr (nbgrader scores a cell with any stderr output 0): warnings, logging, Python's
    sys.stderr and the process's file descriptor 2, where TensorFlow's C++ logs go."""
    saved_fd = None
    try:
        saved_fd = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except OSError:  # no file descriptor 2 to borrow: the Python-level silencing still holds
        saved_fd = None
    previous_disable = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous_disable)
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def _answer_names(answer: Callable[[], Any]) -> set[str]:
    code = getattr(answer, "__code__", None)
    return set(code.co_names) if code is not None else set()


@dataclass(frozen=True)
class Grade:
    """A graded answer: the :class:`Verdict`, and (when the check ran) ``lab.check``'s result, for the pictures."""

    verdict: Verdict
    check: CheckResult | None = None
    answer: Any = field(default=None, repr=False, compare=False)
    names: frozenset[str] = frozenset()
    seconds: float | None = None
    window: tuple[watching.Ran, ...] | None = None

    @property
    def score(self) -> float:
        return self.verdict.score

    def _extra(self) -> list[tuple[str, str]]:
        """The problems ``lab.check`` did not report (hidden probes, the starter left as it is, a stopped cell)."""
        shown = {(f"{self.verdict.exercise}/{p.code}", p.message) for p in self.check.problems} if self.check else set()
        return [p for p in self.verdict.problems if p not in shown]

    def __str__(self) -> str:
        v = self.verdict
        lines = [str(self.check)] if self.check is not None else [f"✘ {v.exercise}: {_(v.title)}"]
        lines += [f"  • {m}" for _, m in self._extra()]
        return "\n".join([*lines, f"Score: {v.reason}"])

    def __repr__(self) -> str:
        return f"{self.verdict.score:g}"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, str], dict[str, Any]]:
        """text/plain is the score alone: nbgrader reads a test cell's partial credit from it."""
        return ({"text/plain": f"{self.verdict.score:g}", "text/html": self._html()},
                {"fapi_lab": {"verdict": self.verdict.to_json()}})

    def _html(self) -> str:
        v = self.verdict
        colour = "#15803d" if v.score >= v.points else ("#b91c1c" if v.score == 0 else "#b45309")
        parts = [self.check._html()] if self.check is not None else []
        extra = self._extra()
        if extra:
            head = ("The autograder's own checks found" if self.check is not None
                    else f"✘ {html.escape(v.exercise)}: {html.escape(_(v.title))}")
            items = "".join(f"<li>{html.escape(m)}</li>" for _, m in extra)
            parts.append(f"<div style='border-left:5px solid {colour};padding:4px 12px;margin-top:4px'>"
                         f"<b style='color:{colour}'>{head}</b><ul style='margin:4px 0'>{items}</ul></div>")
        parts.append(f"<div style='margin-top:6px'><b style='color:{colour}'>Score: {html.escape(v.reason)}</b></div>")
        return f"<div>{''.join(parts)}</div>"

    def autograde(self, starter: str | None = None) -> Grade:
        """What only an autograder checks (a check cell's hidden tests), where each cell runs once, in order: an
        answer cell the grader had to stop, or one still holding the starter code (``starter``: its
        :func:`~fapi_lab._grading_watch.fingerprint`), scores 0; an answer that passed meets the task's hidden
        probes, each problem they find counting like one the check found."""
        v = self.verdict
        if any(isinstance(r.error, KeyboardInterrupt) for r in self.window or ()):
            return self._rescored([(f"{v.exercise}/timeout", _STOPPED)], keep_check=False)
        if starter and self.window is not None and self.names and v.answered \
                and watching.untouched(list(self.window), starter, set(self.names)):
            starter_left = self._rescored([(f"{v.exercise}/not-answered:starter",
                                            "Your answer cell still holds the starter code, unchanged: there is no "
                                            "answer of yours to grade yet.")], keep_check=False)
            return replace(starter_left, verdict=replace(starter_left.verdict, picture=""))
        if not v.passed or self.check is None:
            return self
        found: list[tuple[str, str]] = []
        picture = ""
        for probe in probes_for(exercise(v.exercise), self.check):
            ctx = Context(models=list(self.check.models))
            try:
                with _quiet(), _deadline(self.seconds):
                    problems, _given = judge_answer(probe, self.answer, ctx)
            except TimeLimit:
                problems = [Problem(f"A hidden check of your answer ran for more than {self.seconds:g} s and was "
                                    f"stopped.", code="timeout")]
            found += [(f"{v.exercise}/{HIDDEN}{p.code}", p.message) for p in problems]
            if problems and not picture and ctx.graph is not None:
                picture = _marked_svg(ctx.graph, problems)
        graded = self._rescored(found, keep_check=True)
        return replace(graded, verdict=replace(graded.verdict, probed=True, picture=picture))

    def _rescored(self, problems: list[tuple[str, str]], *, keep_check: bool) -> Grade:
        v = self.verdict
        every = [*v.problems, *problems] if keep_check else problems
        answered = v.answered and not any(family(c) == "not-answered" for c, _ in problems)
        # what a hidden probe finds counts as one problem, never as a zero family: the answer passed the check
        scored = ["hidden" if c.split("/", 1)[-1].startswith(HIDDEN) else c for c, _ in every]
        score = score_for(v.points, scored, answered)
        verdict = replace(v, score=score, passed=not every, answered=answered, problems=tuple(every),
                          reason=_reason(score, v.points, scored, answered))
        return replace(self, verdict=verdict, check=self.check if keep_check else None)


def _verdict(ex_id: str, title: str, points: float, problems: list[tuple[str, str]], *, answered: bool = True,
             picture: str = "") -> Verdict:
    codes = [c for c, _ in problems]
    score = score_for(points, codes, answered)
    return Verdict(ex_id, title, float(points), score, not problems, answered, _reason(score, points, codes, answered),
                   tuple(problems), picture=picture)


def _marked_svg(graph: Any, problems: list[Problem]) -> str:
    return "" if graph.subclassed else _graph_svg(graph, {k for p in problems for k in p.keys})


def _window_error(ran: list[watching.Ran] | None) -> BaseException | None:
    for r in reversed(ran or []):
        if r.error is not None:
            return r.error
    return None


def grade(exercise_id: str, answer: Callable[[], Any], *, points: float = 3, seconds: float | None = 60) -> Grade:
    """Grade the answer to an exercise: ``lab.check``'s verdict and a score out of ``points``.

    ``answer`` is a function of no arguments that returns the answer, e.g. ``lambda: tweet_model``: a name the
    answer cell never made is then reported, not raised. The student's code (making the answer, and running it
    in the check) is stopped after ``seconds``. Nothing is written to stderr."""
    ex = exercise(exercise_id)
    title = _(ex.title)  # in the language of the student-facing texts (lab.language)
    ran = watching.window()
    watching.mark_check()
    names = frozenset(_answer_names(answer))
    base = Grade(_verdict(ex.id, title, points, []), names=names, seconds=seconds,
                 window=tuple(ran) if ran is not None else None)
    try:
        with _quiet(), _deadline(seconds):
            value = answer()
    except TimeLimit:
        return replace(base, verdict=_verdict(ex.id, title, points, [(
            f"{ex.id}/timeout",
            _("Getting your answer took more than {seconds:g} s and was stopped.").format(seconds=seconds))]))
    except NameError as exc:
        name = getattr(exc, "name", None) or _("the answer")
        earlier = _window_error(ran)
        if isinstance(earlier, KeyboardInterrupt):
            return replace(base, verdict=_verdict(ex.id, title, points, [(
                f"{ex.id}/timeout", _("{name} was never made: your answer cell was stopped before it finished (did it "
                                  "run too long: an endless loop?).").format(name=name))]))
        if earlier is not None:
            text = explain_raised(earlier, _("Your answer cell"), with_fix=False)
            return replace(base, verdict=_verdict(ex.id, title, points, [(
                f"{ex.id}/raised", _("{name} was never made: {reason}").format(name=name,
                                                                            reason=text[0].lower() + text[1:]))]))
        return replace(base, verdict=_verdict(ex.id, title, points, [(
            f"{ex.id}/not-defined", _("{name} is not defined: write your answer in the cell above (it makes {name}) "
                                       "and run that cell before this one.").format(name=name))]))
    except Exception as exc:
        return replace(base, verdict=_verdict(ex.id, title, points, [(
            f"{ex.id}/raised", explain_raised(exc, _("Getting your answer"), with_fix=False))]))
    try:
        with _quiet(), _deadline(seconds):
            result = check(ex.id, value)
    except TimeLimit:
        return replace(base, verdict=_verdict(ex.id, title, points, [(
            f"{ex.id}/timeout", _("Checking your answer ran your code for more than {seconds:g} s, so it was stopped "
                                   "(an endless loop, or far too much work?).").format(seconds=seconds))]))
    problems = [(f"{ex.id}/{p.code}", p.message) for p in result.problems]
    picture = "" if result.passed else result.graph_svg()
    return replace(base, check=result, answer=value,
                   verdict=_verdict(ex.id, title, points, problems, answered=result.answered, picture=picture))

