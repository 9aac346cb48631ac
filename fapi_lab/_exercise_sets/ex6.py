"""Exercises for lessons 9, 10 and 11: custom layers, functional or subclassed, training on several devices.

Three answers are layer *classes* (ex6.1, ex6.2, ex6.4). Their judges make layers from them (with the constructor
arguments the task names), call those layers on ``keras.Input`` tensors of several shapes, inside functional
models, on batches of several sizes, rebuild them from their config and save and load a small model that uses
them, all through the public Keras API. Each of these tasks asks for a layer the student writes: Keras's own
classes, and subclasses of them that inherit their ``build`` and ``call``, are refused with a message; so is, in
ex6.2 and ex6.5, a layer whose weights are all made by a Keras layer kept inside it (issue 15, class 8: an answer
that computes the right numbers but is not what the task asks).

ex6.3's answer is a functional model built and compiled inside a ``tf.distribute.MirroredStrategy`` scope; its
judge reads it through the layer graph, copies the weights of the subclassed model it replaces into it and compares
the outputs, and looks at where its weights and its optimizer's variables were made. What it says a wrong answer
would meet in ``fit`` was measured on Keras 3.15 / TensorFlow 2.21, with one and with two replicas (the tests run
``fit`` to keep it true): a model built outside the scope and compiled inside fails with a bare ``AssertionError``
under plain SGD and with ``RuntimeError: Need to be inside "with strategy.scope()"`` under an optimizer that keeps
values per weight (Adam, RMSprop, SGD with momentum).

ex6.5 is an open-ended design task: any layers, judged on shapes, connectivity and the presence of a custom layer.

Keras 3 writes the config of a layer without ``get_config`` by itself when every constructor argument is a
plain value (str, int, float, bool, None), so ex6.1's check makes the layer with a *function* as its
activation (as ``keras.layers.Dense`` allows): only then is a missing ``get_config`` a real failure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._exercise_parts.ex6_common import _library_base, _library_made, _told
from .._exercise_parts.ex6_layers import _judge_any_size, _judge_serializable
from .._exercise_parts.ex6_models import _FEATURES, _judge_any_batch_rnn, _judge_functional_twin
from .._exercises import Context, Exercise, Problem, Stop, expect_depends, match_inputs, match_outputs, need_functional
from .._i18n import N_, _
from .._render_dot import format_shape

LESSON_9 = N_("lesson 9")
LESSON_10 = N_("lesson 10")
LESSONS_9_10 = N_("lessons 9 and 10")
LESSONS_10_11 = N_("lessons 10 and 11")

# -- ex6.5 ----------------------------------------------------------------------------------------------------
_DESIGN_SEQUENCE = (None, None, 8)  # any number of steps of 8 numbers
_DESIGN_SCORES = (None, 3)
_DESIGN_RUNS = ((5, 6), (9, 11))  # (sequences, steps)


def _layer_objects(model: Any) -> dict[int, Any]:
    """Every layer object of a model and of the models nested in it, by id (the graph's uid)."""
    found: dict[int, Any] = {}
    todo = [model]
    while todo:
        layer = todo.pop()
        if id(layer) in found:
            continue
        found[id(layer)] = layer
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):  # a model: look inside
            todo.extend(layer.layers)
    return found


