"""dense_block: FRAUDAR peeling finds the crews even when they hide among ordinary visits
(camouflage), one block each; dialysis cohorts, a nursing home, a family, a village market,
a group check-up and a daily visitor are not blocks."""

from __future__ import annotations

import json
import random
from pathlib import Path

from detectorkit import claim, on_synth, person_groups, run_detector
from test_detector_co_visit import DAYS, ORDINARY, _at, _crews, side_by_side


def _with_camouflage() -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    """The co_visit city, where every crew member also goes alone to the busiest ordinary
    places twenty times (camouflage: edges to popular columns)."""
    claims, persons, answer = side_by_side()
    rng = random.Random(23)
    for pid in sorted(answer["crew1"] | answer["crew2"]):
        for _ in range(20):
            claims.append(_at(pid, rng.choice(ORDINARY[:3]), rng.randrange(DAYS), rng.randrange(480)))
    return claims, persons, answer


def test_crews_found_through_camouflage_lookalikes_are_not_blocks() -> None:
    claims, persons, answer = _with_camouflage()
    ev = run_detector("dense_block", claims=claims, persons=persons)
    groups = person_groups(ev)
    assert len(groups) == 2, groups
    g1 = next(g for g in groups.values() if "B1" in g)
    g2 = next(g for g in groups.values() if "B2" in g)
    assert answer["crew1"] <= g1 <= answer["crew1"] | {"LINK"}
    assert answer["crew2"] <= g2 <= answer["crew2"] | {"LINK"}
    gid1 = next(gid for gid, g in groups.items() if "B1" in g)
    assert answer["crew1_claims"] <= {c["claim_id"] for c in ev.claims if c["group_id"] == gid1}
    # the 120 camouflage visits are not evidence, only the meetings (LINK's 11 claims there,
    # and the odd lone visit that fell on a meeting day, are)
    assert len({c["claim_id"] for c in ev.claims if c["group_id"] == gid1}) <= len(answer["crew1_claims"]) + 20
    everyone = set().union(*groups.values())
    assert not any(p.startswith(("DIA", "NH", "FAM", "V", "CHK", "DAILY", "N0")) for p in everyone)
    group = next(g for g in ev.groups if g["group_id"] == gid1)
    stats = json.loads(group["stats"])
    assert stats["lift"] >= 8 and stats["providers"] == 3 and stats["meetings"] >= 8
    assert stats["log10_chance"] <= -20
    assert "构成稠密块（FRAUDAR）" in group["summary_zh"] and "dense block" in group["summary_en"]


def test_lift_and_size_bars_are_live() -> None:
    claims, persons, _ = _with_camouflage()
    assert run_detector("dense_block", claims=claims, persons=persons,
                        config={"min_lift": 1e6}).groups == []
    assert run_detector("dense_block", claims=claims, persons=persons,
                        config={"min_rows": 8}).groups == []


def test_without_diagnoses_or_addresses_one_place_cohorts_are_still_not_blocks() -> None:
    claims, persons, answer = _with_camouflage()
    for c in claims:
        c.pop("diagnosis_code", None)
    ev = run_detector("dense_block", claims=claims)
    everyone = set().union(*person_groups(ev).values()) if ev.groups else set()
    assert answer["crew1"] <= everyone
    # dialysis unit, nursing-home rounds, market days: one place's own rhythm
    assert not any(p.startswith(("DIA", "NH", "V", "CHK", "DAILY")) for p in everyone)


def test_needs_only_claims() -> None:
    ev = run_detector("dense_block", claims=[claim("A", "H33010100001", "2024-03-01")])
    assert ev.groups == [] and ev.report["skipped"] == []


def test_synthetic_crews_found_lookalikes_left_alone(tmp_path: Path) -> None:
    seed = 7
    ev, truth = on_synth(["dense_block"], persons=20000, months=6, seed=seed, workdir=tmp_path)
    groups = person_groups(ev)
    crews = _crews(tmp_path / f"synth-20000-6-{seed}", truth)
    assert crews, f"seed {seed} plants co_visit rings"
    found = sum(any(len(c & g) >= 0.5 * len(c) for g in groups.values()) for c in crews.values())
    assert found >= 0.8 * len(crews), f"seed {seed}: found {found} of {len(crews)}"
    ring_persons = {m["id"] for r in truth["rings"] for m in r["members"] if m["kind"] == "person"}
    # every block is mostly ring persons (whatever the pattern)
    assert all(len(g & ring_persons) >= 0.5 * len(g) for g in groups.values()), f"seed {seed}"
    looks = [{m["id"] for m in lk["members"] if m["kind"] == "person"} for lk in truth["lookalikes"]]
    looks = [ps for ps in looks if len(ps) >= 2]
    flagged = sum(any(len(ps & g) >= min(0.5 * len(ps), 3) for g in groups.values()) for ps in looks)
    assert flagged == 0, f"seed {seed}: {flagged} of {len(looks)} look-alikes flagged"


def test_same_blocks_whatever_the_row_order() -> None:
    claims, persons, _ = _with_camouflage()
    first = run_detector("dense_block", claims=claims, persons=persons)
    random.Random(3).shuffle(claims)
    random.Random(4).shuffle(persons)
    again = run_detector("dense_block", claims=claims, persons=persons)
    def rounded(ev):  # sums of floats may be added in another order
        return [{**g, "strength": round(g["strength"], 9)} for g in ev.groups], \
            [{**m, "weight": round(m["weight"], 9)} for m in ev.members], ev.claims
    assert rounded(first) == rounded(again)
