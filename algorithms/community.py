"""Seeded, deterministic community detection and the small graph measures rings need.

igraph does the work (leidenalg for Leiden); networkx is the slow, obvious oracle in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import igraph as ig

from graphfraud.errors import check_argument

__all__ = ["leiden", "articulation_points", "personalized_pagerank", "connected_components"]


def leiden(n: int, edges: Sequence[tuple[int, int]], weights: Sequence[float] | None = None, *,
           resolution: float = 1.0, seed: int = 0, n_iterations: int = -1) -> list[int]:
    """Leiden communities (modularity with a resolution) of an undirected weighted graph.

    Returns the community of each node ``0..n-1``, communities numbered by their smallest
    node, so the labels are the same whatever order the algorithm found them in.

    Examples
    --------
    >>> leiden(6, [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)], seed=1)
    [0, 0, 0, 3, 3, 3]
    """
    import leidenalg

    check_argument(resolution > 0, "resolution must be positive")
    if n == 0:
        return []
    g = ig.Graph(n=n, edges=list(edges), directed=False)
    w = list(weights) if weights is not None else [1.0] * len(edges)
    partition = leidenalg.find_partition(
        g, leidenalg.RBConfigurationVertexPartition, weights=w if edges else None,
        resolution_parameter=resolution, seed=seed, n_iterations=n_iterations)
    return _by_first_node(list(partition.membership))


def _by_first_node(membership: Sequence[int]) -> list[int]:
    """Relabel communities by their smallest node, whatever order they were found in."""
    first: dict[int, int] = {}
    for node, c in enumerate(membership):
        first.setdefault(c, node)
    return [first[c] for c in membership]


def connected_components(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Component of each node, labelled by its smallest node."""
    g = ig.Graph(n=n, edges=list(edges), directed=False)
    return _by_first_node(g.connected_components().membership)


def articulation_points(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Nodes whose removal disconnects their component, sorted."""
    g = ig.Graph(n=n, edges=list(edges), directed=False)
    return sorted(g.articulation_points())


def personalized_pagerank(n: int, edges: Sequence[tuple[int, int]],
                          weights: Sequence[float] | None = None, *, sources: Sequence[int],
                          damping: float = 0.85) -> list[float]:
    """Personalized PageRank restarting at ``sources`` (uniformly), undirected graph."""
    check_argument(0 < damping < 1, "damping must be between 0 and 1")
    if n == 0:
        return []
    if not sources:
        return [0.0] * n
    g = ig.Graph(n=n, edges=list(edges), directed=False)
    return list(g.personalized_pagerank(
        damping=damping, reset_vertices=sorted(set(sources)),
        weights=list(weights) if weights is not None and edges else None))
