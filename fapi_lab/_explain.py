"""``lab.explain(error)``: the graph and shape errors students hit, in plain words, with a fix.

The rules (one per Keras 3 message) live in ``_explain_rules``. An error no rule knows is shown unchanged, with
a note: nothing is hidden. ``explain`` never raises, whatever it is given: an exception whose ``str()`` fails,
a string, or anything else.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from ._explain_rules import RULES, Facts, join_and
from ._i18n import _

__all__ = ["Explanation", "explain"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Explanation:
    title: str
    why: str
    fix: str
    original: str
    layer: str = ""
    shapes: list[str] = field(default_factory=list)
    recognised: bool = True

    def __repr__(self) -> str:
        return f"Explanation({self.title!r})"

    def __str__(self) -> str:
        lines = [self.title]
        if self.layer:
            lines.append(_("layer: {layer}").format(layer=self.layer))
        if self.shapes:
            lines.append(_("shapes that met: {shapes}").format(shapes=join_and(self.shapes)))
        lines += [_("why: {why}").format(why=self.why), _("fix: {fix}").format(fix=self.fix),
                  _("Keras said: {original}").format(original=self.original)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = "#b91c1c" if self.recognised else "#92400e"
        parts = [f"<div style='border-left:4px solid {colour};padding:4px 10px'>",
                 f"<b style='color:{colour}'>{esc(self.title)}</b>"]
        if self.layer:
            parts.append("<div>" + esc(_("layer: {layer}")).format(layer=f"<code>{esc(self.layer)}</code>")
                         + "</div>")
        if self.shapes:
            shapes = join_and([f"<code>{esc(s)}</code>" for s in self.shapes])
            parts.append("<div>" + esc(_("shapes that met: {shapes}")).format(shapes=shapes) + "</div>")
        why, fix, said = esc(_("why:")), esc(_("fix:")), esc(_("Keras said"))
        parts += [f"<div><b>{why}</b> {esc(self.why)}</div>", f"<div><b>{fix}</b> {esc(self.fix)}</div>",
                  f"<details><summary>{said}</summary><pre>{esc(self.original)}</pre></details></div>"]
        return "".join(parts)


def _text(error: Any) -> str:
    """The message, whatever ``error`` is; never raises."""
    for attempt in (str, repr):
        try:
            return _ANSI.sub("", attempt(error)).strip()
        except Exception:  # a broken __str__ must not hide the student's error
            continue
    return _("<a {kind} whose message cannot be printed>").format(kind=_kind(error))


def _kind(error: Any) -> str:
    try:
        return type(error).__name__ if isinstance(error, BaseException) else "Error"
    except Exception:
        return "Error"


def _facts(source: Any, inputs: Any) -> Facts:
    """What ``source`` (the outputs or the model the error is about) and ``inputs`` (what was passed as
    ``inputs=``) tell: the Inputs the outputs come from, and which given inputs are not Inputs at all."""
    sources: tuple[tuple[str, str], ...] = ()
    not_inputs: list[tuple[int, str]] = []
    try:
        from ._keras_adapter import read

        if source is not None:
            graph = read(source)
            found = [n for n in graph.nodes if n.kind == "input"]
            sources = tuple((n.name, str(n.output_shapes[0]) if n.output_shapes else "") for n in found)
        given = [] if inputs is None else list(inputs.values()) if isinstance(inputs, dict) else \
            list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        for index, tensor in enumerate(given):
            graph = read(tensor)
            last = graph.node(graph.output_keys[0])
            if last.kind != "input":
                not_inputs.append((index, last.name))
    except Exception:
        pass
    return Facts(sources=sources, not_inputs=tuple(not_inputs))


def explain(error: BaseException | str, source: Any = None, *, inputs: Any = None) -> Explanation:
    """Turn a Keras graph or shape error into what went wrong, the shapes that met, and a concrete fix.

    Accepts the exception (``except Exception as err: lab.explain(err)``) or its message. ``source``, optional,
    is what the error is about (the output tensors given to ``keras.Model``, or a model): with it, a
    disconnected-graph explanation names the Inputs the outputs really come from; ``inputs``, optional, is what
    was passed as ``keras.Model(inputs=…)``, so it can say which of them is not an Input at all (an overwritten
    variable). Never raises.
    """
    original = _text(error)
    try:
        for pattern, build in RULES:
            match = pattern.search(original)
            if match:
                found = build(match, _facts(source, inputs))
                return Explanation(title=found.title, why=found.why, fix=found.fix, original=original,
                                   layer=found.layer, shapes=list(found.shapes))
        return Explanation(
            title=_("{kind}: fapi_lab does not know this error yet").format(kind=_kind(error)),
            why=_("It is shown unchanged below; read the last line of Keras's message first."),
            fix=_("If it is about shapes, lab.shapes(model) or lab.graph(tensor) shows every shape up to this point."),
            original=original, recognised=False)
    except Exception as exc:  # explain must never hide the student's error behind its own
        return Explanation(title=_("Could not explain this error"),
                           why=_("(explain failed: {error})").format(error=_text(exc)), fix="",
                           original=original, recognised=False)
