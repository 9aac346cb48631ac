"""Shape and parameter formulas, one small pure function per layer type, written with the real numbers.

A formula reads a layer call of the plain graph (its input shapes and its layer's config) and returns the
arithmetic as text, the output shape it predicts and the parameter count it predicts, or ``None`` when the
configuration is one it does not understand. It never guesses: settings a formula was not written for make it
return ``None`` ("no formula is known"), and ``lab.shapes`` also drops a formula whose shape or count differs
from what Keras computed (``_shapes.checked_formula``). Formulas apply to layers only, never to a ``keras.ops``
call that happens to share a class name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._i18n import _
from ._layergraph import Node, Shape
from ._render_dot import format_shape

__all__ = ["FORMULAS", "Formula", "raw_formula"]


@dataclass(frozen=True)
class Formula:
    """What a formula says: the arithmetic, the output shape(s) and the parameter count it predicts."""

    text: str
    shape: Shape | None = None  # None: the formula explains, Keras's shape is shown as is
    params_text: str = ""
    params: int | None = 0  # None: the formula does not count parameters


FormulaFn = Callable[[Node, dict[str, Any]], Formula | None]
FORMULAS: dict[str, FormulaFn] = {}


def _formula(*class_names: str) -> Callable[[FormulaFn], FormulaFn]:
    def register(fn: FormulaFn) -> FormulaFn:
        for name in class_names:
            FORMULAS[name] = fn
        return fn
    return register


def raw_formula(node: Node) -> Formula | None:
    """The formula's own answer for a layer call, unchecked; ``None`` when no formula knows this call."""
    if node.kind == "op":
        op = _formulas_more.OP_FORMULAS.get(node.class_name)
        return op(node) if op else None
    if node.kind not in ("layer", "input"):
        return None
    fn = FORMULAS.get(node.class_name)
    if fn is None or (not node.input_shapes and node.kind != "input"):
        return None
    if _quantized(node.layer.config) and node.class_name not in ("Dense", "Embedding"):
        return None
    return fn(node, node.layer.config)


# -- helpers ------------------------------------------------------------------------------------------------
def _n(value: int | None) -> str:
    return "None" if value is None else f"{value:,}"


def _dims(shape: Sequence[int | None]) -> str:
    """(None, 28, 28, 1) -> '28×28×1' (the batch axis left out)."""
    return "×".join(_n(d) for d in shape[1:]) or _("a scalar")


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    return tuple(value)


def _in(node: Node) -> Shape:
    return node.input_shapes[0]


def _quantized(cfg: dict[str, Any]) -> str:
    """'int8', 'float8', … for a quantized layer's dtype policy, else ''."""
    policy = cfg.get("dtype")
    if isinstance(policy, dict) and "Quantized" in str(policy.get("class_name", "")):
        config = policy.get("config", {})
        return str(config.get("mode") or str(config.get("name", "")).split("_from_")[0] or "quantized")
    return ""


def _channels_last(cfg: dict[str, Any]) -> bool:
    return cfg.get("data_format", "channels_last") in ("channels_last", None)


def _split(shape: Shape, cfg: dict[str, Any]) -> tuple[tuple[int | None, ...], int | None]:
    """(spatial sizes, channels) of a feature map in either data format."""
    if _channels_last(cfg):
        return tuple(shape[1:-1]), shape[-1]
    return tuple(shape[2:]), shape[1]


def _join(batch: int | None, spatial: Sequence[int | None], channels: int | None, cfg: dict[str, Any]) -> Shape:
    if _channels_last(cfg):
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def _fmt_channels(cfg: dict[str, Any]) -> str:
    return "" if _channels_last(cfg) else _(" (channels_first: channels on axis 1)")


# -- inputs ---------------------------------------------------------------------------------------------------
@_formula("InputLayer")
def _input(node: Node, cfg: dict[str, Any]) -> Formula:
    shape = node.output_shapes[0]
    sample = tuple(shape[1:])
    parts = [_("an input: each sample has shape {shape}").format(shape=format_shape(sample))]
    if any(d is None for d in sample):
        parts.append(_("None inside a sample means that size may differ from batch to batch (any length)"))
    if shape and shape[0] is None:
        parts.append(_("the batch axis is None: any number of samples per batch"))
    else:
        parts.append(_("the batch is fixed at {n} samples (batch_shape)").format(n=shape[0]))
    return Formula(_("; ").join(parts), shape)


