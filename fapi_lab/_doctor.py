"""`fapi_lab.doctor()` and `fapi-lab doctor`: is everything a lesson needs here, and if not, how to fix it."""

from __future__ import annotations

import html
import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Check", "DoctorReport", "doctor", "graphviz_install_command"]

SETUP_COMMAND = "bash scripts/setup"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, what was found, and the fix if it is a problem."""

    name: str
    ok: bool
    found: str
    required: bool = True
    fix: str = ""

    @property
    def status(self) -> str:
        if self.ok:
            return "ok"
        return "MISSING" if self.required else "note"


@dataclass
class DoctorReport:
    """The doctor's findings. ``ok`` is False when something required is missing."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok or not c.required for c in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def __str__(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = []
        for c in self.checks:
            lines.append(f"{c.status:>7}  {c.name:<{width}}  {c.found}")
            if not c.ok and c.fix:
                lines.append(f"{'':>7}  {'':<{width}}  fix: {c.fix}")
        verdict = "everything required is here" if self.ok else "something required is missing (see fix:)"
        lines.append(f"fapi_lab doctor: {verdict}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"ok": "#1a7f37", "MISSING": "#cf222e", "note": "#9a6700"}
        rows = []
        for c in self.checks:
            fix = f"<br><code>{html.escape(c.fix)}</code>" if (not c.ok and c.fix) else ""
            rows.append(
                f"<tr><td style='color:{colour[c.status]};font-weight:bold'>{c.status}</td>"
                f"<td>{html.escape(c.name)}</td><td style='text-align:left'>{html.escape(c.found)}{fix}</td></tr>"
            )
        verdict = "everything required is here" if self.ok else "something required is missing"
        return (
            "<table><thead><tr><th></th><th>check</th><th style='text-align:left'>found</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table><p><b>fapi_lab doctor:</b> {verdict}</p>"
        )


def graphviz_install_command() -> str:
    """The one command that installs Graphviz's `dot` on this kind of machine."""
    if sys.platform == "darwin":
        return "brew install graphviz"
    if os.environ.get("CONDA_PREFIX"):
        return "conda install graphviz"
    if sys.platform.startswith("win"):
        return "winget install graphviz   (or: conda install graphviz)"
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    if Path("/etc/debian_version").exists():  # Debian, Ubuntu and their kin
        return f"{sudo}apt-get install graphviz"
    if Path("/etc/fedora-release").exists() or Path("/etc/redhat-release").exists():
        return f"{sudo}dnf install graphviz"
    return "install Graphviz with your package manager (the package is called graphviz)"


def _pip_fix(extra: str = "") -> str:
    return f"{SETUP_COMMAND}   (or: pip install 'fapi_lab{extra}')"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _major_minor(version: str) -> tuple[int, int]:
    nums = [int(n) for n in re.findall(r"\d+", version)[:2]]
    padded = [*nums, 0, 0]
    return padded[0], padded[1]


def _check_python() -> Check:
    v = platform.python_version()
    return Check("Python", sys.version_info >= (3, 10), f"{v} ({sys.executable})",
                 fix="install Python 3.10 or newer, then run " + SETUP_COMMAND)


def _check_import(name: str, dist: str, minimum: tuple[int, int], *, required: bool = True,
                  extra: str = "", importer: Callable[[], object] | None = None) -> Check:
    version = _version(dist)
    if version is None:
        return Check(name, False, "not installed", required, _pip_fix(extra))
    if _major_minor(version) < minimum:
        need = ".".join(map(str, minimum))
        return Check(name, False, f"{version} (need {need} or newer)", required, _pip_fix(extra))
    try:
        if importer is not None:
            importer()
        else:
            importlib.import_module(dist.replace("-", "_"))
    except Exception as exc:  # a broken install is a finding, not a crash of the doctor
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check(name, False, f"{version} installed but import fails: {first}", required,
                     f"{sys.executable} -m pip install --force-reinstall {dist}")
    return Check(name, True, version, required)


def _import_tensorflow() -> None:
    from ._quiet import quiet

    quiet()


def _check_dot() -> Check:
    path = shutil.which("dot")
    fix = graphviz_install_command()
    if path is None:
        return Check("Graphviz dot", False,
                     "not found on PATH (graphs fall back to fapi_lab's own layout; keras.utils.plot_model fails)",
                     True, fix)
    try:
        out = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=10)
        text = (out.stderr or out.stdout).strip()
        match = re.search(r"version\s+([\w.\-]+)", text)
        version = match.group(1) if match else text or "unknown version"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("Graphviz dot", False, f"{path} does not run: {exc}", True, fix)
    return Check("Graphviz dot", True, f"{version} ({path})")


def _check_dataset(name: str, label: str) -> Check:
    from . import datasets

    path = datasets.cache_path(name)
    if datasets.is_cached(name):
        return Check(f"{label} cache", True, f"real data cached at {path}", required=False)
    return Check(
        f"{label} cache", False,
        f"not cached at {path}: lessons use the offline stand-in (scikit-learn handwritten digits)",
        required=False,
        fix=f"with network, once: python -c \"import keras; keras.datasets.{name}.load_data()\"",
    )


def doctor(*, datasets: bool = True) -> DoctorReport:
    """Check Python, TensorFlow, Keras, the widget libraries, Graphviz, JupyterLab and the data caches.

    Every problem comes with the one command that fixes it. In a notebook the report shows as a table;
    ``print(lab.doctor())`` gives text; ``fapi-lab doctor`` exits non-zero when something required is missing.
    """
    checks = [
        _check_python(),
        _check_import("TensorFlow", "tensorflow", (2, 16), importer=_import_tensorflow),
        _check_import("Keras", "keras", (3, 0)),
        _check_import("ipywidgets", "ipywidgets", (8, 0)),
        _check_import("anywidget", "anywidget", (0, 9)),
        _check_import("matplotlib", "matplotlib", (3, 5)),
        _check_import("pydot", "pydot", (1, 4)),
        _check_dot(),
        _check_import("JupyterLab", "jupyterlab", (4, 0), required=False, extra="[lessons]"),
    ]
    if datasets:
        checks += [_check_dataset("mnist", "MNIST"), _check_dataset("cifar10", "CIFAR-10")]
    return DoctorReport(checks)
