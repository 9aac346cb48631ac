"""``bash scripts/site``: the course as a static website in ``_site/``, from the stored notebooks (nothing re-run).

1. Stage what students get (``_edition.course_files``: the lessons and the student exercise notebooks in English,
   Chinese and Spanish, and the glossary; cells tagged ``teacher`` dropped, a notebook with a solution block
   refused) in a temporary folder, with a ``myst.yml`` listing them. Colab badges become plain links (their
   picture lives on Google's server, and the build is offline), and cell ids get a per-file prefix (MyST wants
   them unique in a project).
2. ``jupyter book build --site`` (Jupyter Book 2, MyST) parses every page, notebook outputs and saved widget
   state included, into JSON. MyST's web themes are downloaded from its servers when a site is built, which an
   offline build cannot do; so the site template named in ``myst.yml`` is a local one with no server, and
3. :mod:`fapi_lab._site_mdast` and :mod:`fapi_lab._site_pages` write the HTML from MyST's JSON: one page per lesson,
   exercise set and language, the glossary, a landing page per language, a search index per language, the
   pictures MyST extracted, and the graph canvas's bundle so the graphs zoom in the browser.

``_site/`` is rebuilt from scratch each time, but a file in it that someone edited since the last build stops
the build (nothing someone changed is overwritten), and files the build never wrote (a ``CNAME`` for GitHub
Pages) are left alone. ``.fapi-lab-site.json`` records what the build wrote.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._edition import _notebook_bytes, course_files, course_root, repository_url
from ._graph_export import _pack, _script_json, replay_view, standalone_data
from ._i18n import _, speaking
from ._labels_text import canvas_labels
from ._site_mdast import PageContext, plain_text, relative, render
from ._site_pages import LANG_NAMES, Page, frame, landing_body

__all__ = ["MANIFEST", "SiteError", "build_site", "main", "site_repository"]

MANIFEST = ".fapi-lab-site.json"
# fold states drawn per graph: a page stays light, and Xception's 30 blocks still open one at a time
SITE_STATES = 16
_STATIC = Path(__file__).with_name("_static")
_SITE_STATIC = Path(__file__).with_name("_site_static")
_BADGE = re.compile(r"\[!\[([^\]]*)\]\((https://colab\.research\.google\.com/[^)]*)\)\]\(([^)]*)\)")
_TEMPLATE = """jtex: v1
title: fapi_lab course site (local)
description: "No server: scripts/site writes the pages from the JSON that jupyter book build --site makes."
kind: site
"""


class SiteError(RuntimeError):
    """The site cannot be built; the message names the problem and the fix."""


@dataclass
class SiteReport:
    out: Path
    pages: list[Page] = field(default_factory=list)
    graphs: int = 0
    pictures: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)


def _lang_kind(key: str) -> tuple[str, str]:
    parts = key.split("/")
    lang = parts[0] if parts[0] in ("zh", "es") else "en"
    if key == "GLOSSARY.md":
        return "en", "glossary"
    return lang, "exercises" if "exercises" in parts else "lesson"


def _stage_notebook(data: bytes, key: str) -> bytes:
    nb: dict[str, Any] = json.loads(data)
    prefix = hashlib.sha1(key.encode()).hexdigest()[:6]
    for cell in nb.get("cells", []):
        if "id" in cell:
            cell["id"] = f"{prefix}-{cell['id']}"
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else src
            cell["source"] = _BADGE.sub(r"[\1](\3)", text)
    return json.dumps(nb, ensure_ascii=False).encode("utf-8")


def stage(notebooks: Path, folder: Path) -> dict[str, bytes]:
    """Copy what students get into ``folder`` with a ``myst.yml``; returns each file as students get it (what the
    site offers for download, before the staging changes), by its path under ``notebooks/``, in course order."""
    students: dict[str, bytes] = {}
    for path in course_files(notebooks):
        key = path.relative_to(notebooks).as_posix()
        students[key] = _notebook_bytes(path) if path.suffix == ".ipynb" else path.read_bytes()
        target = folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_stage_notebook(students[key], key) if path.suffix == ".ipynb" else students[key])
    (folder / "_template").mkdir(exist_ok=True)
    (folder / "_template" / "template.yml").write_text(_TEMPLATE, encoding="utf-8")
    toc = "\n".join(f"    - file: {json.dumps(k)}" for k in students)
    (folder / "myst.yml").write_text(
        "version: 1\nproject:\n  title: fapi_lab\n  toc:\n" + toc + "\nsite:\n  template: ./_template\n",
        encoding="utf-8")
    return students


def _jupyter_book() -> str:
    found = Path(sys.executable).with_name("jupyter-book")
    if found.exists():
        return str(found)
    on_path = shutil.which("jupyter-book")
    if on_path:
        return on_path
    raise SiteError("the site is built with Jupyter Book 2, which is not installed here: run `bash scripts/setup` "
                    "(or `pip install -e '.[site]'`), then `bash scripts/site` again")


def run_myst(folder: Path) -> Path:
    """``jupyter book build --site`` in ``folder``; returns its ``_build/site``."""
    if not shutil.which("node"):
        raise SiteError("Jupyter Book 2 runs on Node.js, which is not installed: `sudo apt-get install nodejs` "
                        "(or run `bash scripts/setup`, which installs it), then `bash scripts/site` again")
    env = {**os.environ, "NO_COLOR": "1", "CI": "true"}  # CI: no questions, no update check
    try:
        done = subprocess.run([_jupyter_book(), "build", "--site"], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SiteError("Jupyter Book did not finish in 15 minutes; its output so far:\n"
                        + str(exc.stdout or "")[-3000:]) from None
    built = folder / "_build" / "site"
    if done.returncode != 0 or not (built / "config.json").exists():
        log = (done.stdout + done.stderr)[-4000:]
        raise SiteError(f"Jupyter Book could not build the site (exit code {done.returncode}); its output:\n{log}")
    return built


def _goal(mdast: dict[str, Any]) -> str:
    """The first paragraph that opens with a bold label ('Goal:', '目标：', 'Objetivo:'), without the label; else
    the first paragraph's first sentence."""
    paragraphs: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "paragraph":
            paragraphs.append(node)
        elif node.get("type") not in ("code", "outputs"):
            for child in node.get("children", []) or []:
                walk(child)

    walk(mdast)
    for para in paragraphs:
        kids = para.get("children", [])
        if kids and kids[0].get("type") == "strong" and plain_text(kids[0]).strip().endswith((":", "：")):
            return " ".join(plain_text({"children": kids[1:]}).split())
    for para in paragraphs:
        text = " ".join(plain_text(para).split())
        if text and not text.lower().startswith(("open in colab", "abrir en colab", "在 colab")):
            return re.split(r"(?<=[.。])\s*", text, maxsplit=1)[0]
    return ""


