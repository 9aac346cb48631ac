"""Helpers of the ex6 judges: taking the student's layer class, making layers, reading their weights."""

from __future__ import annotations

from typing import Any

from .._exercises import Stop, explain_raised
from .._render_dot import format_shape

__all__ = [
    "_BASE_ARGS",
    "_describe",
    "_is_mirrored",
    "_kwargs_message",
    "_library_base",
    "_library_made",
    "_make_layer",
    "_need_layer_class",
    "_raised",
    "_shapes",
    "_told",
]


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
