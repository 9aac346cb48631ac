"""The lesson notebooks as files: every pattern covered, outputs stored, tags used as nbval expects.

nbval itself (run by the README's test command) re-executes each lesson and compares outputs; these checks
catch what nbval cannot: a missing pattern, a cell with no stored run, an error stored in an untagged cell.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is in the test extra there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
CATALOGUE = ROOT.parent / "shared" / "PATTERNS.md"
KNOWN_TAGS = {"raises-exception", "nbval-ignore-output", "nbval-skip", "nbval-check-output", "colab-only"}


def cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def wanted_patterns() -> set[str]:
    if CATALOGUE.exists():
        return set(re.findall(r"^\| (P\d\d) \|", CATALOGUE.read_text(), re.M))
    return {f"P{i:02d}" for i in range(1, 39)}


@pytest.mark.skipif(not NOTEBOOKS, reason="no lesson notebooks yet")
def test_every_pattern_is_taught_by_a_tagged_cell() -> None:
    seen = {t.removeprefix("pattern-") for nb in NOTEBOOKS for c in cells(nb) for t in tags(c)
            if t.startswith("pattern-")}
    missing = sorted(wanted_patterns() - seen)
    assert not missing, f"patterns without a lesson cell tagged pattern-Pnn: {', '.join(missing)}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_is_well_formed(nb: Path) -> None:
    cs = cells(nb)
    first = "".join(cs[0]["source"])
    assert cs[0]["cell_type"] == "markdown" and first.startswith("# "), "a lesson opens with a title"
    assert any("try this" in "".join(c["source"]).lower() for c in cs[-3:] if c["cell_type"] == "markdown"), \
        "a lesson ends with 'Try this' prompts"
    counts = []
    for i, c in enumerate(cs):
        for t in tags(c):
            assert t in KNOWN_TAGS or re.fullmatch(r"pattern-P\d\d", t), f"cell {i}: unknown tag {t!r}"
        if c["cell_type"] != "code" or not "".join(c["source"]).strip():
            continue
        assert c.get("execution_count") is not None, f"cell {i} has no stored run"
        counts.append(c["execution_count"])
        errors = [o for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if "raises-exception" in tags(c):
            assert errors, f"cell {i} is tagged raises-exception but stores no error"
        else:
            assert not errors, f"cell {i} stores an error but is not tagged raises-exception"
    assert counts == list(range(1, len(counts) + 1)), "outputs must come from one fresh-kernel run, in order"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_stays_offline_and_quiet(nb: Path) -> None:
    for i, c in enumerate(cells(nb)):
        if c["cell_type"] != "code" or "raises-exception" in tags(c):
            continue
        src = "".join(c["source"])
        assert "weights='imagenet'" not in src and 'weights="imagenet"' not in src, f"cell {i} downloads weights"
        assert ".load_data()" not in src, f"cell {i}: use lab.datasets, which works offline"
    first_code = next("".join(c["source"]) for c in cells(nb) if c["cell_type"] == "code"
                      and "colab-only" not in tags(c))  # the Colab cell imports only sys: see the Colab test
    assert "import fapi_lab" in first_code, "the first code cell imports fapi_lab (it silences TensorFlow)"


# --- Colab: the badge and the set-up cell, both from pyproject.toml's one repository URL -----------------------

REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
COLAB_SCRIPT = ROOT / "scripts" / "colab_cells.py"


def colab_cells(nb: Path) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(cells(nb)) if "colab-only" in tags(c)]


def test_repository_url_is_a_github_repository() -> None:
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPOSITORY), \
        "[project.urls] Repository: Colab and the install cell need https://github.com/<owner>/<repo>"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_has_an_open_in_colab_badge_for_its_own_file(nb: Path) -> None:
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    link = f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{nb.name}"
    title = "".join(cells(nb)[0]["source"])
    assert f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({link})" in title
    everywhere = re.findall(r"https://colab\.research\.google\.com/github/[^)\s\"]*", nb.read_text())
    assert everywhere == [link], "one Colab link per lesson, to this very file"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_starts_with_the_colab_install_cell(nb: Path) -> None:
    cs = cells(nb)
    first_code = next(i for i, c in enumerate(cs) if c["cell_type"] == "code")
    assert [i for i, _ in colab_cells(nb)] == [first_code], "exactly one Colab cell, the first code cell"
    cell = cs[first_code]
    src = "".join(cell["source"])
    assert f'%pip install -q "fapi_lab @ git+{REPOSITORY}"' in src, "installs fapi_lab from pyproject's URL"
    assert "from google.colab import output\n" in src and "output.enable_custom_widget_manager()" in src
    # Outside Colab it does nothing: every statement but `import sys` sits under the Colab check.
    top_level = [line for line in src.splitlines() if line.strip() and not line.startswith((" ", "#"))]
    assert top_level == ["import sys", 'if "google.colab" in sys.modules:'], top_level
    # ... and says nothing: its stored run (the first of one fresh-kernel run, compared again by nbval) is empty.
    assert cell["execution_count"] == 1 and cell["outputs"] == []
    setup = next(c for c in cs[first_code + 1:] if c["cell_type"] == "code")
    assert "".join(setup["source"]).startswith("import fapi_lab as lab\n"), "then the usual set-up cell"


def test_colab_cells_script_leaves_the_lessons_as_they_are() -> None:
    """The lessons are exactly what scripts/colab_cells.py makes of them (so its one URL is the one in use)."""
    out = subprocess.run([sys.executable, str(COLAB_SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_colab_cells_script_follows_the_url_touches_only_lessons_and_is_idempotent(tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    (folder / "exercises").mkdir(parents=True)
    lessons = NOTEBOOKS[:2]
    for nb in lessons:
        shutil.copy(nb, folder / nb.name)
    others = {folder / "exercises" / "01_exercise.ipynb": lessons[0].read_bytes(),  # looks like a lesson, is not
              folder / "scratch.ipynb": lessons[1].read_bytes()}
    for path, data in others.items():
        path.write_bytes(data)
    text = (ROOT / "pyproject.toml").read_text()
    assert text.count(REPOSITORY) == 1, "the repository URL is written in exactly one place"
    (tmp_path / "pyproject.toml").write_text(text.replace(REPOSITORY, "https://github.com/a-teacher/a-fork"))

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(COLAB_SCRIPT), "--notebooks", str(folder),
                               "--pyproject", str(tmp_path / "pyproject.toml"), *extra],
                              capture_output=True, text=True, timeout=120)

    assert run("--check").returncode == 1
    first = run()
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("updated:") == len(lessons)
    stamped = {nb.name: (folder / nb.name).read_text() for nb in lessons}
    for name, text in stamped.items():
        assert "https://colab.research.google.com/github/a-teacher/a-fork/blob/main/notebooks/" + name in text
        assert "git+https://github.com/a-teacher/a-fork\\\"" in text
        assert REPOSITORY not in text
        new = json.loads(text)["cells"]
        old = json.loads((ROOT / "notebooks" / name).read_text())["cells"]
        assert len(new) == len(old) and new[2:] == old[2:], "nothing but the badge and the Colab cell changes"
        assert new[1]["execution_count"] is None and new[1]["outputs"] == []  # to be run again by run_lessons
    second = run()
    assert second.returncode == 0 and "updated:" not in second.stdout
    assert {nb.name: (folder / nb.name).read_text() for nb in lessons} == stamped, "a second run changes nothing"
    assert run("--check").returncode == 0
    for path, data in others.items():
        assert path.read_bytes() == data, f"{path.name} is not a lesson and must not be touched"


# --- Issue 13: rules a lesson keeps (checked on the files, so a slip shows before nbval runs) ---------------------

EXERCISES = ROOT / "notebooks" / "exercises"
DOCUMENT_BOX = re.compile(r"^### Document (\d{3}): what it says, and what changed$", re.M)
ERROR_LINES_MAX = 15


def code_cells(nb: Path) -> list[tuple[int, str, dict]]:
    return [(i, "".join(c["source"]), c) for i, c in enumerate(cells(nb)) if c["cell_type"] == "code"]


def markdown(nb: Path) -> list[str]:
    return ["".join(c["source"]) for c in cells(nb) if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_writes_the_documents_models_out(nb: Path) -> None:
    """A lesson teaches by code the student reads: ``lab.patterns`` may only check a hand-written model."""
    for i, src, _ in code_cells(nb):
        for line in src.splitlines():
            if "lab.patterns" in line:
                assert line.strip().startswith("assert "), \
                    f"cell {i}: lab.patterns outside an assert line (write the model out): {line.strip()!r}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_errors_are_short(nb: Path) -> None:
    """An error a lesson shows on purpose is read by a student: type, message, their line; no library frames."""
    for i, _, c in code_cells(nb):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(out["traceback"]))
                lines = [ln for ln in text.splitlines() if ln.strip()]
                assert len(lines) <= ERROR_LINES_MAX, f"cell {i}: a stored error of {len(lines)} lines"
                assert "site-packages" not in text, f"cell {i}: a stored error shows library frames"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_setup_cell_asks_ipython_for_short_errors(nb: Path) -> None:
    setup = next(src for _, src, c in code_cells(nb) if src.startswith("import fapi_lab as lab\n"))
    assert "%xmode Minimal" in setup.splitlines(), "the set-up cell sets %xmode Minimal"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_ends_with_summary_try_this_and_its_exercise_set(nb: Path) -> None:
    texts = markdown(nb)
    summary = next((t for t in texts if t.startswith("## Summary")), None)
    assert summary is not None, "a lesson has a '## Summary' cell"
    bullets = [ln for ln in summary.splitlines() if re.match(r"\s*[-*] ", ln)]
    assert 4 <= len(bullets) <= 6, f"the summary has {len(bullets)} points (4-6)"
    last = "".join(cells(nb)[-1]["source"])
    links = re.findall(r"\]\((exercises/[\w.-]+\.ipynb)\)", last)
    assert links, "the closing cell links the lesson's exercise set"
    for link in links:
        assert (nb.parent / link).exists(), f"the closing cell links {link}, which does not exist"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_has_a_box_for_each_document_it_follows(nb: Path) -> None:
    """'Follows documents 000 and 004.' in the first cell; then one box per document, no more, no fewer."""
    first = "".join(cells(nb)[0]["source"])
    follows = re.search(r"Follows documents? ([^.\n]*)\.", first)
    assert follows, "the first cell says which source documents the lesson follows"
    documents = set(re.findall(r"\b(00[0-4])\b", follows.group(1)))
    assert documents, follows.group(0)
    boxes = [m for t in markdown(nb) for m in DOCUMENT_BOX.findall(t)]
    assert sorted(boxes) == sorted(documents), \
        f"document boxes {sorted(boxes)} for the documents the lesson follows {sorted(documents)}"


def test_every_exercise_set_links_back_to_lessons_that_exist() -> None:
    for ex in sorted(EXERCISES.glob("ex*.ipynb")):
        text = "\n".join(markdown(ex))
        links = re.findall(r"\]\(\.\./([\w.-]+\.ipynb)\)", text)
        assert links, f"{ex.name} links back to its lessons (../NN_name.ipynb)"
        for link in links:
            assert (EXERCISES.parent / link).exists(), f"{ex.name} links ../{link}, which does not exist"


def test_readme_lesson_table_lists_every_lesson_with_its_patterns() -> None:
    readme = (ROOT / "README.md").read_text()
    for nb in NOTEBOOKS:
        title = "".join(cells(nb)[0]["source"]).splitlines()[0].removeprefix("# ")
        row = next((line for line in readme.splitlines() if f"](notebooks/{nb.name})" in line), None)
        assert row is not None, f"README's lesson table has no row for {nb.name}"
        patterns = sorted({t.removeprefix("pattern-") for c in cells(nb) for t in tags(c) if t.startswith("pattern-")})
        assert row.startswith(f"| [{title}]") and f"| {' '.join(patterns)} |" in row, row
