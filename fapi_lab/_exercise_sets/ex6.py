"""Exercises for lessons 9, 10 and 11: custom layers, functional or subclassed, training on several devices.

Two answers are layer *classes*. Their judges make layers from them (with the constructor arguments the task
names), call those layers on ``keras.Input`` tensors of several shapes, rebuild them from their config and save
and load a small model that uses them, all through the public Keras API. The third answer is a functional
model built and compiled inside a ``tf.distribute.MirroredStrategy`` scope; its judge reads it through the layer
graph, copies the weights of the subclassed model it replaces into it and compares the outputs, and looks at
where its weights and its optimizer's variables were made.

Keras 3 writes the config of a layer without ``get_config`` by itself when every constructor argument is a
plain value (str, int, float, bool, None), so ex6.1's check makes the layer with a *function* as its
activation (as ``keras.layers.Dense`` allows): only then is a missing ``get_config`` a real failure.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    computes_like,
    expect_inputs,
    expect_params,
    need_functional,
    nodes_of,
    output_map,
    run_forward,
)
from .._render_dot import format_shape

LESSON_9 = "lesson 9"
LESSONS_10_11 = "lessons 10 and 11"

_BASE_ARGS = ("name", "trainable", "dtype")


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
def _raised(exc: BaseException, what: str) -> str:
    """Like the framework's own explanation of an error the student's code raised (that one is private)."""
    from .._explain import explain

    explanation = explain(exc)
    if explanation.recognised:
        return f"{what} raised {type(exc).__name__}: {explanation.title}. {explanation.why} Fix: {explanation.fix}"
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    if not first:
        return f"{what} raised {type(exc).__name__}."
    return f"{what} raised {type(exc).__name__}: {first}{'' if first.endswith(('.', '!', '?')) else '.'}"


def _describe(value: Any) -> str:
    if value is None:
        return "None (did the cell that makes it end with a print, or with no return?)"
    name = type(value).__name__
    text = repr(value)
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name} ({text[:60]}{'…' if len(text) > 60 else ''})"


def _need_layer_class(answer: Any, *, what: str) -> type:
    """The answer as a subclass of ``keras.layers.Layer``, or :class:`Stop` saying what was passed instead."""
    import keras

    if isinstance(answer, keras.layers.Layer):
        cls = type(answer).__name__
        raise Stop(f"This is a layer made from your class ({cls} {answer.name!r}); the check needs the class "
                   f"itself, to make its own layers from it: pass {cls}, without parentheses.")
    if not isinstance(answer, type):
        raise Stop(f"The check needs {what}; you passed {_describe(answer)}. Pass the class itself, e.g. "
                   f"lab.check(..., YourLayer).")
    if not issubclass(answer, keras.layers.Layer):
        raise Stop(f"{answer.__name__} is a class, but not a Keras layer: the task's class subclasses "
                   f"keras.layers.Layer (class {answer.__name__}(layers.Layer): ...).")
    return answer


def _kwargs_message(cls: type, where: str) -> str:
    return (f"{where} {cls.__name__}.__init__ does not accept name= (nor trainable= or dtype=, which Keras passes "
            f"back to the constructor when it rebuilds a layer): add **kwargs to __init__ and pass them on to "
            f"super().__init__.")


def _make_layer(cls: type, call: str, **arguments: Any) -> Any:
    """``cls(**arguments)``; a constructor that does not take them becomes a :class:`Stop` that says why."""
    try:
        return cls(**arguments)
    except TypeError as exc:
        text = str(exc)
        if any(f"'{arg}'" in text for arg in _BASE_ARGS):
            raise Stop(_kwargs_message(cls, "The check made a layer as " + call + ", but")) from None
        raise Stop(_raised(exc, f"Making a layer as {call}") + " The task's constructor takes the arguments "
                   "of that call.") from None
    except Exception as exc:
        raise Stop(_raised(exc, f"Making a layer as {call}")) from None


def _is_mirrored(variable: Any) -> bool:
    """True when a Keras variable (or a backend variable) was made inside a tf.distribute strategy's scope."""
    import tensorflow as tf

    return isinstance(getattr(variable, "value", variable), tf.distribute.DistributedValues)


def _shapes(weights: Any) -> str:
    return ", ".join(format_shape(tuple(w.shape)) for w in weights)


# -- ex6.1 ----------------------------------------------------------------------------------------------------
_CHECK_NAME = "check_dense"
_UNITS_61 = 3


