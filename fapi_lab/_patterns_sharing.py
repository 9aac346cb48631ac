"""Builders of merged and shared layers and models: merges, a shared embedding, siamese networks, VGG19 features
(P24-P28). Public through :mod:`fapi_lab.patterns`.
"""

from __future__ import annotations

import re

from ._i18n import _
from ._patterns_basic import Shape, _bool_arg, _shape_arg
from ._quiet import quiet as _quiet
from ._synthetic import _int_arg, _require

_quiet()  # import TensorFlow without its start-up noise (a no-op if it is already imported)

import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = [
    "merges",
    "shared_embedding",
    "siamese_lstm",
    "siamese_vision",
    "vgg19_features",
]


# -- P24-P28: merging and sharing ----------------------------------------------------------------------------
def merges(*, units: int = 8) -> keras.Model:
    """P24: every merge layer on the same two inputs ``a`` and ``b`` (``units`` numbers each); no weights.

    Outputs, one per merge: ``sum`` (add), ``difference`` (subtract), ``product`` (multiply), ``mean``
    (average), ``maximum``, ``minimum``, ``concatenated`` (2·units numbers) and ``cosine`` -- ``dot`` with
    ``normalize=True``, the cosine similarity (one number).

    Keras 1's ``merge([a, b], mode='sum'|'mul'|'concat'|'ave'|'cos'|'dot')`` (document 001) is gone; these
    functions replace its modes. ``mode='join'`` has no equivalent.
    """
    units = _int_arg("units", units)
    a = keras.Input(shape=(units,), name="a")
    b = keras.Input(shape=(units,), name="b")
    outputs = [
        layers.add([a, b], name="sum"),
        layers.subtract([a, b], name="difference"),
        layers.multiply([a, b], name="product"),
        layers.average([a, b], name="mean"),
        layers.maximum([a, b], name="maximum"),
        layers.minimum([a, b], name="minimum"),
        layers.concatenate([a, b], name="concatenated"),
        layers.dot([a, b], axes=-1, normalize=True, name="cosine"),
    ]
    return keras.Model([a, b], outputs, name="merges")


def shared_embedding() -> keras.Model:
    """P25: one ``Embedding(1000, 128)`` (``shared_embedding``) encoding two texts ``text_a`` and ``text_b``.

    Documents 000/002 stop at the two encoded tensors. To make a trainable model, both encodings are
    averaged by one shared ``pool`` layer and compared by their cosine (``cosine``,
    ``dot(normalize=True)``); ``same_topic`` (a sigmoid) turns the cosine into a probability that the texts
    share a topic. 128,002 parameters: the embedding is counted once although it is called twice.

    ``same_topic`` starts with weight 1 (``kernel_initializer='ones'``) so that "more alike" means "more
    likely the same topic" from the first step. With a random start the weight is negative half the time;
    then training pushes similar texts *apart*, the embedding memorises the training pairs instead, and
    validation accuracy stays at chance (measured on ``datasets.siamese_text_data``).
    """
    embedding = layers.Embedding(1000, 128, name="shared_embedding")
    pool = layers.GlobalAveragePooling1D(name="pool")
    text_input_a = keras.Input(shape=(None,), dtype="int32", name="text_a")
    text_input_b = keras.Input(shape=(None,), dtype="int32", name="text_b")
    encoded_input_a = embedding(text_input_a)
    encoded_input_b = embedding(text_input_b)
    cosine = layers.dot([pool(encoded_input_a), pool(encoded_input_b)], axes=-1, normalize=True, name="cosine")
    same_topic = layers.Dense(1, activation="sigmoid", kernel_initializer="ones", name="same_topic")(cosine)
    return keras.Model([text_input_a, text_input_b], same_topic, name="shared_embedding")


