"""Grading a class with real nbgrader, end to end, in a temporary course folder.

One module-scoped course: ``fapi-lab nbgrader`` writes it from the six solution notebooks; ``nbgrader
generate_assignment`` releases all six; four students hand in exercise set 4 (the right answers, the untouched
starter, typical wrong answers with one that raises, and answers that never end); ``nbgrader autograde``,
``generate_feedback`` and ``export`` run on them; ``fapi-lab report`` writes the class report. The tests read
what a teacher would: the gradebook's scores, the feedback pages, the CSV, the report.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ROOT / "notebooks" / "exercises"
SET = "ex4"
NOTEBOOK = "ex4_residuals_and_inception.ipynb"
TASKS = ["ex4.1", "ex4.2", "ex4.3", "ex4.4", "ex4.5", "ex4.6"]
TIMEOUT = 24  # seconds nbgrader lets a cell run; the check cells stop the student's code after half of it


# -- what the students hand in ----------------------------------------------------------------------------------
SOLUTION = "the solution"  # the teacher's own answer, from the source notebook


def solution_of(source: str) -> str:
    """The solution in a source notebook's answer cell: the region's code, without the starter lines."""
    lines, inside = [], False
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            inside = "BEGIN" in line
        elif not (inside and line.lstrip().startswith("# student:")):
            lines.append(line)
    return "\n".join(lines)


GROWS_ONLY = '''def residual_block(x, filters, strides=1):
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", activation="relu", name="conv_a")(x)
    y = layers.Conv2D(filters, 3, padding="same", name="conv_b")(y)
    shortcut = x
    if filters > x.shape[-1] or strides != 1:  # projects only when the channels grow or the map shrinks
        shortcut = layers.Conv2D(filters, 1, strides=strides, padding="same", name="projection")(x)
    return layers.add([y, shortcut], name="sum")
'''
MAX_POOL = '''def inception_block(x):
    branch_a = layers.Conv2D(16, 1, strides=2, padding="same", activation="relu", name="branch_a_1x1")(x)
    branch_b = layers.Conv2D(32, 1, padding="same", activation="relu", name="branch_b_1x1")(x)
    branch_b = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="branch_b_3x3")(branch_b)
    branch_c = layers.MaxPooling2D(3, strides=2, padding="same", name="branch_c_pool")(x)
    branch_c = layers.Conv2D(16, 3, padding="same", activation="relu", name="branch_c_3x3")(branch_c)
    branch_d = layers.Conv2D(32, 1, padding="same", activation="relu", name="branch_d_1x1")(x)
    branch_d = layers.Conv2D(32, 3, padding="same", activation="relu", name="branch_d_3x3_1")(branch_d)
    branch_d = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="branch_d_3x3_2")(branch_d)
    return layers.concatenate([branch_a, branch_b, branch_c, branch_d], name="inception_output")
'''
B_FIRST = '''a = keras.Input(shape=(8, 8, 32), name="a")
b = keras.Input(shape=(8, 8, 16), name="b")
stacked = layers.concatenate([b, a], name="stacked")
b_wide = layers.Conv2D(32, 1, name="b_wide")(b)
summed = layers.add([a, b_wide], name="summed")
merge_model = keras.Model([a, b], [stacked, summed], name="merge_model")
'''
NO_SQUEEZE_RELU = '''feature_map = keras.Input(shape=(8, 8, 128), name="feature_map")
x = layers.Conv2D(32, 1, name="squeeze")(feature_map)
x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_3x3")(x)
x = layers.Conv2D(128, 1, name="expand")(x)
bottleneck_model = keras.Model(feature_map, layers.add([x, feature_map], name="skip"), name="bottleneck_model")
'''
RAISES = '''photo = keras.Input(shape=(32, 32, 3), name="photo")
x = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(photo)
y = layers.Conv2D(32, 3, padding="same", name="wider")(x)
x = layers.add([x, y], name="residual")  # 16 and 32 channels: this add raises
design_model = keras.Model(photo, layers.Dense(10, name="scores")(layers.GlobalAveragePooling2D()(x)))
'''
DOT = '''query = keras.Input(shape=(16,), name="query")
document = keras.Input(shape=(16,), name="document")
projection = layers.Dense(8, activation="tanh", name="projection")
similarity = layers.Dot(axes=-1, name="similarity")([projection(query), projection(document)])
similarity_model = keras.Model([query, document], similarity, name="similarity_model")
'''
LOOPING_BLOCK = '''def residual_block(x, filters, strides=1):
    while True:  # never returns: the check stops it
        pass
'''
LOOPING_CELL = '''merge_model = ...
while True:  # the cell never ends: the autograder interrupts it
    pass
'''


# what each student hands in, by task (None: the released starter, untouched)
SUBMISSIONS: dict[str, dict[str, str | None]] = {
    "kid-right": dict.fromkeys(TASKS, SOLUTION),
    "kid-starter": dict.fromkeys(TASKS),
    "kid-wrong": {"ex4.1": GROWS_ONLY, "ex4.2": MAX_POOL, "ex4.3": B_FIRST,
                  "ex4.4": NO_SQUEEZE_RELU, "ex4.5": RAISES, "ex4.6": DOT},
    "kid-loops": {"ex4.1": LOOPING_BLOCK, "ex4.2": SOLUTION, "ex4.3": LOOPING_CELL,
                  "ex4.4": NO_SQUEEZE_RELU, "ex4.5": SOLUTION, "ex4.6": DOT},
}
# the scores a teacher expects: 3 points a task, a third off per problem, 0 for no answer, an error or a loop
EXPECTED = {
    "kid-right": [3, 3, 3, 3, 3, 3],
    "kid-starter": [0, 0, 0, 0, 0, 0],
    "kid-wrong": [2, 2, 2, 2, 0, 2],
    "kid-loops": [0, 3, 0, 2, 3, 2],
}


def _env() -> dict[str, str]:
    # nbgrader runs the `alembic` and `python` of this environment by name
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAPI_LAB_DATA": "standin", "PYTHONHASHSEED": "0"}


def _nbgrader(course: Path, *commands: list[str]) -> None:
    """Run nbgrader commands side by side (each is mostly nbgrader starting up), and wait for all of them."""
    running = [(args, subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=course, env=_env(),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
               for args in commands]
    for args, process in running:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{out[-3000:]}\n{err[-6000:]}"


def _fapi_lab(*args: str) -> tuple[int, str]:
    from fapi_lab._grading_cli import add_commands

    parser = argparse.ArgumentParser(prog="fapi-lab")
    add_commands(parser.add_subparsers())
    parsed = parser.parse_args(args)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = parsed.func(parsed)
    return code, out.getvalue()


def _cells(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict[str, Any]) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _grade_id(cell: dict[str, Any]) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def _hand_in(course: Path) -> None:
    release = json.loads((course / "release" / SET / NOTEBOOK).read_text(encoding="utf-8"))
    solutions = {_grade_id(c): solution_of(_text(c)) for c in _cells(course / "source" / SET / NOTEBOOK)
                 if _grade_id(c).endswith("-answer")}
    for student, tasks in SUBMISSIONS.items():
        nb = json.loads(json.dumps(release))
        for cell in nb["cells"]:
            gid = _grade_id(cell)
            task = gid.removesuffix("-answer").replace("_", ".")
            if gid.endswith("-answer") and tasks.get(task) is not None:
                cell["source"] = solutions[gid] if tasks[task] is SOLUTION else tasks[task]
        target = course / "submitted" / student / SET / NOTEBOOK
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("grading") / "keras-class"
    code, out = _fapi_lab("nbgrader", str(folder), "--timeout", str(TIMEOUT))
    assert code == 0, out
    _nbgrader(folder, ["generate_assignment", "ex*"])  # all six sets: every generated notebook must be valid
    _hand_in(folder)
    # the looping student's notebook spins for TIMEOUT + TIMEOUT // 2 seconds: grade it beside the others
    _nbgrader(folder, ["autograde", SET, "--student", "kid-loops"], ["autograde", SET, "--student", "kid-[rsw]*"])
    _nbgrader(folder, ["generate_feedback", SET], ["export", "--to", "grades.csv"])  # both only read the gradebook
    return folder


def _scores(course: Path) -> dict[str, list[float]]:
    from nbgrader.api import Gradebook

    found: dict[str, list[float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="keras-class") as gb:
        for sub in gb.assignment_submissions(SET):
            grades = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
            found[sub.student.id] = [grades[f"{t.replace('.', '_')}-check"] for t in TASKS]
    return found


def _verdicts(course: Path, student: str) -> dict[str, dict[str, Any]]:
    found = {}
    for cell in _cells(course / "autograded" / student / SET / NOTEBOOK):
        for out in cell.get("outputs", []):
            verdict = out.get("metadata", {}).get("fapi_lab", {}).get("verdict")
            if verdict:
                found[verdict["exercise"]] = verdict
    return found


def _plain(page: str) -> str:
    """A page's text as a reader sees it: no tags, entities decoded, white space collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# -- the course and its release ---------------------------------------------------------------------------------
