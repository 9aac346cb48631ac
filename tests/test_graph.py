"""lab.graph(): the drawn graph is Keras's own structure, for every kind of model a lesson uses."""

from __future__ import annotations

import base64
import html
import io
import os
import re
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import numpy as np
import pytest
import traitlets
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab
from fapi_lab import _keras_adapter as adapter
from fapi_lab._layergraph import flatten
from fapi_lab._render_dot import GraphOptions, skip_edges, to_dot
from tests.keras_reference import structure

GOLDEN = Path(__file__).with_name("golden")
UPDATE_GOLDEN = os.environ.get("FAPI_LAB_UPDATE_GOLDEN") == "1"


def assert_matches_keras(model: keras.Model, *, expand: bool) -> None:
    nodes, edges, inputs, outputs = structure(model.get_config(), expand=expand)
    g = flatten(adapter.read(model), None if expand else 0)
    assert set(g.keys) == nodes
    assert {(e.src, e.dst) for e in g.edges} == edges
    assert list(g.inputs) == [k for k, _ in inputs]
    assert list(g.outputs) == outputs
    assert len(g.keys) == len(set(g.keys)), "keys must be unique"


# -- small models that show each feature ---------------------------------------------------------------
def shared_model() -> keras.Model:
    a = keras.Input((None,), dtype="int32", name="text_a")
    b = keras.Input((None,), dtype="int32", name="text_b")
    emb = layers.Embedding(1000, 16, name="shared_embedding")
    lstm = layers.LSTM(8, name="shared_lstm")
    merged = layers.concatenate([lstm(emb(a)), lstm(emb(b))], name="merged")
    out = layers.Dense(1, activation="sigmoid", name="same")(merged)
    return keras.Model([a, b], out, name="siamese")


def nested_model() -> keras.Model:
    ei = keras.Input((6,), name="enc_in")
    encoder = keras.Model(ei, layers.Dense(3, name="code")(layers.Dense(4, name="enc_hidden")(ei)), name="encoder")
    di = keras.Input((3,), name="dec_in")
    decoder = keras.Model(di, layers.Dense(6, name="recon")(di), name="decoder")
    x = keras.Input((6,), name="img")
    return keras.Model(x, decoder(encoder(x)), name="autoencoder")


def test_shared_layer_calls_are_separate_nodes_sharing_weights() -> None:
    model = shared_model()
    assert_matches_keras(model, expand=False)
    g = adapter.read(model)
    emb, emb1 = g.node("shared_embedding"), g.node("shared_embedding#1")
    assert emb.layer.uid == emb1.layer.uid and emb.shared and emb1.call_index == 1
    assert emb.new_params == 16_000 and emb1.new_params == 0
    assert sum(n.new_params for n in g.nodes) == model.count_params()
    dot = to_dot(g)
    assert "same weights" in dot and "call 2 of 2" in dot


def test_nested_models_collapse_and_expand() -> None:
    model = nested_model()
    assert_matches_keras(model, expand=False)
    assert_matches_keras(model, expand=True)
    collapsed = flatten(adapter.read(model), 0)
    assert [n.kind for n in collapsed.nodes] == ["input", "model", "model"]
    expanded = flatten(adapter.read(model), None)
    assert expanded.keys == ("img", "encoder/enc_hidden", "encoder/code", "decoder/recon")
    assert expanded.node("encoder/code").path == ("encoder",)
    dot = to_dot(expanded)
    assert "cluster_" in dot and "nested model" in dot


def test_model_called_twice_and_inside_time_distributed() -> None:
    inner_in = keras.Input((784,), name="pixels")
    inner = keras.Model(inner_in, layers.Dense(10, name="classify")(inner_in), name="digit_model")
    seq = keras.Input((20, 784), name="sequence")
    a = keras.Input((784,), name="left")
    b = keras.Input((784,), name="right")
    td = layers.TimeDistributed(inner, name="per_step")(seq)
    out = layers.add([inner(a), inner(b)], name="sum")
    model = keras.Model([seq, a, b], [td, out], name="reuse")
    assert_matches_keras(model, expand=False)
    assert_matches_keras(model, expand=True)
    g = adapter.read(model)
    assert g.node("digit_model#1").reused and g.node("per_step").kind == "model"
    expanded = flatten(g, None)
    assert "digit_model#1/classify" in expanded.keys and "per_step/classify" in expanded.keys
    assert sum(n.new_params for n in expanded.nodes) == model.count_params()