def _not_registered(cls: type) -> Problem:
    return Problem(
        f"{cls.__name__} is not registered, so keras.saving.load_model cannot find the class when it reads the "
        f"file: it fails with \"Could not locate class {cls.__name__!r}\". A .keras file names each layer's "
        f"class; load_model finds Keras's own classes and the classes registered under a name, nothing else. "
        f"Register yours with the decorator @keras.saving.register_keras_serializable(...) on the class (lesson "
        f"9), so that it loads without custom_objects.")


def _config_problems(cls: type, layer: Any, model: Any, x: np.ndarray, want: np.ndarray) -> list[Problem]:
    """What goes wrong when the layer is rebuilt from its config (no file involved)."""
    import keras

    name = cls.__name__
    try:
        config = layer.get_config()
    except NotImplementedError as exc:
        if cls.get_config is keras.layers.Layer.get_config:
            return [Problem(
                f"{name} has no get_config, so Keras tries to write its config by itself, which it can do only "
                f"when every constructor argument is a plain value (a number, a string, True/False, None). The "
                f"check made the layer with activation=keras.activations.relu, a function, so saving a model "
                f"that uses it fails (NotImplementedError: the layer \"must override get_config()\"). Write "
                f"get_config: the base layer's config plus your constructor's arguments, units and the "
                f"activation (saved as its name).")]
        return [Problem(_raised(exc, f"{name}.get_config()"))]
    except Exception as exc:
        return [Problem(_raised(exc, f"{name}.get_config()"))]
    if not isinstance(config, dict):
        return [Problem(f"{name}.get_config() returned {_describe(config)}; it must return a dict of the "
                        f"constructor's arguments.")]
    if "name" not in config:
        keys = ", ".join(repr(k) for k in config) or "nothing"
        return [Problem(
            f"{name}.get_config() returns only {keys}: it leaves out the base layer's config (name, trainable, "
            f"dtype). A saved model finds its layers by their names, so loading it fails (\"No such layer: "
            f"{_CHECK_NAME}\") and the layer's name is lost. Start from super().get_config() and add your "
            f"arguments to it.")]
    try:
        rebuilt = cls.from_config(dict(config))
    except TypeError as exc:
        if any(f"'{arg}'" in str(exc) for arg in _BASE_ARGS):
            return [Problem(_kwargs_message(cls, "Rebuilding the layer from its config failed:"))]
        return [Problem(_raised(exc, f"Rebuilding the layer from its config ({name}.from_config)") + " get_config "
                        "must return the constructor's arguments, under the constructor's names.")]
    except Exception as exc:
        return [Problem(_raised(exc, f"Rebuilding the layer from its config ({name}.from_config)"))]
    inputs = keras.Input(shape=(x.shape[1],), name="features")
    try:
        twin = keras.Model(inputs, rebuilt(inputs), name="rebuilt_model")
    except Exception as exc:
        return [Problem(_raised(exc, "Calling the layer rebuilt from its config"))]
    units = twin.outputs[0].shape[-1]
    if units != _UNITS_61:
        return [Problem(
            f"Rebuilt from its config, the layer has {units} units instead of {_UNITS_61}: get_config does not "
            f"return units, so __init__ falls back to its default and the saved weights no longer fit. Put units "
            f"in the config.")]
    twin.set_weights(model.get_weights())
    if not np.allclose(run_forward(twin, x, what="The rebuilt layer"), want, atol=1e-5):
        return [Problem(
            "Rebuilt from its config, with the same weights, your layer computes something else: the activation "
            "did not survive (relu became linear). Put the activation in the config too, as its name.")]
    return []


