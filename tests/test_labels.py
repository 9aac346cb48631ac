"""What the boxes say: a layer called twice, merges, blocks, and the colour legend (in both pictures)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import keras
import pytest
from keras import layers

from fapi_lab import _keras_adapter as adapter
from fapi_lab._layergraph import LayerGraph
from fapi_lab._render_dot import GraphOptions, NodeColours, dot_to_svg, label_rows, to_dot
from fapi_lab._render_layout import layout_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def twice() -> LayerGraph:
    """A weightless pooling layer and a Dense layer, each called on two sequences; a cosine Dot and an Add."""
    a, b = keras.Input((5, 4), name="a"), keras.Input((5, 4), name="b")
    pool = layers.GlobalAveragePooling1D(name="pool")
    dense = layers.Dense(4, name="proj")
    pa, pb = dense(pool(a)), dense(pool(b))
    cosine = layers.Dot(axes=1, normalize=True, name="cosine")([pa, pb])
    total = layers.Add(name="total")([pa, pb])
    return adapter.read(keras.Model([a, b], [cosine, total], name="twice"))


def texts(graph: LayerGraph, key: str) -> list[str]:
    return [r.text for r in label_rows(graph.node(key), GraphOptions(), None)]


def test_a_layer_without_weights_called_twice_is_not_said_to_share_weights(twice: LayerGraph) -> None:
    assert "called twice: call 1" in texts(twice, "pool") and "called twice: call 2" in texts(twice, "pool#1")
    assert not any("shared" in t for t in texts(twice, "pool") + texts(twice, "pool#1"))
    assert "call 2 of 2 · shared weights" in texts(twice, "proj#1")
    dot = to_dot(twice)
    assert dot.count('label=" same layer"') == 1 and dot.count('label=" same weights"') == 1
    svg = layout_svg(twice)
    assert "pool and pool#1: same layer" in svg and "proj and proj#1: same weights" in svg


def test_merge_labels_are_clean(twice: LayerGraph) -> None:
    assert texts(twice, "cosine")[1] == "Dot · cosine"
    assert texts(twice, "total")[1] == "+ Add"
    assert "· Dot" not in to_dot(twice) and "· Dot" not in layout_svg(twice)


def test_a_colour_legend_is_drawn_as_a_legend_in_both_pictures(twice: LayerGraph) -> None:
    fills = {"pool": "#fff7ec", "proj": "#fc8d59", "proj#1": "#7f0000", "cosine": "#fdd49e"}
    colours = NodeColours(fills=fills, legend="colour: gradient norm (log scale), from 1e-05 (pool, palest) to 2.1 "
                                              "(proj#1, darkest)")
    layout = layout_svg(twice, colours=colours)
    root = ET.fromstring(layout)
    (legend,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"]
    assert [r.get("fill") for r in legend.iter(f"{SVG}rect")] == ["#fff7ec", "#fdd49e", "#fc8d59", "#7f0000"]
    assert legend.find(f"{SVG}text").text == colours.legend
    dot = to_dot(twice, colours=colours)
    assert "⚠" not in dot and "⚠" not in layout
    assert dot.index('BGCOLOR="#fff7ec"') < dot.index('BGCOLOR="#7f0000"') and "gradient norm (log scale)" in dot
    if shutil.which("dot"):
        svg = dot_to_svg(dot)
        assert "gradient norm (log scale)" in svg and "#7f0000" in svg
