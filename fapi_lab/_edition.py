"""The student edition: a folder, ready to be its own git repository, that students get instead of fapi_lab's.

It holds the lessons and the student exercise notebooks (laid out as ``fapi-lab lessons`` lays them out: lessons at
the top, ``exercises/`` below, so the links between them work; the Chinese and Spanish ones in ``zh/`` and ``es/``,
and the glossary), a README for students, a ``.gitignore``, and
``.binder/`` for Binder (fapi_lab installed from its repository; Graphviz; the quiet TensorFlow start). It never
holds the solutions: they are not among its sources, cells tagged ``teacher`` are dropped, and a notebook that
still has a solution block is refused.

Running it again updates the files it wrote that nobody changed since (``.fapi-lab-edition.json`` records what it
wrote); a file someone edited is kept and the new version goes beside it (``_files.write_new``). Nothing is
deleted: a file that is no longer part of the edition is reported as stale.

Where the lessons come from: the copy packaged in an installed wheel (``fapi_lab/_course``, made by ``setup.py``'s
build hook), else the checkout fapi_lab is installed from in editable mode.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ._files import write_new
from ._student import TEACHER_TAG

__all__ = ["MANIFEST", "EditionError", "course_files", "course_root", "edition_files", "repository_url",
           "write_edition"]

MANIFEST = ".fapi-lab-edition.json"
BINDER_COPIED = ("apt.txt", "runtime.txt", "start")  # from binder/; postBuild installs the checkout, so not it
EXECUTABLE = {".binder/start"}
_PACKAGED = Path(__file__).resolve().with_name("_course")
_SOLUTION_MARK = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$", re.M)
_GITHUB = re.compile(r"https://github\.com/([^/\s]+)/([^/\s]+?)(?:\.git)?/?")

GITIGNORE = """\
# Jupyter's own files
.ipynb_checkpoints/
__pycache__/
# what the lessons and exercises save when they run (models, weights, pictures)
*.keras
*.h5
*.png
"""


class EditionError(ValueError):
    """The edition cannot be written; the message names the problem and the fix."""


def course_root() -> Path:
    """The folder holding ``notebooks/`` (lessons, ``exercises/``) and ``binder/``: the wheel's copy or the checkout."""
    if (_PACKAGED / "notebooks").is_dir():
        return _PACKAGED
    checkout = _PACKAGED.parents[1]
    if (checkout / "notebooks").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        f"this fapi_lab installation ({_PACKAGED.parent}) has no lessons: it was built without them. Reinstall it "
        f"(pip install --force-reinstall, from the repository) or run from a clone of the repository")


def repository_url() -> str:
    """fapi_lab's repository address, as pyproject.toml's ``[project.urls] Repository`` gave the installed package
    ("" when the installation has no metadata)."""
    try:
        urls = metadata.metadata("fapi_lab").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip() == "Repository":
            return url.strip()
    return ""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def course_files(notebooks: Path, languages: tuple[str, ...] = ("en", "zh", "es")) -> list[Path]:
    """What students get from a ``notebooks/`` folder, in order: for each language the lessons, then the student
    exercise notebooks (English at the top, the others in ``zh/``, ``es/``), then the glossary. Never solutions."""
    found: list[Path] = []
    for lang in languages:
        folder = notebooks if lang == "en" else notebooks / lang
        found += sorted(folder.glob("[0-9]*.ipynb")) + sorted(folder.glob("exercises/ex*.ipynb"))
    return found + [p for p in (notebooks / "GLOSSARY.md",) if p.exists()]


def _notebook_bytes(path: Path) -> bytes:
    """A notebook as students get it: cells tagged ``teacher`` dropped; one with a solution block refused."""
    raw = path.read_bytes()
    nb: dict[str, Any] = json.loads(raw)
    for index, cell in enumerate(nb.get("cells", [])):
        src = cell.get("source", "")
        if cell.get("cell_type") == "code" and _SOLUTION_MARK.search("".join(src) if isinstance(src, list) else src):
            raise EditionError(f"{path} cell {index} still has a '# BEGIN/END SOLUTION' block: it is a solution, "
                               f"not a student notebook; make the student version with 'fapi-lab student'")
    kept = [c for c in nb.get("cells", []) if TEACHER_TAG not in c.get("metadata", {}).get("tags", [])]
    if len(kept) == len(nb.get("cells", [])):
        return raw  # byte for byte what `fapi-lab lessons` copies
    nb["cells"] = kept
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _title(data: bytes, fallback: str) -> str:
    for cell in json.loads(data).get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            first = ("".join(src) if isinstance(src, list) else src).strip().splitlines()
            if first and first[0].startswith("# "):
                return first[0][2:].strip()
    return fallback


