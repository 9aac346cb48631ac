"""Silence TensorFlow's start-up log noise.

TensorFlow prints C++ log lines (oneDNN, CUDA, CPU features) while it is imported. Most can be switched
off by environment variables, but only if they are set *before* the import; the rest are written straight
to file descriptor 2 before TensorFlow's logging is configured, so :func:`quiet` also imports TensorFlow
with that descriptor pointed at ``/dev/null`` (and shows what it printed if the import fails).
"""

from __future__ import annotations

import os
import sys
import tempfile

__all__ = ["QUIET_ENV", "quiet", "set_quiet_env"]

QUIET_ENV: dict[str, str] = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # C++ INFO/WARNING/ERROR lines after logging starts
    "GLOG_minloglevel": "3",
    "ABSL_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
}


def set_quiet_env() -> None:
    """Set the quiet environment variables, keeping any the user already set."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def quiet() -> bool:
    """Import TensorFlow and Keras without their start-up noise.

    Call it before anything else imports TensorFlow (``import fapi_lab as lab; lab.quiet()``).
    Returns ``True`` if the import happened silently here, ``False`` if TensorFlow was already imported
    (then its noise, if any, has already been printed and nothing changes).
    """
    set_quiet_env()
    if "tensorflow" in sys.modules:
        return False
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
            tf.config.list_physical_devices()  # triggers the CUDA probe now, while it is silenced
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TensorFlow
        pass
    return True
