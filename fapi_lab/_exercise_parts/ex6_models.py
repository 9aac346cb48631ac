"""The judges of ex6.3 (a functional twin trained under a strategy) and ex6.4 (an RNN for any batch)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Problem,
    Stop,
    computes_like,
    expect_inputs,
    expect_params,
    need_functional,
    nodes_of,
    output_map,
)
from .._i18n import _, ngettext
from .._render_dot import format_shape
from .ex6_common import _is_mirrored, _make_layer, _need_layer_class, _told

__all__ = [
    "_FEATURES",
    "_judge_any_batch_rnn",
    "_judge_functional_twin",
]


# -- ex6.3 ----------------------------------------------------------------------------------------------------
_FEATURES = 20
_PARAMS_63 = 804


def _reference_classifier() -> Any:
    """The notebook's subclassed ``Classifier``, built, with fixed weights."""
    import keras
    from keras import layers

    class Classifier(keras.Model):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.hidden = layers.Dense(32, activation="relu", name="hidden")
            self.dropout = layers.Dropout(0.3, name="dropout")
            self.classes = layers.Dense(4, activation="softmax", name="classes")

        def call(self, inputs: Any, training: Any = None) -> Any:
            x = self.hidden(inputs)
            x = self.dropout(x, training=training)
            return self.classes(x)

    model = Classifier(name="subclassed_classifier")
    model(np.zeros((1, _FEATURES), "float32"))
    rng = np.random.default_rng(63)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def _structure_problems(graph: Any) -> list[Problem]:
    outputs = output_map(graph)
    if len(outputs) != 1:
        return [Problem(ngettext("Your model has {n} output; the subclassed model has one: 4 class probabilities "
                                 "per sample.",
                                 "Your model has {n} outputs; the subclassed model has one: 4 class probabilities "
                                 "per sample.", len(outputs)).format(n=len(outputs)), code="output-count")]
    (out_name, (out_key, out_shape)), = outputs.items()
    if tuple(out_shape) != (None, 4):
        return [Problem(_("Output {name!r} has shape {shape}; the subclassed model's is (None, 4): one probability "
                          "per class.").format(name=out_name, shape=format_shape(out_shape)), (out_key,),
                        code="output-shape")]
    dense = nodes_of(graph, "Dense")
    if len(dense) != 2:
        return [Problem(ngettext("Your model has {n} Dense layer; the subclassed model has 2: hidden (32 units, "
                                 "relu) and classes (4 units, softmax).",
                                 "Your model has {n} Dense layers; the subclassed model has 2: hidden (32 units, "
                                 "relu) and classes (4 units, softmax).", len(dense)).format(n=len(dense)),
                        tuple(n.key for n in dense), code="dense-count")]
    problems = []
    hidden = next(n for n in dense if n.key != out_key)
    if (hidden.layer.activation or "linear") != "relu":
        problems.append(Problem(_("Hidden layer {key!r} has activation {activation!r}; the subclassed model's hidden "
                                  "layer uses 'relu'.").format(key=hidden.key,
                                                               activation=hidden.layer.activation or "linear"),
                                (hidden.key,),
                                code="hidden-activation"))
    last = graph.node(out_key)
    if (last.layer.activation or "linear") != "softmax":
        problems.append(Problem(_("The output layer {key!r} has activation {activation!r}; the subclassed model ends "
                                  "in softmax.").format(key=out_key, activation=last.layer.activation or "linear"),
                                (out_key,), code="output-activation"))
    dropout = nodes_of(graph, "Dropout")
    if not dropout:
        problems.append(Problem(
            _("The subclassed model has a Dropout layer (rate 0.3) between its hidden layer and its output; your "
              "model has none. In call() it is switched on and off by training=...; in a functional model Keras "
              "passes training to it for you, so the layer is all it takes."), (hidden.key, out_key),
                                code="dropout-missing"))
    else:
        drop = dropout[0]
        rate = drop.layer.config.get("rate")
        if rate is not None and not np.isclose(rate, 0.3):
            problems.append(Problem(_("Dropout {key!r} has rate {rate}; the subclassed model's is 0.3.").format(
                key=drop.key, rate=rate), (drop.key,), code="dropout-rate"))
        if drop.key not in graph.predecessors(out_key) or hidden.key not in graph.predecessors(drop.key):
            problems.append(Problem(_("Dropout {key!r} is not between the hidden layer {hidden!r} and the output "
                                      "{output!r}, where the subclassed model's call() puts it.").format(
                                          key=drop.key, hidden=hidden.key, output=out_key),
                                    (drop.key,), code="dropout-place"))
    return problems


