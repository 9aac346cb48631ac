"""``lab.loss_weights(model, x, y)``: weigh the losses of a multi-output model and see what each head costs.

Mechanism: the model is compiled once with each output's loss wrapped in :class:`WeightedLoss`, which
multiplies the loss by a ``keras.Variable``. Moving a slider assigns the variable: no recompiling, and the
next training step uses the new weight. The read-out needs no model call at all: the validation predictions
are computed once (they do not depend on the loss weights) and each head's unweighted loss is computed
from them; the weighted contribution is just weight × loss.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np

from . import _keras_adapter as adapter
from ._arrays import n_samples, take
from ._i18n import _, ngettext
from ._loss_numbers import SLIDER_MAX_EXPONENT, SLIDER_MIN_EXPONENT, check_weight, for_people, slider_position

__all__ = ["LossWeightLab", "WeightedLoss", "loss_weights"]

_COLOURS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#4b5563"]


def _keras() -> Any:
    import keras

    return keras


_CLASS: list[type] = []


def _weighted_loss_class() -> type:
    if _CLASS:
        return _CLASS[0]
    keras = _keras()

    @keras.saving.register_keras_serializable(package="fapi_lab", name="WeightedLoss")
    class _WeightedLoss(keras.losses.Loss):
        """``weight × base(y_true, y_pred)`` where ``weight`` is a variable the panel can change."""

        def __init__(self, base: Any, weight: Any, name: str | None = None) -> None:
            super().__init__(name=name or f"weighted_{getattr(base, 'name', 'loss')}")
            self.base = base
            self.weight = weight

        def call(self, y_true: Any, y_pred: Any) -> Any:
            return self.base(y_true, y_pred) * self.weight

        def get_config(self) -> dict[str, Any]:
            # a saved model keeps the loss and the weight's value at saving time
            return {"name": self.name, "base": keras.losses.serialize(self.base),
                    "weight": float(keras.ops.convert_to_numpy(self.weight))}

        @classmethod
        def from_config(cls, config: dict[str, Any]) -> Any:
            base = keras.losses.deserialize(config["base"])
            return cls(base, keras.Variable(config["weight"], trainable=False, dtype="float32"), config["name"])

    _CLASS.append(_WeightedLoss)
    return _WeightedLoss


def WeightedLoss(base: Any, weight: Any, name: str | None = None) -> Any:
    """A loss that multiplies ``base`` by the variable ``weight`` (imports Keras lazily)."""
    return _weighted_loss_class()(base, weight, name)


def _as_dict(value: Any, names: Sequence[str], what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(_("{what} names outputs the model does not have: {unknown}; its outputs are {names}")
                             .format(what=what, unknown=unknown, names=list(names)))
        return dict(value)
    if isinstance(value, str) or not isinstance(value, Sequence):
        value = [value] * len(names) if what == "losses" and len(names) == 1 else [value]
    if len(value) != len(names):
        raise ValueError(_("{what} has {n} entries but the model has {outputs} outputs {names}; give one per output, "
                           "as a list in output order or a dict keyed by output name")
                         .format(what=what, n=len(value), outputs=len(names), names=list(names)))
    return dict(zip(names, value, strict=True))


def output_names(model: Any) -> list[str]:
    """The names Keras uses for the outputs in compile, logs and predictions: the keys when the model was built
    with a dict of outputs (they may differ from the layer names), else ``model.output_names``."""
    try:
        structure = model.output
    except Exception:  # a subclassed or unbuilt model has no symbolic output
        structure = None
    if isinstance(structure, Mapping):
        return [str(k) for k in structure]
    return list(getattr(model, "output_names", None) or [])


def _check_lengths(x: Any, y: dict[str, np.ndarray], what: str) -> None:
    n = n_samples(x)
    short = {name: len(v) for name, v in y.items() if len(v) != n}
    if short:
        said = ", ".join(_("{name!r} has {n}").format(name=name, n=k) for name, k in short.items())
        raise ValueError(_("{what}: x has {n} samples but the targets do not: {said}. Give one target per sample "
                           "(the same number of rows in x and in every output's y).").format(what=what, n=n, said=said))


def _by_output(y: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    if isinstance(y, Mapping):
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(_("y has no targets for outputs {missing}; its keys are {keys}").format(missing=missing,
                                                                                                    keys=sorted(y)))
        return {n: np.asarray(y[n]) for n in names}
    if isinstance(y, list | tuple) and len(y) == len(names):
        return {n: np.asarray(v) for n, v in zip(names, y, strict=True)}
    raise ValueError(_("y must give one target array per output {names}: a list in output order or a dict")
                     .format(names=list(names)))


def _deserialize_metrics(value: Any) -> Any:
    keras = _keras()
    if isinstance(value, Mapping) and "class_name" in value:
        return keras.metrics.deserialize(value)
    if isinstance(value, Mapping):
        return {k: _deserialize_metrics(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deserialize_metrics(v) for v in value]
    return value


def _kept_compile_settings(model: Any) -> dict[str, Any]:
    """What the user compiled with besides losses: metrics and how training runs. Recompiling keeps them."""
    if not getattr(model, "compiled", False):
        return {}
    settings: dict[str, Any] = {key: getattr(model, key) for key in ("run_eagerly", "jit_compile",
                                                                     "steps_per_execution")}
    config = model.get_compile_config() or {}
    for key in ("metrics", "weighted_metrics"):
        if config.get(key):
            settings[key] = _deserialize_metrics(config[key])
    return settings


@dataclass
class Run:
    """One training run from the panel: the weights used and each head's unweighted loss per epoch."""

    weights: dict[str, float]
    losses: dict[str, list[float]] = field(default_factory=dict)