def test_sequential_drawn_like_functional() -> None:
    model = keras.Sequential([keras.Input((784,), name="pixels"), layers.Dense(64, name="hidden"),
                              layers.Dense(10, name="logits")], name="seq_mlp")
    g = adapter.read(model)
    assert g.keys == ("pixels", "hidden", "logits")
    assert [(e.src, e.dst) for e in g.edges] == [("pixels", "hidden"), ("hidden", "logits")]


def test_unbuilt_sequential_gets_a_clear_message() -> None:
    with pytest.raises(ValueError, match=r"keras.Input\(shape=...\)"):
        lab.graph(keras.Sequential([layers.Dense(3)]))


def test_subclassed_model_is_one_box_with_a_reason() -> None:
    class TwoLayer(keras.Model):
        def __init__(self) -> None:
            super().__init__(name="two_layer")
            self.hidden = layers.Dense(4)

        def call(self, x):
            return self.hidden(x)

    view = lab.graph(TwoLayer())
    assert view.graph.subclassed and view.layer_keys == ("two_layer",)
    assert "no static graph" in view._notice.value and "Lesson 10" in view._notice.value


def test_ops_calls_are_nodes_not_dropped() -> None:
    x = keras.Input((4,), name="x")
    h = layers.Dense(4, name="dense")(x)
    y = keras.ops.multiply(h, 2.0)
    z = keras.ops.add(y, h)
    model = keras.Model(x, z, name="with_ops")
    assert_matches_keras(model, expand=False)
    g = adapter.read(model)
    assert [n.kind for n in g.nodes] == ["input", "layer", "op", "op"]
    assert "dashed" in to_dot(g)


def test_residual_edges_are_marked_as_skips() -> None:
    x = keras.Input((8, 8, 4), name="img")
    h = layers.Conv2D(4, 3, padding="same", name="conv_a")(x)
    h = layers.Conv2D(4, 3, padding="same", name="conv_b")(h)
    out = layers.add([h, x], name="residual")
    g = adapter.read(keras.Model(x, out, name="res"))
    assert skip_edges(g) == {("img", "residual")}
    assert g.node("residual").is_merge
    assert "skip (residual) connection" in to_dot(g)


def test_graph_of_a_symbolic_tensor_before_any_model_exists() -> None:
    x = keras.Input((784,), name="pixels")
    h = layers.Dense(64, activation="relu", name="hidden")(x)
    view = lab.graph(h)
    assert view.layer_keys == ("pixels", "hidden")
    out = layers.Dense(10, name="logits")(h)
    assert lab.graph([out]).layer_keys == ("pixels", "hidden", "logits")


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs a Keras model or a symbolic tensor"):
        lab.graph("not a model")
    with pytest.raises(TypeError, match="unknown graph option 'show_shape'"):
        lab.graph(nested_model(), show_shape=True)
    with pytest.raises(ValueError, match="direction must be"):
        GraphOptions(direction="BT")


def test_live_draws_as_layers_are_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fapi_lab._live.MIN_INTERVAL", 0.0)  # draw at every call (live throttles its drawing)
    monkeypatch.setattr("fapi_lab._live.SPACING", 0.0)
    seen = []
    with lab.live() as view:
        view.observe(lambda change: None, "selected")
        x = keras.Input((4,), name="pixels")
        seen.append(view.layer_keys)
        h = layers.Dense(3, name="hidden")(x)
        seen.append(view.layer_keys)
        layers.Dense(2, name="out")(h)
        seen.append(view.layer_keys)
    assert seen == [("pixels",), ("pixels", "hidden"), ("pixels", "hidden", "out")]
    # the listener is gone after the block
    layers.Dense(2, name="after")(h)
    assert view.layer_keys == ("pixels", "hidden", "out")


