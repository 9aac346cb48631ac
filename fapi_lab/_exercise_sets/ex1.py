"""Exercises for lessons 1 and 2: a first functional model, and training it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    computes_like,
    expect_inputs,
    expect_outputs,
    expect_params,
    need_functional,
    need_model,
    nodes_of,
    output_map,
    run_forward,
)
from .._render_dot import format_shape

LESSONS_1 = "lesson 1"
LESSONS_2 = "lesson 2"


def _hidden_activations(graph: Any, output_keys: set[str], want: str) -> list[Problem]:
    problems = []
    for node in nodes_of(graph, "Dense"):
        if node.key in output_keys:
            continue
        if (node.layer.activation or "linear") != want:
            problems.append(Problem(
                f"Hidden layer {node.key!r} has activation {node.layer.activation or 'linear'!r}; the task's hidden "
                f"layers use {want!r}. Without a non-linear activation, two Dense layers in a row are no more "
                f"powerful than one.", (node.key,)))
    return problems


# -- ex1.1 ----------------------------------------------------------------------------------------------------
def _judge_mnist(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 784)], names=["img"])
    problems += expect_outputs(graph, {"predictions": (None, 10)})
    if problems:
        return problems
    dense = nodes_of(graph, "Dense")
    if len(dense) != 3:
        return [Problem(f"Your model has {len(dense)} Dense layer{'s' * (len(dense) != 1)}; the task's has 3: two "
                        f"hidden layers of 64 units and the output layer of 10.", tuple(n.key for n in dense))]
    out_key = output_map(graph)["predictions"][0]
    problems += _hidden_activations(graph, {out_key}, "relu")
    last = graph.node(out_key)
    if (last.layer.activation or "linear") != "linear":
        problems.append(Problem(f"The output layer {out_key!r} has activation {last.layer.activation!r}; the task "
                                f"asks for logits (no activation), as in document 000.", (out_key,)))
    problems += expect_params(graph, 55_050)
    if problems:
        return problems
    out = run_forward(model, np.zeros((3, 784), "float32"))
    ctx.verified += ["input 'img' (None, 784); output 'predictions' (None, 10) as logits",
                     "two hidden Dense layers with relu", "55,050 parameters",
                     f"a forward pass on 3 images gives {np.shape(out)}"]
    return []


# -- ex1.2 ----------------------------------------------------------------------------------------------------
def _judge_image_input(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 28, 28)])
    if problems:
        problems[0] = Problem(problems[0].message + " The model should take the 28×28 images exactly as "
                              "lab.datasets.mnist() returns them, and do the flattening itself.", problems[0].keys)
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(f"Your model has {len(outputs)} outputs; the task needs one: 10 scores per image.")]
    (name, (key, shape)), = outputs.items()
    if tuple(shape) != (None, 10):
        extra = ""
        if len(shape) == 3 and shape[-1] == 10:
            extra = (f" Each of the {shape[1]} rows of the image got its own 10 scores: Dense works on the last "
                     f"axis only. Flatten the image into one vector of 784 numbers before the first Dense layer.")
        return [Problem(f"Output {name!r} has shape {format_shape(shape)}; the task needs (None, 10).{extra}",
                        (key,))]
    images = np.random.default_rng(0).random((4, 28, 28), dtype="float32")
    out = run_forward(model, images)
    if np.shape(out) != (4, 10):
        raise Stop(f"On 4 images your model returned shape {np.shape(out)}, not (4, 10).")
    ctx.verified += ["input (None, 28, 28): images as they come", "output (None, 10): 10 scores per image",
                     "a forward pass on 4 images gives (4, 10)"]
    return []


# -- ex1.3 ----------------------------------------------------------------------------------------------------
def _digits(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    from .. import datasets

    (x, y), _ = datasets.mnist("standin", verbose=False)
    return x[:n].reshape(n, 784).astype("float32") / 255.0, y[:n]


def _judge_compile(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise Stop(f"{model.name!r} is not compiled yet: call model.compile(optimizer=..., loss=..., "
                   f"metrics=[...]) before checking it.", answered=False)
    outputs = output_map(graph)
    if len(outputs) != 1 or tuple(next(iter(outputs.values()))[1]) != (None, 10):
        raise Stop("This exercise starts from lab.patterns.mnist_mlp(): one output of 10 logits. Compile that "
                   "model, don't change it.")
    x, y = _digits()
    try:
        result = model.evaluate(x, y, verbose=0, return_dict=True)
    except Exception as exc:
        text = str(exc)
        if "shape" in text.lower() and ("(None, 10)" in text or "10)" in text or "one-hot" in text.lower()
                                        or "Arguments `target` and `output` must have the same" in text):
            raise Stop("Evaluating on the digits failed: the labels are whole numbers 0–9 (shape (n,)), but your "
                       "loss expects one-hot vectors of 10 numbers. The 'sparse' losses take integer labels.") from None
        raise
    logits = model.predict(x, verbose=0)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    reference = float(-log_softmax[np.arange(len(y)), y.astype(int)].mean())
    problems = []
    if not np.isclose(result["loss"], reference, rtol=0.02, atol=1e-3):
        problems.append(Problem(
            f"Your loss on 64 digits is {result['loss']:.3f}, but the cross-entropy of these outputs is "
            f"{reference:.3f}: the loss does not read the outputs as logits. mnist_mlp() ends in Dense(10) without "
            f"softmax, so the loss must apply the softmax itself (from_logits=True)."))
    if not any("acc" in name for name in result):
        problems.append(Problem(f"The compiled metrics are {sorted(k for k in result if k != 'loss') or 'none'}; "
                                f"the task asks to watch the accuracy (metrics=['accuracy'])."))
    if problems:
        return problems
    ctx.verified += ["the loss reads the outputs as logits (it equals the cross-entropy worked out by hand)",
                     "an accuracy metric is compiled"]
    return []


# -- ex1.4 ----------------------------------------------------------------------------------------------------
def _judge_from_sequential(answer: Any, ctx: Context) -> list[Problem]:
    from .. import patterns

    model, graph = need_functional(answer, ctx)
    problems = expect_inputs(graph, [(None, 64)])
    outputs = output_map(graph)
    if len(outputs) != 1:
        problems.append(Problem(f"Your model has {len(outputs)} outputs; the Sequential model has one."))
    elif tuple(next(iter(outputs.values()))[1]) != (None, 10):
        key, shape = next(iter(outputs.values()))
        problems.append(Problem(f"The output has shape {format_shape(shape)}; the Sequential model's is (None, 10).",
                                (key,)))
    if problems:
        return problems
    out_key = next(iter(outputs.values()))[0]
    problems += _hidden_activations(graph, {out_key}, "relu")
    if (graph.node(out_key).layer.activation or "linear") != "softmax":
        problems.append(Problem(f"The output layer {out_key!r} has activation "
                                f"{graph.node(out_key).layer.activation or 'linear'!r}; the Sequential model ends in "
                                f"softmax.", (out_key,)))
    problems += expect_params(graph, 3_466, explain="The Sequential model has Dense 32, Dense 32 and Dense 10 "
                                                    "after a 64-number input.")
    if problems:
        return problems
    reference = patterns.sequential_mlp(input_dim=64, hidden_units=(32, 32), logits=False, name="reference")
    x = np.random.default_rng(1).random((5, 64), dtype="float32")
    problems = computes_like(model, reference, x, what="the Sequential model")
    if problems:
        return problems
    ctx.verified += ["a functional model (not Sequential): (None, 64) → (None, 10) softmax",
                     "3,466 parameters, in the same order",
                     "with the same weights it computes exactly what the Sequential model computes"]
    return []


EXERCISES = [
    Exercise(
        id="ex1.1", title="Build lesson 1's MNIST classifier with the functional API", lesson=LESSONS_1,
        judge=_judge_mnist,
        hints=("Start from inputs = keras.Input(shape=(784,), name='img'): the shape of one sample, no batch axis.",
               "Each layer is made, then called on the previous tensor: x = layers.Dense(64, activation='relu')(x).",
               "The output layer is Dense(10) without activation, named 'predictions'; then "
               "keras.Model(inputs=inputs, outputs=outputs, name=...)."),
        outline=(("img (None, 784)", "Dense 64, relu"), ("Dense 64, relu", "Dense 64, relu (again)"),
                 ("Dense 64, relu (again)", "predictions: Dense 10 (logits)"))),
    Exercise(
        id="ex1.2", title="Make the model take 28×28 images as they come", lesson=LESSONS_1,
        judge=_judge_image_input,
        hints=("Run lab.shapes(model): look at the shape after the first Dense layer.",
               "Dense only mixes the last axis. Something has to turn (28, 28) into (784,) first.",
               "layers.Flatten() (or layers.Reshape((784,))) between the input and the first Dense layer."),
        outline=(("image (None, 28, 28)", "one vector per image (None, 784)"),
                 ("one vector per image (None, 784)", "Dense 64, relu"), ("Dense 64, relu", "scores (None, 10)"))),
    Exercise(
        id="ex1.3", title="Compile lesson 2's model for integer labels and logits", lesson=LESSONS_2,
        judge=_judge_compile, answer="the compiled model (model = lab.patterns.mnist_mlp(); model.compile(...))",
        hints=("The labels are whole numbers 0–9, not one-hot vectors: which cross-entropy loss takes those?",
               "The last layer has no softmax: its outputs are logits. Tell the loss so.",
               "keras.losses.SparseCategoricalCrossentropy(from_logits=True), an optimizer such as 'rmsprop', and "
               "metrics=['accuracy'].")),
    Exercise(
        id="ex1.4", title="Rewrite document 004's Sequential model with the functional API", lesson=LESSONS_1,
        judge=_judge_from_sequential,
        hints=("A Sequential model is a straight line of layers; in the functional API each arrow is a call.",
               "keras.Input(shape=(64,)) replaces the Sequential's input; call Dense(32, relu) twice, then "
               "Dense(10, softmax).",
               "Wrap it with keras.Model(inputs, outputs, name=...); lab.shapes() of both models should match."),
        outline=(("input (None, 64)", "Dense 32, relu"), ("Dense 32, relu", "Dense 32, relu (again)"),
                 ("Dense 32, relu (again)", "Dense 10, softmax"))),
]