def _judge_design_custom(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx, why=_("The design task puts a layer of your own inside a "
                                                      "functional model."))
    found, problems = match_inputs(graph, {"sequence": _DESIGN_SEQUENCE}, dtypes={"sequence": "float"})
    outputs, more = match_outputs(graph, {"scores": _DESIGN_SCORES})
    problems += more
    if problems:
        return problems
    sequence, scores = found["sequence"], outputs["scores"]
    in_shape = graph.node(sequence).output_shapes[0]
    if in_shape[1] is not None:
        return [Problem(_("Input {name!r} has shape {shape}: it takes sequences of exactly {steps} steps, and a "
                          "batch of any other length is refused. The task's sequences have any length: leave the "
                          "number of steps open (None) in keras.Input's shape.").format(
                              name=sequence, shape=format_shape(in_shape), steps=in_shape[1]), (sequence,),
                        code="sequence-length-fixed")]
    problems = expect_depends(graph, scores, [sequence])
    if problems:
        return problems
    objects = _layer_objects(model)
    nodes = [n for n in graph.walk() if n.kind in ("layer", "model", "subclassed") and n.layer.uid in objects]
    own = [n for n in nodes if n.layer.uid != id(model) and _library_base(type(objects[n.layer.uid])) is None
           and not n.layer.is_operation]
    if not own:
        kinds = sorted({n.class_name for n in nodes if n.layer.uid != id(model)})
        return [Problem(_("Your model's layers are all library layers ({kinds}). The task's core is a layer you "
                          "write yourself: a class of your own that subclasses keras.layers.Layer, with build and "
                          "call, used as one of the model's layers (lesson 9 writes one; lesson 10 puts one inside "
                          "a functional model).").format(kinds=", ".join(kinds) or _("none")),
                        code="no-custom-layer")]
    weighted = [n for n in own if objects[n.layer.uid].count_params() > 0]
    made = [n for n in weighted if len(_library_made(objects[n.layer.uid])[0]) < len(objects[n.layer.uid].weights)]
    if weighted and not made:
        layer = objects[weighted[0].layer.uid]
        return [Problem(_("Your layer {key!r} ({kind}) has weights, but Keras layers inside it ({inner}) make all "
                          "of them. The task's layer makes weights of its own: add_weight in build(input_shape), as "
                          "in lesson 9 (layers inside it are fine besides).").format(
                              key=weighted[0].key, kind=weighted[0].class_name,
                              inner=", ".join(map(repr, _library_made(layer)[1]))),
                        (weighted[0].key,), code="custom-layer-library-weights")]
    weighted = made
    if not weighted:
        names = ", ".join(f"{n.key!r} ({n.class_name})" for n in own)
        return [Problem(_("Your own layer {names} has no weights, so it learns nothing: it is a fixed function. "
                          "The task's custom layer learns: make its weights with add_weight in build(input_shape), "
                          "where the size of the input is known.").format(names=names), tuple(n.key for n in own),
                        code="custom-layer-no-weights")]
    rng = np.random.default_rng(65)
    for n, steps in _DESIGN_RUNS:
        data = rng.standard_normal((n, steps, _DESIGN_SEQUENCE[-1])).astype("float32")
        try:
            out = model.predict(data, verbose=0)
        except Exception as exc:
            hint = _("The batch size and the number of steps are None while the model is built and change from "
                     "batch to batch: a layer that needs them reads them when it runs (keras.ops.shape), and "
                     "weights can only depend on the last axis (8).")
            subject = _("On a batch of {n} sequences of {steps} steps, your model").format(n=n, steps=steps)
            raise Stop(_told(exc, subject) + " " + hint, code="raised:forward") from None
        out = np.asarray(out)  # one output: match_outputs refused any other
        if np.shape(out) != (n, _DESIGN_SCORES[-1]):
            raise Stop(_("On a batch of {n} sequences of {steps} steps your model returned {got}, not "
                         "({n}, {scores}).").format(n=n, steps=steps, got=np.shape(out), scores=_DESIGN_SCORES[-1]),
                       code="forward-shape")
    layer = weighted[0]
    kinds = sorted({n.class_name for n in nodes if n.layer.uid != id(model)})
    and_ = " " + _("and") + " "
    ctx.verified += [
        _("input {name!r} {shape}: sequences of any length, 8 numbers per step").format(
            name=sequence, shape=format_shape(_DESIGN_SEQUENCE)),
        _("output {name!r} {shape}, computed from the sequence").format(name=scores,
                                                                       shape=format_shape(_DESIGN_SCORES)),
        _("your own layer {kind} ({key!r}), with {params:,} parameters, a node of the functional graph").format(
            kind=layer.class_name, key=layer.key, params=objects[layer.layer.uid].count_params()),
        _("your layers: {kinds}; any layers are fine around yours").format(kinds=", ".join(kinds)),
        _("batches of {sizes} sequences of {steps} steps give one row of {scores} scores each").format(
            sizes=and_.join(str(n) for n, _s in _DESIGN_RUNS), steps=and_.join(str(t) for _n, t in _DESIGN_RUNS),
            scores=_DESIGN_SCORES[-1]),
    ]

    return []


