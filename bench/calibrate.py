"""Fit the ring-score calibration (``rings.calibration`` in ``graphfraud/detectors.yaml``).

    python bench/calibrate.py            # fit on the development runs, print the knots
    python bench/calibrate.py --write    # ... and write them into detectors.yaml

A ring's raw score combines its detectors' strengths; it orders rings well but does not say
how often a ring of that score is real. The calibration maps it to the share of rings of that
raw score that are correct (bench/evaluate.py's matching), fitted on synthetic runs with
**development seeds only** (21-30, never the evaluation's): rings pooled, binned by raw score,
each bin's share smoothed with one correct and one wrong pseudo-ring (Laplace), made
non-decreasing by pool-adjacent-violators, then nudged to be strictly increasing so the order
of rings never changes. The evaluation then reports how well the calibrated score holds on
held-out seeds.

The share of real rings depends on how many rings the data holds: these knots say what a score
means on data like `graphfraud synth`'s. A bureau with its own confirmed and dismissed cases
should refit the knots on them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: development runs (seed, persons, months, mix, dropped tables)
DEV_RUNS = [
    (21, 20000, 6, None, ()),
    (22, 40000, 6, None, ()),
    (23, 85000, 12, None, ()),
    (24, 30000, 4, "co_visit=4,card_burst=3,drug_resale=3,induced_admission=3", ()),
    (25, 20000, 6, None, ("items", "persons")),
    (26, 60000, 8, "shared_card=3,readmission=3,insider_collusion=2,deceased_claim=3", ()),
    (27, 50000, 12, None, ()),
    (28, 120000, 6, None, ()),
    (29, 30000, 12, "doctor_pharmacy_collusion=3,drug_resale=3,card_burst=3", ()),
    (30, 40000, 6, None, ("persons",)),
]
EDGES = (0.0, 0.3, 0.5, 0.65, 0.8, 0.9, 0.95, 0.98, 1.0001)


def fit(pooled: list[tuple[float, bool]]) -> list[list[float]]:
    """Knots ``[raw, calibrated]`` from (raw score, correct) pairs."""
    bins = []
    for lo, hi in zip(EDGES, EDGES[1:]):
        band = [(s, hit) for s, hit in pooled if lo <= s < hi]
        if band:
            x = sum(s for s, _ in band) / len(band)
            bins.append([x, (sum(h for _, h in band) + 1) / (len(band) + 2), len(band)])
    # pool adjacent violators (weighted by the number of rings)
    blocks: list[list[float]] = []
    for x, y, n in bins:
        blocks.append([x, y, n, 1])
        while len(blocks) > 1 and blocks[-2][1] > blocks[-1][1]:
            (x0, y0, n0, k0), (x1, y1, n1, k1) = blocks[-2], blocks[-1]
            blocks[-2:] = [[(x0 * n0 + x1 * n1) / (n0 + n1), (y0 * n0 + y1 * n1) / (n0 + n1),
                            n0 + n1, k0 + k1]]
    knots = [[round(x, 4), round(y, 4)] for x, y, _, _ in blocks]
    for i in range(1, len(knots)):  # strictly increasing: the order of rings never changes
        knots[i][1] = round(max(knots[i][1], knots[i - 1][1] + 0.005), 4)
    return knots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "calibrate")
    parser.add_argument("--write", action="store_true", help="write the knots into detectors.yaml")
    args = parser.parse_args()
    from evaluate import persons_of, run

    args.workdir.mkdir(parents=True, exist_ok=True)
    pooled: list[tuple[float, bool]] = []
    for seed, persons, months, mix, drop in DEV_RUNS:
        r = run(seed, persons, months, mix, args.workdir, drop=drop)
        truth = json.loads((args.workdir / f"in-{r['tag']}" / "truth.json").read_text(encoding="utf-8"))
        rings = json.loads((args.workdir / f"out-{r['tag']}" / "rings.json")
                           .read_text(encoding="utf-8"))["rings"]
        planted = [persons_of(t["members"]) for t in truth["rings"]]
        for ring in rings:
            ps = persons_of(ring["members"])
            pooled.append((ring["score_raw"], bool(ps) and any(2 * len(ps & p) >= len(ps)
                                                               for p in planted)))
        print(f"{r['tag']}: {len(rings)} rings, precision {r['all']['precision']:.2f}")
    knots = fit(pooled)
    print(f"{len(pooled)} rings, {sum(h for _, h in pooled)} correct")
    print("calibration:", json.dumps(knots))
    if args.write:
        path = ROOT / "graphfraud" / "detectors.yaml"
        text = path.read_text(encoding="utf-8")
        new, n = re.subn(r"^  calibration: .*$", f"  calibration: {json.dumps(knots)}", text,
                         flags=re.M)
        if n != 1:
            sys.exit("detectors.yaml: no 'rings.calibration' line to replace")
        path.write_text(new, encoding="utf-8")
        print(f"written to {path}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    main()
