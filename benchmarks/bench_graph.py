"""Graph rendering speed, against Keras's own tools on the same run.

    .venv/bin/python benchmarks/bench_graph.py

Prints medians of several runs:
- ResNet50 (177 layers): fapi_lab read + DOT + `dot -Tsvg`, vs `keras.utils.model_to_dot(...)` +
  `create_svg()` (same `dot` program), vs `keras.utils.plot_model(...)` to PNG;
- a 200-layer model: redraw after an option toggle (a new layout) and after a selection (no layout);
- a 1,000-layer model: a first render, collapsed nesting (the default).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import fapi_lab as lab

lab.quiet()
import keras  # noqa: E402
from keras import layers  # noqa: E402

from fapi_lab import _keras_adapter as adapter  # noqa: E402
from fapi_lab._layergraph import flatten  # noqa: E402
from fapi_lab._render_dot import GraphOptions, dot_to_svg, to_dot  # noqa: E402


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def residual_tower(n_layers: int, name: str) -> keras.Model:
    """A model with about n_layers layers: Dense blocks with a residual add every third layer."""
    x = inp = keras.Input((16,), name="features")
    count = 1
    block = 0
    while count < n_layers - 1:
        h = layers.Dense(16, activation="relu", name=f"b{block}_dense_a")(x)
        h = layers.Dense(16, name=f"b{block}_dense_b")(h)
        x = layers.add([x, h], name=f"b{block}_add")
        count += 3
        block += 1
    out = layers.Dense(1, name="score")(x)
    return keras.Model(inp, out, name=name)


def main() -> None:
    resnet = keras.applications.ResNet50(weights=None)
    print(f"ResNet50: {len(resnet.layers)} layers")

    def ours() -> str:
        return dot_to_svg(to_dot(flatten(adapter.read(resnet), 0), GraphOptions(show_shapes=True)))

    def keras_dot() -> str:
        return keras.utils.model_to_dot(resnet, show_shapes=True).create_svg()

    ours()
    keras_dot()  # warm up both
    t_ours = median_time(ours)
    t_keras = median_time(keras_dot)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "resnet50.png"
        t_plot = median_time(lambda: keras.utils.plot_model(resnet, to_file=str(png), show_shapes=True), 3)
    print(f"  fapi_lab read+DOT+dot -Tsvg      {t_ours * 1000:8.1f} ms")
    print(f"  keras model_to_dot+create_svg    {t_keras * 1000:8.1f} ms   ratio fapi/keras = {t_ours / t_keras:.2f}")
    print(f"  keras plot_model to PNG          {t_plot * 1000:8.1f} ms   ratio fapi/plot_model = {t_ours / t_plot:.2f}")

    model200 = residual_tower(200, "tower200")
    view = lab.graph(model200)
    print(f"200-layer model: {len(view.layer_keys)} nodes")
    toggles = [("show_params", True), ("show_dtypes", True), ("direction", "LR"), ("show_trainable", True),
               ("show_activations", False)]
    toggle_times = []
    for name, value in toggles:  # each is a layout not seen before (no cache hit)
        start = time.perf_counter()
        setattr(view, name, value)
        toggle_times.append(time.perf_counter() - start)
    keys = view.layer_keys
    select_times = []
    for key in keys[::20]:
        start = time.perf_counter()
        view.select(key)
        select_times.append(time.perf_counter() - start)
    print(f"  redraw after an option toggle    {statistics.median(toggle_times) * 1000:8.1f} ms (median of "
          f"{len(toggle_times)}, max {max(toggle_times) * 1000:.1f} ms; goal < 150 ms)")
    print(f"  redraw after a selection         {statistics.median(select_times) * 1000:8.1f} ms (median of "
          f"{len(select_times)})")

    model1000 = residual_tower(1000, "tower1000")
    start = time.perf_counter()
    big = lab.graph(model1000)
    t_big = time.perf_counter() - start
    print(f"1,000-layer model: {len(big.layer_keys)} nodes, first render {t_big:.2f} s (goal < 3 s)")
    start = time.perf_counter()
    lab.graph(model1000, renderer="builtin")
    print(f"  same with the built-in layout (no dot): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
