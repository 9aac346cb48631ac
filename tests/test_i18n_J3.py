"""Exercise sets 2, 3 and 5 speak the language chosen with lab.language: titles, hints, outlines and judges."""

from __future__ import annotations

import pytest

import fapi_lab as lab
from fapi_lab._exercises import registry
from fapi_lab._i18n import _

TRANSLATED_SETS = ("ex2.", "ex3.", "ex5.")


@pytest.fixture(autouse=True)
def english_after():
    yield
    lab.language("en")


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_every_title_hint_answer_and_prose_outline_label_is_translated(lang):
    lab.language(lang)
    untranslated = []
    for ex in registry().values():
        if not ex.id.startswith(TRANSLATED_SETS):
            continue
        texts = [ex.title, ex.lesson, ex.answer, *ex.hints]
        untranslated += [(ex.id, text) for text in texts if _(text) == text]
    assert not untranslated
    labels = {label for ex in registry().values() for edge in ex.outline for label in edge}
    for label in ("their average (None, 1)", "one encoder model (called twice)", "image branch: any layers"):
        assert label in labels and _(label) != label


def test_a_judge_message_follows_the_language_without_reimport():
    answer = {"agee": 1.0, "income": 1.0, "gender": 10.0}
    english = lab.check("ex3.3", answer).messages[0]
    assert english.startswith("Your dict of loss weights has the key 'agee', but the model has no output of that "
                              "name (did you mean 'age'?). Its outputs are 'age', 'income' and 'gender'")
    lab.language("es")
    spanish = lab.check("ex3.3", answer).messages[0]
    assert spanish.startswith("Tu diccionario de pesos de las pérdidas tiene la clave 'agee'")
    assert "¿querías decir 'age'?" in spanish and "'age', 'income' y 'gender'" in spanish
    lab.language("zh")
    chinese = lab.check("ex3.3", [1, 2, 3]).messages[0]
    assert chinese.startswith("这是一个包含 3 个权重的列表。") and "Keras" in chinese
    lab.language("en")
    assert lab.check("ex3.3", answer).messages[0] == english


def test_a_marked_description_is_translated_where_it_is_shown():
    lab.language("es")
    message = lab.check("ex2.3", 5).messages[0]
    assert "una función round_trip(model, folder) que devuelva el modelo cargado" in message
    lab.language("zh")
    hint = str(lab.hint("ex5.1", 1))
    assert "LSTM" in hint and "Make the LSTM once" not in hint and "提示" in hint
