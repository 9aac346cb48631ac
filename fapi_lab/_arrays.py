"""Model inputs and targets as users pass them, read the way Keras reads them.

:func:`standardize` is the one place fapi_lab reads an ``x``: every ``x`` that ``model(x)`` accepts comes back in
the model's own input structure (``model.input``: a dict with the model's own keys, nested lists, one array), each
array with the rank its ``Input`` declares, ``None`` where an optional input is left out. The model's structure
decides, as in Keras's ``Functional``:

- a dict is read by the model's own keys (keys it does not use are ignored; a missing key leaves an optional input
  out); where the model takes a list of inputs or one input, a dict is read by the ``Input`` names;
- a list or tuple is read by position; one array, or ``[array]``, for a model with one input; a (nested) Python list
  of numbers is one array;
- where the nesting differs, the arrays are paired with the model's inputs in Keras's flatten order (dict keys
  sorted), if their numbers agree, except a list for a dict whose keys are not in sorted order (Keras refuses it);
- each array: the rank differences Keras standardizes (a trailing axis of size 1 too many is dropped, one too few
  is added); the sizes the ``Input`` declares must match; ``None`` only for an optional input.

A refusal says what is wrong where (``x['title']``), and shows the model's real inputs: its keys, its ``Input``
names and shapes, never an internal tensor name. :func:`standardize_targets` does the same for ``y`` against the
model's outputs. :func:`n_samples` and :func:`take` work on any structure of arrays (dicts, lists, tuples, ``None``).
Keras is imported only by :func:`standardize` and :func:`standardize_targets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np

from ._i18n import N_, _, ngettext

__all__ = ["flat_targets", "n_samples", "standardize", "standardize_targets", "take"]

# -- messages ---------------------------------------------------------------------------------------------------
NOT_OPTIONAL = N_("{where} is None, but {what} is not optional.")
MISSING_KEYS = N_("{where} has no {missing} (its keys are {given}).")
DICT_BY_NAME = N_("{where} is a dict with keys {given}, but the model takes {count} here, read by the names {names}.")
LIST_FOR_DICT = N_("{where} is a {kind}, but the model's {things} here are a dict whose keys are not in sorted order, "
                    "so the order of a {kind} is ambiguous: pass a dict.")
ONE_FOR_MANY = N_("{where} is one array, but the model has {count} {things} here.")
MANY_FOR_ONE = N_("{where} is a {kind} of {n} items, but the model takes one array here ({what}).")
COUNT = N_("{where} holds {n} array(s), but the model has {count} {things} here.")
NOT_AN_ARRAY = N_("{where} cannot be read as an array ({problem}).")
TEXT = N_("{where} holds text (dtype {dtype}), but {what} takes {want} numbers.")
RANK = N_("{where} has shape {got}, but {what} takes arrays of shape {shape}.")
SIZE = N_("{where} has shape {got}, but {what} takes arrays of shape {shape}: axis {axis} must be {size}.")
SAMPLES = N_("the arrays of {what} hold different numbers of samples: {counts}. Give every array the same first axis.")
TAKES_X = N_("The model takes x = {picture}{none_note}.")
TAKES_Y = N_("The model's outputs take y = {picture}.")
ANY_SIZE = N_(" (None = any size)")
BY_NAME = N_(", or a dict keyed by the Input names {names}")
NO_TARGET = N_("y has no target for output(s) {missing}, which the loss needs.")
Y_SAMPLES = N_("y has {ny} samples but x has {nx}: give one target per sample.")
NO_SAMPLES = N_("found no array of samples (an array with a first axis) in {what}.")


class _Mismatch(Exception):
    """x does not fit here; the message says what is wrong where."""


@dataclass(frozen=True)
class _Slot:
    """One input (or output) of the model, described for people."""

    tensor_name: str
    name: str  # the Input layer's name (an output: Keras's output name, the layer that produced it)
    shape: tuple[int | None, ...]
    dtype: str
    optional: bool
    is_input: bool = True

    @property
    def what(self) -> str:
        return (_("Input {name!r}") if self.is_input else _("output {name!r}")).format(name=self.name)

    def shape_text(self) -> str:
        dims = ["n", *("None" if d is None else str(d) for d in self.shape[1:])]
        return f"({', '.join(dims)}{',' if len(dims) == 1 else ''})"


# -- structures of arrays (no Keras) ---------------------------------------------------------------------------
def _is_numbers(obj: Any) -> bool:
    """A (nested) list or tuple of plain numbers: one array, written in Python."""
    if isinstance(obj, Number | np.generic) and not isinstance(obj, np.ndarray):
        return True
    return isinstance(obj, list | tuple) and len(obj) > 0 and all(_is_numbers(v) for v in obj)


def _leaves(data: Any) -> list[Any]:
    """The arrays of a structure, in Keras's flatten order (dict keys sorted); ``None`` is skipped."""
    if data is None:
        return []
    if isinstance(data, Mapping):
        return [leaf for key in _sorted_keys(data) for leaf in _leaves(data[key])]
    if isinstance(data, list | tuple) and not _is_numbers(data):
        return [leaf for v in data for leaf in _leaves(v)]
    return [data]


