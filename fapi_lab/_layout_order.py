"""The arithmetic of the built-in layout (``_render_layout``): ranks, the order inside each rank, positions.

Items are numbered: the boxes first, then the bend points of long edges. ``up[i]`` and ``down[i]`` list the
neighbours of item ``i`` in the ranks above and below, with a weight each (how hard that link pulls).

1. **ranks**: longest path from the inputs, over a topological order (nodes on a cycle, if any, come last);
2. **order inside each rank**: sweeps of weighted barycentres with adjacent swaps ("transpose"), keeping the
   order with the fewest crossings; the items of one expanded nested model stay next to each other;
3. **positions**: each rank in turn placed as close as possible to the neighbours of its items (a least-squares
   fit under "no overlap" constraints, solved exactly by pool-adjacent-violators).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

__all__ = ["frames_around", "order", "place", "ranks"]

_L1_LIMIT = 150  # ranks up to this many items are placed by weighted medians, longer ones by means


# -- 1. ranks -------------------------------------------------------------------------------------------------
def ranks(n: int, links: Sequence[tuple[int, int]], inputs: set[int]) -> list[int]:
    """Longest path from the sources, over a topological order (nodes on a cycle, if any, come last)."""
    succ: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for s, d in links:
        succ[s].append(d)
        indegree[d] += 1
    heap = [i for i in range(n) if indegree[i] == 0]
    heapq.heapify(heap)
    order: list[int] = []
    remaining = indegree[:]
    while heap:
        i = heapq.heappop(heap)
        order.append(i)
        for d in succ[i]:
            remaining[d] -= 1
            if remaining[d] == 0:
                heapq.heappush(heap, d)
    done = set(order)
    order += [i for i in range(n) if i not in done]
    position = {i: k for k, i in enumerate(order)}
    rank = [0] * n
    for i in order:
        for d in succ[i]:
            if position[d] > position[i] and rank[d] < rank[i] + 1:
                rank[d] = rank[i] + 1
    # a source that is not a model input (a constant, say) sits just above its first consumer
    for i in reversed(order):
        if indegree[i] == 0 and i not in inputs and succ[i]:
            rank[i] = max(rank[i], min(rank[d] for d in succ[i]) - 1)
    return rank


# -- 2. order inside ranks ------------------------------------------------------------------------------------
def _crossings(layers: list[list[int]], down: list[list[tuple[int, float]]], pos: list[int],
               rank_of: list[int]) -> int:
    """Edge crossings between every pair of adjacent ranks (counting inversions with a Fenwick tree).

    Only links between adjacent ranks count: a long edge left unrouted (past the bend-point budget) joins ranks
    further apart and is drawn straight over the others."""
    total = 0
    for r in range(len(layers) - 1):
        size = len(layers[r + 1])
        if size < 2:
            continue
        tree = [0] * (size + 1)
        seen = 0
        for u in layers[r]:
            for p in sorted(pos[v] for v, _ in down[u] if rank_of[v] == r + 1):
                # edges seen so far that end right of p cross this one
                i, below = p + 1, 0
                while i > 0:
                    below += tree[i]
                    i -= i & -i
                total += seen - below
                i = p + 1
                while i <= size:
                    tree[i] += 1
                    i += i & -i
                seen += 1
    return total


def _sort_rank(rank: list[int], bary: dict[int, float], paths: list[tuple[str, ...]],
               path_ids: dict[tuple[str, ...], int]) -> list[int]:
    """Sort by barycentre, keeping the members of each nested model together (at every nesting level)."""
    if not any(paths[i] for i in rank):
        return sorted(rank, key=bary.__getitem__)
    sums: dict[tuple[str, ...], list[float]] = {}
    for i in rank:
        p = paths[i]
        for k in range(1, len(p) + 1):
            acc = sums.setdefault(p[:k], [0.0, 0])
            acc[0] += bary[i]
            acc[1] += 1

    def key(i: int) -> tuple[float, ...]:
        p = paths[i]
        parts: list[float] = []
        for k in range(1, len(p) + 1):
            s, c = sums[p[:k]]
            parts += [s / c, path_ids[p[:k]]]
        return (*parts, bary[i], -1)

    return sorted(rank, key=key)


def _transpose(layers: list[list[int]], up: list[list[tuple[int, float]]], down: list[list[tuple[int, float]]],
               pos: list[int], paths: list[tuple[str, ...]], max_passes: int = 4) -> None:
    """Swap neighbours in a rank while that removes crossings with the ranks above and below."""

    def cost(u: int, v: int) -> int:  # crossings among edges of u and v when u is left of v
        c = 0
        for nb in (up, down):
            pv = [pos[b] for b, _ in nb[v]]
            if pv:
                for a, _ in nb[u]:
                    pa = pos[a]
                    c += sum(1 for q in pv if q < pa)
        return c

    dirty = set(range(len(layers)))
    for _ in range(max_passes):
        changed: set[int] = set()
        for r in sorted(dirty):
            rank = layers[r]
            for k in range(len(rank) - 1):
                u, v = rank[k], rank[k + 1]
                if paths[u] != paths[v] or not (up[u] or down[u]) or not (up[v] or down[v]):
                    continue
                if cost(v, u) < cost(u, v):
                    rank[k], rank[k + 1] = v, u
                    pos[u], pos[v] = k + 1, k
                    changed.add(r)
        if not changed:
            return
        dirty = {q for r in changed for q in (r - 1, r, r + 1) if 0 <= q < len(layers)}


def order(layers: list[list[int]], up: list[list[tuple[int, float]]], down: list[list[tuple[int, float]]],
           paths: list[tuple[str, ...]]) -> list[list[int]]:
    total = sum(len(r) for r in layers)
    path_ids = {p[:k]: 0 for p in set(paths) for k in range(1, len(p) + 1)}
    path_ids = {p: i for i, p in enumerate(sorted(path_ids))}
    pos = [0] * total
    rank_of = [0] * total
    for r, rank in enumerate(layers):
        for k, i in enumerate(rank):
            pos[i] = k
            rank_of[i] = r

    def sweep(seq: Sequence[int], nbrs: list[list[tuple[int, float]]]) -> None:
        for r in seq:
            rank = layers[r]
            bary: dict[int, float] = {}
            for i in rank:
                ns = nbrs[i]
                if ns:
                    w = sum(x for _, x in ns)
                    bary[i] = sum(pos[j] * x for j, x in ns) / w
                else:
                    bary[i] = float(pos[i])
            layers[r] = _sort_rank(rank, bary, paths, path_ids)
            for k, i in enumerate(layers[r]):
                pos[i] = k

    n_ranks = len(layers)
    sweep(range(1, n_ranks), up)  # the first ordering: follow the parents
    do_transpose = total <= 3000
    if do_transpose:
        _transpose(layers, up, down, pos, paths)
    best, best_layers = _crossings(layers, down, pos, rank_of), [r[:] for r in layers]
    sweeps = 12 if total <= 600 else 6 if total <= 4000 else 2
    for s in range(sweeps):
        if best == 0:
            break
        if s % 2 == 0:
            sweep(range(n_ranks - 2, -1, -1), down)
        else:
            sweep(range(1, n_ranks), up)
        if do_transpose:
            _transpose(layers, up, down, pos, paths)
        c = _crossings(layers, down, pos, rank_of)
        if c < best:
            best, best_layers = c, [r[:] for r in layers]
    return best_layers


# -- 3. positions ---------------------------------------------------------------------------------------------
def _fit_increasing(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` (pool adjacent violators).

    Closest in weighted absolute distance (each pooled block sits at the weighted median of its targets), so
    when boxes compete for room the lighter ones give way entirely instead of everyone bending a little; for
    very long ranks, in weighted least squares (each block at its weighted mean), which is linear time.
    """
    if len(targets) > _L1_LIMIT:
        return _fit_increasing_mean(targets, weights)
    blocks: list[list[tuple[float, float]]] = []
    values: list[float] = []
    for t, w in zip(targets, weights, strict=True):
        blocks.append([(t, w)])
        values.append(t)
        while len(values) > 1 and values[-2] > values[-1] + 1e-9:
            last = blocks.pop()
            blocks[-1] += last
            values.pop()
            values[-1] = _weighted_median(blocks[-1])
    out: list[float] = []
    for block, v in zip(blocks, values, strict=True):
        out.extend([v] * len(block))
    return out


