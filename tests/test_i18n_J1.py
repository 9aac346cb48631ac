"""The exercises speak the language chosen with lab.language: titles, hints, verdicts and judges' messages."""

from __future__ import annotations

import pytest

import fapi_lab as lab
from fapi_lab._exercises import registry

TRANSLATED_SETS = ("ex1.", "ex4.", "ex6.")  # the sets whose texts (titles, hints, outlines) are in the catalogues


@pytest.fixture(autouse=True)
def english_after():
    yield
    lab.language("en")


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_every_title_hint_and_answer_is_translated(lang):
    from fapi_lab._i18n import _

    lab.language(lang)
    untranslated = []
    for ex in registry().values():
        if not ex.id.startswith(TRANSLATED_SETS):
            continue
        for text in (ex.title, ex.lesson, ex.answer, *ex.hints):
            if _(text) == text:
                untranslated.append((ex.id, text))
    assert not untranslated


def test_switching_language_changes_the_next_hint_and_verdict():
    lab.language("en")
    english = str(lab.hint("ex1.1", 1))
    assert english.startswith("ex1.1 hint 1 of 3: Start from inputs")
    lab.language("zh")
    chinese = str(lab.hint("ex1.1", 1))
    assert "提示" in chinese and "keras.Input(shape=(784,), name='img')" in chinese and "Start from" not in chinese
    verdict = str(lab.check("ex1.1"))
    assert "尚未作答" in verdict and "函数式 API" in verdict
    lab.language("es")
    verdict = str(lab.check("ex1.1"))
    assert "aún sin responder" in verdict and "Sustituye el ..." in verdict
    lab.language("en")
    assert str(lab.hint("ex1.1", 1)) == english


def test_a_judge_message_comes_out_in_the_chosen_language():
    lab.language("es")
    result = lab.check("ex1.5", ["not", "a", "dict"])
    assert not result.passed
    (message,) = result.messages
    assert message.startswith("La comprobación necesita un dict") and "'conv'" in message and "list" in message
    lab.language("zh")
    with pytest.raises(ValueError, match=r"没有编号为 'ex9\.9' 的练习"):
        lab.check("ex9.9", 1)
