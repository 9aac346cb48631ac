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
    expect_depends,
    expect_inputs,
    expect_params,
    explain_raised,
    match_inputs,
    match_outputs,
    need_functional,
    nodes_of,
    output_map,
    run_forward,
)
from .._render_dot import format_shape

LESSON_9 = "lesson 9"
LESSON_10 = "lesson 10"
LESSONS_9_10 = "lessons 9 and 10"
LESSONS_10_11 = "lessons 10 and 11"

_BASE_ARGS = ("name", "trainable", "dtype")


# -- private helpers (see the report: candidates for _exercises.py) ---------------------------------------------
def _raised(exc: BaseException, what: str) -> str:
    return explain_raised(exc, what)


def _told(exc: BaseException, what: str) -> str:
    """lab.explain's reading of an error without its general fix (a fix written for another context, e.g. "add a
    Dense layer", would mislead inside a task that asks to keep the layer's computation)."""
    return explain_raised(exc, what, with_fix=False)


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
                   f"itself, to make its own layers from it: pass {cls}, without parentheses.",
                   code="wrong-kind:instance")
    if not isinstance(answer, type):
        raise Stop(f"The check needs {what}; you passed {_describe(answer)}. Pass the class itself, e.g. "
                   f"lab.check(..., YourLayer).", code="wrong-kind")
    if not issubclass(answer, keras.layers.Layer):
        raise Stop(f"{answer.__name__} is a class, but not a Keras layer: the task's class subclasses "
                   f"keras.layers.Layer (class {answer.__name__}(layers.Layer): ...).", code="wrong-kind:not-a-layer")
    library = _library_base(answer)
    if library is answer:
        where = "Keras's" if library.__module__.startswith("keras") else "fapi_lab's"
        raise Stop(f"{answer.__name__} is {where} own layer class, not one you wrote. It may compute the right "
                   f"numbers, but the task is to write this layer yourself: a class of your own that subclasses "
                   f"keras.layers.Layer, with the task's build and call.", code="wrong-kind:library-layer")
    if library is not None:
        owner = "fapi_lab" if library.__module__.startswith("fapi_lab") else "Keras"
        raise Stop(f"{answer.__name__} subclasses {library.__name__}, a layer {owner} already has: its build and "
                   f"call do the work, so the class you pass adds nothing of yours. "
                   f"The task is to write this layer yourself: subclass keras.layers.Layer itself, and write the "
                   f"task's build and call.", code="wrong-kind:library-subclass")
    return answer


def _library_base(cls: type) -> type | None:
    """The first class in ``cls``'s ancestry that a library defines (Keras, or fapi_lab's own patterns) and that
    is a working layer, i.e. not the bare ``keras.layers.Layer`` (or ``keras.Model``) base; None for a class
    written from ``keras.layers.Layer`` up."""
    import keras

    bases = {keras.layers.Layer, keras.Model, keras.Operation}
    for klass in cls.__mro__:
        if klass in bases or not issubclass(klass, keras.layers.Layer):
            return None
        if klass.__module__.split(".")[0] in ("keras", "fapi_lab", "tf_keras", "tensorflow"):
            return klass
    return None


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
            raise Stop(_kwargs_message(cls, "The check made a layer as " + call + ", but"),
                       code="raised:constructor-kwargs") from None
        raise Stop(_raised(exc, f"Making a layer as {call}") + " The task's constructor takes the arguments "
                   "of that call.", code="raised:constructor") from None
    except Exception as exc:
        raise Stop(_raised(exc, f"Making a layer as {call}"), code="raised:constructor") from None


