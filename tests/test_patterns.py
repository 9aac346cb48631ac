"""fapi_lab.patterns: the documents' models, their parameter counts, names, forward passes and bad arguments."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import fapi_lab  # noqa: F401  # isort: skip  (first, so TensorFlow is imported quietly)
import keras
import numpy as np
import pytest

from fapi_lab import patterns

# The big applications are built at small sizes; their parameter counts do not depend on the size
# (VGG19 without its classifier top, Xception without its top).
SMALL = {"siamese_vision": {"input_shape": (71, 71, 3)}, "vgg19_features": {"input_shape": (32, 32, 3)}}


def build(name: str) -> Any:
    return patterns.BUILDERS[name](**SMALL.get(name, {}))


def models_of(result: Any) -> tuple[keras.Model, ...]:
    return result if isinstance(result, tuple) else (result,)


def main(result: Any) -> keras.Model:
    return models_of(result)[-1]


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """Every builder's result, built once for the module."""
    return {name: build(name) for name in patterns.BUILDERS}


# -- registry and public names ----------------------------------------------------------------------------------
def test_public_names_exist() -> None:
    for name in patterns.__all__:
        assert getattr(patterns, name) is not None, name


def test_registries_cover_the_patterns_with_models() -> None:
    expected = {f"P{i:02d}" for i in range(1, 39)} - {"P35", "P38"}
    assert set(patterns.PATTERN_BUILDERS) == expected
    named = {name for names in patterns.PATTERN_BUILDERS.values() for name in names}
    assert named == set(patterns.BUILDERS)
    for name, builder in patterns.BUILDERS.items():
        assert builder.__name__ == name
        assert name in patterns.__all__
        assert builder.__doc__, name


