"""The source documents' models, one builder per model, written for Keras 3.

Every builder returns a freshly built ``keras.Model`` (or a tuple of models whose *last* item is the main
one) with the documents' layer sizes. Every layer, input and model has an explicit, short name, so
summaries, graphs and stored lesson outputs do not change from run to run (Keras would otherwise number
layers ``dense_7``, ``dense_8``... depending on what was built before).

Where a document's code is wrong or no longer runs, the builder uses the working form and its docstring
says what changed ("Fixed:"). Where documents 000 and 002 differ (000 ends in logits, 002 in
softmax/sigmoid), ``logits=True`` gives document 000's form and ``logits=False`` document 002's.

``BUILDERS`` maps each builder's name to the builder (all callable without arguments), ``PATTERN_BUILDERS``
maps pattern IDs of ``PATTERNS.md`` to builder names, and :func:`example_inputs` makes NumPy data that fits
any model's inputs.

Bad arguments raise ``ValueError`` naming the argument and the accepted values, before Keras is involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from ._quiet import quiet as _quiet
from ._synthetic import _int_arg, _require

_quiet()  # import TensorFlow without its start-up noise (a no-op if it is already imported)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

__all__ = [
    "BUILDERS",
    "PATTERN_BUILDERS",
    "CustomDense",
    "CustomRNN",
    "SubclassedMLP",
    "custom_dense_model",
    "custom_rnn_model",
    "deep_plain_stack",
    "deep_residual_stack",
    "encoder_autoencoder",
    "ensemble",
    "example_inputs",
    "functional_mlp",
    "inception_block",
    "inception_module",
    "merges",
    "mnist_mlp",
    "nested_autoencoder",
    "pointwise_bottleneck",
    "question_answering_model",
    "residual_block",
    "residual_blocks",
    "sequence_classifier",
    "sequential_mlp",
    "shared_embedding",
    "siamese_lstm",
    "siamese_vision",
    "social_media_model",
    "subclassed_mlp",
    "ticket_model",
    "time_distributed",
    "toy_resnet",
    "vgg19_features",
]

Shape = tuple[int, ...]


# -- argument checks ---------------------------------------------------------------------------------------------
def _bool_arg(name: str, value: Any) -> bool:
    _require(isinstance(value, bool), name, value, "True or False")
    return value


def _name_arg(name: str, value: Any) -> str:
    _require(isinstance(value, str) and value.isidentifier(), name, value,
             "a non-empty name made of letters, digits and underscores")
    return value


def _shape_arg(name: str, value: Any, *, rank: int, min_size: int = 1, channels: int | None = None) -> Shape:
    """Check an input shape such as ``(height, width, channels)``: positive ints, spatial dims >= min_size."""
    accepted = f"a tuple of {rank} positive integers"
    if min_size > 1:
        accepted += f" whose first {rank - 1} are >= {min_size}"
    if channels is not None:
        accepted += f" and whose last is {channels}"
    ok = isinstance(value, tuple | list) and len(value) == rank
    ok = ok and all(isinstance(d, Integral) and not isinstance(d, bool) and d >= 1 for d in value)
    ok = ok and all(d >= min_size for d in value[:-1])
    ok = ok and (channels is None or value[-1] == channels)
    _require(ok, name, value, accepted)
    return tuple(int(d) for d in value)


def _activation(logits: bool, activation: str) -> str | None:
    return None if _bool_arg("logits", logits) else activation


# -- P01-P05, P31: multilayer perceptrons -------------------------------------------------------------------
def mnist_mlp(*, logits: bool = True, name: str = "mnist_model") -> keras.Model:
    """P01/P02: the MNIST MLP of documents 000 and 002 -- 784 -> Dense 64 relu -> Dense 64 relu -> Dense 10.

    55,050 parameters: ``dense_1`` 50,240, ``dense_2`` 4,160, ``predictions`` 650. The input is named
    ``img`` as in document 002. ``logits=True`` (document 000) ends in a plain ``Dense(10)``: compile with
    ``SparseCategoricalCrossentropy(from_logits=True)``. ``logits=False`` (document 002) ends in softmax.
    """
    activation = _activation(logits, "softmax")
    name = _name_arg("name", name)
    inputs = keras.Input(shape=(784,), name="img")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation=activation, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def sequential_mlp(
    *,
    input_dim: int = 784,
    hidden_units: Sequence[int] = (64, 64),
    num_classes: int = 10,
    logits: bool = True,
    name: str = "sequential_mlp",
) -> keras.Sequential:
    """P03: the same MLP as a ``keras.Sequential``, with ``keras.Input`` as its first entry.

    The defaults give the MNIST MLP of documents 000/003 (55,050 parameters). Document 004's form is
    ``sequential_mlp(input_dim=64, hidden_units=(32, 32), logits=False)`` (64 -> 32 -> 32 -> 10 softmax);
    document 003's distributed-training model (P36) is
    ``sequential_mlp(input_dim=10, hidden_units=(16,), num_classes=1)``.

    Fixed: the documents pass ``input_shape=``/``input_dim=`` to the first ``Dense``; Keras 3 warns about
    that and wants ``keras.Input(shape)`` first.
    """
    input_dim = _int_arg("input_dim", input_dim)
    ok = isinstance(hidden_units, Sequence) and not isinstance(hidden_units, str) and len(hidden_units) > 0
    _require(ok, "hidden_units", hidden_units, "a non-empty sequence of positive integers, e.g. (64, 64)")
    units = [_int_arg("hidden_units", u) for u in hidden_units]
    num_classes = _int_arg("num_classes", num_classes)
    activation = _activation(logits, "softmax" if num_classes > 1 else "sigmoid")
    name = _name_arg("name", name)
    stack: list[Any] = [keras.Input(shape=(input_dim,), name="img")]
    stack += [layers.Dense(u, activation="relu", name=f"dense_{i}") for i, u in enumerate(units, start=1)]
    stack.append(layers.Dense(num_classes, activation=activation, name="predictions"))
    return keras.Sequential(stack, name=name)


def functional_mlp(*, input_dim: int = 32, name: str = "mlp") -> keras.Model:
    """P31: the functional twin of :class:`SubclassedMLP` -- 32 -> Dense 64 relu -> Dense 10; 2,762 parameters.

    Document 002's Spanish text machine-translated this code (``capas. Denso``, ``salidas``); this is the
    original. The layers carry the same names as the subclassed model's attributes.
    """
    input_dim = _int_arg("input_dim", input_dim)
    name = _name_arg("name", name)
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(10, name="dense_2")(x)
    return keras.Model(inputs, outputs, name=name)


@keras.utils.register_keras_serializable(package="fapi_lab")
class SubclassedMLP(keras.Model):
    """P31/P32: the MLP as a ``keras.Model`` subclass -- layers made in ``__init__``, wired in ``call``.

    It has no weights until it is built (called once, or ``build((None, input_dim))``); built on 32 inputs
    it has 2,762 parameters. Building also sets ``input_spec``, the only record of the input shape a
    subclassed model keeps (it has no ``inputs``), so later calls are checked.

    Fixed: document 003's ``MyModel.__init__`` calls ``super().__init__(name='my_model')`` and drops
    ``**kwargs``; here ``**kwargs`` are passed on and ``get_config`` makes the model saveable.
    """

    def __init__(self, hidden_units: int = 64, num_classes: int = 10, **kwargs: Any) -> None:
        hidden_units = _int_arg("hidden_units", hidden_units)
        num_classes = _int_arg("num_classes", num_classes)
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.num_classes = num_classes
        self.dense_1 = layers.Dense(hidden_units, activation="relu", name="dense_1")
        self.dense_2 = layers.Dense(num_classes, name="dense_2")

    def build(self, input_shape: Shape) -> None:
        self.dense_1.build(input_shape)
        self.dense_2.build((*input_shape[:-1], self.hidden_units))
        self.input_spec = keras.InputSpec(shape=(None, input_shape[-1]))

    def call(self, inputs: Any) -> Any:
        x = self.dense_1(inputs)
        return self.dense_2(x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "hidden_units": self.hidden_units, "num_classes": self.num_classes}


def subclassed_mlp(*, input_dim: int = 32, name: str = "subclassed_mlp") -> SubclassedMLP:
    """P31/P32: a :class:`SubclassedMLP`, built the documents' way by calling it once on zeros (1, 32)."""
    input_dim = _int_arg("input_dim", input_dim)
    name = _name_arg("name", name)
    model = SubclassedMLP(name=name)
    model(ops.zeros((1, input_dim)))  # "The model doesn't have a state until it's called at least once."
    return model