def _library_made(layer: Any) -> tuple[list[Any], list[str]]:
    """The layer's weights that library layers inside it made (a ``layers.Dense`` kept as an attribute), and
    those layers' names: weights the student's own code did not make with ``add_weight``."""
    inner = getattr(layer, "_flatten_layers", None)  # Keras 3's walk over a layer's tracked sub-layers
    subs = [sub for sub in (inner(include_self=False, recursive=True) if inner else ())
            if _library_base(type(sub)) is not None]
    made = {id(w) for sub in subs for w in sub.weights}
    return [w for w in layer.weights if id(w) in made], [sub.name for sub in subs if sub.weights]


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
        f"9), so that it loads without custom_objects.", code="not-registered")


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
                f"activation (saved as its name).", code="no-get-config")]
        return [Problem(_raised(exc, f"{name}.get_config()"), code="raised:get-config")]
    except Exception as exc:
        return [Problem(_raised(exc, f"{name}.get_config()"), code="raised:get-config")]
    if not isinstance(config, dict):
        return [Problem(f"{name}.get_config() returned {_describe(config)}; it must return a dict of the "
                        f"constructor's arguments.", code="get-config-not-a-dict")]
    if "name" not in config:
        keys = ", ".join(repr(k) for k in config) or "nothing"
        return [Problem(
            f"{name}.get_config() returns only {keys}: it leaves out the base layer's config (name, trainable, "
            f"dtype). A saved model finds its layers by their names, so loading it fails (\"No such layer: "
            f"{_CHECK_NAME}\") and the layer's name is lost. Start from super().get_config() and add your "
            f"arguments to it.", code="get-config-no-base")]
    try:
        rebuilt = cls.from_config(dict(config))
    except TypeError as exc:
        if any(f"'{arg}'" in str(exc) for arg in _BASE_ARGS):
            return [Problem(_kwargs_message(cls, "Rebuilding the layer from its config failed:"),
                            code="raised:from-config-kwargs")]
        return [Problem(_raised(exc, f"Rebuilding the layer from its config ({name}.from_config)") + " get_config "
                        "must return the constructor's arguments, under the constructor's names.",
                        code="raised:from-config")]
    except Exception as exc:
        return [Problem(_raised(exc, f"Rebuilding the layer from its config ({name}.from_config)"),
                        code="raised:from-config")]
    inputs = keras.Input(shape=(x.shape[1],), name="features")
    try:
        twin = keras.Model(inputs, rebuilt(inputs), name="rebuilt_model")
    except Exception as exc:
        return [Problem(_raised(exc, "Calling the layer rebuilt from its config"), code="raised:rebuilt-call")]
    units = twin.outputs[0].shape[-1]
    if units != _UNITS_61:
        return [Problem(
            f"Rebuilt from its config, the layer has {units} units instead of {_UNITS_61}: get_config does not "
            f"return units, so __init__ falls back to its default and the saved weights no longer fit. Put units "
            f"in the config.", code="config-units-lost")]
    twin.set_weights(model.get_weights())
    if not np.allclose(run_forward(twin, x, what="The rebuilt layer"), want, atol=1e-5):
        return [Problem(
            "Rebuilt from its config, with the same weights, your layer computes something else: the activation "
            "did not survive (relu became linear). Put the activation in the config too, as its name.",
                        code="config-activation-lost")]
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
        raise Stop(_raised(exc, f"Calling {call} on a (None, 4) input"), code="raised:call") from None
    x = np.random.default_rng(61).normal(size=(6, 4)).astype("float32")
    want = run_forward(model, x, what=f"{call}")
    if np.shape(want) != (6, _UNITS_61):
        raise Stop(f"On 6 samples of 4 features, {call} gives shape {np.shape(want)}; a layer with "
                   f"{_UNITS_61} units gives (6, {_UNITS_61}). Keep the layer's computation as it is.",
                   code="output-shape")
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
            raise Stop(_raised(exc, "Saving a model that uses your layer"), code="raised:save") from None
        try:
            loaded = keras.saving.load_model(path)
        except Exception as exc:
            if "Could not locate class" in str(exc):
                raise Stop(_not_registered(cls), code="not-registered") from None
            raise Stop(_raised(exc, "Loading the saved model (keras.saving.load_model, no custom_objects)"),
                       code="raised:load") from None
    try:
        loaded_layer = loaded.get_layer(_CHECK_NAME)
    except ValueError:
        raise Stop(f"The loaded model has no layer called {_CHECK_NAME!r}: the name did not survive. Start "
                   f"get_config from super().get_config().", code="name-lost") from None
    if type(loaded_layer) is not cls:
        raise Stop(f"The loaded layer is a {type(loaded_layer).__name__}, not your {cls.__name__}: two classes "
                   f"are registered under the name {registered!r}. Run the cell that defines your class again.",
                   code="class-name-clash")
    if not np.allclose(run_forward(loaded, x, what="The loaded model"), want, atol=1e-5):
        raise Stop("Loaded back from the .keras file, the model computes something else than before saving: "
                   "check that get_config returns every constructor argument.", code="computes-otherwise")
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
                f"Keras calls once with the shape of the first input.", code="raised:weights-in-init") from None
        raise Stop(_raised(exc, f"Calling {call} on a {format_shape(shape)} input") + " The input size is "
                   "input_shape[-1], the last axis, whatever the rank; input_shape[0] is the batch size (None "
                   "while a model is being built).", code="raised:call") from None
    want = (*shape[:-1], _UNITS_62)
    if tuple(outputs.shape) != want:
        raise Stop(f"On {format_shape(shape)} inputs, {call} gives {format_shape(tuple(outputs.shape))}; the task "
                   f"needs {format_shape(want)}: like Dense, it replaces the last axis by the units and keeps the "
                   f"others.", code="output-shape")
    return layer, keras.Model(inputs, outputs, name=f"check_model_{index}")


