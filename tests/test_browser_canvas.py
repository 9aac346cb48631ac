"""The graph canvas in a real Jupyter server and a real Chromium, in JupyterLab 4 and in Notebook 7.

One server, one browser and one kernel for the module: a notebook (graph, a long left-right graph, lab.live, a
standalone .html) is run in JupyterLab and saved; Notebook 7 opens the same notebook on the
same kernel and runs it again. Checked in both front ends: click to select, zoom (buttons, ctrl + wheel, keys),
fit with readable text, pan, search, hover, open and close a nested model (badge, double click, keyboard), SVG and
PNG downloads, full screen. Then the saved notebook, made untrusted (as every shipped lesson is), is opened in both
front ends and exported by nbconvert: every output shows its picture at a sensible size. The standalone .html
works from file:// with no server.
"""

from __future__ import annotations

import json
import struct
import time
import xml.etree.ElementTree as ET
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
auto = lab.patterns.nested_autoencoder()[-1]
view = lab.graph(auto)
view.observe(lambda c: Path("selected.txt").write_text(c["new"]), "selected")
def opened(change):
    Path("open.txt").write_text(",".join(sorted(k for k, v in change["new"]["foldable"].items() if v)))
view._canvas.observe(opened, "picture")
view""",
    """\
x = inp = keras.Input((8,), name="features")
for i in range(14):
    x = layers.Dense(8, name=f"dense_{i}")(x)
chain = lab.graph(keras.Model(inp, x, name="long_chain"), direction="LR")
chain.search("dense_1")
chain""",
    """\
