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
from .._i18n import N_, _, ngettext
from .._render_dot import format_shape

__all__ = ["EXERCISES", "PREDICT_CODE", "predict_model"]  # the last two: tests/test_exercises_ex1.py

LESSON_1 = N_("lesson 1")
LESSON_1B = N_("lesson 1b")
LESSON_2 = N_("lesson 2")

FUNCTIONAL_WHY = N_("This set practises the functional API on a plain stack first, because it is the way of "
                  "writing models that can later branch, merge and share layers, which a Sequential model "
                  "cannot (lesson 1b compares the two).")


def _hidden_activations(graph: Any, output_keys: set[str], want: str) -> list[Problem]:
    problems = []
    for node in nodes_of(graph, "Dense"):
        if node.key in output_keys:
            continue
        if (node.layer.activation or "linear") != want:
            problems.append(Problem(
                _("Hidden layer {key!r} has activation {activation!r}; the task's hidden layers use {want!r}. "
                  "Without a non-linear activation, two Dense layers in a row are no more powerful than one.").format(
                      key=node.key, activation=node.layer.activation or "linear", want=want),
                (node.key,), code="hidden-activation"))
    return problems


# -- ex1.1 ----------------------------------------------------------------------------------------------------
def _judge_mnist(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why=_(FUNCTIONAL_WHY))
    problems = expect_inputs(graph, [(None, 784)], names=["img"])
    problems += expect_outputs(graph, {"predictions": (None, 10)})
    if problems:
        return problems
    dense = nodes_of(graph, "Dense")
    if len(dense) != 3:
        return [Problem(ngettext("Your model has {n} Dense layer; the task's has 3: two hidden layers of 64 units "
                                 "and the output layer of 10.",
                                 "Your model has {n} Dense layers; the task's has 3: two hidden layers of 64 units "
                                 "and the output layer of 10.", len(dense)).format(n=len(dense)),
                        tuple(n.key for n in dense), code="dense-count")]
    out_key = output_map(graph)["predictions"][0]
    problems += _hidden_activations(graph, {out_key}, "relu")
    last = graph.node(out_key)
    if (last.layer.activation or "linear") != "linear":
        problems.append(Problem(_("The output layer {key!r} has activation {activation!r}; the task asks for "
                                  "logits (no activation), as in document 000.").format(
                                      key=out_key, activation=last.layer.activation), (out_key,),
                                code="output-activation"))
    problems += expect_params(graph, 55_050)
    if problems:
        return problems
    out = run_forward(model, np.zeros((3, 784), "float32"))
    ctx.verified += [_("a functional model (keras.Input and layer calls, not Sequential)"),
                     _("input 'img' (None, 784); output 'predictions' (None, 10) as logits"),
                     _("two hidden Dense layers with relu"), _("55,050 parameters"),
                     _("a forward pass on 3 images gives {shape}").format(shape=np.shape(out))]
    return []


# -- ex1.2 ----------------------------------------------------------------------------------------------------
def _judge_image_input(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    problems = expect_inputs(graph, [(None, 28, 28)])
    if problems:
        problems[0] = Problem(problems[0].message + " " + _("The model should take the 28×28 images exactly as "
                              "lab.datasets.mnist() returns them, and do the flattening itself."), problems[0].keys,
                              code=problems[0].code)
        return problems
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(_("Your model has {n} outputs; the task needs one: 10 scores per image.").format(
            n=len(outputs)), code="output-count")]
    (name, (key, shape)), = outputs.items()
    if tuple(shape) != (None, 10):
        extra = ""
        if len(shape) == 3 and shape[-1] == 10:
            extra = " " + _("Each of the {rows} rows of the image got its own 10 scores: Dense works on the last "
                            "axis only. Flatten the image into one vector of 784 numbers before the first Dense "
                            "layer.").format(rows=shape[1])
        return [Problem(_("Output {name!r} has shape {shape}; the task needs (None, 10).").format(
            name=name, shape=format_shape(shape)) + extra, (key,), code="output-shape")]
    images = np.random.default_rng(0).random((4, 28, 28), dtype="float32")
    out = run_forward(model, images)
    if np.shape(out) != (4, 10):
        raise Stop(_("On 4 images your model returned shape {shape}, not (4, 10).").format(shape=np.shape(out)),
                   code="forward-shape")
    ctx.verified += [_("input (None, 28, 28): images as they come"), _("output (None, 10): 10 scores per image"),
                     _("a forward pass on 4 images gives (4, 10)")]
    return []


