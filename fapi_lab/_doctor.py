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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ._i18n import N_, _

__all__ = ["Check", "DoctorReport", "doctor", "graphviz_install_command"]

SETUP_COMMAND = "bash scripts/setup"
_STATUS_LABELS = {"ok": N_("ok"), "MISSING": N_("MISSING"), "note": N_("note")}  # Check.status -> shown label


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns (aligned right when ``right``), like ``f"{text:<{width}}"``."""
    fill = " " * max(0, width - _columns(text))
    return fill + text if right else text + fill


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
        """'ok', 'MISSING' or 'note' (the same in every language; the report shows it translated)."""
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
        width = max(_columns(c.name) for c in self.checks)
        lines = []
        for c in self.checks:
            lines.append(f"{_pad(_(_STATUS_LABELS[c.status]), 7, right=True)}  {_pad(c.name, width)}  {c.found}")
            if not c.ok and c.fix:
                lines.append(f"{'':>7}  {'':<{width}}  " + _("fix: {fix}").format(fix=c.fix))
        verdict = _("everything required is here") if self.ok else _("something required is missing (see fix:)")
        lines.append(f"fapi_lab doctor: {verdict}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"ok": "#1a7f37", "MISSING": "#cf222e", "note": "#9a6700"}
        rows = []
        for c in self.checks:
            fix = f"<br><code>{html.escape(c.fix)}</code>" if (not c.ok and c.fix) else ""
            rows.append(
                f"<tr><td style='color:{colour[c.status]};font-weight:bold'>{_(_STATUS_LABELS[c.status])}</td>"
                f"<td>{html.escape(c.name)}</td><td style='text-align:left'>{html.escape(c.found)}{fix}</td></tr>"
            )
        verdict = _("everything required is here") if self.ok else _("something required is missing")
        check, found = _("check"), _("found")
        return (
            f"<table><thead><tr><th></th><th>{check}</th><th style='text-align:left'>{found}</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table><p><b>fapi_lab doctor:</b> {verdict}</p>"
        )


def graphviz_install_command() -> str:
    """The one command that installs Graphviz's `dot` on this kind of machine."""
    if sys.platform == "darwin":
        return "brew install graphviz"
    if os.environ.get("CONDA_PREFIX"):
        return "conda install graphviz"
    if sys.platform.startswith("win"):
        return _("winget install graphviz   (or: conda install graphviz)")
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    if Path("/etc/debian_version").exists():  # Debian, Ubuntu and their kin
        return f"{sudo}apt-get install graphviz"
    if Path("/etc/fedora-release").exists() or Path("/etc/redhat-release").exists():
        return f"{sudo}dnf install graphviz"
    return _("install Graphviz with your package manager (the package is called graphviz)")


def _pip_fix(extra: str = "") -> str:
    return _("{setup}   (or: {pip})").format(setup=SETUP_COMMAND, pip=f"pip install 'fapi_lab{extra}'")


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
                 fix=_("install Python 3.10 or newer, then run {setup}").format(setup=SETUP_COMMAND))


def _check_import(name: str, dist: str, minimum: tuple[int, int], *, required: bool = True,
                  extra: str = "", importer: Callable[[], object] | None = None) -> Check:
    version = _version(dist)
    if version is None:
        return Check(name, False, _("not installed"), required, _pip_fix(extra))
    if _major_minor(version) < minimum:
        need = ".".join(map(str, minimum))
        return Check(name, False, _("{version} (need {need} or newer)").format(version=version, need=need), required,
                     _pip_fix(extra))
    try:
        if importer is not None:
            importer()
        else:
            importlib.import_module(dist.replace("-", "_"))
    except Exception as exc:  # a broken install is a finding, not a crash of the doctor
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check(name, False, _("{version} installed but import fails: {error}").format(version=version,
                                                                                              error=first), required,
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
                     _("not found on PATH (graphs fall back to fapi_lab's own layout; keras.utils.plot_model fails)"),
                     True, fix)
    try:
        out = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=10)
        text = (out.stderr or out.stdout).strip()
        match = re.search(r"version\s+([\w.\-]+)", text)
        version = match.group(1) if match else text or _("unknown version")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("Graphviz dot", False, _("{path} does not run: {error}").format(path=path, error=exc), True, fix)
    return Check("Graphviz dot", True, f"{version} ({path})")


def _check_dataset(name: str, label: str) -> Check:
    from . import datasets

    path = datasets.cache_path(name)
    check = _("{label} cache").format(label=label)
    if datasets.is_cached(name):
        return Check(check, True, _("real data cached at {path}").format(path=path), required=False)
    return Check(
        check, False,
        _("not cached at {path}: lessons use the offline stand-in (scikit-learn handwritten digits)").format(path=path),
        required=False,
        fix=_("with network, once: python -c \"import keras; keras.datasets.{name}.load_data()\"").format(name=name),
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
