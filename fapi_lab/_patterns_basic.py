"""Argument checks, and the builders of multilayer perceptrons, autoencoders, models used as layers and
multi-input/multi-output models (P01-P20, P31). Public through :mod:`fapi_lab.patterns`.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

from ._i18n import _
from ._quiet import quiet as _quiet
from ._synthetic import _int_arg, _require

_quiet()  # import TensorFlow without its start-up noise (a no-op if it is already imported)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

__all__ = [
    "Shape",
    "SubclassedMLP",
    "_activation",
    "_bool_arg",
    "_name_arg",
    "_shape_arg",
    "encoder_autoencoder",
    "ensemble",
    "functional_mlp",
    "mnist_mlp",
    "nested_autoencoder",
    "question_answering_model",
    "sequential_mlp",
    "social_media_model",
    "subclassed_mlp",
    "ticket_model",
    "time_distributed",
]


Shape = tuple[int, ...]


# -- argument checks ---------------------------------------------------------------------------------------------
def _bool_arg(name: str, value: Any) -> bool:
    _require(isinstance(value, bool), name, value, _("True or False"))
    return value


def _name_arg(name: str, value: Any) -> str:
    _require(isinstance(value, str) and value.isidentifier(), name, value,
             _("a non-empty name made of letters, digits and underscores"))
    return value


def _shape_arg(name: str, value: Any, *, rank: int, min_size: int = 1, channels: int | None = None) -> Shape:
    """Check an input shape such as ``(height, width, channels)``: positive ints, spatial dims >= min_size."""
    if min_size > 1 and channels is not None:
        accepted = _("a tuple of {rank} positive integers whose first {first} are >= {min_size} and whose last is "
                     "{channels}")
    elif min_size > 1:
        accepted = _("a tuple of {rank} positive integers whose first {first} are >= {min_size}")
    elif channels is not None:
        accepted = _("a tuple of {rank} positive integers and whose last is {channels}")
    else:
        accepted = _("a tuple of {rank} positive integers")
    accepted = accepted.format(rank=rank, first=rank - 1, min_size=min_size, channels=channels)
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
    _require(ok, "hidden_units", hidden_units, _("a non-empty sequence of positive integers, e.g. (64, 64)"))
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
