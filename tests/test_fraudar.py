"""FRAUDAR peeling: the heap implementation agrees with a slow, obvious greedy; a planted block
comes back through camouflage, in random graphs and in the real YelpChi review graph."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from graphfraud.algorithms.fraudar import Block, fraudar, fraudar_blocks, graph_density
from graphfraud.errors import InputError

YELPCHI = Path("/work/shared/datasets/yelpchi/metadata.gz")


def naive_fraudar(rows: list, cols: list, *, log_c: float | None = 5.0) -> Block:
    """The greedy of the paper, as written: at every step recompute every node's weighted
    degree in what is left, from the edge list, and drop the smallest (ties: rows before
    columns, each in sorted id order). O(n * |E|)."""
    r_ids, c_ids = sorted(set(rows)), sorted(set(cols))
    edges = sorted(set(zip(rows, cols)))
    deg = {c: sum(1 for _, cc in edges if cc == c) for c in c_ids}
    # the same rounding of weights as the fast path (it makes every sum exact)
    w = {e: round((1 / math.log(deg[e[1]] + log_c) if log_c else 1.0) * 2**24) / 2**24 for e in edges}
    nodes = [("r", x) for x in r_ids] + [("c", x) for x in c_ids]
    alive = set(nodes)

    def weight_in(node: tuple[str, object]) -> float:
        side, x = node
        return sum(w[e] for e in edges if (e[0] if side == "r" else e[1]) == x
                   and ("r", e[0]) in alive and ("c", e[1]) in alive)

    def f() -> float:
        return sum(w[e] for e in edges if ("r", e[0]) in alive and ("c", e[1]) in alive)

    best, best_set = f() / len(alive), set(alive)
    while len(alive) > 1:
        drop = min((weight_in(n), nodes.index(n)) for n in alive)
        alive.discard(nodes[drop[1]])
        g = f() / len(alive)
        if g > best:
            best, best_set = g, set(alive)
    return Block(sorted(x for s, x in best_set if s == "r"), sorted(x for s, x in best_set if s == "c"),
                 best)


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13, 21, 34])
def test_heap_peeling_matches_the_naive_greedy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_r, n_c, n_e = int(rng.integers(3, 25)), int(rng.integers(3, 20)), int(rng.integers(5, 80))
    rows = [f"u{x}" for x in rng.integers(0, n_r, n_e)]
    cols = [int(x) for x in rng.integers(0, n_c, n_e)]
    for log_c in (5.0, None):
        fast, slow = fraudar(rows, cols, log_c=log_c), naive_fraudar(rows, cols, log_c=log_c)
        assert (fast.rows, fast.cols) == (slow.rows, slow.cols), f"seed {seed}, log_c {log_c}"
        assert fast.density == pytest.approx(slow.density, rel=1e-12), f"seed {seed}"


def _planted(seed: int, *, camouflage: str) -> tuple[list, list, set, set]:
    """Random background (2,000 x 400, 8,000 edges), a 40 x 25 block of density 0.6 whose rows
    each add 10 camouflage edges to random or popular columns."""
    rng = np.random.default_rng(seed)
    rows = [f"u{x}" for x in rng.integers(0, 2000, 8000)]
    cols = [f"p{x}" for x in (rng.zipf(1.6, 8000) % 400)]
    fake_rows = [f"fake{k}" for k in range(40)]
    fake_cols = [f"p{x}" for x in rng.choice(np.arange(200, 400), 25, replace=False)]
    popular = [f"p{x}" for x in range(10)]
    for r in fake_rows:
        for c in fake_cols:
            if rng.random() < 0.6:
                rows.append(r)
                cols.append(c)
        for c in rng.choice(popular if camouflage == "popular" else cols[:8000], 10):
            rows.append(r)
            cols.append(str(c))
    return rows, cols, set(fake_rows), set(fake_cols)


@pytest.mark.parametrize("seed,camouflage", [(4, "random"), (9, "popular")])
def test_planted_block_found_through_camouflage(seed: int, camouflage: str) -> None:
    rows, cols, fake_rows, fake_cols = _planted(seed, camouflage=camouflage)
    block = fraudar(rows, cols)
    got_r, got_c = set(block.rows), set(block.cols)
    assert len(got_r & fake_rows) >= 0.9 * len(fake_rows), f"seed {seed}"
    assert len(got_c & fake_cols) >= 0.9 * len(fake_cols), f"seed {seed}"
    assert len(got_r & fake_rows) >= 0.9 * len(got_r), f"seed {seed}: block holds background rows"
    assert block.density > 3 * graph_density(rows, cols)


def test_successive_blocks_peel_what_the_earlier_ones_left_and_order_does_not_matter() -> None:
    rows, cols, fake_rows, _ = _planted(6, camouflage="random")
    blocks = fraudar_blocks(rows, cols, k=3, log_c=None)
    assert len(blocks) == 3 and set(blocks[0].rows) <= fake_rows
    rest = list(zip(rows, cols))
    for b in blocks:
        assert fraudar([r for r, _ in rest], [c for _, c in rest], log_c=None) == b
        rest = [(r, c) for r, c in rest if not (r in set(b.rows) and c in set(b.cols))]
    assert blocks[0].density >= blocks[1].density >= blocks[2].density
    rng = np.random.default_rng(6)
    order = rng.permutation(len(rows))
    shuffled = fraudar([rows[i] for i in order], [cols[i] for i in order])
    assert shuffled == fraudar(rows, cols)


def test_weights_and_repeated_edges() -> None:
    # a repeated pair is one edge; with weights they add up
    assert fraudar(["a", "a", "b"], ["x", "x", "x"], log_c=None).density == pytest.approx(2 / 3)
    heavy = fraudar(["a", "b", "c", "c"], ["x", "x", "y", "z"], [5, 5, 1, 1], log_c=None)
    assert heavy.rows == ["a", "b"] and heavy.cols == ["x"]
    assert fraudar([], []) == Block([], [], 0.0)


def test_bad_arguments_are_the_projects_errors() -> None:
    with pytest.raises(InputError, match="same length"):
        fraudar(["a"], ["x", "y"])
    with pytest.raises(InputError, match="log_c"):
        fraudar(["a"], ["x"], log_c=0)
    with pytest.raises(InputError, match="non-negative"):
        fraudar(["a"], ["x"], [-1.0])
    with pytest.raises(InputError, match="missing"):
        fraudar(["a", None], ["x", "y"])
    with pytest.raises(InputError, match="positive integer"):
        fraudar_blocks(["a"], ["x"], k=0)


@pytest.mark.skipif(not YELPCHI.exists(), reason="YelpChi graph not present")
def test_yelpchi_injected_block_comes_back() -> None:
    """The real user x product graph of YelpChi (67,395 reviews; nobody planted its background)
    with 200 injected users x 30 products at density 0.3, each injected user adding 10 reviews
    of products drawn by popularity (camouflage), seed 17."""
    users, products = [], []
    with gzip.open(YELPCHI, "rt") as fh:
        for line in fh:
            user, product, *_ = line.split()
            users.append(user)
            products.append(product)
    assert len(users) == 67395
    rng = np.random.default_rng(17)
    catalogue, counts = np.unique(products, return_counts=True)
    fake_rows = [f"fake{k}" for k in range(200)]
    fake_cols = set(rng.choice(catalogue, 30, replace=False).tolist())
    rows, cols = list(users), list(products)
    for r in fake_rows:
        for c in sorted(fake_cols):
            if rng.random() < 0.3:
                rows.append(r)
                cols.append(c)
        for c in rng.choice(catalogue, 10, replace=False, p=counts / counts.sum()):
            rows.append(r)
            cols.append(str(c))
    block = fraudar(rows, cols)
    assert len(set(block.rows) & set(fake_rows)) >= 0.85 * len(fake_rows)
    assert len(set(block.cols) & fake_cols) >= 0.9 * len(fake_cols)
    # the background's own dense core (prolific reviewers of popular places) may come along,
    # but the injected users are the bulk of the block
    assert len(set(block.rows) & set(fake_rows)) >= 0.5 * len(block.rows)
