"""fapi_lab._synthetic: deterministic stand-ins for the documents' dummy data, with a planted signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fapi_lab  # noqa: F401  # isort: skip  (first, so TensorFlow is imported quietly)
import keras
import numpy as np
import pytest

from fapi_lab import _synthetic as synthetic
from fapi_lab import patterns

# generator -> (its builder, small keyword arguments for quick tests)
PAIRS: dict[str, tuple[Callable[..., Any], Callable[..., keras.Model], dict[str, Any]]] = {
    "ticket_data": (synthetic.ticket_data, patterns.ticket_model, {"n": 64}),
    "question_answering_data": (synthetic.question_answering_data, patterns.question_answering_model, {"n": 64}),
    "social_media_data": (synthetic.social_media_data, patterns.social_media_model, {"n": 16}),
    "siamese_text_data": (synthetic.siamese_text_data, patterns.shared_embedding, {"n": 64}),
    "siamese_sequence_data": (synthetic.siamese_sequence_data, patterns.siamese_lstm, {"n": 64}),
}


def arrays(part: Any) -> dict[str, np.ndarray]:
    return part if isinstance(part, dict) else {"": part}


def test_all_names_the_generators() -> None:
    assert sorted(synthetic.__all__) == sorted(PAIRS)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_deterministic_by_seed(name: str) -> None:
    generate, _, kwargs = PAIRS[name]
    first, again, other = generate(**kwargs, seed=3), generate(**kwargs, seed=3), generate(**kwargs, seed=4)
    for part in range(2):
        for key, value in arrays(first[part]).items():
            np.testing.assert_array_equal(value, arrays(again[part])[key])
    assert any(not np.array_equal(v, arrays(other[0])[k]) for k, v in arrays(first[0]).items())


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_keys_are_the_builders_input_and_output_names(name: str) -> None:
    generate, builder, kwargs = PAIRS[name]
    model = builder()
    inputs, targets = generate(**kwargs)
    input_names = [t.name for t in model.inputs]
    if len(input_names) > 1:
        assert list(inputs) == input_names
    else:
        assert isinstance(inputs, np.ndarray)
    if len(model.output_names) > 1:
        assert list(targets) == model.output_names
    else:
        assert isinstance(targets, np.ndarray)  # keras-team/keras#21513: no one-entry dict of targets


def test_ticket_shapes_dtypes_and_signal() -> None:
    inputs, targets = synthetic.ticket_data()
    assert {k: (v.shape, v.dtype) for k, v in inputs.items()} == {
        "title": ((1280, 10), np.int32), "body": ((1280, 100), np.int32), "tags": ((1280, 12), np.float32)}
    assert {k: (v.shape, v.dtype) for k, v in targets.items()} == {
        "priority": ((1280, 1), np.float32), "department": ((1280, 4), np.float32)}
    assert inputs["title"].min() >= 1 and inputs["title"].max() < 10_000
    assert set(np.unique(inputs["tags"])) == {0.0, 1.0}
    assert targets["priority"].min() >= 0 and targets["priority"].max() <= 1
    np.testing.assert_array_equal(targets["department"].sum(axis=1), 1.0)  # one-hot, unlike the documents
    # the planted rules
    keywords = np.where(inputs["title"] <= 20, (inputs["title"] - 1) // 5, -1)
    department = targets["department"].argmax(axis=1)
    assert all(set(row[row >= 0]) == {d} for row, d in zip(keywords, department, strict=True))
    expected = (inputs["tags"][:, :3].sum(axis=1, keepdims=True) + 0.5) / 4
    np.testing.assert_allclose(targets["priority"], expected)
    assert (inputs["body"] > 20).all()


def test_question_answering_shapes_and_signal() -> None:
    inputs, answer = synthetic.question_answering_data()
    assert {k: (v.shape, v.dtype) for k, v in inputs.items()} == {
        "text": ((1000, 100), np.int32), "question": ((1000, 100), np.int32)}
    assert (answer.shape, answer.dtype) == ((1000, 500), np.float32)
    for key in inputs:
        assert inputs[key].min() >= 1 and inputs[key].max() < 10_000
    np.testing.assert_array_equal(answer.sum(axis=1), 1.0)
    k = answer.argmax(axis=1)
    assert k.max() < 10
    np.testing.assert_array_equal(inputs["question"][:, -1], k + 1)
    assert ((inputs["text"] == (k + 1)[:, None]).sum(axis=1) == 5).all()


def test_social_media_shapes_signal_and_unbalanced_losses() -> None:
    posts, targets = synthetic.social_media_data(n=400)
    assert (posts.shape, posts.dtype) == ((400, 300), np.int32)
    assert posts.min() >= 1 and posts.max() < 50_000
    assert {k: (v.shape, v.dtype) for k, v in targets.items()} == {
        "age": ((400, 1), np.float32), "income": ((400, 10), np.float32), "gender": ((400, 1), np.float32)}
    np.testing.assert_array_equal(targets["income"].sum(axis=1), 1.0)
    assert set(np.unique(targets["gender"])) == {0.0, 1.0}
    # markers: age group 1..10, income 20..29, gender 40/41
    age_group = np.array([np.intersect1d(row, np.arange(1, 11))[0] - 1 for row in posts])
    residual = targets["age"][:, 0] - (20 + 4 * age_group)
    assert 2 < np.mean(residual**2) < 6  # document 004: "MSE ... usually around 3 to 5" once learned
    income = np.array([np.intersect1d(row, np.arange(20, 30))[0] - 20 for row in posts])
    np.testing.assert_array_equal(income, targets["income"].argmax(axis=1))
    gender = np.array([np.intersect1d(row, [40, 41])[0] - 40 for row in posts])
    np.testing.assert_array_equal(gender, targets["gender"][:, 0])
    # before training (predicting 0), age MSE dwarfs both cross-entropies (ln 10 and ln 2)
    assert np.mean(targets["age"] ** 2) > 100 * (np.log(10) + np.log(2))


def test_siamese_text_shapes_and_signal() -> None:
    inputs, same = synthetic.siamese_text_data()
    assert {k: (v.shape, v.dtype) for k, v in inputs.items()} == {
        "text_a": ((512, 20), np.int32), "text_b": ((512, 20), np.int32)}
    assert (same.shape, same.dtype) == ((512, 1), np.float32)
    assert inputs["text_a"].min() >= 1 and inputs["text_a"].max() < 1000
    assert 0.4 < same.mean() < 0.6

    def topic(texts: np.ndarray) -> np.ndarray:
        return np.array([np.bincount((row[row <= 80] - 1) // 10).argmax() for row in texts])

    np.testing.assert_array_equal(topic(inputs["text_a"]) == topic(inputs["text_b"]), same[:, 0] == 1)


@pytest.mark.parametrize("task", ["compare", "same"])
def test_siamese_sequence_shapes(task: str) -> None:
    inputs, label = synthetic.siamese_sequence_data(n=100, task=task)
    assert {k: (v.shape, v.dtype) for k, v in inputs.items()} == {
        "left": ((100, 20, 128), np.float32), "right": ((100, 20, 128), np.float32)}
    assert (label.shape, label.dtype) == ((100, 1), np.float32)
    assert set(np.unique(label)) == {0.0, 1.0}


def test_siamese_sequence_patterns_do_not_depend_on_the_seed() -> None:
    a, label_a = synthetic.siamese_sequence_data(n=200, seed=0, noise=0.0)
    b, _ = synthetic.siamese_sequence_data(n=200, seed=1, noise=0.0)
    # without noise every sequence is level * the one hidden pattern: all are parallel, across seeds too
    direction = a["left"][0].ravel() / np.linalg.norm(a["left"][0])
    for side in (a["left"], b["right"]):
        flat = side.reshape(len(side), -1)
        np.testing.assert_allclose(np.abs(flat @ direction), np.linalg.norm(flat, axis=1), rtol=1e-4)
    strength = [np.linalg.norm(a[key].reshape(200, -1), axis=1) for key in ("left", "right")]
    np.testing.assert_array_equal(strength[0] > strength[1], label_a[:, 0] == 1)


# -- training: the planted signal is learnable by the matching builder ----------------------------------------------
def fit(model: keras.Model, data: tuple[Any, Any], epochs: int, **kwargs: Any) -> dict[str, list[float]]:
    keras.utils.set_random_seed(0)
    return model.fit(*data, epochs=epochs, batch_size=32, verbose=0, **kwargs).history


def test_ticket_model_loss_goes_down_for_both_outputs() -> None:
    keras.utils.set_random_seed(0)
    model = patterns.ticket_model(logits=False)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"priority": "binary_crossentropy", "department": "categorical_crossentropy"},
                  loss_weights={"priority": 1.0, "department": 0.2})
    history = fit(model, synthetic.ticket_data(n=640), epochs=3)
    assert history["loss"][-1] < history["loss"][0]
    assert history["priority_loss"][-1] < history["priority_loss"][0]
    assert history["department_loss"][-1] < history["department_loss"][0]


def test_question_answering_model_loss_goes_down() -> None:
    keras.utils.set_random_seed(0)
    history = fit(patterns.question_answering_model(), synthetic.question_answering_data(n=256), epochs=3)
    assert history["loss"][-1] < history["loss"][0] - 0.5


def test_social_media_model_loss_goes_down() -> None:
    keras.utils.set_random_seed(0)
    model = patterns.social_media_model(compiled=False)
    # Document 004's rmsprop default (1e-3) jumps around on the years-scale MSE; a smaller rate is steady.
    model.compile(optimizer=keras.optimizers.RMSprop(1e-4),
                  loss={"age": "mse", "income": "categorical_crossentropy", "gender": "binary_crossentropy"},
                  loss_weights={"age": 0.25, "income": 1.0, "gender": 10.0})
    history = fit(model, synthetic.social_media_data(n=64), epochs=3)
    assert history["loss"][2] < history["loss"][1] < history["loss"][0]
    assert history["age_loss"][0] > 100 * (history["income_loss"][0] + history["gender_loss"][0])


def test_shared_embedding_beats_chance_on_new_pairs() -> None:
    keras.utils.set_random_seed(0)
    model = patterns.shared_embedding()
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = fit(model, synthetic.siamese_text_data(n=256), epochs=3,
                  validation_data=synthetic.siamese_text_data(n=256, seed=1))
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.7


def test_siamese_lstm_learns_to_compare() -> None:
    keras.utils.set_random_seed(0)
    history = fit(patterns.siamese_lstm(), synthetic.siamese_sequence_data(n=256), epochs=3,
                  validation_data=synthetic.siamese_sequence_data(n=256, seed=1))
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.75


# -- bad arguments ---------------------------------------------------------------------------------------------------
BAD = [
    (synthetic.ticket_data, {"n": 0}, "n"),
    (synthetic.ticket_data, {"n": 12.5}, "n"),
    (synthetic.ticket_data, {"seed": -1}, "seed"),
    (synthetic.ticket_data, {"num_words": 20}, "num_words"),
    (synthetic.ticket_data, {"num_tags": "12"}, "num_tags"),
    (synthetic.ticket_data, {"num_departments": 1}, "num_departments"),
    (synthetic.question_answering_data, {"max_length": 3}, "max_length"),
    (synthetic.question_answering_data, {"num_answers": 501}, "num_answers"),
    (synthetic.question_answering_data, {"answer_vocabulary_size": True}, "answer_vocabulary_size"),
    (synthetic.social_media_data, {"length": 100}, "length"),
    (synthetic.social_media_data, {"vocabulary_size": 50}, "vocabulary_size"),
    (synthetic.social_media_data, {"seed": 1.0}, "seed"),
    (synthetic.siamese_text_data, {"num_topics": 1}, "num_topics"),
    (synthetic.siamese_text_data, {"vocabulary_size": 10}, "vocabulary_size"),
    (synthetic.siamese_sequence_data, {"task": "equal"}, "task"),
    (synthetic.siamese_sequence_data, {"timesteps": 0}, "timesteps"),
    (synthetic.siamese_sequence_data, {"noise": -1}, "noise"),
    (synthetic.siamese_sequence_data, {"noise": "loud"}, "noise"),
]


@pytest.mark.parametrize(("generate", "kwargs", "argument"), BAD, ids=[f"{g.__name__}-{a}" for g, _, a in BAD])
def test_bad_arguments_raise_a_value_error_naming_the_argument(generate: Callable[..., Any],
                                                                kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}=.* is not valid: expected "):
        generate(**kwargs)


def test_social_media_length_message_explains_the_minimum() -> None:
    with pytest.raises(ValueError, match=r"length=100 is not valid: expected an integer >= 269"):
        synthetic.social_media_data(length=100)
