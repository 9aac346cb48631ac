"""Translated lessons: one translation file per notebook and language, keyed by cell id, built into notebooks.

The English notebooks are the source. ``translations/<lang>/<name>.md`` holds the translation of every markdown
cell of ``notebooks/<name>.ipynb`` (``translations/<lang>/exercises/<name>.md``: of ``solutions/exercises/``),
each under a marker line that names the cell and the hash of the English text it translates::

    <!-- cell docs en:3f2a1b0c9d8e -->
    ## 五份源文档
    ...

``build`` writes ``notebooks/<lang>/<name>.ipynb`` (``solutions/<lang>/exercises/<name>.ipynb``): the English
notebook with its markdown replaced and its code cells identical, outputs cleared until ``scripts/run_lessons``
runs it in that language. ``check`` lists every cell whose translation is missing, or was made from an English
text that has changed since (its hash no longer matches): the tests run it, so the three languages stay in step.
A built notebook records a hash of its cells; one edited by hand is never overwritten (edit the translation
file instead).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._student import _source

__all__ = ["LANGUAGES", "Pair", "build", "cell_hash", "check", "export", "pairs", "parse", "skeleton", "students"]

LANGUAGES = ("zh", "es")
ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- cell (\S+) en:([0-9a-f]{12}) -->$", re.MULTILINE)


def cell_hash(text: str) -> str:
    """The first 12 hex digits of the SHA-256 of an English cell's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Pair:
    """An English notebook, its translation file and the translated notebook built from them."""

    english: Path
    translation: Path
    built: Path


def pairs(lang: str, root: Path = ROOT) -> list[Pair]:
    """Every English lesson and exercise solution notebook, with where its ``lang`` translation lives."""
    out = [Pair(nb, root / "translations" / lang / f"{nb.stem}.md", root / "notebooks" / lang / nb.name)
           for nb in sorted((root / "notebooks").glob("[0-9]*.ipynb"))]
    out += [Pair(nb, root / "translations" / lang / "exercises" / f"{nb.stem}.md",
                 root / "solutions" / lang / "exercises" / nb.name)
            for nb in sorted((root / "solutions" / "exercises").glob("*.ipynb"))]
    return out


def _markdown(nb: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["id"], _source(c)) for c in nb["cells"] if c["cell_type"] == "markdown"]


def skeleton(english: Path, old: dict[str, tuple[str, str]] | None = None) -> str:
    """A translation file for ``english``: every markdown cell's marker, then its English text to replace
    (or the existing translation in ``old``, whose marker keeps its old hash until it is brought up to date)."""
    nb = json.loads(english.read_text(encoding="utf-8"))
    parts = []
    for cid, text in _markdown(nb):
        if old and cid in old:
            parts.append(f"<!-- cell {cid} en:{old[cid][0]} -->\n{old[cid][1]}\n")
        else:
            parts.append(f"<!-- cell {cid} en:{cell_hash(text)} -->\n{text}\n")
    return "\n".join(parts)


def parse(text: str) -> dict[str, tuple[str, str]]:
    """``{cell id: (hash of the English it translates, translated text)}`` from a translation file."""
    found = list(MARKER.finditer(text))
    out: dict[str, tuple[str, str]] = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        body = text[m.end():end].strip("\n")
        if m.group(1) in out:
            raise ValueError(f"cell {m.group(1)} is translated twice")
        out[m.group(1)] = (m.group(2), body)
    return out


def check(lang: str, root: Path = ROOT) -> list[str]:
    """One line per problem: a missing translation file or cell, a stale hash, a cell that no longer exists."""
    problems = []
    for pair in pairs(lang, root):
        name = pair.translation.relative_to(root)
        if not pair.translation.exists():
            problems.append(f"{name}: missing (bash scripts/translate export {lang})")
            continue
        have = parse(pair.translation.read_text(encoding="utf-8"))
        english = _markdown(json.loads(pair.english.read_text(encoding="utf-8")))
        for cid, text in english:
            if cid not in have:
                problems.append(f"{name}: cell {cid} is not translated")
            elif have[cid][0] != cell_hash(text):
                problems.append(f"{name}: cell {cid} translates an older English text (hash {have[cid][0]}, "
                                f"now {cell_hash(text)}): update the translation, then its hash")
            elif not have[cid][1].strip():
                problems.append(f"{name}: cell {cid} is empty")
        for cid in sorted(set(have) - {cid for cid, _ in english}):
            problems.append(f"{name}: cell {cid} is no longer in {pair.english.relative_to(root)}")
    return problems


def _cells_hash(nb: dict[str, Any]) -> str:
    return cell_hash(json.dumps([[c["cell_type"], _source(c)] for c in nb["cells"]], ensure_ascii=False))


