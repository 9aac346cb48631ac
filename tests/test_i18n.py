"""fapi_lab's messages in Chinese and Spanish: complete catalogues, and lab.language switching at once.

The catalogues are checked against the code itself (Babel's extraction of every _("..."), N_("...") and
ngettext(...) in fapi_lab/), so a new message without a translation fails here, whatever the .pot file says.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import fapi_lab as lab
from fapi_lab import _i18n
from tests.glossary import missing_terms

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fapi_lab"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
FIELD = re.compile(r"(?<!\{)\{([a-zA-Z_][a-zA-Z0-9_]*)(?:[!:][^{}]*)?\}(?!\})")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Messages name the student's variables bare (model, encoder, optimizer=...), where the glossary does not apply:
# single words that are also common variable names are not checked in messages (the lessons check them all).
NAME_LIKE = frozenset({"model", "encoder", "decoder", "autoencoder", "optimizer", "loss", "metric", "shape", "batch",
                       "layer", "graph", "weights", "activation", "embedding", "trainable", "projection", "shortcut"})


def _marked() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):  # every module, in _private folders too (Babel skips those)
        if "_course" in path.parts:
            continue
        for _lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=KEYWORDS):
            forms = (message,) if isinstance(message, str) else tuple(message)
            found.setdefault(forms[0], forms)
    return found


MARKED = _marked()


def _catalog(lang: str):
    with (PACKAGE / "locale" / lang / "LC_MESSAGES" / "fapi_lab.po").open("rb") as handle:
        return read_po(handle)


@pytest.fixture(autouse=True)
def _english_again():
    yield
    _i18n._chosen.clear()


def test_the_code_marks_the_student_facing_texts() -> None:
    assert len(MARKED) >= 1000, f"only {len(MARKED)} texts marked for translation"
    pot = (PACKAGE / "locale" / "fapi_lab.pot").read_bytes()
    with (PACKAGE / "locale" / "fapi_lab.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert pot and set(MARKED) == template, "the template is out of date: bash scripts/i18n update"


MARK_CALL = re.compile(r'(?<![\w.])(?:_|N_|ngettext)\(\s*"((?:[^"\\]|\\.)*)"')


def test_no_marked_text_hides_where_babel_cannot_see_it() -> None:
    """Babel reads no call inside an f-string (nor other places it skips): such a text is never translated. Every
    ``_("...")`` written in the code must be among the extracted texts (its first piece, for a text continued on
    the next lines)."""
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_course" in path.parts or path.name == "_i18n.py":  # _i18n's docstring shows _("...") as an example
            continue
        for match in MARK_CALL.finditer(path.read_text(encoding="utf-8")):
            piece = match.group(1).encode().decode("unicode_escape") if "\\" in match.group(1) else match.group(1)
            if not any(text.startswith(piece) for text in MARKED):
                hidden.append(f"{path.name}: {piece[:60]!r}")
    assert not hidden, f"marked but not extracted (inside an f-string?): {hidden}"


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_every_marked_text_is_translated_with_the_same_placeholders(lang: str) -> None:
    catalog = _catalog(lang)
    problems = []
    for msgid, forms in MARKED.items():
        message = catalog.get(msgid)
        strings = [] if message is None else ([message.string] if isinstance(message.string, str)
                                                else list(message.string))
        if message is None or not strings or not all(s.strip() for s in strings) or message.fuzzy:
            problems.append(f"not translated: {msgid[:80]!r}")
            continue
        want = set(FIELD.findall(" ".join(forms)))
        for text in strings:
            if set(FIELD.findall(text)) != want:
                problems.append(f"placeholders differ in {msgid[:60]!r}: {sorted(set(FIELD.findall(text)))}")
            if lang == "zh" and re.search(r"[A-Za-z]{3,}", msgid) and not HAN.search(text) and \
                    re.search(r"\b[a-z]{3,}\s+[a-z]{3,}\s+[a-z]{3,}\b", re.sub(r"`[^`]*`|\{[^}]*\}", "", text)):
                problems.append(f"still English in zh: {text[:60]!r}")
        missing = missing_terms(msgid, strings[-1], lang, skip=NAME_LIKE)
        if missing:
            problems.append(f"glossary terms not used in {msgid[:50]!r}: {missing}")
    assert not problems, f"{len(problems)} problems (bash scripts/i18n update, then translate):\n" + \
        "\n".join(problems[:40])


def test_language_switches_the_next_message_at_once() -> None:
    msgid = next(m for m in MARKED if "{" not in m and len(m) > 20)
    assert _i18n._(msgid) == msgid
    assert lab.language("zh") == "zh" and HAN.search(_i18n._(msgid)), _i18n._(msgid)
    assert lab.language("es") == "es" and _i18n._(msgid) != msgid
    assert lab.language("en") == "en" and _i18n._(msgid) == msgid
    assert lab.language("zh_CN.UTF-8") == "zh" and lab.language("Español") == "es" and lab.language() == "es"


def test_speaking_a_language_for_a_while_gives_back_the_choice_made_before() -> None:
    lab.language("es")
    with _i18n.speaking("zh") as lang:
        assert lang == "zh" and _i18n.current() == "zh"
    assert _i18n.current() == "es"
    _i18n._chosen.clear()
    with _i18n.speaking("es"):
        assert _i18n.current() == "es"
    assert _i18n.current() == "en"  # the default again (this test process's settings say English)


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'en', 'zh', 'es'.*lab\.language\(\"zh\"\)"):
        lab.language("fr")
    with pytest.raises(ValueError, match="speaks"):
        lab.language(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("env", "cwd", "want"), [
    ({"FAPI_LAB_LANG": "es"}, "notebooks/zh", "es"),          # the variable first
    ({}, "notebooks/zh", "zh"),                                # then a translated notebook's folder
    ({}, "notebooks/es/exercises", "es"),
    ({"LANG": "es_MX.UTF-8"}, "notebooks", "es"),              # then the system's language
    ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, ".", "zh"),
    ({"LANG": "de_DE.UTF-8"}, ".", "en"),                      # not one of ours: English
    ({"LANG": "C.UTF-8"}, ".", "en"),
])
def test_default_language(env: dict, cwd: str, want: str, tmp_path: Path, monkeypatch) -> None:
    for var in ("FAPI_LAB_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    (tmp_path / cwd).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / cwd)
    assert lab.language() == want


def test_a_bad_fapi_lab_lang_warns_and_speaks_english(monkeypatch) -> None:
    monkeypatch.setenv("FAPI_LAB_LANG", "klingon")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert lab.language() == "en"
    assert any("FAPI_LAB_LANG='klingon'" in str(w.message) for w in seen)


def test_catalogues_compile_and_a_fresh_process_reads_them() -> None:
    """Without .mo files (a checkout) the .po is compiled in memory; the build compiles it (tests/test_edition)."""
    msgid = next(m for m in MARKED if "{" not in m and len(m) > 20)
    code = ("import fapi_lab as lab; from fapi_lab._i18n import _; lab.language('zh'); "
            f"print(_({msgid!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert HAN.search(out.stdout), out.stdout
