"""The grading pieces on their own, without a course: the score rule, the time limit, the quiet check, what
nbgrader reads from a check cell's output, the course notebooks, and files a teacher edited.

The end-to-end run with real nbgrader is tests/test_grading.py.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fapi_lab import _grading_watch as watching
from fapi_lab._exercises import registry
from fapi_lab._grading import Grade, Verdict, grade, score_for
from fapi_lab._grading_watch import Ran, binds, fingerprint, untouched
from fapi_lab._nbgrader import CourseError, check_cell, course_notebook, release_source, write_course
from fapi_lab._report import write_report

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions" / "exercises").glob("ex*.ipynb"))


# -- the score ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("points", "codes", "answered", "score"), [
    (3, [], True, 3.0),
    (3, ["ex4.3/stacked-order"], True, 2.0),
    (3, ["ex4.3/stacked-order", "ex4.3/summed-layer"], True, 1.0),
    (3, ["a", "b", "c", "d"], True, 1.0),  # never below a third for an answer the check could read
    (6, ["ex4.3/stacked-order"], True, 4.0),
    (3, ["ex4.1/raised:add-shapes"], True, 0.0),
    (3, ["ex4.1/wrong-kind:layer"], True, 0.0),
    (3, ["ex4.1/timeout"], True, 0.0),
    (3, ["ex4.1/not-defined"], True, 0.0),
    (3, ["ex4.1/forward-shape"], False, 0.0),  # the check said: not answered yet
])
def test_the_score_rule(points: float, codes: list[str], answered: bool, score: float) -> None:
    assert score_for(points, codes, answered) == score


def _looping_block(x: Any, filters: int, strides: int = 1) -> Any:
    end = time.monotonic() + 60  # bounded, so that a broken time limit fails this test instead of hanging it
    while time.monotonic() < end:
        pass
    return x


def test_a_loop_in_the_students_code_is_stopped_and_scores_zero() -> None:
    started = time.monotonic()
    graded = grade("ex4.1", lambda: _looping_block, points=3, seconds=1)
    assert time.monotonic() - started < 30
    assert graded.score == 0 and [c for c, _ in graded.verdict.problems] == ["ex4.1/timeout"]
    assert "more than 1 s" in graded.verdict.problems[0][1]


def _noisy_answer() -> str:
    print("to stderr", file=sys.stderr)
    warnings.warn("a warning", UserWarning, stacklevel=1)
    logging.getLogger("some.library").error("an error logged")
    os.write(2, b"straight to file descriptor 2, as TensorFlow's C++ logs are\n")
    return "not a model"


def test_nothing_reaches_stderr_while_grading(capfd: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("some.library").addHandler(logging.StreamHandler(sys.stderr))
    graded = grade("ex4.3", _noisy_answer)
    _, err = capfd.readouterr()
    assert err == ""  # nbgrader gives a cell with any stderr output 0 points
    assert [c for c, _ in graded.verdict.problems] == ["ex4.3/wrong-kind"]


def test_a_name_never_made_is_reported_not_raised() -> None:
    graded = grade("ex4.6", lambda: similarity_model_that_does_not_exist, points=3)  # noqa: F821
    assert graded.score == 0
    code, message = graded.verdict.problems[0]
    assert code == "ex4.6/not-defined" and message.startswith("similarity_model_that_does_not_exist is not defined")


def test_nbgrader_reads_the_score_from_a_check_cells_output() -> None:
    """nbgrader's own rule (nbgrader.utils.determine_grade) on the output a check cell shows."""
    import nbformat
    from nbgrader import utils
    verdict = Verdict("ex4.3", "Choose the merge", 3.0, 2.0, False, True, "2 of 3 points",
                      (("ex4.3/stacked-order", "Output 'stacked' puts b's channels first."),))
    data, metadata = Grade(verdict)._repr_mimebundle_()
    assert data["text/plain"] == "2" and "stacked" in data["text/html"]
    assert Verdict.from_json(json.loads(json.dumps(metadata["fapi_lab"]["verdict"]))) == verdict
    cell = nbformat.v4.new_code_cell("check", metadata={"nbgrader": {"grade": True, "solution": False,
                                                                     "grade_id": "ex4_3-check", "points": 3}})
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data, metadata=metadata, execution_count=1)]
    assert utils.determine_grade(cell) == (2.0, 3.0)


# -- what ran before a check cell -----------------------------------------------------------------------------------
STARTER = "def inception_block(x):\n    return layers.concatenate([x, x])\n"


