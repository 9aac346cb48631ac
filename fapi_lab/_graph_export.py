"""``view.save(path)``: the graph as ``.svg``, ``.png`` or a standalone ``.html`` that stays interactive offline.

The ``.html`` file holds the canvas's own bundle (``_static/graph.js`` and ``graph.css``) and the pictures it can
show, so it needs no kernel, no server and no network: pan, zoom, fit, search, hover and export work as in the
notebook, and so does opening and closing blocks, among the fold states drawn when the file was written:

- every state reachable by clicks from the saved one, breadth first, up to :data:`MAX_STATES` pictures (so a
  model with up to five blocks gets every combination, ResNet50's 18 blocks each open alone);
- a click whose state was not drawn opens (or closes) that one block starting from the saved state instead, and
  the line under the canvas says that this copy opens one block at a time.

Each picture is stored as gzip-compressed JSON (the browser's ``DecompressionStream`` unpacks it). Files are
written with :func:`fapi_lab._files.write_new`: an existing file with other content is never replaced.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import write_new
from ._folding import foldable
from ._graph_picture import canvas_picture, highlight_dot, hover_info, toggled
from ._i18n import _, current
from ._labels_text import canvas_labels
from ._layergraph import LayerGraph
from ._layergraph_data import from_packed
from ._pictures import png_from_dot, svg_size
from ._render_dot import to_dot

if TYPE_CHECKING:
    from ._graph_view import GraphView

__all__ = ["MAX_STATES", "fold_states", "replay_view", "save", "standalone_data", "standalone_html"]

MAX_STATES = 64
SAVE_PNG_PIXELS = 24_000_000
_STATIC = Path(__file__).with_name("_static")

State = tuple[frozenset[str], frozenset[str]]  # (expanded, collapsed)


def save(view: GraphView, path: Path) -> Path:
    """Write ``view`` to ``path`` by its suffix; returns the path written (beside ``path`` if that file differs)."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        data = view.to_svg().encode("utf-8")
    elif suffix == ".png":
        data = _png(view)
    elif suffix in (".html", ".htm"):
        data = standalone_html(view).encode("utf-8")
    else:
        raise ValueError(_("cannot save a graph as {name!r}: use a name ending in .svg, .png or .html "
                           "(a standalone page that stays interactive offline)").format(name=path.name))
    written = write_new(path, data)
    if written.action == "kept":
        print(_("{path} exists with other content and was kept; the graph was saved as {written}")
              .format(path=path, written=written.path))
    return written.path


def _png(view: GraphView) -> bytes:
    svg, notice, shown = view._drawn()
    png = None
    if view._renderer != "builtin" and not notice:
        dot = highlight_dot(to_dot(shown, view.options, view._colours), shown, view.selected)
        png = png_from_dot(dot, *svg_size(svg), max_pixels=SAVE_PNG_PIXELS)
    if png is None:
        from ._doctor import graphviz_install_command

        message = (_("saving a PNG needs Graphviz's dot program, which drew no picture here ({reason}); save an "
                     ".svg or .html instead, or install it: {command}") if notice else
                   _("saving a PNG needs Graphviz's dot program, which drew no picture here; save an .svg or .html "
                     "instead, or install it: {command}"))
        raise RuntimeError(message.format(reason=notice.rstrip(".。"), command=graphviz_install_command()))
    return png


def fold_states(view: GraphView, limit: int = MAX_STATES
                ) -> tuple[list[State], list[tuple[str, LayerGraph]], dict[int, dict[str, int]], bool]:
    """The fold states a standalone page holds (the first is the view's own) with their pictures (svg, folded
    graph), per state the state each click leads to (see the module docstring), and whether every click leads
    where it would in the notebook."""
    start: State = (view._expanded, view._collapsed)
    depth = view.options.depth
    states = [start]
    index = {start: 0}
    drawn: list[tuple[str, LayerGraph]] = []
    queue = deque([0])
    while queue:  # breadth first: each state is drawn once, in order
        i = queue.popleft()
        svg, _notice, shown = view._drawn(*states[i])
        drawn.append((svg, shown))
        for key, is_open in foldable(shown).items():
            target = toggled(states[i], shown, key, depth, open_=not is_open)
            if target not in index and len(states) < limit:
                index[target] = len(states)
                states.append(target)
                queue.append(index[target])
    start_folds = foldable(drawn[0][1])
    nxt: dict[int, dict[str, int]] = {}
    complete = True
    for i, (state, (_svg, shown)) in enumerate(zip(states, drawn, strict=True)):
        row = {}
        for key, is_open in foldable(shown).items():
            target = toggled(state, shown, key, depth, open_=not is_open)
            if target not in index:
                complete = False
                if key in start_folds:  # opens one block at a time, from the saved state
                    target = toggled(start, drawn[0][1], key, depth, open_=not start_folds[key])
            if target in index:
                row[key] = index[target]
        nxt[i] = row
    return states, drawn, nxt, complete