# -- the widget ----------------------------------------------------------------------------------------------
def test_selection_is_a_python_value_and_highlights_neighbours() -> None:
    view = lab.graph(shared_model())
    changes = []
    view.observe(lambda c: changes.append(c["new"]), "selected")
    view.select("shared_lstm#1")
    assert view.selected == "shared_lstm#1" and changes == ["shared_lstm#1"]
    ids = {k: f"n{i}" for i, k in enumerate(view.layer_keys)}
    assert view._canvas.inputs_of == [ids["shared_embedding#1"]]
    assert view._canvas.outputs_of == [ids["merged"]]
    assert f"#{ids['shared_lstm#1']} polygon" in view.to_svg()
    # a click in the browser sets the canvas trait; the view follows, and the drop-down too
    view._canvas.selected = "merged"
    assert view.selected == "merged" and view._dropdown.value == "merged"
    view._dropdown.value = "text_a"
    assert view.selected == "text_a"
    with pytest.raises(KeyError, match="Did you mean: shared_lstm"):
        view.select("shared_lstmm")


def test_option_toggles_redraw() -> None:
    view = lab.graph(nested_model())
    before = view._canvas.svg
    view.show_params = True
    assert view._canvas.svg != before and "params" in view._canvas.svg
    view.depth = -1
    assert "encoder/code" in view.layer_keys
    view.select("encoder/code")
    view.depth = 0
    assert view.selected == "encoder/code", "a selection inside a block that closes is kept"
    assert view._canvas.picture["located"]["encoder/code"] == "encoder"  # the canvas marks the encoder's box
    ids = {k: f"n{i}" for i, k in enumerate(view.layer_keys)}
    assert f"#{ids['encoder']} polygon" in view.to_svg()
    view.set_graph(adapter.read(shared_model()))
    assert view.selected == "", "a key the new graph does not have is cleared"
    view.set_graph(adapter.read(nested_model()))
    view.direction = "LR"
    assert "rankdir=LR" in view.to_dot()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_static_representation_for_saved_notebooks() -> None:
    """What a saved notebook keeps: a PNG shown at the picture's size (untrusted notebooks show no SVG)."""
    from PIL import Image

    from fapi_lab._pictures import PNG_SCALE, svg_size

    view = lab.graph(nested_model())
    view.select("encoder")
    bundle, metadata = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "text/html" not in bundle and "image/svg+xml" not in bundle, "a front end would prefer them to the PNG"
    assert bundle["text/plain"].startswith("GraphView('autoencoder'")
    png = base64.b64decode(bundle["image/png"])
    with Image.open(io.BytesIO(png)) as im:
        size = im.size
        rgb = np.asarray(im.convert("RGB")).astype(int)
    red = int(((rgb[..., 0] > 200) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)).sum())
    width, height = svg_size(view.to_svg())
    assert size == (pytest.approx(width * PNG_SCALE, abs=3), pytest.approx(height * PNG_SCALE, abs=3))
    assert metadata["image/png"] == {"width": round(width), "height": round(height)}
    assert red > 50, "the selection is drawn into the saved picture"


