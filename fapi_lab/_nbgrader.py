"""``fapi-lab nbgrader COURSE_DIR``: an nbgrader course made from the exercise solution notebooks.

Each solution notebook ``solutions/exercises/exN_topic.ipynb`` becomes the nbgrader assignment ``exN``, with
``source/exN/exN_topic.ipynb``, in which:

- the task texts and the given code are read-only cells;
- each answer is a solution cell: the solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, with the
  student's starter code kept in it as ``# student:`` lines, which the released notebook gets in place of the
  solution (the course's ``nbgrader_config.py`` puts :class:`fapi_lab._grading_hooks.KeepStarterCode` in
  place of nbgrader's ClearSolutions);
- each ``lab.check`` cell becomes an autograder test cell worth ``points``: it calls
  :func:`fapi_lab._grading.grade` (the same judge as ``lab.check``, with partial credit and a time limit), and
  between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` what only the autograder runs
  (:meth:`~fapi_lab._grading.Grade.autograde`: the untouched starter scores 0; the task's hidden probes);
- cells tagged ``teacher`` are left out.

Nothing is overwritten that a teacher may have edited: a file that differs is kept and the new version goes to
``new_versions/`` (for notebooks, which nbgrader would otherwise take for part of the assignment) or beside it.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._files import write_new

__all__ = ["SETUP_LINE", "STUDENT", "CourseError", "assignment_of", "check_cell", "config_text", "course_notebook",
           "grade_cell_source", "release_source", "write_course"]

SOLUTION_BEGIN = re.compile(r"^(\s*)#+ BEGIN SOLUTION\s*$")
SOLUTION_END = re.compile(r"^\s*#+ END SOLUTION\s*$")
STUDENT = re.compile(r"^(\s*)# student:(?: (.*))?$")
TEACHER_TAG = "teacher"
NEW_VERSIONS = "new_versions"
DEFAULT_POINTS = 3
DEFAULT_TIMEOUT = 120
SETUP_SECONDS = 600
_CHECK = re.compile(r"""^\s*lab\.check\(""")
SETUP_LINE = "from fapi_lab._grading import grade  # the check cells grade each answer too (nbgrader)"


class CourseError(ValueError):
    """A solution notebook that cannot become an nbgrader assignment; the message names the notebook and cell."""


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def assignment_of(path: Path) -> str:
    """``ex4_residuals_and_inception.ipynb`` -> ``ex4``."""
    match = re.match(r"(ex\d+)", path.stem)
    if not match:
        raise CourseError(f"{path.name}: an exercise notebook's name starts with its set, e.g. ex4_topic.ipynb")
    return match.group(1)


def release_source(source: str, stub: str = "# your code here") -> str:
    """A solution cell as the student gets it: each solution region becomes its ``# student:`` lines (without
    that prefix), or ``stub`` when it has none. The same rule as ``fapi-lab student``, on nbgrader's markers."""
    out: list[str] = []
    inside, starter, indent = False, [], ""
    for line in source.split("\n"):
        begin = SOLUTION_BEGIN.match(line)
        if begin and not inside:
            inside, starter, indent = True, [], begin.group(1)
        elif inside and SOLUTION_END.match(line):
            out.extend(starter or [indent + s for s in stub.split("\n")])
            inside = False
        elif inside:
            student = STUDENT.match(line)
            if student:
                starter.append(student.group(1) + (student.group(2) or ""))
        else:
            out.append(line)
    return "\n".join(out)


def _nbgrader_markers(source: str) -> str:
    """``# BEGIN SOLUTION`` -> ``### BEGIN SOLUTION`` (and END), keeping the indentation."""
    lines = []
    for line in source.split("\n"):
        begin, end = SOLUTION_BEGIN.match(line), SOLUTION_END.match(line)
        if begin:
            line = f"{begin.group(1)}### BEGIN SOLUTION"
        elif end:
            line = f"{line[:len(line) - len(line.lstrip())]}### END SOLUTION"
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class CheckCall:
    """``lab.check("ex4.1", residual_block)``: the exercise id and the answer's expression."""

    exercise_id: str
    expression: str


