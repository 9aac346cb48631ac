"""Data for the lessons that works offline: MNIST, CIFAR-10 and the documents' synthetic data.

``mnist()`` and ``cifar10()`` return exactly what ``keras.datasets.mnist.load_data()`` and
``keras.datasets.cifar10.load_data()`` return: ``((x_train, y_train), (x_test, y_test))`` with the same
dtypes and trailing shapes. They use

- the real data when it is already in the Keras cache (``$KERAS_HOME`` or ``~/.keras``, ``datasets/``),
- the real data downloaded by Keras when its host answers within ``timeout`` seconds,
- otherwise a real offline stand-in: the 1,797 handwritten digits that scikit-learn ships (shipped inside
  fapi_lab, 45 KB), resized to 28×28 for MNIST and made into 32×32 colour images for CIFAR-10,

and print one line saying which. ``FAPI_LAB_DATA=auto|real|standin`` chooses for every call (the ``source``
argument wins). Nothing here writes files; only Keras's own download writes, into its cache.
"""

from __future__ import annotations

import functools
import os
import pickle
import socket
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ._synthetic import (
    question_answering_data,
    siamese_sequence_data,
    siamese_text_data,
    social_media_data,
    ticket_data,
)

__all__ = [
    "SOURCES",
    "cache_path",
    "cifar10",
    "is_cached",
    "last_source",
    "mnist",
    "question_answering_data",
    "siamese_sequence_data",
    "siamese_text_data",
    "social_media_data",
    "ticket_data",
]

SOURCES = ("auto", "real", "standin")
_HOSTS = {"mnist": ("storage.googleapis.com", 443), "cifar10": ("www.cs.toronto.edu", 443)}
_CACHE_FILES = {"mnist": "mnist.npz",
                "cifar10": "cifar-10-batches-py-target/cifar-10-batches-py/test_batch"}
_LABELS = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
_DIGITS = Path(__file__).with_name("_data") / "digits.npz"
_TEST_FRACTION = 0.2
_last: dict[str, str] = {}
_unreachable: set[tuple[str, int]] = set()  # hosts that did not answer: not asked again in this session

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


# -- where Keras keeps its data -----------------------------------------------------------------------------
def _keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def cache_path(name: str) -> Path:
    """Where Keras keeps the real data set ``name`` ('mnist' or 'cifar10') once downloaded."""
    _check_name(name)
    return _keras_home() / "datasets" / _CACHE_FILES[name]


def is_cached(name: str) -> bool:
    """True when the real data set is in the Keras cache, so it loads without the network."""
    return cache_path(name).is_file()


def last_source(name: str) -> str:
    """The one-line description of the source the last ``mnist()`` / ``cifar10()`` call used."""
    _check_name(name)
    return _last.get(name, f"{name}: not loaded yet")


def _check_name(name: str) -> None:
    if name not in _CACHE_FILES:
        raise ValueError(f"unknown data set {name!r}; fapi_lab.datasets knows 'mnist' and 'cifar10'")


# -- choosing the source ---------------------------------------------------------------------------------------
def _resolve_source(source: str | None) -> str:
    chosen = source if source is not None else os.environ.get("FAPI_LAB_DATA", "auto")
    if chosen not in SOURCES:
        origin = "source" if source is not None else "the environment variable FAPI_LAB_DATA"
        raise ValueError(f"{origin} must be one of {', '.join(repr(s) for s in SOURCES)}, not {chosen!r}")
    return chosen


def _check_timeout(timeout: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise ValueError(f"timeout must be a number of seconds >= 0, not {timeout!r}")
    return float(timeout)


def _reachable(host: str, port: int, timeout: float) -> bool:
    """Can we open a TCP connection to host:port within ``timeout`` seconds? Never waits longer, even when
    name resolution hangs: the attempt runs in a daemon thread that is abandoned after ``timeout``."""
    if (host, port) in _unreachable:
        return False
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, daemon=True, name=f"fapi-lab-probe-{host}")
    worker.start()
    worker.join(timeout)
    ok = bool(result and result[0])
    if not ok:
        _unreachable.add((host, port))
    return ok


