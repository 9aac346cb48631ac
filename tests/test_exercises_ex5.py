"""Exercise set 5 (lessons 7 and 8): each right answer passes, typical wrong answers get the right message.

The answers are built here, independently of the solution notebook. Every message is also checked for code: a
wrong answer is told what is wrong and what to do, never shown the layer calls of a solution.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import keras
from keras import layers

import fapi_lab as lab
from fapi_lab._exercises import CheckResult, registry
from tests.exercise_checks import fails, passes

# solution code: layer constructors, layer calls, reading a layer's output tensor, the list of conv layers
CODE = re.compile(r"layers\.\w+\(|LSTM\(|Conv2D\(|Dense\(|concatenate\(|\.output\b|get_layer\(|for layer in"
                  r"|isinstance\(|clone_model|\)\(\w+\)")


def _fails(exercise_id: str, answer: Any, *words: str) -> CheckResult:
    return fails(exercise_id, answer, words, CODE)


_passes = passes


def test_the_block_has_four_exercises_with_hints_and_outlines() -> None:
    block = [e for e in registry().values() if e.id.startswith("ex5.")]
    assert [e.id for e in block] == ["ex5.1", "ex5.2", "ex5.3", "ex5.4"]
    assert [e.lesson for e in block] == ["lesson 7", "lesson 7", "lesson 8", "lesson 7"]
    assert all(2 <= len(e.hints) <= 3 and e.outline for e in block)


# -- ex5.1: one LSTM shared by two tweets -------------------------------------------------------------------------
def _tweets(mode: str = "shared", units: int = 64, merge: str = "concatenate",
            activation: str | None = "sigmoid") -> keras.Model:
    a = keras.Input((140, 256), name="tweet_a")
    b = keras.Input((140, 256), name="tweet_b")
    head = layers.Dense(1, activation=activation, name="same_author")
    if mode == "one_input":
        return keras.Model(a, head(layers.LSTM(units, name="lstm")(a)), name="student")
    if mode == "concatenated_tweets":  # one LSTM call on both tweets glued together in time
        both = layers.concatenate([a, b], axis=1, name="both_tweets")
        return keras.Model([a, b], head(layers.LSTM(units, name="lstm")(both)), name="student")
    if mode == "two_lstms":
        ea, eb = layers.LSTM(units, name="lstm_a")(a), layers.LSTM(units, name="lstm_b")(b)
    else:
        lstm = layers.LSTM(units, name="shared_lstm")
        ea, eb = lstm(a), lstm(a if mode == "same_tweet_twice" else b)
    if merge == "ops":  # a concatenate written as an operation is a concatenate too
        return keras.Model([a, b], head(keras.ops.concatenate([ea, eb], axis=-1)), name="student")
    joined = layers.add([ea, eb], name="joined") if merge == "add" else layers.concatenate([ea, eb], name="joined")
    return keras.Model([a, b], head(joined), name="student")


def test_ex5_1_right_answer_passes() -> None:
    result = _passes("ex5.1", _tweets())
    verified = "\n".join(result.verified)
    assert "one LSTM of 64 units ('shared_lstm') called once on each tweet" in verified
    assert "82,305 parameters, the LSTM's 82,176 counted once" in verified
    assert _passes("ex5.1", _tweets)  # a function that returns the model is fine too
    assert _passes("ex5.1", _tweets(merge="ops"))


def test_ex5_1_two_lstms_are_two_sets_of_weights() -> None:
    result = _fails("ex5.1", _tweets(mode="two_lstms"), "should be shared", "2 separate LSTM layers",
                    "'lstm_a', 'lstm_b'", "2 sets of weights", "164,352 parameters", "call that one layer")
    assert set(result.problems[0].keys) == {"lstm_a", "lstm_b"}


def test_ex5_1_one_input_only() -> None:
    _fails("ex5.1", _tweets(mode="one_input"), "1 input", "the task needs 2", "tweet_b (None, 140, 256)")


def test_ex5_1_the_lstm_must_read_each_tweet() -> None:
    result = _fails("ex5.1", _tweets(mode="same_tweet_twice"), "Input 'tweet_b' is not connected")
    assert result.problems[0].keys == ("tweet_b",)
    _fails("ex5.1", _tweets(mode="concatenated_tweets"), "called once (on 'both_tweets')", "once on each tweet")


def test_ex5_1_wrong_units_merge_or_activation() -> None:
    _fails("ex5.1", _tweets(units=32), "has 32 units", "encodings have 64")
    _fails("ex5.1", _tweets(merge="add"), "go into Add 'joined'", "concatenate", "128 numbers")
    _fails("ex5.1", _tweets(activation=None), "activation 'linear'", "'sigmoid'")


# -- ex5.2: one encoder model called on two images ----------------------------------------------------------------
def _encoder(name: str = "encoder", filters: int = 16) -> keras.Model:
    image = keras.Input(shape=(32, 32, 3), name="image")
    x = layers.Conv2D(filters, 3, activation="relu", name="conv_1")(image)
    x = layers.MaxPooling2D(2, name="pool_1")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="conv_2")(x)
    return keras.Model(image, layers.GlobalAveragePooling2D(name="features")(x), name=name)


def _scenes(mode: str = "shared", head: bool = True, filters: int = 16) -> keras.Model:
    left = keras.Input((32, 32, 3), name="left_image")
    right = keras.Input((32, 32, 3), name="right_image")
    if mode == "two_encoders":
        fl, fr = _encoder("left_encoder")(left), _encoder("right_encoder")(right)
    elif mode == "encoder_layers":  # the encoder's layers called one by one: shared weights, but no model call
        encoder = _encoder()

        def through(x: Any) -> Any:
            for inner in encoder.layers[1:]:
                x = inner(x)
            return x

        fl, fr = through(left), through(right)
    else:
        encoder = _encoder(filters=filters)
        if mode == "sequential":  # the same encoder written as a Sequential model is a model too
            encoder = keras.Sequential(encoder.layers[1:], name="sequential_encoder")
        fl, fr = encoder(left), encoder(left if mode == "left_twice" else right)
    joined = layers.concatenate([fl, fr], name="merged_features")
    if not head:
        return keras.Model([left, right], joined, name="student")
    return keras.Model([left, right], layers.Dense(1, activation="sigmoid", name="same_scene")(joined), name="student")


def test_ex5_2_right_answer_passes() -> None:
    result = _passes("ex5.2", _scenes())
    verified = "\n".join(result.verified)
    assert "one encoder model ('encoder') called as a layer on each image" in verified
    assert "5,153 parameters: the encoder's 5,088 counted once" in verified
    assert _passes("ex5.2", _scenes(mode="sequential"))


def test_ex5_2_two_separately_built_encoders() -> None:
    result = _fails("ex5.2", _scenes(mode="two_encoders"), "should be shared", "2 separate encoder models",
                    "'left_encoder', 'right_encoder'", "10,176 parameters", "call that one model on both images")
    assert set(result.problems[0].keys) == {"left_encoder", "right_encoder"}


def test_ex5_2_calling_the_encoders_layers_instead_of_the_model() -> None:
    result = _fails("ex5.2", _scenes(mode="encoder_layers"), "calls the encoder's layers", "'conv_1', 'conv_2'",
                    "weights are shared", "encoder model itself is not used", "one box for the encoder")
    assert "conv_1" in result.problems[0].keys


def test_ex5_2_other_wrong_answers() -> None:
    _fails("ex5.2", _scenes(mode="left_twice"), "Input 'right_image' is not connected")
    _fails("ex5.2", _scenes(head=False), "Output 'same_scene' (None, 1) is missing", "merged_features (None, 64)")
    _fails("ex5.2", _scenes(filters=8), "has 2,560 parameters", "make_encoder()", "5,088 parameters")


# -- ex5.3: conv_features(model) ----------------------------------------------------------------------------------
def _convs(model: keras.Model) -> list[Any]:
    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


def conv_features(model: keras.Model) -> keras.Model:
    return keras.Model(model.inputs, [layer.output for layer in _convs(model)], name="features")


def _feature_fn(mode: str) -> Callable[[keras.Model], Any]:
    def answer(model: keras.Model) -> Any:
        if mode in ("clone", "clone_with_weights"):
            copy = keras.models.clone_model(model)
            if mode == "clone_with_weights":
                copy.set_weights(model.get_weights())
            return conv_features(copy)
        if mode == "last_only":
            return keras.Model(model.inputs, _convs(model)[-1].output)
        if mode == "every_layer":  # lesson 8's recipe, unchanged
            return keras.Model(model.inputs, [layer.output for layer in model.layers])
        if mode == "by_name":
            return keras.Model(model.inputs, [layer.output for layer in model.layers if "conv" in layer.name])
        if mode == "reversed":
            return keras.Model(model.inputs, [layer.output for layer in _convs(model)][::-1])
        if mode == "tensors":
            return [layer.output for layer in _convs(model)]
        if mode == "global_model":
            return conv_features(_notebook_net())
        conv_features(model)  # built, but not returned
        return None

    return answer


def _notebook_net() -> keras.Model:
    image = keras.Input((28, 28, 1), name="digit")
    x = layers.Conv2D(8, 3, name="c_1")(image)
    x = layers.Conv2D(8, 3, name="c_2")(x)
    return keras.Model(image, layers.Dense(2, name="out")(layers.Flatten(name="flat")(x)), name="digit_net")


def test_ex5_3_right_answers_pass() -> None:
    result = _passes("ex5.3", conv_features)
    verified = "\n".join(result.verified)
    assert "'check_net_a': one output per Conv2D layer, in order ('conv_1', 'conv_2')" in verified
    assert "'check_net_b': one output per Conv2D layer, in order ('edges', 'corners', 'parts')" in verified
    assert "own layers (shared weights, nothing copied)" in verified

    def recalled(model: keras.Model) -> keras.Model:  # the same layers called again on a new input: same weights
        x = keras.Input(model.inputs[0].shape[1:])
        outputs, y = [], x
        for inner in model.layers[1:]:
            y = inner(y)
            if isinstance(inner, layers.Conv2D):
                outputs.append(y)
        return keras.Model(x, outputs)

    assert _passes("ex5.3", recalled)


def test_ex5_3_a_new_model_with_the_same_architecture_is_not_the_models_layers() -> None:
    _fails("ex5.3", _feature_fn("clone"), "'check_net_a'", "new layers of the same names ('conv_1', 'conv_2')",
           "weights are new and random", "Do not rebuild or clone")
    _fails("ex5.3", _feature_fn("clone_with_weights"), "copies of its layers", "separate weights",
           "shares their weights")


def test_ex5_3_only_the_last_feature_map() -> None:
    _fails("ex5.3", _feature_fn("last_only"), "returns 1 feature map ('conv_2' (None, 11, 11, 16))",
           "every Conv2D layer's output, 2 here", "Missing: 'conv_1'")


def test_ex5_3_every_layer_instead_of_the_convolutions() -> None:
    result = _fails("ex5.3", _feature_fn("every_layer"), "not Conv2D layers", "'digit' (InputLayer)",
                    "'pool_1' (MaxPooling2D)", "'scores' (Dense)", "convolutions only")
    assert "conv_1" not in result.problems[0].keys and "pool_1" in result.problems[0].keys


def test_ex5_3_picking_layers_by_name_or_in_the_wrong_order() -> None:
    _fails("ex5.3", _feature_fn("by_name"), "'check_net_b'", "no outputs", "names its convolutions differently",
           "by what they are")
    _fails("ex5.3", _feature_fn("reversed"), "in the order 'conv_2', 'conv_1'", "the model's order")


def test_ex5_3_answers_that_are_not_the_task_function() -> None:
    _fails("ex5.3", _feature_fn("global_model"), "('c_1', 'c_2') are not layers of the model it was given",
           "function's argument")
    _fails("ex5.3", _feature_fn("tensors"), "returned 2 symbolic tensors, not a model")
    _fails("ex5.3", _feature_fn("forgot_return"), "returned None", "not return it")
    _fails("ex5.3", conv_features(_notebook_net()), "This is a model ('features')", "pass conv_features itself")
    _fails("ex5.3", lambda: None, "exactly one argument")
    assert not lab.check("ex5.3").answered


def test_ex5_3_the_starter_code_is_not_answered_yet() -> None:
    def conv_features(model: keras.Model) -> None:
        ...  # the student notebook's starter

    result = lab.check("ex5.3", conv_features)
    assert not result and not result.answered
    assert "starter's empty body" in result.messages[0]


# -- ex5.4: design: two photos and a caption, one shared photo encoder ----------------------------------------
def _photo_encoder(name: str = "photo_encoder") -> keras.Model:
    image = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv")(image)
    return keras.Model(image, layers.GlobalAveragePooling2D(name="pool")(x), name=name)


def _two_photos(encoders: str = "one_model", caption_in_same_place: bool = False, caption_dtype: str = "int32",
                words: int | None = None) -> keras.Model:
    photo_a = keras.Input((32, 32, 3), name="photo_a")
    photo_b = keras.Input((32, 32, 3), name="photo_b")
    caption = keras.Input((words,), dtype=caption_dtype, name="caption")
    if encoders == "one_model":
        encoder = _photo_encoder()
        a, b = encoder(photo_a), encoder(photo_b)
    elif encoders == "one_layer":
        conv = layers.Conv2D(8, 3, activation="relu", name="shared_conv")
        pool = layers.GlobalAveragePooling2D(name="pool")
        a, b = pool(conv(photo_a)), pool(conv(photo_b))
    elif encoders == "two_models":
        a, b = _photo_encoder("encoder_a")(photo_a), _photo_encoder("encoder_b")(photo_b)
    else:  # the photos stacked channel by channel, then one encoder: nothing sees one photo alone
        both = layers.concatenate([photo_a, photo_b], name="both_photos")
        a = b = layers.GlobalAveragePooling2D(name="pool")(layers.Conv2D(8, 3, name="conv")(both))
    if caption_dtype == "int32":
        text = layers.GlobalAveragePooling1D(name="mean_words")(layers.Embedding(100, 8, name="words")(caption))
    else:
        text = layers.Dense(8, name="caption_dense")(caption)
    photos = layers.concatenate([a, b], name="photos") if a is not b else a
    same_in = layers.concatenate([photos, text], name="photos_and_text") if caption_in_same_place else photos
    same_place = layers.Dense(1, activation="sigmoid", name="same_place")(same_in)
    caption_fits = layers.Dense(1, activation="sigmoid", name="caption_fits")(
        layers.concatenate([a, b, text] if a is not b else [a, text], name="all_three"))
    return keras.Model([photo_a, photo_b, caption], [same_place, caption_fits], name="two_photos")


def test_ex5_4_right_answers_pass() -> None:
    result = _passes("ex5.4", _two_photos())
    text = "\n".join(result.verified)
    assert "one encoder for both photos: 'photo_encoder'" in text and "captions of 7 and of 12 words" in text
    layer = _passes("ex5.4", _two_photos("one_layer"))  # one shared layer is an encoder too
    assert "one encoder for both photos: 'shared_conv'" in "\n".join(layer.verified)


def test_ex5_4_two_encoders_are_two_sets_of_weights() -> None:
    result = _fails("ex5.4", _two_photos("two_models"), "not encoded by one shared encoder",
                    "'encoder_a' reads 'photo_a' only", "'encoder_b' reads 'photo_b' only", "call that same object")
    assert set(result.problems[0].keys) == {"encoder_a", "encoder_b"}


def test_ex5_4_photos_mixed_before_encoding() -> None:
    _fails("ex5.4", _two_photos("mixed"), "mixes the two photos (Concatenate 'both_photos')",
           "encodes each photo separately")


def test_ex5_4_same_place_must_not_read_the_caption() -> None:
    _fails("ex5.4", _two_photos(caption_in_same_place=True), "Output 'same_place' is computed from 'caption' too",
           "a question about the photos alone")


def test_ex5_4_the_caption_is_word_ids_of_any_length() -> None:
    _fails("ex5.4", _two_photos(caption_dtype="float32", words=12), "Input 'caption' has dtype float32",
           "Word ids are whole numbers")
    _fails("ex5.4", _two_photos(words=20), "captions of exactly 20 words", "leave the number of words open")