# -- P12/P13: autoencoders ---------------------------------------------------------------------------------------
def _encoder_layers(x: Any) -> Any:
    x = layers.Conv2D(16, 3, activation="relu", name="conv2d_1")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="conv2d_2")(x)
    x = layers.MaxPooling2D(3, name="max_pooling2d")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="conv2d_3")(x)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2d_4")(x)
    return layers.GlobalMaxPooling2D(name="global_max_pooling2d")(x)


def _decoder_layers(x: Any) -> Any:
    x = layers.Reshape((4, 4, 1), name="reshape")(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu", name="conv2d_transpose_1")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", name="conv2d_transpose_2")(x)
    x = layers.UpSampling2D(3, name="up_sampling2d")(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu", name="conv2d_transpose_3")(x)
    return layers.Conv2DTranspose(1, 3, activation="relu", name="conv2d_transpose_4")(x)


def encoder_autoencoder() -> tuple[keras.Model, keras.Model]:
    """P12: one graph of layers, two models -- ``(encoder, autoencoder)``.

    The encoder maps a 28x28x1 image ``img`` to a 16-vector (18,672 parameters); the autoencoder continues
    the *same* layer graph through a decoder back to 28x28x1 (28,241 parameters). The encoder's layers are
    the autoencoder's first layers: training the autoencoder trains the encoder.
    """
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoder_output = _encoder_layers(encoder_input)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    decoder_output = _decoder_layers(encoder_output)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    return encoder, autoencoder


def nested_autoencoder() -> tuple[keras.Model, keras.Model, keras.Model]:
    """P13: models are callable like layers -- ``(encoder, decoder, autoencoder)``.

    ``encoder`` (input ``original_img``, 18,672 parameters) and ``decoder`` (input ``encoded_img``, 9,569)
    are separate models; ``autoencoder`` (input ``img``) calls them as two layers: 28,241 parameters, the
    same weights, not copies.
    """
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    encoder = keras.Model(encoder_input, _encoder_layers(encoder_input), name="encoder")
    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    decoder = keras.Model(decoder_input, _decoder_layers(decoder_input), name="decoder")
    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    return encoder, decoder, autoencoder


# -- P14/P15: models as layers ------------------------------------------------------------------------------------
def ensemble(*, num_models: int = 3, logits: bool = True) -> keras.Model:
    """P14: average the predictions of three small models (``get_model()``: 128 -> Dense 1); 387 parameters.

    The members are named ``model_1``, ``model_2``, ``model_3``; ``layers.average`` (``average``) merges
    them. ``logits=False`` gives document 002's ``Dense(1, activation='sigmoid')`` members.
    """
    num_models = _int_arg("num_models", num_models, minimum=2, maximum=10)
    activation = _activation(logits, "sigmoid")

    def get_model(name: str) -> keras.Model:
        inputs = keras.Input(shape=(128,), name="features")
        outputs = layers.Dense(1, activation=activation, name="score")(inputs)
        return keras.Model(inputs, outputs, name=name)

    members = [get_model(f"model_{i}") for i in range(1, num_models + 1)]
    inputs = keras.Input(shape=(128,), name="features")
    outputs = layers.average([member(inputs) for member in members], name="average")
    return keras.Model(inputs=inputs, outputs=outputs, name="ensemble")


def time_distributed(*, timesteps: int = 20) -> keras.Model:
    """P15: any model applied to an ``Input``; ``TimeDistributed(model)`` over sequences of (20, 784).

    Document 001 applies "any model" to ``Input(shape=(784,))`` and then to every step of an
    ``Input(shape=(20, 784))``. The per-frame model here is the MNIST MLP named ``frame_model`` (55,050
    parameters, shared by all 20 steps: the sequence model has 55,050 too); find it again with
    ``model.get_layer('per_frame').layer``. Output: (batch, 20, 10).
    """
    timesteps = _int_arg("timesteps", timesteps)
    frame_model = mnist_mlp(name="frame_model")
    input_sequences = keras.Input(shape=(timesteps, 784), name="frames")
    processed = layers.TimeDistributed(frame_model, name="per_frame")(input_sequences)
    return keras.Model(input_sequences, processed, name="time_distributed")


# -- P16-P20: multi-input and multi-output models -----------------------------------------------------------------
def ticket_model(
    *, num_words: int = 10_000, num_tags: int = 12, num_departments: int = 4, logits: bool = True
) -> keras.Model:
    """P16/P17: the ticket model -- inputs ``title``, ``body``, ``tags``; outputs ``priority``, ``department``.

    Title and body words are embedded (64-d) and read by ``LSTM(128)`` and ``LSTM(32)``; the two readings
    and the 12 tags are concatenated (``features``) and feed both heads. 1,392,097 parameters.
    ``logits=True`` (document 000) gives plain ``Dense`` heads for ``from_logits=True`` losses;
    ``logits=False`` (document 002) gives sigmoid and softmax heads.

    Fixed: the documents' title and body inputs are float32 although they carry word ids
    ("Variable-length sequence of ints"); here they are ``dtype='int32'``.
    """
    num_words = _int_arg("num_words", num_words, minimum=2)
    num_tags = _int_arg("num_tags", num_tags)
    num_departments = _int_arg("num_departments", num_departments, minimum=2)
    priority_activation = _activation(logits, "sigmoid")
    department_activation = _activation(logits, "softmax")

    title_input = keras.Input(shape=(None,), dtype="int32", name="title")
    body_input = keras.Input(shape=(None,), dtype="int32", name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64, name="title_embedding")(title_input)
    body_features = layers.Embedding(num_words, 64, name="body_embedding")(body_input)
    title_features = layers.LSTM(128, name="title_lstm")(title_features)
    body_features = layers.LSTM(32, name="body_lstm")(body_features)
    x = layers.concatenate([title_features, body_features, tags_input], name="features")
    priority = layers.Dense(1, activation=priority_activation, name="priority")(x)
    department = layers.Dense(num_departments, activation=department_activation, name="department")(x)
    return keras.Model(
        inputs=[title_input, body_input, tags_input], outputs=[priority, department], name="ticket_model"
    )


def question_answering_model(*, compiled: bool = True) -> keras.Model:
    """P19: question answering -- inputs ``text`` and ``question`` -> ``answer`` (softmax over 500 words).

    Text: Embedding(10000, 64) + LSTM(32); question: Embedding(10000, 32) + LSTM(16); concatenated
    (``concatenated``) into ``Dense(500, softmax)``. 1,000,052 parameters. Compiled as in document 004
    (``rmsprop``, ``categorical_crossentropy``, metric ``acc``) unless ``compiled=False``.
    """
    compiled = _bool_arg("compiled", compiled)
    text_input = keras.Input(shape=(None,), dtype="int32", name="text")
    embedded_text = layers.Embedding(10_000, 64, name="text_embedding")(text_input)
    encoded_text = layers.LSTM(32, name="text_lstm")(embedded_text)
    question_input = keras.Input(shape=(None,), dtype="int32", name="question")
    embedded_question = layers.Embedding(10_000, 32, name="question_embedding")(question_input)
    encoded_question = layers.LSTM(16, name="question_lstm")(embedded_question)
    concatenated = layers.concatenate([encoded_text, encoded_question], axis=-1, name="concatenated")
    answer = layers.Dense(500, activation="softmax", name="answer")(concatenated)
    model = keras.Model([text_input, question_input], answer, name="question_answering")
    if compiled:
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["acc"])
    return model


