"""The course website's page frame and landing pages, in the page's language (pure: strings in, HTML out).

Every page has the same frame: the course title (a link to the landing page of its language), the language switch
(the same lesson in English, 中文 and español), a search box, the list of lessons and exercise sets, and under the
text the previous and next page. Addresses are relative, so the site works from any folder of a web server
(GitHub Pages serves it under ``/<repository>/``) and the text from a file opened directly.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ._i18n import _
from ._site_mdast import relative

__all__ = ["LANG_NAMES", "Page", "frame", "landing_body", "page_path"]

LANG_NAMES = {"en": "English", "zh": "中文", "es": "español"}
HTML_LANG = {"en": "en", "zh": "zh-Hans", "es": "es"}


@dataclass
class Page:
    """One page of the site: ``source`` is its path under ``notebooks/`` (``zh/07_x.ipynb``)."""

    source: str
    lang: str
    kind: str  # "lesson" | "exercises" | "glossary" | "home"
    title: str = ""
    goal: str = ""
    body: str = ""

    @property
    def key(self) -> str:
        """The same page in every language has the same key (``07_x.ipynb``, ``exercises/ex1.ipynb``)."""
        return self.source.removeprefix(f"{self.lang}/") if self.lang != "en" else self.source

    @property
    def path(self) -> str:
        return page_path(self.key, self.lang, self.kind)


def page_path(key: str, lang: str, kind: str) -> str:
    """Where a page is written inside the site folder."""
    if kind == "glossary":
        return "glossary.html"
    if kind == "home":
        return "index.html" if lang == "en" else f"{lang}/index.html"
    return f"{lang}/{key.removesuffix('.ipynb')}.html"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def words() -> dict[str, str]:
    """The site's own words in the current language, HTML-escaped (kept out of f-strings: Babel does not look
    inside them)."""
    return {key: _esc(text) for key, text in {
        "lessons": _("Lessons"),
        "sets": _("Exercise sets"),
        "glossary": _("Glossary"),
        "course": _("Course"),
        "prev_next": _("Previous and next"),
        "download": _("Download this notebook (.ipynb)"),
        "search": _("Search the course"),
        "none": _("Nothing found."),
        "title": _("Keras functional API: lessons and exercises"),
        "lesson": _("lesson"),
        "goal": _("goal"),
        "set": _("exercise set"),
        "practises": _("what it practises"),
        "run": _("Run the lessons yourself"),
        "computer": _("On your own computer (Debian or Ubuntu; the first run installs everything, about a minute):"),
        "pip": _("Or with pip, in any Python 3.10-3.12 environment (then open the lessons in JupyterLab):"),
        "browser": _("In the browser, with nothing to install:"),
        "colab": _("open the first lesson in Google Colab"),
        "binder": _("or on Binder (a free temporary server; the first start takes a few minutes)"),
        "repo": _("The course's repository"),
    }.items()}


def _nav(page: Page, pages: list[Page]) -> str:
    w = words()
    mine = [p for p in pages if p.lang == page.lang and p.kind in ("lesson", "exercises")]
    parts = []
    for kind, heading in (("lesson", w["lessons"]), ("exercises", w["sets"])):
        current = ' class="current" aria-current="page"'
        items = "".join(
            f'<li{current if p.source == page.source else ""}>'
            f'<a href="{_esc(relative(p.path, page.path))}">{_esc(p.title)}</a></li>'
            for p in mine if p.kind == kind)
        parts.append(f"<h2>{_esc(heading)}</h2><ul>{items}</ul>")
    glossary = relative("glossary.html", page.path)
    parts.append(f'<p class="glossary-link"><a href="{_esc(glossary)}">{w["glossary"]} · 术语表 · Glosario</a></p>')
    return f'<nav class="sidebar" aria-label="{w["course"]}">{"".join(parts)}</nav>'


def _switch(page: Page, pages: list[Page]) -> str:
    """Links to this page in the other languages (the landing page of a language that lacks it)."""
    links = []
    for lang, name in LANG_NAMES.items():
        twin = next((p for p in pages if p.lang == lang and p.key == page.key and p.kind == page.kind), None)
        target = twin.path if twin and page.kind != "glossary" else page_path("", lang, "home")
        current = lang == page.lang and page.kind != "glossary"
        attrs = ' aria-current="true" class="current"' if current else ""
        code = HTML_LANG[lang]
        links.append(f'<a href="{_esc(relative(target, page.path))}" hreflang="{code}" lang="{code}"'
                     f' data-lang="{lang}"{attrs}>{name}</a>')
    return f'<div class="languages" role="navigation" aria-label="language / 语言 / idioma">{" ".join(links)}</div>'


def _neighbours(page: Page, pages: list[Page]) -> str:
    w = words()
    mine = [p for p in pages if p.lang == page.lang and p.kind in ("lesson", "exercises")]
    if page not in mine:
        return ""
    i = mine.index(page)
    out = []
    if i > 0:
        prev = mine[i - 1]
        out.append(f'<a class="prev" href="{_esc(relative(prev.path, page.path))}">← {_esc(prev.title)}</a>')
    if i + 1 < len(mine):
        nxt = mine[i + 1]
        out.append(f'<a class="next" href="{_esc(relative(nxt.path, page.path))}">{_esc(nxt.title)} →</a>')
    return f'<nav class="neighbours" aria-label="{w["prev_next"]}">{"".join(out)}</nav>'


def frame(page: Page, pages: list[Page], course: str, download: str = "") -> str:
    """The whole HTML document of ``page`` (its ``body`` already rendered)."""
    w = words()
    root = relative("index.html", page.path).removesuffix("index.html") or "./"
    home = relative(page_path("", page.lang, "home"), page.path)
    static = f"{root}_static/"
    get = (f'<p class="download"><a href="{_esc(relative(download, page.path))}" download>'
           f'{w["download"]}</a></p>') if download else ""
    title = _esc(page.title if page.kind == "home" else f"{page.title} · {course}")
    return f"""<!DOCTYPE html>
