"""Exercises for lessons 1, 1b and 2: a first functional model, Sequential and the built-in layers, training.

ex1.5 asks for numbers (each layer's output shape and parameter count) for a model the task prints as code:
the judge builds that model from the very same code (:data:`PREDICT_CODE`) and compares with what Keras
computes, never with numbers written here. ex1.6 trains lesson 2's model for a fixed budget on the stand-in
digits with the optimizer the student chose, and measures. ex1.7 is an open-ended design task, judged on
shapes, connectivity and a parameter budget only.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .._exercise_parts.ex1_predict import PREDICT_CODE, _judge_predict, predict_model
from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    computes_like,
    expect_depends,
    expect_inputs,
    expect_outputs,
    expect_params,
    match_inputs,
    match_outputs,
    need_functional,
    need_model,
    nodes_of,
    output_map,
    run_forward,
    total_params,
)
from .._render_dot import format_shape

__all__ = ["EXERCISES", "PREDICT_CODE", "predict_model"]  # the last two: tests/test_exercises_ex1.py

LESSON_1 = "lesson 1"
LESSON_1B = "lesson 1b"
LESSON_2 = "lesson 2"

FUNCTIONAL_WHY = ("This set practises the functional API on a plain stack first, because it is the way of "
                  "writing models that can later branch, merge and share layers, which a Sequential model "
                  "cannot (lesson 1b compares the two).")


def _hidden_activations(graph: Any, output_keys: set[str], want: str) -> list[Problem]:
    problems = []
    for node in nodes_of(graph, "Dense"):
        if node.key in output_keys:
            continue
        if (node.layer.activation or "linear") != want:
            problems.append(Problem(
                f"Hidden layer {node.key!r} has activation {node.layer.activation or 'linear'!r}; the task's hidden "
                f"layers use {want!r}. Without a non-linear activation, two Dense layers in a row are no more "
                f"powerful than one.", (node.key,), code="hidden-activation"))
    return problems


# -- ex1.1 ----------------------------------------------------------------------------------------------------
def _judge_mnist(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why=FUNCTIONAL_WHY)
    problems = expect_inputs(graph, [(None, 784)], names=["img"])
    problems += expect_outputs(graph, {"predictions": (None, 10)})
    if problems:
        return problems
    dense = nodes_of(graph, "Dense")
    if len(dense) != 3:
        return [Problem(f"Your model has {len(dense)} Dense layer{'s' * (len(dense) != 1)}; the task's has 3: two "
                        f"hidden layers of 64 units and the output layer of 10.", tuple(n.key for n in dense),
                        code="dense-count")]
    out_key = output_map(graph)["predictions"][0]
    problems += _hidden_activations(graph, {out_key}, "relu")
    last = graph.node(out_key)
    if (last.layer.activation or "linear") != "linear":
        problems.append(Problem(f"The output layer {out_key!r} has activation {last.layer.activation!r}; the task "
                                f"asks for logits (no activation), as in document 000.", (out_key,),
                                code="output-activation"))
    problems += expect_params(graph, 55_050)
    if problems:
        return problems
    out = run_forward(model, np.zeros((3, 784), "float32"))
    ctx.verified += ["a functional model (keras.Input and layer calls, not Sequential)",
                     "input 'img' (None, 784); output 'predictions' (None, 10) as logits",
                     "two hidden Dense layers with relu", "55,050 parameters",
                     f"a forward pass on 3 images gives {np.shape(out)}"]
    return []


# -- ex1.2 ----------------------------------------------------------------------------------------------------
def _judge_image_input(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 28, 28)])
    if problems:
        problems[0] = Problem(problems[0].message + " The model should take the 28×28 images exactly as "
                              "lab.datasets.mnist() returns them, and do the flattening itself.", problems[0].keys,
                              code=problems[0].code)
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(f"Your model has {len(outputs)} outputs; the task needs one: 10 scores per image.",
                        code="output-count")]
    (name, (key, shape)), = outputs.items()
    if tuple(shape) != (None, 10):
        extra = ""
        if len(shape) == 3 and shape[-1] == 10:
            extra = (f" Each of the {shape[1]} rows of the image got its own 10 scores: Dense works on the last "
                     f"axis only. Flatten the image into one vector of 784 numbers before the first Dense layer.")
        return [Problem(f"Output {name!r} has shape {format_shape(shape)}; the task needs (None, 10).{extra}",
                        (key,), code="output-shape")]
    images = np.random.default_rng(0).random((4, 28, 28), dtype="float32")
    out = run_forward(model, images)
    if np.shape(out) != (4, 10):
        raise Stop(f"On 4 images your model returned shape {np.shape(out)}, not (4, 10).", code="forward-shape")
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
                   f"metrics=[...]) before checking it.", answered=False, code="not-answered:not-compiled")
    outputs = output_map(graph)
    if len(outputs) != 1 or tuple(next(iter(outputs.values()))[1]) != (None, 10):
        raise Stop("This exercise starts from lab.patterns.mnist_mlp(): one output of 10 logits. Compile that "
                   "model, don't change it.", code="model-changed")
    x, y = _digits()
    try:
        result = model.evaluate(x, y, verbose=0, return_dict=True)
    except Exception as exc:
        text = str(exc)
        if "shape" in text.lower() and ("(None, 10)" in text or "10)" in text or "one-hot" in text.lower()
                                        or "Arguments `target` and `output` must have the same" in text):
            raise Stop("Evaluating on the digits failed: the labels are whole numbers 0–9 (shape (n,)), but your "
                       "loss expects one-hot vectors of 10 numbers. The 'sparse' losses take integer labels.",
                       code="loss-wants-one-hot") from None
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
            f"softmax, so the loss must apply the softmax itself (from_logits=True).", code="loss-not-from-logits"))
    if not any("acc" in name for name in result):
        problems.append(Problem(f"The compiled metrics are {sorted(k for k in result if k != 'loss') or 'none'}; "
                                f"the task asks to watch the accuracy (metrics=['accuracy']).", code="metric-missing"))
    if problems:
        return problems
    ctx.verified += ["the loss reads the outputs as logits (it equals the cross-entropy worked out by hand)",
                     "an accuracy metric is compiled"]
    return []


# -- ex1.4 ----------------------------------------------------------------------------------------------------
def _judge_from_sequential(answer: Any, ctx: Context) -> list[Problem]:
    from .. import patterns

    model, graph = need_functional(answer, ctx, why=FUNCTIONAL_WHY)
    problems = expect_inputs(graph, [(None, 64)])
    outputs = output_map(graph)
    if len(outputs) != 1:
        problems.append(Problem(f"Your model has {len(outputs)} outputs; the Sequential model has one.",
                                code="output-count"))
    elif tuple(next(iter(outputs.values()))[1]) != (None, 10):
        key, shape = next(iter(outputs.values()))
        problems.append(Problem(f"The output has shape {format_shape(shape)}; the Sequential model's is (None, 10).",
                                (key,), code="output-shape"))
    if problems:
        return problems
    out_key = next(iter(outputs.values()))[0]
    problems += _hidden_activations(graph, {out_key}, "relu")
    if (graph.node(out_key).layer.activation or "linear") != "softmax":
        problems.append(Problem(f"The output layer {out_key!r} has activation "
                                f"{graph.node(out_key).layer.activation or 'linear'!r}; the Sequential model ends in "
                                f"softmax.", (out_key,), code="output-activation"))
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


# -- ex1.6: make training reach a target within a budget --------------------------------------------------------
BUDGET_EPOCHS = 3
BUDGET_BATCH = 32
TARGET_ACCURACY = 0.85


def _fresh_optimizer(answer: Any) -> Any:
    """A new optimizer with the student's settings (the one they pass may already be built for another model)."""
    import keras

    if isinstance(answer, bool) or (isinstance(answer, int | float) and not isinstance(answer, bool)):
        raise Stop(f"You passed the number {answer!r}. The check needs an optimizer (an optimizer object, or its "
                   f"name as a string), because a learning rate belongs to an optimizer: make one with that "
                   f"learning_rate and pass the optimizer.", code="wrong-kind:number")
    if isinstance(answer, str):
        try:
            return keras.optimizers.get(answer)
        except ValueError:
            raise Stop(f"Keras knows no optimizer called {answer!r}: names are such as 'sgd', 'rmsprop' and "
                       f"'adam'; an optimizer object from keras.optimizers also sets the learning rate.",
                       code="wrong-kind:unknown-optimizer") from None
    if isinstance(answer, type):
        raise Stop(f"You passed the class {answer.__name__} itself: make an optimizer from it (call it, with the "
                   f"learning rate you chose) and pass that.", code="wrong-kind:class")
    if not isinstance(answer, keras.optimizers.Optimizer):
        raise Stop(f"The check needs an optimizer, e.g. one of keras.optimizers; you passed "
                   f"{type(answer).__name__}.", code="wrong-kind")
    return keras.optimizers.deserialize(keras.optimizers.serialize(answer))


