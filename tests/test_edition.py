"""What students get never holds a solution: the student edition (`fapi-lab student-repo`) and the wheel.

The solution scan: every non-blank line between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` in every solution
notebook is secret, except ``# student:`` lines (handed out by design). A secret line is exempt when students get
it anyway: it occurs in the handed-out code of an exercise set (the code outside the markers, the ``# student:``
lines, commented-out starter code included), anywhere in a lesson or in ``lab.patterns`` (they teach it); that
also covers trivial lines such as ``)``. A leak is a secret line found in a file students get, as a whole line,
or (lines of 20 characters or more) anywhere inside a text, which catches a task text quoting it. Notebooks are
read as the strings of their JSON (sources and outputs), so escaping hides nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from fapi_lab._edition import MANIFEST, EditionError, write_edition
from fapi_lab._student import BEGIN, END, STUDENT
from tests.test_binder import PYPROJECT, apt_packages

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions" / "exercises").glob("*.ipynb"))
LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
EXERCISES = sorted((ROOT / "notebooks" / "exercises").glob("ex*.ipynb"))
TRANSLATED = sorted((ROOT / "notebooks").glob("*/[0-9]*.ipynb")) + \
    sorted((ROOT / "notebooks").glob("*/exercises/ex*.ipynb"))
GLOSSARY = ROOT / "notebooks" / "GLOSSARY.md"
URL = "https://github.com/myschool/fapi-lab-class"


# -- the scan ------------------------------------------------------------------------------------------------
def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _strings(item)


def readable_text(name: str, data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    return "\n".join(_strings(json.loads(text))) if name.endswith(".ipynb") else text


def _code_cells(path: Path) -> Iterator[str]:
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            yield "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def secret_lines() -> dict[str, str]:
    """Secret line -> the solution notebook it comes from (see the module docstring for the rule)."""
    secret: dict[str, str] = {}
    handed: list[str] = []
    for solution in SOLUTIONS:
        for source in _code_cells(solution):
            inside = False
            for line in source.splitlines():
                if BEGIN.match(line) or END.match(line):
                    inside = bool(BEGIN.match(line))
                elif (student := STUDENT.match(line)) or not inside:
                    handed.append((student.group(2) or "") if student else line)
                elif line.strip():
                    secret.setdefault(line.strip(), solution.name)
    taught = [readable_text(p.name, p.read_bytes()) for p in LESSONS]
    taught.extend(f.read_text(encoding="utf-8") for f in (ROOT / "fapi_lab").glob("*patterns*.py"))  # lab.patterns
    students_get = "\n".join(handed) + "\n" + "\n".join(taught)
    return {line: origin for line, origin in secret.items() if line not in students_get}


SECRET = secret_lines()


def leaks(files: dict[str, bytes]) -> list[str]:
    found = []
    for name, data in files.items():
        text = readable_text(name, data)
        lines = {line.strip() for line in text.splitlines()}
        found += [f"{name}: {line!r} (from {origin})" for line, origin in SECRET.items()
                  if line in lines or (len(line) >= 20 and line in text)]
    return found


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_scan_has_secret_lines_to_look_for() -> None:
    assert len(SECRET) >= 100, "the rule exempts almost everything: it could not catch a leak"
    assert set(SECRET.values()) == {p.name for p in SOLUTIONS}, "every set has secrets"


# -- the student edition, made by the command a teacher runs -------------------------------------------------
def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fapi_lab._cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("edition") / "fapi-lab-class"
    out = run_cli("student-repo", str(folder), "--url", URL)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no solutions" in out.stdout and "git init" in out.stdout
    return folder


def test_edition_holds_no_solution_line(edition: Path) -> None:
    files = folder_files(edition)
    assert not leaks(files)
    assert not [n for n in files if "solution" in n.lower()]
    for name, data in files.items():
        if name.endswith(".ipynb"):
            cells = json.loads(data)["cells"]
            assert not [c for c in cells if "teacher" in c.get("metadata", {}).get("tags", [])], name
            assert "BEGIN SOLUTION" not in readable_text(name, data), name


def test_edition_has_the_lessons_and_student_exercises_laid_out_as_fapi_lab_lessons(edition: Path) -> None:
    assert sorted(p.name for p in edition.glob("*.ipynb")) == [p.name for p in LESSONS]
    assert sorted(p.name for p in (edition / "exercises").glob("*.ipynb")) == [p.name for p in EXERCISES]
    for src in [*LESSONS, *EXERCISES, *TRANSLATED, GLOSSARY]:  # no teacher cells: the checkout's, byte for byte
        assert (edition / src.relative_to(ROOT / "notebooks")).read_bytes() == src.read_bytes()
    assert {".gitignore", "README.md", MANIFEST} <= {p.name for p in edition.iterdir()}


def test_every_link_in_the_edition_resolves_inside_it(edition: Path) -> None:
    """Lessons link their exercise sets and back (relative links): they must still work in the edition."""
    checked = 0
    for path in [*edition.rglob("*.ipynb"), edition / "README.md"]:
        text = readable_text(path.name, path.read_bytes())
        for target in re.findall(r"\]\(([^)\s#]+\.ipynb)\)", text):
            if "://" in target:
                continue
            assert (path.parent / target).resolve().is_file(), f"{path.name} links {target}, not in the edition"
            checked += 1
    assert checked >= 2 * len(EXERCISES)


def test_edition_binder_installs_fapi_lab_with_the_lessons_extra(edition: Path) -> None:
    binder = edition / ".binder"
    lines = [ln for ln in (binder / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 1
    req = Requirement(lines[0])
    assert req.name == "fapi_lab" and "lessons" in req.extras
    assert req.url == "git+" + PYPROJECT["urls"]["Repository"]
    assert "graphviz" in apt_packages(binder)
    for name in ("apt.txt", "runtime.txt", "start"):  # the same as the repository's binder/, checked there
        assert (binder / name).read_bytes() == (ROOT / "binder" / name).read_bytes()
    assert (binder / "start").stat().st_mode & stat.S_IXUSR
    assert not (edition / "binder").exists() and not (binder / "postBuild").exists(), \
        "postBuild installs the checkout (pip install -e .), which the edition does not have"
    readme = (edition / "README.md").read_text()
    assert "https://mybinder.org/v2/gh/myschool/fapi-lab-class/HEAD?urlpath=lab/tree/01_" in readme
    assert "solutions are not in this repository" in readme


def test_scan_and_refusals_catch_what_would_leak(tmp_path: Path) -> None:
    """A teacher cell quoting an answer is dropped; without the tag the scan finds it; a solution notebook is
    refused with the fix; the teachers' repository itself is refused as a target."""
    source = tmp_path / "course"
    shutil.copytree(ROOT / "binder", source / "binder")
    (source / "notebooks" / "exercises").mkdir(parents=True)
    shutil.copy(LESSONS[0], source / "notebooks")
    secret = next(line for line in SECRET if len(line) >= 20)
    lesson = source / "notebooks" / LESSONS[0].name
    nb = json.loads(lesson.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": "note", "metadata": {"tags": ["teacher"]},
                        "source": f"Answer: `{secret}`"})
    lesson.write_text(json.dumps(nb))
    write_edition(tmp_path / "a", source=source)
    assert not leaks(folder_files(tmp_path / "a"))
    nb["cells"][-1]["metadata"] = {}
    lesson.write_text(json.dumps(nb))
    write_edition(tmp_path / "b", source=source)
    assert leaks(folder_files(tmp_path / "b")) == [f"{LESSONS[0].name}: {secret!r} (from {SECRET[secret]})"]
    shutil.copy(SOLUTIONS[0], source / "notebooks" / "exercises")
    with pytest.raises(EditionError, match="fapi-lab student"):
        write_edition(tmp_path / "c", source=source)
    with pytest.raises(EditionError, match="solutions/"):
        write_edition(ROOT, source=ROOT)
    out = run_cli("student-repo", str(tmp_path / "d"), "--url", "https://gitlab.com/x/y")
    assert out.returncode == 1 and "https://github.com/OWNER/REPO" in out.stdout and "Traceback" not in out.stderr


