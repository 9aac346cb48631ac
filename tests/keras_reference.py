"""An independent reading of a model's structure from Keras's own serialised config.

``get_config()`` lists, for every layer, one inbound node per call with the ``args`` and ``kwargs`` it was called
with; each tensor among them carries the ``keras_history`` ``[layer_name, node_index, tensor_index]`` of its
producer. Node indices there are renumbered per model, so ``name`` / ``name#k`` keys follow directly. Nested models
appear as layers whose config is itself a functional config; ``expanded`` walks into them the way a picture
expands them: the tensors given to a nested call are matched to the inner model's inputs as Keras's ``Functional``
matches them (a dict by the inputs' names where the model takes a list; then flattened, dicts in sorted key order,
and paired in order, extra ones ignored), a mask passed with ``kwargs["mask"]`` goes where its input goes, and an
inner output that is an inner input passes the outer tensor through.

Keys follow the documented rule of ``fapi_lab._layergraph`` (written again here from the rule, not imported): a
visible name, ``/`` shown as ``∕``, and a taken key made unique with ``~2``, the literal name keeping it.
"""

from __future__ import annotations

import itertools
import unicodedata
from typing import Any

NESTED_CLASSES = {"Functional", "Sequential", "Model"}


def name_part(name: str) -> str:
    visible = any(unicodedata.category(c)[0] not in "ZCM" for c in name)
    if not visible or not name.isprintable():
        name = repr(name)
    return name.replace("/", "∕")


