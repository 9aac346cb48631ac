"""lab.shapes(): every layer call's shapes, the arithmetic behind them, and the same numbers Keras computes."""

from __future__ import annotations

import html

import keras
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab import patterns
from fapi_lab._keras_adapter import read
from fapi_lab._render_dot import format_shape


def row_text(trace: lab.ShapeTrace, call: str) -> str:
    r = trace.row(call)
    return f"{r.explanation} | {r.param_formula}"


def test_the_issues_worked_examples() -> None:
    x = keras.Input((28, 28, 1), name="img")
    c = layers.Conv2D(16, 3, name="conv")(x)
    p = layers.MaxPooling2D(3, name="pool")(layers.Conv2D(16, 3, name="conv_b")(c))  # 24×24 → 8×8
    u = layers.UpSampling2D(3, name="up")(p)  # 8×8 → 24×24
    small = keras.Input((4, 4, 1), name="small")
    t = layers.Conv2DTranspose(8, 3, name="deconv")(small)  # 4×4 → 6×6
    flat = layers.Flatten(name="flat")(x)
    d = layers.Dense(64, name="dense")(flat)
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    e = layers.Embedding(10000, 64, name="embed")(tokens)
    s = layers.LSTM(32, name="lstm")(e)
    seq = layers.LSTM(32, return_sequences=True, name="lstm_seq")(e)
    model = keras.Model([x, small, tokens], [u, t, d, s, seq], name="examples")
    trace = lab.shapes(model)
    assert "Conv2D 3×3, stride 1, padding valid on 28×28×1 with 16 filters → 26×26×16, because ⌊(28 − 3)/1⌋ + 1 = 26" \
        in row_text(trace, "conv")
    assert "3·3·1·16 + 16 = 160" in row_text(trace, "conv")
    assert "24×24×16 → 8×8×16" in row_text(trace, "pool") and "⌊(24 − 3)/3⌋ + 1 = 8" in row_text(trace, "pool")
    assert "8×8×16 → 24×24×16" in row_text(trace, "up") and "8·3 = 24" in row_text(trace, "up")
    assert "4×4×1 with 8 filters → 6×6×8" in row_text(trace, "deconv")
    assert "Flatten multiplies: 28·28·1 = 784" in row_text(trace, "flat")
    assert "Dense(64) on 784 → 64" in row_text(trace, "dense") and "784·64 + 64 = 50,240" in row_text(trace, "dense")
    assert "length None" in row_text(trace, "embed") and "(None, None, 64)" in row_text(trace, "embed")
    assert "10,000·64 = 640,000" in row_text(trace, "embed")
    assert "last state only: (32,)" in row_text(trace, "lstm") and "4·(32·(64+32)+32) = 12,416" in row_text(
        trace, "lstm")
    assert "whole sequence" in row_text(trace, "lstm_seq")
    assert trace.total_params == model.count_params()


def test_merges_reshape_global_pooling_and_time_distributed() -> None:
    trace = lab.shapes(patterns.ticket_model())
    assert "128 + 32 + 12 = 172" in row_text(trace, "features")
    resnet = lab.shapes(patterns.toy_resnet())
    assert "needs equal shapes: (None, 9, 9, 64) and (None, 9, 9, 64)" in row_text(resnet, "block_2_output")
    assert "7×7×64 → (64,)" in row_text(resnet, "global_pool")
    auto = lab.shapes(patterns.nested_autoencoder()[-1])
    assert "16 = 4·4·1" in row_text(auto, "decoder/reshape")
    td = lab.shapes(patterns.time_distributed())
    assert "over the time axis: each of the 20 steps (None, 784) → (None, 10)" in row_text(td, "per_frame")


def test_rows_hold_the_data_a_user_reads() -> None:
    trace = lab.shapes(patterns.siamese_lstm())
    row = trace.row("lstm#1")
    assert row.call == "lstm#1" and row.input_shapes == [(None, None, 128)] and row.output_shapes == [(None, 32)]
    assert row.params == 0 and trace.row("lstm").params == 20_608
    assert "shares the weights" in row.param_formula
    assert "<table" in trace._repr_html_() and "lstm#1" in str(trace)


def test_unknown_layer_still_gets_shapes() -> None:
    x = keras.Input((10, 3), name="seq")
    y = layers.CategoryEncoding(14, output_mode="multi_hot", name="pad")(layers.Flatten(name="flat")(x))
    row = lab.shapes(keras.Model(x, y, name="padded")).row("pad")
    assert row.output_shapes == [(None, 14)] and not row.formula_known
    assert "no formula is known" in row.explanation


