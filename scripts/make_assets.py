"""Draw the README's example pictures into assets/ from the lesson models (run after changing the renderer).

    .venv/bin/python scripts/make_assets.py

Also ResNet50 (keras.applications, no weights downloaded) folded into its automatic blocks with one block open,
as an SVG and, where Chromium is installed, as a screenshot of the canvas (its standalone .html page).
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fapi_lab as lab  # noqa: E402

lab.quiet()

ASSETS = ROOT / "assets"


def resnet50_folded() -> "lab.GraphView":
    import keras

    view = lab.graph(keras.applications.ResNet50(weights=None))
    view.expand("conv3_block1")
    return view


def canvas_screenshot(view: "lab.GraphView", target: Path) -> None:
    """The canvas as a reader sees it: the standalone page in headless Chromium, fitted, one block open."""
    from tests.browser import chromium, chromium_path, new_page

    if chromium_path() is None:
        print("no Chromium: skipped", target)
        return
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser, new_page(browser) as page:
        page.set_viewport_size({"width": 1100, "height": 760})
        page.goto(view.save(Path(tmp) / "resnet50.html").as_uri())
        page.wait_for_selector(".fapi-lab-canvas g.node", timeout=60_000)
        page.locator(".fl-search").fill("conv3_block1_add")
        page.wait_for_selector(".fapi-lab-canvas g.fl-current", timeout=10_000)  # centred on the match
        page.locator(".fl-root").screenshot(path=str(target))
    print("wrote", target)


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    resnet = resnet50_folded()
    pictures = {
        "ticket_model.svg": lab.graph(lab.patterns.ticket_model(), show_params=True),
        "nested_autoencoder_expanded.svg": lab.graph(lab.patterns.nested_autoencoder()[-1], depth=None),
        "toy_resnet.svg": lab.graph(lab.patterns.toy_resnet()),
        "siamese_lstm.svg": lab.graph(lab.patterns.siamese_lstm()),
        "resnet50_folded.svg": resnet,
    }
    for name, view in pictures.items():
        (ASSETS / name).write_text(view.to_svg())
        print("wrote", ASSETS / name)
    canvas_screenshot(resnet, ASSETS / "canvas_resnet50.png")


if __name__ == "__main__":
    main()
