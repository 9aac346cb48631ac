"""The course website (`bash scripts/site`, README "Publish the course"), built as CI builds it and opened in
headless Chromium.

The site is built once per run, with no network at all where this machine allows it (a network namespace of its
own, as root), so "offline" is a fact, not a hope. Then: every lesson and exercise set has its page in English,
Chinese and Spanish, with the notebook's code as stored and every stored picture in place (a picture, or the live
graph canvas: never loose text); no solution line is anywhere in the folder; every link inside the site leads to a
file of it; and in the browser the pictures load, the graphs start and zoom, the language switch lands on the same
lesson, and search finds it.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import http.server
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from fapi_lab._edition import _notebook_bytes, course_files
from fapi_lab._site_build import MANIFEST, SiteError, _goal, _Writer, site_repository
from fapi_lab._site_mdast import PageContext, render
from tests.browser import chromium, chromium_path, new_page
from tests.test_edition import SECRET, leaks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PICTURES = ("image/png", "image/svg+xml")


def _isolated() -> list[str]:
    """``unshare -n`` (a network namespace with no network) when this machine lets us make one, else nothing."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, bool]:
    out = tmp_path_factory.mktemp("site") / "_site"
    prefix = _isolated()
    done = subprocess.run([*prefix, sys.executable, "-m", "fapi_lab._site_build", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done.stdout, bool(prefix)


@pytest.fixture(scope="module")
def site(built: tuple[Path, str, bool]) -> Path:
    return built[0]


def _page_of(source: Path) -> str:
    key = source.relative_to(NOTEBOOKS).as_posix()
    lang = key.split("/")[0] if key.split("/")[0] in ("zh", "es") else "en"
    rest = key.removeprefix(f"{lang}/") if lang != "en" else key
    return f"{lang}/{rest.removesuffix('.ipynb')}.html"


COURSE = [p for p in course_files(NOTEBOOKS) if p.suffix == ".ipynb"]


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _stored(nb: dict[str, Any]) -> tuple[int, int]:
    """(outputs stored with a picture, widgets stored with HTML and no picture): what a reader of the notebook
    sees as a picture, and as a panel of text and bars."""
    pictures = panels = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if any(k in data for k in PICTURES):
                pictures += 1
            elif "application/vnd.jupyter.widget-view+json" in data and "text/html" in data:
                panels += 1
    return pictures, panels


# -- the build ------------------------------------------------------------------------------------------------
def test_build_is_offline_and_reports_what_it_made(built: tuple[Path, str, bool]) -> None:
    out, stdout, isolated = built
    pages = len(COURSE) + 1 + 3  # + glossary + a landing page per language
    assert f"site: {pages} pages" in stdout, stdout
    assert "node types shown as plain content" not in stdout, stdout  # every MyST node of the course is rendered
    assert (out / MANIFEST).is_file() and (out / ".nojekyll").is_file()
    if not isolated:
        pytest.skip("built, but this machine cannot cut the network off (unshare -n) to prove it needs none")


@pytest.mark.parametrize("source", COURSE, ids=lambda p: p.relative_to(NOTEBOOKS).as_posix())
def test_each_page_shows_its_notebook_as_stored(site: Path, source: Path) -> None:
    """Title, every code cell in order (teacher cells excepted), and every stored picture in place."""
    page = site / _page_of(source)
    soup = _soup(page)
    nb = json.loads(source.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "teacher" not in c.get("metadata", {}).get("tags", [])]
    first = "".join(cells[0]["source"]).splitlines()[0].lstrip("# ").strip()
    assert soup.h1.get_text(strip=True) == first
    code = ["".join(c["source"]).rstrip() for c in cells if c["cell_type"] == "code"]
    shown = [pre.get_text().rstrip() for pre in soup.select("article .code-cell > pre.code")]
    assert shown == code
    pictures = soup.select("article .output.picture img, article .output.graph figure.fl-graph")
    stored, panels = _stored({"cells": cells})
    assert len(pictures) == stored
    assert len(soup.select("article .output.html")) >= panels
    loose = [pre.get_text()[:80] for pre in soup.select("article pre.output.text")
             if re.match(r"^\w+\(.*\)$", pre.get_text().strip()) and "View" in pre.get_text()]
    assert not loose, f"a widget shown as its text instead of its picture: {loose}"
    download = soup.select_one("p.download a")["href"]  # the notebook as students get it, not the staged copy
    assert (page.parent / download).read_bytes() == _notebook_bytes(source)
    for figure in soup.select("figure.fl-graph"):
        data = json.loads(figure.select_one("script.fl-graph-data").string)
        assert data["states"]["0"] and data["labels"], "a graph without its picture or its words"
        first = json.loads(gzip.decompress(base64.b64decode(data["states"]["0"])))
        if first["foldable"]:  # a graph with blocks opens and closes them on the site too
            assert len(data["states"]) > 1 and data["next"]["0"], f"{data['name']} cannot fold on the site"


def test_landing_pages_list_the_lessons_and_exercise_sets_with_their_goals(site: Path) -> None:
    for lang, home in (("en", "index.html"), ("zh", "zh/index.html"), ("es", "es/index.html")):
        soup = _soup(site / home)
        links = {a["href"] for a in soup.select("table.course-table a")}
        mine = [p for p in COURSE if _page_of(p).startswith(f"{lang}/")]
        expected = {os.path.relpath(_page_of(p), posixpath.dirname(home) or ".") for p in mine}
        assert links == expected
        goals = [row.select("td")[1].get_text(strip=True) for row in soup.select("table.course-table tbody tr")]
        assert all(goals), f"{home}: a lesson without its goal"
        assert "bash scripts/lessons" in soup.get_text() and "colab.research.google.com" in str(soup)
    assert "Keras 函数式 API" in _soup(site / "zh/index.html").h1.get_text()


def test_no_solution_line_anywhere_in_the_site(site: Path) -> None:
    assert SECRET, "the scan has nothing to look for"
    texts = {}
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".ipynb", ".json"):
            raw = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".html":  # code is split into highlighted spans and escaped: read it as text
                raw = BeautifulSoup(raw, "html.parser").get_text() + "\n" + html.unescape(raw)
            texts[path.relative_to(site).as_posix()] = raw.encode("utf-8")
    assert not leaks({name: data for name, data in texts.items() if not name.endswith(".ipynb")})
    assert not leaks({name: data for name, data in texts.items() if name.endswith(".ipynb")})
    # the scan reads pages as a reader does: a secret line rendered as highlighted code is found
    secret = next(iter(SECRET))
    ctx = PageContext(link=str, asset=str)
    page = render({"type": "code", "lang": "python", "value": f"x = 1\n{secret}\n"}, ctx)
    text = BeautifulSoup(page, "html.parser").get_text()
    assert leaks({"probe.html": text.encode()}), "the scan misses a line shown as highlighted code"


def test_every_link_and_picture_inside_the_site_exists(site: Path) -> None:
    broken = []
    for page in site.rglob("*.html"):
        soup = _soup(page)
        for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
            for node in soup.find_all(tag):
                url = node.get(attr)
                if not url or url.startswith(("http://", "https://", "#", "data:", "mailto:")):
                    continue
                target = (page.parent / url.split("#")[0]).resolve()
                if not target.is_file():
                    broken.append(f"{page.relative_to(site)} -> {url}")
    assert not broken, broken[:10]


def test_goal_of_a_page() -> None:
    para = {"type": "paragraph", "children": [{"type": "strong", "children": [{"type": "text", "value": "目标："}]},
                                              {"type": "text", "value": " 看清 Keras 模型"}]}
    assert _goal({"type": "root", "children": [para]}) == "看清 Keras 模型"
    plain = {"type": "paragraph", "children": [{"type": "text", "value": "Practises lesson 5. Six tasks."}]}
    assert _goal({"type": "root", "children": [plain]}) == "Practises lesson 5."


def test_a_teachers_copy_links_to_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert site_repository().startswith("https://github.com/")  # fapi_lab's own, from the package metadata
    monkeypatch.setenv("GITHUB_REPOSITORY", "myschool/keras-course")  # what GitHub Actions sets
    assert site_repository() == "https://github.com/myschool/keras-course"
    assert site_repository("https://gitlab.com/me/course/") == "https://gitlab.com/me/course"


# -- nothing someone changed is lost ------------------------------------------------------------------------------
def test_a_folder_the_site_did_not_make_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="not made by scripts/site"):
        _Writer(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_edited_page_stops_the_next_build_and_other_files_stay(tmp_path: Path) -> None:
    writer = _Writer(tmp_path)
    writer.write("en/a.html", "<p>built</p>")
    writer.write("en/b.html", "<p>built</p>")
    writer.close()
    (tmp_path / "CNAME").write_text("course.example.org")  # GitHub Pages' custom domain: not the build's
    again = _Writer(tmp_path)  # nothing edited: the old pages go, the others stay
    assert not (tmp_path / "en/a.html").exists() and (tmp_path / "CNAME").exists()
    again.write("en/a.html", "<p>built</p>")
    again.close()
    (tmp_path / "en/a.html").write_text("<p>my fix</p>")
    with pytest.raises(SiteError, match="changed since the last build"):
        _Writer(tmp_path)
    assert (tmp_path / "en/a.html").read_text() == "<p>my fix</p>"


def test_publishing_workflow_builds_and_deploys_the_site() -> None:
    import yaml

    flow = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text(encoding="utf-8"))
    steps = [s for job in flow["jobs"].values() for s in job.get("steps", [])]
    runs = " ".join(str(s.get("run", "")) for s in steps)
    uses = [str(s.get("uses", "")) for s in steps]
    assert "bash scripts/site" in runs
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Publish the course" in readme and "bash scripts/site" in readme


