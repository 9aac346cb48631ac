"""Exercises for lesson 5: several inputs and outputs (the ticket model, question answering, social media).

ex3.3 judges a dict of loss weights against the per-head losses document 004 reasons with (a trained model's:
an age MSE of 3-5, a gender cross-entropy as low as 0.1), not against an untrained model's first losses: on the
synthetic posts the untrained age MSE is about 1,600, so no weights balance both moments, and document 004's
own weights (0.25, 1, 10) only balance the trained ones. The notebook gives the student the same table.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_class_count,
    expect_depends,
    expect_inputs,
    expect_outputs,
    expect_params,
    explain_raised,
    inputs_reaching,
    match_inputs,
    match_outputs,
    need_functional,
    need_model,
    nodes_of,
    output_map,
    run_forward,
    unconnected_inputs,
)
from .._layergraph import LayerGraph

LESSON_5 = "lesson 5"

TICKET_INPUTS = ("title", "body", "tags")
TICKET_SHAPES = [(None, None), (None, None), (None, 12)]
TICKET_DTYPES = ["int32", "int32", ""]
TICKET_OUTPUTS = {"priority": (None, 1), "department": (None, 4)}
TICKET_PARAMS = 1_392_097  # lab.patterns.ticket_model(): the lesson's trunk and both heads
TICKET_WEIGHTS = {"priority": 1.0, "department": 0.2}  # documents 000/002

SOCIAL_OUTPUTS = ("age", "income", "gender")
# Typical losses late in training, as document 004 reasons: an age MSE of 3-5 (years²; the synthetic ages carry
# ±2 years of noise, so about 4 remains however well the model reads the posts), a gender cross-entropy as low as
# 0.1, and the 10-group income cross-entropy in between. The notebook's task shows the same table.
SOCIAL_LATE_LOSSES = {"age": 4.0, "income": 1.0, "gender": 0.1}
BALANCE_FACTOR = 3.0

QA_INPUTS = ("text", "question")
QA_PARAMS = 1_000_052  # lab.patterns.question_answering_model()
QA_VOCABULARY = 10_000


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
_raised = explain_raised


def _quote(names: list[str] | tuple[str, ...]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _by_output(predictions: Any, graph: LayerGraph) -> dict[str, np.ndarray]:
    """A multi-output model's predictions (a list in output order, or a dict) keyed by output name."""
    if isinstance(predictions, Mapping):
        return {str(k): np.asarray(v) for k, v in predictions.items()}
    if not isinstance(predictions, list | tuple):
        predictions = [predictions]
    return {name: np.asarray(p) for name, p in zip(output_map(graph), predictions, strict=False)}


def _call_builder(answer: Any) -> Any:
    """A function of no arguments is called here, so that an error raised while the model is built gets an
    explanation for this lesson (two encodings of different sizes cannot be added)."""
    import keras

    if not callable(answer) or isinstance(answer, keras.Model | keras.layers.Layer | type):
        return answer
    try:
        result = answer()
    except Exception as exc:
        message = _raised(exc, "Calling your function", with_fix=False)
        if "incompatible shapes" in str(exc) or "got tensors of different shapes" in message:
            message += (" Here the text and the question are encoded to vectors of different sizes. Adding "
                        "them cannot work, and would blur the two encodings into one anyway: the task keeps "
                        "both, side by side, in one longer vector (a concatenation), which works for any sizes.")
        raise Stop(message, code="raised") from None
    if result is None or result is ...:
        raise Stop("Your function returned None: finish it so that it builds the model and ends with "
                   "return model.", answered=False, code="not-answered:returned-none")
    return result


def _head_activation(graph: LayerGraph, key: str) -> str:
    return graph.node(key).layer.activation or "linear"


# -- ex3.1 ------------------------------------------------------------------------------------------------------
def _judge_ticket(answer: Any, ctx: Context) -> list[Problem]:
    from .. import datasets

    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, TICKET_SHAPES, names=list(TICKET_INPUTS), dtypes=TICKET_DTYPES)
    problems += expect_outputs(graph, TICKET_OUTPUTS)
    if problems:
        return problems
    problems += unconnected_inputs(graph)
    outputs = output_map(graph)
    for name in TICKET_OUTPUTS:
        key = outputs[name][0]
        missing = [k for k in TICKET_INPUTS if k not in inputs_reaching(graph, key)]
        if missing:
            reads = ", ".join(repr(k) for k in graph.predecessors(key))
            problems.append(Problem(
                f"The {name!r} head never sees {_quote(missing)}: it reads {reads}. Each head should read the "
                f"features that combine title, body and tags (the concatenation of the starter code), so that "
                f"every input can inform its answer.", (key,), code="head-input"))
        activation = _head_activation(graph, key)
        if activation != "linear":
            problems.append(Problem(
                f"The {name!r} head has activation {activation!r}; in this task both heads give logits (no "
                f"activation), as the priority head of the starter code does: the losses of lesson 5 apply the "
                f"sigmoid and softmax themselves (from_logits=True).", (key,), code="head-activation"))
    if problems:
        return problems
    problems += expect_params(graph, TICKET_PARAMS, explain=(
        "The starter code's layers plus one Dense layer of 4 units on the features should give exactly that: "
        "lab.shapes(model) shows where the difference comes from."))
    if problems:
        return problems
    x, _ = datasets.ticket_data(n=4, seed=1)
    predictions = _by_output(run_forward(model, x), graph)
    got = {name: tuple(np.shape(predictions.get(name))) for name in TICKET_OUTPUTS}
    if got != {"priority": (4, 1), "department": (4, 4)}:
        raise Stop(f"On 4 tickets your model returned shapes {got}, not priority (4, 1) and department (4, 4).",
                   code="forward-shape")
    ctx.verified += ["inputs 'title' and 'body' (word ids, int32) and 'tags' (None, 12)",
                     "outputs 'priority' (None, 1) and 'department' (None, 4), both logits",
                     "both heads read the features of all three inputs",
                     f"{TICKET_PARAMS:,} parameters, as lesson 5's ticket model",
                     "a forward pass on 4 tickets gives a priority and 4 department scores per ticket"]
    return []


