"""The built-in layout (no Graphviz): readable, same node ids as the DOT picture, never overlapping."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import keras
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

from fapi_lab import _keras_adapter as adapter
from fapi_lab import patterns
from fapi_lab._layergraph import Edge, LayerGraph, LayerInfo, Node, flatten
from fapi_lab._render_dot import GraphOptions, node_ids
from fapi_lab._render_layout import layout_svg

NS = "{http://www.w3.org/2000/svg}"


def boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """node id -> (x0, y0, x1, y1) of its main rectangle."""
    root = ET.fromstring(svg)
    found = {}
    for g in root.iter(f"{NS}g"):
        if g.get("class") == "node":
            rects = list(g.iter(f"{NS}rect"))
            main = rects[1] if len(rects) > 1 and rects[0].get("stroke-width") == "1" else rects[0]
            x, y, w, h = (float(main.get(a)) for a in ("x", "y", "width", "height"))
            found[g.get("id")] = (x, y, x + w, y + h)
    return found


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


MODELS = {
    "toy_resnet": lambda: patterns.toy_resnet(),
    "ticket_model": lambda: patterns.ticket_model(),
    "siamese_lstm": lambda: patterns.siamese_lstm(),
    "nested_autoencoder": lambda: patterns.nested_autoencoder()[-1],
    "inception_module": lambda: patterns.inception_module(),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_layout_is_valid_and_readable(name: str, direction: str) -> None:
    graph = flatten(adapter.read(MODELS[name]()), None)
    svg = layout_svg(graph, GraphOptions(direction=direction))
    found = boxes(svg)
    ids = node_ids(graph)
    assert set(found) == set(ids.values())
    titles = {g.get("id"): g.find(f"{NS}title").text for g in ET.fromstring(svg).iter(f"{NS}g")
              if g.get("class") == "node"}
    assert titles == {v: k for k, v in ids.items()}
    rects = list(found.values())
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not overlap(a, b)
    for e in graph.edges:  # every arrow goes downwards (TB) or rightwards (LR)
        a, b = found[ids[e.src]], found[ids[e.dst]]
        if direction == "TB":
            assert a[3] <= b[1]
        else:
            assert a[2] <= b[0]


def test_residual_skips_and_shared_weights_are_drawn() -> None:
    svg = layout_svg(adapter.read(patterns.toy_resnet()))
    assert svg.count("skip (residual) connection") == 2 and "#ea580c" in svg
    shared = layout_svg(adapter.read(patterns.siamese_lstm()))
    assert "same weights" in shared


def test_frames_for_expanded_nested_models() -> None:
    svg = layout_svg(flatten(adapter.read(patterns.nested_autoencoder()[-1]), None))
    assert re.findall(r'<g class="cluster" id="(f\d+)"><title>(\w+)</title>', svg) == [("f0", "encoder"),
                                                                                      ("f1", "decoder")]


def test_names_are_escaped() -> None:
    x = keras.Input((3,), name="x")
    layer = layers.Dense(2, name="d")
    layer.name = "<img src=x onerror=alert(1)>"
    svg = layout_svg(adapter.read(keras.Model(x, layer(x), name="evil")))
    assert "<img" not in svg and "&lt;img src=x onerror=alert(1)&gt;" in svg
    ET.fromstring(svg)


def test_a_thousand_nodes_render() -> None:
    nodes = [Node(key="in", layer=LayerInfo(uid=0, name="in", class_name="InputLayer"), kind="input",
                  output_shapes=((None, 4),))]
    edges = []
    for i in range(999):
        key = f"dense_{i}"
        nodes.append(Node(key=key, layer=LayerInfo(uid=i + 2, name=key, class_name="Dense", params=20),
                          kind="layer", output_shapes=((None, 4),)))
        edges.append(Edge(nodes[-2].key, key))
        if i % 3 == 2:
            edges.append(Edge(nodes[-4].key, key))  # a skip every third layer
    graph = LayerGraph("big", tuple(nodes), tuple(edges), ("in",), ((nodes[-1].key, 0),))
    svg = layout_svg(graph)
    assert len(boxes(svg)) == 1000


# -- every DAG is drawn: generated graphs, from chains to "each layer adds all earlier outputs" ----------------------
LONG = os.environ.get("FAPI_LAB_HYPOTHESIS") == "long"


@st.composite
def plain_dags(draw: st.DrawFn) -> tuple[LayerGraph, str]:
    """A LayerGraph as plain data: any DAG over n calls (dense ones too), some of them shared, masked or nested."""
    n = draw(st.integers(1, 22))
    density = draw(st.sampled_from(["chain", "sparse", "half", "all"]))
    pairs = [(i, j) for j in range(1, n) for i in range(j)]
    if density == "all":
        chosen = pairs
    elif density == "chain":
        chosen = [(j - 1, j) for j in range(1, n)]
    else:
        flags = draw(st.lists(st.booleans() if density == "half" else st.sampled_from([True] + [False] * 5),
                              min_size=len(pairs), max_size=len(pairs)))
        chosen = [p for p, keep in zip(pairs, flags, strict=True) if keep]
    frames = [(), ("enc",), ("enc", "inner"), ("dec",)]
    paths = draw(st.lists(st.sampled_from(frames), min_size=n, max_size=n))
    uids = draw(st.lists(st.integers(0, max(0, n - 1)), min_size=n, max_size=n))
    roles = draw(st.lists(st.sampled_from(["input"] * 6 + ["mask", "unused"]), min_size=len(chosen),
                          max_size=len(chosen)))
    fed = {j for _, j in chosen}
    calls: dict[int, int] = {}
    nodes = []
    for i in range(n):
        uid = i if i not in fed else uids[i]
        calls[uid] = calls.get(uid, 0) + 1
    seen: dict[int, int] = {}
    for i in range(n):
        uid = i if i not in fed else uids[i]
        k = seen.get(uid, 0)
        seen[uid] = k + 1
        name = f"layer{uid}"
        kind = "input" if i not in fed else "model" if i % 7 == 3 else "layer"
        nodes.append(Node(key=name if k == 0 else f"{name}#{k}", path=paths[i] if i in fed else (),
                          layer=LayerInfo(uid=uid, name=name, class_name="Add" if i % 3 == 0 else "Dense"),
                          kind=kind, call_index=k, n_calls=calls[uid], output_shapes=((None, 4),)))
    keys = [node.key for node in nodes]
    edges = tuple(Edge(keys[i], keys[j], 0, k, (None, 4), "float32", role)
                  for k, ((i, j), role) in enumerate(zip(chosen, roles, strict=True)))
    graph = LayerGraph("generated", tuple(nodes), edges, tuple(keys[i] for i in range(n) if i not in fed),
                       ((keys[-1], 0),))
    return graph, draw(st.sampled_from(["TB", "LR"]))


@settings(settings.get_profile("graph"), max_examples=2000 if LONG else 200)
@given(plain_dags())
def test_every_dag_is_drawn(case: tuple[LayerGraph, str]) -> None:
    graph, direction = case
    svg = layout_svg(graph, GraphOptions(direction=direction))
    root = ET.fromstring(svg)
    found = boxes(svg)
    ids = node_ids(graph)
    assert set(found) == set(ids.values())
    rects = list(found.values())
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not overlap(a, b)
    drawn = [g for g in root.iter(f"{NS}g") if (g.get("class") or "").startswith("edge")
             and "shared" not in g.get("class")]
    assert len(drawn) == len(set(graph.edges)), "every edge is drawn once"
    for e in graph.edges:  # every arrow goes downwards (TB) or rightwards (LR)
        a, b = found[ids[e.src]], found[ids[e.dst]]
        assert a[3] <= b[1] if direction == "TB" else a[2] <= b[0]