# -- in the browser ----------------------------------------------------------------------------------------------
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not chromium_path():
        pytest.skip("no Chromium here (scripts/test installs it)")
    with chromium() as b:
        yield b


PAGES_JS = """() => {
  const imgs = [...document.querySelectorAll('article img')].filter(i => !i.closest('figure.fl-graph.live'));
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const figures = [...document.querySelectorAll('figure.fl-graph')];
  const dead = figures.filter(f => !f.classList.contains('live') || !f.querySelector('svg g.node')
    || f.querySelector('.fl-graph-live').getBoundingClientRect().height < 50).length;
  return {bad, dead, figures: figures.length, imgs: imgs.length};
}"""


def test_every_page_shows_its_pictures_and_live_graphs_in_chromium(served: str, site: Path, browser: Any) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    problems = []
    with new_page(browser) as page:
        for name in pages:
            page.goto(served + name)
            page.wait_for_load_state("load")
            if page.locator("figure.fl-graph").count():
                page.wait_for_function("() => [...document.querySelectorAll('figure.fl-graph')]"
                                       ".every(f => f.classList.contains('live'))", timeout=20_000)
            found = page.evaluate(PAGES_JS)
            if found["bad"] or found["dead"]:
                problems.append(f"{name}: {found}")
        assert not problems, problems[:5]
        assert not page.errors, page.errors[:5]


