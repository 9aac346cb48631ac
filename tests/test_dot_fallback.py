"""A ``dot`` that hangs, is slow, fails or prints garbage never makes ``lab.graph`` (or an exercise verdict) wait
long or raise: after ``DOT_TIME_LIMIT`` seconds it is stopped, with whatever it started, and the built-in layout
draws the picture, with a one-line notice saying why.

The fake ``dot`` programs are real executables (shell scripts) put first on ``PATH``; the slow case is the real
Graphviz ``dot`` on a dense skip graph (every layer adds all earlier outputs), given a one-second limit.
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import stat
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import pytest
from keras import layers

import fapi_lab as lab
from fapi_lab import _render_dot
from fapi_lab._render_dot import DOT_TIME_LIMIT, DotFailed, DotNotFound, dot_to_svg

LIMIT = 1.0  # seconds: the tests shorten the limit so they stay fast; the library's is DOT_TIME_LIMIT

HANGS = 'echo $$ >> "$DOT_LOG"\nsleep 300 &\necho $! >> "$DOT_LOG"\nwait\n'
SCRIPTS = {
    "fails": 'echo run >> "$DOT_LOG"\necho "Error: <stdin>: syntax error in line 1 near \'digraph\'" >&2\nexit 1\n',
    "garbage": 'echo run >> "$DOT_LOG"\ncat > /dev/null\necho "this is not a picture"\n',
    "half an svg": 'echo run >> "$DOT_LOG"\ncat > /dev/null\nprintf \'<svg width="10pt"><g><text>cut off\'\n',
    "binary": 'echo run >> "$DOT_LOG"\ncat > /dev/null\nprintf \'\\000\\377\\376<svg\\001\\n\'\n',
    "silent": 'echo run >> "$DOT_LOG"\ncat > /dev/null\n',
}
REASONS = {
    "fails": "Graphviz's dot failed (exit status 1: Error: <stdin>: syntax error in line 1 near 'digraph')",
    "garbage": "Graphviz's dot printed something that is not an SVG picture",
    "half an svg": "Graphviz's dot printed something that is not an SVG picture",
    "binary": "Graphviz's dot printed something that is not an SVG picture",
    "silent": "Graphviz's dot printed something that is not an SVG picture",
}
BUILTIN = "uses fapi_lab's built-in layout"


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "dot.log"
    path.touch()
    monkeypatch.setenv("DOT_LOG", str(path))
    monkeypatch.setattr(_render_dot, "DOT_TIME_LIMIT", LIMIT)
    return path


def fake_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "dot"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    assert shutil.which("dot") == str(script)


def small_model() -> keras.Model:
    x = keras.Input((4,), name="pixels")
    h = layers.Dense(3, activation="relu", name="hidden")(x)
    return keras.Model(x, layers.Dense(2, name="logits")(h), name="small")


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the system
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")  # a zombie has stopped; only its exit status is left


def text_of(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def assert_builtin_picture(view: lab.GraphView, reason: str) -> None:
    notice = text_of(view._notice.value)
    assert reason in notice and BUILTIN in notice, notice
    assert notice.count("⚠") == 1 and "\n" not in notice, "one line"
    root = ET.fromstring(view._canvas.svg)
    assert root.get("class") == "fapi-lab-layout"
    assert len(view._canvas.ids) == len(view.layer_keys)


def test_the_limit_is_a_few_seconds() -> None:
    assert 1 <= DOT_TIME_LIMIT <= 10


@pytest.mark.skipif(os.name != "posix", reason="shell scripts as fake programs")
def test_a_hanging_dot_is_stopped_with_what_it_started(tmp_path, monkeypatch, log) -> None:
    fake_dot(tmp_path, monkeypatch, HANGS)
    start = time.monotonic()
    view = lab.graph(small_model())
    assert time.monotonic() - start < LIMIT + 10
    assert_builtin_picture(view, f"Graphviz's dot did not finish within {LIMIT:g} s")
    pids = [int(line) for line in log.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(p) for p in pids), "dot and the program it started are stopped"
    # the view does not wait for dot again: other options and another selection use the built-in layout
    start = time.monotonic()
    view.show_params = True
    view.direction = "LR"
    view.select("hidden")
    assert time.monotonic() - start < LIMIT
    assert len(log.read_text().split()) == 2
    assert_builtin_picture(view, "did not finish")
    ET.fromstring(view.to_svg())


@pytest.mark.skipif(os.name != "posix", reason="shell scripts as fake programs")
@pytest.mark.parametrize("kind", sorted(SCRIPTS))
def test_a_failing_dot_gives_the_builtin_layout_and_says_why(tmp_path, monkeypatch, log, kind: str) -> None:
    fake_dot(tmp_path, monkeypatch, SCRIPTS[kind])
    view = lab.graph(small_model())
    assert_builtin_picture(view, REASONS[kind])
    view.show_shapes = False
    assert log.read_text().split() == ["run"], "dot is asked once per view"
    with pytest.raises(DotFailed, match="Graphviz's dot"):
        dot_to_svg("digraph { a -> b }")
    assert issubclass(DotFailed, DotNotFound), "every fallback written for a missing dot covers a failing one"


@pytest.mark.skipif(os.name != "posix", reason="shell scripts as fake programs")
def test_asking_for_dot_by_name_raises_the_reason(tmp_path, monkeypatch, log) -> None:
    fake_dot(tmp_path, monkeypatch, SCRIPTS["fails"])
    with pytest.raises(DotFailed, match="exit status 1"):
        lab.graph(small_model(), renderer="dot")


@pytest.mark.skipif(os.name != "posix", reason="shell scripts as fake programs")
def test_an_exercise_verdict_shows_although_dot_hangs(tmp_path, monkeypatch, log) -> None:
    fake_dot(tmp_path, monkeypatch, HANGS)
    x = keras.Input((784,), name="img")
    h = layers.Dense(64, activation="relu", name="h1")(x)
    h = layers.Dense(64, activation="relu", name="h2")(h)
    wrong = keras.Model(x, layers.Dense(10, name="dense_9")(h), name="student")
    start = time.monotonic()
    result = lab.check("ex1.1", wrong)
    shown = result._repr_mimebundle_()["text/html"]
    assert time.monotonic() - start < 4 * LIMIT + 20
    assert not result and "No output is called 'predictions'" in text_of(shown)
    pictures = [base64.b64decode(m).decode() for m in re.findall(r'data:image/svg\+xml;base64,([^"]+)', shown)]
    assert any("fapi-lab-layout" in p for p in pictures), "the picture of the answer is drawn by the built-in layout"


def dense_skip_model(n: int) -> keras.Model:
    """Every layer adds the outputs of all the layers before it (a DenseNet-like block without the convolutions)."""
    x = keras.Input((4,), name="x")
    outputs = [layers.Dense(4, name="start")(x)]
    for i in range(n):
        outputs.append(layers.Add(name=f"add_{i}")(outputs) if len(outputs) > 1 else
                       layers.Dense(4, name=f"dense_{i}")(outputs[0]))
    return keras.Model(x, outputs[-1], name="dense_skips")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_the_real_dot_on_a_dense_skip_graph_is_not_waited_for(monkeypatch) -> None:
    monkeypatch.setattr(_render_dot, "DOT_TIME_LIMIT", LIMIT)  # real dot takes many seconds on this graph
    model = dense_skip_model(30)
    start = time.monotonic()
    view = lab.graph(model)
    assert time.monotonic() - start < LIMIT + 30
    assert_builtin_picture(view, f"did not finish within {LIMIT:g} s")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_a_working_dot_is_used_without_a_notice() -> None:
    view = lab.graph(small_model())
    assert view._notice.value == ""
    assert ET.fromstring(view._canvas.svg).get("class") != "fapi-lab-layout"
