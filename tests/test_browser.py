"""In a real JupyterLab and a real browser: the explorer follows a click in every view, a loss weight moves the
readout. (The graph canvas, in JupyterLab and Notebook 7, is tested in test_browser_canvas.py.)

One Jupyter server, one Chromium and one kernel for the whole module: one notebook holds both widgets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import (
    chromium,
    chromium_path,
    jupyter_server,
    new_page,
    notebook,
    run_all_cells,
    screenshot,
    wait_for_file,
)

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="no Chromium here: install it with `sudo apt-get install chromium`")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with jupyter_server(tmp_path_factory.mktemp("jupyter")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def ran(server: Any, browser: Any) -> Iterator[tuple[Any, Path]]:
    """The module's notebook (loss weights, then the explorer) run in JupyterLab: (page, its folder)."""
    folder = server.root / "widgets"
    folder.mkdir()
    notebook(folder / "widgets.ipynb", [LOSS_WEIGHTS, EXPLORE])
    with new_page(browser) as page:
        page.goto(server.url("lab", "widgets/widgets.ipynb"))
        run_all_cells(page)
        yield page, folder



EXPLORE = """\
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


def test_explorer_selection_follows_a_click_in_every_view(ran: tuple[Any, Path]) -> None:
    page, tmp_path = ran
    node = page.locator(".fapi-lab-canvas g.node[aria-label='layer conv_2']")
    node.wait_for(timeout=120_000)
    node.click()
    assert wait_for_file(tmp_path / "explore.txt", "conv_2|conv_2|conv_2") == "conv_2|conv_2|conv_2"
    page.wait_for_function("() => [...document.querySelectorAll('.widget-html-content b')]"
                           ".some(b => b.textContent === 'conv_2')", timeout=20_000)  # the activation header
    page.wait_for_selector("tr.fl-selected:has-text('conv_2')", timeout=20_000)  # the table row
    screenshot(page, "explore-after-click")


def test_moving_a_loss_weight_changes_the_readout(ran: tuple[Any, Path]) -> None:
    page, tmp_path = ran
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
