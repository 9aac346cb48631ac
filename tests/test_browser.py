"""In a real JupyterLab and a real browser: clicking a graph node selects that layer in Python."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser import browser_page, chromium_path, jupyter_lab, notebook, run_all_cells, screenshot

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="no Chromium here: install it with `sudo apt-get install chromium`")

SETUP = """\
import fapi_lab as lab
lab.quiet()
import keras
from keras import layers
inputs = keras.Input((784,), name="pixels")
hidden = layers.Dense(64, activation="relu", name="hidden")(inputs)
outputs = layers.Dense(10, name="logits")(hidden)
model = keras.Model(inputs, outputs, name="mnist_model")
view = lab.graph(model)
from pathlib import Path
view.observe(lambda change: Path("selected.txt").write_text(change["new"]), "selected")
view"""


def wait_for_file(path: Path, expected: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text() == expected:
            return expected
        time.sleep(0.2)
    return path.read_text() if path.exists() else "<no selection written>"


def test_clicking_a_node_selects_the_layer_in_python(tmp_path: Path) -> None:
    notebook(tmp_path / "graph.ipynb", [SETUP])
    with jupyter_lab(tmp_path) as url, browser_page() as page:
        page.goto(url.format(path="graph.ipynb"))
        run_all_cells(page)
        node = page.locator(".fapi-lab-canvas g.node[aria-label='layer hidden']")
        node.wait_for(timeout=120_000)
        screenshot(page, "graph-before-click")
        node.click()
        assert wait_for_file(tmp_path / "selected.txt", "hidden") == "hidden"
        page.wait_for_selector(".fapi-lab-canvas g.fl-selected", timeout=10_000)
        assert page.locator(".fapi-lab-canvas g.fl-in").count() == 1  # its input, 'pixels', is marked
        screenshot(page, "graph-after-click")
        # the keyboard alternative: the drop-down selects too
        page.locator(".widget-dropdown:has(label:text-is('layer')) select").select_option("logits")
        assert wait_for_file(tmp_path / "selected.txt", "logits") == "logits"
        # an option toggle redraws the picture
        before = page.locator(".fapi-lab-canvas svg").inner_html()
        page.locator("label:has-text('params') input[type='checkbox']").first.check()
        page.wait_for_function(
            "(b) => document.querySelector('.fapi-lab-canvas svg').innerHTML !== b", arg=before, timeout=20_000)
        assert "params" in page.locator(".fapi-lab-canvas svg").inner_html()
        screenshot(page, "graph-params-toggled")
