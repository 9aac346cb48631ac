"""What a fapi_lab course's ``nbgrader_config.py`` plugs into nbgrader (only that configuration imports this module,
which imports nbgrader).

- :class:`KeepStarterCode`: nbgrader replaces every solution region with one fixed stub (``# YOUR CODE HERE`` /
  ``raise NotImplementedError()``). A fapi_lab answer cell carries its starter code inside the region as
  ``# student:`` lines (comments in the source notebook, so the solution still runs); this preprocessor releases
  those lines instead of the stub (:func:`fapi_lab._nbgrader.release_source`) and is nbgrader's own
  ClearSolutions everywhere else. :func:`keep_starter_code` puts it in ``generate_assignment``'s steps.
- :class:`CellTimeouts`: nbgrader stops every cell after the same time; the set-up cell imports TensorFlow, which
  can take long on a busy machine, so it gets longer than the answers.
"""

from __future__ import annotations

from typing import Any

from nbgrader import utils
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions

from ._nbgrader import SETUP_LINE, STUDENT, release_source

__all__ = ["CellTimeouts", "KeepStarterCode", "keep_starter_code"]


class KeepStarterCode(ClearSolutions):
    """nbgrader's ClearSolutions, but a solution region with ``# student:`` lines becomes those lines."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> tuple[Any, Any]:
        has_starter = any(STUDENT.match(line) for line in cell.source.split("\n"))
        if cell.cell_type == "code" and utils.is_solution(cell) and has_starter:
            cell.source = release_source(cell.source, self.code_stub[resources["language"]])
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


def keep_starter_code(c: Any) -> None:
    """Put :class:`KeepStarterCode` in place of ClearSolutions in ``nbgrader generate_assignment``'s steps."""
    steps = GenerateAssignment.class_traits()["preprocessors"].default()
    c.GenerateAssignment.preprocessors = [KeepStarterCode if step is ClearSolutions else step for step in steps]


class CellTimeouts:
    """nbgrader's ``Execute.timeout_func``: ``setup`` seconds for the notebook's set-up cell (the one that imports
    fapi_lab's grading), ``other`` for every other cell."""

    def __init__(self, *, setup: float, other: float) -> None:
        self.setup, self.other = setup, other

    def __call__(self, cell: Any) -> float:
        return self.setup if SETUP_LINE in str(getattr(cell, "source", "")) else self.other

    def __repr__(self) -> str:
        return f"CellTimeouts(setup={self.setup:g}, other={self.other:g})"
