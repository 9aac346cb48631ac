"""The lesson notebooks as files: every pattern covered, outputs stored, tags used as nbval expects.

nbval itself (run by the README's test command) re-executes each lesson and compares outputs; these checks
catch what nbval cannot: a missing pattern, a cell with no stored run, an error stored in an untagged cell.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

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
    first_code = next("".join(c["source"]) for c in cells(nb) if c["cell_type"] == "code")
    assert "import fapi_lab" in first_code, "the first code cell imports fapi_lab (it silences TensorFlow)"