def _keeps_values_per_weight(optimizer: Any) -> bool:
    """Does the optimizer make a variable per weight when it first updates (Adam's moments, RMSprop's averages,
    SGD's momentum)? Plain SGD makes none: that decides which error a model built outside the scope meets."""
    import keras

    inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer wraps the real one
    return not (isinstance(inner, keras.optimizers.SGD) and not float(inner.momentum))


def _replicas(variable: Any) -> int:
    return len(getattr(getattr(variable, "value", variable), "values", ())) or 1


def _optimizer_name(optimizer: Any) -> str:
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    name = type(inner).__name__
    if name == "SGD":
        return _("plain SGD") if not _keeps_values_per_weight(inner) else _("SGD with momentum")
    return name


def _built_outside(name: str, optimizer: Any) -> Problem:
    """The model's weights are ordinary variables. What fit does then depends on where and how it was compiled
    (measured, see the module docstring): the message quotes that, not a generic error."""
    fix = _("Make the keras.Input, the layers and the model inside strategy.scope(), and compile the model there "
            "too.")
    if optimizer is None or not _is_mirrored(optimizer.iterations):
        if optimizer is None:
            text = _("{name!r} was built outside strategy.scope(), and it is not compiled yet: nothing of it belongs "
                     "to the strategy. Its weights are ordinary variables on one device, so fit would train it on "
                     "that device alone, as if there were no strategy.")
        else:
            text = _("{name!r} was built outside strategy.scope(), and compiled outside it: nothing of it belongs to "
                     "the strategy. Its weights are ordinary variables on one device, so fit would train it on that "
                     "device alone, as if there were no strategy.")
        return Problem(text.format(name=name) + " " + fix, code="built-outside-scope")
    # the clause put after "so" in the message below
    if _keeps_values_per_weight(optimizer):
        said = _("fit fails with RuntimeError: Need to be inside \"with strategy.scope()\": {optimizer}, made in the "
                 "scope, makes values of its own for each weight the first time it updates, and must make them in "
                 "the strategy, beside the weight (if fit is called inside the scope, it says instead: ValueError: "
                 "`colocate_vars_with` must only be passed a variable created in this "
                 "tf.distribute.Strategy.scope())").format(optimizer=_optimizer_name(optimizer))
    else:
        said = _("fit fails with a bare AssertionError, with no message at all: plain SGD, made inside the scope, "
                 "updates each weight through the strategy, and TensorFlow's MirroredStrategy first asserts that the "
                 "weight is one of its mirrored variables")
    return Problem(_("{name!r} was built outside strategy.scope() and compiled inside it: its weights are ordinary "
                     "variables on one device, which MirroredStrategy cannot keep on every replica, so "
                     "{said}.").format(name=name, said=said) + " " + fix, code="built-outside-scope")


def _strategy_problems(model: Any) -> list[Problem]:
    name = model.name
    optimizer = getattr(model, "optimizer", None)
    if not all(_is_mirrored(w) for w in model.weights):
        return [_built_outside(name, optimizer)]
    if optimizer is None:
        return [Problem(_("{name!r} is not compiled yet: call compile(optimizer=..., loss=..., metrics=[...]) inside "
                          "strategy.scope() too, so that the optimizer's variables are mirrored like the "
                          "weights.").format(name=name),
                        code="not-answered:not-compiled")]
    if not _is_mirrored(optimizer.iterations):
        if _keeps_values_per_weight(optimizer):
            what = _("fit fails with RuntimeError: \"Mixing different tf.distribute.Strategy objects\" when "
                     "{optimizer} makes its values for each weight").format(optimizer=_optimizer_name(optimizer))
        else:
            replicas = _replicas(model.weights[0])
            counted = (_("with your {n} replicas it counts every step {n} times").format(n=replicas) if replicas > 1
                       else _("with one replica nothing shows, but with two it counts every step twice"))
            what = _("with plain SGD fit runs, but the optimizer's step counter (optimizer.iterations) is an ordinary "
                     "variable that every replica adds 1 to: {counted}, and whatever reads it (a learning-rate "
                     "schedule) runs that much too fast").format(counted=counted)
        return [Problem(
            _("{name!r} was built inside the scope, but its optimizer was made outside it: the optimizer's variables "
              "are not mirrored, and {what}. Make the optimizer and call compile inside strategy.scope() too, where "
              "the model was built.").format(name=name, what=what), code="optimizer-outside-scope")]
    return []