def _fit_increasing_mean(targets: list[float], weights: list[float]) -> list[float]:
    values: list[float] = []
    wsum: list[float] = []
    counts: list[int] = []
    for t, w in zip(targets, weights, strict=True):
        values.append(t)
        wsum.append(w)
        counts.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            w2, v2, c2 = wsum.pop(), values.pop(), counts.pop()
            w1 = wsum[-1]
            values[-1] = (values[-1] * w1 + v2 * w2) / (w1 + w2)
            wsum[-1] = w1 + w2
            counts[-1] += c2
    out: list[float] = []
    for v, c in zip(values, counts, strict=True):
        out.extend([v] * c)
    return out


def _weighted_median(values: list[tuple[float, float]]) -> float:
    """The weighted median of (value, weight) pairs; halfway between the middle two on a tie."""
    if len(values) == 1:
        return values[0][0]
    values.sort()
    half = sum(w for _, w in values) / 2
    acc = 0.0
    for k, (v, w) in enumerate(values):
        acc += w
        if acc > half + 1e-9:
            return v
        if abs(acc - half) <= 1e-9:
            return (v + values[k + 1][0]) / 2
    return values[-1][0]


def place(rank: list[int], across: list[float], seps: list[float],
           nbr_lists: Sequence[list[list[tuple[int, float]]]]) -> None:
    """Put each item of a rank at the weighted median of its neighbours, as near as the order and no overlap allow.

    The median (not the mean) keeps chains and long edges straight: a box fed by one layer and feeding a
    merge stays under the layer it follows. The least-squares fit under the spacing constraints is exact.
    """
    if not rank:
        return
    targets, weights = [], []
    offset = 0.0
    for k, i in enumerate(rank):
        if k:
            offset += seps[k - 1]
        values = [(across[j], w) for nbrs in nbr_lists for j, w in nbrs[i]]
        if values:
            targets.append(_weighted_median(values) - offset)
            weights.append(sum(w for _, w in values))
        else:
            targets.append(across[i] - offset)
            weights.append(0.05)
    fitted = _fit_increasing(targets, weights)
    offset = 0.0
    for k, i in enumerate(rank):
        if k:
            offset += seps[k - 1]
        across[i] = fitted[k] + offset


