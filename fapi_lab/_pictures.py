"""Pictures a saved notebook shows wherever it is opened: the one place that turns an SVG into output data.

Measured in JupyterLab 4.6 and Notebook 7.6 with an untrusted notebook (every shipped lesson, every copy
``fapi-lab lessons`` makes): an ``<svg>`` inside ``text/html`` is removed by the sanitizer (what is left is loose
text), and a top-level ``image/svg+xml`` is not used (it is not "safe"); a top-level ``image/png`` is shown, and so
is an ``<img src="data:image/svg+xml;base64,…">`` inside ``text/html`` (the sanitizer keeps ``data:`` image
sources and the ``max-width``/``max-height``/``overflow-x``/``overflow-y`` styles). A front end uses the first
safe type it has, and ``text/html`` ranks before ``image/png``: so a bundle with a PNG carries no ``text/html``.

- :func:`picture_bundle`: the data and metadata of a picture output: ``image/png`` from Graphviz's ``dot``, at
  1.5 times the screen resolution (sharp on a projector), with its display size; without ``dot``, ``text/html``
  holding :func:`picture_html` (and ``image/svg+xml``).
- :func:`picture_html`: an SVG as an ``<img>`` inside HTML, for outputs that combine a picture with other HTML
  (the explorer's graph beside its table, an exercise's feedback): it survives sanitizing and scrolls instead of
  shrinking text below a readable size.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from typing import Any

__all__ = [
    "PNG_MAX_PIXELS",
    "PNG_SCALE",
    "display_size",
    "picture_bundle",
    "picture_html",
    "png_from_dot",
    "svg_size",
]

PNG_SCALE = 1.5  # PNG pixels per CSS pixel: sharp on a projector (2 costs dot twice the time: 0.3 s for ResNet50)
PNG_MAX_PIXELS = 6_000_000  # a bigger picture is drawn at a lower resolution (notebook size)
_CAIRO_SIDE = 32_000  # cairo cannot draw a side longer than 32,767 pixels
READABLE_SCALE = 0.75  # of a picture's natural size: dot's 11-pt names are then 11 px tall
TALL = 2400  # px: a taller picture is shown smaller, down to READABLE_SCALE
WIDE = 900  # px: a wider saved picture scrolls sideways rather than shrinking to the notebook's width
PNG_TIME_LIMIT = 10.0  # seconds for ``dot -Tpng``

_SIZE_RE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)(pt|px)?"[^>]*?\bheight="([\d.]+)(pt|px)?"', re.S)
_VIEWBOX_RE = re.compile(r'<svg\b[^>]*?\bviewBox="[-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)[ ,]+([\d.]+)"', re.S)


def svg_size(svg: str) -> tuple[float, float]:
    """The picture's natural size in CSS pixels (``pt`` counts 4/3 px), from its width and height or viewBox."""
    m = _SIZE_RE.search(svg)
    if m:
        w = float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)
        h = float(m.group(3)) * (4 / 3 if m.group(4) == "pt" else 1)
        return w, h
    m = _VIEWBOX_RE.search(svg)
    if m:
        return float(m.group(1)), float(m.group(2))
    return 0.0, 0.0


def display_size(width: float, height: float) -> tuple[int, int]:
    """How big a saved picture is shown: its natural size, a tall one smaller, never below a readable scale."""
    if width <= 0 or height <= 0:
        return 0, 0
    scale = max(READABLE_SCALE, min(1.0, TALL / height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def png_from_dot(dot_source: str, width: float, height: float, *, max_pixels: int = PNG_MAX_PIXELS,
                 timeout: float = PNG_TIME_LIMIT) -> bytes | None:
    """A PNG of ``dot_source`` at :data:`PNG_SCALE` pixels per CSS pixel of its natural size ``width`` × ``height``
    (fewer for a picture above ``max_pixels``), on white, with a palette (a third of the bytes); None when ``dot``
    is missing, slow or fails (callers then use :func:`picture_html`)."""
    exe = shutil.which("dot")
    if exe is None or width <= 0 or height <= 0:
        return None
    scale = min(PNG_SCALE, (max_pixels / (width * height)) ** 0.5, _CAIRO_SIDE / max(width, height))
    body = dot_source.rstrip()
    if not body.endswith("}"):
        return None
    source = body[:-1] + '  graph [bgcolor="white"];\n}\n'
    try:
        proc = subprocess.run([exe, "-Tpng:cairo", f"-Gdpi={96 * scale:.2f}"], input=source.encode(),
                              capture_output=True, timeout=timeout, start_new_session=os.name == "posix",
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0 or not proc.stdout.startswith(b"\x89PNG"):
        return None
    return _palette(proc.stdout)


def _palette(png: bytes) -> bytes:
    """The same picture with 256 colours (Graphviz draws a few flat colours and anti-aliased edges)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return png
    with Image.open(io.BytesIO(png)) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        out = io.BytesIO()
        small.save(out, format="PNG", compress_level=6)
    data = out.getvalue()
    return data if len(data) < len(png) else png


def picture_html(svg: str, *, alt: str = "graph", max_height: int | None = 620) -> str:
    """``svg`` as an ``<img>`` that untrusted notebooks show (an ``<svg>`` element would be removed), at
    :func:`display_size`, scrolling inside a box at most ``max_height`` px tall rather than shrinking."""
    width, height = display_size(*svg_size(svg))
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    size = f' width="{width}" height="{height}"' if width else ""
    box = f"max-height:{max_height}px;" if max_height else ""
    alt_text = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return (f'<div class="fapi-lab-picture" style="{box}max-width:100%;overflow-x:auto;overflow-y:auto">'
            f'<img src="data:image/svg+xml;base64,{data}"{size} alt="{alt_text}" '
            f'style="max-width:none;background-color:#ffffff"></div>')


def picture_bundle(svg: str, *, png: bytes | None = None, text: str = "", alt: str = "graph",
                   notice_html: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """``(data, metadata)`` for ``_repr_mimebundle_``: the picture in the types front ends show without trust.

    With ``png`` (see :func:`png_from_dot`): ``image/png`` alone, shown at :func:`display_size` (``unconfined`` when
    wider than a notebook, so it scrolls instead of shrinking; nbconvert's HTML honours the same metadata, while
    it would shrink an ``image/svg+xml``). Without: ``text/html`` from :func:`picture_html` and ``image/svg+xml``.
    ``notice_html`` (a line to keep with the picture, e.g. why the built-in layout drew it) goes before the
    picture in ``text/html``. ``text`` is the ``text/plain`` line."""
    data: dict[str, Any] = {"text/plain": text or alt}
    metadata: dict[str, Any] = {}
    if png is not None:
        width, height = display_size(*svg_size(svg))
        data["image/png"] = base64.b64encode(png).decode("ascii")
        if width:
            meta: dict[str, Any] = {"width": width, "height": height}
            if width > WIDE:
                meta["unconfined"] = True
            metadata["image/png"] = meta
    else:
        data["image/svg+xml"] = svg
    if png is None or notice_html:
        data["text/html"] = notice_html + picture_html(svg, alt=alt)
    return data, metadata
