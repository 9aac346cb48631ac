"""The glossary (notebooks/GLOSSARY.md) as data, and the check that a translation uses its words."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "notebooks" / "GLOSSARY.md"
COLUMN = {"zh": 1, "es": 2}


@cache
def terms() -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(English term, accepted Chinese forms, accepted Spanish forms) for every row of the glossary table."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and line.startswith("|") and cells[0] not in ("English", "---"):
            rows.append((cells[0], tuple(f.strip() for f in cells[1].split(" / ")),
                         tuple(f.strip() for f in cells[2].split(" / "))))
    return tuple(rows)


def prose(text: str) -> str:
    """Markdown (or a message) without what is never translated: code, links' targets, tags, math, fields."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)|https?://\S+|<[^>\n]+>|\$[^$\n]+\$|\{[a-z_][a-z0-9_]*(?:[!:][^{}]*)?\}", " ", text)
    # code written without backticks (messages): dotted or snake_case names, calls, CamelCase class names
    return re.sub(r"\w+(?:[._#/]\w+)*\([^)]*\)?|\w+(?:[._#/]\w+)+|\w+=|\b[A-Z][a-z0-9]+[A-Z]\w*", " ", text)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def _english(term: str) -> re.Pattern[str]:
    words = [re.escape(w) + r"(?:s|es)?" for w in re.split(r"[\s-]+", term)]
    return re.compile(r"(?<![\w-])" + r"[\s-]*".join(words) + r"(?![\w-])", re.I)


def _spanish(form: str) -> re.Pattern[str]:
    words = [re.escape(w) + r"(?:s|es)?" for w in _fold(form).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _used(pattern: re.Pattern[str], text: str) -> bool:
    """Whether the prose uses the term: a capitalised match inside a sentence is a class name (Embedding, Model)."""
    for m in pattern.finditer(text):
        before = text[:m.start()].rstrip()
        if m.group(0)[0].isupper() and before and before[-1] not in ".!?:\n#*|>-":
            continue
        return True
    return False


def missing_terms(english: str, translated: str, lang: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """The glossary terms the English prose uses whose translation does not appear in the translated prose
    (``skip``: terms not checked)."""
    en, out = prose(english), prose(translated)
    folded = _fold(out)
    missing = []
    for term, zh, es in terms():
        if term in skip or not _used(_english(term), en):
            continue
        if lang == "zh" and not any(form in out for form in zh):
            missing.append(f"{term} -> {' / '.join(zh)}")
        elif lang == "es" and not any(_spanish(form).search(folded) for form in es):
            missing.append(f"{term} -> {' / '.join(es)}")
    return missing
