"""lab.get_activations / lab.activations / lab.gradients: the numbers equal Keras's own, for every kind of model."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

import fapi_lab as lab
from fapi_lab import patterns
from fapi_lab._keras_adapter import read
from fapi_lab._layergraph import flatten


def small_models() -> list[tuple[str, keras.Model]]:
    found = []
    for name, build in patterns.BUILDERS.items():
        if name in {"vgg19_features"}:
            built = build(input_shape=(32, 32, 3))
        elif name == "siamese_vision":
            built = build(input_shape=(71, 71, 3))
        else:
            built = build()
        model = built[-1] if isinstance(built, tuple) else built
        if isinstance(model, keras.Model) and not read(model).subclassed:
            found.append((name, model))
    return found


def test_every_layer_equals_a_keras_sub_model_for_every_pattern() -> None:
    for name, model in small_models():
        x = patterns.example_inputs(model, batch_size=2)
        acts = lab.get_activations(model, x)
        keys = set(flatten(read(model), None).keys)
        assert keys <= set(acts), (name, keys - set(acts))
        for layer in model.layers:
            if isinstance(layer, keras.Model) or layer.name not in acts or f"{layer.name}#1" in acts:
                continue
            try:
                output = layer.output
            except (AttributeError, ValueError):
                continue
            sub = keras.Model(model.inputs, output)
            expected = sub(x, training=False)
            got = acts[layer.name]
            np.testing.assert_allclose(got if not isinstance(got, list) else got[0], np.asarray(expected),
                                       rtol=1e-4, atol=1e-5, err_msg=f"{name}/{layer.name}")


def test_nested_layers_equal_the_nested_models_own_sub_model() -> None:
    encoder, _decoder, autoencoder = patterns.nested_autoencoder()
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    acts = lab.get_activations(autoencoder, x)
    inner = keras.Model(encoder.inputs, encoder.get_layer("conv2d_2").output)
    np.testing.assert_allclose(acts["encoder/conv2d_2"], np.asarray(inner(x)), rtol=1e-5, atol=1e-6)
    assert "encoder/original_img" not in acts  # an inner input is the outer tensor that reached it


def test_shared_layer_calls_and_time_distributed() -> None:
    model = patterns.siamese_lstm(compiled=False)
    x = patterns.example_inputs(model, batch_size=2)
    acts = lab.get_activations(model, x, layers=["lstm", "lstm#1"])
    lstm = model.get_layer("lstm")
    np.testing.assert_allclose(acts["lstm"], np.asarray(lstm(x["left"])), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(acts["lstm#1"], np.asarray(lstm(x["right"])), rtol=1e-5, atol=1e-6)
    td = patterns.time_distributed()
    xt = patterns.example_inputs(td, batch_size=2)
    acts = lab.get_activations(td, xt)
    assert acts["per_frame/dense_1"].shape == (2, 20, 64)


def test_bad_input_gets_clear_messages() -> None:
    model = patterns.ticket_model()
    with pytest.raises(ValueError, match=r"x\['tags'\] has shape \(1, 3\), but Input 'tags' takes arrays of shape "
                                         r"\(n, 12\): axis 1 must be 12\. The model takes x = \[<\(n, None\) for "
                                         r"Input 'title'>, .*or a dict keyed by the Input names 'title', 'body', "
                                         r"'tags'"):
        lab.get_activations(model, {"title": np.zeros((1, 5)), "body": np.zeros((1, 5)), "tags": np.zeros((1, 3))})
    with pytest.raises(ValueError, match="x holds 1 array"):
        lab.get_activations(model, [np.zeros((1, 5))])
    with pytest.raises(ValueError, match=r"x\[1\] is None, but Input 'body' is not optional"):
        lab.get_activations(model, [np.zeros((1, 5)), None, np.zeros((1, 12))])
    with pytest.raises(KeyError, match="did you mean title_lstm"):
        lab.get_activations(model, patterns.example_inputs(model), layers=["title_lstn"])
    with pytest.raises(ValueError, match="only the final output is available"):
        lab.get_activations(patterns.subclassed_mlp(), np.zeros((1, 32)))


def test_viewer_switches_layer_sample_page_and_compares() -> None:
    model = patterns.toy_resnet()
    x = np.random.default_rng(0).random((3, 32, 32, 3)).astype("float32")
    viewer = lab.activations(model, x)
    viewer.select("conv_2")  # 64 channels: four pages of 16
    assert viewer._image.value[:4] == b"\x89PNG" and viewer._page.max == 3
    assert "exactly zero" in viewer._info.value and "channels 0–15 of 64" in viewer._info.value
    viewer._page.value = 2
    assert "channels 32–47" in viewer._info.value
    viewer._sample.value = 1
    viewer._compare_with.value = 2
    assert viewer._image_b.layout.display == "" and viewer._image_d.layout.display == ""
    viewer.select("predictions")  # a vector: bars
    assert "<div title='0:" in viewer._info.value
    assert set(viewer._cache) == {0, 1, 2}  # only the samples that were looked at
    graph = lab.graph(model)
    lab.link_selection(viewer, graph)
    graph.select("block_2_output")
    assert viewer.selected == "block_2_output"


def test_gradient_norms_match_a_gradient_tape() -> None:
    model = patterns.deep_plain_stack(depth=6)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 16)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    norms = lab.gradients(model, x, y, loss="mse")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.mean_squared_error(y, model(x, training=True)))
    grads = tape.gradient(loss, model.trainable_weights)
    for layer in ["stem", "dense_1", "dense_6", "output"]:
        expected = np.sqrt(sum(float(tf.reduce_sum(g ** 2)) for w, g in zip(model.trainable_weights, grads,
                                                                              strict=True)
                               if w.path.split("/")[0] == layer))
        assert norms[layer]["weights"] == pytest.approx(expected, rel=1e-4)
    assert norms["dense_1"]["weights"] < norms["dense_6"]["weights"]  # vanishing with depth


def test_gradients_need_a_loss_and_live_graph_colours_the_graph() -> None:
    model = patterns.deep_residual_stack(depth=3)
    x = np.random.default_rng(0).normal(size=(32, 16)).astype("float32")
    y = np.zeros((32, 1), "float32")
    with pytest.raises(ValueError, match="not compiled"):
        lab.gradients(model, x, y)
    model.compile(optimizer="sgd", loss="mse")
    view = lab.graph(model)
    viewer = lab.activations(model, x[:2])
    before = viewer.values(0)["dense_1"][0].copy()
    callback = lab.LiveGraph(view, x, y, viewer=viewer)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert len(callback.history) == 2 and "weight-gradient norm after epoch 2" in view._notice.value
    assert not np.allclose(viewer.values(0)["dense_1"][0], before)  # the viewer shows the trained layer
    assert view._colours.fills and set(view._colours.fills) <= set(view.layer_keys)


@pytest.mark.parametrize("app", ["MobileNetV2", "ResNet50"])
def test_keras_applications_layers_equal_sub_models(app: str) -> None:
    model = getattr(keras.applications, app)(weights=None, input_shape=(64, 64, 3), include_top=False)
    x = np.random.default_rng(0).random((1, 64, 64, 3)).astype("float32")
    acts = lab.get_activations(model, x)
    for layer in model.layers[1::25]:
        expected = np.asarray(keras.Model(model.inputs[0], layer.output)(x))
        np.testing.assert_allclose(acts[layer.name], expected, rtol=1e-4, atol=1e-4, err_msg=layer.name)


class _Identity(keras.layers.Layer):
    def call(self, x: Any) -> Any:
        return keras.ops.convert_to_tensor(x)


def test_viewer_shows_and_compares_booleans_and_integers_as_numbers() -> None:
    """uint8 differences do not wrap around (1 - 3 is -2, not 254); booleans count as 0 and 1."""
    inp = keras.Input((3,), dtype="uint8", name="counts")
    same = _Identity(name="same")(inp)
    model = keras.Model(inp, [same, keras.layers.Lambda(lambda t: keras.ops.greater(t, 1), name="many")(same)])
    x = np.array([[1, 2, 3], [3, 2, 1]], "uint8")
    acts = lab.get_activations(model, x)
    assert acts["same"].dtype == np.uint8 and acts["many"].dtype == np.bool_
    np.testing.assert_array_equal(acts["many"], np.asarray(model(x)[1]))
    viewer = lab.activations(model, x)
    viewer.select("same")
    viewer._compare_with.value = 1
    shown = viewer._info.value
    assert "uint8" in shown and "title='0: -2'" in shown and "title='2: 2'" in shown
    viewer.select("many")
    assert "bool" in viewer._info.value and "True = 1" in viewer._info.value and "title='0: -1'" in viewer._info.value
    assert "mean 0.6667" in viewer._info.value and "33.3%</b> False" in viewer._info.value
    assert viewer._message.value == ""


@pytest.mark.filterwarnings("ignore:When providing `inputs` as a dict:UserWarning")  # keys unlike the Inputs
def test_viewer_reads_x_the_way_keras_does() -> None:
    """A dict keyed like the model (not like its Inputs), an optional input left out, a rank-1 array for (1,)."""
    a = keras.Input((1,), name="input_a")
    opt = keras.Input((4,), name="input_opt", optional=True)
    hidden = keras.layers.Dense(4, name="dense")(a)

    class AddIfGiven(keras.layers.Layer):
        def call(self, x: Any, extra: Any = None) -> Any:
            return x if extra is None else x + extra

    model = keras.Model({"amount": a, "extra": opt}, AddIfGiven(name="add")(hidden, opt))
    x = {"amount": np.arange(3, dtype="float32"), "extra": None}
    viewer = lab.activations(model, x)
    viewer._sample.value = 2
    np.testing.assert_allclose(viewer.values(2)["add"][0], np.asarray(model(x))[2], rtol=1e-6)
    viewer.select("input_opt")
    assert "no value" in viewer._info.value and viewer._message.value == ""
    assert lab.get_activations(model, {"amount": np.ones((2, 1))})["input_opt"] is None
    with pytest.raises(ValueError, match=r"x has no key 'amount' \(its keys are \['input_b'\]\)\. The model takes x = "
                                         r"\{'amount': <\(n, 1\) for Input 'input_a'>, 'extra': <\(n, 4\) or None for "
                                         r"Input 'input_opt'>\}"):
        lab.activations(model, {"input_b": np.ones((2, 1))})