def _judge_functional_twin(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx)
    problems = expect_inputs(graph, [(None, _FEATURES)])
    if problems:
        return problems
    problems = _structure_problems(graph)
    problems += expect_params(graph, _PARAMS_63, explain=_("The subclassed model has Dense 32, Dropout and Dense 4 "
                                                           "after {n} features.").format(n=_FEATURES))
    if problems:
        return problems
    x = np.random.default_rng(64).normal(size=(5, _FEATURES)).astype("float32")
    problems = computes_like(model, _reference_classifier(), x, what=_("the subclassed model"))
    if problems:
        return problems
    problems = _strategy_problems(model)
    if problems:
        return problems
    ctx.verified += [
        _("a functional model, not subclassed: (None, {n}) → Dense 32 relu → Dropout 0.3 → Dense 4 "
          "softmax").format(n=_FEATURES),
        _("{params:,} parameters, in the same order as the subclassed model's").format(params=_PARAMS_63),
        _("with the subclassed model's weights copied in, it computes exactly what the subclassed model computes"),
        _("its weights and its optimizer were made inside the strategy's scope (mirrored variables): fit can split "
          "each batch across the replicas"),
    ]
    return []


# -- ex6.4 ----------------------------------------------------------------------------------------------------
_RNN_STEPS, _RNN_FEATURES, _RNN_FILTERS = 10, 5, 32  # document 002: keras.Input(...(10, 5)) → Conv1D(32, 3)
_RNN_OUT_STEPS = _RNN_STEPS - 2  # a width-3 convolution without padding
_RNN_UNITS = (32, 16)  # the documents' units, then units that differ from the 32 features the layer reads
_RNN_BATCHES = (7, 16)
_RNN_LONG, _RNN_BATCH_SIZE = 20, 16  # 20 sequences in batches of 16: a last batch of 4
_NONE_BATCH = ("got None", "None values not supported", "NoneType")


def _rnn_model_text(call: str) -> str:
    return _("keras.Input(shape=({steps}, {features})) → Conv1D({filters}, 3) → {call}, the batch size left "
             "open").format(steps=_RNN_STEPS, features=_RNN_FEATURES, filters=_RNN_FILTERS, call=call)


def _rnn_build_problem(exc: BaseException, call: str, units: int, earlier: bool) -> str:
    text = str(exc)
    seen = f"(None, {_RNN_OUT_STEPS}, {_RNN_FILTERS})"
    if any(word in text for word in _NONE_BATCH):
        quote = next((line.strip() for line in text.splitlines() if any(w in line for w in _NONE_BATCH)), "")
        quote = quote.replace("\x1b[0m", "").replace("\x1b[1m", "")
        return _("In the check's model, {model}, your layer fails while the model is built ({error}: {quote}). "
                 "While a functional model is built, the batch size is not known yet: call() receives a {seen} "
                 "tensor, so inputs.shape[0] is None, and a first state of that many rows cannot be made. Read the "
                 "batch size from the tensor when the layer runs (keras.ops.shape gives it, a number or a tensor, "
                 "never None), not from its static shape.").format(
                     model=_rnn_model_text(call), error=type(exc).__name__, quote=quote[:120], seen=seen)
    if earlier:
        return (_told(exc, _("{call}, on the {seen} tensor that units={units} handled,").format(
                    call=call, seen=seen, units=_RNN_UNITS[0]))
                + " " + _("The input has {features} features per step, the state {units} numbers per sample: the "
                          "first state has one row per sample and `units` columns, whatever the input's "
                          "size.").format(features=_RNN_FILTERS, units=units))
    return _told(exc, _("In the check's model, {model}, calling your layer").format(model=_rnn_model_text(call)))


