"""Formulas for recurrent, shape-keeping, normalization, merge, attention and wrapper layers (see ``_formulas``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ._formulas import Formula, _dims, _formula, _in, _n
from ._i18n import _
from ._layergraph import Node, Shape
from ._render_dot import format_shape

__all__ = ["OP_FORMULAS", "broadcast_ops"]


# -- recurrent -----------------------------------------------------------------------------------------------------
_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def _recurrent_params(cls: str, cfg: dict[str, Any], feat: int) -> tuple[int, str]:
    units, gates = cfg["units"], _GATES[cls]
    bias = cfg.get("use_bias", True)
    reset_after = cls == "GRU" and cfg.get("reset_after", True) and bias
    per_gate_bias = (2 * units if reset_after else units) if bias else 0
    total = gates * (units * (feat + units) + per_gate_bias)
    bias_text = ("" if not bias else f"+2·{units}" if reset_after else f"+{units}")
    inner = f"{units}·({feat}+{units}){bias_text}"
    return total, (f"{gates}·({inner}) = {total:,}" if gates > 1 else f"{inner} = {total:,}")


@_formula("LSTM", "GRU", "SimpleRNN")
def _recurrent(node: Node, cfg: dict[str, Any]) -> Formula | None:
    if cfg.get("return_state") or len(node.output_shapes) != 1:
        return None
    shape, units = _in(node), cfg["units"]
    if len(shape) != 3:
        return None
    seq = cfg.get("return_sequences", False)
    out = (shape[0], shape[1], units) if seq else (shape[0], units)
    if seq:
        text = _("{layer}({units}) over {input} returns the whole sequence: one {units}-vector per step → {output}")
    else:
        text = _("{layer}({units}) over {input} returns the last state only: ({units},)")
    text = text.format(layer=node.class_name, units=units, input=_dims(shape), output=format_shape(out))
    if shape[-1] is None:
        return Formula(text, out, "", None)
    total, params = _recurrent_params(node.class_name, cfg, shape[-1])
    return Formula(text, out, params, total)


@_formula("Bidirectional")
def _bidirectional(node: Node, cfg: dict[str, Any]) -> Formula | None:
    forward = cfg.get("layer", {})
    backward = cfg.get("backward_layer") or forward
    cls, icfg = forward.get("class_name"), forward.get("config", {})
    shape = _in(node)
    if cls not in _GATES or backward.get("class_name") != cls or icfg.get("return_state") or len(shape) != 3 \
            or len(node.output_shapes) != 1 or backward.get("config", {}).get("units") != icfg.get("units"):
        return None
    units, mode = icfg["units"], cfg.get("merge_mode", "concat")
    if mode not in ("concat", "sum", "mul", "ave"):
        return None
    width = 2 * units if mode == "concat" else units
    out = (shape[0], shape[1], width) if icfg.get("return_sequences") else (shape[0], width)
    text = _("Bidirectional({layer}({units})) reads the sequence both ways and merges them ({mode}): {input} → "
             "{output}").format(layer=cls, units=units, mode=mode, input=_dims(shape), output=_dims(out))
    if shape[-1] is None:
        return Formula(text, out, "", None)
    ahead, ahead_text = _recurrent_params(cls, icfg, shape[-1])
    back, back_text = _recurrent_params(cls, backward.get("config", {}), shape[-1])
    if ahead_text == back_text:
        return Formula(text, out, f"2·[{ahead_text}] = {2 * ahead:,}", 2 * ahead)
    return Formula(text, out, f"[{ahead_text}] + [{back_text}] = {ahead + back:,}", ahead + back)


# -- shape-keeping layers -------------------------------------------------------------------------------------------
@_formula("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
          "AlphaDropout", "Activation", "ReLU", "LeakyReLU", "Softmax", "ELU", "UnitNormalization", "Identity",
          "Rescaling", "ActivityRegularization", "Masking")
def _same_shape(node: Node, cfg: dict[str, Any]) -> Formula:
    shape = _in(node)
    if node.class_name.endswith("Dropout"):
        text = _("{layer} drops a random {rate:g} of the values while training only; the shape is unchanged: "
                 "{shape}")
    elif node.class_name == "Rescaling":
        text = _("{layer} computes x·{scale} + {offset} value by value; the shape is unchanged: {shape}")
    else:
        text = _("{layer} works value by value; the shape is unchanged: {shape}")
    return Formula(text.format(layer=node.class_name, rate=cfg.get("rate", 0), scale=cfg.get("scale"),
                               offset=cfg.get("offset", 0), shape=_dims(shape)), shape)


def _axis_sizes(shape: Shape, axis: Any) -> list[int | None]:
    axes = axis if isinstance(axis, list | tuple) else [axis]
    return [shape[a] for a in axes]


@_formula("BatchNormalization", "LayerNormalization", "GroupNormalization")
def _normalization(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    sizes = _axis_sizes(shape, cfg.get("axis", -1))
    if None in sizes:
        return Formula(_("{layer} rescales the values; the shape is unchanged: {shape}").format(
            layer=node.class_name, shape=_dims(shape)), shape, "", None)
    c = math.prod(sizes)  # type: ignore[arg-type]
    learned = [name for name, on in (("γ", cfg.get("scale", True)), ("β", cfg.get("center", True))) if on]
    total = len(learned) * c
    parts = [f"{len(learned)}·{c:,}"] if learned else []
    if node.class_name == "BatchNormalization":
        total += 2 * c
        parts.append(f"2·{c:,}")
        what = _("{names} trainable; moving mean and variance not") if learned else \
            _("nothing learned; moving mean and variance not")
    else:
        what = _("{names} trainable") if learned else _("nothing learned")
    what = what.format(names=", ".join(learned))
    params = f"{' + '.join(parts)} = {total:,} ({what})" if parts else "0"
    text = {"BatchNormalization": _("{layer} rescales each channel over the batch; the shape is unchanged: {shape}"),
            "LayerNormalization": _("{layer} rescales each sample over its features; the shape is unchanged: "
                                    "{shape}"),
            "GroupNormalization": _("{layer} rescales each sample within {groups} channel groups; the shape is "
                                    "unchanged: {shape}")}[node.class_name]
    return Formula(text.format(layer=node.class_name, groups=cfg.get("groups"), shape=_dims(shape)), shape, params,
                   total)


@_formula("PReLU")
def _prelu(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    sizes = list(shape[1:])
    for axis in cfg.get("shared_axes") or []:
        sizes[axis - 1] = 1
    if None in sizes:
        return None
    total = math.prod(sizes)  # type: ignore[arg-type]
    shared = cfg.get("shared_axes")
    text = _("PReLU learns one slope per value (shared along {axes} axes); the shape is unchanged: {shape}") if shared \
        else _("PReLU learns one slope per value (shared along no axes); the shape is unchanged: {shape}")
    return Formula(text.format(axes=shared, shape=_dims(shape)), shape, f"{'·'.join(map(str, sizes))} = {total:,}",
                   total)


@_formula("Normalization")
def _normalization_layer(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    if cfg.get("mean") is not None:
        return Formula(_("Normalization subtracts a fixed mean and divides by a fixed standard deviation (given when "
                         "the layer was made); the shape is unchanged: {shape}").format(shape=_dims(shape)), shape, "",
                       0)
    sizes = _axis_sizes(shape, cfg.get("axis", -1)) if cfg.get("axis", -1) is not None else []
    if None in sizes:
        return None
    c = math.prod(sizes)  # type: ignore[arg-type]
    total = 2 * c + 1
    return Formula(_("Normalization subtracts a mean and divides by a standard deviation learned by adapt(); the "
                     "shape is unchanged: {shape}").format(shape=_dims(shape)), shape,
                   _("2·{c:,} + 1 = {total:,} (mean, variance and a sample count, none trainable)").format(
                       c=c, total=total), total)


# -- merges -------------------------------------------------------------------------------------------------------
def _broadcast(shapes: Sequence[Shape]) -> Shape | None:
    if len({len(s) for s in shapes}) != 1:
        return None
    out: list[int | None] = []
    for sizes in zip(*shapes, strict=True):
        known = {s for s in sizes if s is not None}
        if len(known - {1}) > 1:
            return None
        if None in sizes and (known - {1}):
            out.append(next(iter(known - {1})))
        elif None in sizes:
            out.append(None)
        else:
            out.append(max(known))
    return tuple(out)


def broadcast_ops(shapes: Sequence[Shape]) -> Shape | None:
    """NumPy's rule for keras.ops arithmetic: align the shapes from the right; sizes must be equal or 1."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return _broadcast(padded)


