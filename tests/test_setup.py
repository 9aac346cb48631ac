"""The README's set-up: a second run is fast and changes nothing."""

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_second_setup_run_changes_nothing() -> None:
    stamp = ROOT / ".venv" / ".fapi-lab-installed"
    before = stamp.stat().st_mtime_ns
    start = time.perf_counter()
    out = subprocess.run(["bash", str(ROOT / "scripts" / "setup")], capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "" and out.stderr == "", "a second run should have nothing to do or say"
    assert stamp.stat().st_mtime_ns == before
    assert elapsed < 30  # generous: measured ~1 s; it must not reinstall


def test_ci_calls_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test" in readme and "bash scripts/lessons" in readme
    assert "scripts/test" in ci