def _load(name: str, source: str | None, timeout: float, verbose: bool) -> Split:
    chosen = _resolve_source(source)
    timeout = _check_timeout(timeout)
    label = _LABELS[name]
    if chosen != "standin" and is_cached(name):
        data = _read_cache(name)
        line = f"{name}: real {label} from {cache_path(name)} ({_counts(data)})"
    elif chosen != "standin" and _reachable(*_HOSTS[name], timeout):
        data = _download(name)
        line = f"{name}: real {label}, downloaded by Keras into {cache_path(name).parent} ({_counts(data)})"
    elif chosen == "real":
        raise RuntimeError(
            f"Real {label} is not in the Keras cache ({cache_path(name)}) and its host {_HOSTS[name][0]} did not "
            f"answer within {timeout:g} s. On a machine with network run once: python -c \"import keras; "
            f"keras.datasets.{name}.load_data()\", then copy {_keras_home() / 'datasets'} here; or use "
            f"source='standin'."
        )
    else:
        data = _standin(name)
        why = "asked for" if chosen == "standin" else "real data not cached and its host unreachable"
        size = "28×28" if name == "mnist" else "32×32 colour"
        line = (f"{name}: offline stand-in, {_counts(data)} scikit-learn handwritten digits as {size} images "
                f"({why})")
    _last[name] = line
    if verbose:
        print(line)
    return _copy(data)


def _counts(data: Split) -> str:
    return f"{len(data[0][0]):,} train / {len(data[1][0]):,} test"


def _copy(data: Split) -> Split:
    (a, b), (c, d) = data
    return (a.copy(), b.copy()), (c.copy(), d.copy())


def mnist(source: str | None = None, *, timeout: float = 2.0, verbose: bool = True) -> Split:
    """MNIST as ``keras.datasets.mnist.load_data()`` returns it: x uint8 (n, 28, 28), y uint8 (n,)."""
    return _load("mnist", source, timeout, verbose)


def cifar10(source: str | None = None, *, timeout: float = 2.0, verbose: bool = True) -> Split:
    """CIFAR-10 as ``keras.datasets.cifar10.load_data()`` returns it: x uint8 (n, 32, 32, 3), y uint8 (n, 1)."""
    return _load("cifar10", source, timeout, verbose)


# -- real data ---------------------------------------------------------------------------------------------
def _read_cache(name: str) -> Split:
    """Read the cached files directly (read-only: Keras's loader would re-download on a hash mismatch)."""
    if name == "mnist":
        with np.load(cache_path(name), allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    folder = cache_path(name).parent
    xs, ys = zip(*(_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)), strict=True)
    x_test, y_test = _cifar_batch(folder / "test_batch")
    return (np.concatenate(xs), np.concatenate(ys)), (x_test, y_test)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open("rb") as f:
        batch = pickle.load(f, encoding="bytes")  # the data set's own format (Python pickles)
    x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y = np.asarray(batch[b"labels"], dtype=np.uint8).reshape(-1, 1)
    return x, y


def _download(name: str) -> Split:
    import keras

    loader = keras.datasets.mnist if name == "mnist" else keras.datasets.cifar10
    return loader.load_data()


# -- the offline stand-in ----------------------------------------------------------------------------------
@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    with np.load(_DIGITS) as f:
        return f["images"], f["labels"]


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, h, w) float images to (n, size, size)."""
    _, h, w = images.shape
    ys = np.clip((np.arange(size) + 0.5) * h / size - 0.5, 0, h - 1)
    xs = np.clip((np.arange(size) + 0.5) * w / size - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = images[:, y0][:, :, x0] * (1 - wx) + images[:, y0][:, :, x1] * wx
    bottom = images[:, y1][:, :, x0] * (1 - wx) + images[:, y1][:, :, x1] * wx
    return top * (1 - wy) + bottom * wy


def _split(x: np.ndarray, y: np.ndarray) -> Split:
    order = np.random.default_rng(0).permutation(len(x))
    n_test = round(len(x) * _TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    for a in (x, y):
        a.setflags(write=False)
    return (x[train], y[train]), (x[test], y[test])


@functools.cache
def _standin(name: str) -> Split:
    images, labels = _digits()
    strokes = images.astype(np.float32) / 16.0
    if name == "mnist":
        # like MNIST: the digit fills a 20×20 box centred in a 28×28 frame, ink 0..255 on black
        digit = _resize(strokes, 20)
        x = np.zeros((len(images), 28, 28), np.float32)
        x[:, 4:24, 4:24] = digit
        return _split(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8), labels.copy())
    # CIFAR-shaped: a coloured digit on a coloured, slightly noisy background (the colours vary per image)
    rng = np.random.default_rng(10)
    digit = np.zeros((len(images), 32, 32), np.float32)
    digit[:, 4:28, 4:28] = _resize(strokes, 24)
    background = rng.uniform(0.0, 0.6, size=(len(images), 1, 1, 3))
    ink = 1.0 - background * rng.uniform(0.3, 1.0, size=(len(images), 1, 1, 3))
    noise = rng.normal(0, 0.04, size=(len(images), 32, 32, 3))
    x = background * (1 - digit[..., None]) + ink * digit[..., None] + noise
    return _split(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8), labels.reshape(-1, 1).copy())
