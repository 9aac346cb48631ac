"""lab.explore: graph, shape table and activations in one widget, linked by the selected layer."""

from __future__ import annotations

import numpy as np

import fapi_lab as lab
from fapi_lab import patterns


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
    assert "<svg" in bundle["text/html"] and "fapi-lab-shapes" in bundle["text/html"]


def test_without_inputs_and_for_a_subclassed_model() -> None:
    ex = lab.explore(patterns.ticket_model())
    assert ex.activations is None and ex.shapes is not None
    sub = lab.explore(patterns.subclassed_mlp(), np.zeros((1, 32), "float32"))
    assert sub.shapes is None and sub.activations is None
    text = sub.children[1].value
    assert "subclassed" in text and "Activations are not shown" in text