def check_cell(source: str, where: str = "") -> CheckCall | None:
    """The ``lab.check`` call a check cell makes, or None for another cell; a clear error for a check cell that
    does more than the one call."""
    if not _CHECK.match(source):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CourseError(f"{where}: the check cell does not parse ({exc.msg})") from None
    body = tree.body
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if not (isinstance(call, ast.Call) and len(call.args) == 2 and not call.keywords
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
        raise CourseError(f"{where}: a check cell holds exactly one call lab.check(\"exN.M\", answer); this one "
                          f"holds {source.strip()[:80]!r}")
    expression = ast.get_source_segment(source, call.args[1])
    return CheckCall(call.args[0].value, expression or ast.unparse(call.args[1]))


def _grade_id(exercise_id: str, part: str) -> str:
    return f"{exercise_id.replace('.', '_')}-{part}"


def grade_cell_source(call: CheckCall, points: float, seconds: float, starter: str) -> str:
    """The autograder test cell for one task (see the module docstring)."""
    var = f"check_{call.exercise_id.replace('.', '_')}"
    hidden = (f"{var} = {var}.autograde(starter={starter!r})  # the untouched starter scores 0; hidden probes"
              if starter else f"{var} = {var}.autograde()  # the task's hidden probes")
    return (f"# The check of {call.exercise_id}, worth {points:g} points: run it to see how your answer does. The "
            f"autograder runs it too.\n"
            f"{var} = grade({call.exercise_id!r}, lambda: {call.expression}, points={points:g}, "
            f"seconds={seconds:g})\n"
            f"### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS\n{var}")


def _meta(cell: dict[str, Any], grade_id: str, *, solution: bool = False, grade: bool = False,
          points: float | None = None) -> dict[str, Any]:
    meta = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("execution", "nbgrader")}
    info: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                            "solution": solution}
    if points is not None:
        info["points"] = points
    meta["nbgrader"] = info
    return meta