# -- ex1.3 ----------------------------------------------------------------------------------------------------
def _digits(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    from .. import datasets

    (x, y), _ = datasets.mnist("standin", verbose=False)
    return x[:n].reshape(n, 784).astype("float32") / 255.0, y[:n]


def _judge_compile(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_model(answer, ctx)
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise Stop(_("{name!r} is not compiled yet: call model.compile(optimizer=..., loss=..., metrics=[...]) "
                     "before checking it.").format(name=model.name), answered=False,
                   code="not-answered:not-compiled")
    outputs = output_map(graph)
    if len(outputs) != 1 or tuple(next(iter(outputs.values()))[1]) != (None, 10):
        raise Stop(_("This exercise starts from lab.patterns.mnist_mlp(): one output of 10 logits. Compile that "
                     "model, don't change it."), code="model-changed")
    x, y = _digits()
    try:
        result = model.evaluate(x, y, verbose=0, return_dict=True)
    except Exception as exc:
        text = str(exc)
        if "shape" in text.lower() and ("(None, 10)" in text or "10)" in text or "one-hot" in text.lower()
                                        or "Arguments `target` and `output` must have the same" in text):
            raise Stop(_("Evaluating on the digits failed: the labels are whole numbers 0–9 (shape (n,)), but your "
                         "loss expects one-hot vectors of 10 numbers. The 'sparse' losses take integer labels."),
                       code="loss-wants-one-hot") from None
        raise
    logits = model.predict(x, verbose=0)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    reference = float(-log_softmax[np.arange(len(y)), y.astype(int)].mean())
    problems = []
    if not np.isclose(result["loss"], reference, rtol=0.02, atol=1e-3):
        problems.append(Problem(
            _("Your loss on 64 digits is {loss:.3f}, but the cross-entropy of these outputs is {reference:.3f}: the "
              "loss does not read the outputs as logits. mnist_mlp() ends in Dense(10) without softmax, so the loss "
              "must apply the softmax itself (from_logits=True).").format(loss=result["loss"], reference=reference),
            code="loss-not-from-logits"))
    if not any("acc" in name for name in result):
        problems.append(Problem(_("The compiled metrics are {metrics}; the task asks to watch the accuracy "
                                  "(metrics=['accuracy']).").format(
                                      metrics=sorted(k for k in result if k != "loss") or _("none")),
                                code="metric-missing"))
    if problems:
        return problems
    ctx.verified += [_("the loss reads the outputs as logits (it equals the cross-entropy worked out by hand)"),
                     _("an accuracy metric is compiled")]
    return []


# -- ex1.4 ----------------------------------------------------------------------------------------------------
def _judge_from_sequential(answer: Any, ctx: Context) -> list[Problem]:
    from .. import patterns

    model, graph = need_functional(answer, ctx, why=_(FUNCTIONAL_WHY))
    problems = expect_inputs(graph, [(None, 64)])
    outputs = output_map(graph)
    if len(outputs) != 1:
        problems.append(Problem(_("Your model has {n} outputs; the Sequential model has one.").format(
            n=len(outputs)), code="output-count"))
    elif tuple(next(iter(outputs.values()))[1]) != (None, 10):
        key, shape = next(iter(outputs.values()))
        problems.append(Problem(_("The output has shape {shape}; the Sequential model's is (None, 10).").format(
            shape=format_shape(shape)), (key,), code="output-shape"))
    if problems:
        return problems
    out_key = next(iter(outputs.values()))[0]
    problems += _hidden_activations(graph, {out_key}, "relu")
    if (graph.node(out_key).layer.activation or "linear") != "softmax":
        problems.append(Problem(_("The output layer {key!r} has activation {activation!r}; the Sequential model "
                                  "ends in softmax.").format(
                                      key=out_key, activation=graph.node(out_key).layer.activation or "linear"),
                                (out_key,), code="output-activation"))
    problems += expect_params(graph, 3_466, explain=_("The Sequential model has Dense 32, Dense 32 and Dense 10 "
                                                      "after a 64-number input."))
    if problems:
        return problems
    reference = patterns.sequential_mlp(input_dim=64, hidden_units=(32, 32), logits=False, name="reference")
    x = np.random.default_rng(1).random((5, 64), dtype="float32")
    problems = computes_like(model, reference, x, what=_("the Sequential model"))
    if problems:
        return problems
    ctx.verified += [_("a functional model (not Sequential): (None, 64) → (None, 10) softmax"),
                     _("3,466 parameters, in the same order"),
                     _("with the same weights it computes exactly what the Sequential model computes")]
    return []


# -- ex1.6: make training reach a target within a budget --------------------------------------------------------
BUDGET_EPOCHS = 3
BUDGET_BATCH = 32
TARGET_ACCURACY = 0.85


def _fresh_optimizer(answer: Any) -> Any:
    """A new optimizer with the student's settings (the one they pass may already be built for another model)."""
    import keras

    if isinstance(answer, bool) or (isinstance(answer, int | float) and not isinstance(answer, bool)):
        raise Stop(_("You passed the number {value!r}. The check needs an optimizer (an optimizer object, or its "
                     "name as a string), because a learning rate belongs to an optimizer: make one with that "
                     "learning_rate and pass the optimizer.").format(value=answer), code="wrong-kind:number")
    if isinstance(answer, str):
        try:
            return keras.optimizers.get(answer)
        except ValueError:
            raise Stop(_("Keras knows no optimizer called {name!r}: names are such as 'sgd', 'rmsprop' and "
                         "'adam'; an optimizer object from keras.optimizers also sets the learning rate.").format(
                             name=answer), code="wrong-kind:unknown-optimizer") from None
    if isinstance(answer, type):
        raise Stop(_("You passed the class {name} itself: make an optimizer from it (call it, with the learning "
                     "rate you chose) and pass that.").format(name=answer.__name__), code="wrong-kind:class")
    if not isinstance(answer, keras.optimizers.Optimizer):
        raise Stop(_("The check needs an optimizer, e.g. one of keras.optimizers; you passed {kind}.").format(
            kind=type(answer).__name__), code="wrong-kind")
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

        raise Stop(explain_raised(exc, _("Training with your optimizer")), code="raised") from None
    guess = math.log(10)
    name = type(optimizer).__name__
    try:
        setting = _("{name} with learning rate {rate:g}").format(
            name=name, rate=float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    except Exception:  # a schedule
        setting = name
    if not all(math.isfinite(v) for v in history):
        return [Problem(_("With {setting} the loss became {loss} (not a number) during training: the steps were so "
                          "large that the weights overflowed. A step is learning rate × gradient (lesson 2): try a "
                          "learning rate 10 or 100 times smaller.").format(setting=setting, loss=history[-1]),
                        code="training-diverged")]
    predictions = np.asarray(model(x_test)).argmax(axis=1)
    accuracy = float(np.mean(predictions == y_test))
    losses = " → ".join(f"{v:.2f}" for v in history)
    if accuracy >= TARGET_ACCURACY:
        ctx.verified += [_("{name}, as you set it up: lesson 2's model trained {epochs} epochs on the {n:,} "
                           "stand-in digits (batches of {batch}, seeds fixed)").format(
                               name=name, epochs=BUDGET_EPOCHS, n=len(x), batch=BUDGET_BATCH),
                         _("at least {target:.0%} of the {n} held-out digits are right").format(
                             target=TARGET_ACCURACY, n=len(x_test))]
        return []
    common = int(np.bincount(predictions, minlength=10).max())
    said = _("After {epochs} epochs with {setting}, {accuracy} of the {n} held-out digits are right; the task asks "
             "for {target:.0%}. The loss went {losses} (epoch by epoch).").format(
                 epochs=BUDGET_EPOCHS, setting=setting, accuracy=_percent(accuracy), n=len(x_test),
                 target=TARGET_ACCURACY, losses=losses)
    rose = any(later > earlier + 1e-3 for earlier, later in itertools.pairwise(history))
    if max(history) > guess + 0.05 or rose:
        same = (" " + _("Now the model gives the same digit for {common} of the {n} images.").format(
            common=common, n=len(x_test)) if common > 0.5 * len(x_test) else "")
        return [Problem(said + " " + _("The steps are too large: each one overshoots, so the loss does not fall "
                                       "steadily (an untrained model starts near ln 10 = {guess:.2f}, the cost of "
                                       "guessing one digit in 10).").format(guess=guess)
                        + same + " " + _("Try a smaller learning rate."), code="steps-too-large")]
    if history[0] - history[-1] < 0.5:
        return [Problem(said + " " + _("The steps are too small: in {epochs} epochs the weights barely moved, so "
                                       "the loss hardly fell. Try a larger learning rate (steps are learning rate × "
                                       "gradient), or an optimizer that adapts its steps, such as RMSprop or Adam "
                                       "(lesson 2).").format(epochs=BUDGET_EPOCHS), code="steps-too-small")]
    return [Problem(said + " " + _("It is learning, but not fast enough: try a somewhat larger learning rate, or one "
                                   "of the optimizers that adapt their steps (lesson 2). If the loss goes up, you "
                                   "went too far."), code="learning-too-slow")]


def _percent(fraction: float) -> str:
    """A share as a percentage rounded down, so a value just under a target never reads as the target."""
    return f"{math.floor(fraction * 1000) / 10:g}%"


# -- ex1.7: design a small photo classifier ---------------------------------------------------------------------
DESIGN_PHOTO = (None, 32, 32, 3)
DESIGN_CLASSES = (None, 10)
DESIGN_MAX_PARAMS = 50_000


def _judge_photo_classifier(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why=_("The design task practises the functional API."))
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
            advice = " " + _("It reads {width:,} numbers per photo, and a Dense layer has one weight per input "
                             "number for each unit: make the map smaller before it (pooling, or convolutions with "
                             "strides), or use fewer units.").format(width=width)
        return [Problem(_("Your model has {params:,} parameters; the task allows {budget:,}.").format(
                            params=params, budget=DESIGN_MAX_PARAMS) + " "
                        + _("{key!r} ({kind}) holds {params:,} of them ({share:.0%}).").format(
                            key=heavy.key, kind=heavy.class_name, params=heavy.layer.params, share=share)
                        + advice, (heavy.key,), code="param-budget")]
    photos = np.random.default_rng(17).random((4, 32, 32, 3), dtype="float32")
    out = np.asarray(run_forward(model, photos))
    if out.shape != (4, 10):
        raise Stop(_("On 4 photos your model returned shape {shape}, not (4, 10).").format(shape=out.shape),
                   code="forward-shape")
    kinds = sorted({n.class_name for n in graph.nodes if n.kind != "input"})
    ctx.verified += [_("input {name!r} {shape}: a photo as it comes").format(name=photo,
                                                                              shape=format_shape(DESIGN_PHOTO)),
                     _("output {name!r} {shape}, computed from the photo").format(
                         name=scores, shape=format_shape(DESIGN_CLASSES)),
                     _("{params:,} parameters, within the budget of {budget:,}").format(params=params,
                                                                                        budget=DESIGN_MAX_PARAMS),
                     _("your layers: {kinds}; any layers are fine here").format(kinds=", ".join(kinds)),
                     _("a forward pass on 4 photos gives (4, 10)")]

    return []


EXERCISES = [
    Exercise(
        id="ex1.1", title=N_("Build lesson 1's MNIST classifier with the functional API"), lesson=LESSON_1,
        judge=_judge_mnist,
        hints=(N_("Start from inputs = keras.Input(shape=(784,), name='img'): the shape of one sample, no batch axis."),
               N_("Each layer is made, then called on the previous tensor: x = layers.Dense(64, "
                  "activation='relu')(x)."),
               N_("The output layer is Dense(10) without activation, named 'predictions'; then "
               "keras.Model(inputs=inputs, outputs=outputs, name=...).")),
        outline=(("img (None, 784)", "Dense 64, relu"), ("Dense 64, relu", N_("Dense 64, relu (again)")),
                 (N_("Dense 64, relu (again)"), "predictions: Dense 10 (logits)"))),
    Exercise(
        id="ex1.2", title=N_("Make the model take 28×28 images as they come"), lesson=LESSON_1,
        judge=_judge_image_input,
        hints=(N_("Run lab.shapes(model): look at the shape after the first Dense layer."),
               N_("Dense only mixes the last axis. Something has to turn (28, 28) into (784,) first."),
               N_("layers.Flatten() (or layers.Reshape((784,))) between the input and the first Dense layer.")),
        outline=((N_("image (None, 28, 28)"), N_("one vector per image (None, 784)")),
                 (N_("one vector per image (None, 784)"), "Dense 64, relu"),
                  ("Dense 64, relu", N_("scores (None, 10)")))),
    Exercise(
        id="ex1.3", title=N_("Compile lesson 2's model for integer labels and logits"), lesson=LESSON_2,
        judge=_judge_compile, answer=N_("the compiled model (model = lab.patterns.mnist_mlp(); model.compile(...))"),
        hints=(N_("The labels are whole numbers 0–9, not one-hot vectors: which cross-entropy loss takes those?"),
               N_("The last layer has no softmax: its outputs are logits. Tell the loss so."),
               N_("keras.losses.SparseCategoricalCrossentropy(from_logits=True), an optimizer such as 'rmsprop', and "
               "metrics=['accuracy']."))),
    Exercise(
        id="ex1.4", title=N_("Rewrite document 004's Sequential model with the functional API"), lesson=LESSON_1B,
        judge=_judge_from_sequential,
        hints=(N_("A Sequential model is a straight line of layers; in the functional API each arrow is a call."),
               N_("keras.Input(shape=(64,)) replaces the Sequential's input; call Dense(32, relu) twice, then "
               "Dense(10, softmax)."),
               N_("Wrap it with keras.Model(inputs, outputs, name=...); lab.shapes() of both models should match.")),
        outline=((N_("input (None, 64)"), "Dense 32, relu"), ("Dense 32, relu", N_("Dense 32, relu (again)")),
                 (N_("Dense 32, relu (again)"), "Dense 10, softmax"))),
    Exercise(
        id="ex1.5", title=N_("Predict each layer's output shape and parameters before running"), lesson=LESSON_1B,
        judge=_judge_predict,
        answer=N_("a dict: layer name -> (output shape, number of parameters), e.g. {'conv': ((None, ...), ...), ...}"),
        hints=(N_("Go layer by layer, from the input: each layer's output shape is the next one's input shape. Write "
               "the batch axis as None first."),
               N_("A 3×3 convolution without padding loses a border of one pixel on each side; a 2×2 pooling halves "
               "each side; Flatten multiplies all the axes after the batch axis."),
               N_("Parameters: a convolution has 3 × 3 × (input channels) weights per filter plus one bias per filter; "
               "a Dense layer (inputs × units) weights plus one bias per unit; pooling and Flatten have none."))),
    Exercise(
        id="ex1.6", title=N_("Make lesson 2's model reach 85% in 3 epochs"), lesson=LESSON_2,
        judge=_judge_training_budget,
        answer=N_("an optimizer, e.g. keras.optimizers.SGD(learning_rate=...)"),
        hints=(N_("Run the check with the starter optimizer and read how the loss moved, epoch by epoch: did it "
               "hardly fall, or jump up?"),
               N_("Plain SGD moves each weight by learning rate × gradient (lesson 2). Try learning rates 10 times "
               "apart (0.001, 0.01, 0.1, 1) and watch the loss."),
               N_("SGD with a learning rate around 0.1 does it; so does an optimizer that adapts its steps, such as "
               "keras.optimizers.RMSprop() or Adam() with their default learning rates."))),
    Exercise(
        id="ex1.7", title=N_("Design a small classifier for 32×32 colour photos"), lesson=LESSON_1B,
        judge=_judge_photo_classifier,
        hints=(N_("Start from keras.Input(shape=(32, 32, 3)) and end with 10 scores per photo; lab.shapes(model) "
               "shows where the parameters are."),
               N_("A Dense layer on the flattened photo (3,072 numbers) costs 3,072 weights per unit. Convolutions "
               "reuse one small filter everywhere, and pooling shrinks the map for free."),
               N_("One way: a convolution or two with pooling after each, then Flatten (or global pooling), then "
               "Dense(10).")),
        outline=((N_("photo (None, 32, 32, 3)"), N_("any layers you choose (at most 50,000 parameters)")),
                 (N_("any layers you choose (at most 50,000 parameters)"), N_("scores (None, 10)")))),
]