# -- parameter counts: the documents' printed numbers and KERAS3_NOTES.md -------------------------------------
PARAMS = {
    "mnist_mlp": (55_050,),
    "sequential_mlp": (55_050,),
    "encoder_autoencoder": (18_672, 28_241),
    "nested_autoencoder": (18_672, 9_569, 28_241),
    "ensemble": (387,),
    "time_distributed": (55_050,),
    "ticket_model": (1_392_097,),
    "question_answering_model": (1_000_052,),
    "social_media_model": (14_146_316,),
    "toy_resnet": (223_242,),
    "shared_embedding": (128_002,),
    "siamese_lstm": (20_673,),
    "siamese_vision": (20_861_480,),
    "vgg19_features": (20_024_384, 20_024_384),
    "custom_dense_model": (50,),
    "functional_mlp": (2_762,),
    "subclassed_mlp": (2_762,),
    "custom_rnn_model": (2_657,),
    "pointwise_bottleneck": (70_016,),
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts(built: dict[str, Any], name: str) -> None:
    assert tuple(m.count_params() for m in models_of(built[name])) == PARAMS[name]


def test_mnist_layer_counts_match_the_summary_in_document_002(built: dict[str, Any]) -> None:
    model = built["mnist_mlp"]
    assert model.name == "mnist_model"
    assert [(layer.name, layer.count_params()) for layer in model.layers[1:]] == [
        ("dense_1", 50_240), ("dense_2", 4_160), ("predictions", 650)]


def test_toy_resnet_layer_counts(built: dict[str, Any]) -> None:
    model = built["toy_resnet"]
    assert model.name == "toy_resnet"
    counts = [layer.count_params() for layer in model.layers if layer.count_params()]
    assert counts == [896, 18_496, *[36_928] * 5, 16_640, 2_570]


def test_full_size_vgg19_parameter_count_without_running_it() -> None:
    vgg19, features = patterns.vgg19_features()
    assert vgg19.count_params() == 143_667_240
    assert vgg19.get_layer("predictions").output.shape == (None, 1000)
    assert len(features.outputs) == len(vgg19.layers) == 26
    del vgg19, features
    gc.collect()


def test_deep_stacks_have_the_same_depth_and_parameters(built: dict[str, Any]) -> None:
    plain, residual = built["deep_plain_stack"], built["deep_residual_stack"]
    assert plain.count_params() == residual.count_params()
    dense = [[layer.name for layer in m.layers if isinstance(layer, keras.layers.Dense)] for m in (plain, residual)]
    assert dense[0] == dense[1] and len(dense[0]) == 22  # stem, 20 hidden, output
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 20


# -- forward passes -------------------------------------------------------------------------------------------------
OUTPUT_SHAPES: dict[str, list[tuple[int, ...]]] = {
    "mnist_mlp": [(2, 10)],
    "sequential_mlp": [(2, 10)],
    "encoder_autoencoder": [(2, 28, 28, 1)],
    "nested_autoencoder": [(2, 28, 28, 1)],
    "ensemble": [(2, 1)],
    "time_distributed": [(2, 20, 10)],
    "ticket_model": [(2, 1), (2, 4)],
    "question_answering_model": [(2, 500)],
    "social_media_model": [(2, 1), (2, 10), (2, 1)],
    "toy_resnet": [(2, 10)],
    "residual_blocks": [(2, 10)],
    "inception_module": [(2, 16, 16, 512)],
    "merges": [(2, 8)] * 6 + [(2, 16), (2, 1)],
    "shared_embedding": [(2, 1)],
    "siamese_lstm": [(2, 1)],
    "siamese_vision": [(2, 3, 3, 4096)],
    "custom_dense_model": [(2, 10)],
    "functional_mlp": [(2, 10)],
    "subclassed_mlp": [(2, 10)],
    "custom_rnn_model": [(16, 1)],  # static batch_shape (16, 10, 5), as in document 002
    "pointwise_bottleneck": [(2, 16, 16, 256)],
    "deep_plain_stack": [(2, 1)],
    "deep_residual_stack": [(2, 1)],
}


def test_every_builder_has_expected_output_shapes() -> None:
    assert set(OUTPUT_SHAPES) | {"vgg19_features"} == set(patterns.BUILDERS)


@pytest.mark.parametrize("name", sorted(OUTPUT_SHAPES))
def test_forward_pass_on_example_inputs(built: dict[str, Any], name: str) -> None:
    model = main(built[name])
    x = patterns.example_inputs(model)
    y = model.predict(x, verbose=0)
    outputs = y if isinstance(y, list | tuple) else [y]
    assert [tuple(o.shape) for o in outputs] == OUTPUT_SHAPES[name]
    assert all(np.all(np.isfinite(o)) for o in outputs)


def test_vgg19_feature_extractor_returns_every_layer(built: dict[str, Any]) -> None:
    vgg19, features = built["vgg19_features"]
    x = patterns.example_inputs(features)
    outputs = features(x)
    assert len(outputs) == len(vgg19.layers) == 22
    assert tuple(outputs[0].shape) == (2, 32, 32, 3)  # the input image itself
    assert tuple(outputs[-1].shape) == (2, 1, 1, 512)


# -- explicit names ----------------------------------------------------------------------------------------------------
def children(layer: Any) -> list[Any]:
    """Sub-layers: a model's layers, a wrapper's layer, and layers kept as attributes of custom layers."""
    found = list(getattr(layer, "layers", []))
    if isinstance(getattr(layer, "layer", None), keras.layers.Layer):
        found.append(layer.layer)
    found += [v for k, v in vars(layer).items() if isinstance(v, keras.layers.Layer) and not k.startswith("_")]
    unique = {id(c): c for c in found if c is not layer}
    return list(unique.values())


def names(layer: Any, prefix: str = "") -> list[str]:
    key = prefix + layer.name
    found = [key]
    for tensor in getattr(layer, "inputs", None) or []:
        found.append(f"{key}<input>{tensor.name}")
    for child in children(layer):
        found += names(child, key + "/")
    return found


@pytest.mark.parametrize("name", sorted(patterns.BUILDERS))
def test_every_layer_has_an_explicit_name(built: dict[str, Any], name: str) -> None:
    """Keras numbers auto-named layers by a global counter, so a second build would rename them."""
    first = [names(m) for m in models_of(built[name])]
    again = [names(m) for m in models_of(build(name))]
    assert first == again
    for model in models_of(built[name]):
        layer_names = [layer.name for layer in getattr(model, "layers", [])]
        assert len(layer_names) == len(set(layer_names)), layer_names


# -- documents' fixes and behaviour --------------------------------------------------------------------------------
def test_multi_io_names(built: dict[str, Any]) -> None:
    ticket = built["ticket_model"]
    assert [t.name for t in ticket.inputs] == ["title", "body", "tags"]
    assert ticket.output_names == ["priority", "department"]
    assert [t.dtype for t in ticket.inputs] == ["int32", "int32", "float32"]
    qa = built["question_answering_model"]
    assert [t.name for t in qa.inputs] == ["text", "question"] and qa.output_names == ["answer"]
    social = built["social_media_model"]
    assert [t.name for t in social.inputs] == ["posts"]
    assert social.output_names == ["age", "income", "gender"]
    assert social.get_layer("embedding").input_dim == 50_000  # document 004 swapped the arguments


def test_logits_option_switches_the_output_activation() -> None:
    assert patterns.mnist_mlp().get_layer("predictions").activation.__name__ == "linear"
    assert patterns.mnist_mlp(logits=False).get_layer("predictions").activation.__name__ == "softmax"
    ticket = patterns.ticket_model(logits=False)
    assert ticket.get_layer("priority").activation.__name__ == "sigmoid"
    assert ticket.get_layer("department").activation.__name__ == "softmax"


def test_sequential_mlp_document_004_form() -> None:
    model = patterns.sequential_mlp(input_dim=64, hidden_units=(32, 32), logits=False)
    assert isinstance(model, keras.Sequential)
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2", "predictions"]
    assert model.count_params() == 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10


def test_compiled_models(built: dict[str, Any]) -> None:
    for name in ("siamese_lstm", "question_answering_model", "social_media_model"):
        assert built[name].optimizer is not None, name
    assert not patterns.siamese_lstm(compiled=False).compiled


def test_shared_layers_are_called_twice(built: dict[str, Any]) -> None:
    lstm = built["siamese_lstm"].get_layer("lstm")
    assert len(lstm._inbound_nodes) == 2
    vision = built["siamese_vision"]
    assert [t.name for t in vision.inputs] == ["left_image", "right_image"]
    assert vision.count_params() == vision.get_layer("xception").count_params()


def test_time_distributed_shares_one_frame_model(built: dict[str, Any]) -> None:
    frame_model = built["time_distributed"].get_layer("per_frame").layer
    assert frame_model.name == "frame_model" and frame_model.count_params() == 55_050


def test_merges_compute_what_they_say(built: dict[str, Any]) -> None:
    model = built["merges"]
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 8)).astype("float32"), rng.normal(size=(3, 8)).astype("float32")
    out = dict(zip(model.output_names, model.predict({"a": a, "b": b}, verbose=0), strict=True))
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    expected = {"sum": a + b, "difference": a - b, "product": a * b, "mean": (a + b) / 2,
                "maximum": np.maximum(a, b), "minimum": np.minimum(a, b),
                "concatenated": np.concatenate([a, b], axis=1), "cosine": cosine[:, None]}
    for key, value in expected.items():
        np.testing.assert_allclose(out[key], value, rtol=1e-5, atol=1e-5, err_msg=key)


