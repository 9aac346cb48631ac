"""The exercise framework: lab.check / lab.hint, friendly answers to bad input, and the student notebooks.

Each exercise set has its own test file (tests/test_exercises_exN.py) with its right and typical wrong answers;
this file checks what every exercise shares."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import keras
import nbformat
import pytest
from keras import layers
from nbclient import NotebookClient

import fapi_lab as lab
from fapi_lab._exercises import Problem, Stop, registry
from fapi_lab._student import StudentVersionError, strip_solution, student_notebook, write_student_versions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions" / "exercises").glob("*.ipynb"))
STUDENTS = ROOT / "notebooks" / "exercises"
# with the translated solution notebooks (solutions/zh/exercises -> notebooks/zh/exercises, and es)
ALL_SOLUTIONS = SOLUTIONS + sorted((ROOT / "solutions").glob("*/exercises/*.ipynb"))


def _students_of(solution: Path) -> Path:
    return ROOT / "notebooks" / solution.parent.relative_to(ROOT / "solutions")
CHECK_CALL = re.compile(r"""lab\.check\(\s*["'](ex\d+\.\d+)["']""")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


# -- the registry ------------------------------------------------------------------------------------------
def test_every_exercise_is_well_formed_and_blocks_have_three_to_eight() -> None:
    exercises = registry()
    assert len(exercises) >= 18
    blocks: dict[str, int] = {}
    for ex_id, ex in exercises.items():
        assert re.fullmatch(r"ex\d+\.\d+", ex_id) and ex.id == ex_id
        assert len(ex.hints) >= 2, ex_id
        assert ex.title and ex.lesson.startswith("lesson"), ex_id
        blocks[ex_id.split(".")[0]] = blocks.get(ex_id.split(".")[0], 0) + 1
    assert sorted(blocks) == [f"ex{i}" for i in range(1, 7)], "one set per block of lessons"
    assert all(3 <= n <= 8 for n in blocks.values()), blocks


def test_every_exercise_has_a_solution_notebook_with_its_check_and_a_student_notebook() -> None:
    checked: dict[str, str] = {}
    for nb in SOLUTIONS:
        for cell in _cells(nb):
            for ex_id in CHECK_CALL.findall(_source(cell)):
                checked[ex_id] = nb.name
    assert set(checked) == set(registry())
    for nb in SOLUTIONS:
        assert (STUDENTS / nb.name).exists(), f"run: fapi-lab student (student version of {nb.name} missing)"


def test_lab_exercises_lists_them_all() -> None:
    table = lab.exercises()
    assert [e.id for e in table] == list(registry())
    assert "ex1.1" in str(table) and "<table>" in table._repr_html_()


# -- lab.check on bad input --------------------------------------------------------------------------------
def test_placeholder_is_not_answered_yet() -> None:
    result = lab.check("ex1.1", ...)
    assert not result and not result.answered
    assert "Replace the ..." in result.messages[0]
    assert str(result).startswith("✘ ex1.1 not answered yet")


def test_unknown_id_names_the_close_ones() -> None:
    with pytest.raises(ValueError, match=r"no exercise 'ex1\.9'.*Did you mean 'ex1\.\d'"):
        lab.check("ex1.9", None)


@pytest.mark.parametrize(("answer", "words"), [
    (5, "you passed an int (5)"),
    (None, "you passed None"),
    (layers.Dense(3), "a single layer"),
])
def test_not_a_model_gets_a_friendly_message(answer: object, words: str) -> None:
    result = lab.check("ex1.1", answer)
    assert not result and words in result.messages[0]


def test_symbolic_tensor_is_told_to_wrap_it_in_a_model() -> None:
    x = layers.Dense(10, name="predictions")(keras.Input((784,), name="img"))
    result = lab.check("ex1.1", x)
    assert "symbolic tensor, not a model" in result.messages[0] and "keras.Model(" in result.messages[0]


def test_unbuilt_sequential_and_subclassed_models_are_explained() -> None:
    unbuilt = keras.Sequential([layers.Dense(10)], name="no_input")
    assert "has no input shape yet" in lab.check("ex1.1", unbuilt).messages[0]
    sub = lab.patterns.subclassed_mlp()
    result = lab.check("ex1.1", sub)
    assert "subclassed model" in result.messages[0] and "lesson 10" in result.messages[0]


def test_an_error_raised_by_the_students_code_is_explained_not_thrown() -> None:
    def build() -> keras.Model:
        a = keras.Input((8,), name="a")
        b = keras.Input((6,), name="b")
        return keras.Model([a, b], layers.Add(name="sum")([a, b]))

    result = lab.check("ex1.1", build)
    assert not result
    assert result.messages[0].startswith("Calling your function raised ValueError")
    assert "got tensors of different shapes" in result.messages[0] and "(8,) and (6,)" in result.messages[0]


def test_a_function_that_returns_nothing_is_not_answered_yet() -> None:
    def build() -> None:
        pass

    result = lab.check("ex1.1", build)
    assert not result.answered and "returned nothing yet" in result.messages[0]


def svg_images(page: str) -> list[str]:
    """The SVG pictures inside the <img src="data:image/svg+xml;base64,..."> elements of an HTML output."""
    import base64
    import re

    return [base64.b64decode(m).decode("utf-8") for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]


def test_wrong_answer_shows_problems_hint_and_both_pictures_but_not_the_solution() -> None:
    image = keras.Input((28, 28), name="image")
    scores = layers.Dense(10, name="scores")(layers.Dense(64, activation="relu", name="hidden")(image))
    result = lab.check("ex1.2", keras.Model(image, scores, name="digits_model"))
    bundle = result._repr_mimebundle_()
    assert "lab.hint('ex1.2')" in bundle["text/plain"]
    page = bundle["text/html"]
    assert "your model (the layers the problems are about in red)" in page
    # both pictures are <img> elements (an untrusted notebook keeps them; it would drop an inline <svg>)
    pictures = svg_images(page)
    assert "the structure the task asks for" in page and len(pictures) == 2 and "<svg" not in page
    assert "#fecaca" in pictures[0]  # the output layer with the wrong shape is marked
    assert "Flatten(" not in page and "Flatten(" not in bundle["text/plain"]


def test_a_judge_stop_becomes_the_one_problem() -> None:
    assert Stop("x").problem == Problem("x")
    assert Stop(Problem("y", ("k",))).problem.keys == ("k",)


# -- hints --------------------------------------------------------------------------------------------------
def test_hints_come_one_at_a_time_and_stop_at_the_last() -> None:
    ex = registry()["ex1.2"]
    texts = [lab.hint("ex1.2").text for _ in range(len(ex.hints) + 1)]
    assert texts[: len(ex.hints)] == list(ex.hints) and texts[-1] == ex.hints[-1]
    assert "the last hint" in str(lab.hint("ex1.2"))
    assert lab.hint("ex1.2", 1).text == ex.hints[0]
    with pytest.raises(ValueError, match="has hints 1 to"):
        lab.hint("ex1.2", 99)


# -- student versions ---------------------------------------------------------------------------------------
def test_strip_solution_keeps_student_lines_and_the_code_around() -> None:
    source = ("setup = 1\n# BEGIN SOLUTION\nanswer = 42\n# student: answer = ...\n# END SOLUTION\n"
              "lab.check('ex', answer)")
    text, had = strip_solution(source)
    assert had and text == "setup = 1\nanswer = ...\nlab.check('ex', answer)"
    text, _ = strip_solution("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION")
    assert text == "def f():\n    # your code here"


@pytest.mark.parametrize("source", ["# BEGIN SOLUTION\nx = 1", "x = 1\n# END SOLUTION",
                                    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION"])
def test_unpaired_markers_are_an_error_naming_the_cell(source: str) -> None:
    with pytest.raises(StudentVersionError, match="cell 0"):
        student_notebook({"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": []}]},
                         "nb.ipynb")


def test_teacher_cells_and_outputs_are_dropped() -> None:
    solution = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "markdown", "source": "Teacher: the answer is 42", "metadata": {"tags": ["teacher"]}},
        {"cell_type": "code", "source": "# BEGIN SOLUTION\nx = 42\n# END SOLUTION", "metadata": {},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "42"}], "execution_count": 3}]}
    student = student_notebook(solution, "sol.ipynb")
    assert len(student["cells"]) == 1
    assert student["cells"][0]["outputs"] == [] and student["cells"][0]["execution_count"] is None
    assert "42" not in json.dumps(student["cells"])
    assert student["metadata"]["fapi_lab"]["student_version_of"] == "sol.ipynb"