@_formula("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def _elementwise(node: Node, cfg: dict[str, Any]) -> Formula | None:
    out = _broadcast(node.input_shapes)
    if out is None:
        return None
    shapes = _(" and ").join(format_shape(s) for s in node.input_shapes)
    if len(set(node.input_shapes)) == 1:
        text = _("{layer} combines its inputs value by value, so it needs equal shapes: {shapes} → {output}")
    else:
        text = _("{layer} combines its inputs value by value; a size of 1 is stretched to match (broadcasting): "
                 "{shapes} → {output}")
    return Formula(text.format(layer=node.class_name, shapes=shapes, output=format_shape(out)), out)


@_formula("Concatenate")
def _concatenate(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shapes = node.input_shapes
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        return None
    axis = cfg.get("axis", -1)
    index = axis % rank
    parts = [s[index] for s in shapes]
    others = {tuple(d for i, d in enumerate(s) if i != index) for s in shapes}
    if len(others) != 1:
        return None
    total = None if None in parts else sum(parts)  # type: ignore[arg-type]
    sums = " + ".join(_n(p) for p in parts) + ("" if total is None else f" = {total}")
    out = list(shapes[0])
    out[index] = total
    axis_text = _("−1 (the last)") if axis == -1 else str(axis)
    return Formula(_("Concatenate on axis {axis} adds those sizes: {sums}; every other axis must match").format(
        axis=axis_text, sums=sums), tuple(out))


@_formula("Dot")
def _dot(node: Node, cfg: dict[str, Any]) -> Formula | None:
    a, b = node.input_shapes[0], node.input_shapes[1]
    if len(a) != 2 or len(b) != 2:
        return None
    axes = cfg.get("axes")
    axes = [axes, axes] if isinstance(axes, int) else list(axes)
    if [x % 2 for x in axes] != [1, 1] or a[1] != b[1]:
        return None
    if cfg.get("normalize"):
        text = _("Dot product of the L2-normalised inputs (cosine similarity): each sample's two {n}-vectors "
                 "multiply value by value and sum to one number → {output}")
    else:
        text = _("Dot product: each sample's two {n}-vectors multiply value by value and sum to one number → "
                 "{output}")
    return Formula(text.format(n=_n(a[1]), output=format_shape((a[0], 1))), (a[0], 1))


# -- attention and wrappers ------------------------------------------------------------------------------------
@_formula("MultiHeadAttention")
def _attention(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shapes = node.input_shapes
    q = shapes[0]
    v = shapes[1] if len(shapes) > 1 else q
    k = shapes[2] if len(shapes) > 2 else v
    axes = cfg.get("attention_axes")
    if (axes is not None and list(axes) != list(range(1, len(q) - 1))) or cfg.get("output_shape") is not None \
            or len(node.output_shapes) != 1 or cfg.get("use_gate"):
        return None
    heads, kd = cfg["num_heads"], cfg["key_dim"]
    vd = cfg.get("value_dim") or kd
    dq, dk, dv = q[-1], k[-1], v[-1]
    if None in (dq, dk, dv):
        return None
    bias = cfg.get("use_bias", True)
    hk, hv = heads * kd, heads * vd
    total = dq * hk + dk * hk + dv * hv + hv * dq + ((2 * hk + hv + dq) if bias else 0)
    b = (lambda n: f" + {n}") if bias else (lambda n: "")
    params = _("query {query}, key {key}, value {value}, output {output} = {total:,}").format(
        query=f"{dq}·{heads}·{kd}{b(hk)}", key=f"{dk}·{heads}·{kd}{b(hk)}", value=f"{dv}·{heads}·{vd}{b(hv)}",
        output=f"{heads}·{vd}·{dq}{b(dq)}", total=total)
    return Formula(_("MultiHeadAttention({heads} heads of size {size}): every query position mixes the values, "
                     "weighted by how well its query matches each key; the output has the query's shape "
                     "{shape}").format(heads=heads, size=kd, shape=format_shape(q)), q, params, total)


@_formula("TimeDistributed")
def _time_distributed(node: Node, cfg: dict[str, Any]) -> Formula:
    shape, out = _in(node), node.output_shapes[0]
    return Formula(_("TimeDistributed maps its inner layer over the time axis: each of the {n} steps {input} → "
                     "{output}").format(n=_n(shape[1]), input=format_shape((shape[0], *shape[2:])),
                                        output=format_shape((out[0], *out[2:]))), None, "", None)


# -- keras.ops calls (x + y, keras.ops.multiply(…)): their own formulas, never a layer's -------------------------
OP_FORMULAS: dict[str, Callable[[Node], Formula | None]] = {}


def _arithmetic_op(node: Node) -> Formula | None:
    if len(node.input_shapes) < 2:
        return None
    out = broadcast_ops(node.input_shapes)
    if out is None:
        return None
    shapes = _(" and ").join(format_shape(s) for s in node.input_shapes)
    if len(set(node.input_shapes)) == 1:
        text = _("keras.ops {op} works value by value: {shapes} → {output}")
    else:
        text = _("keras.ops {op} works value by value; shapes are aligned from the right and a size of 1 is "
                 "stretched: {shapes} → {output}")
    return Formula(text.format(op=node.class_name.lower(), shapes=shapes, output=format_shape(out)), out)


for _name in ("Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum", "Power"):
    OP_FORMULAS[_name] = _arithmetic_op
