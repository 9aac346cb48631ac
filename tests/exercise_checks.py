"""Shared assertions for the exercise-set tests: a right answer passes, a wrong one fails without showing code."""

from __future__ import annotations

import re
from typing import Any

import fapi_lab as lab
from fapi_lab._exercises import CheckResult


def fails(exercise_id: str, answer: Any, words: tuple[str, ...], code: re.Pattern[str]) -> CheckResult:
    """A wrong answer fails, its first message has all ``words``, and no message matches the ``code`` pattern."""
    result = lab.check(exercise_id, answer)
    assert not result and result.answered, str(result)
    for word in words:
        assert word in result.messages[0], (word, result.messages[0])
    text = str(result)
    assert not code.search(text), f"code in the message: {code.search(text).group(0)!r} in {text}"
    return result


def passes(exercise_id: str, answer: Any) -> CheckResult:
    """A right answer passes, and its list of what was verified has no run-dependent number."""
    result = lab.check(exercise_id, answer)
    assert result, str(result)
    assert not re.search(r"\d\.\d{3,}", str(result)), "a run-dependent number in the verified list"
    return result