def _kernel_bias_pairs(layer: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The layer's weights as (kernel, bias) pairs, in the order they were made (a Dense makes its kernel, then
    its bias)."""
    weights = [np.asarray(w.numpy()) for w in layer.weights]
    pairs = []
    for i, w in enumerate(weights[:-1]):
        if w.ndim == 2 and weights[i + 1].ndim == 1 and weights[i + 1].shape[0] == w.shape[1]:
            pairs.append((w, weights[i + 1]))
    return pairs


def _rnn_weights(layer: Any, units: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """projection_1, projection_2 and the classifier of the student's layer, found by their shapes (no names)."""
    pairs = _kernel_bias_pairs(layer)
    first = [p for p in pairs if p[0].shape == (_RNN_FILTERS, units)]
    second = [p for p in pairs if p[0].shape == (units, units) and not any(p is f for f in first[:1])]
    scores = [p for p in pairs if p[0].shape == (units, 1)]
    if len(pairs) != 3 or not first or not second or not scores:
        shapes = ", ".join(format_shape(tuple(w.shape)) for w in layer.weights) or _("none")
        raise Stop(_("With units={units}, on {features} features per step, your layer's weights are {shapes}. "
                     "Document 002's CustomRNN has three Dense layers: projection_1 ({features} → {units}), "
                     "projection_2 ({units} → {units}) and the classifier ({units} → 1). Keep __init__ as it is: the "
                     "task changes only how the first state is made.").format(
                         units=units, features=_RNN_FILTERS, shapes=shapes), code="rnn-weights")
    return first[0], second[0], scores[0]


def _rnn_reference(features: np.ndarray, weights: tuple[tuple[np.ndarray, np.ndarray], ...]) -> np.ndarray:
    """Document 002's loop in NumPy: state = tanh(x_t W1 + b1) + tanh(state W2 + b2); a sigmoid score per step."""
    (w1, b1), (w2, b2), (wc, bc) = weights
    state = np.zeros((features.shape[0], w2.shape[0]), "float64")
    scores = []
    for t in range(features.shape[1]):
        state = np.tanh(features[:, t, :] @ w1 + b1) + np.tanh(state @ w2 + b2)
        scores.append(1.0 / (1.0 + np.exp(-(state @ wc + bc))))
    return np.stack(scores, axis=1)


