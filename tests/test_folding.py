"""Folding (``_folding.fold``): nested models and automatic blocks opened or closed one by one, with Keras as the
oracle of the edges at every state.

The oracle: Keras's own serialised structure (``tests/keras_reference.py``) with the open nested models expanded
and the closed ones kept as one node (their inner layers removed from the config, so Keras's reading of the call
is left as it is), then every closed block contracted to one node: its members, and everything inside them, are
the block. The generated models are the recipes of ``tests/test_models_property.py``, their layers renamed in the
plain data (``a1_x3``, ``a2_x5``, ``b_x7`` …) so that name scopes make blocks, with the size threshold lowered.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import keras
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

from fapi_lab import _groups
from fapi_lab import _keras_adapter as adapter
from fapi_lab._folding import fold, foldable
from fapi_lab._groups import find_blocks, scopes
from fapi_lab._layergraph import LayerGraph, flatten
from fapi_lab._render_dot import GraphOptions, dot_to_svg, frame_ids, label_rows, to_dot
from fapi_lab._render_layout import layout_svg
from tests.keras_reference import structure
from tests.test_models_property import build, recipes

SVG = "{http://www.w3.org/2000/svg}"
LABELS = ("a1", "a2", "b", None)  # scopes given to generated layers: a1/a2 repeat one pattern, b stands alone
N_FOLDED = int(os.environ.get("FAPI_LAB_FOLDED", "100"))  # generated models (FAPI_LAB_FOLDED=1000 for a long run)


# -- the oracle -----------------------------------------------------------------------------------------------
def _chains(graph: LayerGraph, chain: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Key of every nested-model call -> the layer names leading to it (one decision per model, all its calls)."""
    found = {}
    for n in graph.nodes:
        if n.kind == "model" and n.subgraph is not None:
            found[n.key] = (*chain, n.layer.name)
            found.update(_chains(n.subgraph, found[n.key]))
    return found


def _close(config: dict[str, Any], opened: set[tuple[str, ...]], chain: tuple[str, ...] = ()) -> None:
    """Remove the inner layers of every nested model not in ``opened`` (the reference then keeps it one node)."""
    for layer in config.get("layers", []):
        inner = layer
        if inner.get("class_name") == "TimeDistributed":
            inner = inner.get("config", {}).get("layer", {})
        cfg = inner.get("config", {})
        if isinstance(cfg, dict) and "layers" in cfg:
            here = (*chain, layer.get("name") or layer["config"]["name"])
            if here in opened:
                _close(cfg, opened, here)
            else:
                del cfg["layers"]


def oracle(model: keras.Model, opened: set[tuple[str, ...]], closed_blocks: dict[str, set[str]],
           ) -> tuple[set[str], set[tuple[str, str]], list[str], list[str]]:
    config = copy.deepcopy(model.get_config())
    _close(config, opened)
    nodes, edges, inputs, outputs = structure(config, expand=True)
    owner = {m: b for b, members in closed_blocks.items() for m in members}

    def of(key: str) -> str:
        parts = key.split("/")
        for k in range(len(parts), 0, -1):  # a member, or anything inside a member
            if "/".join(parts[:k]) in owner:
                return owner["/".join(parts[:k])]
        return key

    contracted = {(of(a), of(b)) for a, b in edges if of(a) != of(b)}
    return {of(k) for k in nodes}, contracted, [of(k) for k, _ in inputs], [of(k) for k, _ in outputs]


def shown_as(graph: LayerGraph) -> tuple[set[str], set[tuple[str, str]], list[str], list[str]]:
    return set(graph.keys), {(e.src, e.dst) for e in graph.edges}, list(graph.inputs), [k for k, _ in graph.outputs]


def closed_blocks(shown: LayerGraph) -> dict[str, set[str]]:
    return {n.key: {m.key for m in n.subgraph.nodes} for n in shown.nodes if n.kind == "group"}


