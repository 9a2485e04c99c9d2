"""FRAUDAR: camouflage-resistant dense blocks in a bipartite graph by greedy peeling.

Hooi, Song, Beutel, Shah, Shin, Faloutsos, "FRAUDAR: Bounding Graph Fraud in the Face of
Camouflage", KDD 2016. Rows (persons) and columns (providers, provider-days) form a bipartite
graph. The suspiciousness of a node set ``S`` is the total weight of the edges inside it,
``f(S)``, and its density is ``g(S) = f(S) / |S|`` (``|S|`` counts rows and columns). Each edge
weighs its own weight times the column weight ``1 / log(d_j + c)``, ``d_j`` the number of rows of
column ``j``: a popular column (a big hospital's day) adds little, so fraudsters cannot hide by
adding edges to popular columns (camouflage), and honest crowds do not look dense.

The greedy peel removes, one at a time, the node whose removal reduces ``f`` least (its
weighted degree in what is left) and keeps the set with the best ``g`` seen; a heap with lazy
updates makes it ``O(|E| log |V|)``. Ties go to the lower index (rows before columns, each in
sorted id order), so the result is deterministic. The paper proves ``g`` of the result is at
least half the optimum.

Examples
--------
>>> rows = ["a", "a", "b", "b", "c", "c", "d"]
>>> cols = ["x", "y", "x", "y", "x", "y", "z"]
>>> block = fraudar(rows, cols, log_c=None)
>>> block.rows, block.cols, round(block.density, 3)
(['a', 'b', 'c'], ['x', 'y'], 1.2)
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from graphfraud.errors import check_argument

__all__ = ["Block", "fraudar", "fraudar_blocks", "graph_density", "peel"]

#: edge weights are rounded to multiples of 2**-_BITS, so that every sum of them is exact in
#: floating point: priorities lowered edge by edge equal priorities summed afresh, and ties
#: (broken by index) come out the same whatever the order of the additions
_BITS = 24


class Block(NamedTuple):
    """A dense block: its row ids, column ids (sorted) and density ``f(S) / |S|``."""

    rows: list[Any]
    cols: list[Any]
    density: float


def _edges(rows: Sequence[Any] | np.ndarray, cols: Sequence[Any] | np.ndarray,
           weights: Sequence[float] | np.ndarray | None, log_c: float | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Explicit id maps and the weighted distinct edges: (row ids, col ids, r, c, w)."""
    r_lab, c_lab = np.asarray(rows), np.asarray(cols)
    check_argument(r_lab.ndim == 1 and r_lab.shape == c_lab.shape,
                   "rows and cols must be sequences of the same length")
    w = np.ones(len(r_lab)) if weights is None else np.asarray(weights, dtype=float)
    check_argument(w.shape == r_lab.shape, "weights must have one value per edge")
    check_argument(bool(np.all(np.isfinite(w))) and bool(np.all(w >= 0)),
                   "weights must be finite and non-negative")
    check_argument(log_c is None or log_c > 0, "log_c must be positive (or None: no column weights)")
    if len(r_lab) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return r_lab, c_lab, empty, empty, np.zeros(0)
    check_argument(not any(x is None for x in r_lab.tolist() + c_lab.tolist()),
                   "row and column ids must not be missing (None)")
    r_ids, r = np.unique(r_lab, return_inverse=True)
    c_ids, c = np.unique(c_lab, return_inverse=True)
    # duplicate edges are one edge: with weights None it counts once, else weights add up
    key = r.astype(np.int64) * len(c_ids) + c
    ukey, inv = np.unique(key, return_inverse=True)
    ew = np.bincount(inv, weights=w) if weights is not None else np.ones(len(ukey))
    er, ec = ukey // len(c_ids), ukey % len(c_ids)
    if log_c is not None:
        deg = np.bincount(ec, minlength=len(c_ids))
        ew = ew / np.log(deg[ec] + log_c)
    return r_ids, c_ids, er, ec, ew


