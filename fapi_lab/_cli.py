"""The `fapi-lab` command line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ._files import write_new
from ._i18n import _

__all__ = ["main"]


def _doctor(args: argparse.Namespace) -> int:
    from ._doctor import doctor

    report = doctor(datasets=not args.no_datasets)
    if args.quiet:
        for check in report.problems:
            if check.required:
                print(f"fapi-lab doctor: {check.name}: {check.found}\n  " + _("fix: {fix}").format(fix=check.fix))
    else:
        print(report)
    return 0 if report.ok else 1


def lessons_source() -> Path:
    """The lesson notebooks: those packaged in the installed wheel, or those of the checkout (editable install)."""
    from ._edition import course_root

    return course_root() / "notebooks"


def copy_lessons(folder: Path, source: Path | None = None, lang: str = "en") -> list[str]:
    """Copy the lessons into ``folder`` without ever overwriting a student's file.

    A file that is missing is copied; one that is identical is left alone; one that differs (the student edited
    it, or the lesson changed) is kept, and the new version is written beside it as ``NAME.new.ipynb`` (or
    ``NAME.new-2.ipynb``, … when that name is taken by a different version: see ``_files.write_new``).
    ``lang`` "zh" or "es": the translated lessons go into ``folder/zh`` (``folder/es``), laid out as in the
    repository's ``notebooks/``, and the glossary beside them. Returns one line per file saying what happened."""
    from ._edition import course_files

    source = source or lessons_source()
    origin = source if lang == "en" else source / lang
    if not any(origin.glob("[0-9]*.ipynb")):
        message = (_("no lesson notebooks found in {folder}; reinstall fapi_lab, or run this from a clone of the "
                     "fapi_lab repository (bash scripts/lessons does it for you)") if lang == "en" else
                   _("no {lang} lesson notebooks found in {folder}; reinstall fapi_lab, or run this from a clone of "
                     "the fapi_lab repository (bash scripts/lessons does it for you)"))
        raise FileNotFoundError(message.format(lang=lang, folder=origin))
    notebooks = course_files(source, (lang,))  # the student versions of the exercises: never the solutions
    folder.mkdir(parents=True, exist_ok=True)
    report = []
    for nb in notebooks:
        target = folder / nb.relative_to(source)
        done = write_new(target, nb.read_bytes())
        name = target.relative_to(folder)
        if done.action == "wrote":
            report.append(f"copied   {name}")
        elif done.action == "same":
            report.append(f"same     {name}")
        else:
            report.append("KEPT     " + _("{name} (yours differs; the current version is in {new})").format(
                name=name, new=done.path.name))
    return report


def _lessons(args: argparse.Namespace) -> int:
    folder = Path(args.folder).expanduser().resolve()
    try:
        lines = copy_lessons(folder, lang=args.lang)
    except FileNotFoundError as exc:
        print(f"fapi-lab lessons: {exc}")
        return 1
    print("\n".join(lines))
    where = folder if args.lang == "en" else folder / args.lang
    print("fapi-lab lessons: " + _("{n} files (lessons, and exercises/) in {folder}").format(n=len(lines),
                                                                                            folder=where))
    if args.no_open:
        return 0
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if args.lang != "en":
        cmd.append(f"--ServerApp.default_url=/lab/tree/{args.lang}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return subprocess.call(cmd, env={**os.environ, "FAPI_LAB_LANG": args.lang})


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _student(args: argparse.Namespace) -> int:
    from ._student import StudentVersionError, write_student_versions

    root = _repo_root()
    sources: list[Path] = []
    for item in args.sources or [str(root / "solutions" / "exercises")]:
        path = Path(item).expanduser()
        if path.is_dir():
            sources.extend(sorted(path.glob("*.ipynb")))
        elif path.suffix == ".ipynb" and path.is_file():
            sources.append(path)
        else:
            problem = _("{path} is neither a solution notebook (.ipynb) nor a folder of them").format(path=path)
            print("fapi-lab student: " + problem)
            return 1
    if not sources:
        print("fapi-lab student: " + _("no solution notebooks found"))
        return 1
    out = Path(args.out).expanduser() if args.out else root / "notebooks" / "exercises"
    try:
        lines = write_student_versions(sources, out, force=args.force, root=root)
    except StudentVersionError as exc:
        print(f"fapi-lab student: {exc}")
        return 1
    print("\n".join(lines))
    return 0


def _student_repo(args: argparse.Namespace) -> int:
    from ._edition import EditionError, write_edition

    folder = Path(args.folder).expanduser()
    try:
        lines = write_edition(folder, url=args.url, install=args.install)
    except (EditionError, OSError) as exc:
        print(f"fapi-lab student-repo: {exc}")
        return 1
    print("\n".join(lines))
    kept = sum(line.startswith("KEPT") for line in lines)
    files = sum(not line.startswith(("NOTE", "STALE")) for line in lines)
    summary = (_("the student edition is in {folder} ({files} files, no solutions; {kept} edited files kept, see "
                 "above).") if kept else _("the student edition is in {folder} ({files} files, no solutions)."))
    print("fapi-lab student-repo: " + summary.format(folder=folder.resolve(), files=files, kept=kept))
    if not (folder / ".git").exists():
        commands = f"cd {folder} && git init -b main && git add -A && git commit -m 'Student edition'"
        print(_("Make it a repository of its own: {commands}  (then push it; see the README's recipes)").format(
            commands=commands))
    return 0


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="fapi-lab",
        description=_("fapi_lab: a Jupyter teaching package for the Keras functional API."),
    )
    parser.add_argument("--version", action="version", version=f"fapi_lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    doc = sub.add_parser("doctor", help=_("check that everything the lessons need is installed"))
    doc.add_argument("--quiet", action="store_true", help=_("print only required things that are missing"))
    doc.add_argument("--no-datasets", action="store_true", help=_("skip the MNIST/CIFAR-10 cache checks"))
    doc.set_defaults(func=_doctor)
    les = sub.add_parser("lessons", help=_("copy the lessons into a working folder (never overwriting) and open them"))
    les.add_argument("folder", nargs="?", default="fapi-lab-lessons",
                     help=_("where to put them (default: %(default)s)"))
    les.add_argument("--no-open", action="store_true", help=_("only copy; do not start JupyterLab"))
    les.add_argument("--lang", choices=("en", "zh", "es"), default="en",
                     help=_("the lessons in English, Chinese (zh, into FOLDER/zh) or Spanish (es, into FOLDER/es); "
                            "their messages speak that language too (default: %(default)s)"))
    les.set_defaults(func=_lessons)
    stu = sub.add_parser("student", help=_("make the student exercise notebooks from the solution notebooks"))
    stu.add_argument("sources", nargs="*", help=_("solution notebooks or folders (default: solutions/exercises)"))
    stu.add_argument("--out", help=_("where the student versions go (default: notebooks/exercises)"))
    stu.add_argument("--force", action="store_true", help=_("replace student notebooks that differ without asking"))
    stu.set_defaults(func=_student)
    rep = sub.add_parser("student-repo", help=_("write the student edition (lessons, exercises, Binder; no "
                                                "solutions) into a folder that becomes its own git repository"))
    rep.add_argument("folder", help=_("where to write it (new, or an earlier edition: edited files are kept)"))
    rep.add_argument("--url", help=_("the edition's own GitHub address, for the Binder link in its README"))
    rep.add_argument("--install", help=_("what Binder pip-installs (default: fapi_lab[lessons] @ git+REPOSITORY)"))
    rep.set_defaults(func=_student_repo)
    from ._grading_cli import add_commands  # the grading commands: nbgrader, report

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