def _judge_serializable(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    cls = _need_layer_class(answer, what="a custom layer class (the class itself, not a layer made from it)")
    call = f"{cls.__name__}(units={_UNITS_61}, activation=keras.activations.relu, name={_CHECK_NAME!r})"
    layer = _make_layer(cls, call, units=_UNITS_61, activation=keras.activations.relu, name=_CHECK_NAME)
    inputs = keras.Input(shape=(4,), name="features")
    try:
        model = keras.Model(inputs, layer(inputs), name="check_model")
    except Exception as exc:
        raise Stop(_raised(exc, f"Calling {call} on a (None, 4) input")) from None
    x = np.random.default_rng(61).normal(size=(6, 4)).astype("float32")
    want = run_forward(model, x, what=f"{call}")
    if np.shape(want) != (6, _UNITS_61):
        raise Stop(f"On 6 samples of 4 features, {call} gives shape {np.shape(want)}; a layer with "
                   f"{_UNITS_61} units gives (6, {_UNITS_61}). Keep the layer's computation as it is.")
    problems = _config_problems(cls, layer, model, x, want)
    registered = keras.saving.get_registered_name(cls)
    if keras.saving.get_registered_object(registered) is not cls:
        problems.append(_not_registered(cls))
    if problems:
        return problems
    # Keras's own saving code warns about NumPy 2's copy keyword; that is not the student's business
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        path = Path(folder) / "check_model.keras"
        try:
            model.save(path)
        except Exception as exc:
            raise Stop(_raised(exc, "Saving a model that uses your layer")) from None
        try:
            loaded = keras.saving.load_model(path)
        except Exception as exc:
            if "Could not locate class" in str(exc):
                raise Stop(_not_registered(cls)) from None
            raise Stop(_raised(exc, "Loading the saved model (keras.saving.load_model, no custom_objects)")) from None
    try:
        loaded_layer = loaded.get_layer(_CHECK_NAME)
    except ValueError:
        raise Stop(f"The loaded model has no layer called {_CHECK_NAME!r}: the name did not survive. Start "
                   f"get_config from super().get_config().") from None
    if type(loaded_layer) is not cls:
        raise Stop(f"The loaded layer is a {type(loaded_layer).__name__}, not your {cls.__name__}: two classes "
                   f"are registered under the name {registered!r}. Run the cell that defines your class again.")
    if not np.allclose(run_forward(loaded, x, what="The loaded model"), want, atol=1e-5):
        raise Stop("Loaded back from the .keras file, the model computes something else than before saving: "
                   "check that get_config returns every constructor argument.")
    ctx.verified += [
        f"a layer made as {call} gives (None, {_UNITS_61}) on (None, 4) inputs",
        "get_config keeps the name, the units and the activation: from_config rebuilds a layer that computes "
        "the same",
        f"registered as {registered!r}: keras.saving.load_model finds the class without custom_objects",
        "a model that uses it, saved to a .keras file and loaded back, gives the same outputs",
    ]
    return []


# -- ex6.2 ----------------------------------------------------------------------------------------------------
_UNITS_62 = 3
_SIZES_62: tuple[tuple[int | None, ...], ...] = ((None, 4), (None, 7), (None, 5, 6))


def _call_on(cls: type, shape: tuple[int | None, ...], index: int) -> tuple[Any, Any]:
    """A fresh layer from ``cls`` called on a ``keras.Input`` of ``shape``: (layer, model)."""
    import keras

    call = f"{cls.__name__}(units={_UNITS_62})"
    layer = _make_layer(cls, call, units=_UNITS_62, name=f"any_size_{index}")
    made_early = [tuple(w.shape) for w in layer.weights]
    inputs = keras.Input(shape=shape[1:], name=f"features_{index}")
    try:
        outputs = layer(inputs)
    except Exception as exc:
        if made_early:
            raise Stop(
                f"On {format_shape(shape)} inputs, {call} fails ({type(exc).__name__}): its weights "
                f"{', '.join(format_shape(s) for s in made_early)} already exist when the layer is made, before it "
                f"has seen any input, so they fit one input size only. Make them in build(input_shape), which "
                f"Keras calls once with the shape of the first input.") from None
        raise Stop(_raised(exc, f"Calling {call} on a {format_shape(shape)} input") + " The input size is "
                   "input_shape[-1], the last axis, whatever the rank; input_shape[0] is the batch size (None "
                   "while a model is being built).") from None
    want = (*shape[:-1], _UNITS_62)
    if tuple(outputs.shape) != want:
        raise Stop(f"On {format_shape(shape)} inputs, {call} gives {format_shape(tuple(outputs.shape))}; the task "
                   f"needs {format_shape(want)}: like Dense, it replaces the last axis by the units and keeps the "
                   f"others.")
    return layer, keras.Model(inputs, outputs, name=f"check_model_{index}")


def _judge_any_size(answer: Any, ctx: Context) -> list[Problem]:
    cls = _need_layer_class(answer, what="a custom layer class (the class itself, not a layer made from it)")
    name = cls.__name__
    rng = np.random.default_rng(62)
    counts = []
    for index, shape in enumerate(_SIZES_62):
        layer, model = _call_on(cls, shape, index)
        size = shape[-1]
        assert size is not None
        expected = size * _UNITS_62 + _UNITS_62
        got = layer.count_params()
        kernel = [w for w in layer.weights if tuple(w.shape) == (size, _UNITS_62)]
        bias = [w for w in layer.weights if tuple(w.shape) == (_UNITS_62,)]
        if not kernel:
            raise Stop(f"On {format_shape(shape)} inputs your layer made the weights {_shapes(layer.weights)}; "
                       f"a dense layer with {_UNITS_62} units on {size} input features needs a ({size}, "
                       f"{_UNITS_62}) kernel. Its first axis is the size of the input's LAST axis, "
                       f"input_shape[-1], whatever the rank (on sequences, input_shape[1] is the number of time "
                       f"steps).")
        if not bias and got == size * _UNITS_62:
            raise Stop(f"On {format_shape(shape)} inputs your layer has {got} parameters, the {size}×{_UNITS_62} "
                       f"kernel only: the bias is missing. A dense layer with {_UNITS_62} units also learns one "
                       f"bias per unit ({expected} parameters in all), added after the product.")
        if got != expected or len(kernel) != 1 or len(bias) != 1:
            raise Stop(f"On {format_shape(shape)} inputs your layer has {got} parameters (weights "
                       f"{_shapes(layer.weights)}); a dense layer with {_UNITS_62} units has a {size}×{_UNITS_62} "
                       f"kernel and {_UNITS_62} biases: {expected}.")
        counts.append(got)
        for w in layer.weights:
            w.assign(rng.normal(size=tuple(w.shape)).astype("float32"))
        x = rng.normal(size=(5, *shape[1:])).astype("float32")
        want = x @ np.asarray(kernel[0].numpy()) + np.asarray(bias[0].numpy())
        got_y = run_forward(model, x, what=f"{name}(units={_UNITS_62}) on {format_shape(shape)} inputs")
        if not np.allclose(got_y, want, atol=1e-4):
            raise Stop(f"With its own weights, your layer's output on {format_shape(shape)} inputs is not "
                       f"inputs × kernel + bias: the task's layer is linear (no activation) and adds the bias.")
    ctx.verified += [
        f"{name}(units={_UNITS_62}) works on {', '.join(format_shape(s) for s in _SIZES_62)} inputs: no size "
        f"is fixed before the layer sees its input",
        f"a kernel and a bias each time: {', '.join(map(str, counts[:-1]))} and {counts[-1]} parameters",
        "outputs equal inputs × kernel + bias, computed with the layer's own weights",
    ]
    return []


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
        return [Problem(f"Your model has {len(outputs)} outputs; the subclassed model has one: 4 class "
                        f"probabilities per sample.")]
    (out_name, (out_key, out_shape)), = outputs.items()
    if tuple(out_shape) != (None, 4):
        return [Problem(f"Output {out_name!r} has shape {format_shape(out_shape)}; the subclassed model's is "
                        f"(None, 4): one probability per class.", (out_key,))]
    dense = nodes_of(graph, "Dense")
    if len(dense) != 2:
        return [Problem(f"Your model has {len(dense)} Dense layer{'s' * (len(dense) != 1)}; the subclassed model "
                        f"has 2: hidden (32 units, relu) and classes (4 units, softmax).",
                        tuple(n.key for n in dense))]
    problems = []
    hidden = next(n for n in dense if n.key != out_key)
    if (hidden.layer.activation or "linear") != "relu":
        problems.append(Problem(f"Hidden layer {hidden.key!r} has activation {hidden.layer.activation or 'linear'!r};"
                                f" the subclassed model's hidden layer uses 'relu'.", (hidden.key,)))
    last = graph.node(out_key)
    if (last.layer.activation or "linear") != "softmax":
        problems.append(Problem(f"The output layer {out_key!r} has activation {last.layer.activation or 'linear'!r}; "
                                f"the subclassed model ends in softmax.", (out_key,)))
    dropout = nodes_of(graph, "Dropout")
    if not dropout:
        problems.append(Problem(
            "The subclassed model has a Dropout layer (rate 0.3) between its hidden layer and its output; your "
            "model has none. In call() it is switched on and off by training=...; in a functional model Keras "
            "passes training to it for you, so the layer is all it takes.", (hidden.key, out_key)))
    else:
        drop = dropout[0]
        rate = drop.layer.config.get("rate")
        if rate is not None and not np.isclose(rate, 0.3):
            problems.append(Problem(f"Dropout {drop.key!r} has rate {rate}; the subclassed model's is 0.3.",
                                    (drop.key,)))
        if drop.key not in graph.predecessors(out_key) or hidden.key not in graph.predecessors(drop.key):
            problems.append(Problem(f"Dropout {drop.key!r} is not between the hidden layer {hidden.key!r} and the "
                                    f"output {out_key!r}, where the subclassed model's call() puts it.",
                                    (drop.key,)))
    return problems


def _strategy_problems(model: Any) -> list[Problem]:
    name = model.name
    if not all(_is_mirrored(w) for w in model.weights):
        return [Problem(
            f"{name!r} was built outside strategy.scope(): its weights are ordinary variables on one device, which "
            f"MirroredStrategy cannot copy to its replicas (fit fails with \"colocate_vars_with must only be "
            f"passed a variable created in this tf.distribute.Strategy.scope()\"). Make the keras.Input, the "
            f"layers and the model inside strategy.scope(), and compile the model there too.")]
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return [Problem(f"{name!r} is not compiled yet: call compile(optimizer=..., loss=..., metrics=[...]) inside "
                        f"strategy.scope() too, so that the optimizer's variables are mirrored like the weights.")]
    if not _is_mirrored(optimizer.iterations):
        return [Problem(
            f"{name!r} was built inside the scope, but its optimizer was made outside it: the optimizer's variables "
            f"(its step counter, its moments) are not mirrored, and fit fails with \"Mixing different "
            f"tf.distribute.Strategy objects\". Make the optimizer and call compile inside strategy.scope() too, "
            f"where the model was built.")]
    return []


def _judge_functional_twin(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(answer, ctx)
    problems = expect_inputs(graph, [(None, _FEATURES)])
    if problems:
        return problems
    problems = _structure_problems(graph)
    problems += expect_params(graph, _PARAMS_63, explain="The subclassed model has Dense 32, Dropout and Dense 4 "
                                                         f"after {_FEATURES} features.")
    if problems:
        return problems
    x = np.random.default_rng(64).normal(size=(5, _FEATURES)).astype("float32")
    problems = computes_like(model, _reference_classifier(), x, what="the subclassed model")
    if problems:
        return problems
    problems = _strategy_problems(model)
    if problems:
        return problems
    ctx.verified += [
        f"a functional model, not subclassed: (None, {_FEATURES}) → Dense 32 relu → Dropout 0.3 → Dense 4 softmax",
        f"{_PARAMS_63:,} parameters, in the same order as the subclassed model's",
        "with the subclassed model's weights copied in, it computes exactly what the subclassed model computes",
        "its weights and its optimizer were made inside the strategy's scope (mirrored variables): fit can split "
        "each batch across the replicas",
    ]
    return []


EXERCISES = [
    Exercise(
        id="ex6.1", title="Make a custom layer serializable", lesson=LESSON_9,
        judge=_judge_serializable, answer="your layer class (the class itself: ActivatedDense, no parentheses)",
        hints=("Try it: save a small model that uses your layer (model.save('m.keras')), load it with "
               "keras.saving.load_model('m.keras') and read the error.",
               "Saving stores each layer's config (the dict get_config returns) and rebuilds the layer with "
               "from_config, i.e. YourClass(**config). The config needs the base layer's keys (name, trainable, "
               "dtype) as well as your own arguments, and the class must be findable by its name.",
               "get_config: start from super().get_config() and add units and the activation "
               "(keras.activations.serialize turns the function into a name). Put "
               "@keras.saving.register_keras_serializable(package='ex6') on the line above the class.")),
    Exercise(
        id="ex6.2", title="A custom layer that builds its weights from the input shape", lesson=LESSON_9,
        judge=_judge_any_size, answer="your layer class (the class itself: AnySizeDense, no parentheses)",
        hints=("Try AnySizeDense(units=3) on keras.Input(shape=(7,)): why does a kernel made in __init__ not fit?",
               "Keras calls build(input_shape) once, on the first input, before call: the input size is known there. "
               "Move the weights out of __init__ and drop the input_dim argument.",
               "In build, the kernel's shape is (input_shape[-1], self.units) (the last axis, so sequences work too) "
               "and the bias's is (self.units,); call stays as it is.")),
    Exercise(
        id="ex6.3", title="From subclassed to functional, ready for several devices", lesson=LESSONS_10_11,
        judge=_judge_functional_twin,
        answer="a functional keras.Model, built and compiled inside strategy.scope()",
        hints=("Each attribute made in Classifier.__init__ becomes a layer call; call() gives their order. "
               "lab.graph(your_model) should show four boxes in a line.",
               "Dropout needs no training argument in a functional model: Keras passes it during fit and predict.",
               "Put keras.Input(shape=(20,)), the three layer calls, keras.Model(...) and model.compile(...) all "
               "inside one with strategy.scope(): block."),
        outline=((f"features (None, {_FEATURES})", "hidden: Dense 32, relu"), ("hidden: Dense 32, relu",
                 "dropout: Dropout 0.3"), ("dropout: Dropout 0.3", "classes: Dense 4, softmax"))),
]