@contextlib.contextmanager
def small_blocks() -> Iterator[None]:
    """Blocks in graphs of any size, however few and small (the thresholds keep them out of small models)."""
    saved = _groups.MIN_LAYERS, _groups.MIN_BLOCKS, _groups.MIN_MEMBERS
    _groups.MIN_LAYERS = _groups.MIN_BLOCKS = _groups.MIN_MEMBERS = 1
    try:
        yield
    finally:
        _groups.MIN_LAYERS, _groups.MIN_BLOCKS, _groups.MIN_MEMBERS = saved


def renamed(graph: LayerGraph, labels: list[str | None]) -> LayerGraph:
    """The graph with each layer (by weights: every call alike) renamed into a scope; nested models get names
    without a scope (a model is never a block member here: an expanded identity model has no node to contract)."""
    uids = list(dict.fromkeys(n.layer.uid for n in graph.walk()))
    names = {}
    for i, uid in enumerate(uids):
        label = labels[i % len(labels)]
        names[uid] = f"{label}_x{i}" if label else f"plain{i}"

    def go(g: LayerGraph) -> LayerGraph:
        nodes = []
        for n in g.nodes:
            name = f"model{uids.index(n.layer.uid)}" if n.kind == "model" else names[n.layer.uid]
            nodes.append(replace(n, layer=replace(n.layer, name=name),
                                 subgraph=go(n.subgraph) if n.subgraph is not None else None))
        return replace(g, nodes=tuple(nodes))

    return go(graph)


# -- generated models at every folding state ----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(settings.get_profile("graph"), max_examples=N_FOLDED)
@given(recipes(), st.data())
def test_folded_edges_are_kerass_edges_with_closed_blocks_contracted(recipe: dict[str, Any], data: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built, _ = build(recipe)
    model = built.model
    read = adapter.read(model)
    chains = _chains(read)  # by the layers' own names, as Keras's config has them
    graph = renamed(read, data.draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=8)))
    decisions = {c: data.draw(st.booleans()) for c in sorted(set(chains.values()))}
    expanded = frozenset(k for k, c in chains.items() if decisions[c])
    collapsed = frozenset(k for k, c in chains.items() if not decisions[c])
    prefixes = ["", *(k + "/" for k in chains)]
    open_labels = data.draw(st.sets(st.sampled_from(("a1", "a2", "b"))))
    open_blocks = frozenset(p + label for p in prefixes for label in open_labels)
    opened = {c for c, yes in decisions.items() if yes}
    with small_blocks():
        shown = fold(graph, depth=0, expanded=expanded | open_blocks, collapsed=collapsed)
        everything = fold(graph, depth=None, collapsed=collapsed | (frozenset(
            p + label for p in prefixes for label in LABELS if label) - open_blocks))
        ungrouped = fold(graph, depth=0, groups=None, expanded=expanded, collapsed=collapsed)
    assert len(set(shown.keys)) == len(shown.keys), "keys are unique"
    assert shown_as(shown) == oracle(model, opened, closed_blocks(shown))
    assert shown_as(everything) == shown_as(shown), "depth=None with the same closed ones is the same picture"
    assert shown_as(ungrouped) == oracle(model, opened, {})
    for block, members in closed_blocks(shown).items():
        name = shown.node(block).layer.name
        assert all(graph_name(graph, m).startswith(name + "_") for m in members)
        assert block not in {n.key for n in graph.walk()}, "a block's key is never a layer's"
    # what the canvas is told: every container once, open ones as frames with an id in both pictures
    state = foldable(shown)
    assert {k for k, v in state.items() if v} == {k for n in shown.nodes for k in n.path}
    assert {k for k, v in state.items() if not v} == {n.key for n in shown.nodes if n.kind == "group"} | {
        n.key for n in shown.nodes if n.kind == "model" and n.subgraph is not None}
    fids = frame_ids(shown)
    root = ET.fromstring(layout_svg(shown))
    drawn = {g.get("id"): g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"}
    assert drawn == {v: k for k, v in fids.items()}


def graph_name(graph: LayerGraph, key: str) -> str:
    return next(n.layer.name for n in graph.walk() if n.key == key)


def test_a_nested_call_opens_alone_and_a_closed_one_inside_an_open_one_stays_closed() -> None:
    ei = keras.Input((4,), name="e_in")
    inner = keras.Model(ei, layers.Dense(4, name="core")(ei), name="inner")
    oi = keras.Input((4,), name="o_in")
    outer = keras.Model(oi, inner(layers.Dense(4, name="pre")(oi)), name="outer")
    x = keras.Input((4,), name="x")
    model = keras.Model(x, outer(outer(x)), name="twice")
    graph = adapter.read(model)
    assert set(fold(graph).keys) == {"x", "outer", "outer#1"}
    one = fold(graph, expanded=frozenset({"outer#1"}))
    assert set(one.keys) == {"x", "outer", "outer#1/pre", "outer#1/inner"}
    assert ("outer", "outer#1/pre") in {(e.src, e.dst) for e in one.edges}
    assert foldable(one) == {"outer": False, "outer#1": True, "outer#1/inner": False}
    both = fold(graph, expanded=frozenset({"outer#1", "outer#1/inner"}))
    assert set(both.keys) == {"x", "outer", "outer#1/pre", "outer#1/inner/core"}
    assert set(fold(graph, depth=None, collapsed=frozenset({"outer#1/inner"})).keys) == {
        "outer/pre", "outer/inner/core", "outer#1/pre", "outer#1/inner", "x"}
    assert fold(graph, depth=None, collapsed=frozenset({"outer"}), expanded=frozenset({"outer"})).node("outer")
    with pytest.raises(ValueError, match="groups must be 'auto'"):
        fold(graph, groups="yes")


# -- keras.applications: the blocks people expect -------------------------------------------------------------
@pytest.fixture(scope="module")
def applications() -> dict[str, keras.Model]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: getattr(keras.applications, name)(weights=None)
                for name in ("ResNet50", "MobileNetV2", "EfficientNetB0", "ConvNeXtTiny")}