def translated_notebook(english: dict[str, Any], have: dict[str, tuple[str, str]], lang: str,
                        origin: str) -> dict[str, Any]:
    """``english`` with its markdown replaced by ``have``'s texts, code unchanged, outputs cleared."""
    cells = []
    for cell in english["cells"]:
        new = dict(cell)
        if cell["cell_type"] == "markdown":
            new["source"] = have[cell["id"]][1]
        elif cell["cell_type"] == "code":
            new["outputs"], new["execution_count"] = [], None
        cells.append(new)
    meta = dict(english.get("metadata", {}))
    nb = {**english, "metadata": meta, "cells": cells}
    meta["fapi_lab"] = {**meta.get("fapi_lab", {}), "language": lang, "translation_of": origin,
                        "made_by": "scripts/translate build (do not edit: change the translation file)"}
    meta["fapi_lab"]["cells_hash"] = _cells_hash(nb)
    return nb


def _keep_outputs(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """When only the prose changed (the same code cells, in order), keep the outputs the old notebook's run
    made: they do not depend on markdown. Returns whether it did."""
    def code(nb: dict[str, Any]) -> list[tuple[str, str]]:
        return [(c["id"], _source(c)) for c in nb["cells"] if c["cell_type"] == "code"]

    if code(new) != code(old):
        return False
    outputs = {c["id"]: c for c in old["cells"] if c["cell_type"] == "code"}
    for cell in new["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = outputs[cell["id"]].get("outputs", [])
            cell["execution_count"] = outputs[cell["id"]].get("execution_count")
    return True


def build(lang: str, root: Path = ROOT, *, force: bool = False) -> list[str]:
    """Write the ``lang`` notebooks whose text changed; one report line per notebook."""
    report = []
    for pair in pairs(lang, root):
        if not pair.translation.exists():
            report.append(f"missing  {pair.translation.relative_to(root)}")
            continue
        english = json.loads(pair.english.read_text(encoding="utf-8"))
        nb = translated_notebook(english, parse(pair.translation.read_text(encoding="utf-8")), lang,
                                 str(pair.english.relative_to(root)))
        target = pair.built
        if target.exists():
            old = json.loads(target.read_text(encoding="utf-8"))
            stored = old.get("metadata", {}).get("fapi_lab", {}).get("cells_hash")
            if stored == nb["metadata"]["fapi_lab"]["cells_hash"] and _cells_hash(old) == stored:
                report.append(f"same     {target.relative_to(root)}")
                continue
            if _cells_hash(old) != stored and not force:
                report.append(f"KEPT     {target.relative_to(root)}: edited by hand; put the change into "
                              f"{pair.translation.relative_to(root)}, then delete it or use --force")
                continue
        ran = target.exists() and _keep_outputs(nb, json.loads(target.read_text(encoding="utf-8")))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        name = target.relative_to(root)
        report.append(f"wrote    {name}" + ("" if ran else f" (run it: bash scripts/run_lessons {name})"))
    return report


def export(lang: str, root: Path = ROOT) -> list[str]:
    """Write a translation file for every notebook that has none; add missing cells to the existing ones."""
    report = []
    for pair in pairs(lang, root):
        old = parse(pair.translation.read_text(encoding="utf-8")) if pair.translation.exists() else None
        text = skeleton(pair.english, old)
        if old is not None and pair.translation.read_text(encoding="utf-8") == text:
            continue
        pair.translation.parent.mkdir(parents=True, exist_ok=True)
        pair.translation.write_text(text, encoding="utf-8")
        report.append(f"{'updated' if old else 'wrote'}  {pair.translation.relative_to(root)}")
    return report


def students(lang: str, root: Path = ROOT) -> list[str]:
    """The student versions of the translated exercise solutions (``notebooks/<lang>/exercises/``)."""
    from ._student import write_student_versions

    sources = sorted((root / "solutions" / lang / "exercises").glob("*.ipynb"))
    return write_student_versions(sources, root / "notebooks" / lang / "exercises", force=True, root=root)


def main(argv: list[str]) -> int:
    usage = "usage: scripts/translate export|build|students|check [zh|es] [--force]"
    if not argv or argv[0] not in ("export", "build", "students", "check"):
        print(usage)
        return 2
    langs = [a for a in argv[1:] if not a.startswith("--")] or list(LANGUAGES)
    if any(lang not in LANGUAGES for lang in langs):
        print(usage)
        return 2
    status = 0
    for lang in langs:
        if argv[0] == "export":
            lines = export(lang)
        elif argv[0] == "build":
            lines = build(lang, force="--force" in argv)
        elif argv[0] == "students":
            lines = students(lang)
        else:
            lines = check(lang)
            status |= bool(lines)
        print("\n".join(lines) if lines else f"{lang}: nothing to do")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
