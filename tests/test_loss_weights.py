"""lab.loss_weights: sliders change what training minimises, without recompiling; Keras agrees on the total."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import fapi_lab as lab
from fapi_lab import patterns


@pytest.fixture(scope="module")
def ticket_data():
    return lab.datasets.ticket_data(n=256, seed=0)


def uncompiled_ticket_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return patterns.ticket_model()


LOSSES_LIST = [
    keras.losses.BinaryCrossentropy(from_logits=True),
    keras.losses.CategoricalCrossentropy(from_logits=True),
]


@pytest.mark.parametrize("form", ["list", "dict"])
def test_total_loss_equals_the_weighted_sum_keras_computes(ticket_data, form: str) -> None:
    x, y = ticket_data
    model = uncompiled_ticket_model()
    names = ["priority", "department"]
    losses = LOSSES_LIST if form == "list" else dict(zip(names, LOSSES_LIST, strict=True))
    panel = lab.loss_weights(model, x, y, losses=losses)
    panel.set_weight("priority", 2.5)
    panel.set_weight("department", 0.3)
    history = panel.model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    logged = history.history
    # the panel's per-output logs are weighted contributions; their sum is the total Keras reports
    assert logged["loss"][0] == pytest.approx(logged["priority_loss"][0] + logged["department_loss"][0], rel=1e-4)
    # an independent model compiled with Keras's own loss_weights, same weights, same form, agrees
    twin = uncompiled_ticket_model()
    twin.set_weights(model.get_weights())
    weights = [2.5, 0.3] if form == "list" else {"priority": 2.5, "department": 0.3}
    twin.compile(optimizer="rmsprop", loss=losses, loss_weights=weights)
    ours = model.evaluate(x, y, verbose=0, return_dict=True)
    theirs = twin.evaluate(x, y, verbose=0, return_dict=True)
    assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-4)
    unweighted = {n: theirs[f"{n}_loss"] for n in names}
    assert ours["loss"] == pytest.approx(2.5 * unweighted["priority"] + 0.3 * unweighted["department"], rel=1e-4)


def test_slider_updates_the_readout_without_training(ticket_data) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST, weights=[1.0, 0.2])
    before = panel.readout()
    panel._sliders["department"].value = 5.0  # what moving the slider or typing in the box does
    after = panel.readout()
    assert after["department"]["weight"] == 5.0
    assert after["department"]["weighted"] == pytest.approx(5.0 * before["department"]["loss"])
    assert after["priority"] == before["priority"]
    assert "× 5" in panel._readout.value
    assert panel.variables["department"].numpy() == pytest.approx(5.0)


def test_social_media_lesson_equal_weights_let_age_dominate() -> None:
    x, y = lab.datasets.social_media_data(n=256, seed=0)
    panel = lab.loss_weights(patterns.social_media_model(), x, y, weights=[1, 1, 1])
    assert "age</b> dominates" in panel._readout.value
    for name, w in zip(["age", "income", "gender"], [0.25, 1, 10], strict=True):
        panel.set_weight(name, w)
    r = panel.readout()
    share = r["age"]["weighted"] / panel.total
    assert share < r["age"]["loss"] / sum(v["loss"] for v in r.values())


def test_training_runs_are_kept_and_drawn(ticket_data) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST)
    first = panel.train(epochs=2)
    panel.set_weight("department", 0.1)
    second = panel.train(epochs=1)
    assert panel.runs == [first, second] and len(first.losses["priority"]) == 2
    assert second.weights["department"] == pytest.approx(0.1)
    assert panel._plot.value.count("<polyline") == 2 * 2 and "run 2: priority=1, department=0.1" in panel._plot.value


def test_compiled_list_losses_with_dict_weights_warns(ticket_data) -> None:
    x, y = ticket_data
    model = uncompiled_ticket_model()
    model.compile(optimizer="rmsprop", loss=LOSSES_LIST, loss_weights={"department": 0.2, "priority": 1.0})
    panel = lab.loss_weights(model, x, y)
    assert any("LIST of losses and a DICT" in w for w in panel.warnings)
    assert "pairs them by position" in panel._message.value


def test_a_model_trained_in_the_panel_saves_and_loads(ticket_data, tmp_path) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST, weights=[1.0, 0.4])
    panel.model.save(tmp_path / "ticket.keras")
    loaded = keras.models.load_model(tmp_path / "ticket.keras")
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(panel.model.evaluate(x, y, verbose=0), rel=1e-4)


def test_bad_input(ticket_data) -> None:
    x, y = ticket_data
    with pytest.raises(ValueError, match="nothing to weigh"):
        lab.loss_weights(patterns.mnist_mlp(), np.zeros((4, 784)), np.zeros((4,)), losses=["mse"])
    with pytest.raises(ValueError, match="not compiled and no losses were given"):
        lab.loss_weights(uncompiled_ticket_model(), x, y)
    with pytest.raises(ValueError, match="2 outputs"):
        lab.loss_weights(uncompiled_ticket_model(), x, y, losses=["mse"] * 3)
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST)
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        panel.set_weight("priority", -1)
    with pytest.raises(ValueError, match="must be a number"):
        panel.set_weight("priority", "heavy")
    with pytest.raises(KeyError, match="no output 'age'"):
        panel.set_weight("age", 1)


def test_training_errors_show_in_the_panel(ticket_data) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST)
    panel.y_train = {"priority": y["priority"][:10], "department": y["department"]}  # inconsistent lengths
    with pytest.raises(ValueError):
        panel.train(1)
    assert "Training failed" in panel._message.value


# --- Exactly what the user gave (issue 15, class 6) ---------------------------------------------------------------

def test_a_typed_weight_is_used_exactly_and_the_slider_follows(ticket_data) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST)
    for typed in (0.05, 0.0, 1e9, 123.456, 0.003):
        panel._sliders["department"].value = typed          # what typing in the box does
        assert panel.weights["department"] == pytest.approx(typed, rel=1e-7, abs=0)
        assert panel._sliders["department"].value == typed, "the box keeps what was typed"
        assert 0.01 <= panel._logs["department"].value <= 100
    assert panel._logs["department"].value == pytest.approx(0.01)  # 0.003 is below the slider: it rests at its end


def test_moving_the_slider_proposes_a_rounded_weight(ticket_data) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST)
    panel._logs["priority"].value = 10 ** -1.3                # 0.0501187…
    assert panel._sliders["priority"].value == 0.05 and panel.weights["priority"] == pytest.approx(0.05, rel=1e-7)


def test_a_bad_typed_weight_is_refused_and_the_box_shows_the_weight_in_use(ticket_data) -> None:
    x, y = ticket_data
    panel = lab.loss_weights(uncompiled_ticket_model(), x, y, losses=LOSSES_LIST, weights=[1.0, 0.2])
    panel._sliders["department"].value = -3.0
    assert panel.weights["department"] == pytest.approx(0.2) and panel._sliders["department"].value == \
        pytest.approx(0.2)
    assert "must be a finite number &gt;= 0, not -3.0" in panel._message.value
    panel._sliders["department"].value = 0.3
    assert "must be" not in panel._message.value, "a good weight clears the message"


def test_the_total_includes_regularization_as_keras_does() -> None:
    keras.utils.set_random_seed(0)
    x_in = keras.Input((4,), name="x")
    h = keras.layers.Dense(8, name="h", kernel_regularizer=keras.regularizers.l2(0.1))(x_in)
    model = keras.Model(x_in, {"score": keras.layers.Dense(1, name="dense_a")(h),
                               "klass": keras.layers.Dense(3, name="dense_b")(h)}, name="regularized")
    rng = np.random.default_rng(0)
    x = rng.random((40, 4)).astype("float32")
    y = {"score": rng.random((40, 1)).astype("float32"), "klass": rng.integers(0, 3, 40)}
    losses = {"score": "mse", "klass": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}
    panel = lab.loss_weights(model, x, y, losses=losses, weights={"score": 0.5, "klass": 2.0},
                             validation_split=0.25)
    assert panel.names == ["score", "klass"], "the dict keys, not the layer names dense_a/dense_b"
    assert panel.regularization > 0 and "regularization" in panel._readout.value
    keras_total = model.evaluate(panel.x_val, panel.y_val, batch_size=64, verbose=0, return_dict=True)["loss"]
    assert panel.total == pytest.approx(keras_total, rel=1e-4)


def test_recompiling_keeps_the_users_compile_settings(ticket_data) -> None:
    x, y = ticket_data
    model = uncompiled_ticket_model()
    model.compile(optimizer="adam", loss=LOSSES_LIST, metrics={"department": ["accuracy"]}, run_eagerly=True,
                  steps_per_execution=2)
    panel = lab.loss_weights(model, x, y)
    assert model.run_eagerly is True and model.steps_per_execution == 2
    history = panel.model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    assert "department_accuracy" in history.history


def test_targets_shorter_than_x_get_a_plain_message(ticket_data) -> None:
    x, y = ticket_data
    short = {"priority": y["priority"][:100], "department": y["department"]}
    with pytest.raises(ValueError, match=r"x has 256 samples but the targets do not: 'priority' has 100"):
        lab.loss_weights(uncompiled_ticket_model(), x, short, losses=LOSSES_LIST)
