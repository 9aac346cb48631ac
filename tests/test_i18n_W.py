"""Widget labels, legends, notices and the graph pictures' words follow ``lab.language`` (issue 17), at once."""

from __future__ import annotations

from collections.abc import Iterator

import keras
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab import _keras_adapter as adapter
from fapi_lab._graph_picture import hover_info
from fapi_lab._labels_text import canvas_labels, table_labels
from fapi_lab._layergraph import LayerGraph
from fapi_lab._loss_numbers import check_weight
from fapi_lab._render_dot import GraphOptions, label_rows


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    yield
    lab.language("en")


@pytest.fixture(scope="module")
def model() -> keras.Model:
    """One Dense layer called on two inputs (shared weights), added."""
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    proj = layers.Dense(3, name="proj")
    return keras.Model([a, b], layers.Add(name="total")([proj(a), proj(b)]), name="pair")


@pytest.fixture(scope="module")
def graph(model: keras.Model) -> LayerGraph:
    return adapter.read(model)


def rows(graph: LayerGraph, key: str) -> list[str]:
    return [r.text for r in label_rows(graph.node(key), GraphOptions(show_params=True), None)]


def test_box_labels_and_hover_cards_switch_language_and_back(graph: LayerGraph) -> None:
    assert "call 2 of 2 · shared weights" in rows(graph, "proj#1")
    lab.language("zh")
    assert "第 2 次调用（共 2 次）· 共享权重" in rows(graph, "proj#1")
    assert "输出 (None, 3)" in hover_info(graph)["proj#1"]
    lab.language("es")
    assert "llamada 2 de 2 · pesos compartidos" in rows(graph, "proj#1")
    assert "15 parámetros (compartidos)" in rows(graph, "proj#1")
    lab.language("en")
    assert "15 params (shared)" in rows(graph, "proj#1"), "English again, with nothing re-imported"


def test_the_canvas_and_table_words_sent_to_javascript_are_translated() -> None:
    lab.language("zh")
    assert canvas_labels()["search"] == "查找层或类" and table_labels()["output_shape"] == "输出形状"
    lab.language("es")
    assert canvas_labels()["no_match"] == "sin coincidencias" and canvas_labels()["nth"] == "{i} de {n}"
    lab.language("en")
    assert canvas_labels()["fit_all"] == "fit all"


def test_a_drawn_view_redraws_in_the_new_language(model: keras.Model) -> None:
    view = lab.graph(model)
    assert "same weights" in view.to_svg()
    lab.language("es")
    assert "mismos pesos" in view.to_svg(), "the picture cache is per language"
    fresh = lab.graph(model)
    assert fresh._toggles["show_shapes"].description == "formas"
    assert fresh._canvas.labels["search"] == "busca una capa o clase"


def test_a_bad_loss_weight_is_explained_in_the_students_language() -> None:
    lab.language("zh")
    with pytest.raises(ValueError, match="'head' 的权重必须是 >= 0 的有限数"):
        check_weight("head", -1.0)
