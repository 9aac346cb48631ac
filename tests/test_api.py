"""The public names are a promise to users (../shared/DESIGN.md): pin them."""

import subprocess
import sys

import fapi_lab

# Grows as capabilities land; a name leaves only with a deprecation.
EXPECTED = {
    "ActivationViewer", "GraphView", "LiveGraph", "LossWeightLab", "ShapeTrace", "__version__", "activations",
    "check", "datasets", "doctor", "exercises", "explain", "explore", "get_activations", "gradients", "graph",
    "hint", "language", "link_selection", "live", "loss_weights", "patterns", "quiet", "shapes",
}


def test_public_names_are_pinned() -> None:
    assert set(fapi_lab.__all__) >= EXPECTED
    assert fapi_lab.__all__ == sorted(fapi_lab.__all__)
    for name in fapi_lab.__all__:
        assert getattr(fapi_lab, name) is not None, name


def test_unknown_attribute_is_a_plain_attribute_error() -> None:
    try:
        fapi_lab.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_is_cheap_and_does_not_import_tensorflow() -> None:
    code = "import sys, fapi_lab; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_quiet_silences_tensorflow_start_up_noise() -> None:
    code = (
        "import fapi_lab; assert fapi_lab.quiet() is True; import keras, numpy as np\n"
        "m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name='d')])\n"
        "print(m(np.zeros((1, 3), 'float32')).shape)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(1, 2)"
    assert out.stderr.strip() == "", out.stderr


def test_quiet_after_tensorflow_was_imported_says_so() -> None:
    import tensorflow  # noqa: F401  (conftest imported it already)

    assert fapi_lab.quiet() is False
