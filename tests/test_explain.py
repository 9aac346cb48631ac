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