def _is_tensor(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__"


def _flatten(obj: Any) -> list[Any]:
    """Leaves in Keras's ``tree.flatten`` order: dicts by sorted key; a serialised tensor is one leaf."""
    if _is_tensor(obj) or not isinstance(obj, dict | list | tuple):
        return [obj]
    if isinstance(obj, dict):
        return [leaf for k in sorted(obj) for leaf in _flatten(obj[k])]
    return [leaf for v in obj for leaf in _flatten(v)]


def _history(obj: Any) -> tuple[str, int, int] | None:
    if _is_tensor(obj):
        name, node_index, tensor_index = obj["config"]["keras_history"]
        return name, node_index, tensor_index
    return None


def _is_ref(spec: Any) -> bool:
    return isinstance(spec, list | tuple) and len(spec) == 3 and isinstance(spec[0], str) and isinstance(spec[1], int)


def _io_refs(spec: Any) -> list[tuple[str, int, int]]:
    """model config 'input_layers'/'output_layers': [name, node, tensor] or nested lists/dicts of them, flattened
    in Keras's order (dicts by sorted key)."""
    if _is_ref(spec):
        return [(spec[0], spec[1], spec[2])]
    if isinstance(spec, dict):
        return [r for k in sorted(spec) for r in _io_refs(spec[k])]
    if isinstance(spec, list | tuple):
        return [r for v in spec for r in _io_refs(v)]
    return []


def _inner_config(layer_cfg: dict[str, Any]) -> dict[str, Any] | None:
    if layer_cfg.get("class_name") == "TimeDistributed":
        layer_cfg = layer_cfg.get("config", {}).get("layer", {})
    cfg = layer_cfg.get("config", {})
    if layer_cfg.get("class_name") not in NESTED_CLASSES or "layers" not in cfg:
        return None
    if layer_cfg["class_name"] == "Sequential":
        return _sequential_as_functional(cfg)
    return cfg


def _sequential_as_functional(cfg: dict[str, Any]) -> dict[str, Any] | None:
    """A Sequential config lists its layers without inbound nodes: each feeds the next, from its InputLayer."""
    found = cfg["layers"]
    if not found or found[0].get("class_name") != "InputLayer":
        return None  # never built: no graph
    chained = [{**found[0], "inbound_nodes": []}]
    for prev, layer in itertools.pairwise(found):
        tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": [prev["config"]["name"], 0, 0]}}
        chained.append({**layer, "name": layer["config"]["name"], "inbound_nodes": [{"args": [tensor], "kwargs": {}}]})
    chained[0]["name"] = found[0]["config"]["name"]
    last = chained[-1]["name"]
    return {"layers": chained, "input_layers": [chained[0]["name"], 0, 0], "output_layers": [last, 0, 0]}


def _input_names(inner_cfg: dict[str, Any]) -> list[str] | str | None:
    """The inner model's input names when its inputs are a list (or one tensor), None for a dict."""
    spec = inner_cfg["input_layers"]
    if isinstance(spec, dict):
        return None
    if _is_ref(spec):
        return spec[0]
    if all(_is_ref(s) for s in spec):
        return [s[0] for s in spec]
    return None


def _call_tensors(call: Any, inner_cfg: dict[str, Any] | None) -> list[tuple[tuple[str, int, int], str, int]]:
    """(history, role, index) of every tensor a call passes, as the adapter documents ``call_arguments``."""
    if isinstance(call, list):  # legacy format: a list of [name, node, tensor, kwargs]
        call = {"args": [[{"class_name": "__keras_tensor__", "config": {"keras_history": c[:3]}} for c in call]],
                "kwargs": {}}
    args, kwargs = list(call.get("args") or []), dict(call.get("kwargs") or {})
    found: list[tuple[tuple[str, int, int], str, int]] = []
    if inner_cfg is None:
        leaves = [(leaf, "input") for leaf in _flatten(args)]
        for name in sorted(kwargs):
            leaves += [(leaf, "mask" if name == "mask" else "input") for leaf in _flatten(kwargs[name])]
        tensors = [(h, role) for leaf, role in leaves if (h := _history(leaf)) is not None]
        return [(h, role, i) for i, (h, role) in enumerate(tensors)]
    n_inputs = len(_io_refs(inner_cfg["input_layers"]))
    given = args[0] if args else kwargs.pop("inputs", None)
    mask = kwargs.pop("mask", None)
    names = _input_names(inner_cfg)
    if isinstance(given, dict) and not _is_tensor(given) and names is not None:
        wanted = [names] if isinstance(names, str) else names
        if set(wanted) <= set(given):
            given = [given[n] for n in wanted]
    flat = _flatten(given) if given is not None else []
    for i, leaf in enumerate(flat):
        if (h := _history(leaf)) is not None:
            found.append((h, "input" if i < n_inputs else "unused", i))
    for j, leaf in enumerate(_flatten(mask) if mask is not None else []):
        if (h := _history(leaf)) is not None:
            found.append((h, "mask" if j < n_inputs else "unused", j))
    others = [h for leaf in _flatten((args[1:], kwargs)) if (h := _history(leaf)) is not None]
    found += [(h, "unused", len(flat) + k) for k, h in enumerate(others)]
    return found


def unique_keys(wanted: list[tuple[str, bool]]) -> list[str]:
    """Keys from ``(base, literal)`` pairs in order: a taken key gets ``~2``, ``~3`` …; literal names go first."""
    keys = [""] * len(wanted)
    used: set[str] = set()
    for literal in (True, False):
        for i, (base, is_literal) in enumerate(wanted):
            if is_literal == literal:
                key, n = base, 2
                while key in used:
                    key, n = f"{base}~{n}", n + 1
                used.add(key)
                keys[i] = key
    return keys


def _keys(config: dict[str, Any]) -> dict[tuple[str, int], str]:
    """(layer name, config node index) -> key, by the documented rule."""
    idents: list[tuple[str, int]] = []
    wanted: list[tuple[str, bool]] = []
    for layer in config["layers"]:
        name = layer["name"]
        part = name_part(name)
        for k in range(max(1, len(layer.get("inbound_nodes") or []))):
            idents.append((name, k))
            wanted.append((part if k == 0 else f"{part}#{k}", k == 0 and part == name))
    return dict(zip(idents, unique_keys(wanted), strict=True))


def structure(config: dict[str, Any], *, expand: bool, prefix: str = "") -> tuple[
        set[str], set[tuple[str, str]], list[tuple[str, int]], list[tuple[str, int]]]:
    """(nodes, edges, inputs, outputs) of a functional config; keys as fapi_lab makes them."""
    keys = _keys(config)
    nodes: set[str] = set()
    edges: set[tuple[str, str]] = set()
    # for expanded nested calls: where input i of call `key` really goes, where output j comes from
    entry: dict[tuple[str, int], list[str]] = {}
    exit_: dict[tuple[str, int], tuple[str, int]] = {}
    passthrough: dict[tuple[str, int], int] = {}
    expanded: set[str] = set()
    pending: list[tuple[str, int, str, str, int]] = []  # (src_key, src_tensor_index, dst_key, role, index)
    # Keras quirk: in input_layers/output_layers (not in inbound nodes) a reference to a nested Functional
    # model counts one "pre-existing node" before its calls, so its indices are one too high there.
    functional = {layer["name"] for layer in config["layers"] if layer.get("class_name") == "Functional"}

    def io_key(name: str, node_index: int) -> str:
        return prefix + keys[(name, node_index - (name in functional))]

    for layer in config["layers"]:
        name = layer["name"]
        calls = layer.get("inbound_nodes") or []
        inner_cfg = _inner_config(layer)
        if not calls:
            nodes.add(prefix + keys[(name, 0)])
        for k, call in enumerate(calls):
            key = prefix + keys[(name, k)]
            if expand and inner_cfg is not None:
                expanded.add(key)
                i_nodes, i_edges, i_inputs, i_outputs = structure(inner_cfg, expand=True, prefix=key + "/")
                inner_inputs = {ik: i for i, (ik, _) in enumerate(i_inputs)}
                nodes |= i_nodes - set(inner_inputs)
                edges |= {(a, b) for a, b in i_edges if a not in inner_inputs}
                for i, (ik, _) in enumerate(i_inputs):
                    entry[(key, i)] = [b for a, b in i_edges if a == ik]
                for j, (ok, oi) in enumerate(i_outputs):
                    if ok in inner_inputs:
                        passthrough[(key, j)] = inner_inputs[ok]
                    else:
                        exit_[(key, j)] = (ok, oi)
            else:
                nodes.add(key)
            for (src, src_node, src_tensor), role, index in _call_tensors(call, inner_cfg):
                pending.append((prefix + keys[(src, src_node)], src_tensor, key, role, index))
    feeds = {(dst, index): (src, ti) for src, ti, dst, role, index in pending if role == "input"}

    def source(key: str, index: int) -> tuple[str, int] | None:
        while True:
            if (key, index) in exit_:
                return exit_[(key, index)]
            if (key, index) not in passthrough:
                return key, index
            fed = feeds.get((key, passthrough[(key, index)]))
            if fed is None:
                return None
            key, index = fed

    for src, ti, dst, role, index in pending:
        real = source(src, ti)
        if real is None:
            continue
        if dst not in expanded:
            edges.add((real[0], dst))
        elif role != "unused":
            edges |= {(real[0], d) for d in entry.get((dst, index), [])}
    inputs = [(io_key(n, ni), ti) for n, ni, ti in _io_refs(config["input_layers"])]
    outputs = [o for n, ni, ti in _io_refs(config["output_layers"]) if (o := source(io_key(n, ni), ti)) is not None]
    return nodes, edges, inputs, outputs
