"""The ex3 tasks' figures and helpers, and the judges of ex3.1-ex3.3 (a ticket model, named outputs, loss weights)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Problem,
    Stop,
    expect_inputs,
    expect_outputs,
    expect_params,
    explain_raised,
    inputs_reaching,
    need_model,
    output_map,
    run_forward,
    unconnected_inputs,
)
from .._i18n import N_, _
from .._layergraph import LayerGraph

__all__ = [
    "QA_INPUTS",
    "QA_PARAMS",
    "QA_VOCABULARY",
    "_by_output",
    "_call_builder",
    "_check_keys",
    "_head_activation",
    "_judge_loss_weights",
    "_judge_named_outputs",
    "_judge_ticket",
    "_kind_of",
    "_quote",
]


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
    if len(quoted) == 1:
        return quoted[0]
    return _("{first} and {last}").format(first=", ".join(quoted[:-1]), last=quoted[-1])


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

    from .._explain import explain

    if not callable(answer) or isinstance(answer, keras.Model | keras.layers.Layer | type):
        return answer
    try:
        result = answer()
    except Exception as exc:
        message = _raised(exc, _("Calling your function"), with_fix=False)
        if "incompatible shapes" in str(exc) or "Inputs have incompatible shapes" in explain(exc).original:
            message += " " + _("Here the text and the question are encoded to vectors of different sizes. Adding "
                               "them cannot work, and would blur the two encodings into one anyway: the task keeps "
                               "both, side by side, in one longer vector (a concatenation), which works for any "
                               "sizes.")
        raise Stop(message, code="raised") from None
    if result is None or result is ...:
        raise Stop(_("Your function returned None: finish it so that it builds the model and ends with "
                     "return model."), answered=False, code="not-answered:returned-none")
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
                _("The {name!r} head never sees {missing}: it reads {reads}. Each head should read the features that "
                  "combine title, body and tags (the concatenation of the starter code), so that every input can "
                  "inform its answer.").format(name=name, missing=_quote(missing), reads=reads), (key,),
                code="head-input"))
        activation = _head_activation(graph, key)
        if activation != "linear":
            problems.append(Problem(
                _("The {name!r} head has activation {activation!r}; in this task both heads give logits (no "
                  "activation), as the priority head of the starter code does: the losses of lesson 5 apply the "
                  "sigmoid and softmax themselves (from_logits=True).").format(name=name, activation=activation),
                (key,), code="head-activation"))
    if problems:
        return problems
    problems += expect_params(graph, TICKET_PARAMS, explain=N_(
        "The starter code's layers plus one Dense layer of 4 units on the features should give exactly that: "
        "lab.shapes(model) shows where the difference comes from."))
    if problems:
        return problems
    x, _y = datasets.ticket_data(n=4, seed=1)
    predictions = _by_output(run_forward(model, x), graph)
    got = {name: tuple(np.shape(predictions.get(name))) for name in TICKET_OUTPUTS}
    if got != {"priority": (4, 1), "department": (4, 4)}:
        raise Stop(_("On 4 tickets your model returned shapes {got}, not priority (4, 1) and department (4, 4).")
                   .format(got=got), code="forward-shape")
    ctx.verified += [_("inputs 'title' and 'body' (word ids, int32) and 'tags' (None, 12)"),
                     _("outputs 'priority' (None, 1) and 'department' (None, 4), both logits"),
                     _("both heads read the features of all three inputs"),
                     _("{params:,} parameters, as lesson 5's ticket model").format(params=TICKET_PARAMS),
                     _("a forward pass on 4 tickets gives a priority and 4 department scores per ticket")]
    return []


# -- ex3.2 ------------------------------------------------------------------------------------------------------
def _kind_of(value: Any) -> str:
    if value is None:
        return _("nothing")
    if isinstance(value, Mapping):
        return _("a dict")
    if isinstance(value, list | tuple):
        return _("a list of {n}").format(n=len(value))
    return _("one loss ({value!r})").format(value=value) if isinstance(value, str) else _("one loss")


_UNKNOWN_KEY = {  # (kind, a close name was found): the message for a key that names no output (input)
    ("output", True): N_("Your {what} has the key {key!r}, but the model has no output of that name (did you mean "
                         "{close!r}?). Its outputs are {names} (model.output_names): the keys must be exactly these "
                         "names."),
    ("output", False): N_("Your {what} has the key {key!r}, but the model has no output of that name. Its outputs "
                          "are {names} (model.output_names): the keys must be exactly these names."),
    ("input", True): N_("Your {what} has the key {key!r}, but the model has no input of that name (did you mean "
                        "{close!r}?). Its inputs are {names} (the names given to keras.Input): the keys must be "
                        "exactly these names."),
    ("input", False): N_("Your {what} has the key {key!r}, but the model has no input of that name. Its inputs are "
                         "{names} (the names given to keras.Input): the keys must be exactly these names."),
}
_MISSING_KEY = {
    "output": N_("Your {what} has nothing for {missing}: a dict needs one entry per output, keyed by the output's "
                 "name ({names})."),
    "input": N_("Your {what} has nothing for {missing}: a dict needs one entry per input, keyed by the input's name "
                "({names})."),
}


def _check_keys(given: Mapping[str, Any], wanted: tuple[str, ...], what: str, *, kind: str = "output") -> list[Problem]:
    """A dict keyed by the model's output (or input) names: each key known, none missing. ``what`` (marked with
    ``N_``, translated here) names the dict, e.g. "dict of losses"."""
    what = _(what)
    problems = []
    unknown = [k for k in given if k not in wanted]
    for key in unknown:
        close = (difflib.get_close_matches(str(key), wanted, n=1, cutoff=0.5)
                 or [w for w in wanted if w in str(key).lower()])
        problems.append(Problem(_(_UNKNOWN_KEY[kind, bool(close)]).format(
            what=what, key=key, close=close[0] if close else "", names=_quote(wanted)), code="dict-unknown-key"))
    missing = [k for k in wanted if k not in given]
    if missing:
        problems.append(Problem(_(_MISSING_KEY[kind]).format(what=what, missing=_quote(missing),
                                                             names=_quote(wanted)), code="dict-missing-key"))
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
        raise Stop(_("{name!r} is not compiled yet: name the outputs, then call model.compile(optimizer=..., "
                     "loss={{...}}, loss_weights={{...}}) before checking it.").format(name=model.name), answered=False,
                   code="not-answered:not-compiled")
    config = model.get_compile_config()
    names = tuple(TICKET_OUTPUTS)
    loss, weights = config.get("loss"), config.get("loss_weights")
    if not isinstance(loss, Mapping):
        mixed = (" " + _("A list of losses with a dict of weights is the mix lesson 5 warns about: Keras accepts it "
                         "silently and weighs the wrong losses.") if isinstance(weights, Mapping) else "")
        problems.append(Problem(
            _("You compiled with {kind} as the loss; the task asks for one loss per output, in a dict keyed by the "
              "output names {names}. A dict cannot get the order of the outputs wrong.").format(
                  kind=_kind_of(loss), names=_quote(names)) + mixed, code="loss-not-a-dict"))
    else:
        problems += _check_keys(loss, names, N_("dict of losses"))
    if not isinstance(weights, Mapping):
        problems.append(Problem(
            _("You compiled with {kind} as the loss weights; the task weighs the losses priority 1.0 and department "
              "0.2, in a dict keyed by the same names as the losses.").format(kind=_kind_of(weights)),
                                code="weights-not-a-dict"))
    else:
        problems += _check_keys(weights, names, N_("dict of loss weights"))
        for name, want in TICKET_WEIGHTS.items():
            got = weights.get(name)
            if got is not None and not (isinstance(got, Real) and math.isclose(float(got), want, rel_tol=1e-6)):
                problems.append(Problem(_("The loss weight of {name!r} is {got!r}; the task's is {want}.").format(
                    name=name, got=got, want=want), code="loss-weight-value"))
    if isinstance(loss, Mapping) and isinstance(weights, list | tuple):
        problems.append(Problem(
            _("Mixing the forms (a dict of losses with a list of weights, or the other way round) is what lesson 5 "
              "warns about: write both as dicts."), code="mixed-forms"))
    if isinstance(loss, Mapping) and "sparse" in _loss_name(loss.get("department")):
        problems.append(Problem(
            _("The 'department' targets are one-hot vectors of 4 numbers per ticket (lab.datasets.ticket_data), so "
              "its loss is the categorical cross-entropy; the 'sparse' one expects whole-number labels instead."),
                                code="loss-sparse"))
    if problems:
        return problems

    x, y = datasets.ticket_data(n=64, seed=1)
    try:
        scores = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    except Exception as exc:
        raise Stop(_raised(exc, _("Evaluating your compiled model on 64 tickets")), code="raised:evaluate") from None
    head_losses = {name: float(scores[f"{name}_loss"]) for name in names if f"{name}_loss" in scores}
    if len(head_losses) == len(names):
        intended = sum(TICKET_WEIGHTS[n] * head_losses[n] for n in names)
        if not math.isclose(float(scores["loss"]), intended, rel_tol=1e-3, abs_tol=1e-4):
            return [Problem(
                _("On 64 tickets the total loss is {loss:.4f}, but 1.0 × priority_loss + 0.2 × department_loss is "
                  "{intended:.4f}: Keras did not apply the weights to the outputs you meant. Write the losses and the "
                  "weights the same way, both as dicts keyed by output name.").format(loss=scores["loss"],
                                                                                      intended=intended),
                            code="weights-not-applied")]
    predictions = _by_output(model.predict(x, batch_size=64, verbose=0), graph)
    outputs = output_map(graph)
    kinds = {"priority": (N_("binary cross-entropy"), "sigmoid", _sigmoid),
             "department": (N_("categorical cross-entropy"), "softmax", _softmax)}
    for name, got in head_losses.items():
        kind, squash, function = kinds[name]
        key = outputs[name][0]
        logits = _head_activation(graph, key) == "linear"
        outs = predictions[name].astype("float64")
        reference = _cross_entropy(name, y[name].astype("float64"), function(outs) if logits else outs)
        if not math.isclose(got, reference, rel_tol=0.02, abs_tol=1e-3):
            advice = (_("The layer {key!r} has no activation, so it gives logits: its loss has to apply the "
                        "{squash} itself (from_logits=True).").format(key=key, squash=squash) if logits else
                      _("The layer {key!r} already applies {activation!r}, so its loss must not treat the outputs as "
                        "logits.").format(key=key, activation=_head_activation(graph, key)))
            problems.append(Problem(
                _("The loss of {name!r} gives {got:.3f} on 64 tickets, but the {kind} of these outputs is "
                  "{reference:.3f}: the task trains {name!r} with a {kind}.").format(
                      name=name, got=got, kind=_(kind), reference=reference) + " " + advice, (key,),
                code="loss-kind"))
    if problems:
        return problems

    try:
        clone = keras.models.clone_model(model)
        clone.compile_from_config(config)
        history = clone.fit(x, y, epochs=1, batch_size=32, verbose=0)
    except Exception as exc:
        raise Stop(_raised(exc, _("A short fit of your compiled model (on a copy)")), code="raised:fit") from None
    if not np.isfinite(history.history["loss"][-1]):
        return [Problem(_("A short fit of your compiled model gave a loss that is not a number: check the losses."),
                        code="loss-not-a-number")]
    ctx.verified += [_("outputs named 'priority' (None, 1) and 'department' (None, 4)"),
                     _("one loss per output, in a dict keyed by those names; each reads its output correctly"),
                     _("loss weights in a dict: the total loss is 1.0 × priority_loss + 0.2 × department_loss"),
                     _("a short fit on tickets given as dicts keyed by name runs (on a copy of your model)")]
    return []


# -- ex3.3 ------------------------------------------------------------------------------------------------------
def _judge_loss_weights(answer: Any, ctx: Context) -> list[Problem]:
    from .. import datasets, patterns

    if isinstance(answer, list | tuple):
        raise Stop(_("This is a list of {n} weights. Keras would match it to the outputs by position (age, income, "
                     "gender); the task asks for a dict keyed by the output names, which cannot get the order "
                     "wrong.").format(n=len(answer)), code="weights-as-list")
    if not isinstance(answer, Mapping):
        kind = "None" if answer is None else _("a {kind}").format(kind=type(answer).__name__)
        raise Stop(_("The check needs a dict of loss weights keyed by output name; you passed {kind}.").format(
            kind=kind), code="wrong-kind")
    problems = _check_keys(answer, SOCIAL_OUTPUTS, N_("dict of loss weights"))
    for name in SOCIAL_OUTPUTS:
        if name not in answer:
            continue
        value = answer[name]
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
            problems.append(Problem(_("The weight of {name!r} is {value!r}; a loss weight is a number.").format(
                name=name, value=value), code="weight-not-a-number"))
        elif value < 0:
            problems.append(Problem(
                _("The weight of {name!r} is {value}: a negative weight makes training push that head's loss up "
                  "instead of down. Loss weights are positive numbers.").format(name=name, value=value),
                code="weight-negative"))
        elif value == 0:
            problems.append(Problem(
                _("The weight of {name!r} is 0: that head's loss no longer counts, so the head would never learn. "
                  "Give every head a positive weight.").format(name=name), code="weight-zero"))
    if problems:
        return problems

    weighted = {name: float(answer[name]) * SOCIAL_LATE_LOSSES[name] for name in SOCIAL_OUTPUTS}
    largest = max(weighted, key=weighted.__getitem__)
    smallest = min(weighted, key=weighted.__getitem__)
    ratio = weighted[largest] / weighted[smallest]
    if ratio > BALANCE_FACTOR:
        return [Problem(
            _("With these weights, late in training {largest!r} adds {large:.3g} to the total loss ({large_weight:.3g} "
              "× {large_loss}) and {smallest!r} only {small:.3g} ({small_weight:.3g} × {small_loss}): {ratio:.0f} "
              "times less, and the check allows at most {factor:.0f}. Training would mostly serve {largest!r}. Lower "
              "the weight of {largest!r} or raise the weight of {smallest!r}, until weight × typical loss is about "
              "the same for every head.").format(
                  largest=largest, large=weighted[largest], large_weight=float(answer[largest]),
                  large_loss=SOCIAL_LATE_LOSSES[largest], smallest=smallest, small=weighted[smallest],
                  small_weight=float(answer[smallest]), small_loss=SOCIAL_LATE_LOSSES[smallest], ratio=ratio,
                  factor=BALANCE_FACTOR), code="weights-unbalanced")]

    model = patterns.social_media_model(compiled=False)
    model.compile(optimizer="rmsprop",
                  loss={"age": "mse", "income": "categorical_crossentropy", "gender": "binary_crossentropy"},
                  loss_weights={name: float(answer[name]) for name in SOCIAL_OUTPUTS})
    posts, targets = datasets.social_media_data(n=16, seed=1)
    scores = model.evaluate(posts, targets, batch_size=16, verbose=0, return_dict=True)
    expected = sum(float(answer[n]) * float(scores[f"{n}_loss"]) for n in SOCIAL_OUTPUTS)
    if not math.isclose(float(scores["loss"]), expected, rel_tol=1e-3):
        return [Problem(_("Keras did not apply these weights as expected to the social-media model; check that "
                          "every value is a plain number."), code="weights-not-applied")]
    ctx.verified += [_("a dict with one positive weight per output: 'age', 'income' and 'gender'"),
                     _("weight × typical late loss is within {factor:.0f}× across the three heads, so no head "
                       "dominates the total").format(factor=BALANCE_FACTOR),
                     _("compiled into lab.patterns.social_media_model(), Keras's total loss is the weighted sum of "
                       "the three head losses")]
    return []
