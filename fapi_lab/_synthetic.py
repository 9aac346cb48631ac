"""Synthetic stand-ins for the documents' dummy data, with a real signal planted in each.

The source documents train their multi-input and multi-output models on pure noise
(``np.random.randint(...)`` inputs *and* targets), so nothing can be learned and the printed losses do not
move. These generators keep the documents' shapes and dtypes but hide a simple rule in the data, so a
lesson's short training run can assert that the loss goes down and that accuracy beats chance.

Every generator

* is NumPy-only and deterministic: the same ``seed`` gives the same arrays (``numpy.random.default_rng``);
* returns ``(inputs, targets)`` for the matching builder in :mod:`fapi_lab.patterns`, so
  ``model.fit(inputs, targets)`` works as it is. Each is a dict keyed by exactly the model's input (output)
  names when the model has several inputs (outputs), and a plain array when it has one: Keras 3.15 warns
  about a one-entry dict of inputs ("The structure of `inputs` doesn't match the expected structure") and
  rejects a one-entry dict of targets (``TypeError: Expected float32, but got <name> of type 'str'``,
  keras-team/keras#21513);
* keeps its rule fixed across seeds (the keyword ranges and the hidden patterns do not depend on ``seed``),
  so data made with ``seed=0`` and ``seed=1`` pose the same task: train on one, validate on the other;
* raises ``ValueError`` naming the argument and the accepted values when an argument is impossible.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from fapi_lab._i18n import _

__all__ = [
    "question_answering_data",
    "siamese_sequence_data",
    "siamese_text_data",
    "social_media_data",
    "ticket_data",
]

Arrays = dict[str, np.ndarray]

# The hidden patterns of the siamese sequence task come from this fixed seed, not from the caller's seed.
_WORLD_SEED = 20_200_213
# Five Conv1D(kernel 5) and two MaxPooling1D(5) in the social-media model need at least this many tokens.
SOCIAL_MIN_LENGTH = 269


# -- argument checks (shared with fapi_lab.patterns) ---------------------------------------------------------
def _require(ok: bool, name: str, value: Any, accepted: str) -> None:
    """Raise ``ValueError`` naming the argument, the value received and what is accepted."""
    if not ok:
        raise ValueError(_("{name}={value!r} is not valid: expected {accepted}").format(
            name=name, value=value, accepted=accepted))


def _int_arg(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """Check that ``value`` is a whole number (not a bool, float or string) in range and return it as int."""
    accepted = (_("an integer >= {minimum}").format(minimum=minimum) if maximum is None
                else _("an integer from {minimum} to {maximum}").format(minimum=minimum, maximum=maximum))
    is_int = isinstance(value, Integral) and not isinstance(value, bool)
    _require(is_int and value >= minimum and (maximum is None or value <= maximum), name, value, accepted)
    return int(value)


def _choice_arg(name: str, value: Any, choices: tuple[str, ...]) -> str:
    _require(isinstance(value, str) and value in choices, name, value,
             _("one of {choices}").format(choices=", ".join(map(repr, choices))))
    return value


# -- small helpers -------------------------------------------------------------------------------------------
def _one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return np.eye(num_classes, dtype="float32")[labels]


def _plant(rng: np.random.Generator, tokens: np.ndarray, keywords: np.ndarray, count: int) -> None:
    """Overwrite ``count`` random positions of each row of ``tokens`` with that row's keyword(s), in place.

    ``keywords`` has one row per sample and one or more candidate keyword columns; each planted position
    gets a random one of them.
    """
    n, length = tokens.shape
    positions = np.argsort(rng.random((n, length)), axis=1)[:, :count]
    picks = rng.integers(0, keywords.shape[1], size=(n, count))
    rows = np.arange(n)[:, None]
    tokens[rows, positions] = keywords[rows, picks]


def _keyword_block(first: int, size: int, classes: np.ndarray) -> np.ndarray:
    """Keyword ids of each sample's class: class c owns ids ``first + c*size ... first + (c+1)*size - 1``."""
    return first + classes[:, None] * size + np.arange(size)[None, :]