def social_media_model(*, compiled: bool = True) -> keras.Model:
    """P20: one input ``posts`` -> three outputs ``age`` (regression), ``income`` (10 groups), ``gender``.

    Embedding(50000, 256), five Conv1D (128, 256, 256, 256, 256; kernel 5) with two MaxPooling1D(5), a
    global max pool and ``Dense(128)`` feed the three heads. 14,146,316 parameters. Posts must be at least
    269 words long, or the convolutions shrink them to nothing. Compiled as in document 004 (``rmsprop``;
    ``mse``, ``categorical_crossentropy``, ``binary_crossentropy``; ``loss_weights`` 0.25, 1, 10 -- written
    as dicts keyed by output name) unless ``compiled=False``.

    Fixed: document 004 writes ``layers.Embedding(256, vocabulary_size)`` -- a 256-word vocabulary with
    50,000-d vectors (45,982,476 parameters, and any word id >= 256 is out of range). The arguments are
    ``Embedding(input_dim=vocabulary_size, output_dim=256)``.
    """
    compiled = _bool_arg("compiled", compiled)
    posts_input = keras.Input(shape=(None,), dtype="int32", name="posts")
    x = layers.Embedding(50_000, 256, name="embedding")(posts_input)
    x = layers.Conv1D(128, 5, activation="relu", name="conv1d_1")(x)
    x = layers.MaxPooling1D(5, name="max_pooling1d_1")(x)
    x = layers.Conv1D(256, 5, activation="relu", name="conv1d_2")(x)
    x = layers.Conv1D(256, 5, activation="relu", name="conv1d_3")(x)
    x = layers.MaxPooling1D(5, name="max_pooling1d_2")(x)
    x = layers.Conv1D(256, 5, activation="relu", name="conv1d_4")(x)
    x = layers.Conv1D(256, 5, activation="relu", name="conv1d_5")(x)
    x = layers.GlobalMaxPooling1D(name="global_max_pooling1d")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    age = layers.Dense(1, name="age")(x)
    income = layers.Dense(10, activation="softmax", name="income")(x)
    gender = layers.Dense(1, activation="sigmoid", name="gender")(x)
    model = keras.Model(posts_input, [age, income, gender], name="social_media")
    if compiled:
        model.compile(
            optimizer="rmsprop",
            loss={"age": "mse", "income": "categorical_crossentropy", "gender": "binary_crossentropy"},
            loss_weights={"age": 0.25, "income": 1.0, "gender": 10.0},
        )
    return model


