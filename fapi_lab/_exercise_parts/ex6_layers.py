"""The judges of ex6.1 (a serializable custom layer) and ex6.2 (a layer that fits any input size)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._exercises import Context, Problem, Stop, run_forward
from .._i18n import N_, _
from .._render_dot import format_shape
from .ex6_common import (
    _BASE_ARGS,
    _describe,
    _kwargs_message,
    _library_made,
    _make_layer,
    _need_layer_class,
    _raised,
    _shapes,
)

__all__ = [
    "_judge_any_size",
    "_judge_serializable",
]


# -- ex6.1 ----------------------------------------------------------------------------------------------------
_CHECK_NAME = "check_dense"
_LAYER_CLASS = N_("a custom layer class (the class itself, not a layer made from it)")
_UNITS_61 = 3


def _not_registered(cls: type) -> Problem:
    return Problem(
        _("{cls} is not registered, so keras.saving.load_model cannot find the class when it reads the file: it "
          "fails with \"Could not locate class {cls!r}\". A .keras file names each layer's class; load_model finds "
          "Keras's own classes and the classes registered under a name, nothing else. Register yours with the "
          "decorator @keras.saving.register_keras_serializable(...) on the class (lesson 9), so that it loads "
          "without custom_objects.").format(cls=cls.__name__), code="not-registered")


_REBUILDING = N_("Rebuilding the layer from its config ({name}.from_config)")


def _config_problems(cls: type, layer: Any, model: Any, x: np.ndarray, want: np.ndarray) -> list[Problem]:
    """What goes wrong when the layer is rebuilt from its config (no file involved)."""
    import keras

    name = cls.__name__
    try:
        config = layer.get_config()
    except NotImplementedError as exc:
        if cls.get_config is keras.layers.Layer.get_config:
            return [Problem(
                _("{name} has no get_config, so Keras tries to write its config by itself, which it can do only when "
                  "every constructor argument is a plain value (a number, a string, True/False, None). The check "
                  "made the layer with activation=keras.activations.relu, a function, so saving a model that uses it "
                  "fails (NotImplementedError: the layer \"must override get_config()\"). Write get_config: the "
                  "base layer's config plus your constructor's arguments, units and the activation (saved as its "
                  "name).").format(name=name), code="no-get-config")]
        return [Problem(_raised(exc, f"{name}.get_config()"), code="raised:get-config")]
    except Exception as exc:
        return [Problem(_raised(exc, f"{name}.get_config()"), code="raised:get-config")]
    if not isinstance(config, dict):
        return [Problem(_("{name}.get_config() returned {got}; it must return a dict of the constructor's "
                          "arguments.").format(name=name, got=_describe(config)), code="get-config-not-a-dict")]
    if "name" not in config:
        keys = ", ".join(repr(k) for k in config) or _("nothing")
        return [Problem(
            _("{name}.get_config() returns only {keys}: it leaves out the base layer's config (name, trainable, "
              "dtype). A saved model finds its layers by their names, so loading it fails (\"No such layer: "
              "{check}\") and the layer's name is lost. Start from super().get_config() and add your arguments to "
              "it.").format(name=name, keys=keys, check=_CHECK_NAME), code="get-config-no-base")]
    try:
        rebuilt = cls.from_config(dict(config))
    except TypeError as exc:
        if any(f"'{arg}'" in str(exc) for arg in _BASE_ARGS):
            return [Problem(_kwargs_message(cls, _("Rebuilding the layer from its config failed:")),
                            code="raised:from-config-kwargs")]
        return [Problem(_raised(exc, _(_REBUILDING).format(name=name)) + " "
                        + _("get_config must return the constructor's arguments, under the constructor's names."),
                        code="raised:from-config")]
    except Exception as exc:
        return [Problem(_raised(exc, _(_REBUILDING).format(name=name)), code="raised:from-config")]
    inputs = keras.Input(shape=(x.shape[1],), name="features")
    try:
        twin = keras.Model(inputs, rebuilt(inputs), name="rebuilt_model")
    except Exception as exc:
        return [Problem(_raised(exc, _("Calling the layer rebuilt from its config")), code="raised:rebuilt-call")]
    units = twin.outputs[0].shape[-1]
    if units != _UNITS_61:
        return [Problem(
            _("Rebuilt from its config, the layer has {units} units instead of {want}: get_config does not return "
              "units, so __init__ falls back to its default and the saved weights no longer fit. Put units in the "
              "config.").format(units=units, want=_UNITS_61), code="config-units-lost")]
    twin.set_weights(model.get_weights())
    if not np.allclose(run_forward(twin, x, what=_("The rebuilt layer")), want, atol=1e-5):
        return [Problem(
            _("Rebuilt from its config, with the same weights, your layer computes something else: the activation "
              "did not survive (relu became linear). Put the activation in the config too, as its name."),
                        code="config-activation-lost")]
    return []


def _judge_serializable(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    cls = _need_layer_class(answer, what=_(_LAYER_CLASS))
    call = f"{cls.__name__}(units={_UNITS_61}, activation=keras.activations.relu, name={_CHECK_NAME!r})"
    layer = _make_layer(cls, call, units=_UNITS_61, activation=keras.activations.relu, name=_CHECK_NAME)
    inputs = keras.Input(shape=(4,), name="features")
    try:
        model = keras.Model(inputs, layer(inputs), name="check_model")
    except Exception as exc:
        raise Stop(_raised(exc, _("Calling {call} on a (None, 4) input").format(call=call)),
                   code="raised:call") from None
    x = np.random.default_rng(61).normal(size=(6, 4)).astype("float32")
    want = run_forward(model, x, what=f"{call}")
    if np.shape(want) != (6, _UNITS_61):
        raise Stop(_("On 6 samples of 4 features, {call} gives shape {got}; a layer with {units} units gives (6, "
                     "{units}). Keep the layer's computation as it is.").format(call=call, got=np.shape(want),
                                                                                units=_UNITS_61),
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
            raise Stop(_raised(exc, _("Saving a model that uses your layer")), code="raised:save") from None
        try:
            loaded = keras.saving.load_model(path)
        except Exception as exc:
            if "Could not locate class" in str(exc):
                raise Stop(_not_registered(cls), code="not-registered") from None
            raise Stop(_raised(exc, _("Loading the saved model (keras.saving.load_model, no custom_objects)")),
                       code="raised:load") from None
    try:
        loaded_layer = loaded.get_layer(_CHECK_NAME)
    except ValueError:
        raise Stop(_("The loaded model has no layer called {name!r}: the name did not survive. Start get_config "
                     "from super().get_config().").format(name=_CHECK_NAME), code="name-lost") from None
    if type(loaded_layer) is not cls:
        raise Stop(_("The loaded layer is a {got}, not your {cls}: two classes are registered under the name "
                     "{registered!r}. Run the cell that defines your class again.").format(
                         got=type(loaded_layer).__name__, cls=cls.__name__, registered=registered),
                   code="class-name-clash")
    if not np.allclose(run_forward(loaded, x, what=_("The loaded model")), want, atol=1e-5):
        raise Stop(_("Loaded back from the .keras file, the model computes something else than before saving: "
                     "check that get_config returns every constructor argument."), code="computes-otherwise")
    ctx.verified += [
        _("a layer made as {call} gives (None, {units}) on (None, 4) inputs").format(call=call, units=_UNITS_61),
        _("get_config keeps the name, the units and the activation: from_config rebuilds a layer that computes "
          "the same"),
        _("registered as {registered!r}: keras.saving.load_model finds the class without custom_objects").format(
            registered=registered),
        _("a model that uses it, saved to a .keras file and loaded back, gives the same outputs"),
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
                _("On {shape} inputs, {call} fails ({error}): its weights {weights} already exist when the layer is "
                  "made, before it has seen any input, so they fit one input size only. Make them in "
                  "build(input_shape), which Keras calls once with the shape of the first input.").format(
                      shape=format_shape(shape), call=call, error=type(exc).__name__,
                      weights=", ".join(format_shape(s) for s in made_early)), code="raised:weights-in-init") from None
        raise Stop(_raised(exc, _("Calling {call} on a {shape} input").format(call=call, shape=format_shape(shape)))
                   + " " + _("The input size is input_shape[-1], the last axis, whatever the rank; input_shape[0] is "
                             "the batch size (None while a model is being built)."), code="raised:call") from None
    want = (*shape[:-1], _UNITS_62)
    if tuple(outputs.shape) != want:
        raise Stop(_("On {shape} inputs, {call} gives {got}; the task needs {want}: like Dense, it replaces the last "
                     "axis by the units and keeps the others.").format(
                         shape=format_shape(shape), call=call, got=format_shape(tuple(outputs.shape)),
                         want=format_shape(want)), code="output-shape")
    return layer, keras.Model(inputs, outputs, name=f"check_model_{index}")


def _judge_any_size(answer: Any, ctx: Context) -> list[Problem]:
    cls = _need_layer_class(answer, what=_(_LAYER_CLASS))
    name = cls.__name__
    rng = np.random.default_rng(62)
    counts = []
    for index, shape in enumerate(_SIZES_62):
        layer, model = _call_on(cls, shape, index)
        borrowed, makers = _library_made(layer)
        if borrowed and len(borrowed) == len(layer.weights):
            raise Stop(_("{name}'s weights are made by {makers} inside it, a layer Keras already has, not by your "
                         "build: Keras's layer does the task's work. The task is to make the kernel and the bias "
                         "yourself, with add_weight in build, from input_shape.").format(
                             name=name, makers=", ".join(map(repr, makers))),
                       code="library-weights")
        size = shape[-1]
        assert size is not None
        expected = size * _UNITS_62 + _UNITS_62
        got = layer.count_params()
        kernel = [w for w in layer.weights if tuple(w.shape) == (size, _UNITS_62)]
        bias = [w for w in layer.weights if tuple(w.shape) == (_UNITS_62,)]
        if not kernel:
            raise Stop(_("On {shape} inputs your layer made the weights {weights}; a dense layer with {units} units "
                         "on {size} input features needs a ({size}, {units}) kernel. Its first axis is the size of "
                         "the input's LAST axis, input_shape[-1], whatever the rank (on sequences, input_shape[1] is "
                         "the number of time steps).").format(
                             shape=format_shape(shape), weights=_shapes(layer.weights), units=_UNITS_62, size=size),
                       code="weight-shapes")
        if not bias and got == size * _UNITS_62:
            raise Stop(_("On {shape} inputs your layer has {got} parameters, the {size}×{units} kernel only: the bias "
                         "is missing. A dense layer with {units} units also learns one bias per unit ({expected} "
                         "parameters in all), added after the product.").format(
                             shape=format_shape(shape), got=got, size=size, units=_UNITS_62, expected=expected),
                       code="bias-missing")
        if got != expected or len(kernel) != 1 or len(bias) != 1:
            raise Stop(_("On {shape} inputs your layer has {got} parameters (weights {weights}); a dense layer with "
                         "{units} units has a {size}×{units} kernel and {units} biases: {expected}.").format(
                             shape=format_shape(shape), got=got, weights=_shapes(layer.weights), units=_UNITS_62,
                             size=size, expected=expected), code="param-count")
        counts.append(got)
        for w in layer.weights:
            w.assign(rng.normal(size=tuple(w.shape)).astype("float32"))
        x = rng.normal(size=(5, *shape[1:])).astype("float32")
        want = x @ np.asarray(kernel[0].numpy()) + np.asarray(bias[0].numpy())
        got_y = run_forward(model, x, what=_("{name}(units={units}) on {shape} inputs").format(
            name=name, units=_UNITS_62, shape=format_shape(shape)))
        if not np.allclose(got_y, want, atol=1e-4):
            raise Stop(_("With its own weights, your layer's output on {shape} inputs is not inputs × kernel + bias: "
                         "the task's layer is linear (no activation) and adds the bias.").format(
                             shape=format_shape(shape)), code="computes-otherwise")
    ctx.verified += [
        _("{name}(units={units}) works on {shapes} inputs: no size is fixed before the layer sees its input").format(
            name=name, units=_UNITS_62, shapes=", ".join(format_shape(s) for s in _SIZES_62)),
        _("a kernel and a bias each time: {counts} and {last} parameters").format(
            counts=", ".join(map(str, counts[:-1])), last=counts[-1]),
        _("outputs equal inputs × kernel + bias, computed with the layer's own weights"),
    ]
    return []