# -- P16/P17/P18: the ticket model ----------------------------------------------------------------------------
def ticket_data(
    n: int = 1280,
    seed: int = 0,
    *,
    num_words: int = 10_000,
    num_tags: int = 12,
    num_departments: int = 4,
    title_length: int = 10,
    body_length: int = 100,
) -> tuple[Arrays, Arrays]:
    """Issue tickets for ``patterns.ticket_model()``: title, body, tags -> priority, department.

    Shapes as in the documents: ``title`` (n, 10) and ``body`` (n, 100) int32 word ids below ``num_words``,
    ``tags`` (n, 12) float32 0/1; targets ``priority`` (n, 1) float32 in [0, 1] and ``department``
    (n, 4) one-hot float32.

    The signal:

    * **department** -- word ids 1-20 are keywords, five per department (1-5 -> department 0, 6-10 ->
      department 1, ...). Every title contains two keywords of its department among ordinary words
      (ids > 20). The body is ordinary words only: noise, as in the documents.
    * **priority** -- the first three tags mean "urgent": priority = (urgent tags set + 0.5) / 4, so it is
      0.125, 0.375, 0.625 or 0.875.

    The documents' own targets were noise, and their ``dept_targets = np.random.randint(2, size=(1280, 4))``
    were not even one-hot (several 1s per row) although they are fitted with categorical cross-entropy.
    """
    n = _int_arg("n", n)
    _int_arg("seed", seed, minimum=0)
    num_departments = _int_arg("num_departments", num_departments, minimum=2, maximum=20)
    keywords_per_department = 5
    first_plain = 1 + keywords_per_department * num_departments
    num_words = _int_arg("num_words", num_words, minimum=first_plain + 1)
    num_tags = _int_arg("num_tags", num_tags, minimum=3)
    title_length = _int_arg("title_length", title_length, minimum=2)
    body_length = _int_arg("body_length", body_length)
    rng = np.random.default_rng(seed)

    department = rng.integers(0, num_departments, size=n)
    title = rng.integers(first_plain, num_words, size=(n, title_length)).astype("int32")
    _plant(rng, title, _keyword_block(1, keywords_per_department, department), count=2)
    body = rng.integers(first_plain, num_words, size=(n, body_length)).astype("int32")
    tags = (rng.random((n, num_tags)) < 0.3).astype("float32")
    priority = ((tags[:, :3].sum(axis=1, keepdims=True) + 0.5) / 4).astype("float32")
    inputs = {"title": title, "body": body, "tags": tags}
    targets = {"priority": priority, "department": _one_hot(department, num_departments)}
    return inputs, targets


# -- P19: question answering -----------------------------------------------------------------------------------
def question_answering_data(
    n: int = 1000,
    seed: int = 0,
    *,
    max_length: int = 100,
    text_vocabulary_size: int = 10_000,
    question_vocabulary_size: int = 10_000,
    answer_vocabulary_size: int = 500,
    num_answers: int = 10,
) -> tuple[Arrays, np.ndarray]:
    """Texts and questions for ``patterns.question_answering_model()``: text, question -> answer.

    Shapes as in document 004: ``text`` and ``question`` (n, 100) int32 word ids in [1, vocabulary size);
    targets (n, 500) one-hot float32 (the model's one output, ``answer``).

    The signal: only the first ``num_answers`` answer words occur. For answer ``k`` the question *ends*
    with five copies of keyword ``1 + k`` ("what is ... k?") and the text contains keyword ``1 + k`` at
    five random places; every other word is an ordinary word (id > ``num_answers``). Putting the keyword
    at the end of the question keeps it close to the LSTM's final state, so a few epochs learn it. The loss
    also drops at once from ln(500) toward ln(num_answers) as the softmax learns which answers occur.
    """
    n = _int_arg("n", n)
    _int_arg("seed", seed, minimum=0)
    max_length = _int_arg("max_length", max_length, minimum=6)
    answer_vocabulary_size = _int_arg("answer_vocabulary_size", answer_vocabulary_size, minimum=2)
    num_answers = _int_arg("num_answers", num_answers, minimum=2, maximum=answer_vocabulary_size)
    text_vocabulary_size = _int_arg("text_vocabulary_size", text_vocabulary_size, minimum=num_answers + 2)
    question_vocabulary_size = _int_arg("question_vocabulary_size", question_vocabulary_size,
                                        minimum=num_answers + 2)
    rng = np.random.default_rng(seed)

    answer = rng.integers(0, num_answers, size=n)
    keyword = (1 + answer)[:, None]
    text = rng.integers(num_answers + 1, text_vocabulary_size, size=(n, max_length)).astype("int32")
    _plant(rng, text, keyword, count=5)
    question = rng.integers(num_answers + 1, question_vocabulary_size, size=(n, max_length)).astype("int32")
    question[:, -5:] = keyword
    return {"text": text, "question": question}, _one_hot(answer, answer_vocabulary_size)