def test_running_it_again_updates_untouched_files_and_keeps_edited_ones(tmp_path: Path) -> None:
    source = tmp_path / "course"
    shutil.copytree(ROOT / "binder", source / "binder")
    (source / "notebooks").mkdir(parents=True)
    for lesson in LESSONS[:3]:
        shutil.copy(lesson, source / "notebooks")
    folder = tmp_path / "edition"
    write_edition(folder, source=source)
    assert all(line.startswith("same") for line in write_edition(folder, source=source))
    first, second, third = (folder / p.name for p in LESSONS[:3])
    first.write_text(first.read_text() + "\n")  # the teacher edited one file of the edition
    for lesson in LESSONS[:2]:  # a new version of two lessons, and the third is gone
        new = source / "notebooks" / lesson.name
        new.write_text(new.read_text().replace("functional", "FUNCTIONAL"))
    (source / "notebooks" / LESSONS[2].name).unlink()
    edited = first.read_bytes()
    report = write_edition(folder, source=source)
    assert first.read_bytes() == edited, "an edited file is never replaced"
    assert first.with_suffix(".new.ipynb").read_bytes() == (source / "notebooks" / LESSONS[0].name).read_bytes()
    assert second.read_bytes() == (source / "notebooks" / LESSONS[1].name).read_bytes(), "untouched: updated"
    assert third.exists(), "nothing is deleted"
    assert f"KEPT     {first.name} (it was edited; the new version is {first.stem}.new.ipynb)" in report
    assert f"updated  {second.name}" in report
    assert any(line.startswith(f"STALE    {third.name}") for line in report)
    (folder / MANIFEST).write_text("not json")  # a broken record: nothing is replaced, and it says so
    report = write_edition(folder, source=source)
    assert report[0].startswith("NOTE") and first.read_bytes() == edited


