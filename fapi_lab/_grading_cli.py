"""The grading commands of ``fapi-lab``: ``nbgrader COURSE_DIR`` (an nbgrader course from the exercise solutions)
and ``report COURSE_DIR`` (the class report of an autograded course). :func:`add_commands` adds them to the
command line's subcommands."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "nbgrader_command", "report_command"]

_NBGRADER = "pip install 'nbgrader>=0.9.5,<0.10'"


def _solutions() -> Path:
    return Path(__file__).resolve().parents[1] / "solutions" / "exercises"


def nbgrader_command(args: argparse.Namespace) -> int:
    from ._nbgrader import CourseError, assignment_of, write_course

    folder = Path(args.solutions).expanduser() if args.solutions else _solutions()
    sources = sorted(folder.glob("ex*.ipynb"))
    if not sources:
        print(f"fapi-lab nbgrader: no solution notebooks (ex*.ipynb) in {folder}; run this from a clone of the "
              f"fapi_lab repository, or give --solutions FOLDER")
        return 1
    if args.sets:
        known = {assignment_of(s): s for s in sources}
        missing = [s for s in args.sets if s not in known]
        if missing:
            print(f"fapi-lab nbgrader: no exercise set {', '.join(missing)}; the sets are {', '.join(known)}")
            return 1
        sources = [known[s] for s in args.sets]
    course = Path(args.course_dir).expanduser()
    try:
        lines = write_course(course, sources, points=args.points, timeout=args.timeout, course_id=args.course_id)
    except CourseError as exc:
        print(f"fapi-lab nbgrader: {exc}")
        return 1
    print("\n".join(lines))
    sets = [assignment_of(s) for s in sources]
    print(f"fapi-lab nbgrader: an nbgrader course in {course.resolve()}: assignments {', '.join(sets)}, "
          f"{args.points:g} points per task.")
    print(f"Next, in that folder: nbgrader generate_assignment {sets[0]}  (then release, collect or copy the "
          f"submissions to submitted/STUDENT/{sets[0]}/, nbgrader autograde {sets[0]}, nbgrader generate_feedback "
          f"{sets[0]}, nbgrader export; fapi-lab report .)")
    if importlib.util.find_spec("nbgrader") is None:
        print(f"fapi-lab nbgrader: nbgrader itself is not installed here: {_NBGRADER}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("nbgrader") is None:
        print(f"fapi-lab report: this needs nbgrader, to read the gradebook: {_NBGRADER}")
        return 1
    from ._report import ReportError, read_course, write_report
    from ._report_html import render

    course = Path(args.course_dir).expanduser()
    try:
        report = read_course(course, args.assignment or None)
    except ReportError as exc:
        print(f"fapi-lab report: {exc}")
        return 1
    name = "class_report" + "".join(f"_{a}" for a in args.assignment or ()) + ".html"
    target = Path(args.out).expanduser() if args.out else course / "reports" / name
    written = write_report(target, render(report))
    for note in report.notes:
        print(f"fapi-lab report: {note}")
    if written != target:
        print(f"fapi-lab report: kept {target} (it was edited); the new report is beside it")
    print(written.resolve())
    return 0


def add_commands(sub: Any) -> None:
    """Add ``nbgrader`` and ``report`` to the ``fapi-lab`` subcommands (``sub``: argparse's subparsers)."""
    from ._nbgrader import DEFAULT_POINTS, DEFAULT_TIMEOUT

    nbg = sub.add_parser("nbgrader", help="make an nbgrader course (autograded, with feedback) from the exercises")
    nbg.add_argument("course_dir", metavar="COURSE_DIR", help="the course folder (made if missing)")
    nbg.add_argument("sets", nargs="*", metavar="SET", help="exercise sets to include, e.g. ex4 (default: all)")
    nbg.add_argument("--points", type=float, default=DEFAULT_POINTS, help="points per task (default: %(default)g)")
    nbg.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                     help="seconds a cell may run before the grader stops it (default: %(default)g)")
    nbg.add_argument("--course-id", help="nbgrader's course id (default: the folder's name)")
    nbg.add_argument("--solutions", help="the folder of solution notebooks (default: solutions/exercises)")
    nbg.set_defaults(func=nbgrader_command)
    rep = sub.add_parser("report", help="write a class report (one offline HTML page) of an autograded course")
    rep.add_argument("course_dir", metavar="COURSE_DIR", help="the nbgrader course folder")
    rep.add_argument("--assignment", action="append", metavar="SET", help="only this assignment (repeatable)")
    rep.add_argument("--out", help="where to write the page (default: COURSE_DIR/reports/class_report.html)")
    rep.set_defaults(func=report_command)