EXPECTED = {  # blocks found, in order (first, last, count), and the boxes the model opens as
    "ResNet50": (["conv1", "pool1", "conv2_block1"], "conv5_block3", 18, 21),
    "MobileNetV2": (["expanded_conv", "block_1"], "block_16", 17, 26),
    "EfficientNetB0": (["stem", "block1a", "block2a"], "block7a", 17, 26),
    "ConvNeXtTiny": (["convnext_tiny_stage_0_block_0"], "convnext_tiny_head", 19, 43),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_applications_open_as_their_blocks(applications: dict[str, keras.Model], name: str) -> None:
    model = applications[name]
    graph = adapter.read(model)
    blocks = find_blocks(graph, {n.key for n in graph.walk()})
    first, last, count, boxes = EXPECTED[name]
    assert [b.name for b in blocks][: len(first)] == first and blocks[-1].name == last and len(blocks) == count
    shown = fold(graph)
    assert len(shown.nodes) == boxes
    assert shown_as(shown) == oracle(model, set(), closed_blocks(shown))
    # open one block, then every block: Keras's edges, none lost inside
    one = fold(graph, expanded=frozenset({blocks[1].key}))
    assert shown_as(one) == oracle(model, set(), closed_blocks(one))
    assert {k for k, v in foldable(one).items() if v} == {blocks[1].key}
    assert shown_as(fold(graph, groups=None)) == oracle(model, set(), {})
    assert shown_as(fold(graph, depth=None)) == oracle(model, {(n.layer.name,) for n in graph.nodes
                                                               if n.kind == "model"}, {})


def test_resnet50_blocks_are_its_residual_blocks(applications: dict[str, keras.Model]) -> None:
    graph = adapter.read(applications["ResNet50"])
    shown = fold(graph)
    block = shown.node("conv2_block1")
    assert block.kind == "group" and block.class_name == "Block"
    assert block.input_shapes == ((None, 56, 56, 64),) and block.output_shapes == ((None, 56, 56, 256),)
    members = [n for n in graph.nodes if n.layer.name.startswith("conv2_block1_")]
    assert block.layer.params == sum(n.layer.params for n in members)
    assert [r.text for r in label_rows(block, GraphOptions(), None)][:2] == [
        "conv2_block1", "⊞ block · 12 layers · 76.9k params"]
    assert sum(n.layer.params for n in shown.nodes) == applications["ResNet50"].count_params()


def test_pictures_draw_closed_blocks_as_boxes_and_open_ones_as_frames(applications: dict[str, keras.Model]) -> None:
    graph = adapter.read(applications["ResNet50"])
    shown = fold(graph, expanded=frozenset({"conv3_block2"}))
    fids = frame_ids(shown)
    assert fids == {"conv3_block2": "f0"}
    layout = layout_svg(shown)
    assert re.findall(r'<g class="cluster" id="(f\d+)"><title>([^<]+)</title>', layout) == [("f0", "conv3_block2")]
    assert "⊟ conv3_block2" in layout and "block · 10 layers" in layout and "⊞ block · 12 layers" in layout
    dot = to_dot(shown)
    assert "subgraph cluster_f0 {" in dot and 'id="f0"' in dot
    text = dot_to_svg(dot)
    svg = ET.fromstring(text)
    frames = {g.get("id"): g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"}
    assert frames == {"f0": "cluster_f0"} and 'xlink:title="conv3_block2"' in text, "the frame's id and its key"


# -- small models never get blocks; keys never collide -------------------------------------------------------
SLOW_BUILDERS = ("siamese_vision", "vgg19_features")  # Xception and VGG19 inside: 3 s to build, checked below


def test_the_lessons_models_get_no_blocks() -> None:
    """Every lesson model is drawn as before (at the depth the lessons use, and expanded): no level of theirs has
    40 layer calls. (The two slow builders: VGG19's 25 calls are under the threshold by the same rule, and
    siamese_vision's Xception is one closed box at depth 0, its 131 calls grouped only when opened.)"""
    from fapi_lab import patterns

    for name, builder in patterns.BUILDERS.items():
        if name in SLOW_BUILDERS:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = builder()
        model = built[-1] if isinstance(built, tuple) else built
        if not isinstance(model, keras.Model):
            continue
        graph = adapter.read(model)
        for depth in (0, None):
            shown, flat = fold(graph, depth=depth), flatten(graph, depth)
            assert not any(n.kind == "group" for n in shown.nodes), name
            assert not any(f.kind == "group" for f in shown.frames), name
            assert shown.keys == flat.keys and shown.edges == flat.edges, name


def user_model(n_blocks: int, per_block: int, *, clash: bool = False) -> keras.Model:
    x = keras.Input((4,), name="pixels")
    h = layers.Dense(4, name="enc1")(x) if clash else x  # a layer named like the first block
    for b in range(1, n_blocks + 1):
        start = h
        for i in range(per_block):
            h = layers.Dense(4, name=f"enc{b}_dense{i}")(h)
        h = layers.Add(name=f"enc{b}_add")([start, h])
    return keras.Model(x, layers.Dense(2, name="head")(h), name="user")


def test_a_shared_prefix_in_a_user_model_makes_blocks_and_block_keys_never_take_a_layers_key() -> None:
    model = user_model(5, 8, clash=True)
    graph = adapter.read(model)
    shown = fold(graph)
    assert [n.key for n in shown.nodes] == ["pixels", "enc1", "enc1~block", "enc2", "enc3", "enc4", "enc5", "head"]
    assert shown.node("enc1~block").layer.name == "enc1" and shown.node("enc1").kind == "layer"
    assert shown_as(shown) == oracle(model, set(), closed_blocks(shown))
    assert fold(adapter.read(user_model(3, 4))).keys == flatten(adapter.read(user_model(3, 4))).keys, "under 40"


def test_scopes_of_a_name() -> None:
    assert scopes("conv2_block1_1_conv") == [("conv2",), ("conv2", "block1"), ("conv2", "block1", "1")]
    assert scopes("dense_3") == [] and scopes("Conv1") == [] and scopes("block_1_expand") == [("block",),
                                                                                              ("block", "1")]