class LossWeightLab(widgets.VBox):
    """Sliders for each output's loss weight, a live read-out of who dominates, and training runs to compare."""

    def __init__(self, model: Any, x: Any, y: Any, *, losses: Any = None, weights: Any = None,
                 validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.2,
                 max_validation: int = 256, batch_size: int = 32) -> None:
        keras = _keras()
        names = output_names(model)
        if len(names) < 2:
            text = ("{name!r} has {n} output: there is nothing to weigh. The loss-weight lab is for models with two "
                    "or more outputs (lesson 5).")
            raise ValueError(ngettext(text, text, len(names)).format(name=model.name, n=len(names)))
        compiled_loss, compiled_weights = adapter.compiled_losses(model)
        self.warnings: list[str] = []
        if isinstance(compiled_loss, list | tuple) and isinstance(compiled_weights, Mapping):
            self.warnings.append(_(
                "This model was compiled with a LIST of losses and a DICT of loss_weights. Keras pairs them by "
                "position, not by name, so the weights may be applied to the wrong outputs without any error. "
                "Use lists with lists or dicts with dicts."))
        loss_spec = losses if losses is not None else compiled_loss
        if loss_spec is None:
            raise ValueError(_("{name!r} is not compiled and no losses were given: pass losses=[...] (one per "
                               "output, in the order {names}) or a dict keyed by output name")
                             .format(name=model.name, names=names))
        self.names = names
        self.losses = {n: keras.losses.get(v) for n, v in _as_dict(loss_spec, names, "losses").items()}
        weight_spec = weights if weights is not None else compiled_weights
        start = _as_dict(weight_spec, names, "weights") or {}
        self.variables = {n: keras.Variable(check_weight(n, start.get(n, 1.0)), trainable=False, dtype="float32",
                                            name=f"loss_weight_{i}") for i, n in enumerate(names)}
        self.model = model
        self.batch_size = batch_size
        optimizer = getattr(model, "optimizer", None) or "rmsprop"
        model.compile(optimizer=optimizer,
                      loss={n: WeightedLoss(self.losses[n], self.variables[n], name=f"{n}_loss") for n in names},
                      **_kept_compile_settings(model))

        n = n_samples(x)
        _check_lengths(x, _by_output(y, names), "lab.loss_weights")
        if validation_data is not None:
            self.x_train, self.y_train = x, y
            x_val, y_val = validation_data
        else:
            if not 0 < validation_split < 1:
                raise ValueError(_("validation_split must be between 0 and 1, not {value!r}")
                                 .format(value=validation_split))
            cut = n - max(1, round(n * validation_split))
            self.x_train, self.y_train = take(x, np.arange(cut)), take(y, np.arange(cut))
            x_val, y_val = take(x, np.arange(cut, n)), take(y, np.arange(cut, n))
        if validation_data is not None:
            _check_lengths(x_val, _by_output(y_val, names), "validation_data")
        keep = np.arange(min(n_samples(x_val), max_validation))
        self.x_val, self.y_val = take(x_val, keep), _by_output(take(y_val, keep), names)
        self.runs: list[Run] = []
        self._refresh_predictions()

        # The box holds the weight (exactly as typed); the log slider only proposes rounded values and follows the
        # box, resting at an end for weights outside its range. Neither ever changes what the other was given.
        self._sliders: dict[str, widgets.FloatText] = {}
        self._logs: dict[str, widgets.FloatLogSlider] = {}
        self._following = self._restoring = False
        rows = []
        for name in names:
            weight = float(self.variables[name].numpy())
            slider = widgets.FloatLogSlider(value=slider_position(weight), base=10, min=SLIDER_MIN_EXPONENT,
                                            max=SLIDER_MAX_EXPONENT, step=0.05, readout=False,
                                            layout=widgets.Layout(width="260px"))
            box = widgets.FloatText(value=weight, step=0.01, layout=widgets.Layout(width="90px"))
            slider.observe(lambda change, n=name: self._on_slider(n, change["new"]), "value")
            box.observe(lambda change, n=name: self._on_weight(n, change["new"]), "value")
            self._sliders[name], self._logs[name] = box, slider
            label = widgets.HTML(f"<b>{html.escape(name)}</b> <small>({html.escape(_loss_name(self.losses[name]))})"
                                 f"</small>", layout=widgets.Layout(width="240px"))
            rows.append(widgets.HBox([label, slider, box]))
        self._readout = widgets.HTML()
        self._epochs = widgets.BoundedIntText(value=3, min=1, max=500, description=_("epochs"),
                                              layout=widgets.Layout(width="150px"))
        self._train = widgets.Button(description=_("train with these weights"), button_style="primary",
                                     layout=widgets.Layout(width="220px"))
        self._train.on_click(lambda _: self.train(self._epochs.value))
        self._message = widgets.HTML("".join(_note(w) for w in self.warnings))
        self._plot = widgets.HTML()
        super().__init__([*rows, self._readout, widgets.HBox([self._epochs, self._train]), self._message,
                          self._plot])
        self._update_readout()

    # -- the numbers -------------------------------------------------------------------------------------------
    @property
    def weights(self) -> dict[str, float]:
        return {n: float(v.numpy()) for n, v in self.variables.items()}

    def set_weight(self, name: str, value: float) -> None:
        """Set one output's loss weight (also moves its slider)."""
        if name not in self.variables:
            raise KeyError(_("no output {name!r}; outputs are {names}").format(name=name, names=self.names))
        value = check_weight(name, value)
        if self._sliders[name].value != value:
            self._sliders[name].value = value  # its observer assigns the variable
        else:
            self._on_weight(name, value)

    def readout(self) -> dict[str, dict[str, float]]:
        """Per output on the validation batch: unweighted ``loss``, ``weight`` and ``weighted`` (weight × loss)."""
        w = self.weights
        return {n: {"loss": self.unweighted[n], "weight": w[n], "weighted": w[n] * self.unweighted[n]}
                for n in self.names}

    @property
    def total(self) -> float:
        """What Keras minimises: Σ weight × loss, plus the regularization losses (``model.losses``)."""
        return sum(r["weighted"] for r in self.readout().values()) + self.regularization

    def _refresh_predictions(self) -> None:
        keras = _keras()
        from ._arrays import n_samples

        # one compiled step for a validation batch this small: ~15 ms against ~65 ms for predict()'s data
        # pipeline (ticket model, 256 samples), which a training run pays once at its end
        if n_samples(self.x_val) <= 2048:
            predictions = self.model.predict_on_batch(self.x_val)
        else:
            predictions = self.model.predict(self.x_val, verbose=0, batch_size=256)
        if isinstance(predictions, Mapping):
            by_name = {n: predictions[n] for n in self.names}
        else:
            by_name = dict(zip(self.names, predictions, strict=True))
        self.unweighted = {n: float(np.mean(keras.ops.convert_to_numpy(self.losses[n](self.y_val[n], by_name[n]))))
                           for n in self.names}
        # weight regularizers (kernel_regularizer=…) are part of the total Keras minimises
        self.regularization = float(sum(float(keras.ops.convert_to_numpy(v)) for v in self.model.losses))

    # -- training ----------------------------------------------------------------------------------------------
    def train(self, epochs: int = 3) -> Run:
        """Train with the current weights, drawing each head's loss per epoch; the run is kept for comparison."""
        keras = _keras()
        run = Run(weights=self.weights, losses={n: [] for n in self.names})
        self.runs.append(run)
        lab = self

        weights = self.weights

        class Record(keras.callbacks.Callback):
            # Keras logs each head's *weighted* training loss (the weight is inside the loss); dividing by the
            # weight gives the unweighted loss without another pass over the data.
            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                logs = logs or {}
                for n in lab.names:
                    w = weights[n]
                    value = logs.get(f"{n}_loss")
                    run.losses[n].append(float(value) / w if value is not None and w > 0 else float("nan"))
                lab._draw()

        self._train.disabled = True
        self._message.value = ""
        try:
            self.model.fit(self.x_train, self.y_train, epochs=epochs, batch_size=self.batch_size, verbose=0,
                           callbacks=[Record()])
        except Exception as exc:  # shown in the panel, where the student is looking; then raised
            failed = _("Training failed: {kind}: {error}").format(kind=type(exc).__name__, error=exc)
            self._message.value = _note(failed, error=True)
            raise
        finally:
            self._train.disabled = False
        self._refresh_predictions()  # the read-out shows the trained model on the validation batch
        self._update_readout()
        return run

    # -- drawing ---------------------------------------------------------------------------------------------
    def _on_slider(self, name: str, value: float) -> None:
        if not self._following:  # a person moved the slider: propose its value, rounded for people
            self._sliders[name].value = for_people(value)

    def _on_weight(self, name: str, value: float) -> None:
        if self._restoring:
            return
        try:
            weight = check_weight(name, value)
        except ValueError as exc:
            self._restoring = True
            try:
                self._sliders[name].value = float(self.variables[name].numpy())  # back to the weight in use
            finally:
                self._restoring = False
            self._message.value = _note(str(exc), error=True)
            return
        self.variables[name].assign(weight)
        self._message.value = "".join(_note(w) for w in self.warnings)
        self._following = True
        try:
            self._logs[name].value = slider_position(weight)
        finally:
            self._following = False
        self._update_readout()

    def _update_readout(self) -> None:
        self._readout.value = self._readout_html()

    def _readout_html(self) -> str:
        r = self.readout()
        total = sum(v["weighted"] for v in r.values()) + self.regularization or 1e-12
        bar = "".join(
            f"<div title='{html.escape(n)}: {v['weighted']:.4g}' style='width:{100 * v['weighted'] / total:.2f}%;"
            f"background:{_COLOURS[i % len(_COLOURS)]};height:18px'></div>" for i, (n, v) in enumerate(r.items()))
        rows = "".join(
            f"<tr><td><span style='color:{_COLOURS[i % len(_COLOURS)]}'>■</span> {html.escape(n)}</td>"
            f"<td style='text-align:right'>{v['loss']:.4g}</td><td style='text-align:right'>× {v['weight']:.4g}</td>"
            f"<td style='text-align:right'>= {v['weighted']:.4g}</td>"
            f"<td style='text-align:right'>{100 * v['weighted'] / total:.0f}%</td></tr>"
            for i, (n, v) in enumerate(r.items()))
        regularization, formula = "", _("Σ weight × loss")
        if self.regularization:
            formula = _("Σ weight × loss + regularization")
            word = _("regularization")
            regularization = (f"<tr><td>{word}</td><td></td><td></td><td style='text-align:right'>"
                              f"= {self.regularization:.4g}</td><td style='text-align:right'>"
                              f"{100 * self.regularization / total:.0f}%</td></tr>")
        top = max(r, key=lambda n: r[n]["weighted"])
        verdict = (_("{name} dominates the total ({share:.0f}%)").format(
            name=f"<b>{html.escape(top)}</b>", share=100 * r[top]["weighted"] / total)
                   if r[top]["weighted"] / total > 0.6 else _("no single head dominates"))
        heads = "".join(f"<th>{h}</th>" for h in (_("output"), _("loss (validation)"), _("weight"), _("weighted"),
                                                   _("share")))
        summary = _("total loss = {formula} = {total}; {verdict}").format(
            formula=formula, total=f"<b>{self.total:.4g}</b>", verdict=verdict)
        return (f"<div style='display:flex;width:100%;max-width:640px;border:1px solid #cbd5e1'>{bar}</div>"
                f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}{regularization}</tbody></table>"
                f"<div>{summary}</div>")

    def _draw(self) -> None:
        self._plot.value = self._curves_svg()

    def _curves_svg(self) -> str:
        """Small multiples drawn as SVG (fast enough to redraw every epoch): one loss-per-epoch panel per head,
        every run in its own colour, and a scatter of the runs' final losses for the first two heads."""
        w, h, pad = 210, 150, 34
        panels = []
        for name in self.names:
            series = [(k, run.losses[name]) for k, run in enumerate(self.runs) if run.losses.get(name)]
            panels.append(_panel(_("{name} loss").format(name=name), series, w, h, pad))
        a, b = self.names[0], self.names[1]
        points = [(k, run.losses[a][-1], run.losses[b][-1]) for k, run in enumerate(self.runs)
                  if run.losses.get(a) and run.losses.get(b)]
        panels.append(_scatter(_("final {a} vs {b} loss").format(a=a, b=b), points, w, h, pad))
        legend = " ".join(
            f"<span style='color:{_COLOURS[k % len(_COLOURS)]}'>■ "
            + _("run {k}: {weights}").format(k=k + 1, weights=html.escape(", ".join(f"{n}={v:g}" for n, v in
                                                                                   run.weights.items())))
            + "</span>" for k, run in enumerate(self.runs))
        return f"<div style='display:flex;flex-wrap:wrap;gap:6px'>{''.join(panels)}</div><div>{legend}</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self._readout_html() + self._message.value + self._plot.value
        bundle["text/plain"] = f"LossWeightLab({self.model.name!r}, weights={self.weights})"
        return bundle