# -- ex3.2 ------------------------------------------------------------------------------------------------------
def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a dict"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return f"one loss ({value!r})" if isinstance(value, str) else "one loss"


def _check_keys(given: Mapping[str, Any], wanted: tuple[str, ...], what: str, *, kind: str = "output") -> list[Problem]:
    where = "model.output_names" if kind == "output" else "the names given to keras.Input"
    problems = []
    unknown = [k for k in given if k not in wanted]
    for key in unknown:
        close = (difflib.get_close_matches(str(key), wanted, n=1, cutoff=0.5)
                 or [w for w in wanted if w in str(key).lower()])
        problems.append(Problem(
            f"Your {what} has the key {key!r}, but the model has no {kind} of that name"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + f". Its {kind}s are {_quote(wanted)} ({where}): the keys must be exactly these names.",
                                code="dict-unknown-key"))
    missing = [k for k in wanted if k not in given]
    if missing:
        problems.append(Problem(
            f"Your {what} has nothing for {_quote(missing)}: a dict needs one entry per {kind}, keyed by "
            f"the {kind}'s name ({_quote(wanted)}).", code="dict-missing-key"))
    return problems


def _loss_name(config: Any) -> str:
    """A compiled loss, as ``get_compile_config()`` keeps it (a string or a serialized loss), as lower-case text."""
    if isinstance(config, Mapping):
        return f"{config.get('class_name', '')} {config.get('config', {}).get('name', '')}".lower()
    return str(config).lower()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _cross_entropy(name: str, y: np.ndarray, p: np.ndarray) -> float:
    eps = 1e-7
    if name == "priority":
        p = np.clip(p, eps, 1 - eps)
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    p = np.clip(p / p.sum(axis=-1, keepdims=True), eps, 1 - eps)
    return float(np.mean(-(y * np.log(p)).sum(axis=-1)))


