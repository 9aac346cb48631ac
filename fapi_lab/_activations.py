"""``lab.get_activations`` and ``lab.activations``: what each layer outputs, as numbers and as pictures.

Values come from one cached feature-extraction model per model (the adapter's ``activation_values``), so the
first view of any layer costs about one forward pass, and only for the samples asked for. The viewer keeps the
values of the samples it has shown and draws without matplotlib figures: feature maps are turned into one PNG
mosaic with a colour lookup table, vectors into HTML bars, so switching layer, sample or page is fast.
Booleans and integers are drawn as the numbers they are (``True`` = 1) and compared in float64 (no wrap-around of
unsigned differences); text is shown as text. ``x`` is read by ``_arrays.standardize``: whatever ``model(x)``
accepts.
"""

from __future__ import annotations

import difflib
import functools
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from . import _keras_adapter as adapter
from ._arrays import n_samples, standardize, take
from ._i18n import N_, _

__all__ = ["ActivationViewer", "activations", "get_activations", "statistics"]

_PAGE = 16  # channels per mosaic page
NO_VALUE = N_("no value: x gave None for this optional input, so nothing flows from it.")  # shown with _()
NO_SAMPLES = N_("x holds no samples: the viewer needs at least one.")
SHAPES_DIFFER = N_("the two samples' outputs have different shapes, so there is no difference to show.")


def _plain(arrays: Sequence[Any]) -> list[Any]:
    """A call's output values; ``None`` where there is none (an optional input that was not given)."""
    return [None if a is None or (isinstance(a, np.ndarray) and a.dtype == object and a.ndim == 0
                                  and a.item() is None) else a for a in arrays]


def _select_keys(available: Sequence[str], layers: Any) -> list[str]:
    if layers is None:
        return list(available)
    wanted = [layers] if isinstance(layers, str) else list(layers)
    for key in wanted:
        if key not in available:
            close = difflib.get_close_matches(key, available, n=4, cutoff=0.4)
            keys = _("(keys look like 'dense_1', 'lstm#1' for a shared layer's second call, 'encoder/conv2d_1' "
                     "inside a nested model)")
            if close:
                missing = _("no layer {key!r} in this model; did you mean {names}?").format(key=key,
                                                                                          names=", ".join(close))
            else:
                missing = _("no layer {key!r} in this model").format(key=key)
            raise KeyError(f"{missing} {keys}")
    return wanted


def get_activations(model: Any, x: Any, layers: Any = None) -> dict[str, Any]:
    """Each layer call's output for ``x``: a dict keyed like ``lab.graph`` keys (``dense_1``, ``lstm#1``,
    ``encoder/conv2d_1``), each value an array, or a list of arrays for a layer with several outputs (``None`` for an
    optional input left out).

    ``x`` is anything ``model(x)`` accepts: one array, a list, a dict keyed by the model's own input keys (or the
    ``Input`` names), nested lists and dicts, ``None`` for an optional input, the rank differences Keras
    standardizes."""
    x = standardize(model, x)
    try:
        values = adapter.activation_values(model, x)
    except adapter.GraphReadError as exc:
        raise ValueError(str(exc)) from None
    keys = _select_keys(list(values), layers)
    plain = {k: _plain(values[k]) for k in keys}
    return {k: v[0] if len(v) == 1 else v for k, v in plain.items()}


def _numbers(values: Any) -> np.ndarray | None:
    """Values as float64 for statistics, pictures and differences (``True`` = 1; integers exact up to 2**53, with
    no wrap-around of unsigned differences); None for values that are not numbers (text)."""
    v = np.asarray(values)
    return v.astype(np.float64) if v.dtype.kind in "biuf" else None


def statistics(values: np.ndarray) -> dict[str, float]:
    """mean, std, min, max and the fraction of exactly-zero values (dead units after a ReLU); booleans count as
    0 and 1, integers as themselves."""
    v = _numbers(values)
    if v is None:
        raise TypeError(_("values of dtype {dtype} are not numbers").format(dtype=np.asarray(values).dtype))
    return {"mean": float(v.mean(dtype=np.float64)), "std": float(v.std(dtype=np.float64)), "min": float(v.min()),
            "max": float(v.max()), "zero_fraction": float(np.count_nonzero(v == 0) / max(v.size, 1))}


# -- drawing -----------------------------------------------------------------------------------------------
@functools.cache
def _lut(name: str = "viridis") -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def _png(rgb: np.ndarray) -> bytes:
    from matplotlib.image import imsave

    buffer = io.BytesIO()
    imsave(buffer, rgb, format="png")
    return buffer.getvalue()


