"""Loss-weight lab speed, against recompiling and against plain model.fit on the same run.

    .venv/bin/python benchmarks/bench_loss_weights.py
"""

from __future__ import annotations

import statistics
import time

import fapi_lab as lab

lab.quiet()
import keras  # noqa: E402

from fapi_lab import patterns  # noqa: E402

LOSSES = [keras.losses.BinaryCrossentropy(from_logits=True), keras.losses.CategoricalCrossentropy(from_logits=True)]


def main() -> None:
    x, y = lab.datasets.ticket_data(n=1280, seed=0)
    keras.utils.set_random_seed(0)
    panel = lab.loss_weights(patterns.ticket_model(), x, y, losses=LOSSES, weights=[1.0, 0.2])
    moves = []
    for value in [0.5, 1.0, 2.0, 5.0, 0.2, 0.05, 10.0, 1.0]:
        start = time.perf_counter()
        panel._sliders["department"].value = value  # exactly what a slider move does in the kernel
        _ = panel._readout.value
        moves.append(time.perf_counter() - start)
    print(f"ticket model, 1,280 samples ({len(panel.x_val['title'])} in the validation read-out)")
    print(f"  slider move → read-out updated     {statistics.median(moves) * 1000:8.2f} ms (median of {len(moves)}; "
          f"goal < 50 ms)")

    # changing a weight: assign a variable vs compile again (and pay the retrace on the next step)
    model = panel.model
    batch = ({k: v[:32] for k, v in x.items()}, {k: v[:32] for k, v in y.items()})
    model.train_on_batch(*batch)  # warm up: the training step is traced once
    start = time.perf_counter()
    panel.set_weight("department", 0.3)
    model.train_on_batch(*batch)
    t_variable = time.perf_counter() - start
    twin = patterns.ticket_model()
    twin.compile(optimizer="rmsprop", loss=LOSSES, loss_weights=[1.0, 0.2])
    twin.train_on_batch({k: v[:32] for k, v in x.items()}, {k: v[:32] for k, v in y.items()})
    start = time.perf_counter()
    twin.compile(optimizer=twin.optimizer, loss=LOSSES, loss_weights=[1.0, 0.3])
    twin.train_on_batch({k: v[:32] for k, v in x.items()}, {k: v[:32] for k, v in y.items()})
    t_recompile = time.perf_counter() - start
    print(f"  new weight + one training step: variable {t_variable * 1000:.1f} ms, "
          f"recompile {t_recompile * 1000:.1f} ms (ratio {t_variable / t_recompile:.3f})")

    # one epoch from the panel (with its per-epoch read-out and plot) vs the same plain model.fit epoch
    panel.train(epochs=1)  # warm up
    twin.fit(panel.x_train, panel.y_train, epochs=1, batch_size=32, verbose=0)
    for epochs in (1, 3):
        ours, plain = [], []
        for _ in range(5):
            start = time.perf_counter()
            panel.train(epochs=epochs)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            twin.fit(panel.x_train, panel.y_train, epochs=epochs, batch_size=32, verbose=0)
            plain.append(time.perf_counter() - start)
        o, p = statistics.median(ours) / epochs, statistics.median(plain) / epochs
        print(f"  {epochs}-epoch run: per epoch from the panel {o:6.2f} s, plain model.fit {p:6.2f} s, "
              f"ratio {o / p:.2f} (goal ≤ 1.1; the panel also re-measures the validation read-out once per run)")


if __name__ == "__main__":
    main()