# -- P21-P23, P37: residual connections, Inception, 1x1 convolutions ---------------------------------------
def toy_resnet(*, logits: bool = True) -> keras.Model:
    """P21: the toy ResNet for CIFAR-10 (32x32x3 ``img`` -> 10 classes); 223,242 parameters, name ``toy_resnet``.

    Two residual blocks each add their input to the output of two 3x3 ``padding='same'`` convolutions
    (``block_2_output`` and ``block_3_output`` are the ``add`` layers). ``logits=True`` is document 000's
    ``Dense(10)``; ``logits=False`` is document 002's softmax.
    """
    activation = _activation(logits, "softmax")
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu", name="conv_1")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", name="conv_2")(x)
    block_1_output = layers.MaxPooling2D(3, name="block_1_output")(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_2_conv_1")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_2_conv_2")(x)
    block_2_output = layers.add([x, block_1_output], name="block_2_output")

    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_3_conv_1")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same", name="block_3_conv_2")(x)
    block_3_output = layers.add([x, block_2_output], name="block_3_output")

    x = layers.Conv2D(64, 3, activation="relu", name="conv_3")(block_3_output)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dense(256, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(10, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def _feature_map(x: Any, argument: str = "x") -> tuple[int | None, ...]:
    shape = getattr(x, "shape", None)
    _require(shape is not None and len(shape) == 4, argument, x, "a 4-D tensor (batch, height, width, channels)")
    return tuple(shape)


def residual_block(x: Any, filters: int, *, projection: bool = False, name: str = "residual") -> Any:
    """P22: document 004's residual connections, as a function from a 4-D tensor to a 4-D tensor.

    * ``projection=False`` -- **identity** shortcut: three 3x3 ``padding='same'`` convolutions, then
      ``add([y, x])``. The shapes must already agree, so ``x`` must have ``filters`` channels.
    * ``projection=True`` -- **linear projection** shortcut: two 3x3 convolutions and a 2x2 max pool halve
      the feature map, so ``x`` is brought to the same shape by a strided 1x1 convolution
      (``Conv2D(filters, 1, strides=2)``) before the add.

    Layers are named ``{name}_conv_1``... ``{name}_add`` (plus ``{name}_pool`` and ``{name}_shortcut``);
    call it with a different ``name`` for each block of a model.

    Fixed: document 004 starts from ``x = ...``; here ``x`` is the argument. Its pool has no padding, which
    gives a map one pixel smaller than the ``padding='same'`` shortcut whenever the size is odd; here the
    pool uses ``padding='same'`` too, so both sides line up for every size.
    """
    shape = _feature_map(x)
    filters = _int_arg("filters", filters)
    projection = _bool_arg("projection", projection)
    name = _name_arg("name", name)
    if not projection:
        _require(shape[-1] == filters, "filters", filters,
                 f"{shape[-1]} (the channels of x): an identity shortcut adds x unchanged, so the shapes must "
                 "agree; use projection=True to change the shape")
    convs = 2 if projection else 3
    y = x
    for i in range(1, convs + 1):
        y = layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"{name}_conv_{i}")(y)
    shortcut = x
    if projection:
        y = layers.MaxPooling2D(2, strides=2, padding="same", name=f"{name}_pool")(y)
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", name=f"{name}_shortcut")(x)
    return layers.add([y, shortcut], name=f"{name}_add")


def residual_blocks(*, input_shape: Shape = (32, 32, 3), filters: int = 128) -> keras.Model:
    """P22: one identity residual block, then one projection residual block, on a small image classifier.

    ``img`` -> ``stem`` (3x3 conv to ``filters`` channels) -> ``identity_*`` (same shape) ->
    ``projection_*`` (half the height and width) -> ``global_pool`` -> ``predictions`` (10 logits).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3, min_size=2)
    filters = _int_arg("filters", filters)
    inputs = keras.Input(shape=input_shape, name="img")
    x = layers.Conv2D(filters, 3, activation="relu", padding="same", name="stem")(inputs)
    x = residual_block(x, filters, name="identity")
    x = residual_block(x, filters, projection=True, name="projection")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs, outputs, name="residual_blocks")


def inception_block(x: Any, filters: int = 128, *, name: str = "inception") -> Any:
    """P23: document 004's Inception module -- four parallel branches, concatenated on the channel axis.

    * a: 1x1 conv, stride 2
    * b: 1x1 conv -> 3x3 conv, stride 2
    * c: 3x3 average pool, stride 2 -> 3x3 conv
    * d: 1x1 conv -> 3x3 conv -> 3x3 conv, stride 2

    Each branch halves the height and width and has ``filters`` channels, so the output has 4·filters.

    Fixed: document 004 gives the 3x3 layers no padding, so the branches come out in different sizes
    (on a 32x32 input: 16, 15, 13 and 14) and ``concatenate`` fails. Every layer here has
    ``padding='same'`` and the branches line up.
    """
    _feature_map(x)
    filters = _int_arg("filters", filters)
    name = _name_arg("name", name)

    def conv(t: Any, size: int, label: str, strides: int = 1) -> Any:
        return layers.Conv2D(filters, size, strides=strides, activation="relu", padding="same",
                             name=f"{name}_{label}")(t)

    branch_a = conv(x, 1, "a_1x1", strides=2)
    branch_b = conv(conv(x, 1, "b_1x1"), 3, "b_3x3", strides=2)
    branch_c = layers.AveragePooling2D(3, strides=2, padding="same", name=f"{name}_c_pool")(x)
    branch_c = conv(branch_c, 3, "c_3x3")
    branch_d = conv(conv(conv(x, 1, "d_1x1"), 3, "d_3x3_1"), 3, "d_3x3_2", strides=2)
    return layers.concatenate([branch_a, branch_b, branch_c, branch_d], axis=-1, name=f"{name}_concat")


def inception_module(*, input_shape: Shape = (32, 32, 64), filters: int = 128) -> keras.Model:
    """P23: a model made of one :func:`inception_block` on a ``feature_map`` input (default 32x32x64).

    Output: (batch, 16, 16, 4·filters).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3, min_size=2)
    filters = _int_arg("filters", filters)
    inputs = keras.Input(shape=input_shape, name="feature_map")
    return keras.Model(inputs, inception_block(inputs, filters), name="inception_module")


