"""Explicit id maps: external ids ⇄ dense integers, one table, kept and reversed at the end.

A missing id never becomes a value: ``None``, ``""`` and NaN are refused, so no claim with an
empty card id can become a node that joins every such claim into one fake ring (the trap of
building graphs from data frames whose nulls turn into the string "NA").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["IdMap"]


class IdMap:
    """Dense integer ids for ``(kind, id)`` keys, assigned in sorted order (deterministic).

    Examples
    --------
    >>> m = IdMap([("person", "P2"), ("card", "C1"), ("person", "P1"), ("person", "P2")])
    >>> len(m), m.index(("person", "P1")), m.key(0)
    (3, 1, ('card', 'C1'))
    >>> IdMap([("person", None)])
    Traceback (most recent call last):
    ...
    ValueError: missing id for kind 'person': a missing id never becomes a node
    """

    def __init__(self, keys: Iterable[tuple[str, str]]) -> None:
        unique = set()
        for kind, ident in keys:
            if ident is None or ident != ident or (isinstance(ident, str) and not ident.strip()):
                raise ValueError(f"missing id for kind {kind!r}: a missing id never becomes a node")
            unique.add((kind, ident))
        self._keys: list[tuple[str, str]] = sorted(unique)
        self._index = {k: i for i, k in enumerate(self._keys)}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def index(self, key: tuple[str, str]) -> int:
        """The dense id of ``key``."""
        return self._index[key]

    def indices(self, keys: Sequence[tuple[str, str]]) -> list[int]:
        return [self._index[k] for k in keys]

    def key(self, i: int) -> tuple[str, str]:
        """The ``(kind, id)`` of dense id ``i``."""
        return self._keys[i]

    @property
    def keys(self) -> list[tuple[str, str]]:
        return list(self._keys)
