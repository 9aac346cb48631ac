"""Activation viewer speed and memory, against one forward pass and a hand-written all-layers model.

    .venv/bin/python benchmarks/bench_activations.py
(`keract`, the usual tool, fails on Keras 3 with AttributeError '_is_compiled', so the comparison is the
hand-written `keras.Model(model.inputs, [layer.output for layer in model.layers])`.)
"""

from __future__ import annotations

import resource
import statistics
import time

import fapi_lab as lab

lab.quiet()
import keras  # noqa: E402
import numpy as np  # noqa: E402

from fapi_lab import patterns  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, model: keras.Model, x: np.ndarray) -> None:
    one = x[:1]
    model(one)  # build and trace the forward pass once
    forward = statistics.median([_time(lambda: model(one)) for _ in range(3)])
    hand = keras.Model(model.inputs[0], [layer.output for layer in model.layers[1:]])
    hand(one)
    hand_time = statistics.median([_time(lambda: hand(one)) for _ in range(3)])
    before = rss_mb()
    start = time.perf_counter()
    viewer = lab.activations(model, x)  # first view: builds the cached feature model, runs it on sample 0
    first = time.perf_counter() - start
    start = time.perf_counter()
    viewer.values(1 if len(x) > 1 else 0) if len(x) > 1 else lab.get_activations(model, x[:1])
    steady = time.perf_counter() - start
    keys = [k for k in viewer.layer_keys if k != viewer.layer_keys[0]]
    switches = []
    slowest = ""
    for key in keys[:: max(1, len(keys) // 12)]:
        start = time.perf_counter()
        viewer.select(key)
        switches.append(time.perf_counter() - start)
        if switches[-1] == max(switches):
            slowest = key
    viewer.select(max(keys, key=lambda k: viewer.values(0)[k][0].shape[-1] if viewer.values(0)[k][0].ndim == 3
                      else 0))  # the layer with the most channels
    pages = []
    for page in range(1, min(4, viewer._page.max + 1)):
        start = time.perf_counter()
        viewer._page.value = page
        pages.append(time.perf_counter() - start)
    print(f"{name}: {len(keys)} layer outputs, input {x.shape[1:]}")
    print(f"  one forward pass                    {forward * 1000:8.1f} ms")
    print(f"  hand-written all-layers model       {hand_time * 1000:8.1f} ms")
    print(f"  first view (incl. building)         {first * 1000:8.1f} ms   ratio first view/forward = "
          f"{first / forward:.2f}")
    print(f"  every layer for a new sample        {steady * 1000:8.1f} ms   ratio to one forward pass = "
          f"{steady / forward:.2f} (goal ≤ 1.5; the feature model is built once per model and cached)")
    print(f"  switching layer                     {statistics.median(switches) * 1000:8.1f} ms median, "
          f"max {max(switches) * 1000:.1f} ms ({slowest}) (goal < 50 ms)")
    if pages:
        print(f"  switching channel page              {statistics.median(pages) * 1000:8.1f} ms median")
    print(f"  peak memory growth for one sample   {rss_mb() - before:8.0f} MB (process peak {rss_mb():.0f} MB)")


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(0)
    measure("toy ResNet", patterns.toy_resnet(), rng.random((2, 32, 32, 3)).astype("float32"))
    vgg19, _ = patterns.vgg19_features()
    measure("VGG19 (weights=None)", vgg19, rng.random((2, 224, 224, 3)).astype("float32"))


if __name__ == "__main__":
    main()