def _title(page: dict[str, Any], fallback: str) -> str:
    title = (page.get("frontmatter") or {}).get("title")
    return str(title) if title else fallback


def _search_records(page: Page, mdast: dict[str, Any]) -> list[dict[str, str]]:
    """One record per section: the page, the heading, its anchor and its prose (code and outputs left out)."""
    records: list[dict[str, str]] = []
    current = {"u": page.path, "t": page.title, "h": "", "x": ""}

    def walk(node: dict[str, Any]) -> None:
        nonlocal current
        kind = node.get("type")
        if kind == "heading":
            records.append(current)
            anchor = str(node.get("html_id") or "")
            current = {"u": f"{page.path}#{anchor}" if anchor else page.path, "t": page.title,
                       "h": plain_text(node), "x": ""}
        elif kind in ("paragraph", "listItem", "tableCell"):
            current["x"] += " " + " ".join(plain_text(node).split())
        elif kind not in ("code", "outputs"):
            for child in node.get("children", []) or []:
                walk(child)

    walk(mdast)
    records.append(current)
    return [r for r in records if r["h"] or r["x"].strip()]


def _graph_html(state: dict[str, Any], png: str) -> str:
    name = str(state.get("name") or "graph")
    view = replay_view(state)  # a graph with blocks, saved with its layer graph: every fold state drawn again
    if view is not None:
        data = standalone_data(view, SITE_STATES)
    else:  # the one picture the notebook saved
        data = {"start": "0", "states": {"0": _pack(state["picture"])}, "next": {}, "info": state.get("info") or {},
                "name": name, "labels": state.get("labels") or canvas_labels(),
                "note": _("Web copy: pan, zoom, search and hover as in the notebook; to open or close a block, run "
                          "the lesson.")}
    alt = _("graph of the model {name}").format(name=name)
    still = f'<img class="fl-graph-still" src="{png}" alt="{alt}">' if png else ""
    return (f'<figure class="fl-graph" data-name="{name}">{still}<div class="fl-graph-live"></div>'
            f'<script type="application/json" class="fl-graph-data">{_script_json(data)}</script></figure>')


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Writer:
    """Writes the site's files, after checking that the folder holds nothing someone edited."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: dict[str, str] = {}
        record = out / MANIFEST
        if out.exists() and any(out.iterdir()) and not record.exists():
            raise SiteError(f"{out} exists and was not made by scripts/site (it has no {MANIFEST}): move it away or "
                            f"build elsewhere with --out")
        old: dict[str, str] = json.loads(record.read_text(encoding="utf-8"))["files"] if record.exists() else {}
        edited = [name for name, sha in old.items()
                  if (out / name).is_file() and _sha((out / name).read_bytes()) != sha]
        if edited:
            raise SiteError(f"{len(edited)} file(s) in {out} changed since the last build, e.g. {edited[0]}: the site "
                            "is made from the notebooks, so edit those (or translations/) instead; move the changed "
                            "files away to build again")
        for name in old:
            (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes | str) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        target = self.out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        self.written[name] = _sha(raw)

    def close(self) -> None:
        body = {"generator": "fapi_lab scripts/site", "files": dict(sorted(self.written.items()))}
        (self.out / MANIFEST).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def site_repository(given: str | None = None) -> str:
    """The repository the landing page tells readers to clone: ``--repo``, else the one GitHub Actions builds (a
    teacher's copy publishes links to itself), else fapi_lab's own."""
    if given:
        return given.rstrip("/")
    if os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{os.environ['GITHUB_REPOSITORY']}"
    return repository_url() or "https://github.com/fapi-lab/fapi_lab"


def build_site(out: Path, *, root: Path | None = None, keep: Path | None = None,
               repo: str | None = None) -> SiteReport:
    """Build the site of the course under ``root`` (default: this checkout or the wheel's copy) into ``out``."""
    root = root or course_root()
    report = SiteReport(out)
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fapi-lab-site-") as tmp:
        folder = keep or Path(tmp)
        students = stage(root / "notebooks", folder)
        report.seconds["stage"] = time.perf_counter() - clock
        built = run_myst(folder)
        report.seconds["jupyter book"] = time.perf_counter() - clock - report.seconds["stage"]
        writer = _Writer(out)
        _write_pages(built, students, writer, report, site_repository(repo))
        writer.close()
    report.seconds["total"] = time.perf_counter() - clock
    return report


def _write_pages(built: Path, students: dict[str, bytes], writer: _Writer, report: SiteReport,
                 repo: str) -> None:
    by_location = {}
    for path in (built / "content").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        by_location[data["location"].lstrip("/")] = data
    missing = [k for k in students if k not in by_location]
    if missing:
        raise SiteError(f"Jupyter Book wrote no page for {', '.join(missing)}; see its output above")
    pages = []
    for key in students:
        lang, kind = _lang_kind(key)
        with speaking(lang):
            mdast = by_location[key]["mdast"]
            fallback = Path(key).stem
            pages.append(Page(key, lang, kind, _title(by_location[key], fallback), _goal(mdast)))
    site_of = {p.source: p.path for p in pages}
    records: dict[str, list[dict[str, str]]] = {lang: [] for lang in LANG_NAMES}
    assets: set[str] = set()
    course = dict.fromkeys(LANG_NAMES, "")
    for lang in LANG_NAMES:
        with speaking(lang):
            course[lang] = _("Keras functional API: lessons and exercises")
    for page in pages:
        data = by_location[page.source]
        with speaking(page.lang):
            ctx = _context(page, site_of, repo, assets, data)
            page.body = f'<h1 class="title">{html.escape(page.title)}</h1>' + render(data["mdast"], ctx)
            report.graphs += ctx.graphs
            report.unknown |= ctx.unknown
            download = ""
            if page.source.endswith(".ipynb"):
                download = f"{page.lang}/notebooks/{page.key}"
                writer.write(download, students[page.source])
            writer.write(page.path, frame(page, pages, course[page.lang], download))
        for lang in (LANG_NAMES if page.kind == "glossary" else (page.lang,)):  # the glossary has all three
            records[lang] += _search_records(page, data["mdast"])
    for lang in LANG_NAMES:
        with speaking(lang):
            home = Page("index", lang, "home", course[lang])
            home.body = landing_body(lang, pages, repo)
            writer.write(home.path, frame(home, pages, course[lang]))
            records[lang].insert(0, {"u": home.path, "t": course[lang], "h": "", "x": ""})
        writer.write(f"_static/search-{lang}.js",
                     "window.FAPI_SEARCH = " + json.dumps(records[lang], ensure_ascii=False) + ";\n")
    for name in sorted(assets):
        source = built / "public" / name
        if source.is_file():
            writer.write(f"_static/media/{name}", source.read_bytes())
            report.pictures += 1
    for name in ("graph.js", "graph.css"):
        writer.write(f"_static/{name}", (_STATIC / name).read_bytes())
    for path in sorted(_SITE_STATIC.iterdir()):
        writer.write(f"_static/{path.name}", path.read_bytes())
    writer.write(".nojekyll", b"")  # GitHub Pages: serve _static/ as it is
    report.pages = pages


def _context(page: Page, site_of: dict[str, str], repo: str, assets: set[str], data: dict[str, Any]) -> PageContext:
    def link(url: str) -> str:
        if not url or url.startswith(("http://", "https://", "mailto:", "#")):
            return url
        target, _sep, anchor = url.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page.source), target))
        if resolved in site_of:
            found = relative(site_of[resolved], page.path)
            return f"{found}#{anchor}" if anchor else found
        outside = posixpath.normpath(posixpath.join("notebooks", resolved))
        return f"{repo}/blob/main/{outside}" + (f"#{anchor}" if anchor else "")

    def asset(path: str) -> str:
        name = path.lstrip("/")
        assets.add(name)
        return relative(f"_static/media/{name}", page.path)

    state = (data.get("widgets") or {}).get("application/vnd.jupyter.widget-state+json") or {}
    return PageContext(link=link, asset=asset, widgets=state.get("state") or {},
                       graph=_graph_html)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("_site"), help="the site folder (default: _site)")
    parser.add_argument("--keep", type=Path, help="stage in this folder and keep it (to look at MyST's JSON)")
    parser.add_argument("--repo", help="the repository address the landing page links to (default: the one GitHub "
                        "Actions builds, else fapi_lab's)")
    args = parser.parse_args(argv)
    try:
        report = build_site(args.out.resolve(), keep=args.keep.resolve() if args.keep else None, repo=args.repo)
    except SiteError as exc:
        print(f"scripts/site: {exc}", file=sys.stderr)
        return 1
    counts = {lang: sum(p.lang == lang for p in report.pages) for lang in LANG_NAMES}
    print(f"site: {len(report.pages) + 3} pages ({', '.join(f'{k} {v}' for k, v in counts.items())}), "
          f"{report.graphs} interactive graphs, {report.pictures} pictures, in {report.out}")
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))
    if report.unknown:
        print(f"note: node types shown as plain content: {', '.join(sorted(report.unknown))}")
    print(f"open it: python -m http.server -d {args.out} 8000, then http://127.0.0.1:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