def test_an_untouched_starter_is_recognised_and_a_changed_one_is_not() -> None:
    starter = fingerprint(STARTER)
    assert fingerprint(STARTER.replace("\n", "   \r\n") + "\n\n") == starter  # blind to spaces and line ends
    names = {"inception_block"}
    given = Ran(3, "x = keras.Input((8, 8, 3))", None)
    assert untouched([given, Ran(4, STARTER, None)], starter, names)
    assert not untouched([given, Ran(4, STARTER.replace("x, x", "x, x, x"), None)], starter, names)
    # the starter left as it is, but the answer written in a cell of the student's own: that is an answer
    assert not untouched([Ran(4, STARTER, None), Ran(5, "def inception_block(x):\n    return x\n", None)],
                         starter, names)
    assert not untouched([given], starter, names)  # no cell makes the answer: nothing to say
    assert binds("from mine import inception_block", names) and binds("inception_block = f", names)
    assert not binds("print(inception_block)", names) and binds("inception_block(", names)  # unparsable: mentions


def test_outside_ipython_there_is_no_window() -> None:
    assert watching.window() is None


def test_the_autograder_zeroes_a_stopped_answer_cell_and_an_untouched_starter() -> None:
    """What the hidden part of a check cell adds, on the cells that ran since the previous check."""
    starter = "def inception_block(x):\n    return x\n"  # runs, and is wrong: the check finds problems
    space: dict[str, Any] = {}
    exec(starter, space)
    checked = grade("ex4.2", lambda: space["inception_block"])
    assert 0 < checked.score < 3 and checked.verdict.answered
    ran = Grade(checked.verdict, checked.check, checked.answer, frozenset({"inception_block"}), 10,
                (Ran(7, starter, None),))
    left = ran.autograde(starter=fingerprint(starter))
    assert left.score == 0 and [c for c, _ in left.verdict.problems] == ["ex4.2/not-answered:starter"]
    assert ran.autograde(starter=fingerprint(starter + "# mine\n")).score == checked.score  # changed: graded
    stopped = Grade(checked.verdict, checked.check, checked.answer, frozenset({"inception_block"}), 10,
                    (Ran(7, starter + "while True:\n    pass\n", KeyboardInterrupt()),))
    assert [c for c, _ in stopped.autograde(starter="x").verdict.problems] == ["ex4.2/timeout"]


# -- the course ---------------------------------------------------------------------------------------------------
def test_release_source_keeps_the_starter_lines_with_their_indentation() -> None:
    source = ("def f(folder):\n    ### BEGIN SOLUTION\n    return 1\n    # student: path = folder\n"
              "    # student:\n    # student: return path\n    ### END SOLUTION\n")
    # as `fapi-lab student` does: an empty starter line keeps its indentation
    assert release_source(source) == "def f(folder):\n    path = folder\n    \n    return path\n"
    assert release_source("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "# stub") == "# stub"


def test_a_check_cell_that_does_more_than_one_check_is_refused_clearly() -> None:
    call = check_cell('lab.check("ex2.1", (autoencoder, encoder))')
    assert call is not None and call.exercise_id == "ex2.1" and call.expression == "(autoencoder, encoder)"
    assert check_cell("print(1)") is None
    with pytest.raises(CourseError, match=r"nb cell 4: a check cell holds exactly one call"):
        check_cell('lab.check("ex2.1", model)\nprint("done")', "nb cell 4")


def test_every_set_becomes_a_course_notebook_with_one_graded_check_per_task() -> None:
    checks = []
    for path in SOLUTIONS:
        nb = course_notebook(json.loads(path.read_text(encoding="utf-8")), path.name, points=2, timeout=40)
        cells = nb["cells"]
        answers = {c["metadata"]["nbgrader"]["grade_id"]: c for c in cells if c["metadata"]["nbgrader"]["solution"]}
        for cell in cells:
            meta = cell["metadata"]["nbgrader"]
            if not meta["grade"]:
                assert meta["solution"] or meta["locked"], (path.name, meta)  # task text and given code: read-only
                continue
            exercise = meta["grade_id"].removesuffix("-check").replace("_", ".")
            checks.append(exercise)
            answer = answers[meta["grade_id"].replace("-check", "-answer")]
            starter = fingerprint(release_source(answer["source"]))
            assert meta["points"] == 2 and meta["locked"]
            assert f"grade({exercise!r}, lambda: " in cell["source"] and "seconds=20)" in cell["source"]
            assert f"### BEGIN HIDDEN TESTS\ncheck_{exercise.replace('.', '_')} = " in cell["source"]
            assert f"autograde(starter={starter!r})" in cell["source"]
            assert "### BEGIN SOLUTION" in answer["source"] and "# student:" in answer["source"]
    assert checks == list(registry())


def test_teacher_notes_are_left_out_of_the_course() -> None:
    solution = json.loads(SOLUTIONS[3].read_text(encoding="utf-8"))
    solution["cells"].insert(2, {"cell_type": "markdown", "id": "note", "metadata": {"tags": ["teacher"]},
                                 "source": "Teacher: most students forget the projection."})
    nb = course_notebook(solution, SOLUTIONS[3].name)
    assert all("forget the projection" not in c["source"] for c in nb["cells"])


def test_writing_the_course_again_never_replaces_what_the_teacher_edited(tmp_path: Path) -> None:
    course = tmp_path / "course"
    first = write_course(course, SOLUTIONS[3:4], timeout=60)
    assert first == ["wrote    nbgrader_config.py", "wrote    source/ex4/ex4_residuals_and_inception.ipynb"]
    assert write_course(course, SOLUTIONS[3:4], timeout=60) == [line.replace("wrote   ", "same    ")
                                                               for line in first]
    notebook = course / "source" / "ex4" / SOLUTIONS[3].name
    mine = notebook.read_text(encoding="utf-8").replace("worth 3 points", "worth 3 points (my note)")
    notebook.write_text(mine, encoding="utf-8")
    (course / "nbgrader_config.py").write_text("c = get_config()\n# mine\n", encoding="utf-8")
    again = write_course(course, SOLUTIONS[3:4], points=4, timeout=60)
    assert again[0] == "KEPT     nbgrader_config.py (yours differs; the new version is nbgrader_config.new.py)"
    assert again[1].startswith("KEPT     source/ex4/") and "new_versions/source/ex4/" in again[1]
    assert notebook.read_text(encoding="utf-8") == mine
    assert "# mine" in (course / "nbgrader_config.py").read_text(encoding="utf-8")
    assert "worth 4 points" in (course / "new_versions" / "source" / "ex4" / SOLUTIONS[3].name).read_text("utf-8")
    assert sorted(p.name for p in (course / "source" / "ex4").iterdir()) == [SOLUTIONS[3].name]  # nothing beside


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(["new_report", "edit_report", "edit_beside", "run"]), min_size=1,
                        max_size=10))
