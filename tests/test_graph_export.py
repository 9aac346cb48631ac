"""Saved pictures: the output a notebook keeps (_pictures), view.save (.svg, .png, standalone .html) and the bundle."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab import _graph_export, _pictures
from fapi_lab._graph_picture import toggled

NEEDS_DOT = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
ROOT = Path(__file__).resolve().parents[1]


def nested(n_inner: int = 2) -> keras.Model:
    """A model with ``n_inner`` nested models in a row (each a block the canvas can open)."""
    x = inp = keras.Input((4,), name="img")
    for i in range(n_inner):
        ii = keras.Input((4,), name=f"in_{i}")
        inner = keras.Model(ii, layers.Dense(4, name=f"dense_{i}")(ii), name=f"inner_{i}")
        x = inner(x)
    return keras.Model(inp, x, name="chain_of_models")


# -- what a saved notebook keeps ---------------------------------------------------------------------------------
def test_svg_size_and_display_size() -> None:
    assert _pictures.svg_size('<svg width="120pt" height="30pt" viewBox="0 0 120 30">') == (160.0, 40.0)
    assert _pictures.svg_size('<svg xmlns="x" viewBox="0 0 50 20" class="c">') == (50.0, 20.0)
    assert _pictures.display_size(400, 300) == (400, 300)  # natural size
    assert _pictures.display_size(400, 4800) == (300, 3600)  # a tall one smaller, never below 3/4
    assert _pictures.display_size(400, 2 * _pictures.TALL) == (300, 3600)
    assert _pictures.display_size(0, 10) == (0, 0)


def test_picture_html_is_an_image_that_scrolls() -> None:
    svg = '<svg width="1500pt" height="30pt" viewBox="0 0 1500 30"><text>a "b" & <c></text></svg>'
    page = _pictures.picture_html(svg, alt='graph of "x" <y>')
    assert "<svg" not in page  # an <svg> element would be removed in an untrusted notebook
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(data).decode() == svg
    assert 'width="2000"' in page and "overflow-x:auto" in page and "max-width:none" in page
    assert 'alt="graph of &quot;x&quot; &lt;y>"' in page


def test_bundle_with_and_without_a_png() -> None:
    svg = '<svg width="900pt" height="60pt" viewBox="0 0 900 60"></svg>'
    data, meta = _pictures.picture_bundle(svg, png=b"\x89PNG...", text="G")
    assert set(data) == {"image/png", "text/plain"} and data["text/plain"] == "G"
    assert meta == {"image/png": {"width": 1200, "height": 80, "unconfined": True}}  # wide: it scrolls
    data, meta = _pictures.picture_bundle(svg, png=None, notice_html="<div>why</div>")
    assert set(data) == {"text/html", "image/svg+xml", "text/plain"} and meta == {}
    assert data["text/html"].startswith("<div>why</div><div class=\"fapi-lab-picture\"")
    data, _ = _pictures.picture_bundle(svg, png=b"\x89PNG", notice_html="<div>why</div>")
    assert "text/html" in data and "image/png" in data, "a notice is kept beside the picture"


@NEEDS_DOT
def test_png_resolution_and_pixel_budget() -> None:
    from PIL import Image

    chain = "digraph g { node [shape=box]; " + " -> ".join(f"n{i}" for i in range(400)) + " }"
    svg = _pictures_svg(chain)
    width, height = _pictures.svg_size(svg)
    png = _pictures.png_from_dot(chain, width, height, max_pixels=2_000_000)
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "P", "a palette keeps the notebook small"
        assert im.width * im.height <= 2_000_000 * 1.01
        assert im.height == pytest.approx(im.width * height / width, rel=0.02)
    small = _pictures.png_from_dot("digraph { a -> b }", *_pictures.svg_size(_pictures_svg("digraph { a -> b }")))
    with Image.open(io.BytesIO(small)) as im:
        assert min(im.convert("RGB").getpixel((1, 1))) >= 250, "white, not transparent (dark themes)"
    assert _pictures.png_from_dot("not dot at all {", 10, 10) is None


def _pictures_svg(dot: str) -> str:
    from fapi_lab._render_dot import dot_to_svg

    return dot_to_svg(dot)


# -- view.save ----------------------------------------------------------------------------------------------------
@NEEDS_DOT
def test_save_svg_and_png_never_replace_an_edited_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    view = lab.graph(nested())
    view.select("img")
    path = view.save(tmp_path / "graph.svg")
    assert path == tmp_path / "graph.svg" and ET.fromstring(path.read_text()).tag.endswith("svg")
    assert "#dc2626" in path.read_text(), "the selection is in the saved picture"
    assert view.save(tmp_path / "graph.svg") == path, "the same picture again: nothing to do"
    path.write_text("<svg>my own edit</svg>")
    beside = view.save(tmp_path / "graph.svg")
    assert beside == tmp_path / "graph.new.svg" and path.read_text() == "<svg>my own edit</svg>"
    assert "graph.new.svg" in capsys.readouterr().out
    png = view.save(tmp_path / "graph.png")
    with Image.open(png) as im:
        width, _ = _pictures.svg_size(view.to_svg())
        assert im.format == "PNG" and im.width == pytest.approx(width * _pictures.PNG_SCALE, abs=3)


def test_save_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    view = lab.graph(nested(), renderer="builtin")
    with pytest.raises(ValueError, match=r"use a name ending in \.svg, \.png or \.html"):
        view.save(tmp_path / "graph.jpg")
    with pytest.raises(RuntimeError, match=r"PNG needs Graphviz's dot.*save an \.svg or \.html instead"):
        view.save(tmp_path / "graph.png")
    assert not list(tmp_path.iterdir())
    assert view.save(tmp_path / "graph.html").stat().st_size > 50_000  # the built-in layout saves as a page


def _page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="fapi-lab-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def _unpack(packed: str) -> dict:
    return json.loads(gzip.decompress(base64.b64decode(packed)))


def test_standalone_html_holds_the_bundle_and_every_fold_state(tmp_path: Path) -> None:
    view = lab.graph(nested(2))
    page = view.save(tmp_path / "graph.html").read_text()
    assert (ROOT / "fapi_lab/_static/graph.js").read_text().replace("</script", "<\\/script") in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page, "no network"
    data = _page_data(page)
    assert len(data["states"]) == 4 and "fold as in the notebook" in data["note"]  # 2 blocks: every combination
    pictures = {k: _unpack(v) for k, v in data["states"].items()}
    assert pictures["0"]["foldable"] == {"inner_0": False, "inner_1": False} and "<svg" in pictures["0"]["svg"]
    for state, row in data["next"].items():  # a click opens or closes exactly that block
        for key, target in row.items():
            before, after = pictures[state]["foldable"], pictures[target]["foldable"]
            assert after[key] is not before[key]
            assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert "inner_0/dense_0" in data["info"] and data["name"] == "chain_of_models"


def _saved_state(view: lab.GraphView) -> dict:
    """The canvas's state as a saved notebook keeps it (through JSON, as the widget-state metadata does)."""
    return json.loads(json.dumps(view._canvas.get_state()))


