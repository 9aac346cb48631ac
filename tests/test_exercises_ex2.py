"""Exercise set 2 (lessons 3-4): each right answer passes, typical wrong answers get the right message, and no
message shows solution code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab._exercises import CheckResult

# Code a message must never contain: the lines that solve the exercises.
SOLUTION_CODE = ("get_layer(\"code\").output", "get_layer('code').output", "keras.Model(autoencoder.",
                 "layers.average([", "layers.Average()(", "model.save(", "load_model(os.path", "load_model(path",
                 "decoder_model(encoder_model(", "encoder_model(image", "for member in")


def _no_solution_code(result: CheckResult) -> None:
    text = str(result) + " ".join(result.messages)
    leaked = [code for code in SOLUTION_CODE if code in text]
    assert not leaked, leaked


def _failed(result: CheckResult, *words: str) -> str:
    assert not result and result.answered, str(result)
    message = result.messages[0]
    for word in words:
        assert word in message, (word, message)
    _no_solution_code(result)
    return message


# -- ex2.1 ----------------------------------------------------------------------------------------------------
def _build_autoencoder() -> keras.Model:
    pixels = keras.Input(shape=(784,), name="pixels")
    x = layers.Dense(64, activation="relu", name="enc_hidden")(pixels)
    x = layers.Dense(16, activation="relu", name="code")(x)
    x = layers.Dense(64, activation="relu", name="dec_hidden")(x)
    x = layers.Dense(784, activation="sigmoid", name="reconstruction")(x)
    return keras.Model(pixels, x, name="autoencoder")


@pytest.fixture(scope="module")
def loaded_autoencoder(tmp_path_factory: pytest.TempPathFactory) -> keras.Model:
    path = tmp_path_factory.mktemp("ex2") / "autoencoder.keras"
    _build_autoencoder().save(path)
    return keras.models.load_model(path)


def test_ex2_1_encoder_from_the_loaded_autoencoders_own_tensors_passes(loaded_autoencoder: keras.Model) -> None:
    ae = loaded_autoencoder
    encoder = keras.Model(ae.inputs[0], ae.get_layer("code").output, name="encoder")
    result = lab.check("ex2.1", (ae, encoder))
    assert result, str(result)
    assert "ends at the bottleneck 'code' (None, 16)" in str(result) and "not copies" in str(result)


def test_ex2_1_the_autoencoders_layers_called_on_a_new_input_also_pass(loaded_autoencoder: keras.Model) -> None:
    ae = loaded_autoencoder
    image = keras.Input(shape=(784,), name="image")
    code = ae.get_layer("code")(ae.get_layer("enc_hidden")(image))
    assert lab.check("ex2.1", (ae, keras.Model(image, code)))


def test_ex2_1_a_fresh_copy_with_the_same_names_is_new_weights(loaded_autoencoder: keras.Model) -> None:
    pixels = keras.Input(shape=(784,), name="pixels")
    x = layers.Dense(64, activation="relu", name="enc_hidden")(pixels)
    copy = keras.Model(pixels, layers.Dense(16, activation="relu", name="code")(x), name="encoder")
    result = lab.check("ex2.1", (loaded_autoencoder, copy))
    message = _failed(result, "'enc_hidden', 'code'", "new layers", "not the autoencoder's trained layers",
                      "a name is only a label")
    assert result.problems[0].keys == ("enc_hidden", "code") and "copies nothing" in message


def test_ex2_1_weights_copied_into_a_rebuilt_encoder_are_still_copies(loaded_autoencoder: keras.Model) -> None:
    ae = loaded_autoencoder
    pixels = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(pixels)
    copy = keras.Model(pixels, layers.Dense(16, activation="relu")(x))
    copy.set_weights(ae.get_weights()[:4])  # the same numbers today; they drift apart as soon as either trains
    _failed(lab.check("ex2.1", (ae, copy)), "new layers with their own weights", "same numbers copied in")


@pytest.mark.parametrize(("layer", "words"), [("enc_hidden", "stops before the bottleneck"),
                                              ("dec_hidden", "goes past the bottleneck into the decoder")])
def test_ex2_1_the_wrong_layer_is_not_the_bottleneck(loaded_autoencoder: keras.Model, layer: str,
                                                     words: str) -> None:
    ae = loaded_autoencoder
    result = lab.check("ex2.1", (ae, keras.Model(ae.inputs[0], ae.get_layer(layer).output)))
    message = _failed(result, f"ends at '{layer}' (None, 64)", words, "bottleneck 'code' (None, 16)")
    assert result.problems[0].keys == (layer,) and "narrowest" in message


def test_ex2_1_the_autoencoder_itself_and_a_missing_answer(loaded_autoencoder: keras.Model) -> None:
    _failed(lab.check("ex2.1", (loaded_autoencoder, loaded_autoencoder)), "the autoencoder itself", "'code'")
    result = lab.check("ex2.1", (loaded_autoencoder, ...))
    assert not result.answered and "Replace the ..." in result.messages[0]
    assert "(autoencoder, encoder)" in lab.check("ex2.1", loaded_autoencoder).messages[0]


# -- ex2.2 ----------------------------------------------------------------------------------------------------
def get_model(name: str) -> keras.Model:
    inputs = keras.Input(shape=(128,), name="features")
    return keras.Model(inputs, layers.Dense(1, name="score")(inputs), name=name)


def _ensemble(merge: Callable[[list], object] = layers.average, *, same_model: bool = False,
              separate_inputs: bool = False) -> keras.Model:
    members = [get_model("member_a")] * 3 if same_model else [get_model(f"member_{c}") for c in "abc"]
    if separate_inputs:
        inputs = [keras.Input(shape=(128,), name=f"features_{i}") for i in range(3)]
        predictions = [m(x) for m, x in zip(members, inputs, strict=True)]
    else:
        inputs = keras.Input(shape=(128,), name="features")
        predictions = [m(inputs) for m in members]
    return keras.Model(inputs, merge(predictions), name="ensemble")


def test_ex2_2_average_of_three_members_passes() -> None:
    result = lab.check("ex2.2", _ensemble())
    assert result, str(result)
    assert "387 parameters" in str(result) and "mean of the members' predictions" in str(result)


def test_ex2_2_concatenating_instead_of_averaging() -> None:
    result = lab.check("ex2.2", _ensemble(layers.concatenate))
    message = _failed(result, "is a Concatenate", "side by side", "average")
    merge = result.graph.nodes[-1].key  # Keras numbers unnamed layers per process: whatever it is called here
    assert "(None, 3)" in message and result.problems[0].keys == (merge,) and merge.startswith("concatenate")


def test_ex2_2_adding_instead_of_averaging() -> None:
    _failed(lab.check("ex2.2", _ensemble(layers.add)), "is an Add", "three times too large")


def test_ex2_2_three_separate_inputs() -> None:
    result = lab.check("ex2.2", _ensemble(separate_inputs=True))
    _failed(result, "3 inputs", "different sample", "one keras.Input")
    assert result.problems[0].keys == ("features_0", "features_1", "features_2")


def test_ex2_2_the_same_model_three_times() -> None:
    _failed(lab.check("ex2.2", _ensemble(same_model=True)), "the same model 'member_a' 3 times", "identical")


def test_ex2_2_three_predictions_as_outputs_and_no_models_at_all() -> None:
    _failed(lab.check("ex2.2", _ensemble(list)), "3 outputs", "average")
    inputs = keras.Input(shape=(128,))
    dense = [layers.Dense(1)(inputs) for _ in range(3)]
    _failed(lab.check("ex2.2", keras.Model(inputs, layers.average(dense))), "calls no model", "3 Dense layers")


# -- ex2.3 ----------------------------------------------------------------------------------------------------
def round_trip(model: keras.Model, folder: str) -> keras.Model:
    path = Path(folder) / "whole_model.keras"
    model.save(path)
    return keras.models.load_model(path)


def test_ex2_3_keras_file_round_trip_passes() -> None:
    result = lab.check("ex2.3", round_trip)
    assert result, str(result)
    assert "optimizer's state kept" in str(result) and "same predictions" in str(result)


def test_ex2_3_the_documents_savedmodel_folder_is_explained() -> None:
    def documents(model: keras.Model, folder: str) -> keras.Model:
        model.save(Path(folder) / "path_to_my_model")
        return keras.models.load_model(Path(folder) / "path_to_my_model")

    message = _failed(lab.check("ex2.3", documents), "refuses the file name 'path_to_my_model'", "ends in .keras",
                      "SavedModel")
    assert "/tmp" not in message and "model.export()" in message


def test_ex2_3_legacy_h5() -> None:
    def h5(model: keras.Model, folder: str) -> keras.Model:
        model.save(Path(folder) / "model.h5")
        return keras.models.load_model(Path(folder) / "model.h5")

    _failed(lab.check("ex2.3", h5), "'model.h5'", "legacy", ".keras")


def test_ex2_3_returning_the_original_model() -> None:
    def same(model: keras.Model, folder: str) -> keras.Model:
        model.save(Path(folder) / "model.keras")
        keras.models.load_model(Path(folder) / "model.keras")
        return model

    _failed(lab.check("ex2.3", same), "returned the very model it was given")


def test_ex2_3_weights_only_into_a_clone() -> None:
    def weights_only(model: keras.Model, folder: str) -> keras.Model:
        model.save_weights(Path(folder) / "model.weights.h5")
        clone = keras.models.clone_model(model)
        clone.load_weights(Path(folder) / "model.weights.h5")
        return clone

    _failed(lab.check("ex2.3", weights_only), "the weights only ('model.weights.h5')", "no optimizer state")


def test_ex2_3_forgot_return_and_called_instead_of_passed() -> None:
    def no_return(model: keras.Model, folder: str) -> None:
        model.save(Path(folder) / "model.keras")

    _failed(lab.check("ex2.3", no_return), "returned None")
    _failed(lab.check("ex2.3", lab.patterns.functional_mlp()), "you passed a model",
            "without calling it")


# -- ex2.4 ----------------------------------------------------------------------------------------------------
def _halves() -> tuple[keras.Model, keras.Model]:
    pixels = keras.Input(shape=(784,), name="pixels")
    code = layers.Dense(16, activation="relu", name="code")(layers.Dense(64, activation="relu", name="enc")(pixels))
    encoder = keras.Model(pixels, code, name="encoder_model")
    code_in = keras.Input(shape=(16,), name="code_in")
    image = layers.Dense(784, activation="sigmoid", name="image")(layers.Dense(64, name="dec")(code_in))
    return encoder, keras.Model(code_in, image, name="decoder_model")


def test_ex2_4_two_models_called_like_layers_pass() -> None:
    encoder, decoder = _halves()
    image = keras.Input(shape=(784,), name="image_in")
    result = lab.check("ex2.4", (encoder, decoder, keras.Model(image, decoder(encoder(image)), name="nested")))
    assert result, str(result)
    assert "calls encoder_model as one layer: (None, 784) → (None, 16)" in str(result)
    assert "the same weights, not copies" in str(result)


def test_ex2_4_starting_from_the_encoders_own_input_inlines_its_layers() -> None:
    encoder, decoder = _halves()
    flat = keras.Model(encoder.inputs[0], decoder(encoder.outputs[0]))
    result = lab.check("ex2.4", (encoder, decoder, flat))
    _failed(result, "The layers of encoder_model ('enc', 'code') sit directly in your model", "new keras.Input")
    assert result.problems[0].keys == ("enc", "code")


def test_ex2_4_a_cloned_encoder_is_a_copy() -> None:
    encoder, decoder = _halves()
    copy = keras.models.clone_model(encoder)
    image = keras.Input(shape=(784,))
    result = lab.check("ex2.4", (encoder, decoder, keras.Model(image, decoder(copy(image)))))
    _failed(result, "not the encoder_model the task gives", "its own weights", "a name is only a label")


def test_ex2_4_the_tensor_instead_of_the_model_and_a_missing_decoder() -> None:
    encoder, decoder = _halves()
    image = keras.Input(shape=(784,))
    _failed(lab.check("ex2.4", (encoder, decoder, decoder(encoder(image)))), "symbolic tensor, not a model")
    _failed(lab.check("ex2.4", (encoder, decoder, keras.Model(image, encoder(image)))), "never calls decoder_model")
    result = lab.check("ex2.4", (encoder, decoder, ...))
    assert not result.answered and "nested_autoencoder" in result.messages[0]


# -- ex2.5: the documents' saving code, migrated to Keras 3 ------------------------------------------------------
DATA = np.random.default_rng(0).random((64, 32), dtype="float32")
LABELS = keras.utils.to_categorical(np.random.default_rng(1).integers(0, 10, size=64), 10)


def _save_and_restore(*, keywords: str = "keras3", architecture: str = "json", extension: str = ".keras",
                      fresh: str = "rebuilt", restored: str = "loaded") -> Callable[[str], tuple]:
    def save_and_restore(folder: str) -> tuple:
        inputs = keras.Input(shape=(32,))
        x = layers.Dense(10, activation="relu")(inputs)
        outputs = layers.Dense(10)(x)
        if keywords == "keras1":
            model = keras.Model(input=inputs, output=outputs)
        else:
            model = keras.Model(inputs=inputs, outputs=outputs)
        model.compile(optimizer="rmsprop", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        model.fit(DATA, LABELS, batch_size=32, epochs=1, verbose=0)
        if architecture == "yaml":
            model.to_yaml()  # document 003
        fresh_model = keras.models.model_from_json(model.to_json())
        path = str(Path(folder) / ("my_model" + extension))
        model.save(path)
        restored_model = keras.models.load_model(path)
        if fresh == "same":
            fresh_model = model
        elif fresh == "loaded":
            fresh_model = keras.models.load_model(path)
        elif fresh == "tensors":
            fresh_model = keras.Model(model.inputs, model.outputs)
        if restored == "same":
            restored_model = model
        return model, fresh_model, restored_model

    return save_and_restore


def test_ex2_5_the_migrated_code_passes() -> None:
    result = lab.check("ex2.5", _save_and_restore())
    assert result, str(result)
    assert "new weights of its own" in str(result) and "the optimizer at the same step" in str(result)


def test_ex2_5_the_document_code_stops_at_each_old_line_in_turn() -> None:
    keras1 = _failed(lab.check("ex2.5", _save_and_restore(keywords="keras1")), "Keras 1", "inputs= and outputs=",
                     "Document 001")
    assert "Unrecognized keyword" not in keras1  # lab.explain's words, not Keras's
    _failed(lab.check("ex2.5", _save_and_restore(architecture="yaml")), "AttributeError", "'to_yaml'",
            "YAML is gone", "JSON")
    _failed(lab.check("ex2.5", _save_and_restore(extension="")), "refuses the file name 'my_model'", ".keras",
            "documents 000 and 003")


def test_ex2_5_a_legacy_h5_file() -> None:
    _failed(lab.check("ex2.5", _save_and_restore(extension=".h5")), "'my_model.h5'", "no .keras file", "legacy")


@pytest.mark.parametrize(("fresh", "words"), [
    ("same", ("fresh_model is model itself", "new weights")),
    ("loaded", ("has the trained weights", "architecture only")),
    ("tensors", ("uses model's own layers", "new layers, new weights")),
])
def test_ex2_5_fresh_model_must_be_the_architecture_alone(fresh: str, words: tuple[str, ...]) -> None:
    _failed(lab.check("ex2.5", _save_and_restore(fresh=fresh)), *words)


def test_ex2_5_restored_must_come_from_the_file_and_the_function_is_passed_uncalled(tmp_path: Path) -> None:
    _failed(lab.check("ex2.5", _save_and_restore(restored="same")), "restored is model itself")
    returned = _save_and_restore()(str(tmp_path))
    _failed(lab.check("ex2.5", returned), "you passed what it returned", "without calling it")


# -- ex2.6: design an autoencoder as three models that share their layers --------------------------------------
def _three_models(*, code: int = 16, decoder: str = "shared", flat_output: bool = False) -> tuple:
    image = keras.Input((28, 28), name="digit")
    x = layers.Dense(64, activation="relu", name="squeeze")(layers.Flatten(name="flat")(image))
    code_tensor = layers.Dense(code, activation="relu", name="bottleneck")(x)
    grow, pixels, fold = (layers.Dense(64, activation="relu", name="grow"),
                          layers.Dense(784, activation="sigmoid", name="pixels"), layers.Reshape((28, 28), name="fold"))
    rebuilt = pixels(grow(code_tensor))
    autoencoder = keras.Model(image, rebuilt if flat_output else fold(rebuilt), name="ae")
    encoder = keras.Model(image, code_tensor, name="enc")
    code_input = keras.Input((code,), name="code_in")
    if decoder == "shared":
        decoded = pixels(grow(code_input))
    else:  # new layers that look the same
        decoded = layers.Dense(784, activation="sigmoid", name="pixels_2")(layers.Dense(64, name="grow_2")(code_input))
    return autoencoder, encoder, keras.Model(code_input, decoded if flat_output else fold(decoded), name="dec")


def _nested_three_models() -> tuple:
    image = keras.Input((28, 28))
    encoder = keras.Model(image, layers.Dense(8, name="code")(layers.Flatten()(image)), name="encoder")
    code_input = keras.Input((8,))
    decoder = keras.Model(code_input, layers.Reshape((28, 28))(layers.Dense(784)(code_input)), name="decoder")
    fresh = keras.Input((28, 28))
    return keras.Model(fresh, decoder(encoder(fresh)), name="autoencoder"), encoder, decoder


@pytest.mark.parametrize("build", [_three_models, _nested_three_models], ids=["shared_layers", "nested_models"])
def test_ex2_6_both_ways_of_sharing_pass(build: Callable[[], tuple]) -> None:
    result = lab.check("ex2.6", build())
    assert result, str(result)
    assert "not copies" in str(result) and "decoder(encoder(image))" in str(result)


def test_ex2_6_a_decoder_of_new_layers_is_a_copy() -> None:
    result = lab.check("ex2.6", _three_models(decoder="copy"))
    _failed(result, "decoder has weights of its own", "training the autoencoder would not train it")


def test_ex2_6_a_code_too_wide_and_a_flat_output() -> None:
    _failed(lab.check("ex2.6", _three_models(code=32)), "32 numbers per image", "at most 16")
    flat = lab.check("ex2.6", _three_models(flat_output=True))
    _failed(flat, "autoencoder: Output 'pixels' has shape (None, 784)", "(None, 28, 28)")
    assert any(m.startswith("decoder:") for m in flat.messages)


def test_ex2_6_needs_the_three_models_together() -> None:
    autoencoder, encoder, _ = _three_models()
    result = lab.check("ex2.6", (autoencoder, encoder))
    _failed(result, "needs 3 models together", "(autoencoder, encoder, decoder)")