def siamese_lstm(*, compiled: bool = True) -> keras.Model:
    """P26: one ``LSTM(32)`` (``lstm``) reads two sequences ``left`` and ``right`` of 128-d steps.

    The two encodings are concatenated (``merged``) into ``Dense(1, sigmoid)`` (``predictions``).
    20,673 parameters; the LSTM's 20,608 are counted once.

    Fixed: document 004 calls ``model.fit`` without ``compile``; this model is compiled (``rmsprop``,
    ``binary_crossentropy``, ``accuracy``) unless ``compiled=False``. Note that this head computes
    f(left) + g(right): it can learn to *compare* the two sides but not to tell whether they are *equal*
    (see ``datasets.siamese_sequence_data(task=...)``).
    """
    compiled = _bool_arg("compiled", compiled)
    lstm = layers.LSTM(32, name="lstm")
    left_input = keras.Input(shape=(None, 128), name="left")
    left_output = lstm(left_input)
    right_input = keras.Input(shape=(None, 128), name="right")
    right_output = lstm(right_input)
    merged = layers.concatenate([left_output, right_output], axis=-1, name="merged")
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(merged)
    model = keras.Model([left_input, right_input], predictions, name="siamese_lstm")
    if compiled:
        model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _snake_case(class_name: str) -> str:
    """The auto-name stem of a class: ``Conv2D`` -> ``conv2d``, ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _fresh_session_names(model: keras.Model) -> keras.Model:
    """Rename a model's auto-named layers as they would be named in a fresh Keras session.

    Keras numbers unnamed layers by a counter that runs for the whole session (``conv2d``, ``conv2d_1``...),
    so the same application model gets different names depending on what was built before it. Renumbering
    them per model, in order, gives the names a fresh session gives.
    """
    counts: dict[str, int] = {}
    for layer in model.layers:
        stem = _snake_case(type(layer).__name__)
        if re.fullmatch(re.escape(stem) + r"(_\d+)?", layer.name):
            index = counts.get(stem, 0)
            counts[stem] = index + 1
            layer.name = stem if index == 0 else f"{stem}_{index}"
    return model


def siamese_vision(input_shape: Shape = (250, 250, 3)) -> keras.Model:
    """P27: one Xception convolutional base (``xception``, weights=None) shared by two images.

    ``left_image`` and ``right_image`` go through the *same* ``Xception(weights=None, include_top=False)``
    model; the two feature maps are concatenated on the channel axis (``merged_features``, 4,096
    channels). 20,861,480 parameters -- exactly Xception's: calling a model twice reuses its weights.
    Xception needs images of at least 71x71; use e.g. ``(71, 71, 3)`` for quick experiments.

    Fixed: document 004 writes ``right_input = xception_base(right_input)``, overwriting the input tensor
    with the features; here they are ``right_features``. ``weights='imagenet'`` would download 83 MB,
    so the base is untrained.

    Keras's Xception leaves 20 of its layers unnamed (the ``conv2d`` and ``batch_normalization`` of its
    four projection shortcuts and its twelve ``add`` layers), so their numbers would depend on what was
    built earlier in the session; the builder renames them to the names a fresh session gives.
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3, min_size=71, channels=3)
    base_input = keras.Input(shape=input_shape, name="image")
    xception_base = keras.applications.Xception(weights=None, include_top=False, input_tensor=base_input)
    _fresh_session_names(xception_base)
    left_input = keras.Input(shape=input_shape, name="left_image")
    left_features = xception_base(left_input)
    right_input = keras.Input(shape=input_shape, name="right_image")
    right_features = xception_base(right_input)
    merged_features = layers.concatenate([left_features, right_features], axis=-1, name="merged_features")
    return keras.Model([left_input, right_input], merged_features, name="siamese_vision")


def vgg19_features(
    input_shape: Shape = (224, 224, 3), *, include_top: bool | None = None
) -> tuple[keras.Model, keras.Model]:
    """P28: ``(vgg19, feature_extractor)`` -- VGG19 and a model returning every layer's output.

    ``feature_extractor = keras.Model(image, [layer.output for layer in vgg19.layers])``: one output
    per layer, from the input image itself to the last layer, computed in one pass.

    ``include_top=None`` means: the full classifier (``include_top=True``, 143,667,240 parameters, 26
    outputs) at VGG19's own 224x224x3, and only the convolutional base (``include_top=False``,
    20,024,384 parameters, 22 outputs) at any other size, because the top's first Dense layer is sized for
    a 224x224 input. Other sizes must be at least 32x32.

    Fixed: the documents call ``VGG19()``, which downloads 549 MB of ImageNet weights; here
    ``weights=None`` (random weights, same graph).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3, min_size=32, channels=3)
    full_size = input_shape == (224, 224, 3)
    if include_top is None:
        include_top = full_size
    _bool_arg("include_top", include_top)
    _require(full_size or not include_top, "include_top", include_top,
             _("False (or None) unless input_shape is (224, 224, 3): the classifier top needs 224x224 images"))
    image = keras.Input(shape=input_shape, name="image")
    vgg19 = keras.applications.VGG19(weights=None, include_top=include_top, input_tensor=image)
    features_list = [layer.output for layer in vgg19.layers]
    # The documents write inputs=vgg19.input. Given input_tensor=, Keras keeps that as a one-item list, and a
    # model built on the list warns when it is called on a bare array; the tensor itself avoids that.
    feature_extractor = keras.Model(inputs=image, outputs=features_list, name="feature_extractor")
    return vgg19, feature_extractor