def _conv1d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A Conv1D without padding, in NumPy: step t reads steps t … t + width - 1."""
    width = kernel.shape[0]
    steps = x.shape[1] - width + 1
    return np.stack([sum(x[:, t + k, :] @ kernel[k] for k in range(width)) + bias for t in range(steps)], axis=1)


def _rnn_case(cls: type, units: int, earlier: bool, last_batch: bool) -> None:
    """One units: build document 002's model around the student's layer with the batch size left open, run it on
    batches of several sizes (called directly: quick; with ``last_batch`` also through predict in batches of 16,
    which traces a step for a batch size it has not seen) and compare with the loop in NumPy."""
    import keras
    from keras import layers

    call = f"{cls.__name__}(units={units})"
    layer = _make_layer(cls, call, units=units, name=f"custom_rnn_{units}")
    sequences = keras.Input(shape=(_RNN_STEPS, _RNN_FEATURES), name="sequences")
    conv = layers.Conv1D(_RNN_FILTERS, 3, name="conv1d")
    x = conv(sequences)
    with warnings.catch_warnings():  # Keras warns that a layer whose call failed "looks like it has unbuilt state"
        warnings.simplefilter("ignore")
        try:
            out = layer(x)
        except Exception as exc:
            raise Stop(_rnn_build_problem(exc, call, units, earlier), code="raised:build") from None
    got = tuple(out.shape)
    want = (None, _RNN_OUT_STEPS, 1)
    if got[0] is not None:
        raise Stop(_("In the check's model, {model}, your layer's output has shape {got}: its batch axis is {batch}, "
                     "not None. A batch size of {batch} is written into the layer, so a batch of any other size "
                     "fails. The first state needs one row per sample of the batch that arrives: read that number "
                     "from the tensor when the layer runs.").format(
                         model=_rnn_model_text(call), got=format_shape(got), batch=got[0]), code="batch-fixed")
    if got != want:
        raise Stop(_("In the check's model, {model}, your layer gives {got}; document 002's CustomRNN gives {want}: "
                     "one score per time step (its classifier is a Dense(1) on the last axis). Keep call's "
                     "computation as it is.").format(model=_rnn_model_text(call), got=format_shape(got),
                                                     want=format_shape(want)), code="output-shape")
    model = keras.Model(sequences, out, name="check_rnn_model")
    weights = _rnn_weights(layer, units)
    conv_kernel, conv_bias = (np.asarray(w.numpy(), "float64") for w in conv.weights)
    rng = np.random.default_rng(64 + units)
    for n in _RNN_BATCHES:
        data = rng.random((n, _RNN_STEPS, _RNN_FEATURES)).astype("float32")
        try:
            scores = keras.ops.convert_to_numpy(model(data, training=False))
        except Exception as exc:
            raise Stop(_told(exc, _("The model built, but on a batch of {n} sequences your layer").format(n=n)) + " "
                       + _("A batch size is fixed somewhere in the layer: the first state must have one row per "
                           "sample of the batch that arrives, whatever its size."), code="raised:batch-size") from None
        want_scores = _rnn_reference(_conv1d(data.astype("float64"), conv_kernel, conv_bias), weights)
        if np.shape(scores) != want_scores.shape or not np.allclose(scores, want_scores, atol=1e-4):
            raise Stop(_("On a batch of {n} sequences, {call} gives other scores than document 002's loop computed "
                         "with your layer's own weights (a first state of zeros; at each step state = "
                         "projection_1(x_t) + projection_2(state); a sigmoid score per step). Keep call's computation "
                         "as it is: the task changes only how the first state is made.").format(n=n, call=call),
                       code="computes-otherwise")
    if not last_batch:
        return
    data = rng.random((_RNN_LONG, _RNN_STEPS, _RNN_FEATURES)).astype("float32")
    try:
        scores = model.predict(data, batch_size=_RNN_BATCH_SIZE, verbose=0)
    except Exception as exc:
        raise Stop(_told(exc, _("On {n} sequences in batches of {size} (a last batch of {last}), your layer").format(
            n=_RNN_LONG, size=_RNN_BATCH_SIZE, last=_RNN_LONG % _RNN_BATCH_SIZE)) + " "
                   + _("Every batch size must work, the last batch's too."), code="raised:last-batch") from None
    if np.shape(scores) != (_RNN_LONG, _RNN_OUT_STEPS, 1):
        raise Stop(_("On {n} sequences in batches of {size}, the model returned {got}, not ({n}, {steps}, 1).").format(
            n=_RNN_LONG, size=_RNN_BATCH_SIZE, got=np.shape(scores), steps=_RNN_OUT_STEPS), code="forward-shape")


def _judge_any_batch_rnn(answer: Any, ctx: Context) -> list[Problem]:
    cls = _need_layer_class(answer, what=_("your CustomRNN class (the class itself, not a layer made from it)"))
    for index, units in enumerate(_RNN_UNITS):
        _rnn_case(cls, units, earlier=index > 0, last_batch=index == 0)
    name = cls.__name__
    ctx.verified += [
        _("in a functional model, {model}: output (None, {steps}, 1)").format(
            model=_rnn_model_text(f"{name}(units=...)"), steps=_RNN_OUT_STEPS),
        _("batches of {a} and {b} sequences with units={u1} and units={u2}, and {n} sequences through predict in "
          "batches of {size} (a last batch of {last})").format(
              a=_RNN_BATCHES[0], b=_RNN_BATCHES[1], u1=_RNN_UNITS[0], u2=_RNN_UNITS[1], n=_RNN_LONG,
              size=_RNN_BATCH_SIZE, last=_RNN_LONG % _RNN_BATCH_SIZE),
        _("its scores equal document 002's loop, computed with the layer's own weights"),
    ]
    return []
