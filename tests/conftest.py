"""Shared test set-up: TensorFlow is imported quietly once, before any test imports keras."""

import fapi_lab

fapi_lab.quiet()
