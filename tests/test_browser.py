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
        assert "params" not in page.locator(".fapi-lab-canvas svg").inner_html()
        page.locator("label:has-text('params') input[type='checkbox']").first.check()
        page.wait_for_function(  # the redrawn picture arrives from the kernel
            "() => document.querySelector('.fapi-lab-canvas svg').innerHTML.includes('params')", timeout=30_000)
        screenshot(page, "graph-params-toggled")


EXPLORE = """\
import fapi_lab as lab
lab.quiet()
import numpy as np
from pathlib import Path
model = lab.patterns.toy_resnet()
x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
ex = lab.explore(model, x)
ex.activations.observe(lambda c: Path("explore.txt").write_text(  # updated last of the three
    f"{ex.graph.selected}|{ex.shapes.selected}|{c['new']}"), "selected")
ex"""

LOSS_WEIGHTS = """\
import fapi_lab as lab
lab.quiet()
from pathlib import Path
posts, targets = lab.datasets.social_media_data(n=128, seed=0)
panel = lab.loss_weights(lab.patterns.social_media_model(), posts, targets, weights=[1, 1, 1])
panel.variables["gender"].assign(1.0)
def record(change):
    Path("weights.txt").write_text(f"{panel.weights['gender']:.2f}|{panel.readout()['gender']['weighted']:.4f}")
panel._sliders["gender"].observe(record, "value")
panel"""


def test_explorer_selection_follows_a_click_in_every_view(tmp_path: Path) -> None:
    notebook(tmp_path / "explore.ipynb", [EXPLORE])
    with jupyter_lab(tmp_path) as url, browser_page() as page:
        page.goto(url.format(path="explore.ipynb"))
        run_all_cells(page)
        node = page.locator(".fapi-lab-canvas g.node[aria-label='layer conv_2']")
        node.wait_for(timeout=120_000)
        node.click()
        assert wait_for_file(tmp_path / "explore.txt", "conv_2|conv_2|conv_2") == "conv_2|conv_2|conv_2"
        page.wait_for_function("() => [...document.querySelectorAll('.widget-html-content b')]"
                               ".some(b => b.textContent === 'conv_2')", timeout=20_000)  # the activation header
        page.wait_for_selector("tr[style*='fee2e2'] code:text-is('conv_2')", timeout=20_000)  # the table row
        screenshot(page, "explore-after-click")


def test_moving_a_loss_weight_changes_the_readout(tmp_path: Path) -> None:
    notebook(tmp_path / "weights.ipynb", [LOSS_WEIGHTS])
    with jupyter_lab(tmp_path) as url, browser_page() as page:
        page.goto(url.format(path="weights.ipynb"))
        run_all_cells(page)
        page.wait_for_selector("text=total loss", timeout=120_000)
        before = page.locator("text=total loss").first.inner_text()
        box = page.locator(".widget-text input[type='number']").nth(2)  # the exact-value box of 'gender'
        box.fill("10")
        box.press("Enter")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "weights.txt").exists():
            time.sleep(0.2)
        recorded = (tmp_path / "weights.txt").read_text()
        assert recorded.startswith("10.00|")
        page.wait_for_function("(b) => document.body.innerText.includes('× 10') && "
                               "!document.body.innerText.includes(b)", arg=before, timeout=20_000)
        screenshot(page, "loss-weights-after-change")


NOTEBOOK7 = """\
import fapi_lab as lab
lab.quiet()
from pathlib import Path
view = lab.graph(lab.patterns.toy_resnet())
view.observe(lambda change: Path("selected.txt").write_text(change["new"]), "selected")
view"""


def test_notebook7_front_end_renders_the_graph_and_follows_a_click(tmp_path: Path) -> None:
    """The same widgets in Jupyter Notebook 7 (its own front end at /notebooks/, same server as JupyterLab)."""
    notebook(tmp_path / "notebook7.ipynb", [NOTEBOOK7])
    with jupyter_lab(tmp_path, front_end="notebook") as url, browser_page() as page:
        page.goto(url.format(path="notebook7.ipynb"))
        run_all_cells(page)
        assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"  # not JupyterLab
        readout = page.locator(".widget-dropdown:has(label:text-is('layer')) select")  # the selected layer
        node = page.locator(".fapi-lab-canvas g.node[aria-label='layer conv_2']")
        node.wait_for(timeout=120_000)
        assert readout.input_value() == "(none)"
        screenshot(page, "notebook7-graph-before-click")
        node.click()
        assert wait_for_file(tmp_path / "selected.txt", "conv_2") == "conv_2"  # the kernel got the click
        page.wait_for_function("(s) => s.value === 'conv_2'", arg=readout.element_handle(), timeout=20_000)
        page.wait_for_selector(".fapi-lab-canvas g.fl-selected[aria-label='layer conv_2']", timeout=10_000)
        screenshot(page, "notebook7-graph-after-click")
        page.locator(".fapi-lab-canvas g.node[aria-label='layer block_2_output']").click()
        assert wait_for_file(tmp_path / "selected.txt", "block_2_output") == "block_2_output"
        page.wait_for_function("(s) => s.value === 'block_2_output'", arg=readout.element_handle(), timeout=20_000)
        assert page.locator(".fapi-lab-canvas g.fl-in").count() == 2  # an Add: both of its inputs are marked
