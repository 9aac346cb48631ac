"""Problem codes: every problem a judge can report carries a code, and the same wrong answer gets the same code
whatever the student named things, so that a class report can count them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import keras
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import fapi_lab as lab
from fapi_lab._exercises import UNCLASSIFIED

PACKAGE = Path(lab.__file__).resolve().parent
JUDGES = [PACKAGE / "_judges.py", PACKAGE / "_judges_design.py", PACKAGE / "_exercises.py",
          PACKAGE / "_grading_probes.py", *sorted((PACKAGE / "_exercise_sets").glob("ex*.py")),
          *sorted((PACKAGE / "_exercise_parts").glob("*.py"))]
CODE = re.compile(r"[a-z][a-z0-9-]*(:[a-z0-9-]+)?")


def _constructions(path: Path) -> list[ast.Call]:
    """Every Problem(...) and Stop(...) call, except a Stop around a Problem(...) (that one carries the code)."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Problem", "Stop"):
            wraps = node.args and isinstance(node.args[0], ast.Call) and getattr(node.args[0].func, "id", "") == \
                "Problem"
            if not (node.func.id == "Stop" and wraps):
                calls.append(node)
    return calls


def test_every_problem_a_judge_can_make_has_a_code() -> None:
    missing, literal = [], []
    for path in JUDGES:
        for call in _constructions(path):
            code = next((k.value for k in call.keywords if k.arg == "code"), None)
            if code is None:
                missing.append(f"{path.name}:{call.lineno}")
            elif isinstance(code, ast.Constant):
                literal.append(code.value)
    assert not missing, f"Problem/Stop without code=: {missing}"
    assert len(literal) > 300
    assert [c for c in literal if not CODE.fullmatch(c)] == []


def test_lab_check_gives_the_placeholder_and_a_crashing_judge_their_codes() -> None:
    assert [p.code for p in lab.check("ex4.3", ...).problems] == ["not-answered"]

    def builds_badly() -> keras.Model:
        raise RuntimeError("my own bug")

    assert [p.code for p in lab.check("ex1.1", builds_badly).problems] == ["raised"]


NAME = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).map(lambda text: f"my_{text}")  # never the task's
NAMES = st.lists(NAME, min_size=4, max_size=4, unique=True)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(NAMES)
def test_the_same_wrong_merge_gets_the_same_code_whatever_its_names(names: list[str]) -> None:
    """ex4.3 with b's channels first, and the projection without its name: one code, never unclassified."""
    a = keras.Input(shape=(8, 8, 32), name="a")
    b = keras.Input(shape=(8, 8, 16), name="b")
    stacked = layers.concatenate([b, a], name="stacked")
    wide = layers.Conv2D(32, 1, name=names[0])(b)
    model = keras.Model([a, b], [stacked, layers.add([a, wide], name="summed")], name=names[1])
    result = lab.check("ex4.3", model)
    assert [p.code for p in result.problems] == ["stacked-order"]


@settings(max_examples=6, deadline=None, derandomize=True)
@given(NAMES)
def test_the_same_wrong_bottleneck_gets_the_same_code_whatever_its_names(names: list[str]) -> None:
    feature_map = keras.Input(shape=(8, 8, 128), name="feature_map")
    x = layers.Conv2D(32, 1, name=names[0])(feature_map)  # no relu after the squeeze
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name=names[1])(x)
    x = layers.Conv2D(128, 1, name=names[2])(x)
    model = keras.Model(feature_map, layers.add([x, feature_map], name=names[3]))
    result = lab.check("ex4.4", model)
    assert [p.code for p in result.problems] == ["squeeze-relu"]
    assert names[0] in result.messages[0]  # the message is in the student's terms; the code is not


def test_no_check_of_a_typical_wrong_answer_is_unclassified() -> None:
    lstm = layers.LSTM(8, name="reader")
    a, b = keras.Input((140, 256), name="tweet_a"), keras.Input((140, 256), name="tweet_b")
    two = keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="same_author")(
        layers.concatenate([layers.LSTM(64)(a), layers.LSTM(64)(b)])))
    small = keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="same_author")(
        layers.concatenate([lstm(a), lstm(b)])))
    cases = {("ex5.1", "two"): two, ("ex5.1", "small"): small, ("ex1.1", "layer"): layers.Dense(3),
             ("ex1.1", "int"): 5}
    codes = {key: [p.code for p in lab.check(key[0], answer).problems] for key, answer in cases.items()}
    assert codes == {("ex5.1", "two"): ["not-shared"], ("ex5.1", "small"): ["lstm-units"],
                     ("ex1.1", "layer"): ["wrong-kind:layer"], ("ex1.1", "int"): ["wrong-kind"]}
    assert UNCLASSIFIED not in str(codes)
