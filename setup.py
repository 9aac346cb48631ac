"""Build hook: the lessons and the student exercises go into the wheel, so `fapi-lab lessons` and
`fapi-lab student-repo` work after a plain `pip install` (no checkout). The solutions never do: only the files
matched by COURSE_FILES are copied, into fapi_lab/_course/ (the layout fapi_lab._edition.course_root reads).
Everything else about the package is in pyproject.toml. An editable install reads the checkout instead."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
COURSE_FILES = ("notebooks/[0-9]*.ipynb", "notebooks/exercises/ex*.ipynb",
                "notebooks/*/[0-9]*.ipynb", "notebooks/*/exercises/ex*.ipynb", "notebooks/GLOSSARY.md",
                "binder/apt.txt", "binder/runtime.txt", "binder/start")


def _compile_catalogues(locale_dir: Path) -> int:
    """fapi_lab/locale/<lang>/LC_MESSAGES/fapi_lab.po -> .mo beside it in the build (the catalogues' compiled form)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    count = 0
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/fapi_lab.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)
        count += 1
    return count


class BuildPyWithCourse(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "fapi_lab" / "_course"
        shutil.rmtree(target, ignore_errors=True)  # a lesson removed since the last build goes too
        copied = 0
        for pattern in COURSE_FILES:
            for src in sorted(HERE.glob(pattern)):
                dest = target / src.relative_to(HERE)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)  # keeps binder/start executable
                copied += 1
        if not any(target.glob("notebooks/[0-9]*.ipynb")):
            raise SystemExit(f"no lesson notebooks in {HERE / 'notebooks'}: a wheel without them would leave "
                             f"`fapi-lab lessons` with nothing to copy (build from a full checkout or sdist)")
        compiled = _compile_catalogues(Path(self.build_lib) / "fapi_lab" / "locale")
        print(f"fapi_lab build: {compiled} message catalogues compiled; {copied} course files (lessons, student "
              f"exercises, binder/) -> {target}")


setup(cmdclass={"build_py": BuildPyWithCourse})