def test_every_set_is_released_with_the_students_starter_code_and_no_hidden_tests(course: Path) -> None:
    released = sorted((course / "release").glob("ex*/*.ipynb"))
    assert [p.parent.name for p in released] == [f"ex{i}" for i in range(1, 7)]
    answer_cells = 0
    for path in released:
        student = {c["id"]: _text(c) for c in _cells(STUDENTS / path.name)}
        for cell in _cells(path):
            meta = cell["metadata"]["nbgrader"]
            source = _text(cell)
            assert "HIDDEN TESTS" not in source and ".autograde(" not in source, (path.name, source)
            assert "SOLUTION" not in source, (path.name, source)
            if meta["solution"]:
                answer_cells += 1
                assert source == student[cell["id"]], f"{path.name} {meta['grade_id']}: not the starter code"
            if meta["grade"]:
                assert meta["points"] == 3 and "grade(" in source and meta["locked"], (path.name, meta)
    assert answer_cells == 34  # every task of every set


def test_the_gradebook_has_the_expected_scores(course: Path) -> None:
    assert _scores(course) == EXPECTED


def test_each_score_comes_with_its_reason_and_problem_codes(course: Path) -> None:
    starter = _verdicts(course, "kid-starter")
    assert [p["code"] for p in starter["ex4.1"]["problems"]] == ["ex4.1/not-answered:starter"]
    assert [p["code"] for p in starter["ex4.2"]["problems"]] == ["ex4.2/not-answered:starter"]  # it runs, but is
    assert all(v["score"] == 0 for v in starter.values())                                      # not an answer
    wrong = _verdicts(course, "kid-wrong")
    assert [p["code"] for p in wrong["ex4.1"]["problems"]] == ["ex4.1/hidden:raised:add-shapes"]  # a hidden probe
    assert wrong["ex4.1"]["probed"] and "(None, 16, 16, 64)" in wrong["ex4.1"]["problems"][0]["message"]
    assert "<svg" in wrong["ex4.1"]["picture"]  # the block the probe built, drawn for the report
    assert [p["code"] for p in wrong["ex4.5"]["problems"]] == ["ex4.5/raised"]
    assert "design_model was never made" in wrong["ex4.5"]["problems"][0]["message"]
    assert "ValueError" in wrong["ex4.5"]["problems"][0]["message"]
    loops = _verdicts(course, "kid-loops")
    assert [p["code"] for p in loops["ex4.1"]["problems"]] == ["ex4.1/timeout"]  # stopped by the check itself
    assert [p["code"] for p in loops["ex4.3"]["problems"]] == ["ex4.3/timeout"]  # interrupted by nbgrader
    assert "ran too long" in loops["ex4.3"]["problems"][0]["message"]