def test_residual_blocks_keep_or_project_the_shape(built: dict[str, Any]) -> None:
    model = built["residual_blocks"]
    assert model.get_layer("identity_add").output.shape == (None, 32, 32, 128)
    assert model.get_layer("projection_add").output.shape == (None, 16, 16, 128)
    odd = patterns.residual_blocks(input_shape=(9, 9, 3), filters=8)  # pool and shortcut line up at odd sizes
    assert odd.get_layer("projection_add").output.shape == (None, 5, 5, 8)


def test_inception_branches_line_up(built: dict[str, Any]) -> None:
    model = built["inception_module"]
    concat = model.get_layer("inception_concat")
    assert [tuple(t.shape) for t in concat.input] == [(None, 16, 16, 128)] * 4


def test_custom_rnn_accepts_any_batch_size_without_a_static_batch() -> None:
    model = patterns.custom_rnn_model(batch_size=None)
    for batch in (3, 5):
        assert model.predict(np.zeros((batch, 10, 5), "float32"), verbose=0).shape == (batch, 1)
    layer = patterns.CustomRNN(8)
    assert tuple(layer(keras.ops.zeros((1, 10, 5))).shape) == (1, 1)  # document 002's standalone call


def test_custom_dense_config_round_trip() -> None:
    layer = patterns.CustomDense(7, name="seven")
    clone = patterns.CustomDense.from_config(layer.get_config())
    assert (clone.units, clone.name) == (7, "seven")
    model = patterns.custom_dense_model()
    rebuilt = keras.Model.from_config(model.get_config())  # registered: no custom_objects needed
    assert isinstance(rebuilt.get_layer("custom_dense"), patterns.CustomDense)
    assert rebuilt.count_params() == 50


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
@pytest.mark.parametrize("name", ["custom_dense_model", "custom_rnn_model", "subclassed_mlp"])
def test_save_and_load_keras_file(built: dict[str, Any], tmp_path: Path, name: str) -> None:
    model = built[name]
    x = patterns.example_inputs(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


# -- example_inputs ---------------------------------------------------------------------------------------------
def test_example_inputs_fit_the_input_specs(built: dict[str, Any]) -> None:
    ticket = patterns.example_inputs(built["ticket_model"], batch_size=3)
    assert isinstance(ticket, dict) and list(ticket) == ["title", "body", "tags"]
    assert ticket["title"].dtype == np.int32 and ticket["title"].shape == (3, 8)
    assert ticket["title"].min() >= 1 and ticket["title"].max() < 10_000
    assert ticket["tags"].shape == (3, 12) and ticket["tags"].dtype == np.float32
    assert patterns.example_inputs(built["social_media_model"]).shape == (2, 512)  # needs >= 269 words
    assert patterns.example_inputs(built["shared_embedding"])["text_a"].max() < 1000
    assert patterns.example_inputs(built["custom_rnn_model"]).shape == (16, 10, 5)
    assert patterns.example_inputs(built["subclassed_mlp"]).shape == (2, 32)
    assert patterns.example_inputs(built["mnist_mlp"], length=3).shape == (2, 784)


def test_example_inputs_are_deterministic(built: dict[str, Any]) -> None:
    model = built["siamese_lstm"]
    a, b = patterns.example_inputs(model, seed=1), patterns.example_inputs(model, seed=1)
    c = patterns.example_inputs(model, seed=2)
    np.testing.assert_array_equal(a["left"], b["left"])
    assert not np.array_equal(a["left"], c["left"])


# -- bad arguments ------------------------------------------------------------------------------------------------
BAD = [
    (patterns.mnist_mlp, {"logits": "yes"}, "logits"),
    (patterns.mnist_mlp, {"name": ""}, "name"),
    (patterns.sequential_mlp, {"input_dim": 78.4}, "input_dim"),
    (patterns.sequential_mlp, {"hidden_units": (64, 0)}, "hidden_units"),
    (patterns.sequential_mlp, {"hidden_units": ()}, "hidden_units"),
    (patterns.sequential_mlp, {"num_classes": True}, "num_classes"),
    (patterns.functional_mlp, {"input_dim": -32}, "input_dim"),
    (patterns.ensemble, {"num_models": 1}, "num_models"),
    (patterns.time_distributed, {"timesteps": 0}, "timesteps"),
    (patterns.ticket_model, {"num_words": "10000"}, "num_words"),
    (patterns.ticket_model, {"num_departments": 1}, "num_departments"),
    (patterns.question_answering_model, {"compiled": 1}, "compiled"),
    (patterns.residual_blocks, {"filters": -1}, "filters"),
    (patterns.residual_blocks, {"input_shape": (32, 32)}, "input_shape"),
    (patterns.inception_module, {"filters": 2.0}, "filters"),
    (patterns.pointwise_bottleneck, {"bottleneck_filters": 0}, "bottleneck_filters"),
    (patterns.merges, {"units": None}, "units"),
    (patterns.deep_plain_stack, {"depth": 0}, "depth"),
    (patterns.deep_residual_stack, {"activation": "softplus"}, "activation"),
    (patterns.siamese_vision, {"input_shape": (32, 32, 3)}, "input_shape"),
    (patterns.siamese_vision, {"input_shape": (71, 71, 1)}, "input_shape"),
    (patterns.siamese_vision, {"input_shape": "250x250"}, "input_shape"),
    (patterns.vgg19_features, {"input_shape": (16, 16, 3)}, "input_shape"),
    (patterns.vgg19_features, {"input_shape": (64, 64, 3), "include_top": True}, "include_top"),
    (patterns.custom_rnn_model, {"batch_size": 0}, "batch_size"),
    (patterns.custom_rnn_model, {"timesteps": True}, "timesteps"),
    (patterns.subclassed_mlp, {"input_dim": "32"}, "input_dim"),
    (patterns.CustomDense, {"units": 0}, "units"),
    (patterns.CustomRNN, {"units": 1.5}, "units"),
    (patterns.SubclassedMLP, {"hidden_units": "big"}, "hidden_units"),
]


@pytest.mark.parametrize(("builder", "kwargs", "argument"), BAD, ids=[f"{b.__name__}-{a}" for b, _, a in BAD])
def test_bad_arguments_raise_a_value_error_naming_the_argument(builder: Any, kwargs: dict[str, Any],
                                                                argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}=.* is not valid: expected ") as excinfo:
        builder(**kwargs)
    frames = [str(entry.path) for entry in excinfo.traceback]
    assert not any(f"{Path('keras', 'src')}" in frame for frame in frames), "raised from inside Keras"


def test_residual_block_argument_checks() -> None:
    x = keras.Input((8, 8, 64))
    with pytest.raises(ValueError, match=r"^filters=128 .*expected 64 \(the channels of x\).*projection=True"):
        patterns.residual_block(x, 128)
    with pytest.raises(ValueError, match=r"^x="):
        patterns.residual_block(np.zeros(3), 8)
    with pytest.raises(ValueError, match=r"^projection="):
        patterns.residual_block(x, 64, projection="yes")
    assert patterns.residual_block(x, 32, projection=True, name="down").shape == (None, 4, 4, 32)


def test_example_inputs_argument_checks(built: dict[str, Any]) -> None:
    model = built["mnist_mlp"]
    for kwargs, argument in [({"batch_size": 0}, "batch_size"), ({"seed": -1}, "seed"), ({"length": 2.5}, "length")]:
        with pytest.raises(ValueError, match=rf"^{argument}="):
            patterns.example_inputs(model, **kwargs)
    with pytest.raises(ValueError, match=r"^model=.*built model"):
        patterns.example_inputs(patterns.SubclassedMLP())


def test_names_in_bad_argument_messages_are_readable() -> None:
    with pytest.raises(ValueError) as excinfo:
        patterns.siamese_vision(input_shape=(32, 32, 3))
    message = str(excinfo.value)
    assert re.search(r">= 71", message) and "(32, 32, 3)" in message