def mosaic_png(maps: np.ndarray, lo: float, hi: float, cmap: str = "viridis", scale: int = 0) -> bytes:
    """(H, W, C) channels side by side in a grid, one shared colour scale [lo, hi]. Maps larger than 56 pixels
    are shown subsampled (every n-th pixel) so that a page stays quick to draw and to send."""
    step = int(np.ceil(max(maps.shape[:2]) / 56))
    if step > 1:
        maps = maps[::step, ::step]
    h, w, c = maps.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = int(np.ceil(c / cols))
    scale = scale or max(1, 96 // max(h, w))
    grid = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), np.nan)
    for i in range(c):
        r, q = divmod(i, cols)
        grid[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + q * (w + 1): 1 + q * (w + 1) + w] = maps[..., i]
    span = (hi - lo) or 1.0
    idx = np.clip(((grid - lo) / span * 255), 0, 255)
    rgb = _lut(cmap)[np.nan_to_num(idx, nan=0).astype(np.uint8)]
    rgb[np.isnan(grid)] = 255
    rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
    return _png(rgb)


def _colourbar(lo: float, hi: float, cmap: str = "viridis") -> str:
    stops = ", ".join(f"rgb{tuple(int(c) for c in _lut(cmap)[i])}" for i in range(0, 256, 32))
    return (f"<div style='display:flex;align-items:center;gap:6px;font-size:11px'><span>{lo:.3g}</span>"
            f"<div style='width:160px;height:10px;background:linear-gradient(to right, {stops})'></div>"
            f"<span>{hi:.3g}</span></div>")