def pointwise_bottleneck(*, input_shape: Shape = (16, 16, 256), bottleneck_filters: int = 64) -> keras.Model:
    """P37: 1x1 (pointwise) convolutions around a 3x3 one -- a "1x1 reduction" block (ResNet calls it a bottleneck).

    A 1x1 convolution is a ``Dense`` layer applied to every pixel's channel vector: it mixes channels, not
    space. ``pointwise_reduce`` squeezes 256 channels to 64, ``conv_3x3`` works on the thin map and
    ``pointwise_expand`` restores 256; ``skip`` adds the input back. 70,016 parameters, against 590,080 for
    one plain 3x3 convolution from 256 to 256 channels. The skip keeps the thin 64-channel middle from becoming
    a *representation bottleneck* (a layer can only pass on what fits into it): it re-injects the full input,
    which is how document 004 says residual connections relieve bottlenecks (lesson 6b measures it).
    """
    input_shape = _shape_arg("input_shape", input_shape, rank=3)
    bottleneck_filters = _int_arg("bottleneck_filters", bottleneck_filters)
    inputs = keras.Input(shape=input_shape, name="feature_map")
    x = layers.Conv2D(bottleneck_filters, 1, activation="relu", name="pointwise_reduce")(inputs)
    x = layers.Conv2D(bottleneck_filters, 3, activation="relu", padding="same", name="conv_3x3")(x)
    x = layers.Conv2D(input_shape[-1], 1, name="pointwise_expand")(x)
    outputs = layers.add([x, inputs], name="skip")
    return keras.Model(inputs, outputs, name="pointwise_bottleneck")