def _readme(lessons: dict[str, bytes], exercises: dict[str, bytes], url: str | None, install: str,
            translated: list[tuple[str, str]] | None = None) -> str:
    from . import __version__

    lines = ["# Keras functional API: lessons and exercises", "",
             "Lessons on the Keras functional API, with exercises that check your answers as you go "
             f"([fapi_lab]({repository_url()})).", ""]
    github = _GITHUB.fullmatch(url or "")
    if github:
        first = next(iter(lessons), "")
        binder = f"https://mybinder.org/v2/gh/{github[1]}/{github[2]}/HEAD?urlpath=lab/tree/{first}"
        lines += [f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({binder}) runs them in your browser, "
                  "with nothing to install (a free temporary server: download what you want to keep).", ""]
    lines += ["## Where to start", "",
              "Open the lessons in order; each runs top to bottom. Each lesson ends with a link to its exercise set.",
              "In an exercise set, write your code in the cell under a task and run the check cell below it:",
              "`lab.check(...)` says what is right and what is still wrong, and `lab.hint(...)` gives a hint "
              "(each call a more concrete one).", "",
              "| lesson | |", "|---|---|"]
    lines += [f"| {_title(data, name)} | [{name}]({name}) |" for name, data in lessons.items()]
    lines += ["", "| exercise set | |", "|---|---|"]
    lines += [f"| {_title(data, name)} | [{name}]({name}) |" for name, data in exercises.items()]
    if translated:  # (label, first lesson's path) of each translated edition
        links = " · ".join(f"[{label}]({first})" for label, first in translated)
        lines += ["", f"Also in other languages, with fapi_lab's messages in that language: {links} (the "
                  "[glossary](GLOSSARY.md) gives each term in the three languages)."]
    lines += ["", "## On your own computer", "",
              "With Python 3.10-3.12, install fapi_lab once, then open this folder (clone it, or download it as a "
              "ZIP) in JupyterLab:", "", "```bash", f'pip install "{install}"', "jupyter lab", "```", "",
              "The solutions are not in this repository: your teacher has them.", "",
              f"Made by `fapi-lab student-repo` (fapi_lab {__version__}) for your teacher, who makes it again "
              "for new versions.", ""]
    return "\n".join(lines)


def edition_files(*, url: str | None = None, install: str | None = None,
                  source: Path | None = None) -> dict[str, bytes]:
    """Every file of the student edition, by its path inside the edition folder (``/`` separated)."""
    root = source or course_root()
    notebooks = root / "notebooks"
    files = {p.relative_to(notebooks).as_posix(): p.read_bytes() if p.suffix == ".md" else _notebook_bytes(p)
             for p in course_files(notebooks)}
    lessons = {n: data for n, data in files.items() if "/" not in n and n.endswith(".ipynb")}
    exercises = {n: data for n, data in files.items() if n.startswith("exercises/")}
    if not lessons:
        raise EditionError(f"no lesson notebooks (NN_name.ipynb) in {notebooks}")
    if not install and not repository_url():
        raise EditionError("fapi_lab's repository address is unknown (an installation without metadata); "
                           "say what Binder should install with --install")
    install = install or f"fapi_lab[lessons] @ git+{repository_url()}"
    for name in BINDER_COPIED:
        files[f".binder/{name}"] = (root / "binder" / name).read_bytes()
    files[".binder/requirements.txt"] = (
        "# repo2docker (Binder) installs this with pip: fapi_lab, its dependencies (TensorFlow, Keras, ...) and\n"
        "# JupyterLab. Pin a version by ending the address with @<tag or commit>.\n" + install + "\n").encode()
    translated = [(label, min(n for n in files if n.startswith(f"{lang}/") and "/exercises/" not in n))
                  for lang, label in (("zh", "中文"), ("es", "español"))
                  if "GLOSSARY.md" in files and any(n.startswith(f"{lang}/") for n in files)]
    files["README.md"] = _readme(lessons, exercises, url, install, translated).encode("utf-8")
    files[".gitignore"] = GITIGNORE.encode()
    return files


@dataclass(frozen=True)
class _Manifest:
    files: dict[str, str]
    problem: str = ""


def _read_manifest(folder: Path) -> _Manifest:
    path = folder / MANIFEST
    if not path.exists():
        return _Manifest({})
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not a mapping")
        return _Manifest({str(k): str(v) for k, v in files.items()})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _Manifest({}, f"{MANIFEST} could not be read ({exc}); every file that differs is kept")


def write_edition(folder: Path, *, url: str | None = None, install: str | None = None,
                  source: Path | None = None) -> list[str]:
    """Write the student edition into ``folder`` (see the module docstring); one report line per file."""
    from . import __version__

    if url is not None and not _GITHUB.fullmatch(url):
        raise EditionError(f"--url {url}: give the edition's GitHub address, https://github.com/OWNER/REPO "
                           f"(Binder builds from GitHub)")
    folder = folder.expanduser().resolve()
    root = (source or course_root()).resolve()
    if folder == root or (folder / "solutions").exists():
        raise EditionError(f"{folder} is (or holds) the teachers' repository with solutions/; give a new folder "
                           f"outside it, or an earlier student edition")
    files = edition_files(url=url, install=install, source=root)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(folder)
    report = [f"NOTE     {manifest.problem}"] if manifest.problem else []
    for rel, data in files.items():
        target = folder / rel
        if target.exists() and target.read_bytes() != data and _sha(target.read_bytes()) == manifest.files.get(rel):
            target.write_bytes(data)  # ours, untouched since we wrote it: update in place
            action = "updated"
        else:
            done = write_new(target, data)
            action = done.action
            if done.action == "kept":
                action = f"KEPT (it was edited; the new version is {done.path.name})"
        if rel in EXECUTABLE and not action.startswith("KEPT"):
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        status, _, why = action.partition(" ")
        report.append(f"{status:8} {rel}" + (f" {why}" if why else ""))
    for rel in sorted(set(manifest.files) - set(files)):
        if (folder / rel).exists():
            report.append(f"STALE    {rel} (no longer part of the edition; delete it if nobody needs it)")
    record = {"made_by": "fapi-lab student-repo", "fapi_lab": __version__,
              "files": {rel: _sha(data) for rel, data in files.items()}}
    (folder / MANIFEST).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return report