# -- frames ---------------------------------------------------------------------------------------------------
def frames_around(paths: Sequence[tuple[str, ...]], across: list[float], centre: list[float], item_rank: list[int],
                  ext: list[float], dep: list[float], tb: bool, title_width: dict[str, float], pad: float,
                  label: float) -> list[tuple[tuple[str, ...], tuple[float, float, float, float]]]:
    """A rectangle (across0, along0, across1, along1) around the boxes (items ``0 .. len(paths) - 1``) of each
    open nested model or block, outer ones first; ``pad`` around the boxes, ``label`` for the title, and wide
    enough for ``title_width[key]``."""
    boxes: dict[tuple[str, ...], list[float]] = {}
    for i, p in enumerate(paths):
        if not p:
            continue
        a, c = across[i], centre[item_rank[i]]
        box = [a - ext[i] / 2, c - dep[i] / 2, a + ext[i] / 2, c + dep[i] / 2]
        cur = boxes.get(p)
        boxes[p] = box if cur is None else [min(cur[0], box[0]), min(cur[1], box[1]), max(cur[2], box[2]),
                                            max(cur[3], box[3])]
    for outer in {p[:k] for p in boxes for k in range(1, len(p))}:
        boxes.setdefault(outer, [])
    out: dict[tuple[str, ...], tuple[float, float, float, float]] = {}
    for p in sorted(boxes, key=len, reverse=True):  # innermost first: an outer frame holds the inner ones
        parts = [b for b in [boxes[p]] if b] + [out[q] for q in out if len(q) == len(p) + 1 and q[:-1] == p]
        a0 = min(b[0] for b in parts) - pad
        l0 = min(b[1] for b in parts) - pad
        a1 = max(b[2] for b in parts) + pad
        l1 = max(b[3] for b in parts) + pad
        if tb:
            l0 -= label
        else:
            a0 -= label
        title = title_width.get(p[-1], 0.0)
        size_x = (a1 - a0) if tb else (l1 - l0)
        if size_x < title:  # widen to fit the title
            if tb:
                a0, a1 = a0 - (title - size_x) / 2, a1 + (title - size_x) / 2
            else:
                l0, l1 = l0 - (title - size_x) / 2, l1 + (title - size_x) / 2
        out[p] = (a0, l0, a1, l1)
    return sorted(out.items(), key=lambda kv: len(kv[0]))
