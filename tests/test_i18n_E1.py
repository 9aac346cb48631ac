"""lab.explain, lab.shapes and the refusals of a student's arrays speak the language chosen with lab.language."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab._arrays import standardize

HAN = re.compile(r"[\u4e00-\u9fff]")
RESHAPE = ("The total size of the tensor must be unchanged. Received: input_shape=(12000,), "
           "target_shape=(7, 7)")


@pytest.fixture(autouse=True)
def english_after():
    yield
    lab.language("en")


@pytest.fixture(scope="module")
def model() -> keras.Model:
    x = keras.Input((4,), name="features")
    return keras.Model(x, layers.Dense(3, name="out")(x))


def test_explain_switches_language_at_the_next_call_and_keeps_the_numbers() -> None:
    english = lab.explain(RESHAPE)
    assert english.title == "Reshape to a shape with a different number of elements"
    lab.language("zh")
    chinese = lab.explain(RESHAPE)
    assert HAN.search(chinese.title) and HAN.search(chinese.why) and HAN.search(chinese.fix)
    assert "12,000" in chinese.why and "(7, 7)" in chinese.why and "Reshape only" not in chinese.why
    assert "原因：" in str(chinese) and "修改方法：" in str(chinese)
    lab.language("es")
    spanish = lab.explain(RESHAPE)
    assert spanish.title == "Reshape a una forma con un número distinto de elementos"
    assert "12,000" in spanish.fix and "por qué:" in str(spanish)
    lab.language("en")
    assert lab.explain(RESHAPE).why == english.why


def test_shape_table_arithmetic_and_headers_are_translated(model: keras.Model) -> None:
    lab.language("es")
    trace = lab.shapes(model)
    text = str(trace)
    assert "total de parámetros: 15" in text and "forma de salida" in text
    assert trace.row("out").explanation == "Dense(3) sobre 4 → 3: el último eje pasa a ser units"
    assert trace.row("out").param_formula == "4·3 + 3 = 15"  # arithmetic untouched
    lab.language("zh")
    assert "最后一个轴变为 units" in lab.shapes(model).row("out").explanation
    assert "<th>输出形状</th>" in lab.shapes(model)._repr_html_()


def test_a_refused_array_is_explained_in_the_chosen_language(model: keras.Model) -> None:
    lab.language("zh")
    with pytest.raises(ValueError) as info:
        standardize(model, np.zeros((2, 5)))
    message = str(info.value)
    assert HAN.search(message) and "(2, 5)" in message and "(n, 4)" in message and "'features'" in message
    lab.language("es")
    with pytest.raises(ValueError, match=r"x tiene forma \(2, 5\), pero Input 'features' recibe arrays de forma"):
        standardize(model, np.zeros((2, 5)))
