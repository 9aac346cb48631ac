"""Writing files a person may have edited: never replace one, put the new version beside it instead.

Every command that writes into a folder a person works in (``fapi-lab lessons``, ``fapi-lab student``) goes
through :func:`write_new`, so the rule lives in one place: a missing file is written; an identical one is left
alone; one that differs is kept, and the new version goes to the first free ``NAME.new.ipynb``,
``NAME.new-2.ipynb``, ``NAME.new-3.ipynb``, … (or to the one among them that already holds exactly this version).
The ``.new`` file is itself a file the person was told to use, so it is never replaced either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Written", "beside_name", "write_new"]

MAX_BESIDE = 999


@dataclass(frozen=True)
class Written:
    """What :func:`write_new` did: ``"wrote"``, ``"same"`` or ``"kept"`` (then ``path`` is where the new version is)."""

    action: str
    path: Path


def beside_name(target: Path, number: int) -> Path:
    """``ex1.ipynb`` -> ``ex1.new.ipynb`` (number 1), ``ex1.new-2.ipynb`` (number 2), …"""
    suffix = ".new" if number == 1 else f".new-{number}"
    return target.with_name(f"{target.stem}{suffix}{target.suffix}")


def write_new(target: Path, data: bytes) -> Written:
    """Write ``data`` to ``target`` unless that would replace different content (see the module docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
        return Written("wrote", target)
    if target.read_bytes() == data:
        return Written("same", target)
    for number in range(1, MAX_BESIDE + 1):
        beside = beside_name(target, number)
        if not beside.exists():
            beside.write_bytes(data)
            return Written("kept", beside)
        if beside.read_bytes() == data:
            return Written("kept", beside)
    raise FileExistsError(f"{target.parent} already holds {MAX_BESIDE} new versions of {target.name}; "
                          f"delete the ones you do not need and run this again")
