"""The command line lists its commands, and the class-sizing benchmark turns measurements into a hub's size.

The benchmark itself (benchmarks/bench_class_size.py) runs every lesson and takes minutes, so it is not run here;
its sizing arithmetic is, on measurements written the way ``--json`` writes them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_class_size.py"
MIB = 1024 * 1024


def test_help_lists_the_commands_of_a_class() -> None:
    out = subprocess.run([sys.executable, "-m", "fapi_lab._cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    listed = re.findall(r"^    ([a-z][\w-]*)", out.stdout, flags=re.M)
    assert {"doctor", "lessons", "student", "student-repo", "nbgrader", "report"} <= set(listed), listed


def _run(peak_mib: float, end_mib: float, cpu: float, heaviest: float, kind: str, name: str) -> dict:
    return {"name": name, "kind": kind, "wall_s": cpu, "cpu_s": cpu, "peak_bytes": int(peak_mib * MIB),
            "end_bytes": int(end_mib * MIB), "children_bytes": 0, "heaviest_cell_cpu_s": heaviest,
            "heaviest_cell": "cell 3: model.fit(...)", "errors": []}


def test_class_size_benchmark_sizes_a_hub_from_measurements(tmp_path: Path) -> None:
    measured = {"data": "standin", "cores": 2, "server_bytes": 128 * MIB, "runs": [
        _run(50, 50, 0.5, 0.1, "baseline", "empty kernel"),
        _run(700, 690, 10, 4, "lesson", "01_a.ipynb"),
        _run(1100, 1000, 60, 45, "lesson", "06_b.ipynb"),
        _run(900, 900, 20, 12, "exercise set (solved)", "ex1.ipynb")]}
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(measured))
    out = subprocess.run([sys.executable, str(BENCH), "--from-json", str(path), "--wait", "60"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # guarantee: server + heaviest lesson = 1228 MiB -> 1.25 GiB; limit: (128 + 1100 + 900) x 1.2 = 2.49 -> 2.5 GiB
    assert "mem_guarantee: 1280M" in text and "mem_limit: 2560M" in text
    # the heaviest cell, 45 CPU s, done within 60 s while the whole class runs it: 0.75 of a core each
    assert "cpu_guarantee: 0.75" in text and "cpu_limit: 2" in text
    # 30 students at once: 30 x 1.25 + 1 GiB = 38.5 -> 39 GiB, 30 x 0.75 + 1 = 23.5 -> 24 cores
    row = next(line.split() for line in text.splitlines() if line.strip().startswith("30 "))
    assert row[:4] == ["30", "30", "39", "24"]
    assert "ratio max lesson peak / empty kernel: 22.0x" in text
    taken = subprocess.run([sys.executable, str(BENCH), "--from-json", str(path), "--json", str(path)],
                           capture_output=True, text=True)
    assert taken.returncode == 2 and "nothing is overwritten" in taken.stderr