def _scale(values: Sequence[float], lo_px: float, hi_px: float) -> tuple[float, float, Any]:
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi, lambda v: hi_px - (v - lo) / (hi - lo) * (hi_px - lo_px)


def _frame(title: str, w: int, h: int, pad: int, body: str, ylo: float, yhi: float, xlabel: str) -> str:
    return (f"<svg width='{w}' height='{h}' viewBox='0 0 {w} {h}' xmlns='http://www.w3.org/2000/svg' "
            f"font-family='sans-serif' font-size='9'><text x='{w / 2}' y='11' text-anchor='middle' font-size='10'>"
            f"{html.escape(title)}</text><rect x='{pad}' y='16' width='{w - pad - 6}' height='{h - 16 - 20}' "
            f"fill='none' stroke='#cbd5e1'/><text x='{pad - 3}' y='22' text-anchor='end'>{yhi:.3g}</text>"
            f"<text x='{pad - 3}' y='{h - 20}' text-anchor='end'>{ylo:.3g}</text><text x='{(w + pad) / 2}' "
            f"y='{h - 6}' text-anchor='middle'>{html.escape(xlabel)}</text>{body}</svg>")


def _panel(title: str, series: list[tuple[int, list[float]]], w: int, h: int, pad: int) -> str:
    values = [v for _, s in series for v in s]
    ylo, yhi, y = _scale(values, 18, h - 22)
    longest = max((len(s) for _, s in series), default=1)
    def x(i: int) -> float:
        return pad + 4 + i * (w - pad - 14) / max(longest - 1, 1)
    body = ""
    for k, s in series:
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s) if math.isfinite(v))
        colour = _COLOURS[k % len(_COLOURS)]
        body += f"<polyline points='{pts}' fill='none' stroke='{colour}' stroke-width='1.6'/>"
        body += "".join(f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='2' fill='{colour}'/>"
                        for i, v in enumerate(s) if math.isfinite(v))
    return _frame(title, w, h, pad, body, ylo, yhi, _("epoch"))


