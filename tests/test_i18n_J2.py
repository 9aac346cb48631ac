"""The judges' shared helpers and the ex4-ex6 judges speak the language chosen with lab.language, at once."""

from __future__ import annotations

import keras
import pytest

import fapi_lab as lab


@pytest.fixture(autouse=True)
def english_after():
    yield
    lab.language("en")


def test_a_wrong_kind_of_answer_is_explained_in_the_chosen_language():
    lab.language("en")
    english = lab.check("ex4.1", 42).messages[0]
    assert english.startswith("The check needs a function residual_block(x, filters, strides=1); you passed an int "
                              "(42).")
    lab.language("zh")
    chinese = lab.check("ex4.1", 42).messages[0]
    assert chinese.startswith("检查需要一个函数 residual_block(x, filters, strides=1)；你传入的是一个 int（42）。")
    lab.language("es")
    spanish = lab.check("ex6.1", 42).messages[0]
    assert spanish.startswith("La comprobación necesita una clase de capa personalizada (la clase en sí, no una capa "
                              "creada con ella); pasaste un int (42).")
    lab.language("en")
    assert lab.check("ex4.1", 42).messages[0] == english


def test_plural_messages_follow_the_language_and_the_count():
    a = keras.Input(shape=(8, 8, 32), name="left")
    b = keras.Input(shape=(8, 8, 16), name="right")
    model = keras.Model([a, b], keras.layers.Concatenate(name="stacked")([a, b]), name="wrong_names")
    lab.language("en")
    assert lab.check("ex4.3", model).messages[0].startswith("The task's inputs 'a', 'b' are missing")
    lab.language("zh")
    assert lab.check("ex4.3", model).messages[0].startswith("缺少任务要求的输入 'a', 'b'：")
    lab.language("es")
    assert lab.check("ex4.3", model).messages[0].startswith("Faltan las entradas 'a', 'b' de la tarea:")
