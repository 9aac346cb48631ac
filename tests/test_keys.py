"""Layer keys stay unique, and every renderer shows names as written, whatever people name their layers.

Keras accepts any string without ``/`` as a name (and a layer renamed afterwards may hold one): ``d#1`` beside the
second call of ``d``, ``''``, ``' '``, a zero-width space, markup such as ``<b>``, DOT's own escapes such as ``\\N``.
Hypothesis draws such names; Keras's serialised config is the oracle for the structure (``tests/keras_reference.py``
writes the key rule again, from its documentation), Keras's own run for the values, and the real ``dot`` program and
an XML parser for the pictures.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab
from fapi_lab import _keras_adapter as adapter
from fapi_lab._layergraph import LayerGraph, flatten
from fapi_lab._render_dot import dot_to_svg, node_ids, to_dot
from fapi_lab._render_layout import layout_svg
from tests.keras_reference import name_part, structure

LONG = os.environ.get("FAPI_LAB_HYPOTHESIS") == "long"
SVG, XLINK = "{http://www.w3.org/2000/svg}", "{http://www.w3.org/1999/xlink}"
SPECIAL = ["d", "d#1", "d#1~2", "' '", " ", "", "\u200b", "\u0301", "<b>", "<svg onload=alert(1)>",
           "<img src=x onerror=alert(1)>", "a\\N", "\\\\", "&amp;", '"', "n0", "encoder∕x", "\t", "~2", "#1"]
NAMES = st.one_of(st.sampled_from(SPECIAL), st.text(st.characters(exclude_characters="/"), max_size=8))


def shown(text: str) -> str:
    """Text as a reader sees it: dot writes runs of spaces with no-break spaces and we add invisible word joiners."""
    return text.replace("\xa0", " ").replace("\u2060", "")


def model_named(names: list[str], slash: bool) -> keras.Model:
    """An input, a Dense called twice (its second call is key ``name#1``), a chain of linear Activations and a nested
    model, every one of them named from ``names``; with ``slash``, one layer renamed afterwards to hold a ``/``."""
    x = keras.Input((2,), name=names[0])
    shared = layers.Dense(2, name=names[1])
    h = shared(x)
    chain = [layers.Activation("linear", name=n) for n in names[2:-2]]
    for layer in chain:
        h = layer(h)
    inner_in = keras.Input((2,), name=names[0])  # the same name one level down
    inner = keras.Model(inner_in, layers.Activation("tanh", name=names[1])(inner_in), name=names[-2])
    out = layers.Activation("linear", name=names[-1])(shared(inner(h)))
    if slash and chain:
        chain[0].name = chain[0].name + "/" + names[-1]
    return keras.Model(x, [out, h], name="keys")


def check_structure(model: keras.Model) -> LayerGraph:
    graph = adapter.read(model)
    config = model.get_config()
    for expand in (False, True):
        nodes, edges, inputs, outputs = structure(config, expand=expand)
        g = flatten(graph, None if expand else 0)
        assert len(set(g.keys)) == len(g.keys) == len(nodes), "one key per call, none shared"
        assert set(g.keys) == nodes
        assert {(e.src, e.dst) for e in g.edges} == edges
        assert all(e.src != e.dst for e in g.edges), "no call feeds itself"
        assert list(g.inputs) == [k for k, _ in inputs] and list(g.outputs) == outputs
        assert all(k.strip() and k.isprintable() for k in g.keys), "every key can be seen and typed"
    return graph


def check_values(model: keras.Model, graph: LayerGraph) -> None:
    x = np.array([[0.5, -1.0], [2.0, 0.25]], dtype="float32")
    acts = lab.get_activations(model, x)
    flat = flatten(graph, None)
    assert set(flat.keys) <= set(acts), "no activation is lost"
    for node in flat.nodes:  # a linear Activation hands on exactly what it is given
        if node.class_name == "Activation" and node.layer.activation is None:
            (src,) = flat.predecessors(node.key)
            np.testing.assert_allclose(acts[node.key], acts[src], err_msg=node.key)
    for (key, _), want in zip(flat.outputs, model(x), strict=True):
        np.testing.assert_allclose(acts[key], np.asarray(want), rtol=1e-5, atol=1e-6)


def check_pictures(model: keras.Model, graph: LayerGraph) -> None:
    for flat in (flatten(graph, 0), flatten(graph, None)):
        ids = node_ids(flat)
        local = {n.key: n.key.rsplit("/", 1)[-1] for n in flat.nodes}
        root = ET.fromstring(layout_svg(flat))
        drawn = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
        assert set(drawn) == set(ids.values())
        for key, node_id in ids.items():
            assert drawn[node_id].find(f"{SVG}title").text == key
            assert drawn[node_id].find(f"{SVG}text").text == local[key]
        if shutil.which("dot"):
            root = ET.fromstring(dot_to_svg(to_dot(flat)))
            drawn = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
            assert set(drawn) == set(ids.values())
            for key, node_id in ids.items():
                tooltip = drawn[node_id].find(f".//{SVG}a").get(f"{XLINK}title")
                assert shown(tooltip) == key and shown(drawn[node_id].find(f".//{SVG}text").text) == local[key]
    view = lab.graph(model, renderer="builtin", depth=None)
    assert [v for _, v in view._dropdown.options][1:] == list(view.layer_keys)
    for key in view.layer_keys:
        view.select(key)
        assert view.selected == key
    texts = _Texts()
    texts.feed(view._repr_mimebundle_()[0].get("image/svg+xml", view.to_svg()))  # the saved picture
    assert set(view.layer_keys) <= set(texts.found), "every key is shown as text, none read as markup"
    ours = {"div", "svg", "title", "g", "rect", "text", "path", "polygon", "polyline", "tspan", "style"}
    assert not texts.tags - ours, "no name is read as markup"


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.found.append(data)


@settings(settings.get_profile("graph"), max_examples=1000 if LONG else 80)
@given(st.lists(NAMES, min_size=4, max_size=7, unique=True), st.booleans())
def test_any_names_give_unique_keys_and_escaped_pictures(names: list[str], slash: bool) -> None:
    model = model_named(names, slash)
    graph = check_structure(model)
    for node in graph.nodes:  # a key is the name as shown, "#k" for a later call, "~n" only where taken
        assert node.key.startswith(name_part(node.layer.name))
    if not slash:  # Keras itself cannot run a layer whose name holds a "/" (its name scope refuses it)
        check_values(model, graph)
    check_pictures(model, graph)


def test_a_layer_named_like_a_second_call_keeps_its_own_key() -> None:
    x = keras.Input((3,), name="x")
    d = layers.Dense(3, name="d")
    named = layers.Dense(3, name="d#1")
    model = keras.Model(x, named(d(d(x))), name="issue_15")
    graph = check_structure(model)
    assert graph.keys == ("x", "d", "d#1~2", "d#1")
    assert [(e.src, e.dst) for e in graph.edges] == [("x", "d"), ("d", "d#1~2"), ("d#1~2", "d#1")]
    acts = lab.get_activations(model, np.ones((1, 3), "float32"))
    assert set(acts) == {"x", "d", "d#1~2", "d#1"}
    np.testing.assert_allclose(acts["d#1"], np.asarray(model(np.ones((1, 3), "float32"))))


def test_names_that_look_empty_are_shown_quoted() -> None:
    x = keras.Input((2,), name=" ")
    h = layers.Activation("linear", name="")(x)
    h = layers.Activation("linear", name="\u200b")(h)
    h = layers.Activation("linear", name="' '")(h)
    graph = check_structure(keras.Model(x, h))
    assert graph.keys == ("' '~2", "''", "'\\u200b'", "' '")


@pytest.mark.parametrize("name", ["a/b", "encoder/x"])
def test_a_slash_in_a_renamed_layer_is_not_a_nesting_level(name: str) -> None:
    inner_in = keras.Input((2,), name="inner_in")
    encoder = keras.Model(inner_in, layers.Activation("linear", name="x")(inner_in), name="encoder")
    x = keras.Input((2,), name="img")
    renamed = layers.Activation("linear", name="renamed")
    out = renamed(encoder(x))
    renamed.name = name
    graph = check_structure(keras.Model(x, out))
    expanded = flatten(graph, None)
    assert expanded.keys == ("img", "encoder/x", name.replace("/", "∕"))
    assert expanded.node(name.replace("/", "∕")).path == ()