def _bars_html(vector: np.ndarray, labels: Sequence[str] | None = None, top: int = 5) -> str:
    v = np.asarray(vector, dtype=float).ravel()
    m = float(np.max(np.abs(v))) or 1.0
    order = set(np.argsort(-np.abs(v))[:top].tolist())
    cells = []
    n = len(v)
    width = max(2, min(24, 600 // max(n, 1)))
    for i, value in enumerate(v):
        height = abs(value) / m * 60
        colour = "#2563eb" if value >= 0 else "#dc2626"
        name = labels[i] if labels is not None and i < len(labels) else str(i)
        tag = f"<div style='font-size:9px'>{html.escape(name)}</div>" if (i in order or n <= 12) else ""
        cells.append(f"<div title='{html.escape(name)}: {value:.4g}' style='display:flex;flex-direction:column;"
                     f"justify-content:flex-end;align-items:center;height:90px;width:{width}px'>"
                     f"<div style='width:{max(width - 2, 1)}px;height:{height:.1f}px;background:{colour}'></div>"
                     f"{tag}</div>")
    return f"<div style='display:flex;align-items:flex-end;overflow-x:auto;max-width:100%'>{''.join(cells)}</div>"


def _stats_html(stats: dict[str, float], kind: str = "f") -> str:
    numbers = _("mean {mean:.4g} · std {std:.4g} · min {min:.4g} · max {max:.4g}").format(**stats)
    share = f"<b>{100 * stats['zero_fraction']:.1f}%</b>"
    if kind == "b":
        zero = _("{share} False")
    elif stats["zero_fraction"] > 0 and kind == "f":
        zero = _("{share} exactly zero (dead after ReLU)")
    else:
        zero = _("{share} exactly zero")
    return f"<div style='font-size:12px'>{numbers} · {zero.format(share=share)}</div>"


def _text_html(values: Any, limit: int = 24) -> str:
    """Values that are not numbers (text), shown as they are."""
    flat = np.asarray(values).ravel()
    shown = ", ".join(html.escape(repr(v.decode() if isinstance(v, bytes) else v)) for v in flat[:limit])
    more = " … " + _("({n} values)").format(n=flat.size) if flat.size > limit else ""
    return f"<div style='font-size:12px;font-family:monospace'>{shown}{more}</div>"


def render(values: np.ndarray, page: int = 0, labels: Sequence[str] | None = None,
           lo: float | None = None, hi: float | None = None) -> tuple[str, bytes | None]:
    """(html, png or None) for one sample's output, drawn the way its shape calls for."""
    v = np.asarray(values)
    if v.size == 0:
        words = _("no values (shape {shape})").format(shape=v.shape)
        return f"<div style='font-size:12px'>{words}</div>", None
    lo = float(v.min()) if lo is None else lo
    hi = float(v.max()) if hi is None else hi
    if v.ndim == 3:  # H×W×C feature maps: a mosaic page of channels
        channels = v.shape[-1]
        start = page * _PAGE
        chunk = v[..., start:start + _PAGE]
        words = _("channels {first}–{last} of {n} (one colour scale for all)").format(
            first=start, last=start + chunk.shape[-1] - 1, n=channels)
        note = f"<div style='font-size:11px'>{words}</div>"
        return note + _colourbar(lo, hi), mosaic_png(chunk, lo, hi)
    if v.ndim == 2:  # time × features (sequences, embeddings): a heat map
        words = _("{steps} steps (rows) × {features} features (columns)").format(steps=v.shape[0], features=v.shape[1])
        note = f"<div style='font-size:11px'>{words}</div>"
        return note + _colourbar(lo, hi, "magma"), mosaic_png(v[:, :, None], lo, hi, "magma", scale=max(
            1, 240 // max(v.shape)))
    if v.size <= 1:
        return f"<div style='font-size:28px'>{float(v.ravel()[0]) if v.size else float('nan'):.4g}</div>", None
    flat = v.ravel()
    if flat.size > 256:  # a long vector: a heat strip (64 units per row) and the largest units named
        rows = int(np.ceil(flat.size / 64))
        padded = np.full(rows * 64, np.nan)
        padded[:flat.size] = flat
        top = np.argsort(-np.abs(flat))[:5]
        names = ", ".join(f"{labels[i] if labels is not None and i < len(labels) else i}: {flat[i]:.3g}" for i in top)
        words = _("{n} units, 64 per row; largest: {names}").format(n=flat.size, names=html.escape(names))
        note = f"<div style='font-size:11px'>{words}</div>"
        return note + _colourbar(lo, hi), mosaic_png(padded.reshape(rows, 64, 1), lo, hi, scale=4)
    return _bars_html(v, labels), None


class ActivationViewer(widgets.VBox):
    """Pick a layer and a sample (and a page of channels) to see that layer's output; compare two samples.

    ``selected`` is the layer key; link it to a graph with ``lab.link_selection(viewer, view)``."""

    selected = traitlets.Unicode("")

    def __init__(self, model: Any, x: Any, *, labels: Mapping[str, Sequence[str]] | None = None) -> None:
        self.model, self.x = model, standardize(model, x)
        self.labels = dict(labels or {})
        self.n_samples = n_samples(self.x)
        if self.n_samples < 1:
            raise ValueError(_(NO_SAMPLES))
        self._cache: dict[int, dict[str, list[Any]]] = {}
        _lut("viridis"), _lut("magma")  # load the colour tables now, not on the first switch
        first = self.values(0)
        self.layer_keys = tuple(first)
        self._layer = widgets.Dropdown(options=self.layer_keys, description=_("layer"),
                                       layout=widgets.Layout(width="340px"))
        self._sample = widgets.IntSlider(0, 0, max(self.n_samples - 1, 0), description=_("sample"))
        self._page = widgets.IntSlider(0, 0, 0, description=_("channels page"))
        self._compare_with = widgets.Dropdown(options=[(_("no"), -1)] + [(str(i), i) for i in range(self.n_samples)],
                                         description=_("compare with"), layout=widgets.Layout(width="200px"))
        self._info = widgets.HTML()
        self._image = widgets.Image(format="png")
        self._image_b = widgets.Image(format="png")
        self._image_d = widgets.Image(format="png")
        self._message = widgets.HTML()
        controls = widgets.HBox([self._layer, self._sample], layout=widgets.Layout(flex_flow="row wrap"))
        pictures = widgets.HBox([self._image, self._image_b, self._image_d],
                                layout=widgets.Layout(width="100%", flex_flow="row nowrap", overflow="hidden"))
        super().__init__([controls, widgets.HBox([self._page, self._compare_with],
                                                 layout=widgets.Layout(flex_flow="row wrap")),
                          self._info, pictures, self._message], layout=widgets.Layout(max_width="100%"))
        self._layer.value = self.layer_keys[-1]
        self.selected = self._layer.value
        widgets.link((self, "selected"), (self._layer, "value"))
        for w in (self._layer, self._sample, self._page, self._compare_with):
            w.observe(self._redraw, "value")
        self._redraw()

    def values(self, sample: int) -> dict[str, list[Any]]:
        """All layer outputs for one sample (computed once, kept only for samples that were viewed); ``None`` for
        an optional input that was not given."""
        if sample not in self._cache:
            one = take(self.x, slice(sample, sample + 1))
            self._cache[sample] = {k: [None if a is None else a[0] if np.ndim(a) >= 1 else a for a in _plain(v)]
                                   for k, v in adapter.activation_values(self.model, one).items()}
        return self._cache[sample]

    def select(self, key: str) -> None:
        _select_keys(self.layer_keys, [key])
        self.selected = key

    def refresh(self) -> None:
        """Forget the stored outputs (the weights changed, e.g. after an epoch) and redraw."""
        self._cache.clear()
        self._redraw()

    def _show(self, image: widgets.Image, png: bytes | None) -> None:
        """Show a picture, or hide it; side by side (compare) the pictures share the width, never past it."""
        image.value = png or b""
        image.layout.display = "" if png else "none"
        width = "33%" if self._image_b.value else "100%"
        for shown in (self._image, self._image_b, self._image_d):
            shown.layout.max_width, shown.layout.height, shown.layout.object_fit = width, "auto", "contain"

    def _redraw(self, change: Any = None) -> None:
        try:
            key, sample = self._layer.value, self._sample.value
            raw = self.values(sample)[key][0]
            other = self._compare_with.value
            raw_b = self.values(other)[key][0] if other >= 0 else None
            for image in (self._image, self._image_b, self._image_d):
                self._show(image, None)
            self._page.layout.display = "none"
            head = f"<b>{html.escape(key)}</b> · " + _("sample {i}").format(i=sample)
            if raw is None:  # an optional input left out: nothing flows here
                self._info.value = head + f"<div style='font-size:12px'>{_(NO_VALUE)}</div>"
                self._message.value = ""
                return
            a, b = _numbers(raw), None if raw_b is None else _numbers(raw_b)
            head += " · " + _("shape {shape}").format(shape=tuple(np.shape(raw))) + f" · {np.asarray(raw).dtype}"
            other_sample = _("sample {i}:").format(i=other)
            if a is None:  # text: shown as it is
                extra = f"<div>{other_sample}</div>{_text_html(raw_b)}" if raw_b is not None else ""
                self._info.value = head + _text_html(raw) + extra
                self._message.value = ""
                return
            kind = np.asarray(raw).dtype.kind
            self._page.max = max(0, (a.shape[-1] - 1) // _PAGE) if a.ndim == 3 else 0
            self._page.layout.display = "" if a.ndim == 3 and a.shape[-1] > _PAGE else "none"
            labels = self.labels.get(key.rsplit("/", 1)[-1])
            lo = float(min(a.min(), b.min())) if b is not None and a.size and b.size else None
            hi = float(max(a.max(), b.max())) if b is not None and a.size and b.size else None
            text, png = render(a, self._page.value, labels, lo, hi)
            head += (" " + _("(True = 1, False = 0)") if kind == "b" else "") + _stats_html(statistics(a), kind)
            self._show(self._image, png)
            extra = ""
            if b is not None:
                difference = a - b if a.shape == b.shape else None  # in float64: no wrap-around, booleans too
                t2, p2 = render(b, self._page.value, labels, lo, hi)
                d_text, d_png = render(difference, self._page.value, labels) if difference is not None else (
                    f"<div style='font-size:11px'>{_(SHAPES_DIFFER)}</div>", None)
                if png and p2:
                    self._show(self._image_b, p2)
                    self._show(self._image_d, d_png)
                    where = _("left: sample {a} · middle: sample {b} · right: difference").format(a=sample, b=other)
                    extra = f"<div style='font-size:11px'>{where}</div>{'' if d_png else d_text}"
                else:
                    difference_words = _("difference:")
                    extra = f"<div>{other_sample}</div>{t2}<div>{difference_words}</div>{d_text}"
            self._info.value = head + text + extra
            self._message.value = ""
        except Exception as exc:  # shown in the widget, never lost
            self._message.value = (f"<div style='color:#b91c1c'>✖ {html.escape(type(exc).__name__)}: "
                                   f"{html.escape(str(exc))}</div>")
            raise

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        import base64

        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        img = (f"<img src='data:image/png;base64,{base64.b64encode(self._image.value).decode()}'>"
               if self._image.value else "")
        bundle["text/html"] = self._info.value + img
        bundle["text/plain"] = f"ActivationViewer({self.model.name!r}, layer={self.selected!r})"
        return bundle


def activations(model: Any, x: Any, **kwargs: Any) -> ActivationViewer:
    """Open the activation viewer: a layer drop-down (or click in a linked graph), a sample slider, channel
    pages for feature maps, statistics (mean, std, min/max, dead units), and two samples side by side."""
    try:
        return ActivationViewer(model, x, **kwargs)
    except adapter.GraphReadError as exc:
        raise ValueError(str(exc)) from None