def test_a_saved_graph_with_blocks_is_drawn_again_without_keras() -> None:
    """The course website folds stored graphs: the canvas saves its plain layer graph, options and folds, and
    replay_view draws every fold state again with the same pictures as the live view."""
    view = lab.graph(nested(2), direction="LR", show_params=True)
    view.expand("inner_1")
    again = _graph_export.replay_view(_saved_state(view))
    assert again is not None and again.direction == "LR" and again.show_params
    assert again.to_svg() == view.to_svg()
    live, replayed = _graph_export.standalone_data(view), _graph_export.standalone_data(again)
    assert replayed["next"] == live["next"] and replayed["info"] == live["info"]
    assert [_unpack(p) for p in replayed["states"].values()] == [_unpack(p) for p in live["states"].values()]
    flat = lab.graph(keras.Sequential([keras.Input((3,)), layers.Dense(2)], name="flat"))
    assert _graph_export.replay_view(_saved_state(flat)) is None, "nothing to fold: nothing extra saved"


def test_standalone_html_of_many_blocks_opens_one_at_a_time() -> None:
    view = lab.graph(nested(4))  # 2**4 states: more than a page of 8 holds (a real page holds MAX_STATES)
    states, drawn, nxt, complete = _graph_export.fold_states(view, limit=8)
    assert not complete and len(states) == len(drawn) == 8
    assert len(nxt[0]) == 4, "every block opens from the saved picture"
    for i, row in nxt.items():  # from any other state every click leads to a stored picture: the one the click
        for key, target in row.items():  # draws, or else that block opened alone from the saved picture
            direct = toggled(states[i], drawn[i][1], key, 0, open_=key not in states[i][0])
            assert target == states.index(direct) if direct in states else target == nxt[0][key]
    assert "one block at a time" in _page_data(_graph_export.standalone_html(view, limit=8))["note"]


def test_names_are_data_in_the_standalone_page(tmp_path: Path) -> None:
    evil = "</script><img src=x onerror=alert(1)>"
    x = keras.Input((3,), name="x")
    layer = layers.Dense(2, name="d")
    y = layer(x)
    layer.name = evil  # Keras refuses such names in the constructor, but renamed layers and models carry them
    model = keras.Model(x, y, name="evil")
    model.name = evil
    page = lab.graph(model).save(tmp_path / "evil.html").read_text()
    assert evil not in page and page.count("</script>") == 3  # data, code and module scripts only
    assert "<title>&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; · fapi_lab graph</title>" in page


# -- the committed bundle ------------------------------------------------------------------------------------------
def test_the_committed_bundle_is_built_from_the_sources_in_js() -> None:
    """``bash scripts/build_js`` writes the sources' hash into the bundle: edited sources need a rebuild."""
    js = ROOT / "js"
    files = sorted(["build.mjs", "package.json", "package-lock.json",
                    *[f"src/{p.name}" for p in (js / "src").iterdir()]])
    digest = hashlib.sha256()
    for name in files:
        digest.update(f"{name}\n".encode())
        digest.update((js / name).read_text(encoding="utf-8").replace("\r\n", "\n").encode())
        digest.update(b"\n")
    for bundle in ("graph.js", "graph.css"):
        first = (ROOT / "fapi_lab/_static" / bundle).read_text().splitlines()[0]
        assert f"sources sha256 {digest.hexdigest()}" in first, f"{bundle} is stale: run bash scripts/build_js"
    lock = json.loads((js / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/d3-zoom"]["version"] == "3.0.0"
