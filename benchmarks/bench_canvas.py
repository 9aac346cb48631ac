"""The graph canvas in a real headless Chromium (and a real JupyterLab for the kernel round trips).

    .venv/bin/python benchmarks/bench_canvas.py

Prints, with the obvious alternative measured in the same run:
- pan and zoom of a 1,000-layer model (every layer drawn: groups=None) in its standalone page, frames per second
  while the picture moves every frame (dragging, ctrl + wheel zoom); against the old static SVG in a 620-px scroll
  box, scrolled every frame, and "zoomed" by changing its width every frame;
- first picture of ResNet50 (grouped) in JupyterLab: from running the cell ``lab.graph(resnet)`` to the canvas
  painted; against ``keras.utils.plot_model`` shown as an image, and lab.graph without blocks;
- opening or closing one block of ResNet50 (a click on its button) until the new picture is painted; against
  running the cell again with every layer drawn (what a reader did before blocks could open one by one);
- the size of a saved picture (PNG in the notebook) and of a standalone .html.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fapi_lab as lab  # noqa: E402

lab.quiet()
import keras  # noqa: E402
from keras import layers  # noqa: E402

from fapi_lab._graph_export import fold_states  # noqa: E402
from fapi_lab._graph_view import _fit_width  # noqa: E402
from tests.browser import chromium, jupyter_server, new_page, notebook, run_all_cells  # noqa: E402

FRAMES = 180


def residual_tower(n_layers: int, name: str) -> keras.Model:
    """About n_layers layers: Dense blocks with a residual add every third layer (as in bench_graph.py)."""
    x = inp = keras.Input((16,), name="features")
    count, block = 1, 0
    while count < n_layers - 1:
        h = layers.Dense(16, activation="relu", name=f"b{block}_dense_a")(x)
        h = layers.Dense(16, name=f"b{block}_dense_b")(h)
        x = layers.add([x, h], name=f"b{block}_add")
        count += 3
        block += 1
    return keras.Model(inp, layers.Dense(1, name="score")(x), name=name)


# every frame: move the picture, then wait for the next frame; returns frames per second and the 95th percentile
# of the time between frames (ms)
FPS_JS = """async ([selector, kind, frames]) => {
  const el = document.querySelector(selector);
  const r = el.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const fire = (type, x, y, extra = {}) => el.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: x,
      clientY: y, view: window, button: 0, buttons: type === 'mouseup' ? 0 : 1, ...extra}));
  const step = {
    drag: (i) => window.dispatchEvent(new MouseEvent('mousemove', {clientX: cx + 120 * Math.sin(i / 15),
        clientY: cy + 200 * Math.sin(i / 23), view: window, buttons: 1})),
    wheelzoom: (i) => el.dispatchEvent(new WheelEvent('wheel', {bubbles: true, cancelable: true, clientX: cx,
        clientY: cy, deltaY: (Math.floor(i / 30) % 2 ? 25 : -25), ctrlKey: true})),
    scroll: (i) => { el.scrollTop = (i * 37) % Math.max(1, el.scrollHeight - el.clientHeight); },
    resize: (i) => { const svg = el.querySelector('svg');
        svg.setAttribute('width', String(Math.round(600 + 500 * Math.abs(Math.sin(i / 20))))); },
  }[kind];
  if (kind === 'drag') fire('mousedown', cx, cy);
  await new Promise(requestAnimationFrame);
  const times = [];
  await new Promise((done) => {
    let i = 0;
    const frame = (t) => { times.push(t); if (i++ >= frames) return done(); step(i); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
  });
  if (kind === 'drag') window.dispatchEvent(new MouseEvent('mouseup', {clientX: cx, clientY: cy, view: window}));
  const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  return [1000 * (times.length - 1) / (times[times.length - 1] - times[0]), gaps[Math.floor(gaps.length * 0.95)]];
}"""


def fps_figures(tmp: Path) -> None:
    model = residual_tower(1000, "tower_1000")
    view = lab.graph(model, groups=None)
    page_path = view.save(tmp / "tower.html")
    old = tmp / "old.html"  # the old static picture: the SVG in a 620-px scroll box, shrunk to the cell width
    old.write_text(f'<html><body><div id="box" style="max-height:620px;overflow:auto;width:900px">'
                   f"{_fit_width(view.to_svg())}</div></body></html>")
    print(f"1,000-layer model ({len(view.layer_keys)} nodes drawn, SVG {len(view.to_svg()) / 1e6:.1f} MB), "
          f"{FRAMES} frames each, headless Chromium, 1280x1000:")
    with chromium() as browser, new_page(browser) as page:
        page.goto(page_path.as_uri())
        page.wait_for_selector(".fapi-lab-canvas g.node", timeout=60_000)
        results = {kind: page.evaluate(FPS_JS, [".fapi-lab-canvas", kind, FRAMES]) for kind in ("drag", "wheelzoom")}
        page.goto(old.as_uri())
        page.wait_for_selector("#box svg")
        results.update({f"old {kind}": page.evaluate(FPS_JS, ["#box", kind, FRAMES]) for kind in ("scroll", "resize")})
    for name, (fps, p95) in results.items():
        print(f"  {name:<16} {fps:5.1f} frames/s   95th percentile frame {p95:5.1f} ms")
    print(f"  ratio pan (canvas drag / old scroll box): {results['drag'][0] / results['old scroll'][0]:.2f}; "
          f"zoom (canvas / old width change): {results['wheelzoom'][0] / results['old resize'][0]:.2f}")
    print(f"  standalone .html: {page_path.stat().st_size / 1e6:.2f} MB")


CELLS = [
    "import fapi_lab as lab\nlab.quiet()\nimport keras\nresnet = keras.applications.ResNet50(weights=None)",
    "view = lab.graph(resnet)\nview",
    "from IPython.display import Image\nkeras.utils.plot_model(resnet, 'resnet.png', show_shapes=True)\n"
    "Image('resnet.png')",
    "flat = lab.graph(resnet, groups=None)\nflat",
]

# run cell `index` and time until its output is painted (an SVG in the canvas, or a loaded image)
RUN_CELL_JS = """async ([index, what]) => {
  const panel = window.jupyterapp.shell.currentWidget, nb = panel.content;
  const cell = nb.widgets[index];
  cell.outputArea.model.clear();
  nb.activeCellIndex = index;
  const start = performance.now();
  const run = window.jupyterapp.commands.execute('notebook:run-cell');
  await new Promise((done) => {
    const check = () => {
      const svg = cell.node.querySelector('.fapi-lab-canvas svg g.node');
      const img = cell.node.querySelector('.jp-OutputArea-output img');
      if (what === 'canvas' ? svg : img && img.complete && img.naturalWidth) return done();
      requestAnimationFrame(check);
    };
    check();
  });
  await new Promise(requestAnimationFrame);
  await new Promise(requestAnimationFrame);
  const painted = performance.now() - start;
  await run;
  return painted;
}"""

TOGGLE_JS = """async (index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const stage = cell.node.querySelector('.fl-stage');
  const badge = cell.node.querySelector('g.fl-fold');
  const before = stage.querySelector('svg');
  const start = performance.now();
  badge.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  await new Promise((done) => { const check = () => stage.querySelector('svg') !== before ? done()
      : requestAnimationFrame(check); check(); });
  await new Promise(requestAnimationFrame);
  await new Promise(requestAnimationFrame);
  return performance.now() - start;
}"""


def jupyter_figures(tmp: Path) -> None:
    notebook(tmp / "bench.ipynb", CELLS)
    with jupyter_server(tmp) as server, chromium() as browser, new_page(browser) as page:
        page.goto(server.url("lab", "bench.ipynb"))
        run_all_cells(page)
        page.wait_for_function("() => document.querySelectorAll('.fapi-lab-canvas svg').length >= 2",
                               timeout=300_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                               " === 'idle'", timeout=300_000)
        first = [page.evaluate(RUN_CELL_JS, [1, "canvas"]) for _ in range(5)]
        plot = [page.evaluate(RUN_CELL_JS, [2, "image"]) for _ in range(3)]
        flat = [page.evaluate(RUN_CELL_JS, [3, "canvas"]) for _ in range(3)]
        toggles = [page.evaluate(TOGGLE_JS, 1) for _ in range(10)]  # open, close, open, … the first block
        ms = statistics.median
        print("ResNet50 in JupyterLab 4 (median; kernel on this machine, 2 cores):")
        print(f"  first picture, grouped (run the cell -> painted): {ms(first):6.0f} ms   "
              f"plot_model as an image: {ms(plot):6.0f} ms (ratio {ms(first) / ms(plot):.2f}); "
              f"lab.graph without blocks: {ms(flat):6.0f} ms")
        print(f"  open/close a block (click -> new picture painted): {ms(toggles):6.0f} ms (max {max(toggles):.0f})"
              f"   re-running the cell with every layer drawn: {ms(flat):6.0f} ms "
              f"(ratio {ms(toggles) / ms(flat):.2f})")


def sizes() -> None:
    resnet = keras.applications.ResNet50(weights=None)
    for name, view in (("ResNet50 grouped", lab.graph(resnet)), ("ResNet50, every layer", lab.graph(resnet,
                                                                                                   groups=None))):
        data, _ = view._repr_mimebundle_()
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            html = view.save(Path(tmp) / "g.html").stat().st_size
        took = time.perf_counter() - start
        states = len(fold_states(view)[0])
        print(f"  {name}: PNG in the notebook {len(data['image/png']) * 3 / 4 / 1e3:.0f} kB (base64 "
              f"{len(data['image/png']) / 1e3:.0f} kB); standalone .html {html / 1e6:.2f} MB with {states} fold "
              f"state{'s' if states > 1 else ''}, written in {took:.1f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fps_figures(Path(tmp))
    print("Saved pictures:")
    sizes()
    with tempfile.TemporaryDirectory() as tmp:
        jupyter_figures(Path(tmp))


if __name__ == "__main__":
    main()
