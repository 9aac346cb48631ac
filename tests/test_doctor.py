"""`fapi-lab doctor` and `fapi_lab.doctor()`: a user runs them to learn what is missing and how to fix it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fapi_lab
from fapi_lab import _doctor

FAPI_LAB = Path(sys.executable).with_name("fapi-lab")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FAPI_LAB), *args], capture_output=True, text=True, env=env, timeout=120)


def test_doctor_passes_here() -> None:
    report = fapi_lab.doctor()
    assert report.ok, str(report)
    names = [c.name for c in report.checks]
    for wanted in ["Python", "TensorFlow", "Keras", "ipywidgets", "Graphviz dot", "JupyterLab",
                   "MNIST cache", "CIFAR-10 cache"]:
        assert wanted in names
    dot = next(c for c in report.checks if c.name == "Graphviz dot")
    assert dot.ok and shutil.which("dot") in dot.found
    assert "<table>" in report._repr_html_()


def test_cli_doctor_exits_zero_here() -> None:
    out = run_cli("doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "everything required is here" in out.stdout
    assert out.stderr.strip() == ""


def test_cli_doctor_without_dot_says_so_and_how_to_install(tmp_path: Path) -> None:
    # A PATH with python but no `dot`: the venv's bin only.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    assert shutil.which("dot", path=env["PATH"]) is None
    out = run_cli("doctor", "--no-datasets", env=env)
    assert out.returncode == 1
    assert "Graphviz dot" in out.stdout and "not found" in out.stdout
    assert f"fix: {_doctor.graphviz_install_command()}" in out.stdout
    assert "graphviz" in _doctor.graphviz_install_command()


def test_missing_required_package_is_reported_with_a_fix(monkeypatch) -> None:
    real = _doctor._version
    monkeypatch.setattr(_doctor, "_version", lambda d: None if d == "ipywidgets" else real(d))
    report = fapi_lab.doctor(datasets=False)
    assert not report.ok
    (problem,) = report.problems
    assert problem.name == "ipywidgets" and problem.found == "not installed"
    assert "scripts/setup" in problem.fix and "pip install" in problem.fix


def test_old_version_is_reported(monkeypatch) -> None:
    real = _doctor._version
    monkeypatch.setattr(_doctor, "_version", lambda d: "2.15.0" if d == "keras" else real(d))
    check = next(c for c in fapi_lab.doctor(datasets=False).checks if c.name == "Keras")
    assert not check.ok and "need 3.0 or newer" in check.found


def test_cli_without_command_shows_help() -> None:
    out = run_cli()
    assert out.returncode == 2 and "doctor" in out.stdout
    assert run_cli("--version").stdout.startswith("fapi_lab ")


def test_lessons_command_copies_and_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    out = run_cli("lessons", str(folder), "--no-open")
    assert out.returncode == 0, out.stdout + out.stderr
    first = sorted(p.name for p in folder.glob("*.ipynb"))
    assert first and first[0].startswith("01_") and "copied" in out.stdout
    edited = folder / first[0]
    edited.write_text(edited.read_text() + "\n")  # a student's edit (any change counts)
    mine = edited.read_text()
    out = run_cli("lessons", str(folder), "--no-open")
    assert "KEPT" in out.stdout and edited.read_text() == mine  # the student's work is untouched
    assert edited.with_suffix(".new.ipynb").exists()
    exercises = sorted(p.name for p in (folder / "exercises").glob("*.ipynb"))
    assert exercises and exercises[0].startswith("ex1_")  # the student versions come along, never the solutions
    assert "BEGIN SOLUTION" not in (folder / "exercises" / exercises[0]).read_text()
    glossary = (folder / "GLOSSARY.md").exists()  # copied beside the lessons too
    assert out.stdout.count("same") == len(first) - 1 + len(exercises) + glossary