# -- the wheel: `fapi-lab lessons` after a pip install, without a checkout --------------------------------------
@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the checkout (solutions/ included, to show they stay out)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("fapi_lab", "notebooks", "binder", "solutions"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "_course", "*.mo"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                          "--no-index", "-q", "-w", str(tmp / "dist")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    (built,) = (tmp / "dist").glob("fapi_lab-*.whl")
    return built


def test_wheel_carries_the_lessons_and_student_exercises_and_no_solution(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        course = {n.removeprefix("fapi_lab/_course/notebooks/"): archive.read(n) for n in names
                  if n.startswith("fapi_lab/_course/notebooks/")}
        assert not leaks({n: archive.read(n) for n in names if not n.endswith((".npz", ".png"))})  # all text
    assert course == {p.relative_to(ROOT / "notebooks").as_posix(): p.read_bytes()
                      for p in [*LESSONS, *EXERCISES, *TRANSLATED, GLOSSARY]}
    assert TRANSLATED, "the Chinese and Spanish lessons ship too"
    assert not [n for n in names if "solution" in n.lower()]
    # the message catalogues, compiled by the build (the copy it built from had no .mo files)
    assert {f"fapi_lab/locale/{lang}/LC_MESSAGES/fapi_lab.mo" for lang in ("zh", "es")} <= set(names)
    assert {f"fapi_lab/_course/binder/{n}" for n in ("apt.txt", "runtime.txt", "start")} <= set(names)


def test_lessons_and_student_repo_work_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    where = subprocess.run([sys.executable, "-c", "import fapi_lab; print(fapi_lab.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip() == str(unpacked / "fapi_lab" / "__init__.py"), "the wheel's fapi_lab, not ours"
    out = run_cli("lessons", "class", "--no-open", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    copied = folder_files(tmp_path / "class")
    assert copied == {p.relative_to(ROOT / "notebooks").as_posix(): p.read_bytes()
                      for p in [*LESSONS, *EXERCISES, GLOSSARY]}
    out = run_cli("lessons", "class", "--no-open", "--lang", "zh", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    zh = [p for p in TRANSLATED if p.relative_to(ROOT / "notebooks").parts[0] == "zh"]
    assert zh and {n: d for n, d in folder_files(tmp_path / "class").items() if n.startswith("zh/")} == {
        p.relative_to(ROOT / "notebooks").as_posix(): p.read_bytes() for p in zh}
    out = run_cli("student-repo", "edition", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    files = folder_files(tmp_path / "edition")
    assert not leaks(files) and files[".binder/start"] == (ROOT / "binder" / "start").read_bytes()