# -- P20: social-media posts -----------------------------------------------------------------------------------
def social_media_data(
    n: int = 512,
    seed: int = 0,
    *,
    length: int = 300,
    vocabulary_size: int = 50_000,
    num_income_groups: int = 10,
) -> tuple[np.ndarray, Arrays]:
    """Posts for ``patterns.social_media_model()``: posts -> age, income, gender.

    Inputs: (n, length) int32 word ids in [1, vocabulary_size), the model's one input ``posts``. Targets:
    ``age`` (n, 1) float32 in years, ``income`` (n, 10) one-hot float32, ``gender`` (n, 1) float32 0/1.
    ``length`` must be at least 269: the model's five ``Conv1D(kernel 5)`` and two ``MaxPooling1D(5)``
    shrink shorter posts to nothing.

    The signal, written into each post as marker words at random places among ordinary words (ids >= 100):

    * **age** -- one of ten age groups k; age = 20 + 4k years + Gaussian noise (sd 2). Marker 1 + k appears
      three times. Age is in years on purpose: before training its mean squared error is in the
      thousands and, even when predicted perfectly from the markers, about 4 (the "3 to 5" of document 004),
      while the cross-entropies are about 2.3 (income) and 0.7 (gender) and fall toward 0.1. Unweighted,
      the total loss is almost all age; that is the document's reason for ``loss_weights=[0.25, 1, 10]``.
    * **income** -- group g; marker 20 + g appears three times.
    * **gender** -- 0 or 1; marker 40 + gender appears three times.
    """
    n = _int_arg("n", n)
    _int_arg("seed", seed, minimum=0)
    length = _int_arg("length", length, minimum=SOCIAL_MIN_LENGTH)
    num_income_groups = _int_arg("num_income_groups", num_income_groups, minimum=2, maximum=20)
    vocabulary_size = _int_arg("vocabulary_size", vocabulary_size, minimum=101)
    rng = np.random.default_rng(seed)

    age_group = rng.integers(0, 10, size=n)
    income = rng.integers(0, num_income_groups, size=n)
    gender = rng.integers(0, 2, size=n)
    posts = rng.integers(100, vocabulary_size, size=(n, length)).astype("int32")
    markers = np.stack([1 + age_group, 20 + income, 40 + gender], axis=1)
    for column in range(markers.shape[1]):
        _plant(rng, posts, markers[:, column : column + 1], count=3)
    age = 20.0 + 4.0 * age_group + rng.normal(0.0, 2.0, size=n)
    targets = {
        "age": age.astype("float32")[:, None],
        "income": _one_hot(income, num_income_groups),
        "gender": gender.astype("float32")[:, None],
    }
    return posts, targets