def _standin_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from .. import datasets

    (x, y), (x_test, y_test) = datasets.mnist("standin", verbose=False)
    flat = [a.reshape(len(a), 784).astype("float32") / 255.0 for a in (x, x_test)]
    return flat[0], y, flat[1], y_test


def _judge_training_budget(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    from .. import patterns

    optimizer = _fresh_optimizer(answer)
    x, y, x_test, y_test = _standin_digits()
    keras.utils.set_random_seed(0)
    model = patterns.mnist_mlp()
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    try:
        history = model.fit(x, y, epochs=BUDGET_EPOCHS, batch_size=BUDGET_BATCH, verbose=0).history["loss"]
    except Exception as exc:
        from .._exercises import explain_raised

        raise Stop(explain_raised(exc, "Training with your optimizer"), code="raised") from None
    guess = math.log(10)
    name = type(optimizer).__name__
    try:
        setting = f"{name} with learning rate {float(keras.ops.convert_to_numpy(optimizer.learning_rate)):g}"
    except Exception:  # a schedule
        setting = name
    if not all(math.isfinite(v) for v in history):
        return [Problem(f"With {setting} the loss became {history[-1]} (not a number) during training: the steps "
                        f"were so large that the weights overflowed. A step is learning rate × gradient (lesson 2): "
                        f"try a learning rate 10 or 100 times smaller.", code="training-diverged")]
    predictions = np.asarray(model(x_test)).argmax(axis=1)
    accuracy = float(np.mean(predictions == y_test))
    losses = " → ".join(f"{v:.2f}" for v in history)
    if accuracy >= TARGET_ACCURACY:
        ctx.verified += [f"{name}, as you set it up: lesson 2's model trained {BUDGET_EPOCHS} epochs on the "
                         f"{len(x):,} stand-in digits (batches of {BUDGET_BATCH}, seeds fixed)",
                         f"at least {TARGET_ACCURACY:.0%} of the {len(x_test)} held-out digits are right"]
        return []
    common = int(np.bincount(predictions, minlength=10).max())
    said = (f"After {BUDGET_EPOCHS} epochs with {setting}, {_percent(accuracy)} of the {len(x_test)} held-out digits "
            f"are right; the task asks for {TARGET_ACCURACY:.0%}. The loss went {losses} (epoch by epoch).")
    rose = any(later > earlier + 1e-3 for earlier, later in itertools.pairwise(history))
    if max(history) > guess + 0.05 or rose:
        same = (f" Now the model gives the same digit for {common} of the {len(x_test)} images." if
                common > 0.5 * len(x_test) else "")
        return [Problem(f"{said} The steps are too large: each one overshoots, so the loss does not fall steadily "
                        f"(an untrained model starts near ln 10 = {guess:.2f}, the cost of guessing one digit in "
                        f"10).{same} Try a smaller learning rate.", code="steps-too-large")]
    if history[0] - history[-1] < 0.5:
        return [Problem(f"{said} The steps are too small: in {BUDGET_EPOCHS} epochs the weights barely moved, so "
                        f"the loss hardly fell. Try a larger learning rate (steps are learning rate × gradient), "
                        f"or an optimizer that adapts its steps, such as RMSprop or Adam (lesson 2).",
                        code="steps-too-small")]
    return [Problem(f"{said} It is learning, but not fast enough: try a somewhat larger learning rate, or one of "
                    f"the optimizers that adapt their steps (lesson 2). If the loss goes up, you went too far.",
                    code="learning-too-slow")]


def _percent(fraction: float) -> str:
    """A share as a percentage rounded down, so a value just under a target never reads as the target."""
    return f"{math.floor(fraction * 1000) / 10:g}%"


# -- ex1.7: design a small photo classifier ---------------------------------------------------------------------
DESIGN_PHOTO = (None, 32, 32, 3)
DESIGN_CLASSES = (None, 10)
DESIGN_MAX_PARAMS = 50_000


def _judge_photo_classifier(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why="The design task practises the functional API.")
    found, problems = match_inputs(graph, {"photo": DESIGN_PHOTO}, dtypes={"photo": "float"})
    outputs, more = match_outputs(graph, {"scores": DESIGN_CLASSES})
    problems += more
    if problems:
        return problems
    photo, scores = found["photo"], outputs["scores"]
    problems += expect_depends(graph, scores, [photo])
    if problems:
        return problems
    params = total_params(graph)
    if params > DESIGN_MAX_PARAMS:
        heavy = max((n for n in graph.nodes if n.kind != "input"), key=lambda n: n.layer.params)
        share = heavy.layer.params / params
        advice = ""
        if heavy.class_name == "Dense" and heavy.input_shapes and len(heavy.input_shapes[0]) == 2:
            width = heavy.input_shapes[0][-1]
            advice = (f" It reads {width:,} numbers per photo, and a Dense layer has one weight per input number "
                      f"for each unit: make the map smaller before it (pooling, or convolutions with strides), or "
                      f"use fewer units.")
        return [Problem(f"Your model has {params:,} parameters; the task allows {DESIGN_MAX_PARAMS:,}. "
                        f"{heavy.key!r} ({heavy.class_name}) holds {heavy.layer.params:,} of them ({share:.0%})."
                        + advice, (heavy.key,), code="param-budget")]
    photos = np.random.default_rng(17).random((4, 32, 32, 3), dtype="float32")
    out = np.asarray(run_forward(model, photos))
    if out.shape != (4, 10):
        raise Stop(f"On 4 photos your model returned shape {out.shape}, not (4, 10).", code="forward-shape")
    kinds = sorted({n.class_name for n in graph.nodes if n.kind != "input"})
    ctx.verified += [f"input {photo!r} {format_shape(DESIGN_PHOTO)}: a photo as it comes",
                     f"output {scores!r} {format_shape(DESIGN_CLASSES)}, computed from the photo",
                     f"{params:,} parameters, within the budget of {DESIGN_MAX_PARAMS:,}",
                     f"your layers: {', '.join(kinds)}; any layers are fine here",
                     "a forward pass on 4 photos gives (4, 10)"]
    return []


EXERCISES = [
    Exercise(
        id="ex1.1", title="Build lesson 1's MNIST classifier with the functional API", lesson=LESSON_1,
        judge=_judge_mnist,
        hints=("Start from inputs = keras.Input(shape=(784,), name='img'): the shape of one sample, no batch axis.",
               "Each layer is made, then called on the previous tensor: x = layers.Dense(64, activation='relu')(x).",
               "The output layer is Dense(10) without activation, named 'predictions'; then "
               "keras.Model(inputs=inputs, outputs=outputs, name=...)."),
        outline=(("img (None, 784)", "Dense 64, relu"), ("Dense 64, relu", "Dense 64, relu (again)"),
                 ("Dense 64, relu (again)", "predictions: Dense 10 (logits)"))),
    Exercise(
        id="ex1.2", title="Make the model take 28×28 images as they come", lesson=LESSON_1,
        judge=_judge_image_input,
        hints=("Run lab.shapes(model): look at the shape after the first Dense layer.",
               "Dense only mixes the last axis. Something has to turn (28, 28) into (784,) first.",
               "layers.Flatten() (or layers.Reshape((784,))) between the input and the first Dense layer."),
        outline=(("image (None, 28, 28)", "one vector per image (None, 784)"),
                 ("one vector per image (None, 784)", "Dense 64, relu"), ("Dense 64, relu", "scores (None, 10)"))),
    Exercise(
        id="ex1.3", title="Compile lesson 2's model for integer labels and logits", lesson=LESSON_2,
        judge=_judge_compile, answer="the compiled model (model = lab.patterns.mnist_mlp(); model.compile(...))",
        hints=("The labels are whole numbers 0–9, not one-hot vectors: which cross-entropy loss takes those?",
               "The last layer has no softmax: its outputs are logits. Tell the loss so.",
               "keras.losses.SparseCategoricalCrossentropy(from_logits=True), an optimizer such as 'rmsprop', and "
               "metrics=['accuracy'].")),
    Exercise(
        id="ex1.4", title="Rewrite document 004's Sequential model with the functional API", lesson=LESSON_1B,
        judge=_judge_from_sequential,
        hints=("A Sequential model is a straight line of layers; in the functional API each arrow is a call.",
               "keras.Input(shape=(64,)) replaces the Sequential's input; call Dense(32, relu) twice, then "
               "Dense(10, softmax).",
               "Wrap it with keras.Model(inputs, outputs, name=...); lab.shapes() of both models should match."),
        outline=(("input (None, 64)", "Dense 32, relu"), ("Dense 32, relu", "Dense 32, relu (again)"),
                 ("Dense 32, relu (again)", "Dense 10, softmax"))),
    Exercise(
        id="ex1.5", title="Predict each layer's output shape and parameters before running", lesson=LESSON_1B,
        judge=_judge_predict,
        answer="a dict: layer name -> (output shape, number of parameters), e.g. {'conv': ((None, ...), ...), ...}",
        hints=("Go layer by layer, from the input: each layer's output shape is the next one's input shape. Write "
               "the batch axis as None first.",
               "A 3×3 convolution without padding loses a border of one pixel on each side; a 2×2 pooling halves "
               "each side; Flatten multiplies all the axes after the batch axis.",
               "Parameters: a convolution has 3 × 3 × (input channels) weights per filter plus one bias per filter; "
               "a Dense layer (inputs × units) weights plus one bias per unit; pooling and Flatten have none.")),
    Exercise(
        id="ex1.6", title="Make lesson 2's model reach 85% in 3 epochs", lesson=LESSON_2,
        judge=_judge_training_budget,
        answer="an optimizer, e.g. keras.optimizers.SGD(learning_rate=...)",
        hints=("Run the check with the starter optimizer and read how the loss moved, epoch by epoch: did it "
               "hardly fall, or jump up?",
               "Plain SGD moves each weight by learning rate × gradient (lesson 2). Try learning rates 10 times "
               "apart (0.001, 0.01, 0.1, 1) and watch the loss.",
               "SGD with a learning rate around 0.1 does it; so does an optimizer that adapts its steps, such as "
               "keras.optimizers.RMSprop() or Adam() with their default learning rates.")),
    Exercise(
        id="ex1.7", title="Design a small classifier for 32×32 colour photos", lesson=LESSON_1B,
        judge=_judge_photo_classifier,
        hints=("Start from keras.Input(shape=(32, 32, 3)) and end with 10 scores per photo; lab.shapes(model) "
               "shows where the parameters are.",
               "A Dense layer on the flattened photo (3,072 numbers) costs 3,072 weights per unit. Convolutions "
               "reuse one small filter everywhere, and pooling shrinks the map for free.",
               "One way: a convolution or two with pooling after each, then Flatten (or global pooling), then "
               "Dense(10)."),
        outline=(("photo (None, 32, 32, 3)", "any layers you choose (at most 50,000 parameters)"),
                 ("any layers you choose (at most 50,000 parameters)", "scores (None, 10)"))),
]
