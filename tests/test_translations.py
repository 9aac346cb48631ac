"""The Chinese and Spanish lessons and exercises stay in step with the English ones.

Each translation file (translations/<lang>/...md) must translate every markdown cell of its English notebook,
from the English text as it is now (the hash in its marker); the notebooks built from them (notebooks/<lang>/,
solutions/<lang>/exercises/) must be what scripts/translate builds today, with the English code cells; the
translated prose keeps the English's code, numbers and links, and uses the glossary's words. Their outputs are
compared by nbval like the English ones (the test command runs notebooks/ and solutions/ whole).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from fapi_lab._translations import LANGUAGES, build, cell_hash, check, pairs, parse, translated_notebook
from tests.glossary import missing_terms, prose

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [(lang, pair) for lang in LANGUAGES for pair in pairs(lang)]
CODE_SPAN = re.compile(r"```.*?```|`[^`]+`", re.S)
NUMBER = re.compile(r"(?<![\w.])\d[\d,._]*\d(?![\w])|(?<![\w.])\d{2,}(?![\w])")
LINK = re.compile(r"\]\(([^)\s]+)\)")


MARKDOWN = MarkdownIt("commonmark").enable("table")
STRUCTURE = re.compile(r"<(h[1-6]|li|tr|img|table)\b")


def _rendered(text: str) -> tuple[Counter, list[str]]:
    """The markdown's structure (headings, list items, table rows, images) and any emphasis marker left
    unrendered (CommonMark does not close ``**目标：**`` before a letter: full-width punctuation)."""
    html = MARKDOWN.render(text)
    prose_only = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", " ", html, flags=re.S)
    loose = re.findall(r".{0,12}(?:\*\*|(?<![\w*\\])\*(?=[^\s*]))\S{0,12}", re.sub(r"<[^>]+>", "", prose_only))
    return Counter(STRUCTURE.findall(html)), loose


def _spans(text: str) -> list[str]:
    """The code in a markdown text, a line break inside a span read as a space (prose wraps differently)."""
    return [re.sub(r"\s+", " ", span) for span in CODE_SPAN.findall(text)]


def _name(item: tuple[str, object]) -> str:
    lang, pair = item
    return f"{lang}/{pair.english.name}"  # type: ignore[attr-defined]


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_english_markdown_cell_has_an_up_to_date_translation(lang: str) -> None:
    assert check(lang) == [], "update the translations (bash scripts/translate export; then translate what changed)"


def test_a_changed_english_cell_fails_the_check_until_its_translation_is_updated(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "solutions" / "exercises").mkdir(parents=True)
    cell = {"cell_type": "markdown", "id": "goal", "metadata": {}, "source": "**Goal:** one model."}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(nb))
    translation = tmp_path / "translations" / "es" / "01_x.md"
    translation.parent.mkdir(parents=True)
    translation.write_text(f"<!-- cell goal en:{cell_hash(cell['source'])} -->\n**Objetivo:** un modelo.\n")
    assert check("es", tmp_path) == []
    cell["source"] = "**Goal:** two models."
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(nb))
    assert ["cell goal translates an older English text" in p for p in check("es", tmp_path)] == [True]
    assert build("es", tmp_path)[0].startswith("wrote")
    built = tmp_path / "notebooks" / "es" / "01_x.ipynb"
    edited = built.read_text().replace("un modelo", "un modelo (editado)")
    built.write_text(edited)
    assert build("es", tmp_path)[0].startswith("KEPT") and built.read_text() == edited, "a hand edit is kept"


def test_a_prose_change_keeps_the_outputs_of_the_last_run(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "solutions" / "exercises").mkdir(parents=True)
    cells = [{"cell_type": "markdown", "id": "goal", "metadata": {}, "source": "One model."},
             {"cell_type": "code", "id": "run", "metadata": {}, "source": "print(1)", "outputs": [],
              "execution_count": None}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(nb))
    translation = tmp_path / "translations" / "zh" / "01_x.md"
    translation.parent.mkdir(parents=True)
    translation.write_text(f"<!-- cell goal en:{cell_hash('One model.')} -->\n一个模型。\n")
    build("zh", tmp_path)
    built = tmp_path / "notebooks" / "zh" / "01_x.ipynb"
    ran = json.loads(built.read_text())
    ran["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    ran["cells"][1]["execution_count"] = 1
    built.write_text(json.dumps(ran))  # what scripts/run_lessons does: outputs only
    translation.write_text(translation.read_text().replace("一个模型。", "只有一个模型。"))
    assert build("zh", tmp_path) == ["wrote    notebooks/zh/01_x.ipynb"]
    again = json.loads(built.read_text())
    assert again["cells"][0]["source"] == "只有一个模型。" and again["cells"][1]["outputs"][0]["text"] == "1\n"
    nb["cells"][1]["source"] = "print(2)"
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(nb))
    assert "run it" in build("zh", tmp_path)[0] and json.loads(built.read_text())["cells"][1]["outputs"] == []


@pytest.mark.parametrize(("lang", "pair"), PAIRS, ids=[_name(p) for p in PAIRS])
def test_translated_notebook_is_built_from_the_english_one_and_its_translation(lang: str, pair) -> None:
    english, built = _notebook(pair.english), _notebook(pair.built)
    expected = translated_notebook(english, parse(pair.translation.read_text(encoding="utf-8")), lang,
                                   str(pair.english.relative_to(ROOT)))
    assert [(c["id"], c["cell_type"], _source(c)) for c in built["cells"]] == \
        [(c["id"], c["cell_type"], _source(c)) for c in expected["cells"]], "run: bash scripts/translate build"
    assert [_source(c) for c in built["cells"] if c["cell_type"] == "code"] == \
        [_source(c) for c in english["cells"] if c["cell_type"] == "code"], "code cells are never translated"
    assert built["metadata"]["fapi_lab"]["language"] == lang
    if pair.english.parent.name != "exercises":
        ran = [c for c in built["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
        assert ran, f"run it in its language: bash scripts/run_lessons {pair.built.relative_to(ROOT)}"


@pytest.mark.parametrize(("lang", "pair"), PAIRS, ids=[_name(p) for p in PAIRS])
def test_translation_keeps_code_numbers_and_links_and_uses_the_glossary(lang: str, pair) -> None:
    english = {c["id"]: _source(c) for c in _notebook(pair.english)["cells"] if c["cell_type"] == "markdown"}
    # a student reads an exercise set in notebooks/<lang>/exercises/, so its links start there
    where = pair.built.parent if pair.english.parent.name != "exercises" else ROOT / "notebooks" / lang / "exercises"
    problems = []
    for cid, (_, text) in parse(pair.translation.read_text(encoding="utf-8")).items():
        en = english[cid]
        lost = Counter(_spans(en)) - Counter(_spans(text))
        if lost:
            problems.append(f"cell {cid}: code changed or lost: {sorted(lost)[:3]}")
        (want, _), (got, loose) = _rendered(en), _rendered(text)
        if want != got:
            problems.append(f"cell {cid}: markdown structure differs: {dict(want)} in English, {dict(got)}")
        if loose:
            problems.append(f"cell {cid}: emphasis not rendered (add a space after the closing marker): {loose[:3]}")
        numbers = Counter(NUMBER.findall(prose(en))) - Counter(NUMBER.findall(prose(text)))
        if numbers:
            problems.append(f"cell {cid}: numbers lost: {sorted(numbers)}")
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            if not (where / target.split("#")[0]).exists():
                problems.append(f"cell {cid}: link {target} does not resolve from {where.relative_to(ROOT)}")
        missing = missing_terms(en, text, lang)
        if missing:
            problems.append(f"cell {cid}: glossary terms not used: {missing}")
        if "colab.research.google.com" in en:
            want = f"blob/main/{pair.built.relative_to(ROOT).as_posix()}".replace("solutions/", "notebooks/")
            if want not in text:
                problems.append(f"cell {cid}: the Colab badge should open {want}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lesson_one_links_the_glossary(lang: str) -> None:
    first = next(p for p in pairs(lang) if p.english.name.startswith("01_"))
    assert "](../GLOSSARY.md)" in first.translation.read_text(encoding="utf-8")