def _judge_named_outputs(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    from .. import datasets

    model, graph = need_model(answer, ctx)
    problems = expect_outputs(graph, TICKET_OUTPUTS)
    if problems:
        return problems
    if not getattr(model, "compiled", False) or model.get_compile_config() is None:
        raise Stop(f"{model.name!r} is not compiled yet: name the outputs, then call model.compile(optimizer=..., "
                   f"loss={{...}}, loss_weights={{...}}) before checking it.", answered=False,
                   code="not-answered:not-compiled")
    config = model.get_compile_config()
    names = tuple(TICKET_OUTPUTS)
    loss, weights = config.get("loss"), config.get("loss_weights")
    if not isinstance(loss, Mapping):
        mixed = (" A list of losses with a dict of weights is the mix lesson 5 warns about: Keras accepts it "
                 "silently and weighs the wrong losses." if isinstance(weights, Mapping) else "")
        problems.append(Problem(
            f"You compiled with {_kind_of(loss)} as the loss; the task asks for one loss per output, in a dict "
            f"keyed by the output names {_quote(names)}. A dict cannot get the order of the outputs wrong.{mixed}",
                                code="loss-not-a-dict"))
    else:
        problems += _check_keys(loss, names, "dict of losses")
    if not isinstance(weights, Mapping):
        problems.append(Problem(
            f"You compiled with {_kind_of(weights)} as the loss weights; the task weighs the losses "
            f"priority 1.0 and department 0.2, in a dict keyed by the same names as the losses.",
                                code="weights-not-a-dict"))
    else:
        problems += _check_keys(weights, names, "dict of loss weights")
        for name, want in TICKET_WEIGHTS.items():
            got = weights.get(name)
            if got is not None and not (isinstance(got, Real) and math.isclose(float(got), want, rel_tol=1e-6)):
                problems.append(Problem(f"The loss weight of {name!r} is {got!r}; the task's is {want}.",
                                        code="loss-weight-value"))
    if isinstance(loss, Mapping) and isinstance(weights, list | tuple):
        problems.append(Problem(
            "Mixing the forms (a dict of losses with a list of weights, or the other way round) is what lesson 5 "
            "warns about: write both as dicts.", code="mixed-forms"))
    if isinstance(loss, Mapping) and "sparse" in _loss_name(loss.get("department")):
        problems.append(Problem(
            "The 'department' targets are one-hot vectors of 4 numbers per ticket (lab.datasets.ticket_data), so "
            "its loss is the categorical cross-entropy; the 'sparse' one expects whole-number labels instead.",
                                code="loss-sparse"))
    if problems:
        return problems

    x, y = datasets.ticket_data(n=64, seed=1)
    try:
        scores = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    except Exception as exc:
        raise Stop(_raised(exc, "Evaluating your compiled model on 64 tickets"), code="raised:evaluate") from None
    head_losses = {name: float(scores[f"{name}_loss"]) for name in names if f"{name}_loss" in scores}
    if len(head_losses) == len(names):
        intended = sum(TICKET_WEIGHTS[n] * head_losses[n] for n in names)
        if not math.isclose(float(scores["loss"]), intended, rel_tol=1e-3, abs_tol=1e-4):
            return [Problem(
                f"On 64 tickets the total loss is {scores['loss']:.4f}, but 1.0 × priority_loss + 0.2 × "
                f"department_loss is {intended:.4f}: Keras did not apply the weights to the outputs you meant. "
                f"Write the losses and the weights the same way, both as dicts keyed by output name.",
                            code="weights-not-applied")]
    predictions = _by_output(model.predict(x, batch_size=64, verbose=0), graph)
    outputs = output_map(graph)
    kinds = {"priority": ("binary cross-entropy", "sigmoid", _sigmoid),
             "department": ("categorical cross-entropy", "softmax", _softmax)}
    for name, got in head_losses.items():
        kind, squash, function = kinds[name]
        key = outputs[name][0]
        logits = _head_activation(graph, key) == "linear"
        outs = predictions[name].astype("float64")
        reference = _cross_entropy(name, y[name].astype("float64"), function(outs) if logits else outs)
        if not math.isclose(got, reference, rel_tol=0.02, abs_tol=1e-3):
            advice = (f"The layer {key!r} has no activation, so it gives logits: its loss has to apply the {squash} "
                      f"itself (from_logits=True)." if logits else
                      f"The layer {key!r} already applies {_head_activation(graph, key)!r}, so its loss must not "
                      f"treat the outputs as logits.")
            problems.append(Problem(
                f"The loss of {name!r} gives {got:.3f} on 64 tickets, but the {kind} of these outputs is "
                f"{reference:.3f}: the task trains {name!r} with a {kind}. {advice}", (key,), code="loss-kind"))
    if problems:
        return problems

    try:
        clone = keras.models.clone_model(model)
        clone.compile_from_config(config)
        history = clone.fit(x, y, epochs=1, batch_size=32, verbose=0)
    except Exception as exc:
        raise Stop(_raised(exc, "A short fit of your compiled model (on a copy)"), code="raised:fit") from None
    if not np.isfinite(history.history["loss"][-1]):
        return [Problem("A short fit of your compiled model gave a loss that is not a number: check the losses.",
                        code="loss-not-a-number")]
    ctx.verified += ["outputs named 'priority' (None, 1) and 'department' (None, 4)",
                     "one loss per output, in a dict keyed by those names; each reads its output correctly",
                     "loss weights in a dict: the total loss is 1.0 × priority_loss + 0.2 × department_loss",
                     "a short fit on tickets given as dicts keyed by name runs (on a copy of your model)"]
    return []


# -- ex3.3 ------------------------------------------------------------------------------------------------------
def _judge_loss_weights(answer: Any, ctx: Context) -> list[Problem]:
    from .. import datasets, patterns

    if isinstance(answer, list | tuple):
        raise Stop(f"This is a list of {len(answer)} weights. Keras would match it to the outputs by position "
                   f"(age, income, gender); the task asks for a dict keyed by the output names, which cannot get "
                   f"the order wrong.", code="weights-as-list")
    if not isinstance(answer, Mapping):
        kind = "None" if answer is None else f"a {type(answer).__name__}"
        raise Stop(f"The check needs a dict of loss weights keyed by output name; you passed {kind}.",
                   code="wrong-kind")
    problems = _check_keys(answer, SOCIAL_OUTPUTS, "dict of loss weights")
    for name in SOCIAL_OUTPUTS:
        if name not in answer:
            continue
        value = answer[name]
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
            problems.append(Problem(f"The weight of {name!r} is {value!r}; a loss weight is a number.",
                                    code="weight-not-a-number"))
        elif value < 0:
            problems.append(Problem(
                f"The weight of {name!r} is {value}: a negative weight makes training push that head's loss "
                f"up instead of down. Loss weights are positive numbers.", code="weight-negative"))
        elif value == 0:
            problems.append(Problem(
                f"The weight of {name!r} is 0: that head's loss no longer counts, so the head would never learn. "
                f"Give every head a positive weight.", code="weight-zero"))
    if problems:
        return problems

    weighted = {name: float(answer[name]) * SOCIAL_LATE_LOSSES[name] for name in SOCIAL_OUTPUTS}
    largest = max(weighted, key=weighted.__getitem__)
    smallest = min(weighted, key=weighted.__getitem__)
    ratio = weighted[largest] / weighted[smallest]
    if ratio > BALANCE_FACTOR:
        return [Problem(
            f"With these weights, late in training {largest!r} adds {weighted[largest]:.3g} to the total loss "
            f"({float(answer[largest]):.3g} × {SOCIAL_LATE_LOSSES[largest]}) and {smallest!r} only "
            f"{weighted[smallest]:.3g} ({float(answer[smallest]):.3g} × {SOCIAL_LATE_LOSSES[smallest]}): "
            f"{ratio:.0f} times less, and the check "
            f"allows at most {BALANCE_FACTOR:.0f}. Training would mostly serve {largest!r}. Lower the weight of "
            f"{largest!r} or raise the weight of {smallest!r}, until weight × typical loss is about the same for "
            f"every head.", code="weights-unbalanced")]

    model = patterns.social_media_model(compiled=False)
    model.compile(optimizer="rmsprop",
                  loss={"age": "mse", "income": "categorical_crossentropy", "gender": "binary_crossentropy"},
                  loss_weights={name: float(answer[name]) for name in SOCIAL_OUTPUTS})
    posts, targets = datasets.social_media_data(n=16, seed=1)
    scores = model.evaluate(posts, targets, batch_size=16, verbose=0, return_dict=True)
    expected = sum(float(answer[n]) * float(scores[f"{n}_loss"]) for n in SOCIAL_OUTPUTS)
    if not math.isclose(float(scores["loss"]), expected, rel_tol=1e-3):
        return [Problem("Keras did not apply these weights as expected to the social-media model; check that "
                        "every value is a plain number.", code="weights-not-applied")]
    ctx.verified += ["a dict with one positive weight per output: 'age', 'income' and 'gender'",
                     f"weight × typical late loss is within {BALANCE_FACTOR:.0f}× across the three heads, so no "
                     f"head dominates the total",
                     "compiled into lab.patterns.social_media_model(), Keras's total loss is the weighted sum of "
                     "the three head losses"]
    return []


# -- ex3.4 ------------------------------------------------------------------------------------------------------
QA_ENCODERS = {"text": (QA_VOCABULARY, 64, 32), "question": (QA_VOCABULARY, 32, 16)}  # words, vector, LSTM units


def _shared_encoder(graph: LayerGraph) -> list[Problem]:
    """A layer with weights called on the text's path and on the question's: one encoder for both (weight
    identity, :attr:`LayerInfo.uid`), where the task gives each its own."""
    calls: dict[int, list[Any]] = {}
    for node in graph.nodes:
        if node.kind != "input" and node.layer.params > 0:
            calls.setdefault(node.layer.uid, []).append(node)
    for nodes in calls.values():
        reached = [inputs_reaching(graph, n.key) for n in nodes]
        if len(nodes) > 1 and any(r == ["text"] for r in reached) and any(r == ["question"] for r in reached):
            first = nodes[0]
            return [Problem(
                f"Your {first.class_name} {first.name!r} is called on the text and on the question: one layer, one "
                f"set of weights for both. The task gives the text and the question separate encoders, each with "
                f"its own Embedding and its own LSTM: they are different kinds of text, and the task encodes them "
                f"to different sizes (embeddings of 64 and 32 numbers per word, LSTMs of 32 and 16 units). Make "
                f"each layer twice, once for each input.", tuple(n.key for n in nodes), code="encoder-shared")]
    return []


def _embedding_sizes(graph: LayerGraph) -> list[Problem]:
    """Each Embedding's vocabulary and vector size against the task's, with a targeted message for document
    004's swap (``Embedding(256, vocabulary_size)``: the arguments in the wrong order)."""
    problems = []
    for node in nodes_of(graph, "Embedding", deep=False):
        reached = inputs_reaching(graph, node.key)
        if len(reached) != 1:
            continue
        which = reached[0]
        vocabulary, size, _ = QA_ENCODERS[which]
        config = node.layer.config
        got_in, got_out = config.get("input_dim"), config.get("output_dim")
        if got_in == size and got_out == vocabulary:
            problems.append(Problem(
                f"Embedding {node.key!r} (the {which}'s) has input_dim={got_in:,} and output_dim={got_out:,}: a "
                f"vocabulary of {got_in} words, each turned into {got_out:,} numbers. The arguments are the wrong "
                f"way round, the mistake document 004 makes in its social-media model: the first argument of "
                f"Embedding is the vocabulary size (how many different word ids it accepts, here {vocabulary:,}), "
                f"the second the size of each word's vector (here {size}).", (node.key,), code="embedding-sizes"))
        elif got_in != vocabulary:
            problems.append(Problem(
                f"Embedding {node.key!r} (the {which}'s) accepts word ids below {got_in:,}, but the task's "
                f"{which} has a vocabulary of {vocabulary:,} words: its first argument, the vocabulary size, "
                f"should be {vocabulary:,}.", (node.key,), code="embedding-vocabulary"))
    return problems


def _judge_question_answering(answer: Any, ctx: Context) -> list[Problem]:
    from .. import datasets

    model, graph = need_model(_call_builder(answer), ctx)
    problems = expect_inputs(graph, [(None, None), (None, None)], names=list(QA_INPUTS), dtypes=["int32", "int32"])
    problems += expect_outputs(graph, {"answer": (None, 500)})
    if problems:
        return problems
    problems = unconnected_inputs(graph)
    if problems:
        return problems
    problems = _shared_encoder(graph) or _embedding_sizes(graph)
    if problems:
        return problems
    answer_key = output_map(graph)["answer"][0]
    merges = [n for n in graph.nodes if n.is_merge]
    joins = [n for n in merges if n.class_name == "Concatenate"
             and all(len(inputs_reaching(graph, p)) == 1 for p in graph.predecessors(n.key))
             and {inputs_reaching(graph, p)[0] for p in graph.predecessors(n.key)} == set(QA_INPUTS)]
    if not joins:
        others = [n for n in merges if set(inputs_reaching(graph, n.key)) == set(QA_INPUTS)]
        if others and others[0].class_name != "Concatenate":
            node = others[0]
            return [Problem(
                f"Your model joins the two encodings with {node.class_name} {node.key!r}, which combines them "
                f"value by value into one vector of the same size: the text's and the question's numbers get "
                f"mixed, and both must have the same size. The task concatenates them instead: side by side, "
                f"each keeps its own numbers.", (node.key,), code="merge-by-value")]
        return [Problem(
            "The task encodes the text and the question separately, each with its own embedding and LSTM, and "
            "then concatenates the two encodings (one from the text, one from the question) before the answer "
            "layer. Your model does not have such a concatenation: lab.graph(model) shows where the paths meet.",
            tuple(n.key for n in merges) or (answer_key,), code="encodings-not-separate")]
    problems += expect_class_count(graph, "LSTM", 2, why="The text and the question each get their own LSTM.")
    activation = _head_activation(graph, answer_key)
    if activation != "softmax":
        problems.append(Problem(
            f"The answer layer {answer_key!r} has activation {activation!r}; the task asks for a softmax over the "
            f"500 possible answer words, as document 004 does (trained with categorical cross-entropy).",
            (answer_key,), code="answer-activation"))
    if problems:
        return problems
    problems += expect_params(graph, QA_PARAMS, explain=(
        "The task's sizes: for the text an embedding of 64 numbers per word and an LSTM of 32 units; for the "
        "question an embedding of 32 and an LSTM of 16; 10,000 words in each vocabulary; 500 answer words."))
    if problems:
        return problems
    x, _ = datasets.question_answering_data(n=4, seed=1)
    out = np.asarray(run_forward(model, x))
    if out.shape != (4, 500) or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        raise Stop(f"On 4 questions your model returned shape {out.shape}, not 4 probability rows of 500.",
                   code="forward-shape")
    ctx.verified += ["inputs 'text' and 'question' (word ids, int32); output 'answer' (None, 500), softmax",
                     "both inputs reach the answer: each is encoded on its own, then the two are concatenated",
                     f"{QA_PARAMS:,} parameters, as document 004's model",
                     "a forward pass on 4 questions gives 4 rows of answer probabilities that sum to 1"]
    return []


# -- ex3.5: feed a multi-output model from a tf.data.Dataset of dicts --------------------------------------------
FEED_BATCH = 32
FEED_METRICS = {"priority": ("mae", "mean_absolute_error"),
                "department": ("accuracy", "categorical_accuracy", "acc")}
FEED_METRIC_WORDS = {"priority": "the mean absolute error", "department": "the accuracy"}


def _pair(answer: Any, names: tuple[str, str], exercise_id: str) -> tuple[Any, Any]:
    if not isinstance(answer, tuple | list) or len(answer) != len(names):
        raise Stop(f"This check needs {len(names)} things together, in this order: lab.check({exercise_id!r}, "
                   f"({', '.join(names)})). Run the check cell as it is given.", code="wrong-kind:not-a-tuple")
    for name, value in zip(names, answer, strict=True):
        if value is ...:
            raise Stop(f"Replace the ... in the exercise cell with your {name}, run that cell, then run this check "
                       f"again.", answered=False, code="not-answered")
    return answer[0], answer[1]


def _structure_problems(spec: Any, wanted: tuple[str, ...], what: str, model_word: str) -> list[Problem]:
    """The inputs (or targets) part of a dataset element: a dict keyed exactly by the model's names."""
    if isinstance(spec, tuple | list):
        return [Problem(
            f"The {what} in your dataset's elements are a {type(spec).__name__} of {len(spec)}, matched to the "
            f"model's {model_word}s by position. The task asks for a dict keyed by the {model_word} names "
            f"({_quote(wanted)}): a dict cannot get the order wrong, and it is what the model's names are for.",
                        code="dataset-by-position")]
    if not isinstance(spec, Mapping):
        return [Problem(
            f"The {what} in your dataset's elements are one tensor; the model has {len(wanted)} {model_word}s "
            f"({_quote(wanted)}): give a dict with one entry per {model_word}, keyed by its name.",
                        code="dataset-one-tensor")]
    return _check_keys(spec, wanted, f"dataset's dict of {what}", kind=model_word)


def _metric_problems(history: Mapping[str, Any]) -> list[Problem]:
    problems = []
    found = {name: [k[len(name) + 1:] for k in history if k.startswith(f"{name}_") and k != f"{name}_loss"]
             for name in FEED_METRICS}
    if not any(found.values()):
        keys = ", ".join(repr(k) for k in history)
        return [Problem(
            f"One epoch of fit reports {keys}: the losses only, no metric per output. compile(metrics=...) takes "
            f"the metrics of each output, in a dict keyed by the output names, like the losses: the task asks for "
            f"{FEED_METRIC_WORDS['priority']} of 'priority' and {FEED_METRIC_WORDS['department']} of "
            f"'department'.", code="metrics-missing")]
    swapped = (any(m in FEED_METRICS["department"] for m in found["priority"])
               and any(m in FEED_METRICS["priority"] for m in found["department"]))
    if swapped:
        return [Problem(
            f"One epoch of fit reports 'priority_{found['priority'][0]}' and 'department_{found['department'][0]}': "
            f"each output got the other's metric. A list of metrics is matched to the outputs by position, "
            f"silently; a dict keyed by output name cannot get them crossed.", code="metrics-swapped")]
    for name, accepted in FEED_METRICS.items():
        if not any(m in accepted for m in found[name]):
            have = ", ".join(repr(f"{name}_{m}") for m in found[name]) or "its loss only"
            problems.append(Problem(
                f"For {name!r}, fit reports {have}; the task asks for {FEED_METRIC_WORDS[name]} of {name!r} "
                f"(reported as '{name}_{accepted[0]}').", code="metric-wrong"))
    return problems


def _judge_feed_dataset(answer: Any, ctx: Context) -> list[Problem]:
    import keras
    import tensorflow as tf

    model, dataset = _pair(answer, ("feed_model", "ticket_ds"), "ex3.5")
    model, graph = need_model(model, ctx)
    if not isinstance(dataset, tf.data.Dataset):
        kind = "a dict of arrays" if isinstance(dataset, Mapping) else _kind_of(dataset)
        raise Stop(f"ticket_ds is {kind}, not a tf.data.Dataset: the task feeds fit from a dataset that yields "
                   f"batches (lesson 5, 'Training: data by name'). Make one from the arrays x and y.",
                   code="wrong-kind:not-a-dataset")
    if not getattr(model, "compiled", False) or model.get_compile_config() is None:
        raise Stop(f"{model.name!r} is not compiled yet: compile it with the losses of the starter code and the "
                   f"metrics the task asks for, then check again.", answered=False, code="not-answered:not-compiled")
    inputs, outputs = tuple(graph.inputs), tuple(output_map(graph))
    spec = dataset.element_spec
    if isinstance(spec, Mapping) or not isinstance(spec, tuple) or len(spec) != 2:
        listing = f"a dict of {', '.join(map(repr, spec))}" if isinstance(spec, Mapping) else \
            (f"a tuple of {len(spec)}" if isinstance(spec, tuple) else "one tensor")
        return [Problem(f"Each element of your dataset is {listing}; fit needs each element to be a pair (inputs, "
                        f"targets): a dict of the inputs and a dict of the targets. Make the dataset from both "
                        f"together, x and y.", code="dataset-not-pairs")]
    problems = _structure_problems(spec[0], inputs, "inputs", "input")
    problems += _structure_problems(spec[1], outputs, "targets", "output")
    if problems:
        return problems
    for name in inputs:
        want = graph.node(name).output_shapes[0]
        got = spec[0][name]
        if len(got.shape) == len(want) - 1:
            return [Problem(f"Your dataset's elements are single tickets ('{name}' has shape "
                            f"{tuple(got.shape)} in each element, the shape of one sample): fit would read each "
                            f"as a batch. Batch the dataset: {FEED_BATCH} tickets per element.",
                            code="dataset-not-batched")]
        want_dtype = graph.node(name).output_dtypes[0] if graph.node(name).output_dtypes else "float32"
        if want_dtype.startswith("int") and not got.dtype.is_integer:
            problems.append(Problem(
                f"Your dataset gives '{name}' as {got.dtype.name}, but the model's input '{name}' takes word ids "
                f"as {want_dtype}. Keras would quietly cast the floats back; keep ids whole numbers from the "
                f"start (the documents' float32 ids are one of their mistakes).", (name,), code="dataset-dtype"))
    if problems:
        return problems
    first = next(iter(dataset.take(1)))
    size = int(tf.shape(first[0][inputs[0]])[0])
    if size != FEED_BATCH:
        return [Problem(f"The first batch of your dataset holds {size} tickets; the task asks for batches of "
                        f"{FEED_BATCH}.", code="batch-size")]
    try:
        copy = keras.models.clone_model(model)
        copy.compile_from_config(model.get_compile_config())
        history = copy.fit(dataset, epochs=1, verbose=0, shuffle=False).history
    except Exception as exc:
        raise Stop(explain_raised(exc, "One epoch of fit on your dataset (with a copy of your model)"),
                   code="raised:fit") from None
    problems = _metric_problems(history)
    if problems:
        return problems
    reported = ", ".join(repr(k) for k in history if k != "loss" and not k.endswith("_loss"))
    ctx.verified += [f"each element is a pair: a dict of inputs keyed {_quote(inputs)} and a dict of targets "
                     f"keyed {_quote(outputs)}",
                     f"in batches of {FEED_BATCH}; word ids stay whole numbers",
                     "fit runs one epoch on your dataset (with a copy of your model)",
                     f"the history reports {reported} besides the losses: one metric per output"]
    return []


# -- ex3.6: design a model for an image and its caption ---------------------------------------------------------
DESIGN_INPUTS = {"image": (None, 32, 32, 3), "caption": (None, None)}
DESIGN_OUTPUTS = {"label": (None, 10), "score": (None, 1)}
DESIGN_VOCABULARY = 5_000


def _judge_image_caption(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(_call_builder(answer), ctx, why="The design task practises the functional API.")
    found, problems = match_inputs(graph, DESIGN_INPUTS, dtypes={"image": "float", "caption": "int"})
    outputs, more = match_outputs(graph, DESIGN_OUTPUTS)
    problems += more
    if problems:
        return problems
    for word in DESIGN_OUTPUTS:
        problems += expect_depends(graph, outputs[word], [found["image"], found["caption"]],
                                   why=f"The task's {word} is about the image and its caption together.")
    if problems:
        return problems
    rng = np.random.default_rng(36)
    length = graph.node(found["caption"]).output_shapes[0][1] or 12
    data = {found["image"]: rng.random((3, 32, 32, 3), dtype="float32"),
            found["caption"]: rng.integers(0, DESIGN_VOCABULARY, size=(3, length)).astype(
                graph.node(found["caption"]).output_dtypes[0])}
    data[found["caption"]][:, 0] = DESIGN_VOCABULARY - 1  # the largest word id the task allows
    small = [n for n in nodes_of(graph, "Embedding") if (n.layer.config.get("input_dim") or 0) < DESIGN_VOCABULARY]
    if small:
        node = small[0]
        return [Problem(f"Embedding {node.key!r} accepts word ids below {node.layer.config['input_dim']:,}, but the "
                        f"captions use a vocabulary of {DESIGN_VOCABULARY:,} words: its first argument, the "
                        f"vocabulary size, must be at least {DESIGN_VOCABULARY:,}.", (node.key,),
                        code="embedding-vocabulary")]
    predictions = _by_output(run_forward(model, data), graph)
    got = {word: tuple(np.shape(predictions.get(outputs[word]))) for word in DESIGN_OUTPUTS}
    if got != {"label": (3, 10), "score": (3, 1)}:
        raise Stop(f"On 3 images with captions your model returned {got}, not label (3, 10) and score (3, 1).",
                   code="forward-shape")
    ctx.verified += [f"inputs {found['image']!r} (None, 32, 32, 3) and {found['caption']!r} (word ids, "
                     f"{graph.node(found['caption']).output_dtypes[0]}, any length)",
                     f"outputs {outputs['label']!r} (None, 10) and {outputs['score']!r} (None, 1)",
                     "each output is computed from the image and from the caption",
                     "a forward pass on 3 images with captions (word ids up to 4,999) gives both outputs",
                     f"{sum(1 for n in graph.nodes if n.kind != 'input')} layer calls of your choice in between"]
    return []


EXERCISES = [
    Exercise(
        id="ex3.1", title="Build the ticket model's department head", lesson=LESSON_5, judge=_judge_ticket,
        hints=("A model can have several outputs: the department head is one more layer called on the same "
               "features as the priority head, and the model lists both heads as its outputs.",
               "Keras names each output after the layer that makes it: give the new layer the name 'department', "
               "and 4 units (one score per department), without activation (logits).",
               "keras.Model(inputs=[...the three inputs...], outputs=[priority, department], name=...); then "
               "lab.graph(model) should show one concatenation feeding two heads."),
        outline=(("title (None, None) int32", "title: Embedding 64 + LSTM 128"),
                 ("body (None, None) int32", "body: Embedding 64 + LSTM 32"),
                 ("title: Embedding 64 + LSTM 128", "features: concatenate"),
                 ("body: Embedding 64 + LSTM 32", "features: concatenate"),
                 ("tags (None, 12)", "features: concatenate"),
                 ("features: concatenate", "priority: Dense 1 (logits)"),
                 ("features: concatenate", "department: Dense 4 (logits)"))),
    Exercise(
        id="ex3.2", title="Name the outputs so a dict of losses works", lesson=LESSON_5, judge=_judge_named_outputs,
        answer="the compiled model (outputs named, then model.compile(...))",
        hints=("Run the compile with a dict of losses as it is: the error lists the names the model's outputs "
               "have now (model.output_names). Those names come from the layers that make the outputs.",
               "Give the two output layers name='priority' and name='department', rebuild the model, and compile "
               "with dicts keyed by those names: one loss per output, and loss_weights priority 1.0, department "
               "0.2.",
               "The heads give logits: priority is a score in [0, 1] (binary cross-entropy), department one of 4 "
               "(categorical cross-entropy, the targets are one-hot); both losses need from_logits=True."),
        outline=(("title, body, tags", "features: concatenate"),
                 ("features: concatenate", "output named 'priority' (None, 1)"),
                 ("features: concatenate", "output named 'department' (None, 4)"))),
    Exercise(
        id="ex3.3", title="Give the social-media heads weights that balance them", lesson=LESSON_5,
        judge=_judge_loss_weights, answer="a dict of loss weights, e.g. {'age': ..., 'income': ..., 'gender': ...}",
        hints=("Keras adds the heads' losses into one total: total = Σ weight × loss. A head whose weighted loss "
               "is much larger than the others' gets almost all of the training's attention.",
               "Use the typical late losses of the task: multiply each by its weight. Choose the weights so that "
               "the three products come out about the same (a weight about 1 / loss does it).",
               "The keys are the output names 'age', 'income' and 'gender' (model.output_names); the weights are "
               "positive numbers. Document 004 found weights for the same three heads: lesson 5 shows them.")),
    Exercise(
        id="ex3.4", title="Question answering: two inputs, one answer", lesson=LESSON_5,
        judge=_judge_question_answering, answer="a function with no arguments that builds and returns the model",
        hints=("Two keras.Input tensors of word ids (shape (None,), dtype 'int32'), named 'text' and 'question'; "
               "each gets its own Embedding and its own LSTM.",
               "The two encodings have different sizes (32 and 16), so they cannot be added: put them side by side "
               "with layers.concatenate([...]) and feed that to the answer layer.",
               "The answer layer is Dense(500, activation='softmax', name='answer'); the model is "
               "keras.Model([text, question], answer, name=...), returned by your function."),
        outline=(("text (None, None) int32", "Embedding 64 + LSTM 32"),
                 ("question (None, None) int32", "Embedding 32 + LSTM 16"),
                 ("Embedding 64 + LSTM 32", "concatenate"), ("Embedding 32 + LSTM 16", "concatenate"),
                 ("concatenate", "answer: Dense 500, softmax"))),
    Exercise(
        id="ex3.5", title="Feed the ticket model from a Dataset of dicts, with a metric per output",
        lesson=LESSON_5, judge=_judge_feed_dataset,
        answer="the compiled model and the dataset: (feed_model, ticket_ds)",
        hints=("x and y are dicts keyed by input and output name. A tf.data.Dataset made from the pair (x, y) "
               "yields pairs of dicts with the same keys: exactly what fit wants.",
               "tf.data.Dataset.from_tensor_slices((x, y)) slices every array along its first axis; then shuffle "
               "and batch it (32 tickets per batch).",
               "compile(..., metrics={'priority': ['mae'], 'department': ['accuracy']}): one list of metrics per "
               "output, keyed by output name, like the losses.")),
    Exercise(
        id="ex3.6", title="Design a model for an image and its caption", lesson=LESSON_5,
        judge=_judge_image_caption, answer="your model (or a function with no arguments that returns it)",
        hints=("Two keras.Input: the image (32, 32, 3) and the caption, word ids of any length (shape (None,), "
               "dtype 'int32'). Each gets its own branch that turns it into a vector.",
               "Both outputs must see both inputs: merge the two vectors (a concatenation keeps both), then put the "
               "two heads on the merged vector.",
               "For example: the image through a convolution and global pooling; the caption through an Embedding "
               "of 5,000 words and an LSTM or global pooling; concatenate; Dense(10, name='label') and "
               "Dense(1, name='score') on top."),
        outline=(("image (None, 32, 32, 3)", "image branch: any layers"),
                 ("caption (None, None) int32", "caption branch: any layers"),
                 ("image branch: any layers", "merge"), ("caption branch: any layers", "merge"),
                 ("merge", "label (None, 10)"), ("merge", "score (None, 1)"))),
]