def _pack(picture: dict[str, Any]) -> str:
    raw = json.dumps(picture, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, 9, mtime=0)).decode("ascii")


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")


def standalone_data(view: GraphView, limit: int = MAX_STATES) -> dict[str, Any]:
    """What the canvas's ``standalone`` mode draws from: the pictures of :func:`fold_states` (at most ``limit``),
    which click leads where, the hover texts, the words, and the line under the canvas."""
    _states, drawn, nxt, complete = fold_states(view, limit)
    pictures = {str(i): _pack(canvas_picture(svg, shown)) for i, (svg, shown) in enumerate(drawn)}
    shown_all = [shown for _svg, shown in drawn]
    note = _("Offline copy: pan, zoom, search, hover and fold as in the notebook.")
    if not complete:
        note = _("Offline copy: pan, zoom, search and hover as in the notebook; it opens one block at a time.")
    return {
        "start": "0", "states": pictures,
        "next": {str(i): {k: str(v) for k, v in row.items()} for i, row in nxt.items()},
        "info": hover_info(view._graph, *shown_all), "name": view._graph.name, "note": note,
        "labels": canvas_labels(),
    }


def replay_view(state: dict[str, Any]) -> GraphView | None:
    """The graph view a notebook saved (a canvas's widget state with ``replay_graph``), drawn again from its plain
    layer graph, without Keras or a kernel; None for a canvas saved without one."""
    from ._graph_view import GraphView

    data, saved = state.get("replay_graph"), state.get("replay_state")
    if not data or not saved:
        return None
    view = GraphView(from_packed(data), renderer=str(saved.get("renderer", "auto")), **saved.get("options", {}))
    view._expanded = frozenset(saved.get("expanded", ()))
    view._collapsed = frozenset(saved.get("collapsed", ()))
    view._redraw()
    return view


def standalone_html(view: GraphView, limit: int = MAX_STATES) -> str:
    """One HTML file: the canvas bundle, the pictures of :func:`fold_states` (at most ``limit``), and the static
    picture for a browser without JavaScript."""
    data = standalone_data(view, limit)
    failed = _("This browser could not start the interactive graph ({error}).")
    code = (_STATIC / "graph.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    css = (_STATIC / "graph.css").read_text(encoding="utf-8").replace("</style", "<\\/style")
    title = html.escape(view._graph.name)
    page_title = _("{name} · fapi_lab graph").format(name=title)
    return f"""<!DOCTYPE html>
<html lang="{current()}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fapi_lab">
<title>{page_title}</title>
<style>{css}</style>
<style>body {{ margin: 12px 16px; font-family: system-ui, Helvetica, Arial, sans-serif; }}
h1 {{ font-size: 16px; margin: 0 0 6px; }} .fapi-lab-error {{ color: #b91c1c; }}</style>
</head>
<body>
<h1>{title}</h1>
<div id="fapi-lab-graph"></div>
<noscript>{view.to_svg()}</noscript>
<script type="application/json" id="fapi-lab-data">{_script_json(data)}</script>
<script type="text/plain" id="fapi-lab-code">{code}</script>
<script type="module">
const el = document.getElementById("fapi-lab-graph");
try {{
  const code = document.getElementById("fapi-lab-code").textContent;
  const url = URL.createObjectURL(new Blob([code], {{ type: "text/javascript" }}));
  const canvas = (await import(url)).default;
  const data = JSON.parse(document.getElementById("fapi-lab-data").textContent);
  window.fapiLab = await canvas.standalone(el, data);
}} catch (err) {{
  el.className = "fapi-lab-error";
  el.textContent = {_script_json(failed)}.replace("{{error}}", String(err));
}}
</script>
</body>
</html>
"""
