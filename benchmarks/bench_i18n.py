"""What the message catalogues cost: one message, and a whole ResNet50 picture, in English and in Chinese.

    .venv/bin/python benchmarks/bench_i18n.py

Prints the cost of one ``_()`` call (English by default, with the default worked out from the environment,
folder and locale; Chinese chosen by ``lab.language``) against a plain string, and ResNet50 (177 layers) read +
DOT in English and in Chinese (medians of several runs): the ratio says what translation adds to a picture.
"""

from __future__ import annotations

import statistics
import time
import timeit

import fapi_lab as lab

lab.quiet()
import keras  # noqa: E402

from fapi_lab import _i18n  # noqa: E402
from fapi_lab import _keras_adapter as adapter  # noqa: E402
from fapi_lab._render_dot import GraphOptions, to_dot  # noqa: E402

N = 200_000


def per_call(fn) -> float:
    return timeit.timeit(fn, number=N) / N * 1e6


def median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    plain = per_call(lambda: "same weights")
    english = per_call(lambda: _i18n._("same weights"))
    lab.language("zh")
    chinese = per_call(lambda: _i18n._("same weights"))
    _i18n._chosen.clear()
    print(f"one message: plain string {plain:.2f} µs, _() English (default) {english:.2f} µs, "
          f"_() Chinese {chinese:.2f} µs")
    model = keras.applications.ResNet50(weights=None)
    graph = adapter.read(model)
    options = GraphOptions()
    en = median_ms(lambda: to_dot(adapter.read(model), options))
    lab.language("zh")
    zh = median_ms(lambda: to_dot(adapter.read(model), options))
    _i18n._chosen.clear()
    print(f"ResNet50 ({len(graph.nodes)} boxes) read + DOT: English {en:.1f} ms, Chinese {zh:.1f} ms "
          f"(ratio {zh / en:.2f})")


if __name__ == "__main__":
    main()