def _deep_stack(depth: int, units: int, input_dim: int, activation: str, *, residual: bool) -> keras.Model:
    depth = _int_arg("depth", depth, maximum=500)
    units = _int_arg("units", units)
    input_dim = _int_arg("input_dim", input_dim)
    _require(activation in ("sigmoid", "tanh", "relu", "linear"), "activation", activation,
             "one of 'sigmoid', 'tanh', 'relu', 'linear'")
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = layers.Dense(units, name="stem")(inputs)
    for i in range(1, depth + 1):
        h = layers.Dense(units, activation=activation, name=f"dense_{i}")(x)
        x = layers.add([x, h], name=f"skip_{i}") if residual else h
    outputs = layers.Dense(1, name="output")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"deep_{kind}_stack")


def deep_plain_stack(
    depth: int = 20, *, units: int = 32, input_dim: int = 16, activation: str = "sigmoid"
) -> keras.Model:
    """P37: ``depth`` Dense layers in a plain stack (``stem``, ``dense_1``... ``dense_{depth}``, ``output``).

    With sigmoid activations the gradient reaching ``dense_1`` is many orders of magnitude smaller than
    the one at ``dense_{depth}``: the vanishing gradient of document 004. Compare
    :func:`deep_residual_stack` -- same layers, same parameter count, plus skip connections.
    """
    return _deep_stack(depth, units, input_dim, activation, residual=False)


def deep_residual_stack(
    depth: int = 20, *, units: int = 32, input_dim: int = 16, activation: str = "sigmoid"
) -> keras.Model:
    """P37: the same ``depth`` Dense layers with residual connections (``skip_i = add([x, dense_i(x)])``).

    The adds form a purely linear "carry track" beside the layers, so gradients reach the first layers
    undiminished -- document 004's explanation of why residual connections help deep networks.
    """
    return _deep_stack(depth, units, input_dim, activation, residual=True)


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
             "False (or None) unless input_shape is (224, 224, 3): the classifier top needs 224x224 images")
    image = keras.Input(shape=input_shape, name="image")
    vgg19 = keras.applications.VGG19(weights=None, include_top=include_top, input_tensor=image)
    features_list = [layer.output for layer in vgg19.layers]
    # The documents write inputs=vgg19.input. Given input_tensor=, Keras keeps that as a one-item list, and a
    # model built on the list warns when it is called on a bare array; the tensor itself avoids that.
    feature_extractor = keras.Model(inputs=image, outputs=features_list, name="feature_extractor")
    return vgg19, feature_extractor


# -- P29-P34: custom layers and mixed styles -----------------------------------------------------------------
@keras.utils.register_keras_serializable(package="fapi_lab")
class CustomDense(keras.layers.Layer):
    """P29/P30: a hand-written Dense layer -- ``build`` creates the weights, ``call`` uses them.

    Serializable: ``get_config`` returns the constructor arguments (``units``) on top of the base layer's
    (``name``, ``trainable``, ``dtype``), and the class is registered as ``fapi_lab>CustomDense``, so
    ``keras.models.load_model`` finds it without ``custom_objects``.

    Fixed: the documents' ``__init__(self, units=32)`` drops ``**kwargs`` (so ``name=`` is impossible and
    ``from_config`` fails on the base keys), their ``get_config`` returns only ``{'units': ...}`` and their
    ``call`` uses ``tf.matmul`` without importing ``tf``; here ``keras.ops.matmul`` works on any backend.
    """

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        units = _int_arg("units", units)
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: Shape) -> None:
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True, name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True, name="bias")

    def call(self, inputs: Any) -> Any:
        return ops.matmul(inputs, self.w) + self.b

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


def custom_dense_model() -> keras.Model:
    """P29/P30: ``Input((4,))`` (``features``) -> ``CustomDense(10)`` (``custom_dense``); 50 parameters."""
    inputs = keras.Input(shape=(4,), name="features")
    outputs = CustomDense(10, name="custom_dense")(inputs)
    return keras.Model(inputs, outputs, name="custom_dense_model")


def sequence_classifier(units: int = 32) -> keras.Model:
    """P33: the small functional model used inside :class:`CustomRNN` -- (batch, time, units) -> (batch, 1).

    ``rnn_features`` -> ``GlobalAveragePooling1D`` (``pool``) -> ``Dense(1)`` (``score``); name
    ``classifier``.
    """
    units = _int_arg("units", units)
    inputs = keras.Input(shape=(None, units), name="rnn_features")
    x = layers.GlobalAveragePooling1D(name="pool")(inputs)
    outputs = layers.Dense(1, name="score")(x)
    return keras.Model(inputs, outputs, name="classifier")