def all_models() -> list[tuple[str, keras.Model]]:
    found = []
    for name, build in patterns.BUILDERS.items():
        if name == "vgg19_features":
            built = build(input_shape=(32, 32, 3))
        elif name == "siamese_vision":
            built = build(input_shape=(71, 71, 3))
        else:
            built = build()
        for i, m in enumerate(built if isinstance(built, tuple) else (built,)):
            if isinstance(m, keras.Model) and not read(m).subclassed:
                found.append((f"{name}[{i}]", m))
    for app in ("ResNet50", "MobileNetV2", "InceptionV3"):
        found.append((app, getattr(keras.applications, app)(weights=None)))
    return found


def test_traced_shapes_and_params_equal_keras_for_every_model() -> None:
    for name, model in all_models():
        trace = lab.shapes(model)
        assert trace.total_params == model.count_params(), name
        for row in trace.rows:
            assert "but Keras computed" not in row.explanation, (name, row)
        # an independent check: a layer called once outputs what Keras says its output is
        calls = {r.call for r in trace.rows}
        for layer in model.layers:
            if isinstance(layer, keras.Model) or layer.name not in calls or f"{layer.name}#1" in calls:
                continue
            output = layer.output  # public: the output of the layer's one call
            if isinstance(output, keras.KerasTensor):
                assert trace.row(layer.name).output_shapes[0] == tuple(output.shape), (name, layer.name)


def test_selection_links_table_and_graph_both_ways() -> None:
    model = patterns.ticket_model()
    table, view = lab.shapes(model).widget(), lab.graph(model)
    lab.link_selection(table, view)
    view.select("title_lstm")
    assert table.selected == "title_lstm" and "background:#fee2e2" in table._repr_mimebundle_()[0]["text/html"]
    table.select("department")
    assert view.selected == "department"
    table.selected = "priority"  # a click on a row in the browser sets the synced trait
    assert view.selected == "priority"
    view.select(None)
    assert table.selected == ""
    table.selected = "no_such_layer"  # only rows can be chosen
    assert table.selected == "" and view.selected == ""


def test_a_shape_never_wraps_and_the_compact_table_scrolls_to_its_box() -> None:
    trace = lab.shapes(patterns.ticket_model())
    full = trace._repr_html_()
    assert full.count("white-space:nowrap") >= 2 * len(trace.rows) and "why this shape" in full
    compact = trace._repr_html_("title_lstm", compact=True, max_height=260)
    assert "why this shape" not in compact and "input shape" not in compact
    assert "max-height:260px;overflow-y:auto" in compact
    assert compact.endswith(f"{html.escape(trace.row('title_lstm').explanation)}</div>"), "the arithmetic below"
    table = trace.widget(compact=True, max_height=260)
    assert table.rows[0] == {"call": trace.rows[0].call, "layer": trace.rows[0].layer_class,
                             "inputs": [format_shape(s) for s in trace.rows[0].input_shapes],
                             "outputs": [format_shape(s) for s in trace.rows[0].output_shapes],
                             "params": f"{trace.rows[0].params:,}", "formula": trace.rows[0].param_formula,
                             "why": trace.rows[0].explanation, "known": trace.rows[0].formula_known}
    assert table.compact and table.max_height == 260 and table.total == f"{trace.total_params:,}"


def test_live_trace_grows_and_errors_are_explained() -> None:
    with lab.live() as view:
        x = keras.Input((8, 8, 4), name="img")
        layers.Conv2D(8, 3, name="conv")(x)
    table = view.children[-1].value
    assert "conv" in table and "⌊(8 − 3)/1⌋ + 1 = 6" in table
    with pytest.raises(ValueError), lab.live() as view:
        x = keras.Input((8, 8, 4), name="img")
        h = layers.Conv2D(8, 3, name="conv")(x)
        layers.add([h, x], name="residual")
    assert "padding=&#x27;same&#x27;" in view._notice.value and "(6, 6, 8)" in view._notice.value


def test_live_draws_few_pictures_and_always_the_last_state() -> None:
    from fapi_lab import _live

    with lab.live() as view:
        h = keras.Input((4,), name="x")
        for i in range(40):
            h = layers.Dense(4, name=f"d{i}")(h)
    assert 2 <= _live.LAST_STATS["draws"] < 41, "throttled: fewer pictures than calls, the first and the last"
    assert {n.key for n in view.graph.walk() if n.kind != "group"} >= {"x", *(f"d{i}" for i in range(40))}
    assert ">d39</code>" in view.children[-1].value and "<b>800</b>" in view.children[-1].value, "the last state"


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"lab\.shapes"):
        lab.shapes(42)
    with pytest.raises(ValueError, match="subclassed"):
        lab.shapes(patterns.subclassed_mlp())