EXERCISES = [
    Exercise(
        id="ex6.1", title=N_("Make a custom layer serializable"), lesson=LESSON_9,
        judge=_judge_serializable, answer=N_("your layer class (the class itself: ActivatedDense, no parentheses)"),
        hints=(N_("Try it: save a small model that uses your layer (model.save('m.keras')), load it with "
               "keras.saving.load_model('m.keras') and read the error."),
               N_("Saving stores each layer's config (the dict get_config returns) and rebuilds the layer with "
               "from_config, i.e. YourClass(**config). The config needs the base layer's keys (name, trainable, "
               "dtype) as well as your own arguments, and the class must be findable by its name."),
               N_("get_config: start from super().get_config() and add units and the activation "
               "(keras.activations.serialize turns the function into a name). Put "
               "@keras.saving.register_keras_serializable(package='ex6') on the line above the class."))),
    Exercise(
        id="ex6.2", title=N_("A custom layer that builds its weights from the input shape"), lesson=LESSON_9,
        judge=_judge_any_size, answer=N_("your layer class (the class itself: AnySizeDense, no parentheses)"),
        hints=(N_("Try AnySizeDense(units=3) on keras.Input(shape=(7,)): why does a kernel made in __init__ not fit?"),
               N_("Keras calls build(input_shape) once, on the first input, before call: the input size is known "
                  "there. "
               "Move the weights out of __init__ and drop the input_dim argument."),
               N_("In build, the kernel's shape is (input_shape[-1], self.units) (the last axis, so sequences work "
                  "too) "
               "and the bias's is (self.units,); call stays as it is."))),
    Exercise(
        id="ex6.3", title=N_("From subclassed to functional, ready for several devices"), lesson=LESSONS_10_11,
        judge=_judge_functional_twin,
        answer=N_("a functional keras.Model, built and compiled inside strategy.scope()"),
        hints=(N_("Each attribute made in Classifier.__init__ becomes a layer call; call() gives their order. "
               "lab.graph(your_model) should show four boxes in a line."),
               N_("Dropout needs no training argument in a functional model: Keras passes it during fit and predict."),
               N_("Put keras.Input(shape=(20,)), the three layer calls, keras.Model(...) and model.compile(...) all "
               "inside one with strategy.scope(): block.")),
        outline=((f"features (None, {_FEATURES})", "hidden: Dense 32, relu"), ("hidden: Dense 32, relu",
                 "dropout: Dropout 0.3"), ("dropout: Dropout 0.3", "classes: Dense 4, softmax"))),
    Exercise(
        id="ex6.4", title=N_("Make document 002's CustomRNN accept any batch size"), lesson=LESSON_10,
        judge=_judge_any_batch_rnn, answer=N_("your layer class (the class itself: CustomRNN, no parentheses)"),
        hints=(N_("Run the cell that builds rnn_model and read the error from the bottom up: what shape does call() "
               "receive while the model is built, and what is inputs.shape[0] then?"),
               N_("Only the line that makes the first state depends on the batch size. inputs.shape is the static "
               "shape, known while the model is built (None for the batch); the batch that arrives at run time "
               "can be read from the tensor itself."),
               N_("keras.ops.shape(inputs)[0] is the batch size when the layer runs (a number, or a tensor inside a "
               "traced step, never None); lesson 10, 'A custom layer inside a functional model', makes the same "
               "fix. Keep everything else as it is."))),
    Exercise(
        id="ex6.5", title=N_("Design a sequence classifier around a layer of your own"), lesson=LESSONS_9_10,
        judge=_judge_design_custom,
        hints=(N_("Start from keras.Input(shape=(None, 8)): None lets the number of steps change from batch to batch. "
               "End with 3 scores per sequence."),
               N_("Your layer can be simple: for example a dense layer applied to every step (a matmul on the last "
               "axis, the only size known in build), or a weighted sum over the steps. Make its weights in build "
               "from input_shape[-1]."),
               N_("Anything between the input and the scores is fine: your layer, then a pooling over the steps "
               "(GlobalAveragePooling1D) and a Dense(3), for example. Check it on a batch of 5 sequences of 6 "
               "steps with model.predict.")),
        outline=((N_("sequence (None, None, 8)"), N_("your own layer (a keras.layers.Layer subclass with weights)")),
                 (N_("your own layer (a keras.layers.Layer subclass with weights)"), N_("any layers you choose")),
                 (N_("any layers you choose"), N_("scores (None, 3)")))),
]