@keras.utils.register_keras_serializable(package="fapi_lab")
class CustomRNN(keras.layers.Layer):
    """P33/P34: a simple RNN written by hand, whose classifier is a functional model.

    At every time step ``state = projection_1(x_t) + projection_2(state)``; the stacked states go to
    :func:`sequence_classifier`. The number of time steps must be fixed (the Python loop runs over it).

    ``call(inputs, training=None, mask=None)`` has the full signature document 002 lists for layers used
    in functional models: ``training`` is passed on to the classifier, ``mask`` is accepted and unused.

    Fixed: the documents start from ``tf.zeros(shape=(inputs.shape[0], units))``, which needs a static
    batch size (hence their ``keras.Input(batch_shape=...)``) and breaks on a last batch of another size.
    ``keras.ops.zeros((keras.ops.shape(inputs)[0], units))`` reads the batch size at run time. Their
    ``__init__`` also takes no arguments and reads the global ``units``; here ``units`` is an argument and
    ``get_config`` returns it.
    """

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        units = _int_arg("units", units)
        super().__init__(**kwargs)
        self.units = units
        self.projection_1 = layers.Dense(units, activation="tanh", name="projection_1")
        self.projection_2 = layers.Dense(units, activation="tanh", name="projection_2")
        self.classifier = sequence_classifier(units)  # "Our previously-defined Functional model"

    def build(self, input_shape: Shape) -> None:
        _require(len(input_shape) == 3 and input_shape[1] is not None, "input_shape", input_shape,
                 "(batch, timesteps, features) with a fixed number of timesteps")
        self.projection_1.build((input_shape[0], input_shape[-1]))
        self.projection_2.build((input_shape[0], self.units))

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        state = ops.zeros((ops.shape(inputs)[0], self.units), dtype=inputs.dtype)
        outputs = []
        for t in range(inputs.shape[1]):
            h = self.projection_1(inputs[:, t, :])
            state = h + self.projection_2(state)
            outputs.append(state)
        features = ops.stack(outputs, axis=1)
        return self.classifier(features, training=training)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


def custom_rnn_model(
    *, batch_size: int | None = 16, timesteps: int = 10, input_dim: int = 5, units: int = 32
) -> keras.Model:
    """P33/P34: a custom layer inside a functional model -- ``sequences`` -> ``conv1d`` -> ``custom_rnn``.

    ``Conv1D(32, 3)`` (512 parameters) feeds :class:`CustomRNN` (2,145): 2,657 parameters, output
    (batch, 1). As in document 002 the input has a static ``batch_shape=(16, 10, 5)``; with
    ``batch_size=None`` it is ``shape=(10, 5)`` and any batch size works (thanks to the ``keras.ops`` fix).

    Document 002's own P34 version classifies with a ``Dense(1)`` on every step, giving (batch, 8, 1); this
    one keeps P33's functional classifier so one model shows both directions of mixing. The parameter count
    is the same.
    """
    valid_batch = batch_size is None or (isinstance(batch_size, Integral) and not isinstance(batch_size, bool)
                                         and batch_size >= 1)
    _require(valid_batch, "batch_size", batch_size, "a positive integer or None")
    timesteps = _int_arg("timesteps", timesteps, minimum=3)
    input_dim = _int_arg("input_dim", input_dim)
    units = _int_arg("units", units)
    if batch_size is None:
        inputs = keras.Input(shape=(timesteps, input_dim), name="sequences")
    else:
        inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim), name="sequences")
    x = layers.Conv1D(units, 3, name="conv1d")(inputs)
    outputs = CustomRNN(units, name="custom_rnn")(x)
    return keras.Model(inputs, outputs, name="custom_rnn_model")


# -- registries -------------------------------------------------------------------------------------------------
BUILDERS: dict[str, Callable[..., Any]] = {
    "mnist_mlp": mnist_mlp,
    "sequential_mlp": sequential_mlp,
    "encoder_autoencoder": encoder_autoencoder,
    "nested_autoencoder": nested_autoencoder,
    "ensemble": ensemble,
    "time_distributed": time_distributed,
    "ticket_model": ticket_model,
    "question_answering_model": question_answering_model,
    "social_media_model": social_media_model,
    "toy_resnet": toy_resnet,
    "residual_blocks": residual_blocks,
    "inception_module": inception_module,
    "merges": merges,
    "shared_embedding": shared_embedding,
    "siamese_lstm": siamese_lstm,
    "siamese_vision": siamese_vision,
    "vgg19_features": vgg19_features,
    "custom_dense_model": custom_dense_model,
    "functional_mlp": functional_mlp,
    "subclassed_mlp": subclassed_mlp,
    "custom_rnn_model": custom_rnn_model,
    "pointwise_bottleneck": pointwise_bottleneck,
    "deep_plain_stack": deep_plain_stack,
    "deep_residual_stack": deep_residual_stack,
}
"""Builder name -> builder. Every builder runs without arguments; a tuple result ends with the main model."""