def _scatter(title: str, points: list[tuple[int, float, float]], w: int, h: int, pad: int) -> str:
    ylo, yhi, y = _scale([p[2] for p in points], 18, h - 22)
    xlo, xhi, xr = _scale([p[1] for p in points], 0, 1)
    def x(v: float) -> float:
        return pad + 6 + (1 - xr(v)) * (w - pad - 18)
    run = _("run {k}")
    body = "".join(f"<circle cx='{x(a):.1f}' cy='{y(b):.1f}' r='4' fill='{_COLOURS[k % len(_COLOURS)]}'>"
                   f"<title>{run.format(k=k + 1)}</title></circle>" for k, a, b in points
                   if math.isfinite(a) and math.isfinite(b))
    return _frame(title, w, h, pad, body, ylo, yhi, f"{xlo:.3g} … {xhi:.3g}")


def _loss_name(loss: Any) -> str:
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _note(text: str, error: bool = False) -> str:
    colour = "#b91c1c" if error else "#92400e"
    return f"<div style='color:{colour};font-size:12px'>{'✖' if error else '⚠'} {html.escape(text)}</div>"


def loss_weights(model: Any, x: Any, y: Any, **kwargs: Any) -> LossWeightLab:
    """Open the loss-weight lab for a model with two or more outputs.

    ``losses`` / ``weights``: lists in output order or dicts keyed by output name; by default what the model was
    compiled with. ``validation_data=(x_val, y_val)`` or ``validation_split`` (0.2) gives the read-out's batch.
    The model is recompiled once with each loss wrapped around a weight variable; sliders then change the
    variables, so nothing is recompiled again.
    """
    return LossWeightLab(model, x, y, **kwargs)
