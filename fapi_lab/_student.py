"""Student versions of exercise notebooks: solution code stripped, tasks and checks kept.

In a solution notebook, the answer sits between two marker lines in a code cell::

    # BEGIN SOLUTION
    department = layers.Dense(4, activation="softmax", name="department")(features)
    # student: department = ...
    # END SOLUTION

The student version keeps everything outside the markers; inside, only the ``# student:`` lines survive (without
that prefix), so a task can hand out starter code or a ``...`` placeholder. A block without ``# student:`` lines
becomes ``# your code here``. Cells tagged ``teacher`` (notes for the teacher) are dropped, every output is
cleared, and the notebook records which solution it came from.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from ._files import write_new

__all__ = ["StudentVersionError", "student_notebook", "write_student_versions"]

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
STUDENT = re.compile(r"^(\s*)# student:(?: (.*))?$")
TEACHER_TAG = "teacher"


class StudentVersionError(ValueError):
    """A solution notebook whose markers do not pair up; the message names the notebook and cell."""


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def strip_solution(source: str, where: str = "") -> tuple[str, bool]:
    """(student source, whether the cell had a solution block)."""
    out: list[str] = []
    inside = False
    had = False
    student_lines: list[str] = []
    indent = ""
    for number, line in enumerate(source.splitlines(), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside:
                raise StudentVersionError(f"{where}line {number}: BEGIN SOLUTION inside another solution block")
            inside, had, indent, student_lines = True, True, begin.group(1), []
        elif end:
            if not inside:
                raise StudentVersionError(f"{where}line {number}: END SOLUTION without BEGIN SOLUTION")
            out.extend(student_lines or [f"{indent}# your code here"])
            inside = False
        elif inside:
            student = STUDENT.match(line)
            if student:
                student_lines.append(student.group(1) + (student.group(2) or ""))
        else:
            out.append(line)
    if inside:
        raise StudentVersionError(f"{where}BEGIN SOLUTION without END SOLUTION")
    return "\n".join(out), had


def student_notebook(solution: dict[str, Any], origin: str = "") -> dict[str, Any]:
    """The student version of a solution notebook (as nbformat JSON)."""
    cells = []
    solutions = 0
    for index, cell in enumerate(solution.get("cells", [])):
        tags = cell.get("metadata", {}).get("tags", [])
        if TEACHER_TAG in tags:
            continue
        new = {k: v for k, v in cell.items() if k not in ("outputs", "execution_count", "id")}
        new["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("execution",)}
        if cell.get("cell_type") == "code":
            text, had = strip_solution(_source(cell), where=f"{origin} cell {index}: ")
            solutions += had
            new["source"] = text
            new["outputs"] = []
            new["execution_count"] = None
        else:
            new["source"] = _source(cell)
        if "id" in cell:
            new["id"] = cell["id"]
        cells.append(new)
    if not solutions:
        raise StudentVersionError(f"{origin}: no '# BEGIN SOLUTION' block in any code cell, so the student "
                                  f"version would equal the solution")
    meta = dict(solution.get("metadata", {}))
    meta["fapi_lab"] = {"student_version_of": origin,
                        "made_by": "fapi-lab student (do not edit: change the solution and run it again)"}
    return {**{k: v for k, v in solution.items() if k not in ("cells", "metadata")}, "metadata": meta,
            "cells": cells}


def _dump(nb: dict[str, Any]) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write_student_versions(sources: list[Path], out: Path, *, force: bool = False,
                           ask: bool | None = None, root: Path | None = None) -> list[str]:
    """Write the student version of each solution notebook into ``out``; one report line per notebook.

    A missing or identical file is simply (re)written; a file that differs is replaced only with ``force``
    or when the user answers yes at the prompt (``ask``: default, when standard input is a terminal);
    otherwise the new version goes beside it as ``NAME.new.ipynb`` (never replacing a different one: see
    ``_files.write_new``)."""
    if ask is None:
        ask = sys.stdin.isatty() and not force
    out.mkdir(parents=True, exist_ok=True)
    report = []
    for src in sources:
        try:
            solution = json.loads(src.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StudentVersionError(f"{src}: not a readable notebook ({exc})") from None
        try:
            origin = str(src.resolve().relative_to((root or Path.cwd()).resolve()))
        except ValueError:
            origin = src.name
        text = _dump(student_notebook(solution, origin))
        target = out / src.name
        if not target.exists():
            target.write_text(text, encoding="utf-8")
            report.append(f"wrote    {target}")
        elif target.read_text(encoding="utf-8") == text:
            report.append(f"same     {target}")
        elif force or (ask and input(f"{target} differs from the new student version. Replace it? [y/N] ")
                       .strip().lower() in ("y", "yes")):
            target.write_text(text, encoding="utf-8")
            report.append(f"replaced {target}")
        else:
            beside = write_new(target, text.encode("utf-8")).path
            report.append(f"KEPT     {target} (it differs; the new version is {beside.name}; --force replaces)")
    return report
