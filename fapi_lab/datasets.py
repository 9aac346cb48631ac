"""Data for the lessons that works offline: MNIST, CIFAR-10 and the documents' synthetic data.

``mnist()`` and ``cifar10()`` return exactly what ``keras.datasets.mnist.load_data()`` and
``keras.datasets.cifar10.load_data()`` return: ``((x_train, y_train), (x_test, y_test))`` with the same
dtypes and trailing shapes. They use

- the real data when it is already in the Keras cache (``$KERAS_HOME`` or ``~/.keras``, folder ``datasets/``),
- the real data downloaded by Keras when its host answers within ``timeout`` seconds,
- otherwise a real offline stand-in: the 1,797 handwritten digits that scikit-learn ships (shipped inside
  fapi_lab, 45 KB), resized to 28×28 for MNIST and made into 32×32 colour images for CIFAR-10,

and print one line saying which (``last_source(name)`` gives it back). ``FAPI_LAB_DATA=auto|real|standin``
chooses for every call; the ``source`` argument wins. Nothing here writes files: only Keras's own download
writes, into the Keras cache.

The documents' synthetic data (``ticket_data``, ``question_answering_data``, ...) live in
:mod:`fapi_lab._synthetic` and are re-exported here.
"""

from __future__ import annotations

import functools
import math
import os
import pickle
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fapi_lab._i18n import N_, _  # absolute: this module also works copied out of the package (tests do so)

try:  # the synthetic generators are written separately; this module must import without them
    from ._synthetic import *  # noqa: F403
    from ._synthetic import __all__ as _SYNTHETIC
except ModuleNotFoundError as exc:  # only a missing _synthetic.py is forgiven, not an error inside it
    if exc.name != f"{__name__.rpartition('.')[0]}._synthetic":
        raise
    _SYNTHETIC = []

__all__ = sorted(["SOURCES", "cache_path", "cifar10", "is_cached", "last_source", "mnist", *_SYNTHETIC])

SOURCES = ("auto", "real", "standin")

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class _Spec:
    """Where Keras 3.15 downloads a data set from and where its loader keeps it (keras/src/datasets/*.py)."""

    name: str
    label: str
    origin: str
    file_hash: str
    fname: str  # get_file's fname: the file (MNIST) or the folder it extracts into (CIFAR-10)
    extract: bool
    inside: tuple[str, ...]  # the path of the data, relative to <keras home>/datasets
    legacy: tuple[str, ...] | None = None  # where older Keras / tf.keras kept it


_SPECS = {
    "mnist": _Spec(
        "mnist", "MNIST", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        "mnist.npz", extract=False, inside=("mnist.npz",)),
    "cifar10": _Spec(
        "cifar10", "CIFAR-10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        "cifar-10-batches-py-target", extract=True,
        inside=("cifar-10-batches-py-target", "cifar-10-batches-py"), legacy=("cifar-10-batches-py",)),
}
_CIFAR_BATCHES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
_DIGITS = Path(__file__).with_name("_data") / "digits.npz"
_TEST_FRACTION = 0.2
_FORGET_UNREACHABLE_AFTER = 300.0  # seconds: an offline laptop waits for the probe once, not at every call

_last: dict[str, Callable[[], str]] = {}  # name -> the line of its last load, made in the current language
_unreachable: dict[tuple[str, int], float] = {}  # (host, port) -> when it last failed to answer


class _Unavailable(Exception):
    """The real data cannot be had; the message says why (it ends the printed line), in the current language."""

    def __init__(self, template: str, **fields: Any) -> None:
        super().__init__(template)
        self.template, self.fields = template, fields

    def __str__(self) -> str:
        return _(self.template).format(**self.fields)

    def reason(self) -> Callable[[], str]:
        """The message, made in the language of the moment it is called; holds plain values, no traceback."""
        template, fields = self.template, self.fields
        return lambda: _(template).format(**fields)


# -- where Keras keeps its data -----------------------------------------------------------------------------
def _keras_home() -> Path:
    """Keras's own rule (keras/src/backend/config.py): $KERAS_HOME, else ~/.keras, else /tmp/.keras."""
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = Path.home()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