PATTERN_BUILDERS: dict[str, list[str]] = {
    "P01": ["mnist_mlp"],
    "P02": ["mnist_mlp"],
    "P03": ["sequential_mlp"],
    "P04": ["mnist_mlp"],
    "P05": ["mnist_mlp"],
    "P06": ["sequential_mlp"],
    "P07": ["sequential_mlp"],
    "P08": ["mnist_mlp"],
    "P09": ["mnist_mlp"],
    "P10": ["mnist_mlp"],
    "P11": ["mnist_mlp"],
    "P12": ["encoder_autoencoder"],
    "P13": ["nested_autoencoder"],
    "P14": ["ensemble"],
    "P15": ["time_distributed"],
    "P16": ["ticket_model"],
    "P17": ["ticket_model"],
    "P18": ["ticket_model"],
    "P19": ["question_answering_model"],
    "P20": ["social_media_model"],
    "P21": ["toy_resnet"],
    "P22": ["residual_blocks"],
    "P23": ["inception_module"],
    "P24": ["merges"],
    "P25": ["shared_embedding"],
    "P26": ["siamese_lstm"],
    "P27": ["siamese_vision"],
    "P28": ["vgg19_features"],
    "P29": ["custom_dense_model"],
    "P30": ["custom_dense_model"],
    "P31": ["functional_mlp", "subclassed_mlp"],
    "P32": ["subclassed_mlp"],
    "P33": ["custom_rnn_model"],
    "P34": ["custom_rnn_model"],
    "P36": ["sequential_mlp"],
    "P37": ["deep_plain_stack", "deep_residual_stack", "pointwise_bottleneck"],
}
"""Pattern ID -> the builders of its models. P35 (graph errors) and P38 (Keras 1 idioms) teach failures, not
models, and have no builder."""


# -- example data -----------------------------------------------------------------------------------------------
_LENGTHS = (8, 16, 32, 64, 128, 256, 512, 1024)
_DEFAULT_INT_HIGH = 10


def _input_specs(model: keras.Model) -> list[tuple[str, tuple[int | None, ...], str]]:
    """(name, shape with batch dim, dtype) of each model input; subclassed models answer by ``input_spec``."""
    tensors = getattr(model, "inputs", None)
    if tensors:
        return [(t.name, tuple(t.shape), str(t.dtype)) for t in tensors]
    specs = model.input_spec if isinstance(model.input_spec, list) else [model.input_spec]
    _require(bool(specs) and all(s is not None and s.shape is not None for s in specs), "model", model.name,
             "a built model: call it once or build(input_shape) first")
    return [(f"input_{i}" if len(specs) > 1 else "input", tuple(s.shape), str(s.dtype or "float32"))
            for i, s in enumerate(specs)]


def _all_layers(layer: Any) -> list[Any]:
    found = [layer]
    for child in getattr(layer, "layers", []):
        found += _all_layers(child)
    inner = getattr(layer, "layer", None)  # wrappers such as TimeDistributed
    if inner is not None:
        found += _all_layers(inner)
    return found


def _vocabulary_limit(model: keras.Model) -> int:
    """The smallest ``Embedding`` vocabulary in the model: int inputs stay below it (and above 0)."""
    sizes = [layer.input_dim for layer in _all_layers(model) if isinstance(layer, layers.Embedding)]
    return min(sizes, default=_DEFAULT_INT_HIGH)


def _resolve(shape: tuple[int | None, ...], batch_size: int, length: int) -> Shape:
    batch = shape[0] if shape and shape[0] is not None else batch_size
    return (batch, *(length if d is None else d for d in shape[1:]))


def _fitting_length(model: keras.Model, specs: list[tuple[str, tuple[int | None, ...], str]],
                    batch_size: int) -> int:
    """The shortest length from ``_LENGTHS`` that the model accepts for its variable-length inputs."""
    if not any(d is None for _, shape, _ in specs for d in shape[1:]):
        return _LENGTHS[0]
    for length in _LENGTHS:
        tensors = [keras.KerasTensor(_resolve(shape, batch_size, length), dtype=dtype) for _, shape, dtype in specs]
        try:
            model.compute_output_spec(tensors if len(tensors) > 1 else tensors[0])
        except ValueError:
            continue
        return length
    raise ValueError(f"model {model.name!r} accepts none of the sequence lengths {_LENGTHS}; pass length=")


def example_inputs(
    model: keras.Model, batch_size: int = 2, seed: int = 0, *, length: int | None = None
) -> np.ndarray | dict[str, np.ndarray]:
    """NumPy data that fits ``model``'s inputs: a dict keyed by input name for several inputs, else an array.

    Float inputs get uniform numbers in [0, 1); int inputs get ids in [1, vocabulary) where vocabulary is
    the smallest ``Embedding`` input size in the model (10 without one). ``None`` dimensions (variable
    lengths) become ``length``; by default the shortest of 8, 16, 32, ... that the model accepts (the
    social-media model needs 269 or more, so it gets 512). A static batch size in the model wins over
    ``batch_size``. The same ``seed`` gives the same data.
    """
    batch_size = _int_arg("batch_size", batch_size)
    seed = _int_arg("seed", seed, minimum=0)
    if length is not None:
        length = _int_arg("length", length)
    specs = _input_specs(model)
    if length is None:
        length = _fitting_length(model, specs, batch_size)
    rng = np.random.default_rng(seed)
    high = _vocabulary_limit(model)
    data: dict[str, np.ndarray] = {}
    for name, shape, dtype in specs:
        size = _resolve(shape, batch_size, length)
        if "int" in dtype:
            data[name] = rng.integers(1 if high > 1 else 0, max(high, 1), size=size).astype(dtype)
        else:
            data[name] = rng.random(size).astype(dtype)
    return data if len(data) > 1 else next(iter(data.values()))