# -- P25: two texts through one shared Embedding ---------------------------------------------------------------
def siamese_text_data(
    n: int = 512,
    seed: int = 0,
    *,
    length: int = 20,
    vocabulary_size: int = 1000,
    num_topics: int = 8,
) -> tuple[Arrays, np.ndarray]:
    """Pairs of texts for ``patterns.shared_embedding()``: text_a, text_b -> same_topic.

    ``text_a`` and ``text_b`` (n, length) int32 word ids in [1, vocabulary_size); targets (n, 1) float32
    0/1 (the model's one output, ``same_topic``), half of each.

    The signal: word ids 1 to 10·num_topics are topic words, ten per topic (1-10 topic 0, 11-20 topic 1,
    ...). Each text has a topic and about a third of its words are words of that topic; the rest are
    ordinary words (ids > 10·num_topics). ``same_topic`` is 1 when both texts have the same topic. The
    cosine of the two averaged embeddings sees this even before training, because texts on one topic
    share words.
    """
    n = _int_arg("n", n)
    _int_arg("seed", seed, minimum=0)
    length = _int_arg("length", length, minimum=3)
    num_topics = _int_arg("num_topics", num_topics, minimum=2)
    first_plain = 1 + 10 * num_topics
    vocabulary_size = _int_arg("vocabulary_size", vocabulary_size, minimum=first_plain + 1)
    rng = np.random.default_rng(seed)

    same = rng.integers(0, 2, size=n)
    topic_a = rng.integers(0, num_topics, size=n)
    other = (topic_a + rng.integers(1, num_topics, size=n)) % num_topics
    topic_b = np.where(same == 1, topic_a, other)
    texts = []
    for topic in (topic_a, topic_b):
        text = rng.integers(first_plain, vocabulary_size, size=(n, length)).astype("int32")
        _plant(rng, text, _keyword_block(1, 10, topic), count=max(1, length // 3))
        texts.append(text)
    return {"text_a": texts[0], "text_b": texts[1]}, same.astype("float32")[:, None]


# -- P26: two sequences through one shared LSTM ----------------------------------------------------------------
def _hidden_patterns(count: int, timesteps: int, features: int) -> np.ndarray:
    """``count`` fixed smooth patterns of shape (timesteps, features), the same for every seed."""
    world = np.random.default_rng(_WORLD_SEED)
    t = np.arange(timesteps)[None, :, None] / timesteps
    frequency = world.uniform(0.5, 2.0, size=(count, 1, features))
    phase = world.uniform(0.0, 2 * np.pi, size=(count, 1, features))
    return np.sin(2 * np.pi * frequency * t + phase)


def siamese_sequence_data(
    n: int = 512,
    seed: int = 0,
    *,
    timesteps: int = 20,
    features: int = 128,
    task: str = "compare",
    noise: float = 0.5,
) -> tuple[Arrays, np.ndarray]:
    """Pairs of sequences for ``patterns.siamese_lstm()``: left, right -> predictions.

    ``left`` and ``right`` (n, timesteps, 128) float32; targets (n, 1) float32 0/1 (the model's one output,
    ``predictions``), half of each.
    Both sides are noisy copies (Gaussian noise of sd ``noise``) of fixed hidden patterns.

    The signal depends on ``task``:

    * ``"compare"`` (default) -- both sides show the same pattern at different strengths (a level between
      0.1 and 1); the target is 1 when the left one is stronger. The shared LSTM learns one "strength"
      reading and the Dense layer compares the two readings, which document 004's head (concatenate, then
      ``Dense(1, sigmoid)``) can do.
    * ``"same"`` -- each side is one of eight patterns; the target is 1 when both are the same pattern.
      Document 004's head **cannot** learn this: a Dense layer on concatenated encodings computes
      f(left) + g(right), and "are these equal?" is not of that form (it is an XOR). Use it to show why
      siamese similarity models merge with ``layers.dot(normalize=True)`` or ``abs(left - right)`` instead.
    """
    n = _int_arg("n", n)
    _int_arg("seed", seed, minimum=0)
    timesteps = _int_arg("timesteps", timesteps)
    features = _int_arg("features", features)
    task = _choice_arg("task", task, ("compare", "same"))
    valid_noise = isinstance(noise, int | float) and not isinstance(noise, bool) and 0 <= noise <= 10
    _require(valid_noise, "noise", noise, "a number from 0 to 10")
    rng = np.random.default_rng(seed)

    if task == "compare":
        pattern = _hidden_patterns(1, timesteps, features)[0]
        level = rng.uniform(0.1, 1.0, size=(2, n))
        sides = [level[i][:, None, None] * pattern for i in range(2)]
        label = level[0] > level[1]
    else:
        patterns = _hidden_patterns(8, timesteps, features)
        label = rng.integers(0, 2, size=n).astype(bool)
        left = rng.integers(0, 8, size=n)
        right = np.where(label, left, (left + rng.integers(1, 8, size=n)) % 8)
        sides = [patterns[left], patterns[right]]
    left_data, right_data = (
        (side + rng.normal(0.0, noise, size=side.shape)).astype("float32") for side in sides
    )
    return {"left": left_data, "right": right_data}, label.astype("float32")[:, None]
