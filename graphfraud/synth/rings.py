"""Which rings to plant: how many of each pattern, their strengths and combinations.

``insider_collusion`` never stands alone: its rings pair an out-of-region reviewer with a
host scheme. Other rings sometimes combine two schemes (co_visit + induced_admission: a
broker's recruits also admitted in waves; card_burst + deceased_claim: the swiped cards
include those of the dead).
"""

from __future__ import annotations

import numpy as np

from graphfraud.synth.config import PATTERNS, SynthConfig
from graphfraud.synth.patterns import PLANTERS
from graphfraud.synth.plan import Plan, stream

#: relative frequency of each pattern when the number of rings scales with the population
WEIGHTS = {"card_burst": 3, "co_visit": 3, "induced_admission": 2, "drug_resale": 2,
           "shared_card": 2, "deceased_claim": 2, "readmission": 2,
           "doctor_pharmacy_collusion": 2, "insider_collusion": 2}
INSIDER_HOSTS = ("card_burst", "induced_admission", "readmission", "deceased_claim", "co_visit")
COMBOS = {"co_visit": ("induced_admission", 0.3), "card_burst": ("deceased_claim", 0.2)}


def ring_counts(cfg: SynthConfig) -> dict[str, int]:
    """Rings per headline pattern."""
    if cfg.mix is not None:
        return {k: int(cfg.mix.get(k, 0)) for k in PATTERNS}
    total = cfg.rings if cfg.rings is not None else max(len(PATTERNS) + 1, round(cfg.persons / 2500))
    counts = {k: 0 for k in PATTERNS}
    by_weight = sorted(PATTERNS, key=lambda k: (-WEIGHTS[k], PATTERNS.index(k)))
    for k in by_weight[:total]:
        counts[k] = 1
    rest = total - sum(counts.values())
    if rest > 0:
        wsum = sum(WEIGHTS.values())
        share = {k: rest * WEIGHTS[k] / wsum for k in PATTERNS}
        for k in PATTERNS:
            counts[k] += int(share[k])
        left = rest - sum(int(v) for v in share.values())
        for k in sorted(PATTERNS, key=lambda k: -(share[k] - int(share[k])))[:left]:
            counts[k] += 1
    return counts


def plant_rings(p: Plan, cfg: SynthConfig) -> None:
    """Plant every ring; strengths are spread evenly over (0.1, 1] and shuffled."""
    rng = stream(cfg.seed, "rings")
    counts = ring_counts(cfg)
    plans: list[list[str]] = []
    for pat in PATTERNS:
        for _ in range(counts[pat]):
            if pat == "insider_collusion":
                plans.append([str(rng.choice(INSIDER_HOSTS)), pat])
            elif pat in COMBOS and rng.random() < COMBOS[pat][1]:
                plans.append([pat, COMBOS[pat][0]])
            else:
                plans.append([pat])
    n = len(plans)
    strength = 0.1 + 0.9 * (np.arange(n) + rng.random(n)) / max(n, 1)
    strength = rng.permutation(strength)
    for i, pats in enumerate(plans):
        rec = p.ring(pats, strength[i])
        ctx: dict = {}
        for j, pat in enumerate(pats):
            PLANTERS[pat](p, stream(cfg.seed, "ring", i, j), rec, float(strength[i]), ctx)