# -- dense and embeddings -----------------------------------------------------------------------------------------
@_formula("Dense")
def _dense(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape, units, bias = _in(node), cfg["units"], cfg.get("use_bias", True)
    out = (*shape[:-1], units)
    if len(shape) > 2:
        text = _("Dense({units}) on {fan_in} → {units}: the last axis becomes units (applied at every position; the "
                 "axes before it stay: {shape})").format(units=units, fan_in=_n(shape[-1]), shape=format_shape(out))
    else:
        text = _("Dense({units}) on {fan_in} → {units}: the last axis becomes units").format(units=units,
                                                                                            fan_in=_n(shape[-1]))
    fan_in = shape[-1]
    if fan_in is None:
        return Formula(text, out, "", None)
    total = fan_in * units + (units if bias else 0)
    params = f"{_n(fan_in)}·{units}" + (f" + {units}" if bias else "") + f" = {total:,}"
    kind = _quantized(cfg)
    if kind == "int8":
        total += units
        params = _("{weights} + {units} (int8: one scale per unit) = {total:,}").format(
            weights=params[:params.index(" =")], units=units, total=total)
    elif kind:
        return None
    return Formula(text, out, params, total)


@_formula("Embedding")
def _embedding(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    vocab, dim = cfg["input_dim"], cfg["output_dim"]
    out = (*shape, dim)
    length = _("None (any length)") if len(shape) > 1 and shape[1] is None else _dims(shape)
    text = _("Embedding({vocab:,}, {dim}) on a sequence of length {length}: each token id becomes a {dim}-vector "
             "→ {shape}").format(vocab=vocab, dim=dim, length=length, shape=format_shape(out))
    total, params = vocab * dim, f"{vocab:,}·{dim} = {vocab * dim:,}"
    kind = _quantized(cfg)
    if kind == "int8":
        total += vocab
        params = _("{vocab:,}·{dim} + {vocab:,} (int8: one scale per row) = {total:,}").format(vocab=vocab, dim=dim,
                                                                                             total=total)
    elif kind:
        return None
    return Formula(text, out, params, total)


# -- convolutions -------------------------------------------------------------------------------------------------
def _window_sizes(spatial: Sequence[int | None], k: Sequence[int], s: Sequence[int], d: Sequence[int], pad: str,
                  transpose: bool = False, output_padding: Sequence[int] | None = None,
                  ) -> tuple[list[int | None], list[str]] | None:
    sizes: list[int | None] = []
    steps: list[str] = []
    for i, (n, kk, ss, dd) in enumerate(zip(spatial, k, s, d, strict=True)):
        ke = dd * (kk - 1) + 1
        ke_text = str(kk) if dd == 1 else f"({dd}·({kk} − 1) + 1)"
        if n is None:
            sizes.append(None)
            continue
        if transpose:
            op = None if output_padding is None else output_padding[i]
            if op is None:
                if pad == "valid":
                    size = n * ss + max(ke - ss, 0)
                    steps.append(f"{n}·{ss} + max({ke_text} − {ss}, 0) = {size}")
                else:
                    size = n * ss
                    steps.append(f"{n}·{ss} = {size}")
            else:
                cut = 2 * (ke // 2) if pad == "same" else 0
                size = (n - 1) * ss + ke - cut + op
                steps.append(f"({n} − 1)·{ss} + {ke_text}" + (f" − {cut}" if cut else "") + f" + {op} = {size}")
        elif pad in ("same", "causal"):
            size = math.ceil(n / ss)
            steps.append(f"⌈{n}/{ss}⌉ = {size}")
        elif pad == "valid":
            size = (n - ke) // ss + 1
            if size < 1:
                return None
            steps.append(f"⌊({n} − {ke_text})/{ss}⌋ + 1 = {size}")
        else:
            return None
        sizes.append(size)
    return sizes, steps


def _because(steps: list[str]) -> str:
    """', because 7·2 = 14; …' after a shape: the arithmetic of each axis (repeats said once)."""
    return _(", because {steps}").format(steps="; ".join(dict.fromkeys(steps))) if steps else ""


def _conv(node: Node, cfg: dict[str, Any], rank: int, kind: str) -> Formula | None:
    """kind: 'conv', 'transpose', 'depthwise' or 'separable'."""
    shape = _in(node)
    if len(shape) != rank + 2:
        return None
    k = _tuple(cfg["kernel_size"], rank)
    s = _tuple(cfg.get("strides", 1), rank)
    d = _tuple(cfg.get("dilation_rate", 1), rank)
    pad = cfg.get("padding", "valid")
    if pad == "causal" and (rank != 1 or kind == "transpose"):
        return None
    op = cfg.get("output_padding")
    op = None if op is None else _tuple(op, rank)
    found = _window_sizes(*_split(shape, cfg)[:1], k, s, d, pad, transpose=kind == "transpose", output_padding=op)
    if found is None:
        return None
    sizes, steps = found
    channels = _split(shape, cfg)[1]
    bias = cfg.get("use_bias", True)
    groups = cfg.get("groups", 1) or 1
    multiplier = cfg.get("depth_multiplier", 1)
    out_channels = cfg["filters"] if kind != "depthwise" else None if channels is None else channels * multiplier
    out = _join(shape[0], sizes, out_channels, cfg)
    window = "×".join(map(str, k))
    stride = "×".join(map(str, s)) if len(set(s)) > 1 else str(s[0])
    dilation = "" if set(d) == {1} else _(", dilation {rate}").format(rate="×".join(map(str, d)))
    because = _because(steps)
    what = (_("depth multiplier {m} ({channels}·{m} channels)").format(m=multiplier, channels=_n(channels))
            if kind == "depthwise" else _("{n} filters").format(n=out_channels))
    text = _("{layer} {window}, stride {stride}{dilation}, padding {padding} on {input} with {what} → "
             "{output}{because}{channels_note}").format(
        layer=node.class_name, window=window, stride=stride, dilation=dilation, padding=pad, input=_dims(shape),
        what=what, output=_dims(out), because=because, channels_note=_fmt_channels(cfg))
    if channels is None:
        return Formula(text, out, "", None)
    kw = "·".join(map(str, k))
    if kind == "depthwise":
        total = math.prod(k) * channels * multiplier + (channels * multiplier if bias else 0)
        params = f"{kw}·{channels}·{multiplier}" + (f" + {channels * multiplier}" if bias else "")
    elif kind == "separable":
        depth = math.prod(k) * channels * multiplier
        point = channels * multiplier * out_channels
        total = depth + point + (out_channels if bias else 0)
        params = (_("{depthwise} (depthwise) + {pointwise} (pointwise)").format(
            depthwise=f"{kw}·{channels}·{multiplier}", pointwise=f"{channels * multiplier}·{out_channels}")
            + (f" + {out_channels}" if bias else ""))
    else:
        if channels % groups or out_channels % groups:
            return None
        per_group = channels // groups
        total = math.prod(k) * per_group * out_channels + (out_channels if bias else 0)
        fan = f"({channels}/{groups})" if groups > 1 else str(channels)
        params = f"{kw}·{fan}·{out_channels}" + (f" + {out_channels}" if bias else "")
        if groups > 1:
            text += _("; {groups} groups: each filter sees {per_group} of the {channels} input channels").format(
                groups=groups, per_group=per_group, channels=channels)
    return Formula(text, out, f"{params} = {total:,}", total)


for _rank in (1, 2, 3):
    FORMULAS[f"Conv{_rank}D"] = lambda node, cfg, r=_rank: _conv(node, cfg, r, "conv")
    FORMULAS[f"Conv{_rank}DTranspose"] = lambda node, cfg, r=_rank: _conv(node, cfg, r, "transpose")
for _rank in (1, 2):
    FORMULAS[f"DepthwiseConv{_rank}D"] = lambda node, cfg, r=_rank: _conv(node, cfg, r, "depthwise")
    FORMULAS[f"SeparableConv{_rank}D"] = lambda node, cfg, r=_rank: _conv(node, cfg, r, "separable")


# -- pooling, padding, cropping, upsampling ----------------------------------------------------------------------
@_formula("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
          "AveragePooling3D")
def _pool(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    rank = len(shape) - 2
    p = _tuple(cfg["pool_size"], rank)
    s = _tuple(cfg.get("strides") or cfg["pool_size"], rank)
    spatial, channels = _split(shape, cfg)
    found = _window_sizes(spatial, p, s, (1,) * rank, cfg.get("padding", "valid"))
    if found is None:
        return None
    sizes, steps = found
    out = _join(shape[0], sizes, channels, cfg)
    return Formula(_("{layer}({pool}) on {input} → {output}{because}; channels unchanged{channels_note}").format(
        layer=node.class_name, pool="×".join(map(str, p)), input=_dims(shape), output=_dims(out),
        because=_because(steps), channels_note=_fmt_channels(cfg)), out)


@_formula("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
          "GlobalAveragePooling2D", "GlobalAveragePooling3D")
def _global_pool(node: Node, cfg: dict[str, Any]) -> Formula:
    shape = _in(node)
    how = _("maximum") if "Max" in node.class_name else _("mean")
    spatial, channels = _split(shape, cfg)
    if cfg.get("keepdims"):
        out = _join(shape[0], [1] * len(spatial), channels, cfg)
        return Formula(_("takes the {how} over the spatial axes, keeping them as size 1: {input} → {output}").format(
            how=how, input=_dims(shape), output=_dims(out)), out)
    return Formula(_("takes the {how} over the spatial axes and drops them: {input} → ({channels},), one number per "
                     "channel").format(how=how, input=_dims(shape), channels=_n(channels)), (shape[0], channels))


@_formula("UpSampling1D", "UpSampling2D", "UpSampling3D")
def _upsample(node: Node, cfg: dict[str, Any]) -> Formula:
    shape = _in(node)
    rank = len(shape) - 2
    size = _tuple(cfg.get("size", 2), rank)
    spatial, channels = _split(shape, cfg) if node.class_name != "UpSampling1D" else (tuple(shape[1:-1]), shape[-1])
    sizes = [None if n is None else n * f for n, f in zip(spatial, size, strict=True)]
    out = _join(shape[0], sizes, channels, cfg) if node.class_name != "UpSampling1D" else (shape[0], *sizes, channels)
    steps = "; ".join(dict.fromkeys(f"{n}·{f} = {n * f}" for n, f in zip(spatial, size, strict=True)
                                    if n is not None))
    return Formula(_("{layer}({size}) on {input} → {output}, because {steps}").format(
        layer=node.class_name, size="×".join(map(str, size)), input=_dims(shape), output=_dims(out), steps=steps),
        out)


def _pairs(value: Any, rank: int) -> list[tuple[int, int]]:
    if isinstance(value, int):
        return [(value, value)] * rank
    value = list(value)
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [(value[0], value[1])]
    return [(v, v) if isinstance(v, int) else (v[0], v[1]) for v in value]


@_formula("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D")
def _pad_crop(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    rank = len(shape) - 2
    padding = node.class_name.startswith("Zero")
    pairs = _pairs(cfg["padding" if padding else "cropping"], rank)
    spatial, channels = _split(shape, cfg) if rank > 1 else (tuple(shape[1:-1]), shape[-1])
    sizes, steps = [], []
    for n, (a, b) in zip(spatial, pairs, strict=True):
        if n is None:
            sizes.append(None)
            continue
        size = n + a + b if padding else n - a - b
        if size < 1:
            return None
        steps.append(f"{a} + {n} + {b} = {size}" if padding else f"{n} − {a} − {b} = {size}")
        sizes.append(size)
    out = _join(shape[0], sizes, channels, cfg) if rank > 1 else (shape[0], *sizes, channels)
    if padding:
        text = _("{layer} adds zeros around each spatial axis: {input} → {output}, because {steps}")
    else:
        text = _("{layer} cuts from the edges of each spatial axis: {input} → {output}, because {steps}")
    return Formula(text.format(layer=node.class_name, input=_dims(shape), output=_dims(out),
                               steps="; ".join(steps) or _("the sizes are unknown")), out)


# -- reshaping ------------------------------------------------------------------------------------------------
@_formula("Reshape")
def _reshape(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape, target = _in(node), tuple(cfg["target_shape"])
    known = list(shape[1:])
    if None in known:
        return None
    total = math.prod(known)
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        if rest == 0 or total % rest:
            return None
        missing = total // rest
        target = tuple(missing if d == -1 else d for d in target)
        how = _("; -1 becomes {total:,}/{rest:,} = {missing:,}").format(total=total, rest=rest, missing=missing)
    else:
        how = ""
    before = f"{'·'.join(map(str, known))} = {total:,}" if len(known) > 1 else f"{total:,}"
    return Formula(_("Reshape keeps the element count: {before} = {after}{how}").format(
        before=before, after="·".join(map(str, target)), how=how), (shape[0], *target))


@_formula("Flatten")
def _flatten(node: Node, cfg: dict[str, Any]) -> Formula | None:
    shape = _in(node)
    if None in shape[1:]:
        return None
    total = math.prod(shape[1:])
    return Formula(_("Flatten multiplies: {sizes} = {total:,}").format(sizes="·".join(map(str, shape[1:])),
                                                                        total=total), (shape[0], total))


@_formula("Permute")
def _permute(node: Node, cfg: dict[str, Any]) -> Formula:
    shape, dims = _in(node), tuple(cfg["dims"])
    out = (shape[0], *(shape[d] for d in dims))
    return Formula(_("Permute{dims} reorders the axes after the batch: {input} → {output}").format(
        dims=dims, input=_dims(shape), output=_dims(out)), out)


@_formula("RepeatVector")
def _repeat(node: Node, cfg: dict[str, Any]) -> Formula:
    shape, n = _in(node), cfg["n"]
    out = (shape[0], n, shape[1])
    return Formula(_("RepeatVector({n}) repeats the {width}-vector {n} times → {output}").format(
        n=n, width=_n(shape[1]), output=_dims(out)), out)


# the formulas for sequences, normalization, merges and attention register themselves in FORMULAS
from . import _formulas_more  # noqa: E402
