"""Stamp the "Open in Colab" badge and the Colab set-up cell into every lesson, from pyproject.toml's one URL.

    .venv/bin/python scripts/colab_cells.py           # add or update them in notebooks/[0-9]*.ipynb
    .venv/bin/python scripts/colab_cells.py --check   # change nothing; exit 1 naming the lessons out of date

The repository's address lives in one place, ``[project.urls] Repository`` in pyproject.toml; change it there
and run this again. Each lesson gets:

- in its first (title) cell, right under the title, a badge linking to
  ``https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/<file>``;
- as its first code cell (tag ``colab-only``), a cell that does nothing outside Colab and on Colab installs
  fapi_lab from the repository and turns on Colab's custom widget manager (anywidget needs it).

Running it twice changes nothing. Only ``notebooks/[0-9]*.ipynb`` are read or written: other notebooks
(``notebooks/exercises/``, scratch files) are never touched. A lesson whose set-up cell changed has no stored
run for it; regenerate the outputs afterwards with ``bash scripts/run_lessons``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is in the test extra there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"
TAG = "colab-only"
CELL_ID = "colab-setup"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_RE = re.compile(r"\n*\[!\[Open In Colab\]\(" + re.escape(BADGE_IMAGE) + r"\)\]\([^)\s]*\)\n*")


def repository_url(pyproject: Path) -> str:
    """``[project.urls] Repository`` of ``pyproject``, checked to be ``https://github.com/<owner>/<repo>``."""
    urls = tomllib.loads(pyproject.read_text())["project"].get("urls", {})
    url = str(urls.get("Repository", "")).rstrip("/").removesuffix(".git")
    if not re.fullmatch(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", url):
        raise SystemExit(f"{pyproject}: [project.urls] Repository must be https://github.com/<owner>/<repo>, "
                         f"not {url!r} (Colab opens notebooks from GitHub)")
    return url


def colab_link(url: str, lesson: str) -> str:
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}" \
           f"/blob/{BRANCH}/notebooks/{lesson}"


def badge(url: str, lesson: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_link(url, lesson)})"


def setup_source(url: str) -> str:
    return (
        "# Only on Google Colab: install fapi_lab, and let Colab show its widgets. Elsewhere this does nothing.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "fapi_lab @ git+{url}"\n'
        "    from google.colab import output\n"
        "    output.enable_custom_widget_manager()"
    )


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)  # how nbformat stores a cell's source on disk


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def with_badge(title: str, url: str, lesson: str) -> str:
    """The title cell's text with exactly one current badge, on its own paragraph right under the title line."""
    first, _, rest = BADGE_RE.sub("\n", title).strip("\n").partition("\n")
    rest = rest.lstrip("\n")
    return f"{first}\n\n{badge(url, lesson)}\n\n{rest}".rstrip("\n")


def stamp(nb: dict, url: str, lesson: str) -> dict:
    """Return ``nb`` with the current badge and set-up cell (the same object when nothing had to change)."""
    cells = list(nb["cells"])
    title = cells[0]
    if title["cell_type"] != "markdown" or not _text(title["source"]).startswith("# "):
        raise SystemExit(f"{lesson}: a lesson opens with a markdown title cell ('# N. Title')")
    changed = False
    new_title = with_badge(_text(title["source"]), url, lesson)
    if new_title != _text(title["source"]):
        cells[0] = {**title, "source": _lines(new_title)}
        changed = True
    source = setup_source(url)
    ours = [i for i, c in enumerate(cells) if TAG in c.get("metadata", {}).get("tags", [])]
    if ours == [1] and _text(cells[1]["source"]) == source and cells[1]["cell_type"] == "code":
        return {**nb, "cells": cells} if changed else nb
    for i in reversed(ours):
        del cells[i]
    cells.insert(1, {"cell_type": "code", "execution_count": None, "id": CELL_ID, "metadata": {"tags": [TAG]},
                     "outputs": [], "source": _lines(source)})
    return {**nb, "cells": cells}


def lessons(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9]*.ipynb") if p.is_file())


def dumps(nb: dict) -> str:
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"  # nbformat's own layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a lesson is out of date")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help=argparse.SUPPRESS)
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = repository_url(args.pyproject)
    stale = []
    for path in lessons(args.notebooks):
        before = path.read_text(encoding="utf-8")
        after = dumps(stamp(json.loads(before), url, path.name))
        if after == before:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(after, encoding="utf-8")
    if args.check:
        for name in stale:
            print(f"out of date: {name} (run: .venv/bin/python scripts/colab_cells.py)")
        return 1 if stale else 0
    for name in stale:
        print(f"updated: {name}")
    if stale:
        print("now regenerate their outputs from a fresh kernel: bash scripts/run_lessons")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
