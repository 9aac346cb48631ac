"""The `fapi-lab` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _doctor(args: argparse.Namespace) -> int:
    from ._doctor import doctor

    report = doctor(datasets=not args.no_datasets)
    if args.quiet:
        for check in report.problems:
            if check.required:
                print(f"fapi-lab doctor: {check.name}: {check.found}\n  fix: {check.fix}")
    else:
        print(report)
    return 0 if report.ok else 1


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="fapi-lab",
        description="fapi_lab: a Jupyter teaching package for the Keras functional API.",
    )
    parser.add_argument("--version", action="version", version=f"fapi_lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    doc = sub.add_parser("doctor", help="check that everything the lessons need is installed")
    doc.add_argument("--quiet", action="store_true", help="print only required things that are missing")
    doc.add_argument("--no-datasets", action="store_true", help="skip the MNIST/CIFAR-10 cache checks")
    doc.set_defaults(func=_doctor)
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
