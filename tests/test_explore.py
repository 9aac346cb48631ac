"""lab.explore: graph, shape table and activations in one widget, linked by the selected layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import fapi_lab as lab
from fapi_lab import patterns
from fapi_lab._explore import TABLE_HEIGHT


def test_selection_is_shared_by_all_three_views() -> None:
    model = patterns.toy_resnet()
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    ex = lab.explore(model, x)
    ex.select("conv_2")
    assert ex.selected == "conv_2" and ex.shapes.selected == "conv_2" and ex.activations.selected == "conv_2"
    ex.shapes.select("block_2_output")  # choosing a table row moves the graph and the activation view
    assert ex.graph.selected == "block_2_output" and ex.activations.selected == "block_2_output"
    ex.graph._canvas.selected = "dense"  # a click in the browser
    assert ex.shapes.selected == "dense" and ex.activations.selected == "dense"
    bundle = ex._repr_mimebundle_()
    static = bundle["text/html"]
    assert '<img src="data:image/svg+xml;base64,' in static and "fapi-lab-shapes" in static, "kept untrusted"
    assert "<svg" not in static, "an untrusted notebook removes an inline <svg>"
    assert f"max-height:{TABLE_HEIGHT}px" in static and "why this shape" not in static, "the table is compact"


def test_the_table_in_the_explorer_is_compact_and_a_row_opens_the_block_that_holds_its_layer() -> None:
    from tests.test_folding import user_model

    model = user_model(5, 8)  # 45 layer calls: enc1 … enc5 are blocks
    ex = lab.explore(model)
    assert ex.shapes.compact and ex.shapes.max_height == TABLE_HEIGHT
    assert "enc3" in ex.graph.layer_keys and "enc3_dense4" not in ex.graph.layer_keys
    ex.shapes.selected = "enc3_dense4"  # a click on the row
    assert ex.graph.selected == "enc3_dense4" and "enc3_dense4" in ex.graph.layer_keys


def test_without_inputs_and_for_a_subclassed_model() -> None:
    ex = lab.explore(patterns.ticket_model())
    assert ex.activations is None and ex.shapes is not None
    sub = lab.explore(patterns.subclassed_mlp(), np.zeros((1, 32), "float32"))
    assert sub.shapes is None and sub.activations is None
    text = sub.children[1].value
    assert "subclassed" in text and "Activations are not shown" in text


@pytest.mark.filterwarnings("ignore:When providing `inputs` as a dict:UserWarning")  # keys unlike the Inputs
def test_structured_inputs_and_a_refusal_that_names_the_real_inputs() -> None:
    """x keyed like the model (not like its Inputs), with a rank-1 array for an input of shape (1,)."""
    amount, text = keras.Input((1,), name="input_amount"), keras.Input((4,), name="input_text")
    joined = keras.layers.Concatenate(name="joined")([amount, text])
    model = keras.Model({"amount": amount, "text": text}, keras.layers.Dense(2, name="score")(joined))
    x = {"amount": np.arange(3, dtype="float32"), "text": np.ones((3, 4), "float32")}
    ex = lab.explore(model, x)
    assert ex.activations is not None
    ex.select("joined")
    np.testing.assert_allclose(ex.activations.values(1)["joined"][0], [1, 1, 1, 1, 1])
    bad = lab.explore(model, {"input_amount": np.ones((3, 1)), "text": np.ones((3, 5))})
    assert bad.activations is None
    note = bad.children[1].value
    assert "x[&#x27;text&#x27;] has shape (3, 5)" in note and "Input &#x27;input_text&#x27;" in note
    assert "&#x27;amount&#x27;: &lt;(n, 1) for Input &#x27;input_amount&#x27;&gt;" in note