def _spec(name: str) -> _Spec:
    if name not in _SPECS:
        raise ValueError(_("unknown data set {name!r}; fapi_lab.datasets knows 'mnist' and 'cifar10'").format(
            name=name))
    return _SPECS[name]


def cache_path(name: str) -> Path:
    """Where the real data set ``name`` ('mnist' or 'cifar10') is, or will be, in the Keras cache.

    MNIST is one file, ``datasets/mnist.npz``. CIFAR-10 is a folder of batch files,
    ``datasets/cifar-10-batches-py-target/cifar-10-batches-py`` (Keras 3); a folder that older Keras left at
    ``datasets/cifar-10-batches-py`` is used too, and then that is the path returned.
    """
    spec = _spec(name)
    folder = _keras_home() / "datasets"
    path = folder.joinpath(*spec.inside)
    if spec.legacy and not _complete(spec, path) and _complete(spec, folder.joinpath(*spec.legacy)):
        return folder.joinpath(*spec.legacy)
    return path


def is_cached(name: str) -> bool:
    """True when the real data set is in the Keras cache, so it loads without the network."""
    return _complete(_spec(name), cache_path(name))


def _complete(spec: _Spec, path: Path) -> bool:
    if spec.extract:
        return all((path / batch).is_file() for batch in _CIFAR_BATCHES)
    return path.is_file()


def last_source(name: str) -> str:
    """The one line that describes where the last ``mnist()`` / ``cifar10()`` call got its data."""
    _spec(name)
    line = _last.get(name)
    return line() if line is not None else _("{name}: not loaded yet").format(name=name)


# -- the public loaders ----------------------------------------------------------------------------------------
def mnist(source: str | None = None, *, timeout: float = 2.0, verbose: bool = True) -> Split:
    """MNIST as ``keras.datasets.mnist.load_data()`` returns it: x uint8 (n, 28, 28), y uint8 (n,) in 0..9.

    ``source``: 'auto' (the default, or ``$FAPI_LAB_DATA``) takes the real data when it is cached or its host
    answers within ``timeout`` seconds, else the offline stand-in; 'real' raises an error saying how to get
    the real data instead of falling back; 'standin' always gives the stand-in (1,438 train / 359 test).
    ``verbose`` prints the one line that ``last_source('mnist')`` returns.
    """
    return _load(_SPECS["mnist"], source, timeout, verbose)


def cifar10(source: str | None = None, *, timeout: float = 2.0, verbose: bool = True) -> Split:
    """CIFAR-10 as ``keras.datasets.cifar10.load_data()`` returns it: x uint8 (n, 32, 32, 3), y uint8 (n, 1).

    ``source``, ``timeout`` and ``verbose`` work as in :func:`mnist`. The stand-in is the same handwritten
    digits, coloured on coloured backgrounds: ten classes, three channels that really differ.
    """
    return _load(_SPECS["cifar10"], source, timeout, verbose)


def _load(spec: _Spec, source: str | None, timeout: Any, verbose: bool) -> Split:
    chosen = _resolve_source(source)
    seconds = _check_timeout(timeout)
    if chosen == "standin":
        asked = "source='standin'" if source is not None else "FAPI_LAB_DATA=standin"
        data, line = _standin_line(spec, lambda: _("chosen with {setting}").format(setting=asked))
    else:
        try:
            data, line = _real(spec, seconds)
        except _Unavailable as exc:
            if chosen == "real":
                raise RuntimeError(_("{why}. {how_to_get}").format(why=exc, how_to_get=_how_to_get(spec))
                                   ) from exc.__cause__
            data, line = _standin_line(spec, exc.reason())
    _last[spec.name] = line
    if verbose:
        print(line())
    return _copy(data)


def _resolve_source(source: str | None) -> str:
    chosen = source if source is not None else os.environ.get("FAPI_LAB_DATA", "auto")
    if chosen not in SOURCES:
        message = (_("source must be one of {choices}, not {chosen!r}") if source is not None
                   else _("the environment variable FAPI_LAB_DATA must be one of {choices}, not {chosen!r}"))
        raise ValueError(message.format(choices=", ".join(repr(s) for s in SOURCES), chosen=chosen))
    return chosen


