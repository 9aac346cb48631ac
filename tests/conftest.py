"""Shared test set-up: TensorFlow is imported quietly once, before any test imports keras."""

import fapi_lab

fapi_lab.quiet()

# -- hypothesis profile of the graph tests (test_models_property, test_keys, test_render_layout, test_graph):
# derandomized by default, so every run checks the same cases; FAPI_LAB_HYPOTHESIS=long searches with random seeds
# and ten times the examples (each test scales its own count by the same setting).
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "graph", derandomize=os.environ.get("FAPI_LAB_HYPOTHESIS") != "long", deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- hypothesis profile of the structured-data tests (test_structured_inputs): the same rule, derandomized by default,
# FAPI_LAB_HYPOTHESIS=long for random seeds and ten times the examples.
settings.register_profile(
    "structured", derandomize=os.environ.get("FAPI_LAB_HYPOTHESIS") != "long", deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
