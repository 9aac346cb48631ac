"""Nothing fapi_lab writes replaces a file a person could have edited (issue 15, class 7).

The rule lives in ``fapi_lab._files.write_new``; ``fapi-lab lessons`` and ``fapi-lab student`` both use it. The
property test plays random sessions: new lesson versions arrive, the person edits the lesson, the ``.new`` copies
the command told them to use, or nothing, and the command runs again. Whatever happens, every version the person
wrote is still on disk, and the newest lesson version is on disk too.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fapi_lab._cli import copy_lessons
from fapi_lab._files import beside_name, write_new
from fapi_lab._student import write_student_versions

ACTIONS = st.lists(st.sampled_from(["new_version", "edit_lesson", "edit_beside", "run"]), min_size=1, max_size=12)


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_a_person_never_loses_an_edit(tmp_path_factory, actions: list[str]) -> None:
    root = tmp_path_factory.mktemp("session")
    source, folder = root / "source", root / "class"
    source.mkdir()
    lesson = source / "01_lesson.ipynb"
    lesson.write_text("lesson v0")
    copy_lessons(folder, source)
    persons: dict[Path, bytes] = {}  # the last thing the person wrote into each file
    for step, action in enumerate(actions):
        if action == "new_version":
            lesson.write_text(f"lesson v{step + 1}")
        elif action == "edit_lesson":
            persons[folder / lesson.name] = f"my notes {step}".encode()
        elif action == "edit_beside":
            beside = sorted(folder.glob("01_lesson.new*.ipynb"))
            if beside:  # they work in the file the command told them to use
                persons[beside[-1]] = f"my work in {beside[-1].name} {step}".encode()
        for path, text in persons.items():
            path.write_bytes(text)
        copy_lessons(folder, source)  # and run the command again
        for path, text in persons.items():
            assert path.read_bytes() == text, f"{path.name}: the person's edit was replaced"
        assert lesson.read_bytes() in files(folder).values(), "the newest lesson version is in the folder"


def test_write_new_keeps_a_changed_beside_copy(tmp_path: Path) -> None:
    target = tmp_path / "ex1.ipynb"
    assert write_new(target, b"v1").action == "wrote"
    target.write_bytes(b"student's answer")
    first = write_new(target, b"v2")
    assert first.action == "kept" and first.path == beside_name(target, 1) and first.path.read_bytes() == b"v2"
    first.path.write_bytes(b"student's work in the .new file")       # they did as they were told
    second = write_new(target, b"v3")
    assert second.path == beside_name(target, 2) == tmp_path / "ex1.new-2.ipynb"
    assert target.read_bytes() == b"student's answer"
    assert first.path.read_bytes() == b"student's work in the .new file"
    assert write_new(target, b"v3").path == second.path, "the same version is not written twice"


def test_lessons_command_third_run_keeps_the_new_file(tmp_path: Path) -> None:
    source, folder = tmp_path / "source", tmp_path / "class"
    source.mkdir()
    (source / "01_a.ipynb").write_text("v1")
    copy_lessons(folder, source)
    (folder / "01_a.ipynb").write_text("edited")
    (source / "01_a.ipynb").write_text("v2")
    report = copy_lessons(folder, source)
    assert "01_a.new.ipynb" in report[0]
    (folder / "01_a.new.ipynb").write_text("edited the new one too")
    (source / "01_a.ipynb").write_text("v3")
    report = copy_lessons(folder, source)
    assert "01_a.new-2.ipynb" in report[0]
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        "01_a.ipynb": "edited", "01_a.new.ipynb": "edited the new one too", "01_a.new-2.ipynb": "v3"}


def test_student_command_keeps_an_edited_new_file(tmp_path: Path) -> None:
    solution = tmp_path / "ex9_demo.ipynb"

    def save(answer: str) -> None:
        cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "id": "a",
                "source": f"# BEGIN SOLUTION\nx = {answer}\n# student: x = ...\n# END SOLUTION\n"}
        solution.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))

    out = tmp_path / "out"
    save("1")
    write_student_versions([solution], out, root=tmp_path, ask=False)
    target = out / solution.name
    target.write_text("my answers")
    save("2")
    (out / "ex9_demo.new.ipynb").write_text("my answers in the new file")  # already there, edited
    lines = write_student_versions([solution], out, root=tmp_path, ask=False)
    assert "ex9_demo.new-2.ipynb" in lines[0]
    assert target.read_text() == "my answers"
    assert (out / "ex9_demo.new.ipynb").read_text() == "my answers in the new file"
