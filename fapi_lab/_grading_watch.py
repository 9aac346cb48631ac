"""What ran before a check cell, in an IPython kernel: the cells since the previous check, and how each one ended.

An autograder runs a notebook once, top to bottom, in a fresh kernel, so the cells between two check cells are
the task's cells as the student left them. :func:`watch` (called when :mod:`fapi_lab._grading` is imported, in
the notebook's set-up cell) records every cell's source and its error, if any; :func:`window` gives the cells run
since the previous check. From them a check can say that the answer cell raised (and what), that the autograder
stopped it for running too long, or that it is still the starter code, unchanged.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Any

__all__ = ["Ran", "binds", "fingerprint", "mark_check", "untouched", "watch", "window"]


@dataclass(frozen=True)
class Ran:
    """One cell the kernel ran: its number, its source as typed, and the error that ended it (None: it finished)."""

    count: int
    source: str
    error: BaseException | None


_RAN: list[Ran] = []
_START = [0]  # where in _RAN the cells after the previous check cell begin
_WATCHING: set[int] = set()  # ids of the shells the hook is registered in


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return None
    return get_ipython()


def _record(result: Any) -> None:
    count = getattr(result, "execution_count", None)
    info = getattr(result, "info", None)
    if count is None or info is None:
        return
    _RAN.append(Ran(int(count), str(getattr(info, "raw_cell", "") or ""), getattr(result, "error_in_exec", None)))


def watch() -> bool:
    """Record the cells this IPython kernel runs from now on (once per kernel); False outside IPython."""
    shell = _shell()
    if shell is None or not hasattr(shell, "events"):
        return False
    if id(shell) not in _WATCHING:
        shell.events.register("post_run_cell", _record)
        _WATCHING.add(id(shell))
    return True


def window() -> list[Ran] | None:
    """The cells run since the previous check cell (or since :func:`watch`), before this one; None when the
    kernel's cells are not recorded."""
    shell = _shell()
    if shell is None or id(shell) not in _WATCHING:
        return None
    return _RAN[_START[0]:]


def mark_check() -> None:
    """The cell running now is a check: the next check's window starts after it (it is recorded when it ends)."""
    _START[0] = len(_RAN) + 1


def fingerprint(source: str) -> str:
    """A short hash of a cell's code, blind to trailing spaces, blank lines at either end and line endings."""
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


def binds(source: str, names: set[str]) -> bool:
    """Whether the cell assigns, defines or imports one of ``names`` (a cell that does not parse: whether it
    mentions one)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return any(name in source for name in names)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in names:
            return True
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in names:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) in names:
            return True
    return False


def untouched(ran: list[Ran], starter: str, names: set[str]) -> bool:
    """The answer is still the starter: among the cells run, every one that makes one of ``names`` is the
    starter code (``starter``: its :func:`fingerprint`), and there is at least one."""
    making = [r for r in ran if binds(r.source, names)]
    return bool(making) and all(fingerprint(r.source) == starter for r in making)
