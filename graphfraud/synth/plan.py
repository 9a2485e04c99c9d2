"""The planted part of the data: ring and look-alike claims, made before the first month.

A :class:`Plan` hands out persons and providers (each to at most one ring or look-alike
group, so that the answer key stays clean), keeps the planted claims and the records that
become ``truth.json``. Planted claims are merged into the background month by month and get
their ids there, in time order with everybody else's: nothing in an id tells them apart.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from graphfraud.synth.batch import Batch
from graphfraud.synth.world import NO_DEATH, World


@dataclass
class Record:
    """One ring or look-alike group of the answer key."""

    index: int
    name: str  # ring: first pattern; look-alike: kind
    patterns: list[str]
    members: dict[tuple[str, int], str] = field(default_factory=dict)  # (kind, index) -> role
    info: dict = field(default_factory=dict)

    def describe(self, text: str) -> None:
        """Add a sentence to the record's description."""
        old = self.info.get("description")
        self.info["description"] = text if not old else f"{old}; {text}"

    def add(self, kind: str, idx, role: str = "member") -> None:
        """Add members (a single index or an array of them) of one kind."""
        for i in np.atleast_1d(np.asarray(idx, np.int64)):
            key = (kind, int(i))
            if key not in self.members or role != "member":
                self.members[key] = role


def stream(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent random stream for a named part of the generator."""
    ints = [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng([seed, *ints])


class Plan:
    """Collects planted claims and answer-key records."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.batches: list[Batch] = []
        self.n_planted = 0
        self.rings: list[Record] = []
        self.looks: list[Record] = []
        # persons who die in the period take no part in groups (except on purpose)
        self.used = w.p["death"] < NO_DEATH
        self.used_prov = np.zeros(len(w.prov_code), bool)
        self.next_pack = 0

    # --- records ------------------------------------------------------------------------
    def ring(self, patterns: list[str], strength: float) -> Record:
        """Open a new ring record."""
        r = Record(len(self.rings), patterns[0], list(patterns),
                   info={"strength": round(float(strength), 3)})
        self.rings.append(r)
        return r

    def look(self, kind: str) -> Record:
        """Open a new look-alike group record."""
        r = Record(len(self.looks), kind, [kind])
        self.looks.append(r)
        return r

    # --- claims -------------------------------------------------------------------------
    def add(self, b: Batch) -> np.ndarray:
        """Keep planted claims that settle inside the period; return their planted ids."""
        day = b.c["settled"] // 86400
        inside = (day >= self.w.day0) & (day < self.w.day1)
        if not inside.all():
            b = b.take(np.flatnonzero(inside))
        b.c["pid"] = self.n_planted + np.arange(b.n)
        self.n_planted += b.n
        self.batches.append(b)
        return b.c["pid"]

    def packs(self, n: int) -> np.ndarray:
        """Ids of ``n`` new drug packs (their traceability codes are fixed now)."""
        out = self.next_pack + np.arange(n)
        self.next_pack += n
        return out

    # --- picking ------------------------------------------------------------------------
    def persons(self, rng: np.random.Generator, n: int, where: np.ndarray | None = None,
                weight: np.ndarray | None = None, take: bool = True) -> np.ndarray:
        """Up to ``n`` unused persons (where ``where``), drawn with ``weight`` (default: their
        visit rate: the recruited are usually regular patients), marked used."""
        ok = ~self.used if where is None else (~self.used & where)
        cand = np.flatnonzero(ok)
        if len(cand) == 0 or n <= 0:
            return np.zeros(0, np.int64)
        wt = (self.w.p["rate"].sum(axis=1) if weight is None else weight)[cand] + 1e-9
        k = min(n, len(cand))
        key = np.log(rng.random(len(cand))) / wt
        pick = np.sort(cand[np.argpartition(-key, k - 1)[:k]])
        if take:
            self.used[pick] = True
        return pick

    def provider(self, rng: np.random.Generator, where: np.ndarray,
                 weight: np.ndarray | None = None, fallback: np.ndarray | None = None) -> int:
        """One unused provider where ``where`` (a used one if all are; one of ``fallback``
        if none is ``where``), marked used."""
        if not where.any() and fallback is not None:
            where = fallback
        cand = np.flatnonzero(where & ~self.used_prov)
        if len(cand) == 0:
            cand = np.flatnonzero(where)
        wt = np.ones(len(cand)) if weight is None else weight[cand]
        p = int(cand[rng.choice(len(cand), p=wt / wt.sum())])
        self.used_prov[p] = True
        return p

    def near(self, provider: int, scope: str = "town") -> np.ndarray:
        """Mask of persons living in the provider's town (or district)."""
        w = self.w
        if scope == "town" and w.prov["town"][provider] >= 0:
            return w.p["town"] == w.prov["town"][provider]
        return w.p["dist"] == w.prov["dist"][provider]

    def patients_of(self, provider: int) -> np.ndarray:
        """Mask of persons who have the provider among their usual ones."""
        return (self.w.p["slots"] == provider).any(axis=1)