def peel(n_rows: int, n_cols: int, er: np.ndarray, ec: np.ndarray, ew: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, float]:
    """Greedy peeling on integer-coded edges; the best block's row and column indices.

    Parameters
    ----------
    n_rows, n_cols : int
        Node counts; rows are ``0..n_rows-1``, columns ``0..n_cols-1``.
    er, ec, ew : numpy.ndarray
        Distinct edges (row index, column index) and their weights.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, float)
        Row indices, column indices of the densest set met, and its density.
    """
    n = n_rows + n_cols
    ew = np.round(np.asarray(ew, dtype=float) * 2.0 ** _BITS) / 2.0 ** _BITS
    u, v = er.astype(np.int64), ec.astype(np.int64) + n_rows
    prio = (np.bincount(u, weights=ew, minlength=n) + np.bincount(v, weights=ew, minlength=n))
    present = (np.bincount(u, minlength=n) + np.bincount(v, minlength=n)) > 0
    # adjacency in CSR form, as Python lists (the loop below is the hot path)
    ends = np.concatenate([u, v])
    other = np.concatenate([v, u])
    wts = np.concatenate([ew, ew])
    order = np.argsort(ends, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=n))]).tolist()
    nbr, nw = other[order].tolist(), wts[order].tolist()
    p = prio.tolist()
    f = float(ew.sum())
    size = int(present.sum())
    if size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0.0
    heap = [(p[i], i) for i in range(n) if present[i]]
    heapq.heapify(heap)
    removed = bytearray(n)
    peeled: list[int] = []
    best, best_at = f / size, 0
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        key, i = pop(heap)
        if removed[i] or key != p[i]:
            continue  # a stale entry: the node went, or its priority fell since
        removed[i] = 1
        peeled.append(i)
        f -= key
        size -= 1
        for k in range(start[i], start[i + 1]):
            j = nbr[k]
            if not removed[j]:
                pj = p[j] - nw[k]
                p[j] = pj
                push(heap, (pj, j))
        if size > 0 and f / size > best:
            best, best_at = f / size, len(peeled)
    keep = present.copy()
    keep[np.asarray(peeled[:best_at], dtype=np.int64)] = False
    idx = np.flatnonzero(keep)
    return idx[idx < n_rows], idx[idx >= n_rows] - n_rows, float(best)


def fraudar(rows: Sequence[Any] | np.ndarray, cols: Sequence[Any] | np.ndarray,
            weights: Sequence[float] | np.ndarray | None = None, *,
            log_c: float | None = 5.0) -> Block:
    """The densest block found by FRAUDAR's greedy peeling.

    Parameters
    ----------
    rows, cols : sequence
        One entry per edge: its row id and column id (any sortable ids; none missing).
        A repeated (row, column) pair is one edge.
    weights : sequence of float, optional
        Edge weights (repeated pairs add up); ``None``: every edge weighs 1.
    log_c : float or None
        Column weights ``1 / log(d_j + log_c)``; ``None`` uses the edge weights as they are.
        Weights are then rounded to multiples of ``2**-24`` (so that every sum is exact).

    Returns
    -------
    Block
        ``(rows, cols, density)``: the ids of the block and ``f(S) / |S|``.

    Examples
    --------
    >>> fraudar([1, 1, 2, 2, 3], ["p", "q", "p", "q", "r"], log_c=None)
    Block(rows=[1, 2], cols=['p', 'q'], density=1.0)
    """
    r_ids, c_ids, er, ec, ew = _edges(rows, cols, weights, log_c)
    ri, ci, g = peel(len(r_ids), len(c_ids), er, ec, ew)
    return Block(r_ids[ri].tolist(), c_ids[ci].tolist(), g)


def fraudar_blocks(rows: Sequence[Any] | np.ndarray, cols: Sequence[Any] | np.ndarray,
                   weights: Sequence[float] | np.ndarray | None = None, *, k: int = 5,
                   log_c: float | None = 5.0) -> list[Block]:
    """Up to ``k`` blocks, one after the other: each found block's edges are removed and the
    rest is peeled again (column weights stay those of the whole graph).

    Examples
    --------
    >>> rows = ["a", "a", "b", "b", "c", "c", "d", "e"]
    >>> cols = ["x", "y", "x", "y", "z", "w", "z", "w"]
    >>> [(b.rows, b.cols) for b in fraudar_blocks(rows, cols, k=2, log_c=None)]
    [(['a', 'b'], ['x', 'y']), (['c', 'd', 'e'], ['w', 'z'])]
    """
    check_argument(isinstance(k, int) and k >= 1, "k must be a positive integer")
    r_ids, c_ids, er, ec, ew = _edges(rows, cols, weights, log_c)
    out: list[Block] = []
    alive = np.ones(len(er), dtype=bool)
    for _ in range(k):
        if not alive.any():
            break
        ri, ci, g = peel(len(r_ids), len(c_ids), er[alive], ec[alive], ew[alive])
        if len(ri) == 0 or g <= 0:
            break
        out.append(Block(r_ids[ri].tolist(), c_ids[ci].tolist(), g))
        inside = np.isin(er, ri) & np.isin(ec, ci)
        alive &= ~inside
    return out


def graph_density(rows: Sequence[Any] | np.ndarray, cols: Sequence[Any] | np.ndarray,
                  weights: Sequence[float] | np.ndarray | None = None, *,
                  log_c: float | None = 5.0) -> float:
    """``g(V) = f(V) / |V|`` of the whole graph, with the same weighting as :func:`fraudar`.

    Examples
    --------
    >>> graph_density(["a", "a", "b"], ["x", "y", "x"], log_c=None)
    0.75
    """
    r_ids, c_ids, _, _, ew = _edges(rows, cols, weights, log_c)
    n = len(r_ids) + len(c_ids)
    return float(ew.sum() / n) if n else 0.0