def _sorted_keys(data: Mapping[Any, Any]) -> list[Any]:
    try:
        return sorted(data)
    except TypeError:  # keys of mixed types: Keras sorts them too, but they cannot be compared here
        return list(data)


def n_samples(data: Any) -> int:
    """How many samples: the length of the first array (in any structure: dicts, lists, tuples, ``None``)."""
    for leaf in _leaves(data):
        if np.ndim(leaf) >= 1:
            return len(leaf) if hasattr(leaf, "__len__") else int(np.shape(leaf)[0])
    raise ValueError(_(NO_SAMPLES).format(what=type(data).__name__ if data is not None else "None"))


def take(data: Any, index: Any) -> Any:
    """The same structure with only the samples at ``index`` (an array of indices or a slice); ``None`` stays."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {k: take(v, index) for k, v in data.items()}
    if isinstance(data, list | tuple) and not _is_numbers(data):
        parts = [take(v, index) for v in data]
        return type(data)(*parts) if hasattr(data, "_fields") else type(data)(parts)  # a namedtuple too
    return np.asarray(data)[index]


def _where(path: tuple[Any, ...], root: str = "x") -> str:
    return root + "".join(f"[{p!r}]" for p in path)


def _kind(obj: Any) -> str:
    return type(obj).__name__ if isinstance(obj, list | tuple | Mapping) else "value"


# -- the model's own structure (public Keras API only) -----------------------------------------------------------
def _model_inputs(model: Any) -> tuple[Any, dict[int, _Slot]] | None:
    """``model.input`` (a Sequential's too) and a description of each of its inputs; None without a graph."""
    import keras

    from ._keras_adapter import functional_of

    functional = functional_of(model) if isinstance(model, keras.Model) else None
    if functional is None:
        return None
    struct = functional.input
    layers = {id(layer.output): layer for layer in functional.layers if isinstance(layer, keras.layers.InputLayer)}
    slots = {}
    for t in _tensors(struct):
        layer = layers.get(id(t))
        slots[id(t)] = _Slot(tensor_name=t.name, name=layer.name if layer is not None else t.name,
                             shape=tuple(t.shape), dtype=str(t.dtype),
                             optional=bool(getattr(layer, "optional", False)))
    return struct, slots


def _model_outputs(model: Any) -> tuple[Any, dict[int, _Slot]] | None:
    import keras

    from ._keras_adapter import functional_of

    functional = functional_of(model) if isinstance(model, keras.Model) else None
    if functional is None:
        return None
    struct = functional.output
    tensors = _tensors(struct)
    names = list(getattr(model, "output_names", None) or [])
    names = names if len(names) == len(tensors) else [t.name for t in tensors]
    slots = {id(t): _Slot(tensor_name=t.name, name=n, shape=tuple(t.shape), dtype=str(t.dtype), optional=False,
                          is_input=False) for t, n in zip(tensors, names, strict=True)}
    return struct, slots


def _is_tensor(obj: Any) -> bool:
    return not isinstance(obj, Mapping | list | tuple)


def _tensors(struct: Any) -> list[Any]:
    """The leaves of a model's structure in Keras's flatten order (``model.inputs``)."""
    if isinstance(struct, Mapping):
        return [t for key in _sorted_keys(struct) for t in _tensors(struct[key])]
    if isinstance(struct, list | tuple):
        return [t for v in struct for t in _tensors(v)]
    return [struct]


def _pack(struct: Any, flat: list[Any]) -> Any:
    """``flat`` (in flatten order) in the shape of ``struct``."""
    position = {id(t): i for i, t in enumerate(_tensors(struct))}

    def build(s: Any) -> Any:
        if isinstance(s, Mapping):
            return {k: build(v) for k, v in s.items()}
        if isinstance(s, list | tuple):
            return type(s)(build(v) for v in s)
        return flat[position[id(s)]]

    return build(struct)


def _picture(struct: Any, slots: dict[int, _Slot], key: Any = None) -> str:
    """The structure the model takes, written like Python: ``{'a': <(n, 2) for Input 'in_a'>}``."""
    if isinstance(struct, Mapping):
        return "{" + ", ".join(f"{k!r}: {_picture(v, slots, k)}" for k, v in struct.items()) + "}"
    if isinstance(struct, list | tuple):
        inner = ", ".join(_picture(v, slots) for v in struct)
        return f"[{inner}]" if isinstance(struct, list) else f"({inner}{',' if len(struct) == 1 else ''})"
    slot = slots[id(struct)]
    text = f"<{slot.shape_text()}" + (_(" or None") if slot.optional else "")
    if key != slot.name:
        text += _(" for {what}").format(what=slot.what) if slot.is_input else \
            _(" from layer {name!r}").format(name=slot.name)
    return text + ">"


# -- matching x (or y) to the model's structure -------------------------------------------------------------------
class _Reader:
    """Reads a user's structure against the model's (``model.input`` or ``model.output``)."""

    def __init__(self, struct: Any, slots: dict[int, _Slot], root: str, leaf: Any) -> None:
        self.struct, self.slots, self.root, self.leaf = struct, slots, root, leaf
        self.things = _("inputs") if root == "x" else _("outputs")

    def may_be_none(self, tensor: Any) -> bool:
        """An optional input, or an output (one without a loss needs no target)."""
        return self.root == "y" or self.slots[id(tensor)].optional

    def where(self, path: tuple[Any, ...]) -> str:
        return _where(path, self.root)

    def refusal(self, problem: str) -> ValueError:
        picture = _picture(self.struct, self.slots)
        if self.root == "y":
            return ValueError(_sentences(problem, _(TAKES_Y).format(picture=picture)))
        none_note = _(ANY_SIZE) if any(None in s.shape[1:] for s in self.slots.values()) else ""
        if isinstance(self.struct, list | tuple) and all(_is_tensor(t) for t in self.struct):
            names = ", ".join(repr(self.slots[id(t)].name) for t in self.struct)
            none_note += _(BY_NAME).format(names=names)
        return ValueError(_sentences(problem, _(TAKES_X).format(picture=picture, none_note=none_note)))

    def read(self, given: Any) -> Any:
        try:
            return self.fit(self.struct, given, ())
        except _Mismatch as exc:
            # Keras's last resort: the arrays paired in flatten order (never for a dict it could not read by key)
            struct = self.struct
            if not isinstance(given, Mapping) and not (isinstance(struct, Mapping)
                                                       and list(struct) != _sorted_keys(struct)):
                try:
                    return self.fit_flat(struct, given, ())
                except _Mismatch:
                    pass
            raise self.refusal(str(exc)) from None

    def fit(self, struct: Any, given: Any, where: tuple[Any, ...]) -> Any:
        if _is_tensor(struct):
            return self.fit_one(struct, given, where)
        if isinstance(struct, Mapping):
            if isinstance(given, Mapping):
                return self.fit_dict(struct, given, where)
            if not isinstance(given, list | tuple) or _is_numbers(given):
                raise _Mismatch(_(ONE_FOR_MANY).format(where=self.where(where), count=len(_tensors(struct)),
                                                    things=self.things))
            if list(struct) != _sorted_keys(struct):  # Keras's own rule
                raise _Mismatch(_(LIST_FOR_DICT).format(where=self.where(where), kind=_kind(given), things=self.things))
            return self.fit_flat(struct, given, where)
        items = list(struct)
        if isinstance(given, Mapping):
            picked = self.by_names(items, given, where)
            return type(struct)(None if name is None else self.fit(s, given[name], (*where, name))
                                for s, name in zip(items, picked, strict=True))
        if isinstance(given, list | tuple) and not _is_numbers(given) and len(given) == len(items):
            return type(struct)(self.fit(s, g, (*where, i)) for i, (s, g) in enumerate(zip(items, given,
                                                                                          strict=True)))
        if len(items) == 1:  # one array (or [array]) where the model's one input is in a list
            return type(struct)([self.fit(items[0], given, where)])
        if not isinstance(given, list | tuple) or _is_numbers(given):
            raise _Mismatch(_(ONE_FOR_MANY).format(where=self.where(where), count=len(_tensors(struct)),
                                                things=self.things))
        return self.fit_flat(struct, given, where)

    def fit_dict(self, struct: Mapping[Any, Any], given: Mapping[Any, Any], where: tuple[Any, ...]) -> Any:
        """By the model's own keys; a key missing is found under its Input's (or output's) name, or left out if
        the input is optional."""
        out, missing = {}, []
        for key, sub in struct.items():
            alias = None
            if key not in given and _is_tensor(sub):
                alias = next((n for n in _names_of(self.slots[id(sub)]) if n in given and n not in struct), None)
            if key in given or alias is not None:
                name = key if key in given else alias
                out[key] = self.fit(sub, given[name], (*where, name))
            elif all(self.may_be_none(t) for t in _tensors(sub)):
                out[key] = _pack(sub, [None] * len(_tensors(sub)))
            else:
                missing.append(key)
        if missing:
            said = ngettext("key {keys}", "keys {keys}", len(missing)).format(keys=", ".join(map(repr, missing)))
            raise _Mismatch(_(MISSING_KEYS).format(where=self.where(where), given=list(given), missing=said))
        return out

    def by_names(self, items: list[Any], given: Mapping[Any, Any], where: tuple[Any, ...]) -> list[Any]:
        """A dict where the model takes a list: read by the names of the inputs, as Keras does; the key of each
        item (None for an optional input it leaves out)."""
        if all(_is_tensor(t) for t in items):
            picked = []
            for t in items:
                found = [n for n in _names_of(self.slots[id(t)]) if n in given]
                if not found and not self.may_be_none(t):
                    break
                picked.append(found[0] if found else None)
            else:
                return picked
        names = [self.slots[id(t)].name for t in _tensors(items)]
        raise _Mismatch(_(DICT_BY_NAME).format(where=self.where(where), given=list(given), names=names,
                                            count=_("a list of {n}").format(n=len(names))))

    def fit_one(self, tensor: Any, given: Any, where: tuple[Any, ...]) -> Any:
        slot = self.slots[id(tensor)]
        if given is None:
            if self.may_be_none(tensor):
                return None
            raise _Mismatch(_(NOT_OPTIONAL).format(where=self.where(where), what=slot.what))
        if isinstance(given, Mapping):
            for name in _names_of(slot):
                if name in given:
                    return self.fit_one(tensor, given[name], (*where, name))
            raise _Mismatch(_(DICT_BY_NAME).format(where=self.where(where), given=list(given), names=[slot.name],
                                                count=_("one array")))
        if isinstance(given, list | tuple) and not _is_numbers(given):
            if len(given) == 1:
                return self.fit_one(tensor, given[0], (*where, 0))
            raise _Mismatch(_(MANY_FOR_ONE).format(where=self.where(where), kind=_kind(given), n=len(given),
                                                what=slot.what))
        return self.leaf(slot, given, self.where(where))

    def fit_flat(self, struct: Any, given: Any, where: tuple[Any, ...]) -> Any:
        """Keras's loose form: the arrays paired with the model's in flatten order, if their numbers agree."""
        tensors = _tensors(struct)
        flat = _flat_with_paths(given, where)
        if len(flat) != len(tensors):
            raise _Mismatch(_(COUNT).format(where=self.where(where), n=len(flat), count=len(tensors),
                                         things=self.things))
        return _pack(struct, [self.fit_one(t, g, p) for t, (p, g) in zip(tensors, flat, strict=True)])


def _sentences(problem: str, model_takes: str) -> str:
    """A refusal: what is wrong, then what the model takes."""
    return _("{problem} {model_takes}").format(problem=problem, model_takes=model_takes)


def _names_of(slot: _Slot) -> list[str]:
    return list(dict.fromkeys([slot.tensor_name, slot.name]))


def _flat_with_paths(given: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(given, Mapping):
        return [p for key in _sorted_keys(given) for p in _flat_with_paths(given[key], (*path, key))]
    if isinstance(given, list | tuple) and not _is_numbers(given):
        return [p for i, v in enumerate(given) for p in _flat_with_paths(v, (*path, i))]
    return [(path, given)]


def _rank(leaf: Any) -> int:
    return len(leaf.shape) if hasattr(leaf, "shape") else int(np.ndim(leaf))


def _as_array(value: Any, where: str) -> Any:
    if isinstance(value, np.ndarray):
        return value
    if not (_is_numbers(value) or hasattr(value, "__array__") or isinstance(value, Number | np.generic | str)):
        if hasattr(value, "shape"):  # a sparse or ragged tensor: Keras reads it itself
            return value
        raise _Mismatch(_(NOT_AN_ARRAY).format(where=where, problem=type(value).__name__))
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged Python lists
        raise _Mismatch(_(NOT_AN_ARRAY).format(where=where, problem=str(exc).split("\n")[0])) from None


def _input_array(slot: _Slot, value: Any, where: str) -> Any:
    """One input's array: Keras's rank standardization, then the sizes the Input declares."""
    arr = _as_array(value, where)
    if not isinstance(arr, np.ndarray):
        return arr
    text = arr.dtype.kind in "US" or (arr.dtype.kind == "O" and any(isinstance(v, str | bytes)
                                                                       for v in arr.ravel()[:100]))
    if text and slot.dtype != "string":
        raise _Mismatch(_(TEXT).format(where=where, dtype=arr.dtype, what=slot.what, want=slot.dtype))
    want = slot.shape
    if arr.ndim == len(want) + 1 and arr.shape[-1] == 1:  # Keras drops a trailing axis of size 1
        arr = arr.reshape(arr.shape[:-1])
    elif arr.ndim == len(want) - 1 and want and want[-1] == 1:  # and adds a missing one
        arr = arr.reshape((*arr.shape, 1))
    shape = slot.shape_text()
    if arr.ndim != len(want):
        raise _Mismatch(_(RANK).format(where=where, got=np.shape(value), what=slot.what, shape=shape))
    for axis, (w, g) in enumerate(zip(want[1:], arr.shape[1:], strict=True), start=1):
        if w is not None and w != g:
            raise _Mismatch(_(SIZE).format(where=where, got=np.shape(value), what=slot.what, shape=shape, axis=axis,
                                        size=w))
    return arr


def _target_array(slot: _Slot, value: Any, where: str) -> Any:
    return _as_array(value, where)


def _samples(fitted: Any, root: str) -> int | None:
    """The number of samples the arrays share (None without arrays); a ValueError when they disagree."""
    counts = {_where(path, root): int(leaf.shape[0] if hasattr(leaf, "shape") else np.shape(leaf)[0])
              for path, leaf in _flat_with_paths(fitted) if leaf is not None and _rank(leaf) >= 1}
    if len(set(counts.values())) > 1:
        said = ", ".join(_("{where} has {n}").format(where=k, n=v) for k, v in counts.items())
        raise ValueError(_(SAMPLES).format(what=root, counts=said))
    return next(iter(counts.values()), None)


def standardize(model: Any, x: Any) -> Any:
    """``x`` in the model's own input structure, read as Keras reads it (see the module's docstring), or a
    ``ValueError`` that says what does not fit and shows the inputs the model takes. A model without a graph
    (subclassed) gets ``x`` back unchanged: only Keras can say what it takes."""
    found = _model_inputs(model)
    if found is None:
        return x
    fitted = _Reader(*found, root="x", leaf=_input_array).read(x)
    _samples(fitted, "x")
    return fitted


def standardize_targets(model: Any, y: Any, x: Any = None, *, losses: Any = None) -> Any:
    """``y`` in the model's own output structure (a dict keyed like the model's outputs, a list, one array).

    A dict may use the model's output keys or Keras's output names (``model.output_names``: the layers' names);
    a list follows the outputs' order (``model.outputs``). ``losses`` is the loss as given to ``compile`` (one
    for all, a list, or a dict): an output it gives no loss may go without a target (``None``); with the default,
    every output needs one. With ``x``, the numbers of samples must agree."""
    found = _model_outputs(model)
    if found is None:
        return y
    reader = _Reader(*found, root="y", leaf=_target_array)
    fitted = reader.read(y)
    struct, slots = found
    tensors = _tensors(struct)
    flat = _leaves_with_none(fitted, struct)
    keys = [k for k in _sorted_keys(struct) for _t in _tensors(struct[k])] if isinstance(struct, Mapping) else []
    missing = []
    for i, (t, value) in enumerate(zip(tensors, flat, strict=True)):
        name = slots[id(t)].name
        if isinstance(losses, Mapping):
            needed = (losses.get(keys[i]) if keys and keys[i] in losses else losses.get(name)) is not None
        elif isinstance(losses, list | tuple) and len(losses) == len(tensors):
            needed = losses[i] is not None
        else:
            needed = True
        if needed and value is None:
            missing.append(repr(keys[i]) if keys and keys[i] != name else repr(name))
    if missing:
        raise reader.refusal(_(NO_TARGET).format(missing=", ".join(missing)))
    ny = _samples(fitted, "y")
    nx = _samples(x, "x") if x is not None else None
    if nx is not None and ny is not None and nx != ny:
        raise ValueError(_(Y_SAMPLES).format(nx=nx, ny=ny))
    return fitted


def _leaves_with_none(fitted: Any, struct: Any) -> list[Any]:
    """The values of a structure fitted to ``struct``, in flatten order, ``None`` included."""
    if isinstance(struct, Mapping):
        return [v for k in _sorted_keys(struct) for v in _leaves_with_none(fitted[k], struct[k])]
    if isinstance(struct, list | tuple):
        return [v for f, s in zip(fitted, struct, strict=True) for v in _leaves_with_none(f, s)]
    return [fitted]


def flat_targets(model: Any, y: Any) -> list[Any]:
    """Targets fitted by :func:`standardize_targets`, one per output in ``model.outputs`` order (``None`` where an
    output has none)."""
    found = _model_outputs(model)
    return [y] if found is None else _leaves_with_none(y, found[0])