def _check_timeout(timeout: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or not (math.isfinite(timeout) and timeout >= 0):
        raise ValueError(_("timeout must be a number of seconds >= 0, not {timeout!r}").format(timeout=timeout))
    return float(timeout)


def _counts(data: Split) -> Callable[[], str]:
    """'1,438 train / 359 test', in the language of the moment it is called (holds the sizes, not the data)."""
    train, test = len(data[0][0]), len(data[1][0])
    return lambda: _("{train:,} train / {test:,} test").format(train=train, test=test)


def _copy(data: Split) -> Split:
    """Fresh, writable arrays for every caller, as Keras gives: nobody can change another caller's data."""
    (a, b), (c, d) = data
    return (a.copy(), b.copy()), (c.copy(), d.copy())


# -- real data ---------------------------------------------------------------------------------------------
def _real(spec: _Spec, timeout: float) -> tuple[Split, Callable[[], str]]:
    """The real data and its line, from the cache or downloaded; ``_Unavailable`` says why not."""
    if is_cached(spec.name):
        return _read_cache(spec)
    host, port = _probe_target(spec.origin)
    if not _reachable(host, port, timeout):
        raise _Unavailable(N_("real {label} is not cached and its host {host} is unreachable"), label=spec.label,
                           host=host)
    _download(spec)
    data, _line = _read_cache(spec)
    path, counts = cache_path(spec.name), _counts(data)
    return data, lambda: _("{name}: real {label}, downloaded by Keras to {path} ({counts})").format(
        name=spec.name, label=spec.label, path=path, counts=counts())


def _read_cache(spec: _Spec) -> tuple[Split, Callable[[], str]]:
    """Read the cached files ourselves, as Keras's loaders do, but without their hash check: a hash mismatch
    or a missing CIFAR archive makes Keras download again, which offline means failing."""
    path = cache_path(spec.name)
    try:
        if spec.extract:
            xs, ys = zip(*(_cifar_batch(path / batch) for batch in _CIFAR_BATCHES[:-1]), strict=True)
            data = (np.concatenate(xs), np.concatenate(ys)), _cifar_batch(path / _CIFAR_BATCHES[-1])
        else:
            with np.load(path, allow_pickle=False) as f:
                data = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as exc:
        raise _Unavailable(N_("the cached real {label} at {path} cannot be read ({error})"), label=spec.label,
                           path=path, error=str(exc)) from exc
    counts = _counts(data)
    return data, lambda: _("{name}: real {label} from {path} ({counts})").format(
        name=spec.name, label=spec.label, path=path, counts=counts())


class _BatchUnpickler(pickle.Unpickler):
    """A CIFAR batch is a pickled dict of bytes, lists and numpy arrays; refuse anything else (as Keras does)."""

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset({
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(_("{module}.{name} is not allowed in a CIFAR-10 batch file").format(
                module=module, name=name))
        return super().find_class(module, name)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open("rb") as f:
        batch = _BatchUnpickler(f, encoding="bytes").load()
    x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y = np.asarray(batch[b"labels"], dtype=np.uint8).reshape(-1, 1)
    return x, y


def _download(spec: _Spec) -> None:
    """Let Keras download into the Keras cache (and nowhere else: Keras would use /tmp if it were read-only)."""
    home = _keras_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _Unavailable(N_("the Keras cache folder {folder} cannot be created ({error})"), folder=home,
                           error=str(exc)) from exc
    if not os.access(home, os.W_OK):
        raise _Unavailable(N_("the Keras cache folder {folder} is not writable"), folder=home)
    import keras

    try:
        keras.utils.get_file(spec.fname, origin=spec.origin, file_hash=spec.file_hash, cache_dir=str(home),
                             cache_subdir="datasets", extract=spec.extract)
    except Exception as exc:  # Keras wraps network failures in a bare Exception ("URL fetch failure ...")
        raise _Unavailable(N_("downloading real {label} failed ({error})"), label=spec.label, error=str(exc)) from exc


# -- is the download host there? -----------------------------------------------------------------------------
def _probe_target(url: str) -> tuple[str, int]:
    """The host and port a download of ``url`` connects to first: the HTTPS proxy when one is set."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass_environment(host):
        proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return proxy_parts.hostname or "", proxy_parts.port or 80
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _reachable(host: str, port: int, timeout: float) -> bool:
    """Can a TCP connection to host:port open within ``timeout`` seconds? Never waits longer, even when name
    resolution hangs: the attempt runs in a daemon thread that is left behind after ``timeout``. A host that
    did not answer is not asked again for a few minutes."""
    failed_at = _unreachable.get((host, port))
    if failed_at is not None and time.monotonic() - failed_at < _FORGET_UNREACHABLE_AFTER:
        return False
    done = threading.Event()
    answered: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                answered.append(True)
        except Exception:  # OSError, or e.g. UnicodeError for a strange host name: all mean "not reachable"
            answered.append(False)
        finally:
            done.set()

    threading.Thread(target=attempt, daemon=True, name=f"fapi-lab-probe-{host}").start()
    ok = done.wait(timeout) and answered == [True]
    if ok:
        _unreachable.pop((host, port), None)
    else:
        _unreachable[(host, port)] = time.monotonic()
    return ok


def _how_to_get(spec: _Spec) -> str:
    what = (_("the file mnist.npz") if not spec.extract
            else _("the folder cifar-10-batches-py-target (with cifar-10-batches-py inside)"))
    return _("To get it: on a machine with network run once  python -c \"import keras; "
             "keras.datasets.{name}.load_data()\"  then copy {what} from its ~/.keras/datasets to "
             "{folder} here. Or use source='standin' for the offline stand-in.").format(
        name=spec.name, what=what, folder=_keras_home() / "datasets")


# -- the offline stand-in ----------------------------------------------------------------------------------
def _standin_line(spec: _Spec, why: Callable[[], str]) -> tuple[Split, Callable[[], str]]:
    """The stand-in data and its line (``why``: the reason, in the current language when called)."""
    data = _standin(spec.name)
    counts = _counts(data)

    def line() -> str:
        template = (_("{name}: offline stand-in, {counts} scikit-learn handwritten digits as 28×28 images ({why})")
                    if spec.name == "mnist" else
                    _("{name}: offline stand-in, {counts} scikit-learn handwritten digits as 32×32 colour images "
                      "({why})"))
        return template.format(name=spec.name, counts=counts(), why=why())

    return data, line


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits: images uint8 (1797, 8, 8) in 0..16, labels uint8 (1797,) in 0..9."""
    with np.load(_DIGITS, allow_pickle=False) as f:
        return _read_only(f["images"]), _read_only(f["labels"])


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, h, w) float images to (n, size, size), pixel centres aligned."""
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
    """The same shuffled 80/20 train/test split on every machine (seed 0): 1,438 train, 359 test."""
    order = np.random.default_rng(0).permutation(len(x))
    n_test = round(len(x) * _TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return ((_read_only(x[train]), _read_only(y[train])), (_read_only(x[test]), _read_only(y[test])))


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


@functools.cache
def _standin(name: str) -> Split:
    """The digits shaped like the real data set (computed once per session; read-only, callers get copies)."""
    images, labels = _digits()
    strokes = images.astype(np.float32) / 16.0
    if name == "mnist":
        # as in MNIST: the digit fills a 20×20 box centred in a 28×28 frame, ink 0..255 on black
        x = np.zeros((len(images), 28, 28), np.float32)
        x[:, 4:24, 4:24] = _resize(strokes, 20)
        return _split(_to_uint8(x), labels.copy())
    # CIFAR-shaped: a coloured digit on a coloured, slightly noisy background (colours differ per image)
    rng = np.random.default_rng(10)
    digit = np.zeros((len(images), 32, 32), np.float32)
    digit[:, 4:28, 4:28] = _resize(strokes, 24)
    background = rng.uniform(0.0, 0.6, size=(len(images), 1, 1, 3))
    ink = 1.0 - background * rng.uniform(0.3, 1.0, size=(len(images), 1, 1, 3))
    noise = rng.normal(0, 0.04, size=(len(images), 32, 32, 3))
    x = background * (1 - digit[..., None]) + ink * digit[..., None] + noise
    return _split(_to_uint8(x), labels.reshape(-1, 1).copy())