@pytest.mark.parametrize("solution", ALL_SOLUTIONS, ids=lambda p: str(p.relative_to(ROOT / "solutions")))
def test_student_notebook_is_up_to_date_and_has_no_solution_line(solution: Path, tmp_path: Path) -> None:
    STUDENTS = _students_of(solution)
    write_student_versions([solution], tmp_path, root=ROOT)
    assert (tmp_path / solution.name).read_text(encoding="utf-8") == \
        (STUDENTS / solution.name).read_text(encoding="utf-8"), \
        "run: fapi-lab student --force (translated sets: bash scripts/translate students)"
    # the code cells of a student notebook are the solution's minus its solution blocks (tested above); what
    # could still give an answer away is the task text: no solution line may be quoted in a markdown cell
    task_text = "\n".join(_source(c) for c in _cells(STUDENTS / solution.name) if c["cell_type"] == "markdown")
    leaked = []
    for cell in _cells(solution):
        for block in re.findall(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", _source(cell), flags=re.S):
            leaked += [line.strip() for line in block.splitlines()
                       if len(line.strip()) > 20 and not line.strip().startswith("#") and line.strip() in task_text]
    assert not leaked, f"solution lines quoted in the task text: {leaked}"
    assert "BEGIN SOLUTION" not in (STUDENTS / solution.name).read_text(encoding="utf-8")


def test_cli_never_overwrites_a_students_edited_notebook(tmp_path: Path) -> None:
    solution = SOLUTIONS[0]
    out = tmp_path / "class"
    cli = [sys.executable, "-m", "fapi_lab._cli", "student", str(solution), "--out", str(out)]
    first = subprocess.run(cli, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    assert "wrote" in first.stdout
    target = out / solution.name
    target.write_text(target.read_text(encoding="utf-8").replace("...", "my answer"), encoding="utf-8")
    edited = target.read_text(encoding="utf-8")
    second = subprocess.run(cli, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    assert "KEPT" in second.stdout and target.read_text(encoding="utf-8") == edited
    assert (out / solution.name.replace(".ipynb", ".new.ipynb")).exists()
    forced = subprocess.run([*cli, "--force"], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    assert "replaced" in forced.stdout and target.read_text(encoding="utf-8") != edited
    bad = subprocess.run([*cli[:4], str(tmp_path / "nothing.txt")], capture_output=True, text=True)
    assert bad.returncode == 1 and "neither a solution notebook" in bad.stdout


@pytest.mark.parametrize("student", sorted(STUDENTS.glob("ex*.ipynb")), ids=lambda p: p.name)
def test_student_notebook_runs_and_no_check_passes_before_the_student_answers(student: Path) -> None:
    """Every check cell runs without an error and says "not answered yet" (a ... placeholder) or "not yet"
    (starter code the task asks to fix), never "passed"."""
    nb = nbformat.read(student, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    seen = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not CHECK_CALL.search(cell.source):
            continue
        ex_id = CHECK_CALL.search(cell.source).group(1)
        text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert text.startswith((f"✘ {ex_id} not answered yet", f"✘ {ex_id} not yet")), (ex_id, text[:300])
        seen.append(ex_id)
    assert seen