def test_feedback_pages_say_what_lab_check_says(course: Path) -> None:
    import keras
    from keras import layers

    import fapi_lab as lab

    page = _plain((course / "feedback" / "kid-wrong" / SET / NOTEBOOK.replace(".ipynb", ".html"))
                  .read_text(encoding="utf-8"))
    for task, source, name in [("ex4.2", MAX_POOL, "inception_block"), ("ex4.3", B_FIRST,
                               "merge_model"), ("ex4.4", NO_SQUEEZE_RELU, "bottleneck_model"),
                               ("ex4.6", DOT, "similarity_model")]:
        space: dict[str, Any] = {"keras": keras, "layers": layers}
        exec(source, space)
        result = lab.check(task, space[name])
        assert not result and result.messages
        for message in result.messages:
            assert " ".join(message.split()) in page, (task, message)
    assert "Score: 2 of 3 points" in page and "Score: 0 of 3 points: running the answer raised an error" in page
    assert "The autograder's own checks found" in page  # ex4.1: lab.check passes, a hidden probe does not
    loops = _plain((course / "feedback" / "kid-loops" / SET / NOTEBOOK.replace(".ipynb", ".html"))
                   .read_text(encoding="utf-8"))
    assert "Your answer cell ran too long and the grader stopped it" in loops
    assert f"Checking your answer ran your code for more than {TIMEOUT // 2} s" in loops