def test_static_representation_without_dot_keeps_the_svg_as_an_image(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    view = lab.graph(nested_model())
    bundle, metadata = view._repr_mimebundle_()
    assert "image/png" not in bundle and metadata == {}
    page = bundle["text/html"]
    assert "built-in layout" in page and "<svg" not in page, "the notice stays; the picture is an <img>"
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(data).decode() == bundle["image/svg+xml"] == view.to_svg()


def test_names_are_escaped_everywhere() -> None:
    evil = "<img src=x onerror=alert(1)>"
    x = keras.Input((3,), name="x")
    layer = layers.Dense(2, name="d")
    layer.name = evil  # Keras refuses such names in the constructor, but a renamed layer can carry one
    model = keras.Model(x, layer(x), name="evil")
    view = lab.graph(model)
    dot = view.to_dot()
    assert "<B>&lt;img src=x onerror=alert(1)&gt;</B>" in dot  # the label is escaped HTML text
    assert dot.count(evil) == dot.count(f'"{evil}"')  # anything else is a quoted DOT string
    for text in (view.to_svg(), view._canvas.svg, view._canvas.picture["svg"]):
        assert evil not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    ET.fromstring(view.to_svg())


def test_without_dot_the_builtin_layout_draws_with_a_notice(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    view = lab.graph(nested_model())
    assert "built-in layout" in view._notice.value and "graphviz" in view._notice.value
    root = ET.fromstring(view._canvas.svg)
    assert root.tag.endswith("svg")
    assert len(view._canvas.ids) == len(view.layer_keys)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_svg_node_ids_match_the_clickable_keys() -> None:
    view = lab.graph(shared_model())
    root = ET.fromstring(view._canvas.svg)
    ns = "{http://www.w3.org/2000/svg}"
    drawn = {g.get("id") for g in root.iter(f"{ns}g") if g.get("class") == "node"}
    assert drawn == set(view._canvas.ids)


# -- the canvas: folding, search, hover, selection inside closed blocks -----------------------------------------
def scoped_model(blocks: int = 14) -> keras.Model:
    """A model large enough for automatic blocks: ``b{i}_a``, ``b{i}_b``, ``b{i}_add`` name scopes."""
    x = inp = keras.Input((4,), name="features")
    for i in range(blocks):
        h = layers.Dense(4, name=f"b{i}_a")(x)
        h = layers.Dense(4, name=f"b{i}_b")(h)
        x = layers.add([x, h], name=f"b{i}_add")
    return keras.Model(inp, layers.Dense(1, name="score")(x), name="scoped")


def test_expand_and_collapse_a_nested_model_in_place() -> None:
    view = lab.graph(nested_model())
    assert view._canvas.picture["foldable"] == {"encoder": False, "decoder": False}
    view.expand("encoder")
    assert "encoder/enc_hidden" in view.layer_keys and "decoder" in view.layer_keys, "only the encoder opens"
    picture = view._canvas.picture
    assert picture["foldable"] == {"encoder": True, "decoder": False}
    assert set(picture["frames"].values()) == {"encoder"}
    assert f'id="{next(iter(picture["frames"]))}"' in picture["svg"], "the frame's id is in the picture"
    assert_matches_keras_partly = {(e.src, e.dst) for e in view.graph.edges}
    assert ("img", "encoder/enc_hidden") in assert_matches_keras_partly
    assert ("encoder/code", "decoder") in assert_matches_keras_partly
    view.collapse("encoder")
    assert view.layer_keys == ("img", "encoder", "decoder")
    view.depth = -1  # the global level decides again; a block can still be closed one by one
    view.collapse("decoder")
    assert "encoder/code" in view.layer_keys and "decoder" in view.layer_keys
    view.depth = 0
    assert view.layer_keys == ("img", "encoder", "decoder")
    with pytest.raises(KeyError, match=r"No nested model or block 'encodr'.*Did you mean: encoder"):
        view.expand("encodr")
    with pytest.raises(KeyError, match="No nested model or block 'img'"):
        view.collapse("img")


def test_a_click_on_a_badge_reaches_python_and_errors_stay_in_the_widget() -> None:
    view = lab.graph(nested_model())
    view._on_canvas_msg(view._canvas, {"type": "toggle", "key": "decoder"}, [])  # what the canvas sends
    assert view._canvas.picture["foldable"]["decoder"] is True
    view._on_canvas_msg(view._canvas, {"type": "toggle", "key": "decoder"}, [])
    assert view._canvas.picture["foldable"]["decoder"] is False
    view._on_canvas_msg(view._canvas, {"type": "toggle", "key": "gone"}, [])
    assert "Could not open or close 'gone': No nested model or block 'gone'" in html.unescape(view._notice.value)


def test_selecting_a_layer_inside_a_closed_block_opens_it() -> None:
    view = lab.graph(nested_model())
    view.select("encoder/code")
    assert view.selected == "encoder/code" and "encoder/code" in view.layer_keys
    assert view._dropdown.value == "encoder/code"
    with pytest.raises(KeyError, match="Did you mean: encoder/code"):
        view.select("encoder/cod")


def test_search_finds_layers_at_every_depth_by_name_or_class() -> None:
    view = lab.graph(nested_model())
    assert view.search("code") == ["encoder", "encoder/code", "decoder"]  # own names: not all of encoder/…
    assert view._canvas.search == "code"  # the canvas marks the encoder that holds it
    assert view.search("DENSE") == ["encoder/enc_hidden", "encoder/code", "decoder/recon"]
    assert view.search("  ") == []
    info = view._canvas.info
    assert info["encoder/code"][:2] == ["encoder/code", "Dense"]
    assert "out (None, 3)" in info["encoder/code"] and "15 params" in info["encoder/code"]
    assert info["encoder"][1] == "Functional (model) · 2 layers"


def test_automatic_blocks_fold_and_can_be_turned_off() -> None:
    model = scoped_model()
    view = lab.graph(model)
    blocks = [n.key for n in view.graph.nodes if n.kind == "group"]
    assert len(blocks) >= 10 and view._blocks.layout.display == ""
    view.expand(blocks[0])
    assert any(f.key == blocks[0] for f in view.graph.frames)
    assert view._canvas.picture["foldable"][blocks[0]] is True
    view.select("b5_b")  # inside a closed block: the block opens
    assert "b5_b" in view.layer_keys
    view.groups = None
    assert not any(n.kind == "group" for n in view.graph.nodes) and len(view.layer_keys) == len(model.layers)
    assert view._blocks.value is False and view._blocks.layout.display == "", "the box stays to turn them on"
    assert lab.graph(nested_model())._blocks.layout.display == "none", "small models have no blocks"
    with pytest.raises(traitlets.TraitError):
        lab.graph(model, groups="manual")


@st.composite
def fold_choices(draw: st.DrawFn) -> tuple[dict, int, list[int]]:
    return draw(recipes()), draw(st.sampled_from([0, 1, -1])), draw(st.lists(st.integers(0, 20), max_size=3))


@settings(settings.get_profile("graph"), max_examples=15)
@given(fold_choices())
def test_the_canvas_maps_match_the_picture_at_every_fold_state(choice: tuple[dict, int, list[int]]) -> None:
    """For random nested models, depths and blocks opened or closed one by one: every drawn node, frame and
    fold button the canvas is told about is in the SVG, every layer is either drawn or located in a drawn box,
    and the neighbours it marks are the graph's edges."""
    recipe, depth, toggles = choice
    view = lab.graph(build_from_recipe(recipe), depth=depth)
    for t in toggles:
        fold = view._canvas.picture["foldable"]
        if fold:
            key = sorted(fold)[t % len(fold)]
            (view.collapse if fold[key] else view.expand)(key)
        check_canvas_maps(view)


def check_canvas_maps(view: lab.GraphView) -> None:
    picture, shown = view._canvas.picture, view.graph
    root = ET.fromstring(picture["svg"])
    ns = "{http://www.w3.org/2000/svg}"
    drawn = {g.get("id"): g.get("class") for g in root.iter(f"{ns}g") if g.get("id")}
    assert {i for i, c in drawn.items() if c == "node"} == set(picture["ids"])
    assert set(picture["frames"]) <= {i for i, c in drawn.items() if c == "cluster"}
    keys = set(picture["ids"].values())
    for key, is_open in picture["foldable"].items():
        assert key in (set(picture["frames"].values()) if is_open else keys)
    everything = {n.key for n in view._graph.walk() if not (n.kind == "input" and "/" in n.key)}  # inner inputs
    # are never drawn
    assert everything <= keys | set(picture["located"]) | set(picture["frames"].values())
    assert set(picture["located"].values()) <= keys
    ids = {v: k for k, v in picture["ids"].items()}
    for key in keys:
        ins, outs = picture["neighbours"][ids[key]]
        assert {picture["ids"][i] for i in ins} == set(shown.predecessors(key))
        assert {picture["ids"][i] for i in outs} == set(shown.successors(key))


# -- the documents' models and keras.applications -------------------------------------------------------------
def builder_models() -> list[tuple[str, keras.Model]]:
    from fapi_lab import patterns

    found = []
    for name, build in patterns.BUILDERS.items():
        if name in {"vgg19_features", "siamese_vision"}:
            continue  # big; covered by the applications test below at a small size
        built = build()
        models = built if isinstance(built, tuple) else (built,)
        found += [(f"{name}[{i}]", m) for i, m in enumerate(models) if isinstance(m, keras.Model)]
    return found


def test_every_pattern_model_matches_keras_structure() -> None:
    checked = 0
    for name, model in builder_models():
        if adapter.read(model).subclassed:
            continue
        if isinstance(model, keras.Sequential):
            g = adapter.read(model)
            assert len(g.nodes) == len(model.layers) + 1, name
            continue
        assert_matches_keras(model, expand=False)
        if not any(layer_cfg["class_name"] == "Sequential" for layer_cfg in model.get_config()["layers"]):
            assert_matches_keras(model, expand=True)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("app", ["MobileNetV2", "ResNet50", "InceptionV3"])
def test_keras_applications_match(app: str) -> None:
    model = getattr(keras.applications, app)(weights=None)
    assert_matches_keras(model, expand=False)
    assert sum(n.new_params for n in adapter.read(model).nodes) == model.count_params()


def test_nested_application_matches_expanded() -> None:
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    a = keras.Input((96, 96, 3), name="left_image")
    b = keras.Input((96, 96, 3), name="right_image")
    pool = layers.GlobalAveragePooling2D(name="pool")
    merged = layers.concatenate([pool(base(a)), pool(base(b))], name="merged")
    model = keras.Model([a, b], layers.Dense(1, name="same")(merged), name="siamese_vision_small")
    assert_matches_keras(model, expand=False)
    assert_matches_keras(model, expand=True)


# -- random functional DAGs ------------------------------------------------------------------------------------
@st.composite
def recipes(draw: st.DrawFn) -> dict:
    n_inputs = draw(st.integers(1, 3))
    steps = draw(st.lists(st.tuples(st.sampled_from(["dense", "shared", "merge", "nested", "nested_again"]),
                                    st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=12))
    n_outputs = draw(st.integers(1, 3))
    return {"n_inputs": n_inputs, "steps": steps, "n_outputs": n_outputs}


def build_from_recipe(recipe: dict) -> keras.Model:
    width = 4
    inputs = [keras.Input((width,), name=f"in_{i}") for i in range(recipe["n_inputs"])]
    tensors = list(inputs)
    # every input is used, so the model is connected
    tensors = [layers.Dense(width, name=f"first_{i}")(t) for i, t in enumerate(inputs)]
    dense_layers: list[layers.Layer] = []
    inner_in = keras.Input((width,), name="inner_in")
    inner = keras.Model(inner_in, layers.Dense(width, name="inner_dense")(inner_in), name="inner_model")
    for i, (kind, a, b) in enumerate(recipe["steps"]):
        src = tensors[a % len(tensors)]
        if kind == "dense" or (kind == "shared" and not dense_layers):
            layer = layers.Dense(width, name=f"dense_{i}")
            dense_layers.append(layer)
            tensors.append(layer(src))
        elif kind == "shared":
            tensors.append(dense_layers[b % len(dense_layers)](src))
        elif kind == "merge":
            other = tensors[b % len(tensors)]
            merge = [layers.Add, layers.Multiply, layers.Average, layers.Maximum][b % 4]
            tensors.append(merge(name=f"merge_{i}")([src, other]))
        else:
            tensors.append(inner(src))
    outs = list(dict.fromkeys(tensors[-recipe["n_outputs"]:], None))
    return keras.Model(inputs, outs if len(outs) > 1 else outs[0], name="random_dag")


@settings(settings.get_profile("graph"), max_examples=25)
@given(recipes())
def test_random_dags_match_keras(recipe: dict) -> None:
    model = build_from_recipe(recipe)
    assert_matches_keras(model, expand=False)
    assert_matches_keras(model, expand=True)
    g = adapter.read(model)
    assert sum(n.new_params for n in flatten(g, None).nodes) == model.count_params()
    # reading the output tensors gives the model's graph less what does not lead to an output
    from_tensors = adapter.read(model.outputs)
    leads = set(g.output_keys)
    for n in reversed(g.nodes):
        if any(s in leads for s in g.successors(n.key)):
            leads.add(n.key)
    assert set(from_tensors.keys) == leads
    assert {(e.src, e.dst) for e in from_tensors.edges} == {(e.src, e.dst) for e in g.edges if e.dst in leads}


# -- golden DOT files of lesson models ------------------------------------------------------------------------
GOLDEN_MODELS = ["mnist_mlp", "nested_autoencoder", "ticket_model", "toy_resnet", "siamese_lstm"]


@pytest.mark.parametrize("name", GOLDEN_MODELS)
def test_golden_dot(name: str) -> None:
    from fapi_lab import patterns

    built = patterns.BUILDERS[name]()
    model = built[-1] if isinstance(built, tuple) else built
    dot = lab.graph(model, show_params=True).to_dot()
    path = GOLDEN / f"{name}.dot"
    if UPDATE_GOLDEN or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(dot)
        if not UPDATE_GOLDEN:
            pytest.fail(f"wrote missing golden file {path}; check it in and run again")
    assert dot == path.read_text(), f"DOT for {name} changed; if intended, rerun with FAPI_LAB_UPDATE_GOLDEN=1"


def test_ancestors_are_everything_a_call_is_computed_from() -> None:
    from fapi_lab._keras_adapter import read

    graph = read(lab.patterns.toy_resnet())
    assert graph.ancestors("img") == {"img"}
    assert graph.ancestors("block_2_output") >= {"img", "conv_1", "block_1_output", "block_2_conv_2"}
    assert "block_3_output" not in graph.ancestors("block_2_output")


# -- nested models and structured data (issue 15, class 4: the graph) ----------------------------------------------
class Pair(layers.Layer):
    """A layer that takes a list: a Sequential model starting with it cannot be traced from one input shape."""

    def call(self, inputs, training=None):
        return inputs[0] + inputs[1]


def test_a_sequential_run_without_a_graph_is_described_as_what_it_is() -> None:
    seq = keras.Sequential([layers.Concatenate(name="cat"), layers.Dense(2, name="d")], name="cat_seq")
    seq([np.ones((2, 3), "float32"), np.ones((2, 3), "float32")])  # called on data: built, but without a graph
    view = lab.graph(seq)
    with pytest.raises(ValueError) as shapes_error:
        lab.shapes(seq)
    with pytest.raises(ValueError) as values_error:
        lab.get_activations(seq, [np.ones((1, 3))] * 2)
    said = [view._notice.value, str(shapes_error.value), str(values_error.value)]
    for text in said:
        assert "Sequential model without a graph" in html.unescape(text) and "cat → d" in text
        assert "subclassed" not in text and "not called" not in text and "no input shape yet" not in text
    assert view.graph.nodes[0].kind == "nograph" and "no graph: Keras ran it layer by layer" in view.to_dot()
    nested_in = [keras.Input((3,), name="a"), keras.Input((3,), name="b")]
    inner = keras.Sequential([Pair(name="pair"), layers.Dense(2, name="dense")], name="pair_then_dense")
    model = keras.Model(nested_in, inner(nested_in), name="outer")
    node = adapter.read(model).node("pair_then_dense")
    assert node.kind == "nograph" and node.output_shapes == ((None, 2),)
    assert "subclassed" not in lab.graph(model).to_dot()
    assert set(lab.get_activations(model, [np.ones((1, 3), "float32")] * 2)) == {"a", "b", "pair_then_dense"}


def test_a_nested_model_that_returns_its_input_passes_the_tensor_through() -> None:
    i = keras.Input((3,), name="inner_in")
    identity = keras.Model(i, [i, layers.Dense(3, name="inner_dense")(i)], name="identity")
    x = keras.Input((3,), name="x")
    h = layers.Dense(3, name="d")(x)
    same, changed = identity(h)
    model = keras.Model(x, [layers.Dense(2, name="e")(same), changed, same], name="outer")
    assert_matches_keras(model, expand=False)
    assert_matches_keras(model, expand=True)
    expanded = flatten(adapter.read(model), None)
    assert {(e.src, e.dst) for e in expanded.edges} == {("x", "d"), ("d", "e"), ("d", "identity/inner_dense")}
    assert expanded.outputs == (("e", 0), ("identity/inner_dense", 0), ("d", 0))
    view = lab.graph(model, depth=None)
    assert view.layer_keys == ("x", "d", "identity/inner_dense", "e")
    acts = lab.get_activations(model, np.ones((2, 3), "float32"))
    np.testing.assert_allclose(acts["identity"][0], acts["d"])


@pytest.mark.parametrize("extra", ["zz_extra", "0_extra"])
def test_a_nested_model_given_a_dict_with_an_extra_field(extra: str) -> None:
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    inner = keras.Model({"left": a, "right": b}, layers.Subtract(name="diff")([a, b]), name="inner")
    p, q, r = (keras.Input((3,), name=n) for n in "pqr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that the structure does not match
        model = keras.Model([p, q, r], inner({"left": p, "right": q, extra: r}), name="outer")
        assert_matches_keras(model, expand=False)
        assert_matches_keras(model, expand=True)
        graph = adapter.read(model)
        roles = {e.src: e.role for e in graph.edges}
        x = [np.full((1, 3), v, "float32") for v in (1.0, 10.0, 100.0)]
        acts = lab.get_activations(model, x)
        want = np.asarray(model(x))
    expanded = flatten(graph, None)
    # Keras pairs the flattened dict (keys sorted) with the model's inputs in order: "0_extra" comes first
    fed = {e.src for e in expanded.edges if e.dst == "inner/diff"}
    if extra == "zz_extra":
        assert roles == {"p": "input", "q": "input", "r": "unused"} and fed == {"p", "q"}
    else:
        assert roles == {"r": "input", "p": "input", "q": "unused"} and fed == {"r", "p"}
    np.testing.assert_allclose(acts["inner/diff"], want)
    np.testing.assert_allclose(acts["inner"], want)


def test_a_mask_flows_into_a_nested_model() -> None:
    seq_in = keras.Input((4, 3), name="steps")
    encoder = keras.Model(seq_in, layers.LSTM(2, name="lstm")(seq_in), name="encoder")
    tokens = keras.Input((4,), dtype="int32", name="tokens")
    embedded = layers.Embedding(6, 3, mask_zero=True, name="embed")(tokens)
    model = keras.Model(tokens, encoder(embedded), name="masked")
    assert_matches_keras(model, expand=False)
    assert_matches_keras(model, expand=True)
    graph = adapter.read(model)
    mask_edges = [e for e in graph.edges if e.role == "mask"]
    assert [(e.src, e.dst) for e in mask_edges] == [("not_equal", "encoder")]
    assert graph.node("encoder").input_shapes == ((None, 4, 3),), "a mask is not an input"
    expanded = flatten(graph, None)
    assert {(e.src, e.dst, e.role) for e in expanded.edges if e.dst == "encoder/lstm"} == {
        ("embed", "encoder/lstm", "input"), ("not_equal", "encoder/lstm", "mask")}
    assert 'style="dotted"' in to_dot(expanded)
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], "int32")
    acts = lab.get_activations(model, x)
    want = np.asarray(model(x))
    np.testing.assert_allclose(acts["encoder/lstm"], want, rtol=1e-5, atol=1e-6)
    unmasked = np.asarray(encoder(acts["embed"]))  # the same values without their mask: a different answer
    assert not np.allclose(unmasked, want)