def course_notebook(solution: dict[str, Any], origin: str, *, points: float = DEFAULT_POINTS,
                    timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The nbgrader source notebook made from one solution notebook (nbformat JSON)."""
    from ._grading_watch import fingerprint

    seconds = max(5, timeout // 2)
    cells: list[dict[str, Any]] = []
    answers: list[tuple[int, str]] = []  # (index in cells, release source) of answer cells not yet checked
    setup_done = False
    for index, cell in enumerate(solution.get("cells", [])):
        if TEACHER_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = _source(cell)
        where = f"{origin} cell {index}"
        new: dict[str, Any] = {"cell_type": cell["cell_type"], "id": cell.get("id", f"cell-{index}"),
                               "source": source}
        if cell["cell_type"] != "code":
            new["metadata"] = _meta(cell, f"task-{index:02d}")
            cells.append(new)
            continue
        new["outputs"], new["execution_count"] = [], None
        call = check_cell(source, where)
        if call is not None:
            if not answers:
                raise CourseError(f"{where}: lab.check({call.exercise_id!r}, ...) has no answer cell (one with "
                                  f"# BEGIN SOLUTION) before it")
            for number, (at, _) in enumerate(answers):
                cells[at]["metadata"]["nbgrader"]["grade_id"] = _grade_id(call.exercise_id, "answer" + (
                    f"-{number + 1}" if number else ""))
            starter = fingerprint(answers[-1][1]) if len(answers) == 1 else ""
            new["source"] = grade_cell_source(call, points, seconds, starter)
            new["metadata"] = _meta(cell, _grade_id(call.exercise_id, "check"), grade=True, points=points)
            answers = []
        elif any(SOLUTION_BEGIN.match(line) for line in source.split("\n")):
            new["source"] = _nbgrader_markers(source)
            new["metadata"] = _meta(cell, f"answer-{index:02d}", solution=True)
            answers.append((len(cells), release_source(new["source"])))
        else:
            if not setup_done and "import fapi_lab" in source:
                new["source"] = source.rstrip("\n") + "\n" + SETUP_LINE
                setup_done = True
            new["metadata"] = _meta(cell, f"given-{index:02d}")
        cells.append(new)
    if answers:
        raise CourseError(f"{origin}: the last answer cell has no lab.check cell after it")
    if not setup_done:
        raise CourseError(f"{origin}: no code cell imports fapi_lab (import fapi_lab as lab) before the checks")
    meta = {k: v for k, v in solution.get("metadata", {}).items() if k not in ("fapi_lab",)}
    meta.setdefault("kernelspec", {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"})
    meta["fapi_lab"] = {"nbgrader_source_of": origin,
                        "made_by": "fapi-lab nbgrader (change the solution notebook and run it again, or edit here)"}
    minor = max(5, int(solution.get("nbformat_minor", 5)))
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": minor}


def config_text(course_id: str, timeout: float) -> str:
    """The course's ``nbgrader_config.py``."""
    return f'''# nbgrader configuration of a fapi_lab course, written by `fapi-lab nbgrader` (yours to edit).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}

from fapi_lab._grading_hooks import CellTimeouts, keep_starter_code  # noqa: E402

# The released answer cells keep the student's starter code (the '# student:' lines of a solution block).
keep_starter_code(c)

# A cell that runs longer than this many seconds is interrupted, and grading goes on: that task scores 0, with the
# reason. The check cells stop a student's code after half of it themselves, so they can say why.
c.Execute.timeout = {int(timeout)}
c.Execute.interrupt_on_timeout = True
# The set-up cell imports TensorFlow, slow on a busy machine: it gets {SETUP_SECONDS} seconds.
c.Execute.timeout_func = CellTimeouts(setup={SETUP_SECONDS}, other=c.Execute.timeout)
# A busy machine delivers a cell's last outputs late: wait for them rather than fail the student's notebook.
c.Execute.iopub_timeout = 30
'''


def _dump(nb: dict[str, Any]) -> bytes:
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _write(course: Path, relative: Path, data: bytes, *, elsewhere: bool) -> str:
    """Write one course file without replacing a different one (see the module docstring); one report line."""
    target = course / relative
    if target.exists() and target.read_bytes() != data:
        done = write_new(course / NEW_VERSIONS / relative if elsewhere else target, data)
        return f"KEPT     {relative} (yours differs; the new version is {done.path.relative_to(course)})"
    done = write_new(target, data)
    return f"{'wrote   ' if done.action == 'wrote' else 'same    '} {relative}"


def write_course(course: Path, sources: list[Path], *, points: float = DEFAULT_POINTS,
                 timeout: float = DEFAULT_TIMEOUT, course_id: str | None = None) -> list[str]:
    """Write (or bring up to date) the nbgrader course in ``course`` from these solution notebooks; one report
    line per file."""
    if points <= 0:
        raise CourseError(f"points must be more than 0; got {points:g}")
    if timeout < 10:
        raise CourseError(f"the timeout must be at least 10 seconds (a notebook's set-up cell imports TensorFlow); "
                          f"got {timeout:g}")
    notebooks = []
    for src in sources:
        try:
            solution = json.loads(src.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CourseError(f"{src}: not a readable notebook ({exc})") from None
        notebooks.append((assignment_of(src), src.name,
                          course_notebook(solution, src.name, points=points, timeout=timeout)))
    course.mkdir(parents=True, exist_ok=True)
    report = [_write(course, Path("nbgrader_config.py"),
                     config_text(course_id or course.resolve().name, timeout).encode("utf-8"), elsewhere=False)]
    for assignment, name, nb in notebooks:
        report.append(_write(course, Path("source") / assignment / name, _dump(nb), elsewhere=True))
    return report
