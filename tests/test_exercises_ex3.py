"""Exercise set 3 (lesson 5): each right answer passes, typical wrong answers get the right message, and no
message shows the solution's code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab._exercises import CheckResult

# Code a message must never contain: the answers' own lines, in any spelling a solution would use.
SOLUTION_CODE = (
    "Dense(4,", "Dense(4)", "Dense(num_departments", "outputs=[priority, department]", "concatenate([",
    "BinaryCrossentropy(from_logits=True)", "CategoricalCrossentropy(from_logits=True)",
    "'age': 0.25", '"age": 0.25', "'gender': 10", '"gender": 10', "Dense(500,", "LSTM(32", "LSTM(16",
    "Embedding(10_000", "Embedding(10000",
)


def _assert_no_solution_code(result: CheckResult) -> None:
    texts = [*result.messages, str(result), result._repr_mimebundle_()["text/html"]]
    leaked = [code for code in SOLUTION_CODE for text in texts if code in text]
    assert not leaked, leaked


def _fails(exercise_id: str, answer: Any) -> CheckResult:
    result = lab.check(exercise_id, answer)
    assert not result and result.answered, str(result)
    _assert_no_solution_code(result)
    return result


# -- ex3.1: the ticket model's department head ---------------------------------------------------------------------
def _ticket(*, units: int = 4, name: str = "department", reads: str = "features", activation: str | None = None,
            outputs: str = "both") -> keras.Model:
    title = keras.Input((None,), dtype="int32", name="title")
    body = keras.Input((None,), dtype="int32", name="body")
    tags = keras.Input((12,), name="tags")
    title_features = layers.LSTM(128, name="title_lstm")(layers.Embedding(10_000, 64, name="title_emb")(title))
    body_features = layers.LSTM(32, name="body_lstm")(layers.Embedding(10_000, 64, name="body_emb")(body))
    features = layers.concatenate([title_features, body_features, tags], name="features")
    priority = layers.Dense(1, name="priority")(features)
    source = features if reads == "features" else title_features
    department = layers.Dense(units, activation=activation, name=name)(source)
    chosen = {"both": [priority, department], "priority": priority}[outputs]
    return keras.Model([title, body, tags], chosen, name="ticket_model")


def test_ex3_1_right_answer_passes_as_a_model_and_as_a_function() -> None:
    result = lab.check("ex3.1", _ticket())
    assert result, str(result)
    assert "1,392,097 parameters" in str(result) and "both heads read the features" in str(result)
    assert lab.check("ex3.1", _ticket)


def test_ex3_1_unnamed_department_head_is_told_to_name_it() -> None:
    result = _fails("ex3.1", _ticket(name="dense_7"))
    assert "No output is called 'department'" in result.messages[0]
    assert "'dense_7' has the shape it needs" in result.messages[0] and "name='department'" in result.messages[0]
    assert result.problems[0].keys == ("dense_7",)


@pytest.mark.parametrize("units", [1, 10])
def test_ex3_1_wrong_units_name_the_shape_and_the_units(units: int) -> None:
    result = _fails("ex3.1", _ticket(units=units))
    assert f"Output 'department' has shape (None, {units}); the task needs (None, 4)" in result.messages[0]
    assert "the units of a Dense layer" in result.messages[0] and "it should be 4" in result.messages[0]


def test_ex3_1_only_one_output_in_the_model() -> None:
    result = _fails("ex3.1", _ticket(outputs="priority"))
    assert "Output 'department' (None, 4) is missing" in result.messages[0]
    assert "your model's outputs are priority (None, 1)" in result.messages[0]


def test_ex3_1_head_on_the_title_alone_and_a_softmax_head() -> None:
    result = _fails("ex3.1", _ticket(reads="title"))
    assert "'department' head never sees 'body' and 'tags'" in result.messages[0]
    assert "it reads 'title_lstm'" in result.messages[0]
    softmax = _fails("ex3.1", _ticket(activation="softmax"))
    assert "activation 'softmax'" in softmax.messages[0] and "logits" in softmax.messages[0]


def test_ex3_1_the_tensor_instead_of_the_model() -> None:
    tensor = _ticket().outputs[1]
    assert "symbolic tensor, not a model" in lab.check("ex3.1", tensor).messages[0]


# -- ex3.2: named outputs and a dict of losses -------------------------------------------------------------------
def _small_ticket(names: tuple[str, str] = ("priority", "department")) -> keras.Model:
    title = keras.Input((None,), dtype="int32", name="title")
    body = keras.Input((None,), dtype="int32", name="body")
    tags = keras.Input((12,), name="tags")
    title_features = layers.LSTM(8)(layers.Embedding(10_000, 8)(title))
    body_features = layers.LSTM(4)(layers.Embedding(10_000, 8)(body))
    features = layers.concatenate([title_features, body_features, tags], name="features")
    return keras.Model([title, body, tags], [layers.Dense(1, name=names[0])(features),
                                             layers.Dense(4, name=names[1])(features)], name="named_ticket_model")


def _bce() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy(from_logits=True)


def _cce() -> keras.losses.Loss:
    return keras.losses.CategoricalCrossentropy(from_logits=True)


WEIGHTS = {"priority": 1.0, "department": 0.2}


def _compiled(loss: Any, loss_weights: Any = WEIGHTS, names: tuple[str, str] = ("priority", "department")
              ) -> keras.Model:
    model = _small_ticket(names)
    model.compile(optimizer="rmsprop", loss=loss, loss_weights=loss_weights)
    return model


def test_ex3_2_named_outputs_and_dicts_pass() -> None:
    result = lab.check("ex3.2", _compiled({"priority": _bce(), "department": _cce()}))
    assert result, str(result)
    assert "1.0 × priority_loss + 0.2 × department_loss" in str(result) and "short fit" in str(result)


def test_ex3_2_the_starter_code_unnamed_outputs_and_an_uncompiled_model() -> None:
    starter = _fails("ex3.2", _small_ticket(("dense_a", "dense_b")))
    assert "No output is called 'priority', but your output 'dense_a'" in starter.messages[0]
    assert "No output is called 'department', but your output 'dense_b'" in starter.messages[1]
    uncompiled = lab.check("ex3.2", _small_ticket())
    assert not uncompiled.answered and "is not compiled yet" in uncompiled.messages[0]


def test_ex3_2_compiled_with_the_dict_before_naming_the_outputs() -> None:
    result = _fails("ex3.2", _compiled({"priority": _bce(), "department": _cce()}, names=("dense_a", "dense_b")))
    assert "give the layer that makes it name='priority'" in result.messages[0]


def test_ex3_2_list_of_losses_with_a_dict_of_weights_is_the_silent_mix() -> None:
    result = _fails("ex3.2", _compiled([_bce(), _cce()]))
    assert "a list of 2 as the loss" in result.messages[0] and "dict keyed by the output names" in result.messages[0]
    assert "mix lesson 5 warns about" in result.messages[0]


def test_ex3_2_losses_that_do_not_read_logits() -> None:
    result = _fails("ex3.2", _compiled({"priority": "binary_crossentropy", "department": "categorical_crossentropy"}))
    assert [m.split("'")[1] for m in result.messages] == ["priority", "department"]
    assert all("gives logits" in m and "from_logits=True" in m for m in result.messages)


def test_ex3_2_sparse_loss_key_typo_and_missing_weights() -> None:
    sparse = {"priority": _bce(), "department": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}
    assert "one-hot" in _fails("ex3.2", _compiled(sparse)).messages[0]
    typo = _fails("ex3.2", _compiled({"priority": _bce(), "departement": _cce()}))
    assert "key 'departement'" in typo.messages[0] and "did you mean 'department'?" in typo.messages[0]
    unweighted = _fails("ex3.2", _compiled({"priority": _bce(), "department": _cce()}, None))
    assert "nothing as the loss weights" in unweighted.messages[0] and "0.2" in unweighted.messages[0]
    wrong_weight = _fails("ex3.2", _compiled({"priority": _bce(), "department": _cce()},
                                             {"priority": 1.0, "department": 2.0}))
    assert "loss weight of 'department' is 2.0; the task's is 0.2" in wrong_weight.messages[0]


# -- ex3.3: loss weights that balance the social-media heads -----------------------------------------------------
@pytest.mark.parametrize("weights", [
    {"age": 0.25, "income": 1.0, "gender": 10.0},   # document 004's code
    {"age": 0.5, "income": 1, "gender": 10},        # document 004's text
    {"gender": np.float32(40.0), "age": 1, "income": 4},  # the same balance, scaled, in another order
])
def test_ex3_3_balancing_weights_pass(weights: dict[str, Any]) -> None:
    result = lab.check("ex3.3", weights)
    assert result, str(result)
    assert "within 3×" in str(result) and "weighted sum" in str(result)


def test_ex3_3_equal_weights_let_age_dominate() -> None:
    result = _fails("ex3.3", {"age": 1.0, "income": 1.0, "gender": 1.0})
    assert "'age' adds 4 to the total loss" in result.messages[0] and "'gender' only 0.1" in result.messages[0]
    assert "40 times less" in result.messages[0] and "Lower the weight of 'age'" in result.messages[0]


def test_ex3_3_weights_for_the_untrained_losses_are_not_balanced_late() -> None:
    result = _fails("ex3.3", {"age": 1 / 1600, "income": 1 / 2.3, "gender": 1 / 0.69})
    assert "raise the weight of 'age'" in result.messages[0]


@pytest.mark.parametrize(("weights", "words"), [
    ({"age": 0.25, "income": 1.0}, "nothing for 'gender'"),
    ({"age": 0.25, "income": 1.0, "gender": -10.0}, "negative weight"),
    ({"age": 0.0, "income": 1.0, "gender": 10.0}, "would never learn"),
    ({"age": 0.25, "income": 1.0, "gender": "10"}, "a loss weight is a number"),
    ({"age": 0.25, "income": 1.0, "genre": 10.0}, "key 'genre', but the model has no output of that name"),
    ({"age_output": 0.25, "income": 1.0, "gender": 10.0}, "did you mean 'age'?"),
    ([0.25, 1.0, 10.0], "a dict keyed by the output names"),
])
def test_ex3_3_typical_wrong_dicts(weights: Any, words: str) -> None:
    result = _fails("ex3.3", weights)
    assert any(words in m for m in result.messages), result.messages


# -- ex3.4: question answering --------------------------------------------------------------------------------
def _qa(*, merge: str = "concatenate", question_dim: int = 16, dtype: str = "int32", activation: str = "softmax",
        use_question: bool = True) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        text = keras.Input((None,), dtype=dtype, name="text")
        question = keras.Input((None,), dtype=dtype, name="question")
        encoded_text = layers.LSTM(32, name="text_lstm")(layers.Embedding(10_000, 64, name="text_emb")(text))
        encoded_question = layers.LSTM(question_dim, name="question_lstm")(
            layers.Embedding(10_000, 32, name="question_emb")(question))
        if not use_question:
            joined = encoded_text
        elif merge == "concatenate":
            joined = layers.Concatenate(name="joined")([encoded_text, encoded_question])
        else:
            joined = layers.Add(name="joined")([encoded_text, encoded_question])
        answer = layers.Dense(500, activation=activation, name="answer")(joined)
        return keras.Model([text, question], answer, name="question_answering")

    return build


def test_ex3_4_right_answer_passes_as_a_function_and_as_a_model() -> None:
    result = lab.check("ex3.4", _qa())
    assert result, str(result)
    assert "1,000,052 parameters" in str(result) and "concatenated" in str(result)
    assert lab.check("ex3.4", _qa()())


def test_ex3_4_question_not_connected_to_the_answer() -> None:
    result = _fails("ex3.4", _qa(use_question=False))
    assert "Input 'question' is not connected to any output" in result.messages[0]
    assert result.problems[0].keys == ("question",)


def test_ex3_4_add_of_different_sizes_raises_and_is_explained_for_this_task() -> None:
    result = _fails("ex3.4", _qa(merge="add"))
    message = result.messages[0]
    assert message.startswith("Calling your function raised ValueError")
    assert "(32,) and (16,)" in message and "different sizes" in message and "concatenation" in message
    assert "Conv2D" not in message and "shortcut" not in message  # not the residual lesson's fix


def test_ex3_4_add_of_equal_sizes_builds_but_is_not_the_task() -> None:
    result = _fails("ex3.4", _qa(merge="add", question_dim=32))
    assert "joins the two encodings with Add 'joined'" in result.messages[0]
    assert result.problems[0].keys == ("joined",)


def test_ex3_4_float_inputs_no_softmax_and_wrong_sizes() -> None:
    floats = _fails("ex3.4", _qa(dtype="float32"))
    assert "Input 'text' has dtype float32; the task needs int32" in floats.messages[0]
    assert "activation 'linear'" in _fails("ex3.4", _qa(activation="linear")).messages[0]
    sizes = _fails("ex3.4", _qa(question_dim=8))
    assert "fewer than the task's 1,000,052" in sizes.messages[0]


def test_ex3_4_unfinished_function_is_not_answered_yet() -> None:
    def build_question_answering() -> None:
        ...

    result = lab.check("ex3.4", build_question_answering)
    assert not result and not result.answered and "returned None" in result.messages[0]


def test_ex3_4_document_004s_swapped_embedding_arguments_get_a_targeted_message() -> None:
    def build() -> keras.Model:
        text = keras.Input((None,), dtype="int32", name="text")
        question = keras.Input((None,), dtype="int32", name="question")
        encoded_text = layers.LSTM(32, name="text_lstm")(layers.Embedding(64, 10_000, name="text_emb")(text))
        encoded_question = layers.LSTM(16, name="question_lstm")(
            layers.Embedding(10_000, 32, name="question_emb")(question))
        joined = layers.Concatenate(name="joined")([encoded_text, encoded_question])
        return keras.Model([text, question], layers.Dense(500, activation="softmax", name="answer")(joined))

    result = _fails("ex3.4", build)
    message = result.messages[0]
    assert "Embedding 'text_emb' (the text's) has input_dim=64 and output_dim=10,000" in message
    assert "the first argument of Embedding is the vocabulary size" in message and "document 004" in message
    assert result.problems[0].keys == ("text_emb",) and len(result.messages) == 1  # the question's is right


def test_ex3_4_a_small_vocabulary_is_named() -> None:
    def build() -> keras.Model:
        text = keras.Input((None,), dtype="int32", name="text")
        question = keras.Input((None,), dtype="int32", name="question")
        encoded_text = layers.LSTM(32)(layers.Embedding(10_000, 64)(text))
        encoded_question = layers.LSTM(16)(layers.Embedding(1_000, 32, name="small_vocabulary")(question))
        joined = layers.Concatenate()([encoded_text, encoded_question])
        return keras.Model([text, question], layers.Dense(500, activation="softmax", name="answer")(joined))

    message = _fails("ex3.4", build).messages[0]
    assert "'small_vocabulary' (the question's) accepts word ids below 1,000" in message


@pytest.mark.parametrize("share", ["both", "lstm"])
def test_ex3_4_a_shared_encoder_is_told_the_text_and_question_have_their_own(share: str) -> None:
    def build() -> keras.Model:
        text = keras.Input((None,), dtype="int32", name="text")
        question = keras.Input((None,), dtype="int32", name="question")
        lstm = layers.LSTM(32, name="one_lstm")
        if share == "both":
            embedding = layers.Embedding(10_000, 64, name="one_embedding")
            embedded = embedding(text), embedding(question)
        else:
            embedded = layers.Embedding(10_000, 64)(text), layers.Embedding(10_000, 64)(question)
        joined = layers.Concatenate()([lstm(embedded[0]), lstm(embedded[1])])
        return keras.Model([text, question], layers.Dense(500, activation="softmax", name="answer")(joined))

    result = _fails("ex3.4", build)
    message = result.messages[0]
    shared = "one_embedding" if share == "both" else "one_lstm"
    assert f"'{shared}' is called on the text and on the question" in message
    assert "separate encoders" in message and "once for each input" in message
    assert all(key.startswith(shared) for key in result.problems[0].keys) and len(result.problems[0].keys) == 2


# -- ex3.5: a Dataset of dicts and a metric per output ------------------------------------------------------------
FEED_LOSSES = {"priority": "binary_crossentropy", "department": "categorical_crossentropy"}
FEED_METRICS = {"priority": ["mae"], "department": ["accuracy"]}


def _feed_model(metrics: Any = FEED_METRICS) -> keras.Model:
    title = keras.Input((None,), dtype="int32", name="title")
    body = keras.Input((None,), dtype="int32", name="body")
    tags = keras.Input((12,), name="tags")
    title_vector = layers.GlobalAveragePooling1D()(layers.Embedding(10_000, 8)(title))
    body_vector = layers.GlobalAveragePooling1D()(layers.Embedding(10_000, 8)(body))
    features = layers.concatenate([title_vector, body_vector, tags], name="features")
    model = keras.Model([title, body, tags], [layers.Dense(1, activation="sigmoid", name="priority")(features),
                                              layers.Dense(4, activation="softmax", name="department")(features)])
    model.compile(optimizer="rmsprop", loss=FEED_LOSSES, metrics=metrics)
    return model


@pytest.fixture(scope="module")
def tickets() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return lab.datasets.ticket_data(n=128, seed=0)


def _dataset(x: Any, y: Any, batch: int | None = 32) -> Any:
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y) if y is not None else x)
    return data.batch(batch) if batch else data


def test_ex3_5_dicts_batched_and_a_metric_per_output_pass(tickets: tuple) -> None:
    x, y = tickets
    result = lab.check("ex3.5", (_feed_model(), _dataset(x, y).shuffle(8, seed=0)))
    assert result, str(result)
    assert "'department_accuracy', 'priority_mae'" in str(result) and "fit runs one epoch" in str(result)
    metric_objects = {"priority": [keras.metrics.MeanAbsoluteError()],
                      "department": [keras.metrics.CategoricalAccuracy()]}
    assert lab.check("ex3.5", (_feed_model(metric_objects), _dataset(x, y)))


def test_ex3_5_metrics_missing_or_crossed_by_a_list(tickets: tuple) -> None:
    x, y = tickets
    missing = _fails("ex3.5", (_feed_model(None), _dataset(x, y)))
    assert "the losses only, no metric per output" in missing.messages[0]
    crossed = _fails("ex3.5", (_feed_model(["accuracy", "mae"]), _dataset(x, y)))
    assert "'priority_accuracy' and 'department_mae'" in crossed.messages[0]
    assert "matched to the outputs by position" in crossed.messages[0]


def test_ex3_5_a_dataset_of_tuples_by_position(tickets: tuple) -> None:
    x, y = tickets
    positional = _dataset((x["title"], x["body"], x["tags"]), (y["priority"], y["department"]))
    result = _fails("ex3.5", (_feed_model(), positional))
    assert "a tuple of 3, matched to the model's inputs by position" in result.messages[0]
    assert "dict keyed by the output names" in result.messages[1]


def test_ex3_5_unbatched_inputs_only_a_typo_and_float_ids(tickets: tuple) -> None:
    x, y = tickets
    unbatched = _fails("ex3.5", (_feed_model(), _dataset(x, y, batch=None)))
    assert "single tickets" in unbatched.messages[0] and "Batch the dataset" in unbatched.messages[0]
    inputs_only = _fails("ex3.5", (_feed_model(), _dataset(x, None)))
    assert "a pair (inputs, targets)" in inputs_only.messages[0]
    typo = _fails("ex3.5", (_feed_model(), _dataset({**{k: v for k, v in x.items() if k != "title"},
                                                      "titles": x["title"]}, y)))
    assert "key 'titles'" in typo.messages[0] and "did you mean 'title'?" in typo.messages[0]
    floats = _fails("ex3.5", (_feed_model(), _dataset({k: v.astype("float32") for k, v in x.items()}, y)))
    assert "'title' as float32" in floats.messages[0] and "word ids as int32" in floats.messages[0]


def test_ex3_5_arrays_instead_of_a_dataset_and_an_uncompiled_model(tickets: tuple) -> None:
    x, y = tickets
    assert "not a tf.data.Dataset" in _fails("ex3.5", (_feed_model(), x)).messages[0]
    model = _feed_model()
    result = lab.check("ex3.5", (keras.Model(model.inputs, model.outputs), _dataset(x, y)))
    assert not result and not result.answered and "not compiled yet" in result.messages[0]


# -- ex3.6: design a model for an image and its caption ----------------------------------------------------------
def _image_caption(*, score_reads: str = "both", caption_dtype: str = "int32", vocabulary: int = 5_000,
                   image_shape: tuple[int, ...] = (32, 32, 3)) -> keras.Model:
    image = keras.Input(image_shape, name="picture")
    caption = keras.Input((None,), dtype=caption_dtype, name="words")
    if len(image_shape) == 3:
        seen = layers.GlobalAveragePooling2D(name="look")(layers.Conv2D(8, 3, name="conv")(image))
    else:
        seen = layers.Dense(8, name="look")(image)
    read = layers.GlobalAveragePooling1D(name="read")(layers.Embedding(vocabulary, 8, name="embed")(caption))
    both = layers.concatenate([seen, read], name="both")
    label = layers.Dense(10, name="label")(both)
    score = layers.Dense(1, name="score")(both if score_reads == "both" else read)
    return keras.Model([image, caption], [label, score], name="image_caption")


def test_ex3_6_any_design_with_both_paths_passes_as_a_model_or_a_function() -> None:
    result = lab.check("ex3.6", _image_caption())
    assert result, str(result)
    assert "each output is computed from the image and from the caption" in str(result)
    assert lab.check("ex3.6", _image_caption)


def test_ex3_6_a_score_that_never_sees_the_image() -> None:
    result = _fails("ex3.6", _image_caption(score_reads="caption"))
    assert "Output 'score' never sees input 'picture'" in result.messages[0]
    assert "computed from 'words' only" in result.messages[0]
    assert result.problems[0].keys == ("score",)


def test_ex3_6_float_captions_a_flat_image_and_a_small_vocabulary() -> None:
    floats = _fails("ex3.6", _image_caption(caption_dtype="float32"))
    assert "Input 'words' has dtype float32" in floats.messages[0] and "integer" in floats.messages[0]
    flat = _fails("ex3.6", _image_caption(image_shape=(3072,)))
    assert "Input 'picture' has shape (None, 3072)" in flat.messages[0] and "as many numbers" in flat.messages[0]
    small = _fails("ex3.6", _image_caption(vocabulary=1_000))
    assert "Embedding 'embed' accepts word ids below 1,000" in small.messages[0]


def test_ex3_6_sequential_is_refused() -> None:
    sequential = keras.Sequential([keras.Input((32, 32, 3)), layers.GlobalAveragePooling2D(), layers.Dense(10)])
    assert "keras.Sequential" in _fails("ex3.6", sequential).messages[0]