def test_the_exported_csv_has_every_students_total(course: Path) -> None:
    with (course / "grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == SET}
    assert {s: float(r["score"]) for s, r in rows.items()} == {s: sum(v) for s, v in EXPECTED.items()}
    assert {float(r["max_score"]) for r in rows.values()} == {18.0}


# -- the class report ---------------------------------------------------------------------------------------------
def test_the_class_report_counts_passes_and_problems_and_draws_them(course: Path) -> None:
    from fapi_lab._cli import main  # the command line itself: fapi-lab report COURSE_DIR

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["report", str(course)]) == 0
    path = Path(out.getvalue().strip().splitlines()[-1])
    assert path == (course / "reports" / "class_report.html").resolve()
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)  # offline: nothing to fetch
    assert "<script" not in page and "kid-" not in page  # and no student named
    rows = dict(re.findall(r"<code>(ex4\.\d)</code>.*?</span></span>(\d+ of \d+)</td>", page))
    assert rows == {"ex4.1": "1 of 4", "ex4.2": "2 of 4", "ex4.3": "1 of 4", "ex4.4": "1 of 4", "ex4.5": "2 of 4",
                    "ex4.6": "1 of 4"}
    sections = re.findall(r"<section class='problem[^']*'>(.*?)</section>", page, flags=re.S)
    counts = {re.search(r"<code>(.*?)</code>", s).group(1): int(re.search(r"(\d+) of 4 students", s).group(1))
              for s in sections}
    assert counts["ex4.6/dot-not-cosine"] == 2 and counts["ex4.4/squeeze-relu"] == 2
    assert counts["ex4.3/timeout"] == 1 and counts["ex4.1/hidden:raised:add-shapes"] == 1
    assert list(counts.values()) == sorted(counts.values(), reverse=True)  # most common first
    dot = next(s for s in sections if "ex4.6/dot-not-cosine" in s)
    assert "<svg" in dot and "similarity" in dot  # a drawn example: the student's own layer names
    assert "plain dot product" in _plain(dot)  # the message in the students' terms
    hidden = next(s for s in sections if "ex4.1/hidden:raised:add-shapes" in s)
    assert "<svg" in hidden and "conv_a" in hidden  # the block the hidden probe built, in the student's names


def test_the_report_is_replaced_when_unedited_and_kept_when_edited(course: Path) -> None:
    target = course / "reports" / "again.html"
    assert _fapi_lab("report", str(course), "--out", str(target))[0] == 0
    first = target.read_text(encoding="utf-8")
    assert _fapi_lab("report", str(course), "--out", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == first and not (course / "reports" / "again.new.html").exists()
    target.write_text(first.replace("Class report", "My notes on the class report"), encoding="utf-8")
    code, out = _fapi_lab("report", str(course), "--out", str(target))
    assert code == 0 and "kept" in out
    assert "My notes" in target.read_text(encoding="utf-8")
    assert (course / "reports" / "again.new.html").read_text(encoding="utf-8") == first