def _judge_any_size(answer: Any, ctx: Context) -> list[Problem]:
    cls = _need_layer_class(answer, what="a custom layer class (the class itself, not a layer made from it)")
    name = cls.__name__
    rng = np.random.default_rng(62)
    counts = []
    for index, shape in enumerate(_SIZES_62):
        layer, model = _call_on(cls, shape, index)
        borrowed, makers = _library_made(layer)
        if borrowed and len(borrowed) == len(layer.weights):
            raise Stop(f"{name}'s weights are made by {', '.join(map(repr, makers))} inside it, a layer Keras "
                       f"already has, not by your build: Keras's layer does the task's work. The task is to make "
                       f"the kernel and the bias yourself, with add_weight in build, from input_shape.",
                       code="library-weights")
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
                       f"steps).", code="weight-shapes")
        if not bias and got == size * _UNITS_62:
            raise Stop(f"On {format_shape(shape)} inputs your layer has {got} parameters, the {size}×{_UNITS_62} "
                       f"kernel only: the bias is missing. A dense layer with {_UNITS_62} units also learns one "
                       f"bias per unit ({expected} parameters in all), added after the product.", code="bias-missing")
        if got != expected or len(kernel) != 1 or len(bias) != 1:
            raise Stop(f"On {format_shape(shape)} inputs your layer has {got} parameters (weights "
                       f"{_shapes(layer.weights)}); a dense layer with {_UNITS_62} units has a {size}×{_UNITS_62} "
                       f"kernel and {_UNITS_62} biases: {expected}.", code="param-count")
        counts.append(got)
        for w in layer.weights:
            w.assign(rng.normal(size=tuple(w.shape)).astype("float32"))
        x = rng.normal(size=(5, *shape[1:])).astype("float32")
        want = x @ np.asarray(kernel[0].numpy()) + np.asarray(bias[0].numpy())
        got_y = run_forward(model, x, what=f"{name}(units={_UNITS_62}) on {format_shape(shape)} inputs")
        if not np.allclose(got_y, want, atol=1e-4):
            raise Stop(f"With its own weights, your layer's output on {format_shape(shape)} inputs is not "
                       f"inputs × kernel + bias: the task's layer is linear (no activation) and adds the bias.",
                       code="computes-otherwise")
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
                        f"probabilities per sample.", code="output-count")]
    (out_name, (out_key, out_shape)), = outputs.items()
    if tuple(out_shape) != (None, 4):
        return [Problem(f"Output {out_name!r} has shape {format_shape(out_shape)}; the subclassed model's is "
                        f"(None, 4): one probability per class.", (out_key,), code="output-shape")]
    dense = nodes_of(graph, "Dense")
    if len(dense) != 2:
        return [Problem(f"Your model has {len(dense)} Dense layer{'s' * (len(dense) != 1)}; the subclassed model "
                        f"has 2: hidden (32 units, relu) and classes (4 units, softmax).",
                        tuple(n.key for n in dense), code="dense-count")]
    problems = []
    hidden = next(n for n in dense if n.key != out_key)
    if (hidden.layer.activation or "linear") != "relu":
        problems.append(Problem(f"Hidden layer {hidden.key!r} has activation {hidden.layer.activation or 'linear'!r};"
                                f" the subclassed model's hidden layer uses 'relu'.", (hidden.key,),
                                code="hidden-activation"))
    last = graph.node(out_key)
    if (last.layer.activation or "linear") != "softmax":
        problems.append(Problem(f"The output layer {out_key!r} has activation {last.layer.activation or 'linear'!r}; "
                                f"the subclassed model ends in softmax.", (out_key,), code="output-activation"))
    dropout = nodes_of(graph, "Dropout")
    if not dropout:
        problems.append(Problem(
            "The subclassed model has a Dropout layer (rate 0.3) between its hidden layer and its output; your "
            "model has none. In call() it is switched on and off by training=...; in a functional model Keras "
            "passes training to it for you, so the layer is all it takes.", (hidden.key, out_key),
                                code="dropout-missing"))
    else:
        drop = dropout[0]
        rate = drop.layer.config.get("rate")
        if rate is not None and not np.isclose(rate, 0.3):
            problems.append(Problem(f"Dropout {drop.key!r} has rate {rate}; the subclassed model's is 0.3.",
                                    (drop.key,), code="dropout-rate"))
        if drop.key not in graph.predecessors(out_key) or hidden.key not in graph.predecessors(drop.key):
            problems.append(Problem(f"Dropout {drop.key!r} is not between the hidden layer {hidden.key!r} and the "
                                    f"output {out_key!r}, where the subclassed model's call() puts it.",
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
        return "plain SGD" if not _keeps_values_per_weight(inner) else "SGD with momentum"
    return name


def _built_outside(name: str, optimizer: Any) -> Problem:
    """The model's weights are ordinary variables. What fit does then depends on where and how it was compiled
    (measured, see the module docstring): the message quotes that, not a generic error."""
    fix = ("Make the keras.Input, the layers and the model inside strategy.scope(), and compile the model there "
           "too.")
    if optimizer is None or not _is_mirrored(optimizer.iterations):
        compiled = ("and it is not compiled yet" if optimizer is None else
                    "and compiled outside it")
        return Problem(f"{name!r} was built outside strategy.scope(), {compiled}: nothing of it belongs to the "
                       f"strategy. Its weights are ordinary variables on one device, so fit would train it on that "
                       f"device alone, as if there were no strategy. {fix}", code="built-outside-scope")
    if _keeps_values_per_weight(optimizer):
        said = (f"fit fails with RuntimeError: Need to be inside \"with strategy.scope()\": "
                f"{_optimizer_name(optimizer)}, made in the scope, makes values of its own for each weight the "
                f"first time it updates, and must make them in the strategy, beside the weight (if fit is called "
                f"inside the scope, it says instead: ValueError: `colocate_vars_with` must only be passed a "
                f"variable created in this tf.distribute.Strategy.scope())")
    else:
        said = ("fit fails with a bare AssertionError, with no message at all: plain SGD, made inside the "
                "scope, updates each weight through the strategy, and TensorFlow's MirroredStrategy first asserts "
                "that the weight is one of its mirrored variables")
    return Problem(f"{name!r} was built outside strategy.scope() and compiled inside it: its weights are ordinary "
                   f"variables on one device, which MirroredStrategy cannot keep on every replica, so {said}. "
                   f"{fix}", code="built-outside-scope")


def _strategy_problems(model: Any) -> list[Problem]:
    name = model.name
    optimizer = getattr(model, "optimizer", None)
    if not all(_is_mirrored(w) for w in model.weights):
        return [_built_outside(name, optimizer)]
    if optimizer is None:
        return [Problem(f"{name!r} is not compiled yet: call compile(optimizer=..., loss=..., metrics=[...]) inside "
                        f"strategy.scope() too, so that the optimizer's variables are mirrored like the weights.",
                        code="not-answered:not-compiled")]
    if not _is_mirrored(optimizer.iterations):
        if _keeps_values_per_weight(optimizer):
            what = (f"fit fails with RuntimeError: \"Mixing different tf.distribute.Strategy objects\" when "
                    f"{_optimizer_name(optimizer)} makes its values for each weight")
        else:
            replicas = _replicas(model.weights[0])
            counted = (f"with your {replicas} replicas it counts every step {replicas} times" if replicas > 1 else
                       "with one replica nothing shows, but with two it counts every step twice")
            what = (f"with plain SGD fit runs, but the optimizer's step counter (optimizer.iterations) is an "
                    f"ordinary variable that every replica adds 1 to: {counted}, and whatever reads it (a "
                    f"learning-rate schedule) runs that much too fast")
        return [Problem(
            f"{name!r} was built inside the scope, but its optimizer was made outside it: the optimizer's variables "
            f"are not mirrored, and {what}. Make the optimizer and call compile inside strategy.scope() too, "
            f"where the model was built.", code="optimizer-outside-scope")]
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


# -- ex6.4 ----------------------------------------------------------------------------------------------------
_RNN_STEPS, _RNN_FEATURES, _RNN_FILTERS = 10, 5, 32  # document 002: keras.Input(...(10, 5)) → Conv1D(32, 3)
_RNN_OUT_STEPS = _RNN_STEPS - 2  # a width-3 convolution without padding
_RNN_UNITS = (32, 16)  # the documents' units, then units that differ from the 32 features the layer reads
_RNN_BATCHES = (7, 16)
_RNN_LONG, _RNN_BATCH_SIZE = 20, 16  # 20 sequences in batches of 16: a last batch of 4
_NONE_BATCH = ("got None", "None values not supported", "NoneType")


def _rnn_model_text(call: str) -> str:
    return (f"keras.Input(shape=({_RNN_STEPS}, {_RNN_FEATURES})) → Conv1D({_RNN_FILTERS}, 3) → {call}, the "
            f"batch size left open")


def _rnn_build_problem(exc: BaseException, call: str, units: int, earlier: bool) -> str:
    text = str(exc)
    seen = f"(None, {_RNN_OUT_STEPS}, {_RNN_FILTERS})"
    if any(word in text for word in _NONE_BATCH):
        quote = next((line.strip() for line in text.splitlines() if any(w in line for w in _NONE_BATCH)), "")
        quote = quote.replace("\x1b[0m", "").replace("\x1b[1m", "")
        return (f"In the check's model, {_rnn_model_text(call)}, your layer fails while the model is built "
                f"({type(exc).__name__}: {quote[:120]}). While a functional model is built, the batch size is not "
                f"known yet: call() receives a {seen} tensor, so inputs.shape[0] is None, and a first state of "
                f"that many rows cannot be made. Read the batch size from the tensor when the layer runs "
                f"(keras.ops.shape gives it, a number or a tensor, never None), not from its static shape.")
    if earlier:
        return (_told(exc, f"{call}, on the {seen} tensor that units={_RNN_UNITS[0]} handled,")
                + f" The input has {_RNN_FILTERS} features per step, the state {units} numbers per sample: "
                  f"the first state has one row per sample and `units` columns, whatever the input's size.")
    return _told(exc, f"In the check's model, {_rnn_model_text(call)}, calling your layer")


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
        shapes = ", ".join(format_shape(tuple(w.shape)) for w in layer.weights) or "none"
        raise Stop(f"With units={units}, on {_RNN_FILTERS} features per step, your layer's weights are {shapes}. "
                   f"Document 002's CustomRNN has three Dense layers: projection_1 ({_RNN_FILTERS} → {units}), "
                   f"projection_2 ({units} → {units}) and the classifier ({units} → 1). Keep __init__ as it is: "
                   f"the task changes only how the first state is made.", code="rnn-weights")
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
        raise Stop(f"In the check's model, {_rnn_model_text(call)}, your layer's output has shape "
                   f"{format_shape(got)}: its batch axis is {got[0]}, not None. A batch size of {got[0]} is written "
                   f"into the layer, so a batch of any other size fails. The first state needs one row per sample "
                   f"of the batch that arrives: read that number from the tensor when the layer runs.",
                   code="batch-fixed")
    if got != want:
        raise Stop(f"In the check's model, {_rnn_model_text(call)}, your layer gives {format_shape(got)}; document "
                   f"002's CustomRNN gives {format_shape(want)}: one score per time step (its classifier is a "
                   f"Dense(1) on the last axis). Keep call's computation as it is.", code="output-shape")
    model = keras.Model(sequences, out, name="check_rnn_model")
    weights = _rnn_weights(layer, units)
    conv_kernel, conv_bias = (np.asarray(w.numpy(), "float64") for w in conv.weights)
    rng = np.random.default_rng(64 + units)
    for n in _RNN_BATCHES:
        data = rng.random((n, _RNN_STEPS, _RNN_FEATURES)).astype("float32")
        try:
            scores = keras.ops.convert_to_numpy(model(data, training=False))
        except Exception as exc:
            raise Stop(_told(exc, f"The model built, but on a batch of {n} sequences your layer") + " A batch "
                       "size is fixed somewhere in the layer: the first state must have one row per sample of "
                       "the batch that arrives, whatever its size.", code="raised:batch-size") from None
        want_scores = _rnn_reference(_conv1d(data.astype("float64"), conv_kernel, conv_bias), weights)
        if np.shape(scores) != want_scores.shape or not np.allclose(scores, want_scores, atol=1e-4):
            raise Stop(f"On a batch of {n} sequences, {call} gives other scores than document 002's loop computed "
                       f"with your layer's own weights (a first state of zeros; at each step state = "
                       f"projection_1(x_t) + projection_2(state); a sigmoid score per step). Keep call's "
                       f"computation as it is: the task changes only how the first state is made.",
                       code="computes-otherwise")
    if not last_batch:
        return
    data = rng.random((_RNN_LONG, _RNN_STEPS, _RNN_FEATURES)).astype("float32")
    try:
        scores = model.predict(data, batch_size=_RNN_BATCH_SIZE, verbose=0)
    except Exception as exc:
        raise Stop(_told(exc, f"On {_RNN_LONG} sequences in batches of {_RNN_BATCH_SIZE} (a last batch of "
                              f"{_RNN_LONG % _RNN_BATCH_SIZE}), your layer") + " Every batch size must work, the "
                   "last batch's too.", code="raised:last-batch") from None
    if np.shape(scores) != (_RNN_LONG, _RNN_OUT_STEPS, 1):
        raise Stop(f"On {_RNN_LONG} sequences in batches of {_RNN_BATCH_SIZE}, the model returned "
                   f"{np.shape(scores)}, not ({_RNN_LONG}, {_RNN_OUT_STEPS}, 1).", code="forward-shape")


def _judge_any_batch_rnn(answer: Any, ctx: Context) -> list[Problem]:
    cls = _need_layer_class(answer, what="your CustomRNN class (the class itself, not a layer made from it)")
    for index, units in enumerate(_RNN_UNITS):
        _rnn_case(cls, units, earlier=index > 0, last_batch=index == 0)
    name = cls.__name__
    ctx.verified += [
        f"in a functional model, {_rnn_model_text(f'{name}(units=...)')}: output (None, {_RNN_OUT_STEPS}, 1)",
        f"batches of {' and '.join(map(str, _RNN_BATCHES))} sequences with units="
        f"{' and units='.join(map(str, _RNN_UNITS))}, and {_RNN_LONG} sequences through predict in batches of "
        f"{_RNN_BATCH_SIZE} (a last batch of {_RNN_LONG % _RNN_BATCH_SIZE})",
        "its scores equal document 002's loop, computed with the layer's own weights",
    ]
    return []


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
    model, graph = need_functional(answer, ctx, why="The design task puts a layer of your own inside a "
                                                    "functional model.")
    found, problems = match_inputs(graph, {"sequence": _DESIGN_SEQUENCE}, dtypes={"sequence": "float"})
    outputs, more = match_outputs(graph, {"scores": _DESIGN_SCORES})
    problems += more
    if problems:
        return problems
    sequence, scores = found["sequence"], outputs["scores"]
    in_shape = graph.node(sequence).output_shapes[0]
    if in_shape[1] is not None:
        return [Problem(f"Input {sequence!r} has shape {format_shape(in_shape)}: it takes sequences of exactly "
                        f"{in_shape[1]} steps, and a batch of any other length is refused. The task's sequences have "
                        f"any length: leave the number of steps open (None) in keras.Input's shape.", (sequence,),
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
        return [Problem(f"Your model's layers are all library layers ({', '.join(kinds) or 'none'}). The task's "
                        f"core is a layer you write yourself: a class of your own that subclasses "
                        f"keras.layers.Layer, with build and call, used as one of the model's layers (lesson 9 "
                        f"writes one; lesson 10 puts one inside a functional model).", code="no-custom-layer")]
    weighted = [n for n in own if objects[n.layer.uid].count_params() > 0]
    made = [n for n in weighted if len(_library_made(objects[n.layer.uid])[0]) < len(objects[n.layer.uid].weights)]
    if weighted and not made:
        layer = objects[weighted[0].layer.uid]
        return [Problem(f"Your layer {weighted[0].key!r} ({weighted[0].class_name}) has weights, but Keras layers "
                        f"inside it ({', '.join(map(repr, _library_made(layer)[1]))}) make all of them. The task's "
                        f"layer makes weights of its own: add_weight in build(input_shape), as in lesson 9 (layers "
                        f"inside it are fine besides).", (weighted[0].key,), code="custom-layer-library-weights")]
    weighted = made
    if not weighted:
        names = ", ".join(f"{n.key!r} ({n.class_name})" for n in own)
        return [Problem(f"Your own layer {names} has no weights, so it learns nothing: it is a fixed function. "
                        f"The task's custom layer learns: make its weights with add_weight in build(input_shape), "
                        f"where the size of the input is known.", tuple(n.key for n in own),
                        code="custom-layer-no-weights")]
    rng = np.random.default_rng(65)
    for n, steps in _DESIGN_RUNS:
        data = rng.standard_normal((n, steps, _DESIGN_SEQUENCE[-1])).astype("float32")
        try:
            out = model.predict(data, verbose=0)
        except Exception as exc:
            hint = (" The batch size and the number of steps are None while the model is built and change from "
                    "batch to batch: a layer that needs them reads them when it runs (keras.ops.shape), and "
                    "weights can only depend on the last axis (8).")
            raise Stop(_told(exc, f"On a batch of {n} sequences of {steps} steps, your model") + hint,
                       code="raised:forward") from None
        out = np.asarray(out)  # one output: match_outputs refused any other
        if np.shape(out) != (n, _DESIGN_SCORES[-1]):
            raise Stop(f"On a batch of {n} sequences of {steps} steps your model returned {np.shape(out)}, not "
                       f"({n}, {_DESIGN_SCORES[-1]}).", code="forward-shape")
    layer = weighted[0]
    kinds = sorted({n.class_name for n in nodes if n.layer.uid != id(model)})
    ctx.verified += [
        f"input {sequence!r} {format_shape(_DESIGN_SEQUENCE)}: sequences of any length, 8 numbers per step",
        f"output {scores!r} {format_shape(_DESIGN_SCORES)}, computed from the sequence",
        f"your own layer {layer.class_name} ({layer.key!r}), with {objects[layer.layer.uid].count_params():,} "
        f"parameters, a node of the functional graph",
        f"your layers: {', '.join(kinds)}; any layers are fine around yours",
        f"batches of {' and '.join(str(n) for n, _ in _DESIGN_RUNS)} sequences of "
        f"{' and '.join(str(t) for _, t in _DESIGN_RUNS)} steps give one row of {_DESIGN_SCORES[-1]} scores each",
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
    Exercise(
        id="ex6.4", title="Make document 002's CustomRNN accept any batch size", lesson=LESSON_10,
        judge=_judge_any_batch_rnn, answer="your layer class (the class itself: CustomRNN, no parentheses)",
        hints=("Run the cell that builds rnn_model and read the error from the bottom up: what shape does call() "
               "receive while the model is built, and what is inputs.shape[0] then?",
               "Only the line that makes the first state depends on the batch size. inputs.shape is the static "
               "shape, known while the model is built (None for the batch); the batch that arrives at run time "
               "can be read from the tensor itself.",
               "keras.ops.shape(inputs)[0] is the batch size when the layer runs (a number, or a tensor inside a "
               "traced step, never None); lesson 10, 'A custom layer inside a functional model', makes the same "
               "fix. Keep everything else as it is.")),
    Exercise(
        id="ex6.5", title="Design a sequence classifier around a layer of your own", lesson=LESSONS_9_10,
        judge=_judge_design_custom,
        hints=("Start from keras.Input(shape=(None, 8)): None lets the number of steps change from batch to batch. "
               "End with 3 scores per sequence.",
               "Your layer can be simple: for example a dense layer applied to every step (a matmul on the last "
               "axis, the only size known in build), or a weighted sum over the steps. Make its weights in build "
               "from input_shape[-1].",
               "Anything between the input and the scores is fine: your layer, then a pooling over the steps "
               "(GlobalAveragePooling1D) and a Dense(3), for example. Check it on a batch of 5 sequences of 6 "
               "steps with model.predict."),
        outline=(("sequence (None, None, 8)", "your own layer (a keras.layers.Layer subclass with weights)"),
                 ("your own layer (a keras.layers.Layer subclass with weights)", "any layers you choose"),
                 ("any layers you choose", "scores (None, 3)"))),
]
