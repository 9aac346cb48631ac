"""The course website's pages: MyST's parsed pages (mdast JSON, as ``jupyter book build --site`` writes them) to HTML.

Pure functions of that JSON. :class:`PageContext` says where the page lives, how to rewrite a link to another
course file, and where a stored output's pictures are. Stored outputs are shown as they were saved, best form
first: a graph canvas (from the notebook's saved widget state: pan, zoom, search and hover in the browser, with its
stored PNG until the script starts and for a browser without JavaScript), then PNG, SVG, HTML, and plain text last.
A node type this module does not know is rendered by its children and recorded in ``PageContext.unknown``, so a
test can list them.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.util import ClassNotFound

__all__ = ["PageContext", "ansi_free", "plain_text", "relative", "render"]

Node = dict[str, Any]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FORMATTER = HtmlFormatter(nowrap=True)
WIDGET = "application/vnd.jupyter.widget-view+json"


@dataclass
class PageContext:
    """What rendering one page needs besides its mdast.

    ``link(url_source)`` gives the site address for a link written in the notebook (or returns it unchanged);
    ``asset(path)`` the address of a file MyST extracted (``/hash.png``); ``widgets`` the notebook's saved widget
    state (``model_id -> {model_name, state}``); ``graph(state)`` the HTML of a graph canvas for a saved canvas
    state, or "" to fall back to the stored picture."""

    link: Callable[[str], str]
    asset: Callable[[str], str]
    widgets: dict[str, Any] = field(default_factory=dict)
    graph: Callable[[dict[str, Any], str], str] = lambda _state, _png: ""
    unknown: set[str] = field(default_factory=set)
    graphs: int = 0


def ansi_free(text: str) -> str:
    return _ANSI.sub("", text)


def plain_text(node: Node) -> str:
    """The words of a node (for titles, anchors and the search index)."""
    if "value" in node and node.get("type") in ("text", "inlineCode", "code", "html"):
        return str(node["value"])
    return "".join(plain_text(child) for child in node.get("children", []) or [])


def _code(value: str, lang: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else PythonLexer()
    except ClassNotFound:
        return html.escape(value)
    return highlight(value, lexer, _FORMATTER).rstrip("\n")


def _children(node: Node, ctx: PageContext) -> str:
    return "".join(render(child, ctx) for child in node.get("children", []) or [])


def render(node: Node, ctx: PageContext) -> str:
    """HTML for ``node`` and everything under it."""
    kind = node.get("type", "")
    handler = _HANDLERS.get(kind)
    if handler is None:
        ctx.unknown.add(kind)
        return _children(node, ctx)
    return handler(node, ctx)


def _tag(name: str, attrs: str = "") -> Callable[[Node, PageContext], str]:
    return lambda node, ctx: f"<{name}{attrs}>{_children(node, ctx)}</{name}>"


def _heading(node: Node, ctx: PageContext) -> str:
    depth = int(node.get("depth", 2))
    anchor = html.escape(str(node.get("html_id") or node.get("identifier") or ""), quote=True)
    mark = f' <a class="anchor" href="#{anchor}" aria-hidden="true">#</a>' if anchor else ""
    ident = f' id="{anchor}"' if anchor else ""
    return f"<h{depth}{ident}>{_children(node, ctx)}{mark}</h{depth}>"


def _link(node: Node, ctx: PageContext) -> str:
    url = ctx.link(str(node.get("urlSource") or node.get("url") or ""))
    external = url.startswith(("http://", "https://"))
    extra = ' rel="noopener"' if external else ""
    return f'<a href="{html.escape(url, quote=True)}"{extra}>{_children(node, ctx)}</a>'


def _list(node: Node, ctx: PageContext) -> str:
    tight = not node.get("spread")
    items = "".join(_list_item(child, ctx, tight) if child.get("type") == "listItem" else render(child, ctx)
                    for child in node.get("children", []) or [])
    if node.get("ordered"):
        start = node.get("start")
        begin = f' start="{int(start)}"' if start not in (None, 1) else ""
        return f"<ol{begin}>{items}</ol>"
    return f"<ul>{items}</ul>"


def _list_item(node: Node, ctx: PageContext, tight: bool = False) -> str:
    if tight:  # a tight list: paragraphs without their margins, as Markdown renders it
        return "<li>" + "".join(_children(child, ctx) if child.get("type") == "paragraph" else render(child, ctx)
                                for child in node.get("children", []) or []) + "</li>"
    return f"<li>{_children(node, ctx)}</li>"


def _table(node: Node, ctx: PageContext) -> str:
    rows = node.get("children", []) or []
    head = [r for r in rows if all(c.get("header") for c in r.get("children", []))][:1]
    body = [r for r in rows if r not in head]
    thead = f"<thead>{''.join(render(r, ctx) for r in head)}</thead>" if head else ""
    return f'<div class="table-wrap"><table>{thead}<tbody>{"".join(render(r, ctx) for r in body)}</tbody></table></div>'


def _cell(node: Node, ctx: PageContext) -> str:
    name = "th" if node.get("header") else "td"
    align = node.get("align")
    style = f' style="text-align:{align}"' if align in ("left", "right", "center") else ""
    return f"<{name}{style}>{_children(node, ctx)}</{name}>"


def _image(node: Node, ctx: PageContext) -> str:
    alt = html.escape(str(node.get("alt") or ""), quote=True)
    return f'<img src="{html.escape(ctx.asset(str(node.get("url", ""))), quote=True)}" alt="{alt}">'


def _block(node: Node, ctx: PageContext) -> str:
    kind = str(node.get("kind") or "")
    cls = {"notebook-code": "cell code-cell", "notebook-content": "cell text-cell"}.get(kind, "block")
    return f'<div class="{cls}">{_children(node, ctx)}</div>'


def _code_block(node: Node, ctx: PageContext) -> str:
    lang = str(node.get("lang") or "")
    return (f'<pre class="code highlight" data-lang="{html.escape(lang, quote=True)}"><code>'
            f"{_code(str(node.get('value', '')), lang)}</code></pre>")


def _outputs(node: Node, ctx: PageContext) -> str:
    inner = _children(node, ctx)
    return f'<div class="outputs">{inner}</div>' if inner else ""


def _output(node: Node, ctx: PageContext) -> str:
    data = node.get("jupyter_data") or {}
    kind = data.get("output_type")
    if kind == "stream":
        cls = "stream stderr" if data.get("name") == "stderr" else "stream"
        return f'<pre class="{cls}">{html.escape(ansi_free(_text(data.get("text"))))}</pre>'
    if kind == "error":
        trace = ansi_free(_text(data.get("traceback"))).strip() or f"{data.get('ename')}: {data.get('evalue')}"
        return f'<pre class="error">{html.escape(trace)}</pre>'
    return _bundle(data.get("data") or {}, data.get("metadata") or {}, ctx)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) if value and not str(value[0]).endswith("\n") else "".join(value)
    return "" if value is None else str(value)


def _content(item: Any) -> str:
    """A mimebundle entry as MyST stores it: ``{content, content_type}``, or a file ``{path, hash}``."""
    if isinstance(item, dict):
        return _text(item.get("content"))
    return _text(item)


def _bundle(data: dict[str, Any], metadata: dict[str, Any], ctx: PageContext) -> str:
    png = data.get("image/png")
    png_src = ctx.asset(str(png.get("path", ""))) if isinstance(png, dict) and png.get("path") else ""
    if WIDGET in data and png_src:  # a graph view (its static form is its picture); other widgets keep theirs
        canvas = _graph_state(_content(data[WIDGET]), ctx.widgets)
        if canvas is not None:
            shown = ctx.graph(canvas, png_src)
            if shown:
                ctx.graphs += 1
                return f'<div class="output graph">{shown}</div>'
    if png_src:
        size = metadata.get("image/png") or {}
        width = f' width="{int(size["width"])}"' if isinstance(size.get("width"), (int, float)) else ""
        alt = html.escape(_content(data.get("text/plain")).strip()[:200], quote=True)
        return f'<div class="output picture"><img src="{html.escape(png_src, quote=True)}"{width} alt="{alt}"></div>'
    svg = data.get("image/svg+xml")
    if svg is not None:
        path = svg.get("path") if isinstance(svg, dict) else None
        if path:
            return f'<div class="output picture"><img src="{html.escape(ctx.asset(path), quote=True)}" alt=""></div>'
        return f'<div class="output picture">{_content(svg)}</div>'
    if "text/html" in data:
        return f'<div class="output html">{_content(data["text/html"])}</div>'
    if "text/plain" in data:
        return f'<pre class="output text">{html.escape(ansi_free(_content(data["text/plain"])))}</pre>'
    return ""


def _graph_state(view: str, widgets: dict[str, Any]) -> dict[str, Any] | None:
    """The saved state of the graph canvas shown by widget ``view`` (the canvas itself, or inside a box)."""
    try:
        model_id = json.loads(view)["model_id"]
    except (ValueError, KeyError, TypeError):
        return None
    todo, seen = [model_id], set()
    while todo:
        current = todo.pop(0)
        if current in seen or current not in widgets:
            continue
        seen.add(current)
        state = widgets[current].get("state") or {}
        if isinstance(state.get("picture"), dict) and state["picture"].get("svg"):
            return state
        children = state.get("children") or []
        todo += [str(c).removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]
    return None


def _plain(node: Node, _ctx: PageContext) -> str:
    return html.escape(str(node.get("value", "")))


_HANDLERS: dict[str, Callable[[Node, PageContext], str]] = {
    "root": _children, "block": _block, "heading": _heading, "paragraph": _tag("p"), "text": _plain,
    "strong": _tag("strong"), "emphasis": _tag("em"), "inlineCode": lambda n, c: f"<code>{_plain(n, c)}</code>",
    "code": _code_block, "link": _link, "list": _list, "listItem": lambda n, c: _list_item(n, c), "table": _table,
    "tableRow": _tag("tr"), "tableCell": _cell, "blockquote": _tag("blockquote"), "image": _image,
    "thematicBreak": lambda n, c: "<hr>", "break": lambda n, c: "<br>", "outputs": _outputs, "output": _output,
    "html": lambda n, c: str(n.get("value", "")), "delete": _tag("del"),
    "comment": lambda n, c: "", "mystComment": lambda n, c: "",
}


def relative(target: str, page: str) -> str:
    """``target`` (a site path like ``zh/07_x.html``) as a link from the page at site path ``page``."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")
