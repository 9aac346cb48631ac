"""Shape tracing speed on ResNet50, against the obvious alternatives on the same run.

    .venv/bin/python benchmarks/bench_shapes.py
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from contextlib import redirect_stdout

import fapi_lab as lab

lab.quiet()
import keras  # noqa: E402


def median_ms(fn: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    model = keras.applications.ResNet50(weights=None)
    trace = lab.shapes(model)
    print(f"ResNet50: {len(trace.rows)} rows, {trace.total_params:,} params (Keras: {model.count_params():,})")
    ours = median_ms(lambda: lab.shapes(model))
    html = median_ms(lambda: lab.shapes(model)._repr_html_())

    def summary() -> str:
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            model.summary()
        return buffer.getvalue()

    keras_summary = median_ms(summary)
    by_hand = median_ms(lambda: [(layer.name, tuple(layer.output.shape), layer.count_params())
                                 for layer in model.layers])
    print(f"  lab.shapes(model)                    {ours:7.1f} ms (goal < 200 ms)")
    print(f"  lab.shapes(model) + HTML table       {html:7.1f} ms")
    print(f"  model.summary() to a string          {keras_summary:7.1f} ms   ratio shapes/summary = "
          f"{ours / keras_summary:.2f}")
    print(f"  hand loop over layer.output.shape    {by_hand:7.1f} ms   (no arithmetic, no shared calls, no nesting)")


if __name__ == "__main__":
    main()
