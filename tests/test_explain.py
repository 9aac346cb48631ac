"""lab.explain(): each error students hit, built for real, explained with both shapes and a fix."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import fapi_lab as lab


def caught(fn) -> BaseException:
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def test_add_with_unequal_shapes_suggests_a_projection() -> None:
    x = keras.Input((8, 8, 4), name="img")
    err = caught(lambda: layers.add([layers.Conv2D(8, 3, padding="same", name="main")(x), x], name="res"))
    e = lab.explain(err)
    assert e.recognised and e.shapes == ["(8, 8, 8)", "(8, 8, 4)"]
    assert "1×1 convolution" in e.fix and "(8, 8, 8)" in str(e) and "(8, 8, 4)" in str(e)


def test_multiply_with_unequal_shapes() -> None:
    x = keras.Input((8, 8, 4), name="img")
    e = lab.explain(caught(lambda: layers.Multiply(name="gate")([layers.Conv2D(8, 3, name="c")(x), x])))
    assert e.shapes == ["(6, 6, 8)", "(8, 8, 4)"] and "padding='same'" in e.fix


def test_concatenate_branches_that_do_not_line_up() -> None:
    x = keras.Input((8, 8, 4), name="img")
    err = caught(lambda: layers.concatenate([layers.Conv2D(8, 3, name="b1")(x), layers.Conv2D(8, 1, name="b2")(x)],
                                            name="cat"))
    e = lab.explain(err)
    assert e.shapes == ["(None, 6, 6, 8)", "(None, 8, 8, 8)"] and "padding='same'" in e.fix


def test_dense_on_an_image_without_flatten() -> None:
    x = keras.Input((28, 28, 1), name="img")
    model = keras.Model(x, layers.Dense(10, name="classify")(x), name="no_flatten")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    err = caught(lambda: model.fit(np.zeros((4, 28, 28, 1)), np.zeros((4,)), verbose=0))
    e = lab.explain(err)
    assert "(None, 28, 28, 10)" in e.shapes and "(None,)" in e.shapes and "Flatten" in e.fix


def test_reshape_with_a_different_element_count() -> None:
    x = keras.Input((8, 8, 4), name="img")
    e = lab.explain(caught(lambda: layers.Reshape((5, 5), name="rs")(x)))
    assert e.shapes == ["(8, 8, 4)", "(5, 5)"] and "256" in e.why and "25" in e.why and "-1" in e.fix


def test_disconnected_graph() -> None:
    x, other = keras.Input((4,), name="x"), keras.Input((4,), name="other")
    e = lab.explain(caught(lambda: keras.Model(x, layers.Dense(2, name="d")(other))))
    assert "disconnected" in e.title and "lab.graph" in e.fix


def test_calling_a_model_with_the_wrong_number_or_shape_of_inputs() -> None:
    x = keras.Input((4,), name="features")
    model = keras.Model(x, layers.Dense(2, name="d")(x), name="small")
    e = lab.explain(caught(lambda: model.predict([np.zeros((1, 4)), np.zeros((1, 4))], verbose=0)))
    assert e.layer == "small" and "1 input" in e.why and "2" in e.why and "dict" in e.fix
    e = lab.explain(caught(lambda: model.predict(np.zeros((1, 5)), verbose=0)))
    assert e.shapes == ["(None, 4)", "(1, 5)"] and "keras.Input" in e.fix


def test_keras1_keywords() -> None:
    x = keras.Input((4,), name="x")
    e = lab.explain(caught(lambda: keras.Model(input=x, output=layers.Dense(2, name="d")(x))))
    assert "inputs=" in e.fix and "Keras 1" in e.title


def test_unknown_errors_are_shown_unchanged() -> None:
    e = lab.explain(RuntimeError("something else entirely"))
    assert not e.recognised and e.original == "something else entirely" and "something else entirely" in str(e)
    assert "<pre>something else entirely</pre>" in e._repr_html_()


def test_html_is_escaped() -> None:
    e = lab.explain("Inputs have incompatible shapes. Received shapes (1, <script>) and (2,)")
    assert "<script>" not in e._repr_html_() and "&lt;script&gt;" in e._repr_html_()


def test_a_built_layer_called_on_a_tensor_of_another_size() -> None:
    model = lab.patterns.mnist_mlp()
    with pytest.raises(ValueError) as info:
        model.get_layer("dense_1")(keras.Input((100,)))
    e = lab.explain(info.value)
    assert e.recognised and e.layer == "dense_1"
    assert "inputs of size 784" in e.title and "(None, 100)" in e.title
    assert "Dense(784)" in e.fix


# --- Advice that fits the tensors (issue 15, class 5): every error below is Keras's own, made for real ------------

def test_vectors_are_told_to_use_a_dense_projection_not_a_convolution() -> None:
    e = lab.explain(caught(lambda: layers.add([keras.Input((64,)), keras.Input((10,))])))
    assert e.shapes == ["(64,)", "(10,)"] and "Dense(64)" in e.fix
    assert "1×1" not in e.fix and "Conv" not in e.fix and "padding" not in e.fix


def test_sequences_are_told_to_project_each_step() -> None:
    e = lab.explain(caught(lambda: layers.add([keras.Input((5, 64)), keras.Input((5, 10))])))
    assert "Dense(64)" in e.fix and "Conv2D" not in e.fix and "each step" in e.fix


def test_concatenate_on_another_axis_names_the_axes_that_differ() -> None:
    err = caught(lambda: layers.Concatenate(axis=1)([keras.Input((4, 8)), keras.Input((5, 9))]))
    e = lab.explain(err)
    assert "axes 1 and 2" in e.why and "axes 1 and 2" in e.fix and "Inception" not in e.fix
    one = lab.explain(caught(lambda: layers.Concatenate()([keras.Input((4, 8)), keras.Input((5, 8))])))
    assert "axis 1 " in one.why and "Concatenate(axis=1)" in one.fix


def test_one_hot_labels_with_a_sparse_loss_name_the_categorical_loss() -> None:
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(3, name="scores")(x))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    e = lab.explain(caught(lambda: model.fit(np.zeros((8, 4)), np.eye(3)[np.zeros(8, int)], verbose=0)))
    assert e.title == "One-hot labels with a sparse loss"
    assert "CategoricalCrossentropy" in e.fix and "argmax" in e.fix and "Flatten" not in e.fix


@pytest.mark.parametrize("labels", [np.zeros(8, int), np.zeros((8, 1), int)], ids=["vector", "column"])
def test_class_numbers_with_a_categorical_loss_name_the_sparse_loss(labels: np.ndarray) -> None:
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(3, name="scores")(x))
    model.compile("adam", "categorical_crossentropy")
    e = lab.explain(caught(lambda: model.fit(np.zeros((8, 4)), labels, verbose=0)))
    assert "SparseCategoricalCrossentropy" in e.fix and "to_categorical(y, 3)" in e.fix


def test_dense_on_unflattened_28_by_28_images_suggests_flatten() -> None:
    x = keras.Input((28, 28), name="img")
    model = keras.Model(x, layers.Dense(10, name="classify")(layers.Dense(64, name="hidden")(x)))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    e = lab.explain(caught(lambda: model.fit(np.zeros((8, 28, 28)), np.zeros(8, int), verbose=0)))
    assert "Flatten" in e.fix and "28 vectors per sample" in e.why


def test_reshape_with_minus_one_that_does_not_divide() -> None:
    e = lab.explain(caught(lambda: layers.Reshape((-1, 7))(keras.Input((10,)))))
    assert e.recognised and "10" in e.why and "7" in e.why and "-1" in e.title
    two = lab.explain(caught(lambda: layers.Reshape((-1, -1))(keras.Input((10,)))))
    assert two.recognised and "more than one -1" in two.title


def test_an_lstm_given_vectors_is_told_about_the_time_axis() -> None:
    e = lab.explain(caught(lambda: layers.LSTM(4, name="reader")(keras.Input((10,)))))
    assert e.layer == "reader" and "sequence" in e.title and "Embedding" in e.fix and "Reshape((10, 1))" in e.fix


def test_a_conv2d_given_grayscale_images_without_channels() -> None:
    e = lab.explain(caught(lambda: layers.Conv2D(4, 3, name="conv")(keras.Input((28, 28)))))
    assert "feature map" in e.title and "(28, 28, 1)" in e.fix


def test_a_custom_layer_loaded_without_custom_objects(tmp_path) -> None:
    class Doubler(layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential([keras.Input((3,)), Doubler(name="twice")], name="doubling")
    model.save(tmp_path / "m.keras")
    e = lab.explain(caught(lambda: keras.models.load_model(tmp_path / "m.keras")))
    assert e.recognised and "custom_objects={'Doubler': Doubler}" in e.fix


def test_saving_without_the_right_extension(tmp_path) -> None:
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(2, name="d")(x))
    assert ".keras" in lab.explain(caught(lambda: model.save(tmp_path / "m"))).fix
    assert ".weights.h5" in lab.explain(caught(lambda: model.save_weights(tmp_path / "w"))).fix


def test_a_disconnected_model_names_the_input_the_output_comes_from() -> None:
    x1, x2 = keras.Input((4,), name="title"), keras.Input((6,), name="body")
    y = layers.Dense(2, name="d")(x2)
    err = caught(lambda: keras.Model(x1, y))
    e = lab.explain(err, y)
    assert "'body' (None, 6)" in e.why and "'body'" in e.fix
    assert "lab.explain(error, outputs)" in lab.explain(err).fix  # without the tensors it says how to get this


def test_the_input_shape_quoted_is_the_one_the_model_declares() -> None:
    x = keras.Input((4,), name="features")
    model = keras.Model(x, layers.Dense(2, name="d")(x), name="small")
    e = lab.explain(caught(lambda: model.predict(np.zeros((2, 5)), verbose=0)))
    assert e.shapes == [str(tuple(model.inputs[0].shape)), "(2, 5)"]


# --- Never raises, whatever it is given ----------------------------------------------------------------------------

class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class _Hopeless(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


@pytest.mark.parametrize("thing", [_Unprintable("x"), _Hopeless(), None, 42, b"bytes", object(),
                                   ValueError(None), KeyError(("a", 1)), ValueError("\x1b[1mInputs have "
                                   "incompatible shapes. Received shapes (3,) and\x1b[0m (4,)")])
def test_explain_never_raises(thing) -> None:
    e = lab.explain(thing)
    assert isinstance(str(e), str) and isinstance(e._repr_html_(), str)


def test_a_static_batch_inside_a_custom_layer_points_at_keras_ops_shape() -> None:
    class StaticZeros(layers.Layer):
        def call(self, x):
            import tensorflow as tf

            return tf.zeros((x.shape[0], 4))

    e = lab.explain(caught(lambda: StaticZeros(name="rnn")(keras.Input((10, 5)))))
    assert e.recognised and e.layer == "rnn" and "keras.ops.shape(x)[0]" in e.fix


def test_legacy_h5_files_that_cannot_train_or_load(tmp_path) -> None:
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(2, activation="softmax", name="d")(x))
    model.compile("rmsprop", "categorical_crossentropy")
    data, labels = np.zeros((4, 4)), np.eye(2)[[0, 1, 0, 1]]
    model.fit(data, labels, verbose=0)
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5")
    e = lab.explain(caught(lambda: loaded.fit(data, labels, verbose=0)))
    assert e.recognised and "compile=False" in e.fix
    model.compile("rmsprop", "mse")
    model.save(tmp_path / "mse.h5")
    e = lab.explain(caught(lambda: keras.models.load_model(tmp_path / "mse.h5")))
    assert e.recognised and "mean_squared_error" in e.fix


def test_an_overwritten_input_variable_is_named() -> None:
    """Document 004's siamese example: right_input = base(right_input), then Model([left, right_input], …)."""
    left, right = keras.Input((4,), name="left_image"), keras.Input((4,), name="right_image")
    base = layers.Dense(3, name="xception")
    left_features = base(left)
    right = base(right)  # the Input variable is overwritten
    merged = layers.concatenate([left_features, right], name="merged")
    err = caught(lambda: keras.Model([left, right], merged))
    e = lab.explain(err, merged, inputs=[left, right])
    assert "inputs[1] is not an Input" in e.why and "'xception'" in e.why and "'right_image'" in e.fix


def test_one_loss_with_a_list_of_weights() -> None:
    x = keras.Input((4,), name="x")
    model = keras.Model(x, [layers.Dense(1, name="a")(x), layers.Dense(1, name="b")(x)])
    model.compile("rmsprop", "mse", loss_weights=[1.0, 0.2])
    e = lab.explain(caught(lambda: model.fit(np.zeros((4, 4)), [np.zeros((4, 1))] * 2, verbose=0)))
    assert e.recognised and "one loss per output" in e.fix


def test_yaml_merge_and_savedmodel_folders(tmp_path) -> None:
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(2, name="d")(x))
    assert "to_json" in lab.explain(caught(lambda: model.to_yaml())).fix
    assert "concatenate" in lab.explain(caught(lambda: layers.merge([x, x], mode="concat"))).fix
    model.export(tmp_path / "served", verbose=False)
    e = lab.explain(caught(lambda: keras.models.load_model(tmp_path / "served")))
    assert e.recognised and "TFSMLayer" in e.fix and ".keras" in e.fix
