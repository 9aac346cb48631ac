"""Helpers of the ex6 judges: taking the student's layer class, making layers, reading their weights."""

from __future__ import annotations

from typing import Any

from .._exercises import Stop, explain_raised
from .._i18n import _
from .._judges import _describe
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


def _need_layer_class(answer: Any, *, what: str) -> type:
    """The answer as a subclass of ``keras.layers.Layer``, or :class:`Stop` saying what was passed instead."""
    import keras

    if isinstance(answer, keras.layers.Layer):
        cls = type(answer).__name__
        raise Stop(_("This is a layer made from your class ({cls} {name!r}); the check needs the class itself, to "
                     "make its own layers from it: pass {cls}, without parentheses.").format(cls=cls, name=answer.name),
                   code="wrong-kind:instance")
    if not isinstance(answer, type):
        raise Stop(_("The check needs {what}; you passed {passed}. Pass the class itself, e.g. "
                     "lab.check(..., YourLayer).").format(what=_(what), passed=_describe(answer)), code="wrong-kind")
    if not issubclass(answer, keras.layers.Layer):
        raise Stop(_("{cls} is a class, but not a Keras layer: the task's class subclasses keras.layers.Layer (class "
                     "{cls}(layers.Layer): ...).").format(cls=answer.__name__), code="wrong-kind:not-a-layer")
    library = _library_base(answer)
    if library is answer:
        if library.__module__.startswith("keras"):
            text = _("{cls} is Keras's own layer class, not one you wrote.")
        else:
            text = _("{cls} is fapi_lab's own layer class, not one you wrote.")
        raise Stop(text.format(cls=answer.__name__) + " " + _(
            "It may compute the right numbers, but the task is to write this layer yourself: a class of your own "
            "that subclasses keras.layers.Layer, with the task's build and call."), code="wrong-kind:library-layer")
    if library is not None:
        owner = "fapi_lab" if library.__module__.startswith("fapi_lab") else "Keras"
        raise Stop(_("{cls} subclasses {base}, a layer {owner} already has: its build and call do the work, so the "
                     "class you pass adds nothing of yours. The task is to write this layer yourself: subclass "
                     "keras.layers.Layer itself, and write the task's build and call.").format(
                         cls=answer.__name__, base=library.__name__, owner=owner), code="wrong-kind:library-subclass")
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
    return where + " " + _("{cls}.__init__ does not accept name= (nor trainable= or dtype=, which Keras passes back "
                           "to the constructor when it rebuilds a layer): add **kwargs to __init__ and pass them on "
                           "to super().__init__.").format(cls=cls.__name__)


def _make_layer(cls: type, call: str, **arguments: Any) -> Any:
    """``cls(**arguments)``; a constructor that does not take them becomes a :class:`Stop` that says why."""
    try:
        return cls(**arguments)
    except TypeError as exc:
        text = str(exc)
        if any(f"'{arg}'" in text for arg in _BASE_ARGS):
            raise Stop(_kwargs_message(cls, _("The check made a layer as {call}, but").format(call=call)),
                       code="raised:constructor-kwargs") from None
        raise Stop(_raised(exc, _("Making a layer as {call}").format(call=call)) + " "
                   + _("The task's constructor takes the arguments of that call."), code="raised:constructor") from None
    except Exception as exc:
        raise Stop(_raised(exc, _("Making a layer as {call}").format(call=call)), code="raised:constructor") from None


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
