"""What building the course website costs, against the obvious alternative, on the same run.

    .venv/bin/python benchmarks/bench_site.py

Builds the site three times (``scripts/site``'s own function: staging, ``jupyter book build --site``, writing the
pages) and prints the median of each step, the number of pages and the size of ``_site/``. Then converts the same
staged notebooks with ``jupyter nbconvert --to html`` (one page per notebook, no search, no language switch, no
live graphs: what a teacher would otherwise publish) and prints its time and size, and the ratios.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fapi_lab._edition import course_root
from fapi_lab._site_build import build_site, stage

RUNS = 3


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    steps: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS):
            report = build_site(Path(tmp) / f"site{run}")
            for name, seconds in report.seconds.items():
                steps.setdefault(name, []).append(seconds)
        site = Path(tmp) / "site0"
        pages = len(list(site.rglob("*.html")))
        site_mb = size_mb(site)
        staged = Path(tmp) / "staged"
        stage(course_root() / "notebooks", staged)
        notebooks = sorted(staged.rglob("*.ipynb"))
        jupyter = Path(sys.executable).with_name("jupyter")
        times = []
        for run in range(RUNS):
            out = Path(tmp) / f"nbconvert{run}"
            start = time.perf_counter()
            subprocess.run([str(jupyter), "nbconvert", "--to", "html", "--output-dir", str(out),
                            *map(str, notebooks)], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        nbconvert_mb = size_mb(Path(tmp) / "nbconvert0")
    total = statistics.median(steps["total"])
    myst = statistics.median(steps["jupyter book"])
    other = statistics.median(times)
    print(f"scripts/site: {pages} pages, {site_mb:.1f} MB, median of {RUNS} builds:")
    for name, values in steps.items():
        print(f"  {name:<13} {statistics.median(values):6.1f} s")
    print(f"  of which fapi_lab writing the pages: {total - myst - statistics.median(steps['stage']):.1f} s")
    print(f"nbconvert --to html, the same {len(notebooks)} notebooks: {other:.1f} s, {nbconvert_mb:.1f} MB "
          f"(no landing pages, search, language switch or live graphs)")
    print(f"ratio: scripts/site / nbconvert = {total / other:.2f} in time, {site_mb / nbconvert_mb:.2f} in size")


if __name__ == "__main__":
    main()