with lab.live() as live_view:
    a = keras.Input((4,), name="pixels")
    b = layers.Dense(3, name="hidden")(a)
    layers.Dense(2, name="out")(b)""",
    'print(view.save("saved_graph.html").name)',
]
PICTURE_CELLS = {0: "graph", 1: "long left-right graph", 2: "lab.live"}



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with jupyter_server(tmp_path_factory.mktemp("jupyter")) as running:
        yield running
        running.stop_kernels()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def lab_run(server: Any, browser: Any) -> Iterator[tuple[Any, Path]]:
    """The notebook run in JupyterLab and saved: (page, folder)."""
    folder = server.root / "canvas"
    folder.mkdir()
    notebook(folder / "canvas.ipynb", CELLS)
    with new_page(browser) as page:
        page.goto(server.url("lab", "canvas/canvas.ipynb"))
        run_all_cells(page)
        page.wait_for_selector(".jp-OutputArea-output:has-text('saved_graph.html')", timeout=180_000)  # all ran
        page.wait_for_selector(".fl-root[data-graph='long_chain'] .fapi-lab-canvas g.node", timeout=30_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "saved_graph.html" not in (folder / "canvas.ipynb").read_text():
            time.sleep(0.2)
        yield page, folder


# top centre of an element within the view (geometry without strokes; the page itself may scroll)
PLACE_JS = """([view, selector]) => {
  const r = view.querySelector(selector).getBoundingClientRect(), v = view.getBoundingClientRect();
  return [r.left + r.width / 2 - v.left, r.top - v.top];
}"""


def zoom_of(page: Any, view: Any) -> float:
    return float(page.evaluate("el => (el.__zoom || {k: 1}).k", view.element_handle()))


def check_canvas(page: Any, folder: Path, name: str) -> None:
    root = page.locator(".fl-root[data-graph='autoencoder']")
    view = root.locator(".fapi-lab-canvas")
    encoder = view.locator("g.node[aria-label='layer encoder']")
    encoder.wait_for(timeout=60_000)
    page.errors.clear()  # from here on, any error is the canvas's (Notebook 7's own start-up logs two)

    # zoom: buttons, ctrl + wheel, keys; "fit all" never goes above natural size for a small graph
    k0 = zoom_of(page, view)
    root.locator(".fl-zoom-in").click()
    assert zoom_of(page, view) == pytest.approx(k0 * 1.25, rel=1e-3)
    root.locator(".fl-zoom-out").click()
    assert zoom_of(page, view) == pytest.approx(k0, rel=1e-3)
    view.hover()
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    page.wait_for_function("([el, k]) => el.__zoom.k > 1.01 * k", arg=[view.element_handle(), k0], timeout=5_000)
    root.locator(".fl-fit").click()
    assert 0.74 < zoom_of(page, view) <= 1.0
    view.focus()
    page.keyboard.press("+")
    assert zoom_of(page, view) > 1.0
    page.keyboard.press("0")

    # hover: class, shapes and parameters from the data sent once (no kernel round trip)
    encoder.hover()
    tip = root.locator(".fl-tooltip")
    tip.wait_for(state="visible", timeout=5_000)
    assert "Functional (model)" in tip.inner_text() and "(None, 16)" in tip.inner_text()
    assert "params" in tip.inner_text()

    # search finds a layer inside the closed encoder: the encoder is marked
    root.locator(".fl-search").fill("conv2d_3")
    view.locator("g.node.fl-match[aria-label='layer encoder']").wait_for(timeout=5_000)
    assert "1 of 1" in root.locator(".fl-count").inner_text()

    # open the encoder with its badge: the kernel knows, the frame appears where the box was, the match moves in
    before = page.evaluate(PLACE_JS, [view.element_handle(), "g.node[aria-label='layer encoder']"])
    root.locator("g.fl-fold[aria-label='expand encoder']").click()
    assert wait_for_file(folder / "open.txt", "encoder") == "encoder"
    root.locator("g.fl-fold[aria-label='collapse encoder']").wait_for(timeout=10_000)
    after = page.evaluate(PLACE_JS, [view.element_handle(), "g.cluster"])
    assert after == pytest.approx(before, abs=2), "the opened frame's top centre stays where the box was"
    view.locator("g.node.fl-match[aria-label='layer encoder/conv2d_3']").wait_for(timeout=5_000)
    screenshot(page, f"canvas-{name}-expanded")
    # close it again with the keyboard (the badge is a button), open the decoder with a double click
    root.locator("g.fl-fold[aria-label='collapse encoder']").focus()
    page.keyboard.press("Enter")
    assert wait_for_file(folder / "open.txt", "") == ""
    view.locator("g.node[aria-label='layer decoder']").dblclick()
    assert wait_for_file(folder / "open.txt", "decoder") == "decoder"
    root.locator("g.fl-fold[aria-label='collapse decoder']").click()
    assert wait_for_file(folder / "open.txt", "") == ""
    root.locator(".fl-search").fill("")

    # a click selects the layer in Python; its output is marked; the drop-down selects too; a toggle redraws
    view.locator("g.node[aria-label='layer img']").click()
    assert wait_for_file(folder / "selected.txt", "img") == "img"
    view.locator("g.fl-selected[aria-label='layer img']").wait_for(timeout=10_000)
    assert view.locator("g.fl-out").count() == 1
    output = page.locator(".jp-OutputArea-output").filter(has=root)
    output.locator(".widget-dropdown:has(label:text-is('layer')) select").select_option("decoder")
    assert wait_for_file(folder / "selected.txt", "decoder") == "decoder"
    view.locator("g.fl-selected[aria-label='layer decoder']").wait_for(timeout=10_000)
    assert view.locator("g.fl-in").count() == 1  # the encoder feeds it
    assert "params" not in view.locator("svg").first.inner_html()
    output.locator("label:has-text('params') input[type='checkbox']").check()
    page.wait_for_function("el => el.querySelector('svg').innerHTML.includes('params')", arg=view.element_handle(),
                           timeout=30_000)

    # downloads: the SVG as drawn (selection kept, controls left out) and a PNG at twice the natural size
    with page.expect_download() as svg_download:
        root.locator(".fl-svg").click()
    svg_text = Path(svg_download.value.path()).read_text()
    assert ET.fromstring(svg_text).tag.endswith("svg") and "fl-selected" in svg_text and "fl-fold" not in svg_text
    assert svg_download.value.suggested_filename == "autoencoder.svg"
    with page.expect_download() as png_download:
        root.locator(".fl-png").click()
    png = Path(png_download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = struct.unpack(">I", png[16:20])[0]
    natural = page.evaluate("el => el.querySelector('svg').width.baseVal.value", view.element_handle())
    assert width == pytest.approx(2 * natural, abs=2)

    # full screen and back
    height = view.bounding_box()["height"]
    root.locator(".fl-full-button").click()
    page.wait_for_function("el => el.classList.contains('fl-full')", arg=root.element_handle(), timeout=5_000)
    page.wait_for_function("([el, h]) => el.clientHeight > h + 100", arg=[view.element_handle(), height],
                           timeout=5_000)
    root.locator(".fl-full-button").click()
    page.wait_for_function("el => !el.classList.contains('fl-full')", arg=root.element_handle(), timeout=5_000)

    # a long left-right graph: at "fit all" the names stay readable and the picture pans instead of shrinking
    chain = page.locator(".fl-root[data-graph='long_chain']")
    chain_view = chain.locator(".fapi-lab-canvas")
    chain.locator(".fl-fit").click()
    sizes = page.evaluate("""el => {
        const text = el.querySelector('g.node text');
        return [text.getBoundingClientRect().height, el.querySelector('svg').getBoundingClientRect().width,
                el.clientWidth, getComputedStyle(el.parentNode.querySelector('.fl-minimap')).display];
    }""", chain_view.element_handle())
    assert sizes[0] >= 11, f"a layer name is {sizes[0]:.1f} px tall at fit"
    assert sizes[1] > sizes[2] and sizes[3] != "none", "the wide picture pans, with a minimap"
    x0 = page.evaluate("el => el.__zoom.x", chain_view.element_handle())
    chain_view.hover()
    page.mouse.wheel(400, 0)
    page.wait_for_function("([el, x]) => el.__zoom.x < x - 50", arg=[chain_view.element_handle(), x0], timeout=5_000)
    # view.search() from Python filled its box and marked dense_1 and dense_10 … dense_13
    assert chain.locator(".fl-search").input_value() == "dense_1"
    assert chain_view.locator("g.fl-match").count() == 5
    assert not page.errors, page.errors


def test_canvas_in_jupyterlab(lab_run: tuple[Any, Path]) -> None:
    page, folder = lab_run
    assert page.evaluate("() => window.jupyterapp.name") == "JupyterLab"
    check_canvas(page, folder, "lab")


def test_canvas_in_notebook7(lab_run: tuple[Any, Path], server: Any, browser: Any) -> None:
    _, folder = lab_run
    with new_page(browser) as page:
        page.goto(server.url("notebook", "canvas/canvas.ipynb"))  # the same kernel: its imports are done
        run_all_cells(page)
        assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
        page.wait_for_selector(".fl-root[data-graph='long_chain'] .fapi-lab-canvas g.node", timeout=120_000)
        check_canvas(page, folder, "notebook7")


PICTURES_JS = """() => {
const app = window.jupyterapp, scope = app && app.shell.currentWidget ? app.shell.currentWidget.node : document;
return [...scope.querySelectorAll('.jp-CodeCell')].map(cell => {
  const out = cell.querySelector('.jp-OutputArea-output');
  const img = out && out.querySelector('img');
  const area = cell.querySelector('.jp-OutputArea');
  const r = img && img.getBoundingClientRect();
  return {img: !!img, loaded: !!img && img.complete && img.naturalWidth > 0, width: r ? r.width : 0,
          height: r ? r.height : 0, area: area ? area.clientWidth : 0, svg: !!(out && out.querySelector('svg')),
          text: out ? out.innerText.trim().slice(0, 120) : '', mime: out ? out.className : ''};
});
}"""


def check_pictures(shown: list[dict[str, Any]], where: str) -> None:
    for index, what in PICTURE_CELLS.items():
        cell = shown[index]
        assert cell["img"] and cell["loaded"], f"{where}: the {what} output shows no picture: {cell}"
        assert cell["width"] >= 120 and 40 <= cell["height"] <= 2600, f"{where}: {what} picture size {cell}"
        assert not cell["svg"], f"{where}: an <svg> inside HTML is not shown untrusted"
    assert shown[0]["text"] == "", f"{where}: loose text instead of a picture: {shown[0]['text']!r}"
    wide = shown[1]
    if where != "nbconvert":  # nbconvert's own CSS shrinks even an "unconfined" image to the page's width
        assert wide["width"] > wide["area"], f"{where}: the long left-right graph shrank to the cell width: {wide}"


def test_saved_notebook_shows_its_pictures_untrusted(lab_run: tuple[Any, Path], server: Any, browser: Any) -> None:
    _, folder = lab_run
    saved = json.loads((folder / "canvas.ipynb").read_text())
    outputs = saved["cells"][0]["outputs"]
    assert any("image/png" in o.get("data", {}) and "text/html" not in o.get("data", {}) for o in outputs)
    # a copy that differs from what the server signed is untrusted, as every shipped lesson is on a new machine
    saved["cells"].insert(0, {"cell_type": "markdown", "id": "copy-note", "metadata": {}, "source": "A copy."})
    (folder / "stored.ipynb").write_text(json.dumps(saved))
    for front_end in ("lab", "notebook"):
        with new_page(browser) as page:
            page.goto(server.url(front_end, "canvas/stored.ipynb"))
            page.wait_for_selector(".jp-CodeCell .jp-OutputArea-output img", state="attached", timeout=60_000)
            page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
                                   ".every(i => i.complete)", timeout=20_000)
            trusted = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1).trusted")
            assert trusted is False
            check_pictures(page.evaluate(PICTURES_JS), front_end)
            screenshot(page, f"stored-untrusted-{front_end}")
    # nbconvert's HTML (what nbviewer shows) opened from file://
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(folder / "stored.ipynb"))
    (folder / "stored.html").write_text(body)
    with new_page(browser) as page:
        page.goto((folder / "stored.html").as_uri())
        check_pictures(page.evaluate(PICTURES_JS), "nbconvert")


def test_standalone_html_works_from_file_without_a_server(lab_run: tuple[Any, Path], browser: Any) -> None:
    _, folder = lab_run
    with new_page(browser, offline=True) as page:
        page.goto((folder / "saved_graph.html").as_uri())
        root = page.locator(".fl-root[data-graph='autoencoder']")
        view = root.locator(".fapi-lab-canvas")
        view.locator("g.node[aria-label='layer encoder']").wait_for(timeout=20_000)
        assert "Offline copy" in root.locator(".fl-status").inner_text()
        k0 = zoom_of(page, view)
        root.locator(".fl-zoom-in").click()
        assert zoom_of(page, view) == pytest.approx(k0 * 1.25, rel=1e-3)
        root.locator(".fl-search").fill("conv2d_3")
        view.locator("g.node.fl-match[aria-label='layer encoder']").wait_for(timeout=5_000)
        root.locator("g.fl-fold[aria-label='expand encoder']").click()  # a picture stored in the file
        view.locator("g.node.fl-match[aria-label='layer encoder/conv2d_3']").wait_for(timeout=5_000)
        # click in the new picture, not in the one it replaces (a click on a box being replaced is lost)
        root.locator("g.fl-fold[aria-label='collapse encoder']").wait_for(timeout=5_000)
        root.locator("g.fl-fold[aria-label='expand decoder']").click()  # both open: every combination is stored
        root.locator("g.fl-fold[aria-label='collapse decoder']").wait_for(timeout=5_000)
        assert root.locator("g.fl-fold[aria-label='collapse encoder']").count() == 1
        view.locator("g.node[aria-label='layer img']").click()
        view.locator("g.fl-selected[aria-label='layer img']").wait_for(timeout=5_000)
        screenshot(page, "standalone-html")
        assert not page.errors, page.errors


def test_a_large_picture_moves_as_a_snapshot_and_comes_back_live(browser: Any, tmp_path: Path) -> None:
    """Above 150 nodes the canvas moves an image of the picture (a live SVG of 1,000 layers moves at 5 frames per
    second in Chromium, the image at 60: benchmarks/bench_canvas.py) and shows the live SVG again at rest."""
    import keras
    from keras import layers

    import fapi_lab as lab

    x = inp = keras.Input((4,), name="features")
    for i in range(160):
        x = layers.Dense(4, name=f"dense_{i}")(x)
    page_path = lab.graph(keras.Model(inp, x, name="tall"), groups=None).save(tmp_path / "tall.html")
    with new_page(browser) as page:
        page.goto(page_path.as_uri())
        view = page.locator(".fapi-lab-canvas")
        view.locator("g.node[aria-label='layer dense_3']").wait_for(timeout=20_000)
        page.wait_for_function("() => document.querySelector('.fl-snapshot').src.startsWith('blob:')",
                               timeout=10_000)
        box = view.bounding_box()
        page.mouse.move(box["x"] + 300, box["y"] + 200)
        page.mouse.down()
        page.mouse.move(box["x"] + 320, box["y"] + 260, steps=5)
        moving = page.evaluate("""() => [document.querySelector('.fl-stage').classList.contains('fl-moving'),
            getComputedStyle(document.querySelector('.fl-snapshot')).display,
            getComputedStyle(document.querySelector('.fl-live')).visibility]""")
        assert moving == [True, "block", "hidden"]
        page.mouse.up()
        page.wait_for_function("() => !document.querySelector('.fl-stage').classList.contains('fl-moving')",
                               timeout=5_000)
        view.locator("g.node[aria-label='layer dense_3']").click()
        view.locator("g.fl-selected[aria-label='layer dense_3']").wait_for(timeout=5_000)
        assert not page.errors, page.errors