def test_a_graph_zooms_in_the_browser(served: str, browser: Any) -> None:
    with new_page(browser) as page:
        page.goto(served + "en/07_sharing_layers_and_models.html")
        figure = page.locator("figure.fl-graph.live").first
        figure.wait_for(timeout=20_000)
        figure.scroll_into_view_if_needed()
        view = figure.locator(".fapi-lab-canvas")
        k0 = float(page.evaluate("el => (el.__zoom || {k: 1}).k", view.element_handle()))
        figure.locator(".fl-zoom-in").click()
        k1 = float(page.evaluate("el => (el.__zoom || {k: 1}).k", view.element_handle()))
        assert k1 == pytest.approx(k0 * 1.25, rel=1e-3)
        assert "Web copy" in figure.inner_text()  # it says what this copy can and cannot do
        assert not page.errors


def test_a_nested_model_opens_and_closes_in_the_browser(served: str, browser: Any) -> None:
    with new_page(browser) as page:
        page.goto(served + "en/04_one_graph_many_models.html")
        figure = page.locator("figure.fl-graph.live", has=page.locator("g.fl-fold")).first
        figure.wait_for(timeout=20_000)
        figure.scroll_into_view_if_needed()
        before = figure.locator("g.node").count()
        figure.locator("g.fl-fold").first.click()
        page.wait_for_function("([f, n]) => f.querySelectorAll('g.node').length !== n",
                               arg=[figure.element_handle(), before], timeout=10_000)
        assert "no picture" not in figure.inner_text()
        assert not page.errors


def test_the_language_switch_reaches_the_same_lesson(served: str, browser: Any) -> None:
    lesson = "07_sharing_layers_and_models"
    titles = {lang: json.loads((NOTEBOOKS / folder / f"{lesson}.ipynb").read_text(encoding="utf-8"))["cells"][0]
              for lang, folder in (("en", "."), ("zh", "zh"), ("es", "es"))}
    with new_page(browser) as page:
        page.goto(served + f"en/{lesson}.html")
        for lang in ("zh", "es", "en"):
            page.locator(f".languages a[data-lang='{lang}']").click()
            page.wait_for_url(f"**/{lang}/{lesson}.html")
            expected = "".join(titles[lang]["source"]).splitlines()[0].lstrip("# ").strip()
            assert page.locator("h1").first.inner_text().strip() == expected
            assert page.locator("html").get_attribute("lang").startswith(lang)


def test_search_finds_a_lesson_in_its_language(served: str, browser: Any) -> None:
    with new_page(browser) as page:
        for lang, query in (("en", "shared layer"), ("zh", "共享层"), ("es", "capa compartida")):
            page.goto(served + (f"{lang}/index.html" if lang != "en" else "index.html"))
            page.locator("#site-search").fill(query)
            results = page.locator("#site-search-results a")
            results.first.wait_for(timeout=5_000)
            hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
            assert any("07_sharing_layers_and_models" in h for h in hrefs), hrefs
            assert all(f"{lang}/" in h or "glossary.html" in h for h in hrefs), hrefs
            page.locator("#site-search").press("Enter")
            page.wait_for_url(re.compile(rf".*/{lang}/.*\.html.*"))
