"""An independent reading of a model's structure from Keras's own serialised config.

``get_config()`` lists, for every layer, one inbound node per call with the ``keras_history``
``[layer_name, node_index, tensor_index]`` of each input tensor. Node indices there are renumbered per
model, so ``name`` / ``name#k`` keys follow directly. Nested models appear as layers whose config is itself
a functional config; ``expanded`` walks into them the way a picture expands them.
"""

from __future__ import annotations

from typing import Any

NESTED_CLASSES = {"Functional", "Sequential", "Model"}


def _key(name: str, index: int) -> str:
    return name if index == 0 else f"{name}#{index}"


def _histories(obj: Any) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            name, node_index, tensor_index = obj["config"]["keras_history"]
            return [(name, node_index, tensor_index)]
        for value in obj.values():
            found += _histories(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            found += _histories(value)
    return found


def _io_refs(spec: Any) -> list[tuple[str, int, int]]:
    """model config 'input_layers'/'output_layers': [name, node, tensor] or nested lists/dicts of them."""
    if isinstance(spec, dict):
        return [r for v in spec.values() for r in _io_refs(v)]
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str) and isinstance(spec[1], int):
        return [(spec[0], spec[1], spec[2])]
    if isinstance(spec, list):
        return [r for v in spec for r in _io_refs(v)]
    return []


def _functional_config(layer_cfg: dict[str, Any]) -> dict[str, Any] | None:
    cfg = layer_cfg.get("config", {})
    if layer_cfg.get("class_name") in NESTED_CLASSES and "layers" in cfg:
        if layer_cfg["class_name"] == "Sequential":
            return None  # Sequential configs list layers without inbound nodes; handled by the caller
        return cfg
    if layer_cfg.get("class_name") == "TimeDistributed":
        inner = cfg.get("layer", {})
        if inner.get("class_name") in NESTED_CLASSES:
            return inner.get("config")
    return None


def structure(config: dict[str, Any], *, expand: bool, prefix: str = "") -> tuple[
        set[str], set[tuple[str, str]], list[tuple[str, int]], list[tuple[str, int]]]:
    """(nodes, edges, inputs, outputs) of a functional config; keys as fapi_lab makes them."""
    nodes: set[str] = set()
    edges: set[tuple[str, str]] = set()
    # for expanded nested calls: where input i of call `key` really goes, where output j comes from
    entry: dict[tuple[str, int], list[str]] = {}
    exit_: dict[tuple[str, int], str] = {}
    pending: list[tuple[str, str, int, int]] = []  # (src_key, dst_key, src_tensor_index, dst_input_index)
    for layer in config["layers"]:
        name = layer["name"]
        calls = layer.get("inbound_nodes") or []
        inner_cfg = _functional_config(layer) if expand else None
        if not calls:
            nodes.add(prefix + name)
        for k, call in enumerate(calls):
            key = prefix + _key(name, k)
            if inner_cfg is not None:
                i_nodes, i_edges, i_inputs, i_outputs = structure(inner_cfg, expand=True, prefix=key + "/")
                inner_input_keys = {ik for ik, _ in i_inputs}
                nodes |= i_nodes - inner_input_keys
                edges |= {(a, b) for a, b in i_edges if a not in inner_input_keys}
                for i, (ik, _) in enumerate(i_inputs):
                    entry[(key, i)] = [b for a, b in i_edges if a == ik]
                for j, (ok, _) in enumerate(i_outputs):
                    exit_[(key, j)] = ok
            else:
                nodes.add(key)
            for i, (src, src_node, src_tensor) in enumerate(_histories(call)):
                pending.append((prefix + _key(src, src_node), key, src_tensor, i))
    for src, dst, ti, i in pending:
        real_src = exit_.get((src, ti), src)
        for real_dst in entry.get((dst, i), [dst]):
            edges.add((real_src, real_dst))
    # Keras quirk: in input_layers/output_layers (not in inbound nodes) a reference to a nested Functional
    # model counts one "pre-existing node" before its calls, so its indices are one too high there.
    functional = {layer["name"] for layer in config["layers"] if layer.get("class_name") == "Functional"}

    def io_key(name: str, node_index: int) -> str:
        return prefix + _key(name, node_index - (name in functional))

    inputs = [(io_key(n, ni), ti) for n, ni, ti in _io_refs(config["input_layers"])]
    outputs = [(exit_.get((io_key(n, ni), ti), io_key(n, ni)), ti)
               for n, ni, ti in _io_refs(config["output_layers"])]
    return nodes, edges, inputs, outputs
