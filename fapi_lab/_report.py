"""``fapi-lab report COURSE_DIR``: what a class got right and wrong, from an nbgrader course that was autograded.

The scores come from nbgrader's gradebook (so a score the teacher changed by hand counts as changed); the
problems, their stable codes and the pictures of the students' models come from the check cells' outputs in the
autograded notebooks (each carries its :class:`~fapi_lab._grading.Verdict`). :func:`read_course` turns both into
a :class:`ClassReport` of plain data; :func:`fapi_lab._report_html.render` draws it as one offline HTML page. The
report names no student: it is made to be shown to the class.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import write_new

__all__ = ["ClassReport", "ProblemCount", "ReportError", "TaskCount", "read_course", "write_report"]

_CHECK_CELL = re.compile(r"^(ex\d+)_(\d+)-check$")
_MARK = re.compile(r"<!-- fapi-lab report sha256:([0-9a-f]{64}) -->\n\Z")


class ReportError(ValueError):
    """A course the report cannot read; the message says what is missing and what to run."""


@dataclass(frozen=True)
class TaskCount:
    """One task across the class: how many students were graded on it, how many got full points, the mean."""

    exercise: str
    title: str
    points: float
    graded: int
    passed: int
    mean: float


@dataclass(frozen=True)
class ProblemCount:
    """One kind of problem (``code``, e.g. ``"ex4.1/raised:add-shapes"``): how many students' answers had it, a
    typical message in a student's terms, and that student's model drawn with the problem's layers marked."""

    code: str
    exercise: str
    students: int
    message: str
    picture: str = ""


@dataclass(frozen=True)
class ClassReport:
    course_id: str
    assignments: tuple[str, ...]
    students: int
    tasks: tuple[TaskCount, ...]
    problems: tuple[ProblemCount, ...]
    notes: tuple[str, ...] = field(default=())


def _config(course: Path) -> dict[str, Any]:
    from traitlets.config.loader import PyFileConfigLoader

    if not (course / "nbgrader_config.py").exists():
        raise ReportError(f"{course} has no nbgrader_config.py: it is not an nbgrader course (fapi-lab nbgrader "
                          f"{course} makes one)")
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config().CourseDirectory
    root = Path(cfg.get("root", course))
    root = root if root.is_absolute() else course / root
    return {"course_id": cfg.get("course_id", "default_course"),
            "db_url": cfg.get("db_url", f"sqlite:///{root / 'gradebook.db'}"),
            "autograded": root / cfg.get("autograded_directory", "autograded")}


def _order(exercise_id: str) -> tuple[int, ...]:
    """``"ex4.10"`` after ``"ex4.9"``."""
    return tuple(int(n) for n in re.findall(r"\d+", exercise_id))


def _exercise_of(cell_name: str) -> str | None:
    match = _CHECK_CELL.match(cell_name)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _verdicts(folder: Path) -> dict[str, dict[str, Any]]:
    """exercise id -> the verdict its check cell's output carries, in the autograded notebooks of one student
    and assignment."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []):
                verdict = output.get("metadata", {}).get("fapi_lab", {}).get("verdict")
                if isinstance(verdict, dict) and "exercise" in verdict:
                    found[verdict["exercise"]] = verdict
    return found


def _typical(holders: list[tuple[str, dict[str, Any]]], code: str) -> dict[str, Any]:
    """Of the answers with this problem, one whose whole set of problems is the most common among them (and that
    has a picture, if any has); ties go to the first student id, so the choice is the same on every run."""
    sets = Counter(frozenset(p["code"] for p in v["problems"]) for _, v in holders)
    ranked = sorted(holders, key=lambda h: (not h[1].get("picture"),
                                            -sets[frozenset(p["code"] for p in h[1]["problems"])], h[0]))
    return ranked[0][1]


def read_course(course: Path, assignments: list[str] | None = None) -> ClassReport:
    """The class report's data for an autograded nbgrader course (optionally only some assignments)."""
    from nbgrader.api import Gradebook

    course = course.resolve()
    cfg = _config(course)
    titles: dict[str, str] = {}
    database = cfg["db_url"].removeprefix("sqlite:///") if cfg["db_url"].startswith("sqlite:///") else None
    if database is not None and not Path(database).exists():
        raise ReportError(f"{course} has no gradebook yet ({Path(database).name}): run nbgrader generate_assignment "
                          f"and nbgrader autograde in it first")
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    holders: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    students: set[str] = set()
    chosen: list[str] = []
    waiting: list[str] = []
    with Gradebook(cfg["db_url"], course_id=cfg["course_id"]) as gb:
        names = [a.name for a in gb.assignments]
        unknown = sorted(set(assignments or ()) - set(names))
        if unknown:
            raise ReportError(f"the gradebook has no assignment {', '.join(unknown)}; it has "
                              f"{', '.join(names) or 'none'}")
        for name in assignments or names:
            submissions = list(gb.assignment_submissions(name))
            if not submissions:
                waiting.append(name)
                continue
            chosen.append(name)
            for sub in submissions:
                student = sub.student.id
                students.add(student)
                verdicts = _verdicts(cfg["autograded"] / student / name)
                for nb in sub.notebooks:
                    for g in nb.grades:
                        ex_id = _exercise_of(g.name)
                        if ex_id is None or g.max_score is None:
                            continue
                        scores[ex_id].append((float(g.score or 0), float(g.max_score)))
                        verdict = verdicts.get(ex_id)
                        if verdict is None:
                            continue
                        titles[ex_id] = str(verdict.get("title", ex_id))
                        for code in dict.fromkeys(p["code"] for p in verdict.get("problems", ())):
                            holders[code].append((student, verdict))
    notes = [f"not autograded yet: {', '.join(waiting)} (nbgrader autograde SET)"] if waiting else []
    if not chosen and not waiting:
        raise ReportError(f"the gradebook of {course} has no assignments: run nbgrader generate_assignment and "
                          f"nbgrader autograde first")
    tasks = tuple(TaskCount(ex, titles.get(ex, ex), max(m for _, m in got), len(got),
                            sum(1 for s, m in got if s >= m), round(sum(s for s, _ in got) / len(got), 2))
                  for ex, got in sorted(scores.items(), key=lambda kv: _order(kv[0])))
    problems = []
    for code, had in holders.items():
        example = _typical(had, code)
        message = next(p["message"] for p in example["problems"] if p["code"] == code)
        problems.append(ProblemCount(code, code.split("/", 1)[0], len(had), message, example.get("picture", "")))
    problems.sort(key=lambda p: (-p.students, _order(p.exercise), p.code))
    return ClassReport(cfg["course_id"], tuple(chosen), len(students), tasks, tuple(problems), tuple(notes))


def _stamp(text: str) -> str:
    """The page with a last line that says this command wrote it, and a hash of everything before that line."""
    return f"{text}<!-- fapi-lab report sha256:{hashlib.sha256(text.encode('utf-8')).hexdigest()} -->\n"


def _ours_untouched(path: Path) -> bool:
    """The file is a report this command wrote and nobody changed since (its stamp matches its content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    mark = _MARK.search(text)
    return bool(mark) and hashlib.sha256(text[:mark.start()].encode("utf-8")).hexdigest() == mark.group(1)


def write_report(path: Path, html_text: str) -> Path:
    """Write the report to ``path``; an earlier report there is replaced only if nobody edited it (otherwise the
    new one goes beside it, see ``_files.write_new``). Returns where it went."""
    data = _stamp(html_text).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and _ours_untouched(path):
        path.write_bytes(data)
        return path
    return write_new(path, data).path