<html lang="{HTML_LANG[page.lang]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fapi_lab scripts/site (Jupyter Book 2 / MyST)">
<meta name="fapi-lab-root" content="{_esc(root)}">
<meta name="fapi-lab-lang" content="{page.lang}">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}site.css">
<link rel="stylesheet" href="{static}graph.css">
<script src="{static}search-{page.lang}.js" defer></script>
<script src="{static}site.js" defer></script>
</head>
<body class="kind-{page.kind}">
<header class="top">
<a class="course" href="{_esc(home)}">{_esc(course)}</a>
{_switch(page, pages)}
<div class="search" role="search">
<input type="search" id="site-search" placeholder="{w["search"]}" aria-label="{w["search"]}"
 data-none="{w["none"]}" autocomplete="off">
<ol id="site-search-results" hidden></ol>
</div>
</header>
<div class="layout">
{_nav(page, pages)}
<main id="content">
<article class="page">
{page.body}
</article>
{get}
{_neighbours(page, pages)}
</main>
</div>
</body>
</html>
"""


def landing_body(lang: str, pages: list[Page], repo: str) -> str:
    """The landing page's text: what the course is, the lesson and exercise tables, how to run it."""
    w = words()
    here = page_path("", lang, "home")
    lessons = [p for p in pages if p.lang == lang and p.kind == "lesson"]
    sets = [p for p in pages if p.lang == lang and p.kind == "exercises"]
    rows = "".join(f'<tr><td><a href="{_esc(relative(p.path, here))}">{_esc(p.title)}</a></td>'
                   f"<td>{_esc(p.goal)}</td></tr>" for p in lessons)
    set_rows = "".join(f'<tr><td><a href="{_esc(relative(p.path, here))}">{_esc(p.title)}</a></td>'
                       f"<td>{_esc(p.goal)}</td></tr>" for p in sets)
    repo = repo.rstrip("/")
    folder = repo.rsplit("/", 1)[-1] or "fapi_lab"
    lang_flag = f" --lang {lang}" if lang != "en" else ""
    first = lessons[0].key if lessons else ""
    colab_path = f"notebooks/{first}" if lang == "en" else f"notebooks/{lang}/{first}"
    colab = (repo.replace("https://github.com/", "https://colab.research.google.com/github/")
             + f"/blob/main/{colab_path}")
    binder = (repo.replace("https://github.com/", "https://mybinder.org/v2/gh/")
              + f"/HEAD?urlpath=lab/tree/{colab_path}")
    intro = _("{lessons} lessons and {sets} exercise sets on the Keras functional API, written for Keras 3: from a "
              "first model to several inputs and outputs, residual and Inception blocks, shared layers, custom "
              "layers and training on several devices. Each lesson is a Jupyter notebook that runs offline, and "
              "this site shows it as it ran, pictures included. The exercises check each answer as you go and "
              "give hints; the solutions stay with the teacher.").format(lessons=len(lessons), sets=len(sets))
    return f"""<h1>{w["title"]}</h1>
<p class="lead">{_esc(intro)}</p>
<h2 id="lessons">{w["lessons"]}</h2>
<div class="table-wrap"><table class="course-table"><thead><tr><th>{w["lesson"]}</th><th>{w["goal"]}</th></tr></thead>
<tbody>{rows}</tbody></table></div>
<h2 id="exercises">{w["sets"]}</h2>
<div class="table-wrap"><table class="course-table"><thead><tr><th>{w["set"]}</th><th>{w["practises"]}</th></tr></thead>
<tbody>{set_rows}</tbody></table></div>
<h2 id="run">{w["run"]}</h2>
<p>{w["computer"]}</p>
<pre class="code"><code>git clone {_esc(repo)}
cd {_esc(folder)}
bash scripts/lessons</code></pre>
<p>{w["pip"]}</p>
<pre class="code"><code>pip install "fapi_lab[lessons] @ git+{_esc(repo)}"
fapi-lab lessons{lang_flag}</code></pre>
<p>{w["browser"]} <a href="{_esc(colab)}" rel="noopener">{w["colab"]}</a>
· <a href="{_esc(binder)}" rel="noopener">{w["binder"]}</a>.
<a href="{_esc(repo)}" rel="noopener">{w["repo"]}</a>.</p>
"""