def test_a_teacher_never_loses_an_edit_to_a_report(tmp_path_factory: pytest.TempPathFactory,
                                                   actions: list[str]) -> None:
    """Random sessions: new reports, the teacher edits the report or the copy beside it, the command runs again."""
    target = tmp_path_factory.mktemp("reports") / "class_report.html"
    page = "<html>report v0</html>\n"
    write_report(target, page)
    edits: dict[Path, str] = {}
    for step, action in enumerate(actions):
        if action == "new_report":
            page = f"<html>report v{step + 1}</html>\n"
        elif action == "edit_report":
            edits[target] = f"my notes {step}"
        elif action == "edit_beside":
            beside = sorted(target.parent.glob("class_report.new*.html"))
            if beside:
                edits[beside[-1]] = f"my notes in {beside[-1].name} {step}"
        for path, text in edits.items():
            path.write_text(text, encoding="utf-8")
        written = write_report(target, page)
        for path, text in edits.items():
            assert path.read_text(encoding="utf-8") == text, f"{path.name}: the teacher's edit was replaced"
        assert written.read_text(encoding="utf-8").startswith(page), "the newest report is on disk"
        assert (written == target) == (target not in edits)


def _cli(*args: str) -> tuple[int, str]:
    from fapi_lab._grading_cli import add_commands

    parser = argparse.ArgumentParser(prog="fapi-lab")
    add_commands(parser.add_subparsers())
    parsed = parser.parse_args(args)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = parsed.func(parsed)
    return code, out.getvalue()


def test_the_commands_say_what_is_wrong_and_what_to_do(tmp_path: Path) -> None:
    code, out = _cli("nbgrader", str(tmp_path / "c"), "ex9")
    assert code == 1 and "no exercise set ex9; the sets are ex1, ex2, ex3, ex4, ex5, ex6" in out
    code, out = _cli("nbgrader", str(tmp_path / "c"), "--timeout", "3")
    assert code == 1 and "the timeout must be at least 10 seconds" in out
    code, out = _cli("report", str(tmp_path / "nothing"))
    assert code == 1 and "has no nbgrader_config.py: it is not an nbgrader course" in out
    assert _cli("nbgrader", str(tmp_path / "c"), "ex4")[0] == 0
    code, out = _cli("report", str(tmp_path / "c"))
    assert code == 1 and "has no gradebook yet" in out and not (tmp_path / "c" / "gradebook.db").exists()
