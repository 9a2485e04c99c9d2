"""Quality of ring detection on synthetic data: ring recall, ring precision, look-alikes flagged.

    python bench/evaluate.py                      # the evaluation runs of EVALUATION.md
    python bench/evaluate.py --seeds 101 --persons 20000 --months 6
    python bench/evaluate.py --record             # write the table into EVALUATION.md

Seeds from 100 up are never used while developing or tuning detectors (tests and tuning use
1-99); the runs below also vary sizes, months and the ring mix. Each evaluation uses seeds
not used by an earlier one (the first used 101-105, the second 111-115, this one 121-125);
the score calibration is fitted on development seeds 21-30 (bench/calibrate.py).

Matching (by persons, the entities every planted ring has):

* a planted ring is **found** when one reported ring holds at least half of its persons;
* a reported ring is **correct** when at least half of its persons belong to one planted ring
  (a planted ring reported as two halves gives two correct rings);
* a look-alike group is **flagged** when one reported ring holds at least half of its persons
  (groups of fewer than two persons, e.g. a single death in hospital, are flagged when their
  person is in any reported ring).

Recall = found / planted; precision = correct / reported; flagged = flagged / look-alike groups.
Each is given for all reported rings and for rings with score >= 0.5.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (seed, persons, months, mix) of the recorded evaluation
RUNS = [
    (121, 25000, 6, None),
    (122, 45000, 9, None),
    (123, 85000, 12, None),
    (124, 35000, 5, "co_visit=4,shared_card=3,readmission=3,insider_collusion=3"),
]
#: the run without the optional tables
BARE = (125, 20000, 6, None)


def persons_of(members: list[dict]) -> set[str]:
    return {m["id"] for m in members if m["kind"] == "person"}


def evaluate(truth: dict, rings: list[dict], min_score: float = 0.0) -> dict:
    reported = [r for r in rings if r["score"] >= min_score]
    rsets = [persons_of(r["members"]) for r in reported]
    planted = [persons_of(t["members"]) for t in truth["rings"]]
    found_by_pattern: Counter[str] = Counter()
    total_by_pattern: Counter[str] = Counter()
    found = 0
    for t, ps in zip(truth["rings"], planted):
        hit = bool(ps) and any(len(ps & rs) * 2 >= len(ps) for rs in rsets)
        found += hit
        for p in t["patterns"]:
            total_by_pattern[p] += 1
            found_by_pattern[p] += hit
    hits = [bool(rs) and any(len(rs & ps) * 2 >= len(rs) for ps in planted) for rs in rsets]
    correct = sum(hits)
    flagged: Counter[str] = Counter()
    looks: Counter[str] = Counter()
    everyone = set().union(*rsets) if rsets else set()
    for g in truth["lookalikes"]:
        ps = persons_of(g["members"])
        if not ps:
            continue
        looks[g["kind"]] += 1
        if len(ps) < 2:
            flagged[g["kind"]] += bool(ps & everyone)
        else:
            flagged[g["kind"]] += any(len(ps & rs) * 2 >= len(ps) for rs in rsets)
    return {
        "planted": len(planted), "found": found, "reported": len(reported), "correct": correct,
        "recall": found / len(planted) if planted else 1.0,
        "precision": correct / len(reported) if reported else 1.0,
        "lookalikes": sum(looks.values()), "flagged": sum(flagged.values()),
        "flagged_rate": sum(flagged.values()) / max(sum(looks.values()), 1),
        "by_pattern": {p: f"{found_by_pattern[p]}/{n}" for p, n in sorted(total_by_pattern.items())},
        "scores": [[r["score"], hit] for r, hit in zip(reported, hits)],
        "flagged_by_kind": {k: f"{flagged[k]}/{n}" for k, n in sorted(looks.items())},
    }


def run(seed: int, persons: int, months: int, mix: str | None, workdir: Path,
        drop: tuple[str, ...] = ()) -> dict:
    from graphfraud.analysis import analyze
    from graphfraud.synth import SynthConfig, generate

    tag = f"s{seed}-{persons}x{months}" + ("-no-" + "-".join(drop) if drop else "")
    src = workdir / f"in-{tag}"
    if not (src / "truth.json").exists():
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        parsed = dict((k, int(v)) for k, v in (p.split("=") for p in mix.split(","))) if mix else None
        generate(src, SynthConfig(persons=persons, months=months, seed=seed, mix=parsed,
                                  items="items" not in drop, persons_table="persons" not in drop))
    t0 = time.perf_counter()
    result = analyze(src, workdir / f"out-{tag}", seed=0, force=True)
    seconds = time.perf_counter() - t0
    truth = json.loads((src / "truth.json").read_text(encoding="utf-8"))
    rings = json.loads((workdir / f"out-{tag}" / "rings.json").read_text(encoding="utf-8"))["rings"]
    return {"tag": tag, "seed": seed, "persons": persons, "months": months, "mix": mix or "default",
            "claims": result.load.tables["claims"].accepted, "seconds": round(seconds, 1),
            "skipped": [s["detector"] for s in result.detectors.get("skipped", [])],
            "all": evaluate(truth, rings), "scored": evaluate(truth, rings, 0.5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*")
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "eval")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    plan = ([(s, args.persons, args.months, None) for s in args.seeds] if args.seeds else RUNS)
    results = [run(*p, args.workdir) for p in plan]
    if not args.seeds:
        results.append(run(*BARE, args.workdir, drop=("items", "persons")))
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
    if args.record:
        write_markdown(results)


def _base_brier(hits: list[bool]) -> float:
    p = sum(hits) / len(hits)
    return sum((p - h) ** 2 for h in hits) / len(hits)


def write_markdown(results: list[dict]) -> None:
    lines = ["| run | claims | recall | precision | look-alikes flagged | recall (score ≥ 0.5) | "
             "precision (score ≥ 0.5) | flagged (score ≥ 0.5) | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        a, s = r["all"], r["scored"]
        lines.append(f"| {r['tag']} ({r['mix']}) | {r['claims']:,} | {a['found']}/{a['planted']} = "
                     f"{a['recall']:.2f} | {a['correct']}/{a['reported']} = {a['precision']:.2f} | "
                     f"{a['flagged']}/{a['lookalikes']} = {a['flagged_rate']:.3f} | {s['recall']:.2f} | "
                     f"{s['precision']:.2f} | {s['flagged_rate']:.3f} | {r['seconds']} |")
    detail = ["", "Per pattern (found/planted) and per look-alike kind (flagged/groups), all rings:", ""]
    for r in results:
        detail.append(f"- {r['tag']}: {r['all']['by_pattern']}; look-alikes {r['all']['flagged_by_kind']}"
                      + (f"; detectors skipped: {', '.join(r['skipped'])}" if r["skipped"] else ""))
    detail += ["", "Reliability of the (calibrated) ring score, all runs pooled: by score band, the "
               "mean score and the share of reported rings that are correct; a calibrated score "
               "is close to that share.", "",
               "| score | rings | mean score | correct |", "|---|---|---|---|"]
    pooled = [x for r in results for x in r["all"]["scores"]]
    for lo, hi in ((0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)):
        band = [(score, hit) for score, hit in pooled if lo <= score < hi]
        mean = f"{sum(x for x, _ in band) / len(band):.2f}" if band else "-"
        share = f"{sum(h for _, h in band) / len(band):.2f}" if band else "-"
        detail.append(f"| {lo:.2f}–{min(hi, 1.0):.2f} | {len(band)} | {mean} | {share} |")
    if pooled:
        brier = sum((x - h) ** 2 for x, h in pooled) / len(pooled)
        detail += ["", f"Brier score {brier:.3f} over {len(pooled)} rings (0 is perfect; always "
                   f"saying the overall share correct would give "
                   f"{_base_brier([h for _, h in pooled]):.3f})."]
    path = ROOT / "EVALUATION.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- results -->", "<!-- /results -->"
    head = text.split(start)[0] if start in text else text
    tail = text.split(end, 1)[1] if end in text else "\n"
    path.write_text(head.rstrip("\n") + f"\n\n{start}\n\n" + "\n".join(lines + detail)
                    + f"\n\n{end}" + tail, encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
