"""Building a model inside ``with lab.live():`` against building it plainly, in the same run.

    .venv/bin/python benchmarks/bench_live.py [--model ResNet50] [--repeat 5] [--every-call]

Prints the median wall time (runs taken in turn) of building ``keras.applications.<model>(weights=None)``
plainly and inside ``lab.live()`` (the graph and the shape table redrawn as layers are called, throttled, and the
last state drawn at the end), the ratio (the aim: at most 1.5 for ResNet50), how many pictures live drew on the
way, and the time of the picture the notebook saves at the end (``_repr_mimebundle_``, as for a ``lab.graph``).
``--every-call`` also times drawing at every layer call (what ``lab.live()`` did before it was throttled).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import fapi_lab as lab

lab.quiet()
import keras  # noqa: E402

from fapi_lab import _live  # noqa: E402


def interleaved(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[float, Any]]:
    """Median wall time of each function, run in turn ``repeat`` times (so a busy machine slows all alike)."""
    times: list[list[float]] = [[] for _ in fns]
    results: list[Any] = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            keras.backend.clear_session()
            start = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - start)
    return [(statistics.median(t), r) for t, r in zip(times, results, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ResNet50", help="a keras.applications model (built with weights=None)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--every-call", action="store_true",
                        help="also time live drawing a picture at every layer call (no throttle), once")
    args = parser.parse_args()
    build = getattr(keras.applications, args.model)
    build(weights=None)  # warm up: imports and first-call costs are no part of either time

    def plain() -> Any:
        return build(weights=None)

    def live() -> Any:
        with lab.live() as view:
            build(weights=None)
        return view

    (t_plain, model), (t_live, view) = interleaved([plain, live], args.repeat)
    start = time.perf_counter()
    view._repr_mimebundle_()
    t_saved = time.perf_counter() - start
    calls = sum(1 for n in view.graph.walk() if n.kind not in ("input", "group"))
    print(f"{args.model}: {calls} layer calls, {len(model.layers)} layers")
    print(f"  plain build          {t_plain:6.2f} s")
    print(f"  inside lab.live()    {t_live:6.2f} s   ratio {t_live / t_plain:.2f} (aim: at most 1.5)")
    print(f"  pictures drawn live  {_live.LAST_STATS['draws']} (at most one every {_live.MIN_INTERVAL:g} s, "
          f"and the last state at the end); {_live.LAST_STATS['seconds']:.2f} s of drawing")
    if args.every_call:
        saved = _live.MIN_INTERVAL, _live.SPACING
        _live.MIN_INTERVAL = _live.SPACING = 0.0
        try:
            ((t_every, _),) = interleaved([live], 1)
        finally:
            _live.MIN_INTERVAL, _live.SPACING = saved
        print(f"  a picture per call   {t_every:6.2f} s   ratio {t_every / t_plain:.2f} (no throttle: "
              f"{_live.LAST_STATS['draws']} pictures)")
    print(f"  saved picture        {t_saved:6.2f} s   (the notebook's copy at the end, as for lab.graph)")


if __name__ == "__main__":
    main()
