"""lab.datasets: keras-shaped arrays, offline, never hanging, saying which source it used."""

from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from fapi_lab import datasets


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Keras home, no FAPI_LAB_DATA, and a network that is never really asked."""
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("FAPI_LAB_DATA", raising=False)
    monkeypatch.setattr(datasets, "_unreachable", set())
    return home


def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets.socket, "create_connection", refuse)


def test_mnist_standin_has_keras_shapes_and_dtypes(monkeypatch, capsys) -> None:
    unreachable(monkeypatch)
    (x_train, y_train), (x_test, y_test) = datasets.mnist()
    assert x_train.dtype == np.uint8 and x_train.ndim == 3 and x_train.shape[1:] == (28, 28)
    assert y_train.dtype == np.uint8 and y_train.ndim == 1 and len(y_train) == len(x_train)
    assert x_test.shape[1:] == (28, 28) and y_test.shape == (len(x_test),)
    assert (len(x_train), len(x_test)) == (1438, 359)
    assert set(np.unique(y_train)) == set(range(10)) and x_train.max() == 255 and x_train.min() == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and line == datasets.last_source("mnist")
    assert line.startswith("mnist: offline stand-in") and "unreachable" in line


def test_cifar10_standin_has_keras_shapes_and_dtypes(monkeypatch) -> None:
    unreachable(monkeypatch)
    (x_train, y_train), (x_test, y_test) = datasets.cifar10(verbose=False)
    assert x_train.dtype == np.uint8 and x_train.shape[1:] == (32, 32, 3)
    assert y_train.dtype == np.uint8 and y_train.shape == (len(x_train), 1)
    assert y_test.shape == (len(x_test), 1)
    # the three channels really differ (colour), unlike a grey image copied three times
    assert not np.array_equal(x_train[..., 0], x_train[..., 1])


def test_standin_is_scikit_learns_digits() -> None:
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    digits = sklearn_datasets.load_digits()
    images, labels = datasets._digits()
    np.testing.assert_array_equal(images, digits.images.astype(np.uint8))
    np.testing.assert_array_equal(labels, digits.target)
    (_x_train, y_train), (_x_test, y_test) = datasets.mnist("standin", verbose=False)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == sorted(digits.target.tolist())


def test_deterministic_and_callers_cannot_corrupt_each_other() -> None:
    (a, _), _ = datasets.mnist("standin", verbose=False)
    a[:] = 0
    (b, _), _ = datasets.mnist("standin", verbose=False)
    assert b.max() == 255


def test_auto_never_hangs_when_the_network_hangs(monkeypatch) -> None:
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(30)  # a DNS lookup or connect that never answers
        raise OSError("gave up")

    monkeypatch.setattr(datasets.socket, "create_connection", hang)
    start = time.perf_counter()
    datasets.mnist(timeout=0.5, verbose=False)
    elapsed = time.perf_counter() - start
    release.set()
    assert elapsed < 0.5 + 2
    assert "unreachable" in datasets.last_source("mnist")


def test_cached_real_mnist_is_used(isolated_cache: Path, monkeypatch) -> None:
    unreachable(monkeypatch)
    path = isolated_cache / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    rng = np.random.default_rng(1)
    fake = {k: rng.integers(0, 255, size=s, dtype=np.uint8)
            for k, s in [("x_train", (6, 28, 28)), ("y_train", (6,)), ("x_test", (4, 28, 28)), ("y_test", (4,))]}
    np.savez(path, **fake)
    assert datasets.is_cached("mnist") and datasets.cache_path("mnist") == path
    (x_train, _y_train), (_x_test, _) = datasets.mnist(verbose=False)
    np.testing.assert_array_equal(x_train, fake["x_train"])
    assert datasets.last_source("mnist").startswith("mnist: real MNIST from") and str(path) in datasets.last_source(
        "mnist")
    # standin still wins when asked for
    (x_train, _), _ = datasets.mnist("standin", verbose=False)
    assert len(x_train) == 1438


def test_cached_real_cifar10_is_used(isolated_cache: Path, monkeypatch) -> None:
    unreachable(monkeypatch)
    folder = isolated_cache / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {b"data": rng.integers(0, 255, size=(3, 3072), dtype=np.uint8), b"labels": [1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (x_train, y_train), (x_test, _y_test) = datasets.cifar10(verbose=False)
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1) and x_test.shape == (3, 32, 32, 3)
    assert "real CIFAR-10" in datasets.last_source("cifar10")


def test_real_without_cache_or_network_says_how_to_get_it(monkeypatch) -> None:
    unreachable(monkeypatch)
    with pytest.raises(RuntimeError, match=r"not in the Keras cache.*keras.datasets.mnist.load_data"):
        datasets.mnist("real", timeout=0.1)


def test_standin_writes_nothing(isolated_cache: Path, monkeypatch) -> None:
    unreachable(monkeypatch)
    datasets.mnist(verbose=False)
    datasets.cifar10(verbose=False)
    assert not isolated_cache.exists()


def test_environment_variable_chooses_the_source(monkeypatch) -> None:
    monkeypatch.setenv("FAPI_LAB_DATA", "standin")
    monkeypatch.setattr(datasets, "_reachable", lambda *a: pytest.fail("standin must not probe the network"))
    datasets.mnist(verbose=False)
    assert "asked for" in datasets.last_source("mnist")
    monkeypatch.setenv("FAPI_LAB_DATA", "sometimes")
    with pytest.raises(ValueError, match="FAPI_LAB_DATA must be one of 'auto', 'real', 'standin'"):
        datasets.mnist()


@pytest.mark.parametrize("kwargs, message", [
    ({"source": "web"}, "source must be one of"),
    ({"timeout": -1}, "timeout must be a number"),
    ({"timeout": "2"}, "timeout must be a number"),
])
def test_bad_arguments_are_named(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        datasets.mnist(**kwargs)


def test_documents_mnist_mlp_learns_on_the_standin() -> None:
    import keras

    from fapi_lab import patterns

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = datasets.mnist("standin", verbose=False)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    model = patterns.mnist_mlp()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=5, validation_split=0.2, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.8  # measured 0.91–0.94 (KERAS3_NOTES); chance is 0.1
