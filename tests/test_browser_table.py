"""The shape table inside ``lab.explore`` in a real JupyterLab and a real Chromium: clicking a row selects the layer
in every linked view (the kernel's selection, the graph canvas), a selection made elsewhere scrolls the compact
table to its row, a shape never wraps, and the whole explorer stays about one screen tall.

One server, one browser, one kernel: a model of 45 layer calls whose name scopes make five blocks.
"""

from __future__ import annotations

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

CELLS = [
    """\
import fapi_lab as lab
lab.quiet()
import keras
from keras import layers
from pathlib import Path
x = h = keras.Input((4,), name="pixels")
for b in range(1, 6):
    start = h
    for i in range(8):
        h = layers.Dense(4, name=f"enc{b}_dense{i}")(h)
    h = layers.Add(name=f"enc{b}_add")([start, h])
model = keras.Model(x, layers.Dense(2, name="head")(h), name="blocks")
ex = lab.explore(model)
ex.observe(lambda c: Path("selected.txt").write_text(c["new"]), "selected")
ex""",
]



@pytest.fixture(scope="module")
def page_and_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    with jupyter_server(tmp_path_factory.mktemp("jupyter")) as server, chromium() as browser:
        folder = server.root / "table"
        folder.mkdir()
        notebook(folder / "table.ipynb", CELLS)
        with new_page(browser) as page:
            page.goto(server.url("lab", "table/table.ipynb"))
            run_all_cells(page)
            page.wait_for_selector(".fl-table tr.fl-row[data-call='head']", timeout=120_000)
            yield page, folder
        server.stop_kernels()


ROW_IN_BOX = """([box, call]) => {
  const row = box.querySelector(`tr[data-call="${call}"]`).getBoundingClientRect();
  const b = box.getBoundingClientRect();
  return row.top >= b.top - 1 && row.bottom <= b.bottom + 1;
}"""


def test_a_row_click_selects_the_layer_everywhere_and_the_table_follows(page_and_folder: tuple[Any, Path]) -> None:
    page, folder = page_and_folder
    table = page.locator(".fl-table")
    box = table.locator(".fl-table-box")
    page.errors.clear()
    # compact: a box of its own height, no "why" column; shapes on one line each
    assert table.locator("th").all_inner_texts() == ["call", "layer", "output shape", "params"]
    assert 100 < box.bounding_box()["height"] <= 262
    cell = table.locator("tr[data-call='enc1_add'] td.fl-shape")
    line = page.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 16", cell.element_handle())
    assert cell.bounding_box()["height"] < 1.6 * line + 6, "a shape tuple never wraps"

    # click a row: the kernel's selection, the canvas opens the block holding the layer and marks it
    row = table.locator("tr[data-call='enc3_dense4']")
    row.scroll_into_view_if_needed()
    row.click()
    assert wait_for_file(folder / "selected.txt", "enc3_dense4") == "enc3_dense4"
    page.locator(".fapi-lab-canvas g.fl-selected[aria-label='layer enc3_dense4']").wait_for(timeout=15_000)
    assert "fl-selected" in (row.get_attribute("class") or "")
    assert "enc3_dense4" in table.locator(".fl-table-detail").inner_text(), "the row's arithmetic under the table"

    # a selection made in the graph scrolls the table's box (not the page) to the row
    box.evaluate("el => { el.scrollTop = 0; }")
    head = page.locator(".fapi-lab-canvas g.node[aria-label='layer head']")
    head.click()
    if wait_for_file(folder / "selected.txt", "head", timeout=15) != "head":
        # seen once in three CI runs on a loaded machine: the click landed while the canvas was redrawing the
        # block it had just opened; a second click is what a student would do
        head.click()
    assert wait_for_file(folder / "selected.txt", "head") == "head"
    table.locator("tr.fl-selected[data-call='head']").wait_for(timeout=10_000)
    page.wait_for_function(ROW_IN_BOX, arg=[box.element_handle(), "head"], timeout=5_000)

    # the keyboard selects too
    table.locator("tr[data-call='pixels']").focus()
    page.keyboard.press("Enter")
    assert wait_for_file(folder / "selected.txt", "pixels") == "pixels"

    output = page.locator(".jp-OutputArea-output").filter(has=table)
    assert output.bounding_box()["height"] < 1500, "the explorer stays about one screen tall"
    screenshot(page, "explore-table")
    assert not page.errors
